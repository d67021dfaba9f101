/* The ploop server: FUSE export of a delta chain (see ploop-server.h).
 *
 * Map: for every virtual cluster the delta level that holds it (topmost
 * wins) and its cluster index in that file.  Reads go to that place;
 * writes go to the top delta, allocating a cluster at its end (copy-up of
 * the whole cluster when a lower delta held it).
 *
 * Durability: a newly allocated cluster is only remembered as "pending".
 * On FSYNC the top delta is synced, then the BAT sectors of the pending
 * entries are written from disk_bat (the image of what the on-disk BAT may
 * hold), then synced again.  So a crash never maps a cluster whose data is
 * not on disk, and everything acknowledged before a flush survives it.
 * The dirty flag is set in the top delta's header while mounted.
 *
 * Why /dev/fuse directly and not libfuse3: measured here (bench/ploop-io-
 * fuse, a loaded 2-core VM) a libfuse3 3.14 passthrough without any map and
 * this server are within noise of each other, and FUSE_ASYNC_DIO is what
 * matters (2-3x on 4k random I/O; both can ask for it).  Speaking the
 * protocol ourselves costs ~300 lines and buys: WRITE payloads read to a
 * page boundary (O_DIRECT without a copy), parallel direct writes, the
 * inval-inode notification for live grow without a library session, no
 * run-time dependency, and FUSE over io_uring, which libfuse 3.14 cannot
 * express.
 *
 * Transports: FUSE over io_uring (ploop-uring.c) where the kernel has it
 * (6.14+; the fuse module parameter enable_uring is set to Y when it is N),
 * else or with PLOOP_FUSE_URING=0 the /dev/fuse threads below, which also
 * serve INIT, FORGET/INTERRUPT and whatever comes before the rings are
 * registered.  `status` answers transport=io_uring|threads.  Requests hold
 * S.io shared for their whole run (a ring request from plan to completion
 * of its backing I/O, taken with trylock so a ring thread never blocks);
 * live operations take it exclusively, which drains both transports, and
 * io_excl_end() wakes the rings to retry what they parked meanwhile.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "ploop-delta.h"
#include "ploop-server.h"
#include "ploop-uring.h"
#include "util.h"

#define MAX_LEVELS 250
#define MAX_IO (1u << 20)
#define HDR_ROOM 4096
#define NO_LEVEL 0xff

struct srv {
	struct ploop_delta d[MAX_LEVELS];
	int n;                  /* deltas in the chain */
	bool ro;
	uint32_t cluster;
	uint64_t nclusters;     /* virtual */
	uint64_t size;          /* virtual, bytes */
	uint8_t *lvl;           /* per virtual cluster, NO_LEVEL = hole */
	uint32_t *off;          /* cluster index in d[lvl] */
	uint8_t *busy;          /* allocation in progress */
	uint32_t *disk_bat;     /* top delta's BAT as it may be on disk */
	uint32_t *pending;      /* virtual clusters whose BAT entry is due */
	size_t npending, cap_pending;
	uint8_t *track;         /* dirty bitmap of top file clusters, or NULL */
	uint64_t track_bits;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_mutex_t commit_lock;
	pthread_rwlock_t io;    /* requests: shared; chain changes: exclusive */
	bool written;           /* data written since the last commit */
	bool committing;        /* commit() holds a taken pending list */
	int syncing;            /* fdatasyncs the ring threads have in flight */
	bool no_parallel_writes;
	struct ploop_delta next;/* prepared top for a snapshot */
	bool have_next;
	int fuse_fd;
	const char *fuse_file;
	int ctl_fd;
	bool stopping;          /* atomic: a worker saw the mount go */
	int nthreads;
	bool uring_offer;       /* FUSE over io_uring may be offered at INIT */
	bool init_done;         /* INIT answered, transport chosen (under lock) */
	const char *transport;  /* "io_uring" or "threads" */
};

static struct srv S;

static struct ploop_delta *top(void) { return &S.d[S.n - 1]; }

/* --- tracker --- */

static void track_mark(uint64_t fcl)
{
	if (!S.track)
		return;
	if (fcl >= S.track_bits) {
		uint64_t nb = (fcl + 1024) & ~UINT64_C(7);
		S.track = xrealloc(S.track, nb / 8);
		memset(S.track + S.track_bits / 8, 0, (nb - S.track_bits) / 8);
		S.track_bits = nb;
	}
	S.track[fcl / 8] |= (uint8_t)(1u << (fcl % 8));
}

static void track_mark_bat(uint32_t first, uint32_t count)
{
	uint64_t b0 = (PLOOP_HDR_SIZE + 4ull * first) / S.cluster;
	uint64_t b1 = (PLOOP_HDR_SIZE + 4ull * (first + count)) / S.cluster;
	for (uint64_t c = b0; c <= b1; c++)
		track_mark(c);
}

/* --- map --- */

static int build_map(void)
{
	S.lvl = xmalloc(S.nclusters);
	memset(S.lvl, NO_LEVEL, S.nclusters);
	S.off = xcalloc(S.nclusters, sizeof(uint32_t));
	S.busy = xcalloc(S.nclusters, 1);
	for (int l = 0; l < S.n; l++) {
		struct ploop_delta *d = &S.d[l];
		uint64_t lim = d->hdr.bat_entries < S.nclusters ? d->hdr.bat_entries : S.nclusters;
		for (uint64_t c = 0; c < lim; c++)
			if (d->bat[c]) {
				S.lvl[c] = (uint8_t)l;
				S.off[c] = d->bat[c];
			}
	}
	struct ploop_delta *t = top();
	S.disk_bat = xcalloc(S.nclusters, sizeof(uint32_t));
	memcpy(S.disk_bat, t->bat, (size_t)(t->hdr.bat_entries < S.nclusters ?
		t->hdr.bat_entries : S.nclusters) * 4);
	return 0;
}

/* Level below `below` that holds cluster c, or NO_LEVEL. */
static int lower_level(uint64_t c, int below)
{
	for (int l = below - 1; l >= 0; l--)
		if (c < S.d[l].hdr.bat_entries && S.d[l].bat[c])
			return l;
	return NO_LEVEL;
}

static void add_pending(uint64_t c)
{
	if (S.npending == S.cap_pending) {
		S.cap_pending = S.cap_pending ? S.cap_pending * 2 : 256;
		S.pending = xrealloc(S.pending, S.cap_pending * sizeof(uint32_t));
	}
	S.pending[S.npending++] = (uint32_t)c;
}

static bool aligned(const void *buf, uint64_t off, size_t len)
{
	return !((uintptr_t)buf % PLOOP_SECTOR) && !(off % PLOOP_SECTOR) &&
	       !(len % PLOOP_SECTOR);
}

