/* FUSE over io_uring transport of the ploop server (see ploop-uring.h).
 *
 * Per queue (one per possible CPU, as the kernel wants) one thread owns
 * one io_uring with 128-byte SQEs: the queue's FUSE entries, the reads
 * and writes on the delta files that serve them, and a read on an
 * eventfd through which the blocking pool hands back answered entries and
 * live operations say the data path is free again.  user_data tells the
 * three apart by its low bits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "log.h"
#include "ploop-delta.h"
#include "ploop-server.h"
#include "ploop-uring.h"
#include "util.h"

#define URING_PARAM "/sys/module/fuse/parameters/enable_uring"

bool ploop_uring_prepare(const char **why)
{
	const char *env = getenv("PLOOP_FUSE_URING");
	if (env && !strcmp(env, "0")) {
		*why = "PLOOP_FUSE_URING=0";
		return false;
	}
#ifndef HAVE_LIBURING
	*why = "built without liburing";
	return false;
#else
	int fd = open(URING_PARAM, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fd = open(URING_PARAM, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			*why = "the kernel has no FUSE over io_uring (" URING_PARAM " missing)";
			return false;
		}
	}
	char c = 0;
	if (pread(fd, &c, 1, 0) != 1) {
		close(fd);
		*why = "cannot read " URING_PARAM;
		return false;
	}
	if (c == 'Y' || c == '1') {
		close(fd);
		return true;
	}
	if (pwrite(fd, "Y", 1, 0) != 1) {
		close(fd);
		*why = "cannot set " URING_PARAM " to Y";
		return false;
	}
	close(fd);
	vz_info("fuse: set %s to Y for FUSE over io_uring", URING_PARAM);
	return true;
#endif
}

#ifndef HAVE_LIBURING

int ploop_uring_start(int fuse_fd, size_t max_io)
{
	(void)fuse_fd;
	(void)max_io;
	return -EOPNOTSUPP;
}

void ploop_uring_reply(struct ploop_uring_ent *e, int error, const void *data, size_t len)
{
	(void)e;
	(void)error;
	(void)data;
	(void)len;
}

char *ploop_uring_payload(struct ploop_uring_ent *e)
{
	(void)e;
	return NULL;
}

void ploop_uring_kick(void) {}

void ploop_uring_stats(uint64_t *fast, uint64_t *fsync, uint64_t *pool, uint64_t *parked)
{
	*fast = *fsync = *pool = *parked = 0;
}

#else

#include <liburing.h>

#define DEPTH 32        /* entries per queue */
#define MAXSEG 32       /* backing I/O pieces of one request */
#define POOL 16         /* blocking threads */
#define SQ_SIZE 512
#define FIXED_MAX (64u << 20)   /* payload memory we pin at most */

enum { UD_CMD = 0, UD_IO = 1, UD_EFD = 2, UD_SYNC = 3, UD_MASK = 3 };

struct uq;

struct uio {
	struct ploop_uring_ent *e;
	uint32_t done;
};

struct ploop_uring_ent {
	struct uq *q;
	struct ploop_uring_req_header *h;
	char *payload;
	struct iovec iov[2];
	uint64_t unique, commit_id;
	uint32_t opcode;
	bool write, replied, dead;
	size_t len;
	int nseg, pending, err;
	struct ploop_seg seg[MAXSEG];
	struct uio io[MAXSEG];
	struct ploop_uring_ent *next;
};

struct uq {
	int qid;
	struct io_uring ring;
	int efd;
	uint64_t ebuf;
	bool fixed;      /* payload buffers registered with the ring */
	struct ploop_uring_ent *ent;
	int live;        /* entries the kernel still holds or we work on */
	int nio;         /* backing I/O in flight */
	struct ploop_uring_ent *parked;  /* waiting for a live operation */
	pthread_mutex_t lock;
	struct ploop_uring_ent *done;    /* answered by the pool */
	int setup;       /* 0 pending, 1 ok, -errno */
};

static struct {
	int fuse_fd;
	size_t max_io;
	int nq;
	struct uq *q;
	bool active;
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* setup results */
	pthread_cond_t work;        /* pool jobs: one waiter woken per job */
	struct ploop_uring_ent *jobs, *jobs_tail;
	uint64_t nfast, nfsync, npool, nparked;   /* requests served each way */
} U = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER };

static bool is_active(void) { return __atomic_load_n(&U.active, __ATOMIC_ACQUIRE); }

