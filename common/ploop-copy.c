/* ploop copy: OpenVZ's image stream.
 *
 * Records: {u32 marker 0x4cc0ac3d, u32 size, u64 pos} then size bytes of
 * the image file at pos (little-endian).  size 0 with pos 0 ends the
 * stream; size 0 with pos ~0 asks the receiver to make what it has
 * durable.  A live disk goes in rounds: the server's write tracker marks
 * the top delta's clusters written since the last round; a full pass, then
 * dirty passes until nothing (or little) changes, then the stop command,
 * the fs frozen, a final pass, the header with its dirty flag cleared.
 * A disk with snapshots is sent as one delta: its flat view (see below).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "ploop.h"
#include "ploop-delta.h"
#include "ploop-priv.h"
#include "ploop-server.h"
#include "util.h"

#define PCOPY_MARKER 0x4cc0ac3du
#define PCOPY_SYNC UINT64_MAX
#define MAX_DIRTY_PASSES 10

struct rec {
	uint32_t marker;
	uint32_t size;
	uint64_t pos;
} __attribute__((packed));

/* What a sender sends: a single delta goes as its file, byte for byte; a
 * chain (a disk with snapshots) goes as its flat view, a new single-delta
 * image made on the fly: header, BAT, and the clusters the chain holds,
 * packed in virtual order, so the receiver gets one delta with the content
 * of the top.  Live, the data of the flat view is read through the
 * server's FUSE file, and the clusters changed since a pass are found from
 * the write tracker (top file clusters written) and the top's BAT as the
 * server committed it ("sync" first). */
struct flat {
	struct ploop_delta *lv;   /* the chain, base first */
	size_t n;
	uint32_t nclusters;       /* virtual clusters */
	uint32_t *map;            /* virtual cluster -> cluster of the image sent */
	uint32_t next;            /* next free cluster of the image sent */
	struct ploop_hdr h;       /* header of the image sent (host order) */
	int view;                 /* the server's FUSE file (O_DIRECT), or -1 */
	const char *top;          /* top delta's path (re-read live) */
};

struct sender {
	int out;
	uint32_t cluster;
	char *buf;                /* one cluster, aligned for O_DIRECT */
	struct ploop_copy_stats *st;
	int img;                  /* single delta: its file */
	struct flat *flat;        /* chain: its flat view */
};

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 1 : -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_rec(struct sender *s, const void *data, uint32_t len, uint64_t pos,
		    struct vz_error *err)
{
	struct rec r = { htole32(PCOPY_MARKER), htole32(len), htole64(pos) };
	if (write_all(s->out, &r, sizeof(r)) < 0 || (len && write_all(s->out, data, len) < 0))
		return vz_fail_errno(err, VZ_ESYSTEM, "write copy stream");
	s->st->bytes += sizeof(r) + len;
	return 0;
}

/* --- a single delta: the file itself --- */

/* Sends file cluster c (or what of it exists). */
static int send_cluster(struct sender *s, uint64_t c, struct vz_error *err)
{
	ssize_t n = pread(s->img, s->buf, s->cluster, (off_t)(c * s->cluster));
	if (n < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "read image");
	if (n == 0)
		return 0;
	return send_rec(s, s->buf, (uint32_t)n, c * s->cluster, err);
}

static int file_full(struct sender *s, struct vz_error *err)
{
	struct stat st;
	if (fstat(s->img, &st) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "stat image");
	uint64_t n = ((uint64_t)st.st_size + s->cluster - 1) / s->cluster;
	for (uint64_t c = 0; c < n; c++)
		if (send_cluster(s, c, err) < 0)
			return -1;
	return 0;
}

static bool bit(const uint8_t *bm, size_t len, uint64_t i)
{
	return i / 8 < len && (bm[i / 8] & (1u << (i % 8)));
}

static int file_dirty(struct sender *s, const uint8_t *bm, size_t len, uint64_t *sent,
		      struct vz_error *err)
{
	for (size_t i = 0; i < len * 8; i++) {
		if (!bit(bm, len, i))
			continue;
		if (send_cluster(s, i, err) < 0)
			return -1;
		*sent += s->cluster;
	}
	return 0;
}

static int file_header(struct sender *s, struct vz_error *err)
{
	char sec[PLOOP_SECTOR];
	if (pread(s->img, sec, sizeof(sec), 0) != (ssize_t)sizeof(sec))
		return vz_fail_errno(err, VZ_ESYSTEM, "read image header");
	struct ploop_hdr *h = (struct ploop_hdr *)sec;
	h->inuse = 0;
	return send_rec(s, sec, sizeof(sec), 0, err);
}

/* --- a chain: its flat view --- */

