/* The ploop1 image format (v2 "WithouFreSpacExt", the one QEMU calls
 * "parallels"): a 64-byte header and a block allocation table (BAT) in the
 * first cluster(s), data clusters after.  A delta is one such file; a chain
 * of deltas (base + snapshots) makes one virtual disk.
 *
 * BAT entry N holds the file cluster index of virtual cluster N, 0 when the
 * cluster is not in this delta.  All on-disk values are little-endian.
 */
#ifndef VZ_PLOOP_DELTA_H
#define VZ_PLOOP_DELTA_H

#include <stdbool.h>
#include <stdint.h>

struct vz_error;

#define PLOOP_SIG_V2 "WithouFreSpacExt"
#define PLOOP_SIG_V1 "WithoutFreeSpace"
#define PLOOP_INUSE_MAGIC 0x746F6E59u
#define PLOOP_FLAG_EMPTY 1u
#define PLOOP_HDR_SIZE 64
#define PLOOP_SECTOR 512u
#define PLOOP_DEF_CLUSTER_SECTORS 2048u   /* 1 MiB */
#define PLOOP_MAX_CLUSTER_SECTORS 65536u  /* 32 MiB */
/* The guarded header fields: the part of cluster 0 a tool must rewrite to
 * change the dirty flag (one sector, so it is written atomically). */

struct ploop_hdr {
	char sig[16];
	uint32_t type;
	uint32_t heads;
	uint32_t cylinders;
	uint32_t sectors;      /* cluster size in sectors */
	uint32_t bat_entries;
	uint64_t size_sectors; /* virtual size */
	uint32_t inuse;
	uint32_t first_block;  /* in sectors */
	uint32_t flags;
	uint8_t reserved[8];
} __attribute__((packed));

_Static_assert(sizeof(struct ploop_hdr) == PLOOP_HDR_SIZE, "header size");

enum {
	PLOOP_OPEN_RDWR = 1,    /* open for writing */
	PLOOP_OPEN_DIRECT = 2,  /* data fd with O_DIRECT (server) */
	PLOOP_OPEN_NOCHECK = 4, /* skip the BAT range checks (ploop check) */
};

struct ploop_delta {
	char *path;
	int fd;               /* O_DIRECT when opened with PLOOP_OPEN_DIRECT */
	int bfd;              /* buffered fd on the same file */
	bool rw;
	struct ploop_hdr hdr; /* host byte order */
	uint32_t cluster;     /* bytes */
	uint32_t hdr_clusters;/* clusters taken by header + BAT */
	uint32_t *bat;        /* host order, hdr.bat_entries entries */
	uint64_t file_size;
	uint64_t alloc_end;   /* next free cluster index (end of data) */
};

/* Geometry and layout of a new image of `size` bytes (rounded up to a
 * sector) with clusters of `cluster_sectors`: fills h (host order). */
int ploop_hdr_init(struct ploop_hdr *h, uint64_t size, uint32_t cluster_sectors,
		   struct vz_error *err);
/* Header checks: signature, cluster size, BAT/size agreement, first block.
 * Names the first defect found. */
int ploop_hdr_validate(const struct ploop_hdr *h, struct vz_error *err);
void ploop_hdr_to_disk(const struct ploop_hdr *h, struct ploop_hdr *out);
void ploop_hdr_from_disk(const struct ploop_hdr *in, struct ploop_hdr *h);
uint32_t ploop_hdr_first_cluster(const struct ploop_hdr *h);

/* Creates a new empty image (fails if path exists). */
int ploop_delta_create(const char *path, uint64_t size, uint32_t cluster_sectors,
		       struct vz_error *err);
int ploop_delta_open(struct ploop_delta *d, const char *path, int flags,
		     struct vz_error *err);
void ploop_delta_close(struct ploop_delta *d);

/* Writes the header (one sector) and makes it durable. */
int ploop_delta_write_hdr(struct ploop_delta *d, struct vz_error *err);
int ploop_delta_set_inuse(struct ploop_delta *d, bool inuse,
			  struct vz_error *err);
/* Writes the sectors of the on-disk BAT that hold entries [first, first+n)
 * from `bat` (host order; NULL = d->bat). Not synced. */
int ploop_delta_write_bat(struct ploop_delta *d, const uint32_t *bat,
			  uint32_t first, uint32_t n, struct vz_error *err);
/* Reads/writes a whole or part of a cluster through the buffered fd. */
int ploop_delta_pread(struct ploop_delta *d, void *buf, size_t len,
		      uint64_t off, struct vz_error *err);
int ploop_delta_pwrite(struct ploop_delta *d, const void *buf, size_t len,
		       uint64_t off, struct vz_error *err);
/* Grows the virtual size and the BAT (offline, or by the server); moves
 * data clusters out of the way when the BAT needs more clusters. */
int ploop_delta_grow(struct ploop_delta *d, uint64_t new_size,
		     struct vz_error *err);

/* Aligned allocation for O_DIRECT buffers. */
void *ploop_aligned_alloc(size_t len);

#endif