char *ploop_uring_payload(struct ploop_uring_ent *e) { return e->payload; }

void ploop_uring_reply(struct ploop_uring_ent *e, int error, const void *data, size_t len)
{
	struct fuse_out_header *oh = (struct fuse_out_header *)e->h->in_out;
	if (error)
		len = 0;
	memset(oh, 0, sizeof(*oh));
	oh->len = (uint32_t)(sizeof(*oh) + len);
	oh->error = error;
	oh->unique = e->unique;
	if (len && data != e->payload)
		memcpy(e->payload, data, len);
	e->h->ent.payload_sz = (uint32_t)len;
	e->replied = true;
}

static void block_signals(void)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
}

static struct io_uring_sqe *get_sqe(struct uq *q)
{
	struct io_uring_sqe *s;
	while (!(s = io_uring_get_sqe(&q->ring)))
		io_uring_submit(&q->ring);
	return s;
}

static void fuse_cmd(struct uq *q, struct ploop_uring_ent *e, uint32_t op)
{
	struct io_uring_sqe *s = get_sqe(q);
	memset(s, 0, 2 * sizeof(*s));   /* a 128-byte SQE */
	s->opcode = IORING_OP_URING_CMD;
	s->fd = U.fuse_fd;
	s->cmd_op = op;
	if (op == PLOOP_URING_CMD_REGISTER) {
		s->addr = (uintptr_t)e->iov;
		s->len = 2;
	}
	struct ploop_uring_cmd_req *c = (struct ploop_uring_cmd_req *)s->cmd;
	c->commit_id = op == PLOOP_URING_CMD_COMMIT_AND_FETCH ? e->commit_id : 0;
	c->qid = (uint16_t)q->qid;
	io_uring_sqe_set_data64(s, (uintptr_t)e | UD_CMD);
}

static void arm_efd(struct uq *q)
{
	struct io_uring_sqe *s = get_sqe(q);
	io_uring_prep_read(s, q->efd, &q->ebuf, sizeof(q->ebuf), 0);
	io_uring_sqe_set_data64(s, (uintptr_t)q | UD_EFD);
}

static void io_submit(struct uq *q, struct ploop_uring_ent *e, int i)
{
	const struct ploop_seg *g = &e->seg[i];
	struct uio *io = &e->io[i];
	struct io_uring_sqe *s = get_sqe(q);
	char *buf = e->payload + g->boff + io->done;
	unsigned n = g->len - io->done;
	uint64_t off = g->foff + io->done;
	int idx = (int)(e - q->ent);
	if (q->fixed && e->write)
		io_uring_prep_write_fixed(s, g->fd, buf, n, off, idx);
	else if (q->fixed)
		io_uring_prep_read_fixed(s, g->fd, buf, n, off, idx);
	else if (e->write)
		io_uring_prep_write(s, g->fd, buf, n, off);
	else
		io_uring_prep_read(s, g->fd, buf, n, off);
	io_uring_sqe_set_data64(s, (uintptr_t)io | UD_IO);
	q->nio++;
}

static void to_pool(struct ploop_uring_ent *e)
{
	__atomic_fetch_add(&U.npool, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&U.lock);
	e->next = NULL;
	if (U.jobs_tail)
		U.jobs_tail->next = e;
	else
		U.jobs = e;
	U.jobs_tail = e;
	pthread_cond_signal(&U.work);
	pthread_mutex_unlock(&U.lock);
}

static void finish(struct uq *q, struct ploop_uring_ent *e)
{
	ploop_srv_fast_end(e->write, e->seg, e->nseg, e->err);
	if (e->err == -EINVAL) {
		/* alignment the O_DIRECT file refused: the blocking path
		 * retries through the buffered descriptor */
		to_pool(e);
		return;
	}
	if (e->err) {
		ploop_uring_reply(e, e->err, NULL, 0);
	} else if (e->write) {
		struct fuse_write_out o = { .size = (uint32_t)e->len };
		ploop_uring_reply(e, 0, &o, sizeof(o));
	} else {
		ploop_uring_reply(e, 0, e->payload, e->len);
	}
	fuse_cmd(q, e, PLOOP_URING_CMD_COMMIT_AND_FETCH);
}

static void park(struct uq *q, struct ploop_uring_ent *e)
{
	__atomic_fetch_add(&U.nparked, 1, __ATOMIC_RELAXED);
	e->next = q->parked;
	q->parked = e;
}

