/* ploop copy: OpenVZ's image stream.
 *
 * Records: {u32 marker 0x4cc0ac3d, u32 size, u64 pos} then size bytes of
 * the image file at pos (little-endian).  size 0 with pos 0 ends the
 * stream; size 0 with pos ~0 asks the receiver to make what it has
 * durable.  A live disk goes in rounds: the server's write tracker marks
 * the top delta's clusters written since the last round; a full pass, then
 * dirty passes until nothing (or little) changes, then the stop command,
 * the fs frozen, a final pass, the header with its dirty flag cleared.
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

struct sender {
	int out;
	int img;
	uint32_t cluster;
	char *buf;
	struct ploop_copy_stats *st;
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

static int send_all(struct sender *s, struct vz_error *err)
{
	struct stat st;
	if (fstat(s->img, &st) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "stat image");
	uint64_t n = ((uint64_t)st.st_size + s->cluster - 1) / s->cluster;
	for (uint64_t c = 0; c < n; c++)
		if (send_cluster(s, c, err) < 0)
			return -1;
	s->st->passes++;
	return 0;
}

/* One dirty pass; *sent gets the bytes of data sent. */
static int send_dirty(struct sender *s, const char *ff, uint64_t *sent,
		      struct vz_error *err)
{
	void *bm = NULL;
	size_t len = 0;
	*sent = 0;
	if (ploop_ctl_call(ff, "track-get", NULL, &bm, &len, err) < 0)
		return -1;
	const uint8_t *b = bm;
	for (size_t i = 0; i < len * 8; i++) {
		if (!(b[i / 8] & (1u << (i % 8))))
			continue;
		if (send_cluster(s, i, err) < 0) {
			free(bm);
			return -1;
		}
		*sent += s->cluster;
	}
	free(bm);
	s->st->passes++;
	return 0;
}

static int send_clean_header(struct sender *s, struct vz_error *err)
{
	char sec[PLOOP_SECTOR];
	if (pread(s->img, sec, sizeof(sec), 0) != (ssize_t)sizeof(sec))
		return vz_fail_errno(err, VZ_ESYSTEM, "read image header");
	struct ploop_hdr *h = (struct ploop_hdr *)sec;
	h->inuse = 0;
	return send_rec(s, sec, sizeof(sec), 0, err);
}

int ploop_copy_send(const char *arg, const struct ploop_copy_param *p,
		    struct ploop_copy_stats *stats, struct vz_error *err)
{
	_cleanup_strv_ char **chain = NULL;
	_cleanup_free_ char *tp = NULL;
	_cleanup_free_ char *ff = NULL;
	struct ploop_desc d;
	struct ploop_copy_stats dummy;
	_cleanup_close_ int lock = -1;
	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc = -1;
	if (ploop_desc_chain(&d, NULL, &chain, err) < 0)
		goto out;
	if (vz_strv_len(chain) != 1) {
		vz_fail(err, VZ_ESTATE, "%s has %zu deltas; copy sends a disk without snapshots (merge them first)",
			d.path, vz_strv_len(chain));
		goto out;
	}
	struct ploop_image *im = ploop_desc_image(&d, d.top_guid);
	tp = ploop_desc_image_path(&d, im);
	ff = ploop_fuse_file(&d, NULL);
	struct ploop_delta dl;
	if (ploop_delta_open(&dl, tp, PLOOP_OPEN_NOCHECK, err) < 0)
		goto out;
	uint32_t cluster = dl.cluster;
	ploop_delta_close(&dl);
	_cleanup_close_ int img = open(tp, O_RDONLY | O_CLOEXEC);
	if (img < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "open %s", tp);
		goto out;
	}
	struct sender s = { .out = p->fd, .img = img, .cluster = cluster,
			    .buf = xmalloc(cluster), .st = stats };
	bool live = ploop_ctl_alive(ff);
	if (!live) {
		if (send_all(&s, err) < 0 || send_clean_header(&s, err) < 0 ||
		    send_rec(&s, NULL, 0, 0, err) < 0)
			goto out_s;
		rc = 0;
		goto out_s;
	}
	if (ploop_ctl_call(ff, "track-start", NULL, NULL, NULL, err) < 0)
		goto out_s;
	struct stat st;
	fstat(img, &st);
	uint64_t resent = 0, sent = 0;
	if (send_all(&s, err) < 0)
		goto out_track;
	for (int i = 0; i < MAX_DIRTY_PASSES; i++) {
		if (send_dirty(&s, ff, &sent, err) < 0)
			goto out_track;
		resent += sent;
		vz_info("copy pass %u: %" PRIu64 " bytes changed", stats->passes, sent);
		if (sent == 0 || resent > (uint64_t)st.st_size)
			break;
	}
	if (send_rec(&s, NULL, 0, PCOPY_SYNC, err) < 0)
		goto out_track;
	if (p->stop_cmd) {
		char *argv[] = { "sh", "-c", (char *)p->stop_cmd, NULL };
		int r = vz_run(argv, NULL, err);
		if (r != 0) {
			if (r > 0)
				vz_fail(err, VZ_EFAIL, "stop command failed (exit %d): %s", r,
					p->stop_cmd);
			goto out_track;
		}
	}
	{
		_cleanup_free_ char *mp = ploop_fs_of(ff);
		struct ploop_freeze fz;
		if (ploop_freeze(mp, &fz, err) < 0)
			goto out_track;
		uint64_t t2 = vz_now_ns();
		int r = ploop_ctl_call(ff, "sync", NULL, NULL, NULL, err);
		if (r == 0)
			r = send_dirty(&s, ff, &sent, err);
		if (r == 0)
			r = send_clean_header(&s, err);
		if (r == 0)
			r = send_rec(&s, NULL, 0, 0, err);
		uint64_t t3 = vz_now_ns();
		ploop_thaw(&fz);
		/* without a mounted fs the stop command alone holds the writers */
		stats->frozen_ms = mp ? (uint64_t)ploop_frozen_ms(&fz) : (t3 - t2) / 1000000;
		vz_info("copy final pass: sync and checkpoint %.1f ms, fs frozen for %.1f ms: freeze %.1f ms, frozen pass %.1f ms (%" PRIu64 " bytes)",
			(double)fz.presync_ns / 1e6, ploop_frozen_ms(&fz),
			(double)(fz.t_frozen - fz.t_freeze) / 1e6,
			(double)(t3 - t2) / 1e6, sent);
		if (r < 0)
			goto out_track;
	}
	rc = 0;
out_track:
	{
		struct vz_error e2;
		ploop_ctl_call(ff, "track-stop", NULL, NULL, NULL, &e2);
	}
out_s:
	free(s.buf);
out:
	ploop_desc_free(&d);
	return rc < 0 ? vz_prefix(err, "copy") : 0;
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