static void flat_close(struct flat *f)
{
	for (size_t i = 0; i < f->n; i++)
		ploop_delta_close(&f->lv[i]);
	free(f->lv);
	free(f->map);
	if (f->view >= 0)
		close(f->view);
	memset(f, 0, sizeof(*f));
	f->view = -1;
}

static int flat_open(struct flat *f, char **paths, uint64_t size, uint32_t cl,
		     const char *ff, bool live, struct vz_error *err)
{
	memset(f, 0, sizeof(*f));
	f->view = -1;
	f->n = vz_strv_len(paths);
	f->lv = xcalloc(f->n, sizeof(*f->lv));
	f->top = paths[f->n - 1];
	for (size_t i = 0; i < f->n; i++)
		if (ploop_delta_open(&f->lv[i], paths[i], PLOOP_OPEN_NOCHECK, err) < 0) {
			f->n = i;
			flat_close(f);
			return -1;
		}
	if (ploop_hdr_init(&f->h, size, cl, err) < 0) {
		flat_close(f);
		return -1;
	}
	f->nclusters = f->h.bat_entries;
	f->map = xcalloc(f->nclusters ? f->nclusters : 1, sizeof(*f->map));
	f->next = ploop_hdr_first_cluster(&f->h);
	if (live && (f->view = open(ff, O_RDONLY | O_DIRECT | O_CLOEXEC)) < 0) {
		int e = errno;
		flat_close(f);
		return vz_fail_errnum(err, VZ_ESYSTEM, e, "open %s", ff);
	}
	return 0;
}

/* Level holding virtual cluster c (the topmost), or -1. */
static int flat_level(const struct flat *f, uint32_t c)
{
	for (size_t l = f->n; l-- > 0;)
		if (c < f->lv[l].hdr.bat_entries && f->lv[l].bat[c])
			return (int)l;
	return -1;
}

/* Sends virtual cluster c at its place in the image sent. */
static int flat_send(struct sender *s, uint32_t c, struct vz_error *err)
{
	struct flat *f = s->flat;
	if (!f->map[c])
		f->map[c] = f->next++;
	memset(s->buf, 0, s->cluster);
	if (f->view >= 0) {
		ssize_t n = pread(f->view, s->buf, s->cluster, (off_t)c * s->cluster);
		if (n < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "read the disk's view");
	} else {
		int l = flat_level(f, c);
		if (l >= 0 && ploop_delta_pread(&f->lv[l], s->buf, s->cluster,
						(uint64_t)f->lv[l].bat[c] * s->cluster, err) < 0)
			return -1;
	}
	return send_rec(s, s->buf, s->cluster, (uint64_t)f->map[c] * s->cluster, err);
}

static int flat_full(struct sender *s, struct vz_error *err)
{
	struct flat *f = s->flat;
	for (uint32_t c = 0; c < f->nclusters; c++)
		if (flat_level(f, c) >= 0 && flat_send(s, c, err) < 0)
			return -1;
	return 0;
}

/* Live: the top's BAT as the server last committed it replaces ours; a
 * cluster changed when its top entry changed or its top file cluster was
 * written (bm). */
static int flat_dirty(struct sender *s, const uint8_t *bm, size_t len, uint64_t *sent,
		      struct vz_error *err)
{
	struct flat *f = s->flat;
	struct ploop_delta nt;
	struct ploop_delta *t = &f->lv[f->n - 1];
	if (ploop_delta_open(&nt, f->top, PLOOP_OPEN_NOCHECK, err) < 0)
		return -1;
	int rc = 0;
	for (uint32_t c = 0; c < f->nclusters && rc == 0; c++) {
		uint32_t was = c < t->hdr.bat_entries ? t->bat[c] : 0;
		uint32_t now = c < nt.hdr.bat_entries ? nt.bat[c] : 0;
		if (now == was && !(now && bit(bm, len, now)))
			continue;
		if (c < t->hdr.bat_entries)
			t->bat[c] = now;
		/* a cluster discarded from the top reads from below (or as
		 * zeroes) now: sent again like any change */
		rc = flat_send(s, c, err);
		*sent += s->cluster;
	}
	ploop_delta_close(&nt);
	return rc;
}

/* The header and BAT of the image sent (never dirty). */
static int flat_header(struct sender *s, struct vz_error *err)
{
	struct flat *f = s->flat;
	size_t bytes = (size_t)f->h.first_block * PLOOP_SECTOR;
	_cleanup_free_ char *area = xcalloc(1, bytes);
	struct ploop_hdr disk;
	ploop_hdr_to_disk(&f->h, &disk);
	memcpy(area, &disk, sizeof(disk));
	uint32_t *bat = (uint32_t *)(area + PLOOP_HDR_SIZE);
	for (uint32_t c = 0; c < f->nclusters; c++)
		bat[c] = htole32(f->map[c]);
	for (size_t off = 0; off < bytes; off += s->cluster) {
		size_t n = bytes - off < s->cluster ? bytes - off : s->cluster;
		if (send_rec(s, area + off, (uint32_t)n, off, err) < 0)
			return -1;
	}
	return 0;
}