static int do_pread(struct ploop_delta *d, void *buf, size_t len, uint64_t off)
{
	int fd = aligned(buf, off, len) ? d->fd : d->bfd;
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && fd != d->bfd) {
			fd = d->bfd;
			continue;
		}
		if (r < 0)
			return -errno;
		if (r == 0) {
			memset((char *)buf + done, 0, len - done);
			break;
		}
		done += (size_t)r;
	}
	return 0;
}

static int do_pwrite(struct ploop_delta *d, const void *buf, size_t len, uint64_t off)
{
	int fd = aligned(buf, off, len) ? d->fd : d->bfd;
	size_t done = 0;
	while (done < len) {
		ssize_t r = pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && fd != d->bfd) {
			fd = d->bfd;
			continue;
		}
		if (r < 0)
			return -errno;
		done += (size_t)r;
	}
	return 0;
}

/* --- commit: make allocations durable and visible in the on-disk BAT --- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int commit(void)
{
	struct vz_error err;
	int rc = 0;
	if (S.ro)
		return 0;
	pthread_mutex_lock(&S.commit_lock);
	pthread_mutex_lock(&S.lock);
	uint32_t *list = S.pending;
	size_t n = S.npending;
	/* a sync in flight has not made anything durable yet */
	bool written = S.written || S.syncing;
	S.pending = NULL;
	S.npending = S.cap_pending = 0;
	S.written = false;
	S.committing = true;
	pthread_mutex_unlock(&S.lock);
	struct ploop_delta *t = top();
	/* Every acknowledged write set `written` before its reply, so a
	 * flush that finds it clear has nothing to make durable. */
	if (!written && !n)
		goto out;
	if (fdatasync(t->fd) < 0) {
		rc = -errno;
		goto out;
	}
	if (n) {
		qsort(list, n, sizeof(*list), cmp_u32);
		pthread_mutex_lock(&S.lock);
		for (size_t i = 0; i < n; i++) {
			uint32_t c = list[i];
			S.disk_bat[c] = S.lvl[c] == S.n - 1 ? S.off[c] : 0;
		}
		pthread_mutex_unlock(&S.lock);
		/* one write per run of entries sharing BAT sectors */
		size_t i = 0;
		while (i < n) {
			size_t j = i;
			while (j + 1 < n && list[j + 1] - list[j] < PLOOP_SECTOR / 4)
				j++;
			uint32_t first = list[i], cnt = list[j] - list[i] + 1;
			if (ploop_delta_write_bat(t, S.disk_bat, first, cnt, &err) < 0) {
				rc = -EIO;
				goto out;
			}
			pthread_mutex_lock(&S.lock);
			track_mark_bat(first, cnt);
			pthread_mutex_unlock(&S.lock);
			i = j + 1;
		}
		if (fdatasync(t->bfd) < 0)
			rc = -errno;
	}
out:
	pthread_mutex_lock(&S.lock);
	if (rc < 0) {
		/* keep them pending for the next try */
		S.written = true;
		for (size_t i = 0; i < n; i++)
			add_pending(list[i]);
	}
	S.committing = false;
	pthread_mutex_unlock(&S.lock);
	free(list);
	pthread_mutex_unlock(&S.commit_lock);
	return rc;
}

/* --- data path --- */

struct worker {
	char *buf;    /* request buffer, HDR_ROOM + MAX_IO */
	char *cbuf;   /* one cluster, for copy-up */
	char *rbuf;   /* read reply data */
	struct ploop_uring_ent *ent;  /* the ring entry being answered, or NULL */
};

static int read_range(char *dst, uint64_t off, size_t len)
{
	while (len) {
		uint64_t c = off / S.cluster;
		uint32_t in = (uint32_t)(off % S.cluster);
		size_t piece = S.cluster - in < len ? S.cluster - in : len;
		pthread_mutex_lock(&S.lock);
		int l = c < S.nclusters ? S.lvl[c] : NO_LEVEL;
		uint64_t fo = c < S.nclusters ? S.off[c] : 0;
		pthread_mutex_unlock(&S.lock);
		if (l == NO_LEVEL) {
			memset(dst, 0, piece);
		} else {
			int r = do_pread(&S.d[l], dst, piece, fo * S.cluster + in);
			if (r < 0)
				return r;
		}
		dst += piece;
		off += piece;
		len -= piece;
	}
	return 0;
}

/* Writes one piece inside cluster c; data NULL means zeroes (discard of
 * a part of a cluster held in a lower delta). */
static int write_piece(struct worker *w, uint64_t c, uint32_t in, const char *data,
		       size_t len)
{
	struct ploop_delta *t;
	pthread_mutex_lock(&S.lock);
	for (;;) {
		if (!S.busy[c])
			break;
		pthread_cond_wait(&S.cond, &S.lock);
	}
	t = top();
	int tl = S.n - 1;
	if (S.lvl[c] == tl) {
		uint64_t fo = S.off[c];
		pthread_mutex_unlock(&S.lock);
		int r;
		if (data) {
			r = do_pwrite(t, data, len, fo * S.cluster + in);
		} else {
			r = fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(fo * S.cluster + in), (off_t)len) < 0 ? -errno : 0;
		}
		pthread_mutex_lock(&S.lock);
		track_mark(fo);
		S.written = true;
		pthread_mutex_unlock(&S.lock);
		return r;
	}
	int old = S.lvl[c];
	uint64_t old_off = S.off[c];
	uint64_t fo = t->alloc_end++;
	S.busy[c] = 1;
	pthread_mutex_unlock(&S.lock);

	int r = 0;
	if (fallocate(t->fd, 0, (off_t)(fo * S.cluster), S.cluster) < 0 &&
	    errno != EOPNOTSUPP) {
		r = -errno;
		goto done;
	}
	if (old != NO_LEVEL && (in || len < S.cluster)) {
		/* copy-up: the cluster's other bytes come from below */
		r = do_pread(&S.d[old], w->cbuf, S.cluster, old_off * S.cluster);
		if (r < 0)
			goto done;
		if (data)
			memcpy(w->cbuf + in, data, len);
		else
			memset(w->cbuf + in, 0, len);
		r = do_pwrite(t, w->cbuf, S.cluster, fo * S.cluster);
	} else if (data) {
		r = do_pwrite(t, data, len, fo * S.cluster + in);
	}
done:
	pthread_mutex_lock(&S.lock);
	if (r == 0) {
		S.lvl[c] = (uint8_t)tl;
		S.off[c] = (uint32_t)fo;
		add_pending(c);
		track_mark(fo);
		S.written = true;
	}
	S.busy[c] = 0;
	pthread_cond_broadcast(&S.cond);
	pthread_mutex_unlock(&S.lock);
	return r;
}

static int write_range(struct worker *w, const char *src, uint64_t off, size_t len)
{
	while (len) {
		uint64_t c = off / S.cluster;
		uint32_t in = (uint32_t)(off % S.cluster);
		size_t piece = S.cluster - in < len ? S.cluster - in : len;
		int r = write_piece(w, c, in, src, piece);
		if (r < 0)
			return r;
		src += piece;
		off += piece;
		len -= piece;
	}
	return 0;
}

