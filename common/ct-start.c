/* Starting and stopping a container.
 *
 * vzctl start clones the CT's init into new pid, mount, uts, ipc and net
 * namespaces, born in the CT's cgroup2 group where there is one.  While the
 * child makes the mounts that need no cgroup and pivots into VE_ROOT, the
 * parent makes the CT's v1 groups and sets its limits; once the network is
 * plugged in too, the child joins the v1 groups itself (see vz_cg_join_v1:
 * no RCU grace period), takes a cgroup namespace, mounts its cgroup tree,
 * drops capabilities and execs the template's /sbin/init as PID 1.  A close-on-exec pipe tells the
 * parent whether that exec happened; then vzctl exits: no monitor process
 * stays behind.  What identifies a running CT is its init (pid + start
 * time) in LOCKDIR/CTID.run, checked against /proc. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"
#include "ct.h"
#include "net.h"
#include "res.h"
#include "error.h"
#include "log.h"
#include "ns.h"
#include "util.h"

/* ---- in the child, between clone and exec of init ---- */

struct child_ctx {
	const struct vz_ct *ct;
	int go_fd;        /* parent writes one byte when the child may go on */
	int ready_fd;     /* child writes one byte once its netns exists */
	int err_fd;       /* close-on-exec: EOF means init was exec'd */
	uint64_t caps_drop;
	const char *hostname;
	char **hierarchies;
	bool cg_v2;
	bool cg_hybrid;   /* the host has a controller-less cgroup2 tree too */
};

static void child_fail(struct child_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void child_fail(struct child_ctx *c, const char *fmt, ...)
{
	char msg[900];
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(msg) && saved)
		n += snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (write(c->err_fd, msg, n) < 0)
		_exit(2);
	_exit(1);
}

static void xmount(struct child_ctx *c, const char *src, const char *dst,
		   const char *type, unsigned long flags, const char *data)
{
	if (mount(src, dst, type, flags, data) < 0)
		child_fail(c, "mount %s on %s", type ? type : src, dst);
}