/* --- passes --- */

static int pass_full(struct sender *s, struct vz_error *err)
{
	s->st->passes++;
	return s->flat ? flat_full(s, err) : file_full(s, err);
}

/* One dirty pass; *sent gets the bytes of data sent. */
static int pass_dirty(struct sender *s, const char *ff, uint64_t *sent,
		      struct vz_error *err)
{
	void *bm = NULL;
	size_t len = 0;
	*sent = 0;
	if (ploop_ctl_call(ff, "track-get", NULL, &bm, &len, err) < 0)
		return -1;
	/* the flat view maps what was written through the top's BAT: the
	 * server commits it first */
	int rc = 0;
	if (s->flat)
		rc = ploop_ctl_call(ff, "sync", NULL, NULL, NULL, err);
	if (rc == 0)
		rc = s->flat ? flat_dirty(s, bm, len, sent, err) :
			       file_dirty(s, bm, len, sent, err);
	free(bm);
	s->st->passes++;
	return rc;
}

static int send_header(struct sender *s, struct vz_error *err)
{
	return s->flat ? flat_header(s, err) : file_header(s, err);
}

/* The live rounds: full pass, dirty passes, stop command, frozen final
 * pass with the header, thaw. */
static int send_live(struct sender *s, const char *ff, uint64_t total,
		     const struct ploop_copy_param *p, struct vz_error *err)
{
	uint64_t resent = 0, sent = 0;
	if (pass_full(s, err) < 0)
		return -1;
	for (int i = 0; i < MAX_DIRTY_PASSES; i++) {
		if (pass_dirty(s, ff, &sent, err) < 0)
			return -1;
		resent += sent;
		vz_info("copy pass %u: %" PRIu64 " bytes changed", s->st->passes, sent);
		if (sent == 0 || resent > total)
			break;
	}
	if (send_rec(s, NULL, 0, PCOPY_SYNC, err) < 0)
		return -1;
	if (p->stop_cmd) {
		char *argv[] = { "sh", "-c", (char *)p->stop_cmd, NULL };
		int r = vz_run(argv, NULL, err);
		if (r != 0) {
			if (r > 0)
				vz_fail(err, VZ_EFAIL, "stop command failed (exit %d): %s", r,
					p->stop_cmd);
			return -1;
		}
	}
	_cleanup_free_ char *mp = ploop_fs_of(ff);
	if (mp) {
		/* What the stopped writers left in the page cache reaches the
		 * disk now and goes in one more pass, before the freeze rather
		 * than inside it. */
		_cleanup_close_ int mfd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mfd >= 0)
			syncfs(mfd);
		if (pass_dirty(s, ff, &sent, err) < 0)
			return -1;
		vz_info("copy pass %u (after the stop command): %" PRIu64 " bytes changed",
			s->st->passes, sent);
	}
	struct ploop_freeze fz;
	if (ploop_freeze(mp, &fz, err) < 0)
		return -1;
	uint64_t t2 = vz_now_ns();
	int r = ploop_ctl_call(ff, "sync", NULL, NULL, NULL, err);
	if (r == 0)
		r = pass_dirty(s, ff, &sent, err);
	if (r == 0)
		r = send_header(s, err);
	if (r == 0)
		r = send_rec(s, NULL, 0, 0, err);
	uint64_t t3 = vz_now_ns();
	ploop_thaw(&fz);
	/* without a mounted fs the stop command alone holds the writers */
	s->st->frozen_ms = mp ? (uint64_t)ploop_frozen_ms(&fz) : (t3 - t2) / 1000000;
	vz_info("copy final pass: sync and checkpoint %.1f ms, fs frozen for %.1f ms: freeze %.1f ms, frozen pass %.1f ms (%" PRIu64 " bytes)",
		(double)fz.presync_ns / 1e6, ploop_frozen_ms(&fz),
		(double)(fz.t_frozen - fz.t_freeze) / 1e6, (double)(t3 - t2) / 1e6, sent);
	return r;
}