/* Discard / zero range: whole clusters nobody below holds are unmapped
 * (and their space punched); the rest reads as zeroes after. */
static int discard_range(struct worker *w, uint64_t off, uint64_t len)
{
	if (off >= S.size)
		return 0;
	if (off + len > S.size)
		len = S.size - off;
	while (len) {
		uint64_t c = off / S.cluster;
		uint32_t in = (uint32_t)(off % S.cluster);
		size_t piece = S.cluster - in < len ? S.cluster - in : (size_t)len;
		pthread_mutex_lock(&S.lock);
		while (S.busy[c])
			pthread_cond_wait(&S.cond, &S.lock);
		int l = S.lvl[c];
		int below = lower_level(c, S.n - 1);
		uint64_t fo = S.off[c];
		if (l == NO_LEVEL) {
			pthread_mutex_unlock(&S.lock);
		} else if (piece == S.cluster && below == NO_LEVEL) {
			/* l is the top: forget the cluster */
			S.lvl[c] = NO_LEVEL;
			S.off[c] = 0;
			add_pending(c);
			track_mark(fo);
			pthread_mutex_unlock(&S.lock);
			if (fallocate(top()->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(fo * S.cluster), S.cluster) < 0 &&
			    errno != EOPNOTSUPP)
				return -errno;
		} else {
			pthread_mutex_unlock(&S.lock);
			int r = write_piece(w, c, in, NULL, piece);
			if (r < 0)
				return r;
		}
		off += piece;
		len -= piece;
	}
	return 0;
}

/* --- FUSE --- */

static void fill_attr(struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = 1;
	a->size = S.size;
	a->blocks = S.size / 512;
	a->mode = S_IFREG | (S.ro ? 0400 : 0600);
	a->nlink = 1;
	a->blksize = 4096;
}

static void reply(struct worker *w, uint64_t unique, int error, const void *data, size_t len)
{
	if (w->ent) {
		ploop_uring_reply(w->ent, error, data, len);
		return;
	}
	struct fuse_out_header oh = {
		.len = (uint32_t)(sizeof(oh) + (error ? 0 : len)),
		.error = error,
		.unique = unique,
	};
	struct iovec iov[2] = { { &oh, sizeof(oh) }, { (void *)data, error ? 0 : len } };
	while (writev(S.fuse_fd, iov, error || !len ? 1 : 2) < 0 && errno == EINTR)
		;
}

static void handle_init(struct worker *w, uint64_t unique, const struct fuse_init_in *in)
{
	struct fuse_init_out o;
	memset(&o, 0, sizeof(o));
	o.major = FUSE_KERNEL_VERSION;
	o.minor = FUSE_KERNEL_MINOR_VERSION;
	if (in->major < 7 || (in->major == 7 && in->minor < 28)) {
		reply(w, unique, -EPROTO, NULL, 0);
		return;
	}
	o.max_readahead = in->max_readahead;
	/* Async DIO keeps the loop device's queue depth alive through FUSE;
	 * max_pages 256 lets one request carry 1 MiB. */
	o.flags = in->flags & (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_ASYNC_DIO |
			       FUSE_MAX_PAGES);
	/* for measurements: what a server without these would see */
	if (getenv("PLOOP_FUSE_NO_ASYNC_DIO"))
		o.flags &= ~(uint32_t)FUSE_ASYNC_DIO;
	o.max_background = 256;
	o.congestion_threshold = 192;
	o.max_write = MAX_IO;
	o.time_gran = 1;
	o.max_pages = MAX_IO / 4096;
	/* FUSE over io_uring when the kernel offers it (enable_uring=Y) */
	bool uring = S.uring_offer && (in->flags & FUSE_INIT_EXT) &&
		     (in->flags2 & (uint32_t)(PLOOP_FUSE_OVER_IO_URING >> 32));
	if (uring) {
		o.flags |= FUSE_INIT_EXT;
		o.flags2 = (uint32_t)(PLOOP_FUSE_OVER_IO_URING >> 32);
	}
	size_t len = sizeof(o);
	if (in->minor < 23)
		len = FUSE_COMPAT_22_INIT_OUT_SIZE;
	reply(w, unique, 0, &o, len);
	if (!S.uring_offer)
		return;
	if (!uring) {
		vz_info("fuse: the kernel did not offer io_uring at INIT: serving through /dev/fuse threads");
		return;
	}
	/* the reply made the connection ready for ring registrations */
	int r = ploop_uring_start(S.fuse_fd, MAX_IO);
	if (r < 0) {
		vz_warn("fuse: io_uring queues refused (%s): serving through /dev/fuse threads",
			strerror(-r));
		return;
	}
	__atomic_store_n(&S.transport, "io_uring", __ATOMIC_RELEASE);
	vz_info("fuse: serving through io_uring queues");
}

