/* Entering a running container: its namespaces through a pidfd of its
 * init, its cgroups, its capability bounding set. */
#ifndef VZ_NS_H
#define VZ_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "ct.h"

struct vz_error;

struct vz_ns_entry {
	int pidfd;         /* of the CT's init */
	int *procs_fds;    /* v1 "tasks", v2 "cgroup.procs", opened before setns */
	size_t n_procs;
	int cg2_fd;        /* the CT's cgroup2 group, or -1 */
	int cg2_procs;     /* its index in procs_fds, or -1 */
	bool born_in;      /* vz_ns_fork's child was born in cg2_fd */
	uint64_t caps_drop;
};

int vz_pidfd_open(pid_t pid);

/* Opens what entering needs; VZ_ESTATE if the CT is not running. */
int vz_ns_prepare(const struct vz_ct *ct, struct vz_ns_entry *e,
		  struct vz_error *err);
/* Enters all the CT's namespaces (the caller's pid namespace applies to
 * its children only: fork after this). */
int vz_ns_enter(struct vz_ns_entry *e, struct vz_error *err);
/* Clones a child (fork-like, SIGCHLD) with namespace flags, born in the
 * cgroup2 group cgfd when there is one and the kernel can (clone3
 * CLONE_INTO_CGROUP, 5.7+): *born_in tells.  See cgroup.h for why moving
 * a process into a group afterwards is slow. */
pid_t vz_clone_into(uint64_t flags, int cgfd, bool *born_in);
/* Forks the process that goes into the CT, born in the CT's cgroup2
 * group where the kernel can (clone3 CLONE_INTO_CGROUP): see cgroup.h for
 * why moving processes later is slow.  fork()'s return convention. */
pid_t vz_ns_fork(struct vz_ns_entry *e);
/* In the forked child: joins the CT's cgroups, drops capabilities,
 * resets the environment.  Returns 0 or -1 (err set). */
int vz_ns_child_setup(struct vz_ns_entry *e, struct vz_error *err);
void vz_ns_release(struct vz_ns_entry *e);

/* Waits for pid, returns exit status or 128+signal.  While waiting,
 * SIGTERM/SIGHUP are passed on, and SIGINT/SIGQUIT too when the child
 * runs in a session of its own (own_session; else the terminal sends
 * them to it). */
int vz_wait_child(pid_t pid, bool own_session);

#endif
