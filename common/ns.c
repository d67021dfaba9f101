#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "ns.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int vz_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int vz_ns_prepare(const struct vz_ct *ct, struct vz_ns_entry *e,
		  struct vz_error *err)
{
	memset(e, 0, sizeof(*e));
	e->pidfd = -1;
	e->cg2_fd = e->cg2_procs = -1;
	struct vz_ct_runtime rt;
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	if (!vz_ct_runtime(ct, &rt))
		return vz_fail(err, VZ_ESTATE, "CT %s is not running; start it with vzctl start %s",
			       ct->idstr, ct->idstr);
	e->pidfd = vz_pidfd_open(rt.init_pid);
	/* the pid may have been reused between the check and the open */
	if (e->pidfd < 0 || vz_proc_starttime(rt.init_pid) != rt.start) {
		vz_ct_runtime_free(&rt);
		vz_ns_release(e);
		return vz_fail(err, VZ_ESTATE, "CT %s is not running (its init just exited)",
			       ct->idstr);
	}
	e->caps_drop = rt.caps_drop;
	size_t n = vz_strv_len(rt.procs);
	e->procs_fds = xcalloc(n ? n : 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		/* a v1 group is joined through "tasks", the cgroup2 one at
		 * birth, cgroup.procs as the fallback */
		bool v2;
		_cleanup_free_ char *join = vz_cg_join_file(rt.procs[i], &v2);
		int fd = open(join, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "open %s", join);
			vz_ct_runtime_free(&rt);
			vz_ns_release(e);
			return -1;
		}
		if (v2 && e->cg2_fd < 0) {
			_cleanup_free_ char *dir = xstrdup(rt.procs[i]);
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
			e->cg2_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			e->cg2_procs = (int)e->n_procs;
		}
		e->procs_fds[e->n_procs++] = fd;
	}
	vz_ct_runtime_free(&rt);
	return 0;
}

int vz_ns_enter(struct vz_ns_entry *e, struct vz_error *err)
{
	/* the cgroup namespace is taken by the child, after it is in the
	 * CT's groups: clone3 into a group outside our cgroup namespace
	 * would be refused */
	int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
		    CLONE_NEWPID;
	if (setns(e->pidfd, flags) < 0)
		return vz_fail_errno(err, errno == EINVAL ? VZ_ENOSYS : VZ_ESYSTEM,
				     "enter the CT's namespaces (setns with a pidfd needs Linux 5.8)");
	return 0;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

pid_t vz_clone_into(uint64_t flags, int cgfd, bool *born_in)
{
	*born_in = false;
	if (cgfd >= 0) {
		/* clone3's arguments up to cgroup (the 5.7 layout) */
		uint64_t a[11] = { 0 };
		a[0] = flags | CLONE_INTO_CGROUP;
		a[4] = SIGCHLD;
		a[10] = (uint64_t)cgfd;
		pid_t pid = (pid_t)syscall(SYS_clone3, a, sizeof(a));
		if (pid >= 0) {
			*born_in = true;
			return pid;
		}
		if (errno != ENOSYS && errno != E2BIG && errno != EINVAL)
			return -1;
	}
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

pid_t vz_ns_fork(struct vz_ns_entry *e)
{
	return vz_clone_into(0, e->cg2_fd, &e->born_in);
}

int vz_ns_child_setup(struct vz_ns_entry *e, struct vz_error *err)
{
	for (size_t i = 0; i < e->n_procs; i++) {
		if (e->born_in && (int)i == e->cg2_procs)
			continue;
		if (write(e->procs_fds[i], "0", 1) < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "join the CT's cgroup");
	}
	if (setns(e->pidfd, CLONE_NEWCGROUP) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "enter the CT's cgroup namespace");
	if (vz_caps_apply_bound(e->caps_drop, err) < 0)
		return -1;
	if (chdir("/") < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "chdir / inside the CT");
	const char *term = getenv("TERM");
	_cleanup_free_ char *t = term ? xstrdup(term) : NULL;
	clearenv();
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("container", "vz", 1);
	if (t)
		setenv("TERM", t, 1);
	return 0;
}

void vz_ns_release(struct vz_ns_entry *e)
{
	if (e->pidfd >= 0)
		close(e->pidfd);
	for (size_t i = 0; i < e->n_procs; i++)
		close(e->procs_fds[i]);
	free(e->procs_fds);
	if (e->cg2_fd >= 0)
		close(e->cg2_fd);
	memset(e, 0, sizeof(*e));
	e->pidfd = e->cg2_fd = e->cg2_procs = -1;
}

static volatile sig_atomic_t child_pid, child_elsewhere;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* ^C and ^\ reach a child in our terminal's foreground group by
 * themselves; a child in a session of its own gets them from us. */
static void forward_tty(int sig)
{
	if (child_elsewhere)
		forward(sig);
}

int vz_wait_child(pid_t pid, bool own_session)
{
	struct sigaction ign = { .sa_handler = forward_tty }, fwd = { .sa_handler = forward };
	struct sigaction old_int, old_quit, old_term, old_hup;
	child_pid = pid;
	child_elsewhere = own_session;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	child_pid = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}