/* FSYNC with no allocation waiting for its BAT entry: an fdatasync of
 * the top delta, asynchronous in the ring (io_uring runs it in a kernel
 * worker), instead of a round trip through the blocking pool. */
static bool fsync_fast(struct uq *q, struct ploop_uring_ent *e)
{
	int fd = -1;
	enum ploop_fsync_plan k = ploop_srv_fsync_plan(&fd);
	if (k == PLOOP_FSYNC_POOL)
		return false;
	if (k == PLOOP_FSYNC_PARKED) {
		park(q, e);
		return true;
	}
	__atomic_fetch_add(&U.nfsync, 1, __ATOMIC_RELAXED);
	if (k == PLOOP_FSYNC_DONE) {
		ploop_uring_reply(e, 0, NULL, 0);
		fuse_cmd(q, e, PLOOP_URING_CMD_COMMIT_AND_FETCH);
		return true;
	}
	struct io_uring_sqe *s = get_sqe(q);
	io_uring_prep_fsync(s, fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(s, (uintptr_t)e | UD_SYNC);
	q->nio++;
	return true;
}

static void on_sync(struct uq *q, struct ploop_uring_ent *e, int res)
{
	q->nio--;
	if (res > 0)
		res = 0;
	ploop_srv_fsync_end(res);
	ploop_uring_reply(e, res, NULL, 0);
	fuse_cmd(q, e, PLOOP_URING_CMD_COMMIT_AND_FETCH);
}

static void dispatch(struct uq *q, struct ploop_uring_ent *e)
{
	e->nseg = e->pending = e->err = 0;
	if (e->opcode == FUSE_FSYNC && fsync_fast(q, e))
		return;
	if (e->opcode == FUSE_READ || e->opcode == FUSE_WRITE) {
		uint64_t off;
		size_t len;
		bool write = e->opcode == FUSE_WRITE;
		if (write) {
			const struct fuse_write_in *in = (const void *)e->h->op_in;
			off = in->offset;
			len = in->size;
			if (len > e->h->ent.payload_sz)
				goto pool;
		} else {
			const struct fuse_read_in *in = (const void *)e->h->op_in;
			off = in->offset;
			len = in->size > U.max_io ? U.max_io : in->size;
		}
		if ((off | len) % 512 || !len)
			goto pool;
		int n = ploop_srv_fast_plan(write, off, &len, e->seg, MAXSEG);
		if (n == -EAGAIN) {
			park(q, e);
			return;
		}
		if (n <= 0)
			goto pool;
		__atomic_fetch_add(&U.nfast, 1, __ATOMIC_RELAXED);
		e->write = write;
		e->len = len;
		e->nseg = n;
		for (int i = 0; i < n; i++) {
			if (e->seg[i].hole) {
				memset(e->payload + e->seg[i].boff, 0, e->seg[i].len);
				continue;
			}
			e->io[i].e = e;
			e->io[i].done = 0;
			e->pending++;
			io_submit(q, e, i);
		}
		if (!e->pending)
			finish(q, e);
		return;
	}
pool:
	to_pool(e);
}

static void on_io(struct uq *q, struct uio *io, int res)
{
	struct ploop_uring_ent *e = io->e;
	int i = (int)(io - e->io);
	const struct ploop_seg *g = &e->seg[i];
	q->nio--;
	if (res == -EAGAIN || res == -EINTR) {
		io_submit(q, e, i);
		return;
	}
	if (res < 0) {
		if (!e->err)
			e->err = res;
	} else {
		io->done += (uint32_t)res;
		if (io->done < g->len) {
			if (res > 0) {
				io_submit(q, e, i);
				return;
			}
			if (e->write) {
				if (!e->err)
					e->err = -EIO;
			} else {
				/* end of file: the rest reads as zeroes */
				memset(e->payload + g->boff + io->done, 0, g->len - io->done);
			}
		}
	}
	if (--e->pending == 0)
		finish(q, e);
}

static void on_efd(struct uq *q)
{
	pthread_mutex_lock(&q->lock);
	struct ploop_uring_ent *done = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->lock);
	while (done) {
		struct ploop_uring_ent *e = done;
		done = e->next;
		fuse_cmd(q, e, PLOOP_URING_CMD_COMMIT_AND_FETCH);
	}
	struct ploop_uring_ent *p = q->parked;
	q->parked = NULL;
	while (p) {
		struct ploop_uring_ent *e = p;
		p = e->next;
		dispatch(q, e);
	}
}