/* arg: the opcode's fixed argument; payload: what follows it (WRITE data) */
static void handle(struct worker *w, const struct fuse_in_header *ih, const void *arg,
		   const char *payload, size_t plen)
{
	int r;
	switch (ih->opcode) {
	case FUSE_INIT:
		handle_init(w, ih->unique, arg);
		pthread_mutex_lock(&S.lock);
		S.init_done = true;
		pthread_cond_broadcast(&S.cond);
		pthread_mutex_unlock(&S.lock);
		return;
	case FUSE_GETATTR:
	case FUSE_SETATTR: {
		struct fuse_attr_out o;
		memset(&o, 0, sizeof(o));
		if (ih->opcode == FUSE_SETATTR) {
			const struct fuse_setattr_in *s = arg;
			if ((s->valid & FATTR_SIZE) && s->size != S.size) {
				reply(w, ih->unique, -EPERM, NULL, 0);
				return;
			}
		}
		fill_attr(&o.attr);
		o.attr_valid = 1;
		reply(w, ih->unique, 0, &o, sizeof(o));
		return;
	}
	case FUSE_OPEN: {
		const struct fuse_open_in *in = arg;
		if (S.ro && (in->flags & O_ACCMODE) != O_RDONLY) {
			reply(w, ih->unique, -EROFS, NULL, 0);
			return;
		}
		struct fuse_open_out o = { 0 };
		o.open_flags = FOPEN_DIRECT_IO;
		if (!S.no_parallel_writes)
			o.open_flags |= FOPEN_PARALLEL_DIRECT_WRITES;
		reply(w, ih->unique, 0, &o, sizeof(o));
		return;
	}
	case FUSE_READ: {
		const struct fuse_read_in *in = arg;
		uint64_t off = in->offset;
		size_t len = in->size > MAX_IO ? MAX_IO : in->size;
		if (off >= S.size)
			len = 0;
		else if (off + len > S.size)
			len = (size_t)(S.size - off);
		pthread_rwlock_rdlock(&S.io);
		r = read_range(w->rbuf, off, len);
		pthread_rwlock_unlock(&S.io);
		reply(w, ih->unique, r, w->rbuf, len);
		return;
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *in = arg;
		const char *data = payload;
		size_t len = in->size;
		if (S.ro) {
			reply(w, ih->unique, -EROFS, NULL, 0);
			return;
		}
		if (len > plen || in->offset + len > S.size) {
			reply(w, ih->unique, in->offset >= S.size ? -ENOSPC : -EINVAL, NULL, 0);
			return;
		}
		pthread_rwlock_rdlock(&S.io);
		r = write_range(w, data, in->offset, len);
		pthread_rwlock_unlock(&S.io);
		struct fuse_write_out o = { .size = (uint32_t)len };
		reply(w, ih->unique, r, &o, sizeof(o));
		return;
	}
	case FUSE_FALLOCATE: {
		const struct fuse_fallocate_in *in = arg;
		if (S.ro) {
			reply(w, ih->unique, -EROFS, NULL, 0);
			return;
		}
		r = 0;
		if (in->mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
			pthread_rwlock_rdlock(&S.io);
			r = discard_range(w, in->offset, in->length);
			pthread_rwlock_unlock(&S.io);
		} else if (in->mode & ~FALLOC_FL_KEEP_SIZE) {
			r = -EOPNOTSUPP;
		} else if (in->offset + in->length > S.size) {
			r = -ENOSPC;  /* the disk has a fixed size */
		}
		reply(w, ih->unique, r, NULL, 0);
		return;
	}
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
		pthread_rwlock_rdlock(&S.io);
		r = commit();
		pthread_rwlock_unlock(&S.io);
		reply(w, ih->unique, r, NULL, 0);
		return;
	case FUSE_FLUSH:
	case FUSE_RELEASE:
	case FUSE_ACCESS:
		reply(w, ih->unique, 0, NULL, 0);
		return;
	case FUSE_STATFS: {
		struct fuse_statfs_out o;
		memset(&o, 0, sizeof(o));
		o.st.bsize = 4096;
		o.st.frsize = 4096;
		o.st.blocks = S.size / 4096;
		o.st.namelen = 255;
		reply(w, ih->unique, 0, &o, sizeof(o));
		return;
	}
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return;  /* no reply */
	case FUSE_DESTROY:
		reply(w, ih->unique, 0, NULL, 0);
		return;
	case FUSE_LOOKUP:
		reply(w, ih->unique, -ENOENT, NULL, 0);
		return;
	default:
		reply(w, ih->unique, -ENOSYS, NULL, 0);
		return;
	}
}

static void *worker_main(void *arg)
{
	struct worker w = { 0 };
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	w.buf = ploop_aligned_alloc(HDR_ROOM + MAX_IO + 4096);
	w.cbuf = ploop_aligned_alloc(S.cluster);
	w.rbuf = ploop_aligned_alloc(MAX_IO);
	/* Read so that a WRITE's payload (after the 40-byte in-header and the
	 * 40-byte write_in) lands on a page boundary for O_DIRECT. */
	size_t skew = sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in);
	char *rb = w.buf + HDR_ROOM - skew;
	for (;;) {
		ssize_t n = read(S.fuse_fd, rb, skew + MAX_IO + 4096);
		if (n < 0) {
			if (errno == EINTR || errno == ENOENT || errno == EAGAIN)
				continue;
			break;  /* ENODEV: unmounted */
		}
		if ((size_t)n < sizeof(struct fuse_in_header))
			continue;
		struct fuse_in_header *ih = (struct fuse_in_header *)rb;
		size_t arglen = (size_t)n - sizeof(*ih);
		size_t oplen = ih->opcode == FUSE_WRITE ? sizeof(struct fuse_write_in) : 0;
		if (oplen > arglen)
			oplen = arglen;
		handle(&w, ih, rb + sizeof(*ih), rb + sizeof(*ih) + oplen, arglen - oplen);
	}
	free(w.buf);
	free(w.cbuf);
	free(w.rbuf);
	__atomic_store_n(&S.stopping, true, __ATOMIC_RELEASE);
	return NULL;
}

/* --- the io_uring transport's side (ploop-uring.h) --- */

int ploop_srv_fast_plan(bool write, uint64_t off, size_t *lenp, struct ploop_seg *segs,
			int max)
{
	if (pthread_rwlock_tryrdlock(&S.io))
		return -EAGAIN;  /* a live operation wants the data path */
	size_t len = *lenp;
	int n = 0;
	pthread_mutex_lock(&S.lock);
	if (write && (S.ro || off + len > S.size))
		goto slow;
	if (!write) {
		if (off >= S.size)
			goto slow;
		if (off + len > S.size)
			len = (size_t)(S.size - off);
	}
	int tl = S.n - 1;
	uint32_t boff = 0;
	while (boff < len) {
		uint64_t c = off / S.cluster;
		uint32_t in = (uint32_t)(off % S.cluster);
		uint32_t piece = S.cluster - in < len - boff ? S.cluster - in : (uint32_t)(len - boff);
		int l = S.lvl[c];
		if (n == max)
			goto slow;
		if (write) {
			/* in place only: allocation and copy-up block */
			if (S.busy[c] || l != tl)
				goto slow;
			segs[n] = (struct ploop_seg){ .fd = S.d[l].fd, .foff = (uint64_t)S.off[c] * S.cluster + in,
						      .boff = boff, .len = piece };
		} else if (l == NO_LEVEL) {
			segs[n] = (struct ploop_seg){ .fd = -1, .hole = true, .boff = boff, .len = piece };
		} else {
			segs[n] = (struct ploop_seg){ .fd = S.d[l].fd, .foff = (uint64_t)S.off[c] * S.cluster + in,
						      .boff = boff, .len = piece };
		}
		n++;
		boff += piece;
		off += piece;
	}
	pthread_mutex_unlock(&S.lock);
	*lenp = len;
	return n;
slow:
	pthread_mutex_unlock(&S.lock);
	pthread_rwlock_unlock(&S.io);
	return 0;
}

void ploop_srv_fast_end(bool write, const struct ploop_seg *segs, int n, int err)
{
	(void)err;
	if (write) {
		/* like write_piece: tracked and flushable before the reply,
		 * failed or not (a failed write may have changed some bytes) */
		pthread_mutex_lock(&S.lock);
		for (int i = 0; i < n; i++)
			track_mark(segs[i].foff / S.cluster);
		S.written = true;
		pthread_mutex_unlock(&S.lock);
	}
	pthread_rwlock_unlock(&S.io);
}

