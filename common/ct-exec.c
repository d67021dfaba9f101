/* Running commands in a running container: exec, runscript, enter, and
 * functions of the library that must act from inside. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ct.h"
#include "error.h"
#include "log.h"
#include "ns.h"
#include "util.h"

/* Forks a child inside the CT that runs fn(arg); the parent (which has
 * entered the namespaces itself, so must be a throw-away process or not
 * care) waits.  To keep the caller in the host, do it from a fork. */
/* Closes every fd >= 3 but keep_a and keep_b (-1: none). */
static void close_fds_but(int keep_a, int keep_b)
{
	int k[2] = { keep_a < keep_b ? keep_a : keep_b, keep_a < keep_b ? keep_b : keep_a };
	int from = 3;
	for (int i = 0; i < 2; i++) {
		if (k[i] < from)
			continue;
		for (int fd = from; fd < k[i]; fd++)
			close(fd);
		from = k[i] + 1;
	}
	vz_close_fds_from(from);
}

/* In the child of spawn_inside: its error pipe and an fd to keep. */
static int child_err_fd = -1, child_keep_fd = -1;

/* Before a program of the CT runs: only stdio crosses into the CT; other
 * fds of the caller (host files, leaked descriptors) would make the CT
 * undumpable.  (Library functions run inside keep theirs.) */
static void close_host_fds(void)
{
	close_fds_but(child_err_fd, child_keep_fd);
}

static int spawn_inside(const struct vz_ct *ct, int (*fn)(void *), void *arg,
			int keep_fd, const char *what, int *status,
			struct vz_error *err)
{
	struct vz_ns_entry e;
	if (vz_ns_prepare(ct, &e, err) < 0)
		return -1;
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		vz_ns_release(&e);
		return vz_fail_errno(err, VZ_ESYSTEM, "pipe");
	}
	if (vz_ns_enter(&e, err) < 0) {
		vz_ns_release(&e);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	fflush(NULL);
	pid_t pid = vz_ns_fork(&e);
	if (pid < 0) {
		vz_ns_release(&e);
		return vz_fail_errno(err, VZ_ESYSTEM, "fork into CT %s", ct->idstr);
	}
	if (pid == 0) {
		close(ep[0]);
		struct vz_error ce = { 0 };
		if (vz_ns_child_setup(&e, &ce) < 0) {
			if (write(ep[1], ce.msg, strlen(ce.msg)) < 0)
				_exit(126);
			_exit(126);
		}
		vz_ns_release(&e);
		/* A session that begins outside the CT's pid namespace makes
		 * the CT undumpable for CRIU ("session leader outside of its
		 * pid namespace") once a background child of this command
		 * outlives it: start a session inside, unless a terminal's
		 * job control is wanted. */
		if (!isatty(0))
			setsid();
		child_err_fd = ep[1];
		child_keep_fd = keep_fd;
		/* a clean start inside: no signal ignored or blocked because
		 * the caller's shell had it so */
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		errno = 0;
		int r = fn(arg);
		/* fn returns only when it could not exec */
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
		if (r == -127 && write(ep[1], msg, strlen(msg)) < 0)
			_exit(127);
		_exit(r < 0 ? 127 : r);
	}
	close(ep[1]);
	vz_ns_release(&e);
	*status = vz_wait_child(pid, !isatty(STDIN_FILENO));
	char msg[512];
	ssize_t n = read(ep[0], msg, sizeof(msg) - 1);
	close(ep[0]);
	if (n > 0) {
		msg[n] = '\0';
		return vz_fail(err, *status == 127 ? VZ_ENOENT : VZ_ESYSTEM,
			       "CT %s: %s: %s", ct->idstr, what, msg);
	}
	return 0;
}

int vz_ct_run_inside(const struct vz_ct *ct, int (*fn)(void *), void *arg,
		     struct vz_error *err)
{
	/* entering namespaces is one-way: do it in a throw-away process */
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	if (pid == 0) {
		close(ep[0]);
		struct vz_error ce = { 0 };
		int status = 0;
		if (spawn_inside(ct, fn, arg, -1, "run", &status, &ce) < 0) {
			if (write(ep[1], &ce, sizeof(ce)) < 0)
				_exit(255);
			_exit(255);
		}
		_exit(status);
	}
	close(ep[1]);
	int status = vz_wait_child(pid, false);
	struct vz_error ce;
	ssize_t n = read(ep[0], &ce, sizeof(ce));
	close(ep[0]);
	if (n == (ssize_t)sizeof(ce)) {
		*err = ce;
		return -1;
	}
	return status;
}

struct exec_arg {
	char *const *argv;
	int script_fd;
};

static int do_exec(void *p)
{
	struct exec_arg *a = p;
	close_host_fds();
	execvp(a->argv[0], a->argv);
	return -127;
}

