/* Helpers shared by the ploop command files (not for other rooms). */
#ifndef VZ_PLOOP_PRIV_H
#define VZ_PLOOP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

struct vz_error;
struct ploop_desc;

/* The FUSE file a server exports: DIR/.ploop.fuse for the disk,
 * DIR/.ploop-{GUID}.fuse for a read-only snapshot view. */
char *ploop_fuse_file(const struct ploop_desc *d, const char *guid);
/* Takes DiskDescriptor.xml.lck (waits up to $PLOOP_LOCK_TIMEOUT s, 60). */
int ploop_lock(const char *desc_path, struct vz_error *err);
/* Finds and reads the descriptor; with lock != NULL, locks it first. */
int ploop_load(const char *arg, struct ploop_desc *d, int *lock,
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
	int rcu_lock;       /* held while we set rcu_expedited, else -1 */
	bool expedited;     /* RCU grace periods were expedited */
	uint64_t presync_ns;                    /* syncfs + checkpoint, before */
	uint64_t t_freeze, t_frozen, t_thaw, t_end;  /* vz_now_ns() */
};
int ploop_freeze(const char *mountpoint, struct ploop_freeze *fz,
		 struct vz_error *err);
void ploop_thaw(struct ploop_freeze *fz);
/* Freeze start to thaw end, in ms (0 when nothing was frozen). */
double ploop_frozen_ms(const struct ploop_freeze *fz);

#endif