enum ploop_fsync_plan ploop_srv_fsync_plan(int *fd)
{
	if (pthread_rwlock_tryrdlock(&S.io))
		return PLOOP_FSYNC_PARKED;
	enum ploop_fsync_plan r;
	pthread_mutex_lock(&S.lock);
	if (S.npending || S.committing) {
		/* BAT entries to write, or a commit whose list may hold
		 * writes acknowledged before this flush: commit() waits */
		r = PLOOP_FSYNC_POOL;
	} else if (S.ro || (!S.written && !S.syncing)) {
		r = PLOOP_FSYNC_DONE;
	} else {
		/* a sync already in flight may have started before the
		 * writes this flush covers: one more */
		S.written = false;
		S.syncing++;
		*fd = top()->fd;
		r = PLOOP_FSYNC_SYNC;
	}
	pthread_mutex_unlock(&S.lock);
	if (r != PLOOP_FSYNC_SYNC)
		pthread_rwlock_unlock(&S.io);
	return r;
}

void ploop_srv_fsync_end(int err)
{
	pthread_mutex_lock(&S.lock);
	S.syncing--;
	if (err)
		S.written = true;   /* the next flush tries again */
	pthread_mutex_unlock(&S.lock);
	pthread_rwlock_unlock(&S.io);
}

void *ploop_srv_worker_new(void)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	w->cbuf = ploop_aligned_alloc(S.cluster);
	return w;
}

void ploop_srv_handle_ring(void *worker, struct ploop_uring_ent *e,
			   const struct fuse_in_header *ih, const void *op,
			   char *payload, size_t plen)
{
	struct worker *w = worker;
	w->ent = e;
	w->rbuf = ploop_uring_payload(e);  /* READ data lands in place */
	handle(w, ih, op, payload, plen);
	w->ent = NULL;
	w->rbuf = NULL;
}

/* Ends a live operation's exclusive hold of the data path; ring threads
 * retry the requests they parked meanwhile. */
static void io_excl_end(void)
{
	pthread_rwlock_unlock(&S.io);
	ploop_uring_kick();
}

/* --- live operations --- */

/* Opens the next top before the fs is frozen: the switch itself then
 * costs one commit and a pointer change. */
static int srv_snapshot_prepare(const char *path, struct vz_error *err)
{
	if (S.n >= MAX_LEVELS)
		return vz_fail(err, VZ_EFAIL, "too many snapshots (%d)", S.n);
	if (S.have_next) {
		ploop_delta_close(&S.next);
		S.have_next = false;
	}
	struct ploop_delta *nd = &S.next;
	if (ploop_delta_open(nd, path, PLOOP_OPEN_RDWR | PLOOP_OPEN_DIRECT, err) < 0)
		return -1;
	if (nd->hdr.size_sectors != top()->hdr.size_sectors || nd->cluster != S.cluster) {
		ploop_delta_close(nd);
		return vz_fail(err, VZ_EFAIL, "%s: size or cluster differs from the disk", path);
	}
	if (ploop_delta_set_inuse(nd, true, err) < 0) {
		ploop_delta_close(nd);
		return -1;
	}
	S.have_next = true;
	return 0;
}

static int srv_snapshot_switch(struct vz_error *err)
{
	if (!S.have_next)
		return vz_fail(err, VZ_ESTATE, "no snapshot prepared");
	pthread_rwlock_wrlock(&S.io);
	int rc = commit();
	if (rc < 0) {
		io_excl_end();
		return vz_fail_errnum(err, VZ_ESYSTEM, -rc, "sync top delta");
	}
	struct ploop_delta *old = top();
	/* BAT of the old top in memory must match its disk BAT now. */
	memcpy(old->bat, S.disk_bat, (size_t)old->hdr.bat_entries * 4);
	S.d[S.n++] = S.next;
	S.have_next = false;
	memset(S.disk_bat, 0, S.nclusters * 4);
	if (S.track) {
		/* the tracker follows the new top file */
		memset(S.track, 0, S.track_bits / 8);
	}
	io_excl_end();
	return 0;
}

/* After the switch is answered: the old top is read-only from now on. */
static void srv_snapshot_finish(void)
{
	struct vz_error err;
	if (S.n >= 2 && S.d[S.n - 2].hdr.inuse)
		ploop_delta_set_inuse(&S.d[S.n - 2], false, &err);
}

/* Copies the clusters only level l holds into level l+1, then drops l. */
static int srv_merge(int l, struct vz_error *err)
{
	if (l < 0 || l >= S.n - 1)
		return vz_fail(err, VZ_EUSAGE, "merge: no delta at level %d below the top", l);
	struct ploop_delta *src = &S.d[l];
	int dst_l = l + 1;
	bool dst_top = dst_l == S.n - 1;
	char *buf = ploop_aligned_alloc(S.cluster);
	struct worker w = { .cbuf = buf };
	int rc = 0;
	for (uint64_t c = 0; c < S.nclusters && c < src->hdr.bat_entries; c++) {
		if (!src->bat[c])
			continue;
		pthread_mutex_lock(&S.lock);
		bool only_here = S.lvl[c] == l;
		pthread_mutex_unlock(&S.lock);
		if (!only_here)
			continue;
		if (dst_top) {
			/* an allocation in the live top, like a write */
			pthread_rwlock_rdlock(&S.io);
			pthread_mutex_lock(&S.lock);
			while (S.busy[c])
				pthread_cond_wait(&S.cond, &S.lock);
			bool still = S.lvl[c] == l;
			uint64_t fo = 0;
			if (still) {
				S.busy[c] = 1;
				fo = top()->alloc_end++;
			}
			pthread_mutex_unlock(&S.lock);
			int r = 0;
			if (still) {
				r = do_pread(src, buf, S.cluster, (uint64_t)src->bat[c] * S.cluster);
				if (!r)
					r = do_pwrite(top(), buf, S.cluster, fo * S.cluster);
				pthread_mutex_lock(&S.lock);
				if (!r) {
					S.lvl[c] = (uint8_t)dst_l;
					S.off[c] = (uint32_t)fo;
					add_pending(c);
					track_mark(fo);
				}
				S.busy[c] = 0;
				pthread_cond_broadcast(&S.cond);
				pthread_mutex_unlock(&S.lock);
			}
			pthread_rwlock_unlock(&S.io);
			if (r < 0) {
				rc = vz_fail_errnum(err, VZ_ESYSTEM, -r, "merge cluster %" PRIu64, c);
				goto out;
			}
		} else {
			struct ploop_delta *dst = &S.d[dst_l];
			uint64_t fo = dst->alloc_end++;
			int r = do_pread(src, buf, S.cluster, (uint64_t)src->bat[c] * S.cluster);
			if (!r)
				r = do_pwrite(dst, buf, S.cluster, fo * S.cluster);
			if (r < 0) {
				rc = vz_fail_errnum(err, VZ_ESYSTEM, -r, "merge cluster %" PRIu64, c);
				goto out;
			}
			dst->bat[c] = (uint32_t)fo;
			pthread_mutex_lock(&S.lock);
			/* a write may have brought it to the top meanwhile */
			if (S.lvl[c] == l) {
				S.lvl[c] = (uint8_t)dst_l;
				S.off[c] = (uint32_t)fo;
			}
			pthread_mutex_unlock(&S.lock);
		}
	}
	(void)w;
	if (dst_top) {
		int r = commit();
		if (r < 0) {
			rc = vz_fail_errnum(err, VZ_ESYSTEM, -r, "sync top delta");
			goto out;
		}
	} else {
		struct ploop_delta *dst = &S.d[dst_l];
		if (fdatasync(dst->bfd) < 0 ||
		    ploop_delta_write_bat(dst, NULL, 0, dst->hdr.bat_entries, err) < 0 ||
		    fdatasync(dst->bfd) < 0) {
			rc = vz_fail_errno(err, VZ_ESYSTEM, "write %s", dst->path);
			goto out;
		}
	}
	/* drop level l */
	pthread_rwlock_wrlock(&S.io);
	pthread_mutex_lock(&S.lock);
	ploop_delta_close(&S.d[l]);
	memmove(&S.d[l], &S.d[l + 1], (size_t)(S.n - l - 1) * sizeof(S.d[0]));
	S.n--;
	for (uint64_t c = 0; c < S.nclusters; c++)
		if (S.lvl[c] != NO_LEVEL && S.lvl[c] > l)
			S.lvl[c]--;
	pthread_mutex_unlock(&S.lock);
	io_excl_end();
out:
	free(buf);
	return rc;
}

