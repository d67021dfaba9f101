/* The frozen window of a live operation (snapshot switch, final copy pass).
 *
 * Measured here (kernel 6.18, 2 vCPUs, fio 4k randwrite QD16 inside):
 * FIFREEZE took 35-60 ms even right after a syncfs, and nearly all of it
 * was not I/O: freeze_super takes three per-CPU rw semaphores (write,
 * page fault, fs levels), and each rcu_sync_enter waits for a normal RCU
 * grace period (~12 ms each here); the last two wait while writers are
 * already blocked.  With expedited grace periods the same freeze took
 * 4-12 ms.  So the window is prepared in three steps before the freeze:
 *   1. syncfs: write back dirty data and commit the running transaction;
 *   2. EXT4_IOC_CHECKPOINT: write the journal's metadata home, so the
 *      journal flush inside ext4_freeze has little left to do;
 *   3. /sys/kernel/rcu_expedited set to 1 for the FIFREEZE call only
 *      (flock on the knob itself held meanwhile; set back to 0 after).
 * PLOOP_RCU_EXPEDITE=0 in the environment leaves step 3 out (the bench's
 * baseline). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "ploop-priv.h"
#include "util.h"

#ifndef EXT4_IOC_CHECKPOINT
#define EXT4_IOC_CHECKPOINT _IOW('f', 43, uint32_t)
#endif

#define RCU_EXPEDITED "/sys/kernel/rcu_expedited"

static void rcu_expedite(struct ploop_freeze *fz)
{
	const char *e = getenv("PLOOP_RCU_EXPEDITE");
	if (e && !strcmp(e, "0"))
		return;
	/* read-only in a container: plain grace periods */
	int fd = open(RCU_EXPEDITED, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	/* Two ploop commands on two disks must not restore each other's
	 * value: a lock on the knob itself spans read, set and restore. */
	char old = 0;
	if (flock(fd, LOCK_EX) < 0 || pread(fd, &old, 1, 0) != 1) {
		close(fd);
		return;
	}
	if (old != '0') {
		/* already expedited by the administrator */
		close(fd);
		fz->expedited = true;
		return;
	}
	if (pwrite(fd, "1", 1, 0) != 1) {
		close(fd);
		return;
	}
	fz->rcu_fd = fd;
	fz->expedited = true;
}

static void rcu_restore(struct ploop_freeze *fz)
{
	if (fz->rcu_fd < 0)
		return;
	if (pwrite(fz->rcu_fd, "0", 1, 0) != 1)
		vz_warn("restore %s to 0: %s", RCU_EXPEDITED, strerror(errno));
	close(fz->rcu_fd);
	fz->rcu_fd = -1;
}

int ploop_freeze(const char *mp, struct ploop_freeze *fz, struct vz_error *err)
{
	memset(fz, 0, sizeof(*fz));
	fz->fd = -1;
	fz->rcu_fd = -1;
	if (!mp)
		return 0;
	int fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", mp);
	uint64_t t = vz_now_ns();
	syncfs(fd);
	uint32_t flags = 0;
	/* not ext4, or an old kernel: the freeze flushes the journal itself */
	ioctl(fd, EXT4_IOC_CHECKPOINT, &flags);
	/* ^C or a TERM in the window would leave the fs frozen: they wait
	 * for the thaw (and a broken pipe fails the write, no signal) */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigaddset(&stop, SIGPIPE);
	sigprocmask(SIG_BLOCK, &stop, &fz->sigmask);
	rcu_expedite(fz);
	fz->t_freeze = vz_now_ns();
	fz->presync_ns = fz->t_freeze - t;
	int r = ioctl(fd, FIFREEZE, 0);
	int e = errno;
	/* only freeze_super waits for grace periods (the thaw queues its
	 * callbacks): a long frozen pass of copy keeps neither the knob
	 * nor its lock */
	rcu_restore(fz);
	if (r < 0) {
		sigprocmask(SIG_SETMASK, &fz->sigmask, NULL);
		close(fd);
		return vz_fail_errnum(err, VZ_ESYSTEM, e, "freeze %s", mp);
	}
	fz->t_frozen = vz_now_ns();
	fz->fd = fd;
	return 0;
}

void ploop_thaw(struct ploop_freeze *fz)
{
	if (fz->fd < 0)
		return;
	fz->t_thaw = vz_now_ns();
	if (ioctl(fz->fd, FITHAW, 0) < 0)
		vz_warn("thaw: %s", strerror(errno));
	fz->t_end = vz_now_ns();
	close(fz->fd);
	fz->fd = -1;
	sigprocmask(SIG_SETMASK, &fz->sigmask, NULL);
}

double ploop_frozen_ms(const struct ploop_freeze *fz)
{
	return fz->t_end > fz->t_freeze ? (double)(fz->t_end - fz->t_freeze) / 1e6 : 0;
}
