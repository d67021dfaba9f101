/* ploop check: find (and on request repair) the defects an image can carry
 * after a crash, a bad copy or a bug: bad header, dirty flag left set,
 * partial cluster at the end, BAT entries outside the file, a cluster
 * referenced twice, unreferenced clusters at the end.
 *
 * Repairs keep the format's ordering rule: a data cluster is durable before
 * a BAT entry points to it; the dirty flag is cleared last. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "ploop.h"
#include "ploop-delta.h"
#include "util.h"

struct check {
	const char *name;
	FILE *out;
	bool repair;
	unsigned defects;
	unsigned repaired;
};

static void defect(struct check *c, bool fixed, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void defect(struct check *c, bool fixed, const char *fmt, ...)
{
	va_list ap;
	c->defects++;
	if (fixed)
		c->repaired++;
	if (!c->out)
		return;
	fprintf(c->out, "%s: ", c->name);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fprintf(c->out, "%s\n", fixed ? ": repaired" : "");
}

int ploop_check(const char *path, int flags, FILE *out,
		struct ploop_check_stats *stats, struct vz_error *err)
{
	struct check c = { .out = out, .repair = flags & PLOOP_CHECK_REPAIR };
	struct ploop_hdr disk, h;
	struct stat st;
	int rc = -1;
	uint32_t *bat = NULL;
	int32_t *owner = NULL;
	char *buf = NULL;
	bool bat_changed = false;

	const char *slash = strrchr(path, '/');
	c.name = slash ? slash + 1 : path;
	_cleanup_close_ int fd = open(path, (c.repair ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, errno == ENOENT ? VZ_ENOENT : VZ_ESYSTEM,
				     "open %s", path);
	if (fstat(fd, &st) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "stat %s", path);
	/* A served image has allocations in flight that look like leaks and
	 * a dirty flag that is meant to be set: never repair it.  (Servers
	 * hold a shared flock on every delta they serve.) */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return vz_fail_errno(err, VZ_ESYSTEM, "lock %s", path);
		if (c.repair)
			return vz_fail(err, VZ_ESTATE,
				       "%s is in use by a ploop server (unmount it first)", path);
		vz_warn("%s is in use by a ploop server: allocations in flight show as defects",
			path);
	} else if (!c.repair) {
		flock(fd, LOCK_UN);
	}
	if (!S_ISREG(st.st_mode))
		return vz_fail(err, VZ_EUSAGE, "%s: not a regular file", path);
	uint64_t size = (uint64_t)st.st_size;
	if (size < PLOOP_HDR_SIZE)
		return vz_fail(err, VZ_ECORRUPT,
			       "%s: not a ploop image (%" PRIu64 " bytes, too short for a header)",
			       path, size);
	if (pread(fd, &disk, sizeof(disk), 0) != sizeof(disk))
		return vz_fail_errno(err, VZ_ESYSTEM, "read %s", path);
	ploop_hdr_from_disk(&disk, &h);
	if (ploop_hdr_validate(&h, err) < 0) {
		/* The header is what locates everything else: no guessing. */
		if (memcmp(h.sig, PLOOP_SIG_V2, 16) == 0 && out)
			fprintf(out, "%s: %s%s\n", c.name, err->msg,
				c.repair ? ": cannot be repaired" : "");
		return vz_prefix(err, "%s", path);
	}
	uint32_t cl = h.sectors * PLOOP_SECTOR;
	uint32_t hc = ploop_hdr_first_cluster(&h);
	uint32_t n = h.bat_entries;

	if (h.inuse)
		defect(&c, c.repair, "dirty flag set (image was not closed cleanly)");
	if (size % cl) {
		/* the rest is judged as if trimmed, with or without -r */
		defect(&c, c.repair, "partial cluster at end of file (%" PRIu64 " bytes)",
		       size % cl);
		if (c.repair && ftruncate(fd, (off_t)(size - size % cl)) < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "truncate %s", path);
			goto out;
		}
		size -= size % cl;
	}
	uint64_t file_clusters = (size + cl - 1) / cl;
	if (size < (uint64_t)hc * cl) {
		vz_fail(err, VZ_ECORRUPT, "%s: file ends inside its BAT (%" PRIu64 " bytes): cannot be repaired",
			path, size);
		if (out)
			fprintf(out, "%s: file ends inside its BAT (%" PRIu64 " bytes)%s\n", c.name,
				size, c.repair ? ": cannot be repaired" : "");
		goto out;
	}
	bat = xmalloc((size_t)n * 4);
	if (pread(fd, bat, (size_t)n * 4, PLOOP_HDR_SIZE) != (ssize_t)n * 4) {
		vz_fail_errno(err, VZ_ESYSTEM, "read BAT of %s", path);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		bat[i] = le32toh(bat[i]);
	owner = xmalloc((size_t)file_clusters * sizeof(*owner));
	memset(owner, 0xff, (size_t)file_clusters * sizeof(*owner));
	uint64_t alloc_end = file_clusters;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t e = bat[i];
		if (!e)
			continue;
		if (e < hc || e >= file_clusters) {
			defect(&c, c.repair, "BAT entry %u points to cluster %u %s",
			       i, e, e < hc ? "inside the header" :
			       "beyond end of file");
			if (c.repair) {
				bat[i] = 0;
				bat_changed = true;
			}
			continue;
		}
		if (owner[e] < 0) {
			owner[e] = (int32_t)i;
			continue;
		}
		defect(&c, c.repair, "cluster %u referenced by BAT entries %d and %u",
		       e, owner[e], i);
		if (!c.repair)
			continue;
		/* Give the second user its own copy: whichever was right
		 * keeps its data, and the two stop overwriting each other. */
		if (!buf)
			buf = ploop_aligned_alloc(cl);
		if (pread(fd, buf, cl, (off_t)e * cl) != (ssize_t)cl ||
		    pwrite(fd, buf, cl, (off_t)alloc_end * cl) != (ssize_t)cl) {
			vz_fail_errno(err, VZ_ESYSTEM, "copy cluster %u of %s", e, path);
			goto out;
		}
		bat[i] = (uint32_t)alloc_end++;
		bat_changed = true;
	}
	if (c.repair && bat_changed) {
		if (fdatasync(fd) < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "sync %s", path);
			goto out;
		}
		for (uint32_t i = 0; i < n; i++)
			bat[i] = htole32(bat[i]);
		if (pwrite(fd, bat, (size_t)n * 4, PLOOP_HDR_SIZE) != (ssize_t)n * 4 ||
		    fdatasync(fd) < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "write BAT of %s", path);
			goto out;
		}
		for (uint32_t i = 0; i < n; i++)
			bat[i] = le32toh(bat[i]);
	}
	/* Unreferenced clusters at the end: allocations that never got
	 * their BAT entry (a crash) or a shrink that was cut short. */
	uint64_t high = hc;
	for (uint32_t i = 0; i < n; i++)
		if (bat[i] && (uint64_t)bat[i] + 1 > high)
			high = (uint64_t)bat[i] + 1;
	uint64_t now_clusters = alloc_end;
	if (now_clusters > high) {
		defect(&c, c.repair, "%" PRIu64 " unreferenced cluster(s) at end of file",
		       now_clusters - high);
		if (c.repair && ftruncate(fd, (off_t)(high * cl)) < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "truncate %s", path);
			goto out;
		}
	}
	if (c.repair && h.inuse) {
		if (fdatasync(fd) < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "sync %s", path);
			goto out;
		}
		h.inuse = 0;
		char sec[PLOOP_SECTOR];
		if (pread(fd, sec, sizeof(sec), 0) != (ssize_t)sizeof(sec)) {
			vz_fail_errno(err, VZ_ESYSTEM, "read %s", path);
			goto out;
		}
		ploop_hdr_to_disk(&h, &disk);
		memcpy(sec, &disk, sizeof(disk));
		if (pwrite(fd, sec, sizeof(sec), 0) != (ssize_t)sizeof(sec)) {
			vz_fail_errno(err, VZ_ESYSTEM, "write header of %s", path);
			goto out;
		}
	}
	if (c.repair && fsync(fd) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "sync %s", path);
		goto out;
	}
	if (stats) {
		stats->defects = c.defects;
		stats->repaired = c.repaired;
		stats->clusters = 0;
		for (uint32_t i = 0; i < n; i++)
			stats->clusters += bat[i] != 0;
	}
	if (c.defects > c.repaired) {
		vz_fail(err, VZ_ECORRUPT, "%s: %u defect(s) found; run ploop check -r to repair",
			path, c.defects - c.repaired);
		goto out;
	}
	rc = 0;
out:
	free(bat);
	free(owner);
	free(buf);
	return rc;
}