static int srv_grow(uint64_t bytes, struct vz_error *err)
{
	pthread_rwlock_wrlock(&S.io);
	int r = commit();
	if (r < 0) {
		io_excl_end();
		return vz_fail_errnum(err, VZ_ESYSTEM, -r, "sync top delta");
	}
	struct ploop_delta *t = top();
	uint32_t old_hc = t->hdr_clusters;
	memcpy(t->bat, S.disk_bat, (size_t)t->hdr.bat_entries * 4);
	if (ploop_delta_grow(t, bytes, err) < 0) {
		io_excl_end();
		return -1;
	}
	uint64_t nc = t->hdr.bat_entries;
	S.lvl = xrealloc(S.lvl, nc);
	memset(S.lvl + S.nclusters, NO_LEVEL, nc - S.nclusters);
	S.off = xrealloc(S.off, nc * 4);
	memset(S.off + S.nclusters, 0, (nc - S.nclusters) * 4);
	S.busy = xrealloc(S.busy, nc);
	memset(S.busy + S.nclusters, 0, nc - S.nclusters);
	S.disk_bat = xrealloc(S.disk_bat, nc * 4);
	S.nclusters = nc;
	/* grow may have moved top clusters from under the new BAT */
	memcpy(S.disk_bat, t->bat, nc * 4);
	if (t->hdr_clusters != old_hc)
		for (uint64_t c = 0; c < nc; c++)
			if (S.lvl[c] == S.n - 1)
				S.off[c] = t->bat[c];
	S.size = t->hdr.size_sectors * PLOOP_SECTOR;
	io_excl_end();
	/* let the kernel fetch the new size */
	struct {
		struct fuse_out_header h;
		struct fuse_notify_inval_inode_out o;
	} __attribute__((packed)) msg = {
		.h = { .len = sizeof(msg), .error = FUSE_NOTIFY_INVAL_INODE, .unique = 0 },
		.o = { .ino = 1, .off = -1, .len = 0 },
	};
	if (write(S.fuse_fd, &msg, sizeof(msg)) < 0)
		vz_warn("notify new size: %s", strerror(errno));
	return 0;
}

/* Moves the top delta's last clusters into its holes, then truncates. */
static int srv_compact(uint64_t *freed, struct vz_error *err)
{
	if (S.ro)
		return vz_fail(err, VZ_ESTATE, "read-only view");
	pthread_rwlock_wrlock(&S.io);
	int r = commit();
	struct ploop_delta *t = top();
	uint64_t end = t->alloc_end;
	uint64_t hc = t->hdr_clusters;
	int64_t *rev = NULL;
	char *buf = NULL;
	int rc = 0;
	if (r < 0) {
		rc = vz_fail_errnum(err, VZ_ESYSTEM, -r, "sync top delta");
		goto out;
	}
	rev = xmalloc(end * sizeof(*rev));
	memset(rev, 0xff, end * sizeof(*rev));
	for (uint64_t c = 0; c < S.nclusters; c++)
		if (S.lvl[c] == S.n - 1 && S.off[c] < end)
			rev[S.off[c]] = (int64_t)c;
	buf = ploop_aligned_alloc(S.cluster);
	uint64_t lo = hc, hi = end;
	while (hi > lo && rev[hi - 1] < 0)
		hi--;
	while (lo < hi) {
		if (rev[lo] >= 0) {
			lo++;
			continue;
		}
		uint64_t from = hi - 1;
		uint64_t c = (uint64_t)rev[from];
		if ((r = do_pread(t, buf, S.cluster, from * S.cluster)) < 0 ||
		    (r = do_pwrite(t, buf, S.cluster, lo * S.cluster)) < 0 ||
		    (fdatasync(t->fd) < 0 && (r = -errno))) {
			rc = vz_fail_errnum(err, VZ_ESYSTEM, -r, "compact %s", t->path);
			goto out;
		}
		S.off[c] = (uint32_t)lo;
		S.disk_bat[c] = (uint32_t)lo;
		if (ploop_delta_write_bat(t, S.disk_bat, (uint32_t)c, 1, err) < 0)
			goto out_fail;
		track_mark_bat((uint32_t)c, 1);
		track_mark(lo);
		rev[lo] = (int64_t)c;
		rev[from] = -1;
		lo++;
		hi--;
		while (hi > lo && rev[hi - 1] < 0)
			hi--;
	}
	if (fdatasync(t->bfd) < 0) {
		rc = vz_fail_errno(err, VZ_ESYSTEM, "sync %s", t->path);
		goto out;
	}
	if (hi < hc)
		hi = hc;
	if (ftruncate(t->bfd, (off_t)(hi * S.cluster)) < 0) {
		rc = vz_fail_errno(err, VZ_ESYSTEM, "truncate %s", t->path);
		goto out;
	}
	*freed = (end - hi) * S.cluster;
	t->alloc_end = hi;
	goto out;
out_fail:
	rc = -1;
out:
	free(rev);
	free(buf);
	io_excl_end();
	return rc;
}

/* --- control socket --- */

char *ploop_ctl_address(const char *fuse_file, size_t *len)
{
	/* A socket file beside the FUSE file, so every network namespace
	 * reaches it; an abstract name only when the path is too long. */
	size_t n = strlen(fuse_file);
	if (n > 5 && !strcmp(fuse_file + n - 5, ".fuse") &&
	    n - 5 + 5 < sizeof(((struct sockaddr_un *)0)->sun_path)) {
		char *a = xasprintf("%.*s.sock", (int)(n - 5), fuse_file);
		*len = strlen(a) + 1;
		return a;
	}
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = fuse_file; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	char *a = xasprintf("%cvz-ploop/%016" PRIx64, 0, h);
	*len = 1 + strlen(a + 1);
	return a;
}