static void on_cqe(struct uq *q, uint64_t ud, int res)
{
	switch (ud & UD_MASK) {
	case UD_CMD: {
		struct ploop_uring_ent *e = (struct ploop_uring_ent *)(uintptr_t)ud;
		if (res < 0) {
			/* the connection went away (or the entry was refused) */
			if (!e->dead) {
				e->dead = true;
				q->live--;
			}
			if (q->setup == 1 && res != -ENOTCONN && res != -ECANCELED &&
			    res != -ENODEV)
				vz_warn("fuse io_uring queue %d: %s", q->qid, strerror(-res));
			return;
		}
		const struct fuse_in_header *ih = (const void *)e->h->in_out;
		e->unique = ih->unique;
		e->opcode = ih->opcode;
		e->commit_id = e->h->ent.commit_id;
		dispatch(q, e);
		return;
	}
	case UD_IO:
		on_io(q, (struct uio *)(uintptr_t)(ud & ~(uint64_t)UD_MASK), res);
		return;
	case UD_SYNC:
		on_sync(q, (struct ploop_uring_ent *)(uintptr_t)(ud & ~(uint64_t)UD_MASK), res);
		return;
	case UD_EFD:
		on_efd(q);
		if (res >= 0 || res == -EINTR || res == -EAGAIN)
			arm_efd(q);
		else
			vz_warn("fuse io_uring queue %d: eventfd: %s", q->qid, strerror(-res));
		return;
	}
}

static void report(struct uq *q, int r)
{
	pthread_mutex_lock(&U.lock);
	q->setup = r < 0 ? r : 1;
	pthread_cond_broadcast(&U.cond);
	pthread_mutex_unlock(&U.lock);
}

static int setup(struct uq *q)
{
	/* Completions run when this thread waits for them (6.1+), else at
	 * the next transition to the kernel (5.19+), else by interrupt. */
	static const unsigned fl[] = {
		IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_SQE128,
	};
	int r = -EINVAL;
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		p.flags = fl[i];
		r = io_uring_queue_init_params(SQ_SIZE, &q->ring, &p);
		if (r != -EINVAL)
			break;
	}
	if (r < 0)
		return r;
	q->ent = xcalloc(DEPTH, sizeof(*q->ent));
	for (int i = 0; i < DEPTH; i++) {
		struct ploop_uring_ent *e = &q->ent[i];
		e->q = q;
		e->h = ploop_aligned_alloc(4096);
		memset(e->h, 0, sizeof(*e->h));
		e->payload = ploop_aligned_alloc(U.max_io);
		e->iov[0] = (struct iovec){ e->h, sizeof(*e->h) };
		e->iov[1] = (struct iovec){ e->payload, U.max_io };
		fuse_cmd(q, e, PLOOP_URING_CMD_REGISTER);
	}
	/* Registered buffers spare pinning the pages of every backing I/O:
	 * measured here 1.5-2x on 1 MiB sequential I/O, ~5-10 % on 4k.  But
	 * they pin every payload buffer (queues x DEPTH x 1 MiB) for the
	 * server's life, so by default only while that stays within
	 * FIXED_MAX; PLOOP_URING_FIXED=1/0 forces it on/off. */
	const char *fx = getenv("PLOOP_URING_FIXED");
	bool want = (size_t)U.nq * DEPTH * U.max_io <= FIXED_MAX;
	if (fx && *fx)
		want = !strcmp(fx, "1");
	if (want) {
		struct iovec iov[DEPTH];
		for (int i = 0; i < DEPTH; i++)
			iov[i] = q->ent[i].iov[1];
		int fr = io_uring_register_buffers(&q->ring, iov, DEPTH);
		q->fixed = fr == 0;
		if (fr < 0)
			vz_info("fuse io_uring queue %d: payload buffers not registered (%s)",
				q->qid, strerror(-fr));
	}
	q->live = DEPTH;
	r = io_uring_submit(&q->ring);
	if (r < 0)
		return r;
	/* a refused registration completes at once */
	struct io_uring_cqe *cqe;
	unsigned head;
	int bad = 0;
	io_uring_for_each_cqe(&q->ring, head, cqe) {
		if ((cqe->user_data & UD_MASK) == UD_CMD && cqe->res < 0)
			bad = cqe->res;
	}
	return bad;
}