static void bind_ro(struct child_ctx *c, const char *path)
{
	xmount(c, path, path, NULL, MS_BIND | MS_REC, NULL);
	xmount(c, NULL, path, NULL,
	       MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static void mkdir_in(struct child_ctx *c, const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		child_fail(c, "mkdir %s", path);
}

static void mknod_in(struct child_ctx *c, const char *path, mode_t mode,
		     unsigned maj, unsigned min)
{
	if (mknod(path, S_IFCHR | mode, makedev(maj, min)) < 0) {
		/* DEVICES forbids it (a v2 host checks from init's birth):
		 * no node, as on a v1 host where it could not be opened */
		if (errno == EPERM)
			return;
		child_fail(c, "mknod %s", path);
	}
	chmod(path, mode);  /* umask */
}

static void setup_dev(struct child_ctx *c)
{
	xmount(c, "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME,
	       "mode=755,size=65536k");
	static const struct { const char *name; mode_t mode; unsigned maj, min; } nodes[] = {
		{ "dev/null", 0666, 1, 3 }, { "dev/zero", 0666, 1, 5 },
		{ "dev/full", 0666, 1, 7 }, { "dev/random", 0666, 1, 8 },
		{ "dev/urandom", 0666, 1, 9 }, { "dev/tty", 0666, 5, 0 },
		/* no host console is given to a CT: its console is a null device */
		{ "dev/console", 0600, 1, 3 },
		{ "dev/net/tun", 0666, 10, 200 }, { "dev/fuse", 0666, 10, 229 },
	};
	mkdir_in(c, "dev/net", 0755);
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		mknod_in(c, nodes[i].name, nodes[i].mode, nodes[i].maj, nodes[i].min);
	mkdir_in(c, "dev/pts", 0755);
	xmount(c, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	       "newinstance,ptmxmode=0666,mode=0620,gid=5");
	if (symlink("pts/ptmx", "dev/ptmx") < 0)
		child_fail(c, "symlink /dev/ptmx");
	mkdir_in(c, "dev/shm", 01777);
	xmount(c, "tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mkdir_in(c, "dev/mqueue", 0755);
	xmount(c, "mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	static const char *const links[][2] = {
		{ "/proc/self/fd", "dev/fd" }, { "/proc/self/fd/0", "dev/stdin" },
		{ "/proc/self/fd/1", "dev/stdout" }, { "/proc/self/fd/2", "dev/stderr" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			child_fail(c, "symlink /%s", links[i][1]);
}

/* The CT sees its own cgroup tree (the cgroup namespace makes its group the
 * root) and may write it, as systemd needs; the tmpfs holding the v1
 * mount points is made read-only afterwards. */
static void setup_cgroupfs(struct child_ctx *c)
{
	if (c->cg_v2) {
		xmount(c, "cgroup2", "sys/fs/cgroup", "cgroup2",
		       MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		return;
	}
	xmount(c, "tmpfs", "sys/fs/cgroup", "tmpfs",
	       MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=1024k");
	for (size_t i = 0; c->hierarchies[i]; i++) {
		const char *opts = c->hierarchies[i];
		const char *name = vz_startswith(opts, "name=") ? opts + 5 : opts;
		char dir[256];
		snprintf(dir, sizeof(dir), "sys/fs/cgroup/%s", name);
		mkdir_in(c, dir, 0755);
		xmount(c, "cgroup", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts);
		/* co-mounted controllers ("cpu,cpuacct") get a link per name */
		if (strchr(name, ',')) {
			char **v = vz_strv_split(name, ",");
			for (size_t j = 0; v[j]; j++) {
				char l[256];
				snprintf(l, sizeof(l), "sys/fs/cgroup/%s", v[j]);
				if (symlink(name, l) < 0 && errno != EEXIST)
					child_fail(c, "symlink %s", l);
			}
			vz_strv_free(v);
		}
	}
	/* a hybrid host also has a controller-less cgroup2 tree */
	if (c->cg_hybrid) {
		mkdir_in(c, "sys/fs/cgroup/unified", 0755);
		xmount(c, "cgroup2", "sys/fs/cgroup/unified", "cgroup2",
		       MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	}
	xmount(c, NULL, "sys/fs/cgroup", NULL,
	       MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	       "mode=755,size=1024k");
}

static int child_main(struct child_ctx *c)
{
	/* A network namespace costs the kernel about a millisecond: it is
	 * made here, while the parent creates the cgroups, not at clone. */
	if (unshare(CLONE_NEWNET) < 0)
		child_fail(c, "create the network namespace");
	if (write(c->ready_fd, "n", 1) != 1)
		_exit(1);
	close(c->ready_fd);
	/* The mounts that need no cgroup are made while the parent creates
	 * and joins the CT's cgroups: the two run side by side. */
	xmount(c, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	const char *root = c->ct->root;
	xmount(c, root, root, NULL, MS_BIND | MS_REC, NULL);
	if (chdir(root) < 0)
		child_fail(c, "chdir %s", root);

	mkdir_in(c, "proc", 0555);
	xmount(c, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	/* host-wide knobs read-only; the per-namespace network ones writable */
	bind_ro(c, "proc/sys");
	xmount(c, "proc/sys/net", "proc/sys/net", NULL, MS_BIND, NULL);
	xmount(c, NULL, "proc/sys/net", NULL,
	       MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (access("proc/sysrq-trigger", F_OK) == 0)
		bind_ro(c, "proc/sysrq-trigger");
	mkdir_in(c, "sys", 0555);
	xmount(c, "sysfs", "sys", "sysfs",
	       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mkdir_in(c, "dev", 0755);
	setup_dev(c);
	mkdir_in(c, "run", 0755);
	xmount(c, "tmpfs", "run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=20%");

	/* The host's cgroup hierarchies stay reachable through fds (closed
	 * at exec), so the pivot, whose unmount waits for an RCU grace
	 * period, is made while the parent still works. */
	struct vz_error jerr = { 0 };
	struct vz_cg_roots roots;
	if (vz_cg_roots_open(&roots, &jerr) < 0)
		child_fail(c, "%s", jerr.msg);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(c, "pivot_root into %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		child_fail(c, "detach the host's root");
	if (chdir("/") < 0)
		child_fail(c, "chdir /");

	/* the parent has made the CT's groups and plugged in its network */
	char go;
	if (read(c->go_fd, &go, 1) != 1)
		_exit(1);  /* the parent gave up */
	close(c->go_fd);
	if (vz_cg_join_v1(&c->ct->cg, &roots, &jerr) < 0)
		child_fail(c, "%s", jerr.msg);
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail(c, "create the cgroup namespace");
	setup_cgroupfs(c);

	if (c->hostname && *c->hostname &&
	    sethostname(c->hostname, strlen(c->hostname)) < 0)
		child_fail(c, "set hostname %s", c->hostname);

	int null = open("/dev/null", O_RDWR);
	if (null < 0)
		child_fail(c, "open /dev/null inside the CT");
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
	if (setsid() < 0)
		child_fail(c, "setsid");
	struct vz_error err = { 0 };
	if (vz_caps_apply_bound(c->caps_drop, &err) < 0)
		child_fail(c, "%s", err.msg);

	char *const argv[] = { "/sbin/init", NULL };
	char *const envp[] = {
		"container=vz",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/", "TERM=linux", NULL,
	};
	execve(argv[0], argv, envp);
	child_fail(c, "exec /sbin/init in %s", root);
}

/* ---- in vzctl ---- */

int vz_ct_cgroups_prepare(struct vz_ct *ct, struct vz_error *err)
{
	if (vz_cg_create(&ct->cg, err) < 0 || vz_devices_apply(ct, err) < 0 ||
	    vz_ct_res_apply(ct, NULL, err) < 0)
		return -1;
	return 0;
}

static int read_child_error(int fd, char *msg, size_t len)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, msg + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
		if (n >= len - 1)
			break;
	}
	msg[n] = '\0';
	return (int)n;
}

int vz_ct_start(struct vz_ct *ct, struct vz_error *err)
{
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT,
			       "CT %s does not exist; create it with vzctl create %s",
			       ct->idstr, ct->idstr);
	enum vz_ct_state st = vz_ct_state(ct);
	if (st == VZ_CT_RUNNING)
		return vz_fail(err, VZ_ESTATE, "CT %s is already running", ct->idstr);
	if (st == VZ_CT_SUSPENDED)
		return vz_fail(err, VZ_ESTATE,
			       "CT %s is suspended; resume it with vzctl resume %s, or discard the dump with vzctl stop %s",
			       ct->idstr, ct->idstr, ct->idstr);

	struct child_ctx c = { .ct = ct, .go_fd = -1, .err_fd = -1 };
	_cleanup_free_ char *init = NULL;
	if (vz_caps_drop_mask(ct, &c.caps_drop, err) < 0)
		return vz_prefix(err, "start CT %s", ct->idstr);
	c.hostname = vz_ct_get(ct, "HOSTNAME");

	vz_debug("start CT %s: config checked", ct->idstr);
	/* leftovers of a run that ended by itself (halt inside the CT) */
	if (vz_ct_cleanup_stopped(ct, false, err) < 0)
		return vz_prefix(err, "start CT %s", ct->idstr);

	vz_debug("start CT %s: leftovers cleaned", ct->idstr);
	bool mounted_here = false;
	if (!vz_ct_is_mounted(ct)) {
		if (vz_ct_mount(ct, err) < 0)
			return vz_prefix(err, "start CT %s", ct->idstr);
		mounted_here = true;
	}
	vz_debug("start CT %s: root mounted", ct->idstr);
	if (vz_ct_write_config_files(ct, err) < 0) {
		vz_prefix(err, "start CT %s", ct->idstr);
		goto fail_umount;
	}
	init = xasprintf("%s/sbin/init", ct->root);
	if (access(init, X_OK) < 0) {
		vz_fail_errno(err, VZ_ECONFIG,
			      "start CT %s: %s is missing or not executable (is the OS template complete?)",
			      ct->idstr, init);
		goto fail_umount;
	}
	c.hierarchies = vz_cg_hierarchies(&c.cg_v2);
	c.cg_hybrid = !c.cg_v2 && access("/sys/fs/cgroup/unified", F_OK) == 0;

	/* init is born in the cgroup2 group; on a v2-only host the device
	 * allow-list is in force from then on */
	int cgfd = -1;
	bool born_in;
	if (vz_cg_open_v2(&ct->cg, &cgfd, err) < 0 ||
	    (ct->cg.unified && vz_devices_apply(ct, err) < 0)) {
		vz_prefix(err, "start CT %s", ct->idstr);
		if (cgfd >= 0)
			close(cgfd);
		goto fail_cg;
	}
	int go[2], ep[2], rp[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
	    pipe2(rp, O_CLOEXEC) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "start CT %s: pipe", ct->idstr);
		if (cgfd >= 0)
			close(cgfd);
		goto fail_cg;
	}
	fflush(NULL);
	pid_t pid = vz_clone_into(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
				  CLONE_NEWIPC, cgfd, &born_in);
	if (pid != 0 && cgfd >= 0)
		close(cgfd);
	if (pid < 0) {
		vz_fail_errno(err, errno == EINVAL ? VZ_ENOSYS : VZ_ESYSTEM,
			      "start CT %s: create namespaces", ct->idstr);
		close(go[0]); close(go[1]); close(ep[0]); close(ep[1]);
		close(rp[0]); close(rp[1]);
		goto fail_cg;
	}
	if (pid == 0) {
		close(go[1]);
		close(ep[0]);
		close(rp[0]);
		/* keep only the pipe ends: nothing of the host leaks in */
		if (dup2(go[0], 3) < 0 || dup2(ep[1], 4) < 0 || dup2(rp[1], 5) < 0)
			_exit(1);
		c.go_fd = 3;
		c.err_fd = 4;
		c.ready_fd = 5;
		fcntl(3, F_SETFD, FD_CLOEXEC);
		fcntl(4, F_SETFD, FD_CLOEXEC);
		fcntl(5, F_SETFD, FD_CLOEXEC);
		vz_close_fds_from(6);
		child_main(&c);
	}
	close(go[0]);
	close(ep[1]);
	close(rp[1]);
	vz_strv_free(c.hierarchies);
	vz_debug("start CT %s: init cloned, pid %d", ct->idstr, (int)pid);

	struct vz_ct_runtime rt = { .init_pid = pid };
	char msg[1024];
	/* resource limits: in force before init is let go (the child joins
	 * the v1 groups itself then); the cgroup2 group is made already */
	if (vz_cg_create_v1(&ct->cg, err) < 0 ||
	    (!ct->cg.unified && vz_devices_apply(ct, err) < 0) ||
	    vz_ct_res_apply(ct, NULL, err) < 0) {
		vz_prefix(err, "start CT %s", ct->idstr);
		close(go[1]);
		close(ep[0]);
		close(rp[0]);
		goto fail_kill;
	}
	vz_debug("start CT %s: cgroups ready", ct->idstr);
	if (!born_in && vz_cg_attach_v2(&ct->cg, pid, err) < 0) {
		close(go[1]);
		close(ep[0]);
		close(rp[0]);
		goto fail_kill;
	}
	/* network plugged in before the CT's init may run (net room), into
	 * the namespace the child has made by now */
	char ready;
	ssize_t rn;
	while ((rn = read(rp[0], &ready, 1)) < 0 && errno == EINTR)
		;
	close(rp[0]);
	if (rn != 1) {
		close(go[1]);
		int n = read_child_error(ep[0], msg, sizeof(msg));
		close(ep[0]);
		vz_fail(err, VZ_ESYSTEM, "start CT %s: %s", ct->idstr,
			n > 0 ? msg : "init died before its network namespace existed");
		goto fail_kill;
	}
	if (vz_ct_net_start(ct, pid, err) < 0) {
		close(go[1]);
		close(ep[0]);
		goto fail_kill;
	}
	if (write(go[1], "g", 1) != 1) {
		vz_fail_errno(err, VZ_ESYSTEM, "start CT %s: release init", ct->idstr);
		close(go[1]);
		close(ep[0]);
		goto fail_kill;
	}
	close(go[1]);
	vz_debug("start CT %s: init released", ct->idstr);
	/* The runtime record is written while the child gets ready, and put
	 * in place (a rename) once init runs: readers never see it before. */
	rt.start = vz_proc_starttime(pid);
	rt.caps_drop = c.caps_drop;
	rt.procs = vz_cg_procs_files(&ct->cg);
	char *staged = rt.start ? vz_ct_runtime_stage(ct, &rt, err) : NULL;
	vz_ct_runtime_free(&rt);
	int n = read_child_error(ep[0], msg, sizeof(msg));
	close(ep[0]);
	int status;
	if (n > 0)
		vz_fail(err, VZ_ESYSTEM, "start CT %s: %s", ct->idstr, msg);
	else if (staged && waitpid(pid, &status, WNOHANG) == pid) {
		vz_fail(err, VZ_ESYSTEM, "start CT %s: init exited at once (status %d)",
			ct->idstr, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		unlink(staged);
		free(staged);
		goto fail_net;
	} else if (!staged && !rt.start)
		vz_fail(err, VZ_ESYSTEM, "start CT %s: init exited at once", ct->idstr);
	if (n > 0 || !staged) {
		if (staged)
			unlink(staged);
		free(staged);
		goto fail_kill;
	}
	vz_debug("start CT %s: /sbin/init exec'd", ct->idstr);
	int cr = vz_ct_runtime_commit(staged, ct, err);
	if (cr < 0)
		unlink(staged);
	free(staged);
	if (cr < 0)
		goto fail_kill;
	{
		/* the CT's own limits in free/top/uptime: not fatal */
		struct vz_error e2 = { 0 };
		if (vz_ct_lxcfs_attach(ct, &e2) < 0)
			vz_warn("CT %s: %s", ct->idstr, e2.msg);
	}
	vz_info("CT %s started (init pid %d)", ct->idstr, (int)pid);
	return 0;

fail_kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
fail_net:
	{
		struct vz_error e2 = { 0 };
		vz_ct_net_stop(ct, &e2);
	}
fail_cg: {
	struct vz_error e2 = { 0 };
	vz_cg_destroy(&ct->cg, &e2);
	}
fail_umount:
	if (mounted_here) {
		struct vz_error e2 = { 0 };
		vz_ct_umount(ct, &e2);
	}
	return -1;
}

/* Waits until the process behind pidfd exits, at most timeout_ms
 * (<0: forever).  Returns 1 if it exited. */
static int wait_pidfd(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	for (;;) {
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		return r > 0;
	}
}

static int wait_cgroup_empty(const struct vz_ct *ct, int timeout_ms)
{
	uint64_t end = vz_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	for (;;) {
		pid_t *pids;
		size_t n;
		if (vz_cg_pids(&ct->cg, &pids, &n, NULL) < 0)
			return 0;
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
		if (n == 0)
			return 0;
		if (vz_now_ns() > end)
			return -1;
		usleep(1000);
	}
}

int vz_ct_stop(struct vz_ct *ct, const struct vz_stop_opts *o,
	       struct vz_error *err)
{
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	struct vz_ct_runtime rt;
	if (!vz_ct_runtime(ct, &rt)) {
		vz_info("CT %s is not running", ct->idstr);
		/* stopping a suspended CT forgets its dump (criu room) */
		if (vz_ct_state(ct) == VZ_CT_SUSPENDED &&
		    vz_ct_dump_discard(ct, err) < 0)
			return -1;
		return vz_ct_cleanup_stopped(ct, true, err);
	}
	int pidfd = vz_pidfd_open(rt.init_pid);
	if (pidfd < 0 || vz_proc_starttime(rt.init_pid) != rt.start) {
		vz_ct_runtime_free(&rt);
		if (pidfd >= 0)
			close(pidfd);
		return vz_ct_cleanup_stopped(ct, true, err);
	}
	/* A CT left frozen (a suspend killed half-way) neither halts nor dies
	 * of SIGKILL in a v1 freezer: thaw it first (criu room). */
	struct vz_error ethaw = { 0 };
	if (vz_cg_freeze(&ct->cg, false, &ethaw) < 0)
		vz_debug("CT %s: thaw before stop: %s", ct->idstr, ethaw.msg);
	int timeout = o->timeout;
	if (timeout < 0) {
		const char *t = vz_ct_get(ct, "STOP_TIMEOUT");
		timeout = t ? atoi(t) : 60;
	}
	bool exited = false;
	if (!o->fast) {
		/* the CT's own init shuts it down: halt inside, as on a host */
		char *const halt[] = { "halt", NULL };
		int status = 0;
		struct vz_error e2 = { 0 };
		vz_info("CT %s: running halt inside, waiting up to %d s", ct->idstr, timeout);
		if (vz_ct_exec(ct, halt, &status, &e2) < 0 || status != 0)
			vz_info("CT %s: halt inside failed (%s); killing", ct->idstr,
				e2.msg[0] ? e2.msg : "non-zero exit");
		else
			exited = wait_pidfd(pidfd, timeout * 1000);
		if (!exited)
			vz_info("CT %s did not stop in %d s; killing it", ct->idstr, timeout);
	}
	if (!exited) {
		/* SIGKILL to a pid namespace's init ends every process in it */
		if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 &&
		    errno != ESRCH) {
			vz_fail_errno(err, VZ_ESYSTEM, "stop CT %s: kill init", ct->idstr);
			close(pidfd);
			vz_ct_runtime_free(&rt);
			return -1;
		}
		wait_pidfd(pidfd, 10000);
	}
	close(pidfd);
	vz_ct_runtime_free(&rt);
	if (wait_cgroup_empty(ct, 10000) < 0)
		return vz_fail(err, VZ_ESYSTEM,
			       "stop CT %s: processes remain in its cgroup after 10 s",
			       ct->idstr);
	if (vz_ct_cleanup_stopped(ct, true, err) < 0)
		return vz_prefix(err, "stop CT %s", ct->idstr);
	vz_info("CT %s stopped", ct->idstr);
	return 0;
}