static int send_locked(struct ploop_disk *k, const struct ploop_copy_param *p,
		       struct ploop_copy_stats *stats, struct vz_error *err)
{
	_cleanup_strv_ char **chain = NULL;
	_cleanup_strv_ char **paths = NULL;
	_cleanup_close_ int img = -1;
	struct flat flat = { .view = -1 };
	if (ploop_desc_chain(&k->d, NULL, &chain, err) < 0)
		return -1;
	for (size_t i = 0; chain[i]; i++) {
		_cleanup_free_ char *ip = ploop_desc_image_path(&k->d, ploop_desc_image(&k->d, chain[i]));
		paths = vz_strv_push(paths, ip);
	}
	bool live = ploop_ctl_alive(k->ff);
	struct sender s = { .out = p->fd, .cluster = k->cl * PLOOP_SECTOR, .st = stats };
	uint64_t total;
	if (chain[1]) {
		vz_info("copy: %zu deltas go as one (the flat view of the top)", vz_strv_len(chain));
		if (flat_open(&flat, paths, k->size, k->cl, k->ff, live, err) < 0)
			return -1;
		s.flat = &flat;
		total = k->size;
	} else {
		img = open(k->top, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (img < 0 || fstat(img, &st) < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "open %s", k->top);
		s.img = img;
		total = (uint64_t)st.st_size;
	}
	s.buf = ploop_aligned_alloc(s.cluster);
	int rc;
	if (!live) {
		rc = pass_full(&s, err);
		if (rc == 0)
			rc = send_header(&s, err);
		if (rc == 0)
			rc = send_rec(&s, NULL, 0, 0, err);
	} else {
		rc = ploop_ctl_call(k->ff, "track-start", NULL, NULL, NULL, err);
		if (rc == 0) {
			rc = send_live(&s, k->ff, total, p, err);
			struct vz_error e2;
			ploop_ctl_call(k->ff, "track-stop", NULL, NULL, NULL, &e2);
		}
	}
	free(s.buf);
	if (s.flat)
		flat_close(&flat);
	return rc;
}

int ploop_copy_send(const char *arg, const struct ploop_copy_param *p,
		    struct ploop_copy_stats *stats, struct vz_error *err)
{
	_cleanup_disk_ struct ploop_disk k;
	struct ploop_copy_stats dummy;
	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK | PLOOP_DISK_GEOMETRY, &k, err) < 0 ||
	    send_locked(&k, p, stats, err) < 0)
		return vz_prefix(err, "copy");
	return 0;
}

int ploop_copy_recv(const char *image, int fd, struct vz_error *err)
{
	_cleanup_free_ char *copy = NULL;
	_cleanup_free_ char *descp = NULL;
	_cleanup_close_ int out = open(image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return vz_fail_errno(err, errno == EEXIST ? VZ_EEXIST : VZ_ESYSTEM,
				     "create %s", image);
	size_t cap = 1 << 20;
	char *buf = xmalloc(cap);
	int rc = -1;
	for (;;) {
		struct rec r;
		int x = read_all(fd, &r, sizeof(r));
		if (x) {
			vz_fail(err, VZ_ECORRUPT, "copy stream ended before its end record");
			goto fail;
		}
		if (le32toh(r.marker) != PCOPY_MARKER) {
			vz_fail(err, VZ_ECORRUPT, "not a ploop copy stream (bad record marker)");
			goto fail;
		}
		uint32_t len = le32toh(r.size);
		uint64_t pos = le64toh(r.pos);
		if (len == 0) {
			if (pos == PCOPY_SYNC) {
				if (fdatasync(out) < 0) {
					vz_fail_errno(err, VZ_ESYSTEM, "sync %s", image);
					goto fail;
				}
				continue;
			}
			break;
		}
		if (len > (64u << 20)) {
			vz_fail(err, VZ_ECORRUPT, "copy stream record of %u bytes", len);
			goto fail;
		}
		if (len > cap)
			buf = xrealloc(buf, cap = len);
		if (read_all(fd, buf, len)) {
			vz_fail(err, VZ_ECORRUPT, "copy stream ended inside a record");
			goto fail;
		}
		if (pwrite(out, buf, len, (off_t)pos) != (ssize_t)len) {
			vz_fail_errno(err, VZ_ESYSTEM, "write %s", image);
			goto fail;
		}
	}
	if (fsync(out) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "sync %s", image);
		goto fail;
	}
	free(buf);
	buf = NULL;
	struct ploop_check_stats cs;
	if (ploop_check(image, 0, NULL, &cs, err) < 0)
		goto fail;
	copy = xstrdup(image);
	descp = xasprintf("%s/%s", dirname(copy), PLOOP_DESC_NAME);
	if (!vz_path_exists(descp) && ploop_restore_desc(image, err) < 0)
		goto fail;
	return 0;
fail:
	free(buf);
	unlink(image);
	return vz_prefix(err, "receive %s", image);
	(void)rc;
}