static void ctl_answer(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl_answer(int fd, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(fd, buf, (size_t)n);
}

static void ctl_error(int fd, const struct vz_error *err)
{
	ctl_answer(fd, "ERR %d %s", err->code, err->msg);
}

static bool ctl_handle(int fd, char *line)
{
	struct vz_error err;
	vz_error_clear(&err);
	char *arg = strchr(line, ' ');
	if (arg)
		*arg++ = '\0';
	if (!strcmp(line, "status")) {
		uint64_t fast, fsync, pool, parked;
		ploop_uring_stats(&fast, &fsync, &pool, &parked);
		pthread_rwlock_rdlock(&S.io);
		ctl_answer(fd, "OK pid=%d levels=%d size=%" PRIu64 " top=%s ro=%d transport=%s"
			   " ring_async=%" PRIu64 " ring_fsync=%" PRIu64 " ring_blocking=%" PRIu64
			   " ring_parked=%" PRIu64,
			   (int)getpid(), S.n, S.size, top()->path, S.ro,
			   __atomic_load_n(&S.transport, __ATOMIC_ACQUIRE), fast, fsync, pool,
			   parked);
		pthread_rwlock_unlock(&S.io);
	} else if (!strcmp(line, "sync")) {
		pthread_rwlock_rdlock(&S.io);
		int r = commit();
		pthread_rwlock_unlock(&S.io);
		if (r < 0)
			ctl_answer(fd, "ERR %d sync: %s", VZ_ESYSTEM, strerror(-r));
		else
			ctl_answer(fd, "OK");
	} else if (!strcmp(line, "stop")) {
		if (S.have_next) {
			ploop_delta_set_inuse(&S.next, false, &err);
			ploop_delta_close(&S.next);
			S.have_next = false;
		}
		int r = commit();
		if (r == 0 && !S.ro && ploop_delta_set_inuse(top(), false, &err) < 0)
			r = -EIO;
		if (r < 0) {
			ctl_answer(fd, "ERR %d stop: cannot sync the image", VZ_ESYSTEM);
			return false;
		}
		ctl_answer(fd, "OK");
		return true;
	} else if (!strcmp(line, "snapshot-prepare") && arg) {
		if (S.ro)
			ctl_answer(fd, "ERR %d read-only view", VZ_ESTATE);
		else if (srv_snapshot_prepare(arg, &err) < 0)
			ctl_error(fd, &err);
		else
			ctl_answer(fd, "OK");
	} else if (!strcmp(line, "snapshot-switch") ||
		   (!strcmp(line, "snapshot") && arg)) {
		if (S.ro)
			ctl_answer(fd, "ERR %d read-only view", VZ_ESTATE);
		else if ((arg && srv_snapshot_prepare(arg, &err) < 0) ||
			 srv_snapshot_switch(&err) < 0)
			ctl_error(fd, &err);
		else {
			ctl_answer(fd, "OK");
			srv_snapshot_finish();
		}
	} else if (!strcmp(line, "merge") && arg) {
		if (S.ro)
			ctl_answer(fd, "ERR %d read-only view", VZ_ESTATE);
		else if (srv_merge(atoi(arg), &err) < 0)
			ctl_error(fd, &err);
		else
			ctl_answer(fd, "OK");
	} else if (!strcmp(line, "grow") && arg) {
		uint64_t b;
		if (S.ro || vz_parse_u64(arg, &b) < 0)
			ctl_answer(fd, "ERR %d bad grow request", VZ_EUSAGE);
		else if (srv_grow(b, &err) < 0)
			ctl_error(fd, &err);
		else
			ctl_answer(fd, "OK size=%" PRIu64, S.size);
	} else if (!strcmp(line, "compact")) {
		uint64_t freed = 0;
		if (srv_compact(&freed, &err) < 0)
			ctl_error(fd, &err);
		else
			ctl_answer(fd, "OK %" PRIu64, freed);
	} else if (!strcmp(line, "track-start")) {
		pthread_mutex_lock(&S.lock);
		free(S.track);
		S.track_bits = (top()->alloc_end + 1024) & ~UINT64_C(7);
		S.track = xcalloc(S.track_bits / 8, 1);
		pthread_mutex_unlock(&S.lock);
		ctl_answer(fd, "OK");
	} else if (!strcmp(line, "track-stop")) {
		pthread_mutex_lock(&S.lock);
		free(S.track);
		S.track = NULL;
		S.track_bits = 0;
		pthread_mutex_unlock(&S.lock);
		ctl_answer(fd, "OK");
	} else if (!strcmp(line, "track-get")) {
		pthread_mutex_lock(&S.lock);
		if (!S.track) {
			pthread_mutex_unlock(&S.lock);
			ctl_answer(fd, "ERR %d tracker is off", VZ_ESTATE);
			return false;
		}
		size_t n = S.track_bits / 8;
		uint8_t *copy = xmalloc(n);
		memcpy(copy, S.track, n);
		memset(S.track, 0, n);
		pthread_mutex_unlock(&S.lock);
		ctl_answer(fd, "OK DATA %zu", n);
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(fd, copy + done, n - done);
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		free(copy);
	} else {
		ctl_answer(fd, "ERR %d unknown command '%s'", VZ_EUSAGE, line);
	}
	return false;
}

/* Operations other than status and stop run one at a time, each in its
 * own thread, so status answers during a long merge or compaction. */
static pthread_mutex_t ctl_op_lock = PTHREAD_MUTEX_INITIALIZER;

struct ctl_job {
	int fd;
	char line[4200];
};

static void *ctl_thread(void *arg)
{
	struct ctl_job *job = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&ctl_op_lock);
	ctl_handle(job->fd, job->line);
	pthread_mutex_unlock(&ctl_op_lock);
	close(job->fd);
	free(job);
	return NULL;
}

socklen_t ploop_ctl_sockaddr(const char *fuse_file, struct sockaddr_un *sa)
{
	size_t alen;
	_cleanup_free_ char *a = ploop_ctl_address(fuse_file, &alen);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, a, alen);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + alen);
}

static int ctl_listen(const char *fuse_file, struct vz_error *err)
{
	struct sockaddr_un sa;
	socklen_t salen = ploop_ctl_sockaddr(fuse_file, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "socket");
	/* a socket file left by a server that died (callers checked that no
	 * server answers on it, under the disk's lock) */
	if (sa.sun_path[0])
		unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0) {
		int e = errno;
		close(fd);
		return vz_fail_errnum(err, e == EADDRINUSE ? VZ_ESTATE : VZ_ESYSTEM, e,
				      "control socket for %s (already served?)", fuse_file);
	}
	if (listen(fd, 8) < 0) {
		close(fd);
		return vz_fail_errno(err, VZ_ESYSTEM, "listen");
	}
	return fd;
}

