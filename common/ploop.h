/* ploop: the image-backed container disk.  This is the API the tools
 * (ploop, vzctl, vzmigrate) call; the format, descriptor, server and
 * control protocol live behind it in ploop-*.c.
 *
 * Every command takes the path of a DiskDescriptor.xml, of the directory
 * holding it, or of an image file with a DiskDescriptor.xml beside it.
 * Commands on one disk serialise on DiskDescriptor.xml.lck beside it.
 *
 * Data path while mounted:
 *   fs -> /dev/loopN (direct I/O) -> FUSE file DIR/.ploop.fuse served by a
 *   ploop server process -> delta chain (O_DIRECT); the server's control
 *   socket is DIR/.ploop.sock
 */
#ifndef VZ_PLOOP_H
#define VZ_PLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ploop-desc.h"

struct vz_error;

/* check */
enum { PLOOP_CHECK_REPAIR = 1 };
struct ploop_check_stats {
	unsigned defects;
	unsigned repaired;
	uint64_t clusters;  /* allocated */
};
/* Reports every defect as one line on out ("FILE: what[: repaired]").
 * Returns 0 when the image is clean or was repaired, -1 with
 * VZ_ECORRUPT when defects remain. */
int ploop_check(const char *path, int flags, FILE *out,
		struct ploop_check_stats *stats, struct vz_error *err);

/* ploop_check on every image a descriptor lists (the descriptor's lock
 * held, so no mount starts meanwhile). */
int ploop_check_disk(const char *arg, int flags, FILE *out,
		     struct ploop_check_stats *stats, struct vz_error *err);

/* Finds the descriptor for a user's argument (descriptor, directory or
 * image file). Caller frees. */
char *ploop_find_desc(const char *arg, struct vz_error *err);

/* init: a new image of size bytes, its DiskDescriptor.xml, and a file
 * system on it when fstype is set (mkfs runs through a temporary mount). */
struct ploop_init_param {
	uint64_t size;
	uint32_t cluster_sectors;   /* 0 = 1 MiB */
	const char *fstype;         /* NULL or "" = none; "ext4" */
};
int ploop_init(const char *image, const struct ploop_init_param *p,
	       struct vz_error *err);
/* Writes DiskDescriptor.xml for a lone image (e.g. one qemu-img made). */
int ploop_restore_desc(const char *image, struct vz_error *err);

/* info */
struct ploop_delta_info {
	char guid[39];
	char parent[39];
	char *file;
	uint64_t file_size;
	uint64_t clusters;  /* allocated in this delta */
	bool dirty;
};
struct ploop_info {
	char *desc;
	uint64_t size;        /* bytes */
	uint32_t cluster;     /* bytes */
	size_t ndeltas;       /* chain, base first */
	struct ploop_delta_info *deltas;
	bool mounted;
	char *fuse_file;
	char *device;         /* /dev/loopN or NULL */
	char *mountpoint;     /* or NULL */
	int server_pid;
	size_t nviews;        /* read-only snapshot views mounted */
	struct ploop_view_info {
		char guid[39];
		char *device;
		char *mountpoint;
	} *views;
};
int ploop_get_info(const char *arg, struct ploop_info *info, struct vz_error *err);
void ploop_info_free(struct ploop_info *info);
/* Mounted disks on this host, one descriptor path each (NULL-terminated). */
int ploop_list_mounted(char ***descs, struct vz_error *err);

/* mount / umount */
struct ploop_mount_param {
	const char *target;    /* mount the fs here (NULL: device only) */
	const char *guid;      /* snapshot to show read-only (NULL: top) */
	const char *fstype;    /* default ext4 */
	const char *options;   /* extra fs mount options */
	bool readonly;
};
int ploop_mount(const char *arg, const struct ploop_mount_param *p,
		char **device, struct vz_error *err);
int ploop_umount(const char *arg, const char *guid, struct vz_error *err);

/* snapshots */
int ploop_snapshot(const char *arg, char guid_out[39], struct vz_error *err);
int ploop_snapshot_merge(const char *arg, const char *guid, struct vz_error *err);
int ploop_snapshot_delete(const char *arg, const char *guid, struct vz_error *err);
int ploop_snapshot_switch(const char *arg, const char *guid, struct vz_error *err);

/* resize: grow live or offline, shrink offline (fs shrunk first; a
 * mounted disk fails with VZ_ESTATE: compact gives space back instead). */
int ploop_resize(const char *arg, uint64_t size, struct vz_error *err);
/* compact: give back clusters freed inside the fs. */
int ploop_compact(const char *arg, uint64_t *freed, struct vz_error *err);

/* copy: OpenVZ's stream. send writes it to fd, live in rounds when
 * mounted: the image of a single-delta disk as it is, or for a disk with
 * snapshots one new image holding the flat view of its top; recv writes
 * the image it carries to path (and a DiskDescriptor.xml beside it). */
struct ploop_copy_param {
	const char *stop_cmd;   /* run before the frozen final pass */
	int fd;
};
struct ploop_copy_stats {
	unsigned passes;
	uint64_t bytes;
	uint64_t frozen_ms;
};
int ploop_copy_send(const char *arg, const struct ploop_copy_param *p,
		    struct ploop_copy_stats *stats, struct vz_error *err);
int ploop_copy_recv(const char *image, int fd, struct vz_error *err);

#endif
