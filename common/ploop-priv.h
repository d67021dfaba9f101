/* Helpers shared by the ploop command files (not for other rooms). */
#ifndef VZ_PLOOP_PRIV_H
#define VZ_PLOOP_PRIV_H

#include <stdbool.h>

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
int ploop_freeze(const char *mountpoint, int *fd, struct vz_error *err);
void ploop_thaw(int fd);

#endif
