/* A container's cgroups: CGROUP_PARENT/CTID in every
 * cgroup v1 hierarchy (hybrid hosts too), or one directory in cgroup v2.
 * Detected at run time, never assumed. */
#ifndef VZ_CGROUP_H
#define VZ_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vz_error;

struct vz_cgroup {
	char *rel;      /* "PARENT/CTID", relative to each hierarchy's root */
	bool unified;   /* controllers live in cgroup v2 (no v1 hierarchies) */
};

int vz_cg_init(struct vz_cgroup *cg, const char *parent, const char *ctid,
	       struct vz_error *err);
void vz_cg_free(struct vz_cgroup *cg);

/* Is the controller usable on this host ("memory", "cpu", "pids", ...)? */
bool vz_cg_has(const char *controller);
/* Absolute directory of the CT's cgroup for controller (v1), or the v2
 * directory (controller then only checked for availability).  NULL if the
 * controller is absent.  Caller frees. */
char *vz_cg_dir(const struct vz_cgroup *cg, const char *controller);

int vz_cg_create(const struct vz_cgroup *cg, struct vz_error *err);
/* The same but for the cgroup2 group, which vz_cg_open_v2 made (with the
 * controllers enabled above it on a v2 host) before the clone. */
int vz_cg_create_v1(const struct vz_cgroup *cg, struct vz_error *err);
/* Removes the CT's cgroups (and empty sub-cgroups made inside the CT). */
int vz_cg_destroy(const struct vz_cgroup *cg, struct vz_error *err);
/* The faster way in, for a process being born (a CT's init, a process
 * entering a CT).  Writing a pid to cgroup.procs takes the kernel's global
 * threadgroup lock, whose write side waits for an RCU grace period: 5-12 ms
 * here, at every start.  Two ways around it:
 * - vz_cg_open_v2 makes the CT's cgroup2 group (the only one on a v2 host,
 *   the controller-less one of a hybrid host) and opens it, so the process
 *   is born there with clone3(CLONE_INTO_CGROUP); *fd is -1 without cgroup2;
 * - vz_cg_join_v1, called by a single-threaded process itself, writes "0"
 *   to "tasks" in every v1 hierarchy: moving oneself as a thread skips the
 *   lock.  It reaches the hierarchies through their roots opened earlier
 *   by vz_cg_roots_open (close-on-exec), so it works after pivot_root.
 * vz_cg_attach_v2 is the slow way into the cgroup2 group, for kernels
 * without CLONE_INTO_CGROUP (before 5.7). */
int vz_cg_open_v2(const struct vz_cgroup *cg, int *fd, struct vz_error *err);
struct vz_cg_roots {
	size_t n;
	int *fd;        /* O_PATH, of each v1 hierarchy's root */
	bool *cpuset;
};
int vz_cg_roots_open(struct vz_cg_roots *r, struct vz_error *err);
int vz_cg_join_v1(const struct vz_cgroup *cg, const struct vz_cg_roots *r,
		  struct vz_error *err);
int vz_cg_attach_v2(const struct vz_cgroup *cg, pid_t pid, struct vz_error *err);
/* The file a process joins the group of procs (a cgroup.procs file, as
 * the runtime record lists them) through: "tasks" in a v1 hierarchy (as
 * vz_cg_join_v1 does), procs itself in cgroup2 (*v2 set).  The kind comes
 * from the mount table already read, without a system call; a file under
 * no cgroup mount of it is probed.  Caller frees. */
char *vz_cg_join_file(const char *procs, bool *v2);
/* Writes / reads a knob: vz_cg_set(cg, "memory", "memory.max", "64M"). */
int vz_cg_set(const struct vz_cgroup *cg, const char *controller,
	      const char *file, const char *value, struct vz_error *err);
int vz_cg_get(const struct vz_cgroup *cg, const char *controller,
	      const char *file, char **value, struct vz_error *err);
/* Processes in the CT's cgroup tree (recursively). */
int vz_cg_pids(const struct vz_cgroup *cg, pid_t **pids, size_t *n,
	       struct vz_error *err);
/* Freezes (true) or thaws the whole tree and waits until it is done. */
int vz_cg_freeze(const struct vz_cgroup *cg, bool frozen,
		 struct vz_error *err);

/* cgroup.procs of the CT's group in every hierarchy (for joining). */
char **vz_cg_procs_files(const struct vz_cgroup *cg);
/* The v1 hierarchies as their mount options ("memory", "name=systemd"),
 * to mount the same inside a CT; *v2 set on a cgroup2-only host. */
char **vz_cg_hierarchies(bool *v2);

#endif
