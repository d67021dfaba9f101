/* Helpers shared by the ploop command files (not for other rooms). */
#ifndef VZ_PLOOP_PRIV_H
#define VZ_PLOOP_PRIV_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ploop-desc.h"

struct vz_error;

/* The FUSE file a server exports: DIR/.ploop.fuse for the disk,
 * DIR/.ploop-{GUID}.fuse for a read-only snapshot view. */
char *ploop_fuse_file(const struct ploop_desc *d, const char *guid);
/* Takes DiskDescriptor.xml.lck (waits up to $PLOOP_LOCK_TIMEOUT s, 60). */
int ploop_lock(const char *desc_path, struct vz_error *err);

/* One command's hold on a disk: its descriptor (read under its lock with
 * PLOOP_DISK_LOCK), the top view's FUSE file, and the top delta's path and
 * geometry (from its header with PLOOP_DISK_GEOMETRY). */
struct ploop_disk {
	struct ploop_desc d;
	int lock;           /* the descriptor's lock, -1 when not taken */
	char *ff;           /* FUSE file of the disk (top) view */
	char *top;          /* top delta's path */
	uint64_t size;      /* virtual size in bytes (PLOOP_DISK_GEOMETRY) */
	uint32_t cl;        /* cluster size in sectors (PLOOP_DISK_GEOMETRY) */
};
enum { PLOOP_DISK_LOCK = 1, PLOOP_DISK_GEOMETRY = 2 };
/* Finds the descriptor for arg, locks it and reads it; on failure nothing
 * is held (and ploop_disk_close is still safe). */
int ploop_disk_open(const char *arg, int flags, struct ploop_disk *k,
		    struct vz_error *err);
void ploop_disk_close(struct ploop_disk *k);
#define _cleanup_disk_ __attribute__((cleanup(ploop_disk_close)))
/* A new empty delta named after the base with a fresh GUID, sized like the
 * top (needs PLOOP_DISK_GEOMETRY): its file name as the descriptor
 * writes it and its path. */
int ploop_disk_new_delta(const struct ploop_disk *k, char **file, char **path,
			 struct vz_error *err);
char *ploop_loop_of(const char *fuse_file);
char *ploop_fs_of(const char *fuse_file);
bool ploop_loop_dio(const char *dev);
int ploop_umount_ff(const char *fuse_file, struct vz_error *err);

/* ploop-freeze.c: the fs frozen for a live operation.  ploop_freeze
 * writes back and checkpoints the journal first, so the frozen window
 * (t_freeze to t_end) holds little I/O; mountpoint NULL freezes nothing. */
struct ploop_freeze {
	int fd;             /* the frozen mount point, -1 when none */
	int rcu_fd;         /* rcu_expedited, locked while FIFREEZE runs, or -1 */
	bool expedited;     /* RCU grace periods were expedited */
	uint64_t presync_ns;                    /* syncfs + checkpoint, before */
	uint64_t t_freeze, t_frozen, t_thaw, t_end;  /* vz_now_ns() */
	sigset_t sigmask;   /* the caller's, back at thaw */
};
int ploop_freeze(const char *mountpoint, struct ploop_freeze *fz,
		 struct vz_error *err);
void ploop_thaw(struct ploop_freeze *fz);
/* Freeze start to thaw end, in ms (0 when nothing was frozen). */
double ploop_frozen_ms(const struct ploop_freeze *fz);

#endif