static void ready(int fd, const struct vz_error *err)
{
	if (fd < 0)
		return;
	if (err)
		ctl_answer(fd, "ERR %d %s", err->code, err->msg);
	else
		ctl_answer(fd, "OK");
	close(fd);
}

int ploop_server_run(const struct ploop_server_param *p)
{
	_cleanup_free_ char *opts = NULL;
	struct vz_error err;
	vz_error_clear(&err);
	memset(&S, 0, sizeof(S));
	S.ro = p->readonly;
	S.fuse_fd = S.ctl_fd = -1;
	S.fuse_file = p->fuse_file;
	/* libfuse 3.14 cannot ask for parallel direct writes: this shows
	 * what that costs (bench/ploop-io) */
	S.no_parallel_writes = getenv("PLOOP_FUSE_NO_PARALLEL_WRITES") != NULL;
	pthread_mutex_init(&S.lock, NULL);
	pthread_mutex_init(&S.commit_lock, NULL);
	pthread_cond_init(&S.cond, NULL);
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&S.io, &ra);
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; p->deltas[i]; i++) {
		bool is_top = !p->deltas[i + 1];
		int fl = PLOOP_OPEN_DIRECT | (is_top && !S.ro ? PLOOP_OPEN_RDWR : 0);
		if (S.n >= MAX_LEVELS) {
			vz_fail(&err, VZ_EFAIL, "too many deltas");
			goto fail;
		}
		if (ploop_delta_open(&S.d[S.n], p->deltas[i], fl, &err) < 0)
			goto fail;
		if (S.n && S.d[S.n].cluster != S.d[0].cluster) {
			vz_fail(&err, VZ_ECORRUPT, "%s: cluster size differs from the base",
				p->deltas[i]);
			goto fail;
		}
		S.n++;
	}
	if (!S.n) {
		vz_fail(&err, VZ_EFAIL, "no deltas");
		goto fail;
	}
	S.cluster = top()->cluster;
	S.size = top()->hdr.size_sectors * PLOOP_SECTOR;
	S.nclusters = top()->hdr.bat_entries;
	build_map();
	if (!S.ro && ploop_delta_set_inuse(top(), true, &err) < 0)
		goto fail;

	S.ctl_fd = ctl_listen(p->fuse_file, &err);
	if (S.ctl_fd < 0)
		goto fail;
	S.transport = "threads";
	const char *why = NULL;
	S.uring_offer = ploop_uring_prepare(&why);
	if (!S.uring_offer)
		vz_info("fuse: no io_uring (%s): serving through /dev/fuse threads", why);
	S.fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (S.fuse_fd < 0) {
		vz_fail_errno(&err, VZ_ENOSYS, "open /dev/fuse (is the fuse module loaded?)");
		goto fail;
	}
	opts = xasprintf(
		"fd=%d,rootmode=%o,user_id=0,group_id=0,allow_other,max_read=%u",
		S.fuse_fd, S_IFREG, MAX_IO);
	if (mount(p->desc ? p->desc : "ploop", p->fuse_file, "fuse.ploop",
		  MS_NOSUID | MS_NODEV | MS_NOATIME, opts) < 0) {
		vz_fail_errno(&err, VZ_ESYSTEM, "mount FUSE file %s", p->fuse_file);
		goto fail;
	}
	int nt = p->threads > 0 ? p->threads : 32;
	S.nthreads = nt;
	for (int i = 0; i < nt; i++) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 256 * 1024);
		if (pthread_create(&t, &at, worker_main, NULL)) {
			vz_fail(&err, VZ_ESYSTEM, "cannot start server threads");
			umount2(p->fuse_file, MNT_DETACH);
			goto fail;
		}
		pthread_detach(t);
	}
	/* The kernel sent INIT at mount: once it is answered the transport
	 * is chosen, and `status` right after the ready answer tells it. */
	{
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 2;
		pthread_mutex_lock(&S.lock);
		while (!S.init_done && pthread_cond_timedwait(&S.cond, &S.lock, &dl) == 0)
			;
		pthread_mutex_unlock(&S.lock);
	}
	ready(p->ready_fd, NULL);

	/* control loop; ends on "stop" or when the FUSE mount is gone */
	bool stopped = false;
	for (;;) {
		struct pollfd pf = { .fd = S.ctl_fd, .events = POLLIN };
		int pr = poll(&pf, 1, 500);
		if (__atomic_load_n(&S.stopping, __ATOMIC_ACQUIRE))
			break;
		if (pr <= 0)
			continue;
		int c = accept4(S.ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		char line[4200];
		size_t n = 0;
		while (n < sizeof(line) - 1) {
			ssize_t r = read(c, line + n, 1);
			if (r <= 0 || line[n] == '\n')
				break;
			n++;
		}
		line[n] = '\0';
		if (!strcmp(line, "status")) {
			/* answered even while a long operation runs */
			ctl_handle(c, line);
			close(c);
			continue;
		}
		if (strcmp(line, "stop")) {
			struct ctl_job *job = xmalloc(sizeof(*job));
			job->fd = c;
			snprintf(job->line, sizeof(job->line), "%s", line);
			pthread_t t;
			if (pthread_create(&t, NULL, ctl_thread, job)) {
				ctl_answer(c, "ERR %d cannot start a thread", VZ_ESYSTEM);
				close(c);
				free(job);
			} else {
				pthread_detach(t);
			}
			continue;
		}
		pthread_mutex_lock(&ctl_op_lock);
		bool stop = ctl_handle(c, line);
		if (stop) {
			stopped = true;
			umount2(p->fuse_file, MNT_DETACH);
			close(c);
			/* ctl_op_lock stays held: no operation after stop */
			break;
		}
		pthread_mutex_unlock(&ctl_op_lock);
		close(c);
	}
	if (!stopped)
		pthread_mutex_lock(&ctl_op_lock);  /* let a running operation end */
	/* and any request still in a worker: the deltas close below */
	pthread_rwlock_wrlock(&S.io);
	if (!S.ro && !stopped) {
		/* the mount went away under us: leave the image clean */
		if (commit() == 0)
			ploop_delta_set_inuse(top(), false, &err);
	}
	for (int i = 0; i < S.n; i++)
		ploop_delta_close(&S.d[i]);
	{
		/* gone: from now on the socket does not answer */
		size_t alen;
		_cleanup_free_ char *a = ploop_ctl_address(p->fuse_file, &alen);
		if (a[0])
			unlink(a);
		close(S.ctl_fd);
	}
	return 0;
fail:
	ready(p->ready_fd, &err);
	for (int i = 0; i < S.n; i++) {
		if (i == S.n - 1 && !S.ro && S.d[i].hdr.inuse) {
			struct vz_error e2;
			ploop_delta_set_inuse(&S.d[i], false, &e2);
		}
		ploop_delta_close(&S.d[i]);
	}
	return 1;
}