static void *queue_main(void *arg)
{
	struct uq *q = arg;
	block_signals();
	int r = setup(q);
	report(q, r);
	if (r < 0)
		return NULL;
	arm_efd(q);
	for (;;) {
		/* handle what is there (setup may have left completions) */
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			on_cqe(q, cqe->user_data, cqe->res);
			n++;
		}
		io_uring_cq_advance(&q->ring, n);
		if (q->live == 0 && q->nio == 0)
			break;
		r = io_uring_submit_and_wait(&q->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY && r != -ETIME) {
			vz_warn("fuse io_uring queue %d: %s", q->qid, strerror(-r));
			break;
		}
	}
	return NULL;
}

static void *pool_main(void *arg)
{
	(void)arg;
	block_signals();
	void *w = ploop_srv_worker_new();
	for (;;) {
		pthread_mutex_lock(&U.lock);
		while (!U.jobs)
			pthread_cond_wait(&U.work, &U.lock);
		struct ploop_uring_ent *e = U.jobs;
		U.jobs = e->next;
		if (!U.jobs)
			U.jobs_tail = NULL;
		pthread_mutex_unlock(&U.lock);
		/* the reply overwrites the in-header */
		struct fuse_in_header ih = *(const struct fuse_in_header *)e->h->in_out;
		e->replied = false;
		ploop_srv_handle_ring(w, e, &ih, e->h->op_in, e->payload, e->h->ent.payload_sz);
		if (!e->replied)
			ploop_uring_reply(e, -ENOSYS, NULL, 0);
		struct uq *q = e->q;
		pthread_mutex_lock(&q->lock);
		e->next = q->done;
		q->done = e;
		pthread_mutex_unlock(&q->lock);
		eventfd_write(q->efd, 1);
	}
	return NULL;
}

static int possible_cpus(void)
{
	/* "0-1" or "0,2-5": the last number + 1 */
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	char buf[256] = "";
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	char *p = buf + strlen(buf);
	while (p > buf && (p[-1] < '0' || p[-1] > '9'))
		p--;
	while (p > buf && p[-1] >= '0' && p[-1] <= '9')
		p--;
	int n = *p ? atoi(p) + 1 : 0;
	return n > 0 ? n : get_nprocs_conf();
}

static bool spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	int r = pthread_create(&t, &at, fn, arg);
	pthread_attr_destroy(&at);
	if (r)
		return false;
	pthread_detach(t);
	return true;
}

int ploop_uring_start(int fuse_fd, size_t max_io)
{
	U.fuse_fd = fuse_fd;
	U.max_io = max_io;
	U.nq = possible_cpus();
	U.q = xcalloc((size_t)U.nq, sizeof(*U.q));
	for (int i = 0; i < POOL; i++)
		if (!spawn(pool_main, NULL))
			return -EAGAIN;
	int started = 0;
	for (int i = 0; i < U.nq; i++)
		U.q[i].efd = -1;
	for (int i = 0; i < U.nq; i++) {
		struct uq *q = &U.q[i];
		q->qid = i;
		pthread_mutex_init(&q->lock, NULL);
		q->efd = eventfd(0, EFD_CLOEXEC);
		if (q->efd < 0 || !spawn(queue_main, q)) {
			q->setup = -errno;
			break;
		}
		started++;
	}
	int rc = 0;
	pthread_mutex_lock(&U.lock);
	for (int i = 0; i < started; i++) {
		while (!U.q[i].setup)
			pthread_cond_wait(&U.cond, &U.lock);
	}
	pthread_mutex_unlock(&U.lock);
	for (int i = 0; i < U.nq; i++)
		if (U.q[i].setup < 0 && !rc)
			rc = U.q[i].setup;
	if (!rc)
		__atomic_store_n(&U.active, true, __ATOMIC_RELEASE);
	return rc;
}

void ploop_uring_stats(uint64_t *fast, uint64_t *fsync, uint64_t *pool, uint64_t *parked)
{
	*fast = __atomic_load_n(&U.nfast, __ATOMIC_RELAXED);
	*fsync = __atomic_load_n(&U.nfsync, __ATOMIC_RELAXED);
	*pool = __atomic_load_n(&U.npool, __ATOMIC_RELAXED);
	*parked = __atomic_load_n(&U.nparked, __ATOMIC_RELAXED);
}

void ploop_uring_kick(void)
{
	if (!is_active())
		return;
	for (int i = 0; i < U.nq; i++)
		if (U.q[i].efd >= 0)
			eventfd_write(U.q[i].efd, 1);
}

#endif