int vz_ct_exec_final(const struct vz_ct *ct, char *const argv[], int *status,
		     struct vz_error *err)
{
	char *const sh[] = { "/bin/sh", NULL };
	struct exec_arg a = { .argv = argv && argv[0] ? argv : sh };
	/* the hot path of vzctl exec: enter from this process, fork once */
	return spawn_inside(ct, do_exec, &a, -1, a.argv[0], status, err);
}

int vz_ct_exec(const struct vz_ct *ct, char *const argv[], int *status,
	       struct vz_error *err)
{
	struct exec_arg a = { .argv = argv };
	int r = vz_ct_run_inside(ct, do_exec, &a, err);
	if (r < 0)
		return -1;
	*status = r;
	return 0;
}

static int do_script(void *p)
{
	struct exec_arg *a = p;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", a->script_fd);
	close_host_fds();
	execl("/bin/sh", "sh", path, (char *)NULL);
	return -127;
}

int vz_ct_runscript(const struct vz_ct *ct, const char *script, int *status,
		    struct vz_error *err)
{
	int fd = open(script, O_RDONLY);  /* inherited by the shell inside */
	if (fd < 0)
		return vz_fail_errno(err, VZ_ENOENT, "runscript: open %s", script);
	struct exec_arg a = { .script_fd = fd };
	int r = spawn_inside(ct, do_script, &a, fd, script, status, err);
	close(fd);
	return r;
}

/* ---- enter: a shell on a pty inside, relayed to our terminal ---- */

struct enter_arg {
	const char *slave;
};

static int do_shell(void *p)
{
	struct enter_arg *a = p;
	if (setsid() < 0)
		return -1;
	int fd = open(a->slave, O_RDWR);
	if (fd < 0)
		return -127;
	if (ioctl(fd, TIOCSCTTY, 0) < 0)
		return -127;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	setenv("TERM", getenv("TERM") ? getenv("TERM") : "linux", 1);
	if (access("/bin/bash", X_OK) == 0)
		execl("/bin/bash", "-bash", (char *)NULL);
	execl("/bin/sh", "-sh", (char *)NULL);
	return -127;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		buf += w;
		n -= w;
	}
	return 0;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

int vz_ct_enter(const struct vz_ct *ct, int *status, struct vz_error *err)
{
	struct vz_ns_entry e;
	if (vz_ns_prepare(ct, &e, err) < 0)
		return vz_prefix(err, "enter CT %s", ct->idstr);
	/* The relay stays in the host's pid namespace; it enters the CT's
	 * mount namespace only to open the CT's own pty master. */
	if (vz_ns_enter(&e, err) < 0) {
		vz_ns_release(&e);
		return vz_prefix(err, "enter CT %s", ct->idstr);
	}
	int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		vz_ns_release(&e);
		return vz_fail_errno(err, VZ_ESYSTEM,
				     "enter CT %s: open a pty inside (/dev/pts/ptmx)", ct->idstr);
	}
	char slave[64];
	if (ptsname_r(master, slave, sizeof(slave)) != 0) {
		vz_ns_release(&e);
		return vz_fail_errno(err, VZ_ESYSTEM, "enter CT %s: ptsname", ct->idstr);
	}
	bool tty = isatty(STDIN_FILENO);
	if (tty)
		copy_winsize(STDIN_FILENO, master);
	fflush(NULL);
	pid_t pid = vz_ns_fork(&e);
	if (pid < 0) {
		vz_ns_release(&e);
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	}
	if (pid == 0) {
		close(master);
		struct vz_error ce = { 0 };
		struct enter_arg a = { .slave = slave };
		if (vz_ns_child_setup(&e, &ce) < 0) {
			fprintf(stderr, "%s: %s\n", vz_prog(), ce.msg);
			_exit(126);
		}
		do_shell(&a);
		fprintf(stderr, "%s: enter CT %s: start a shell: %s\n", vz_prog(),
			ct->idstr, strerror(errno));
		_exit(127);
	}
	vz_ns_release(&e);

	struct termios saved;
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	struct pollfd p[3] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = master, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	char buf[8192];
	bool in_open = true;
	for (;;) {
		p[0].fd = in_open ? STDIN_FILENO : -1;
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0)
				break;  /* EIO: the shell and its children closed the pty */
			if (write_all(STDOUT_FILENO, buf, n) < 0)
				break;
		}
		if (in_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				/* our input ended: an end-of-file to the shell */
				in_open = false;
				if (!tty)
					write_all(master, "\004", 1);
			} else if (write_all(master, buf, n) < 0) {
				break;
			}
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo == SIGWINCH && tty)
				copy_winsize(STDIN_FILENO, master);
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(master);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	*status = vz_wait_child(pid, false);
	return 0;
}
