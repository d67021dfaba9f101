/* ploop1 image files: header, BAT, data clusters. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "ploop-delta.h"
#include "util.h"

void *ploop_aligned_alloc(size_t len)
{
	void *p = NULL;
	if (posix_memalign(&p, 4096, len ? len : 4096))
		abort();
	return p;
}

uint32_t ploop_hdr_first_cluster(const struct ploop_hdr *h)
{
	return h->sectors ? h->first_block / h->sectors : 0;
}

/* Header + BAT rounded up to whole clusters, in clusters. */
static uint64_t hdr_clusters_for(uint64_t bat_entries, uint32_t cluster)
{
	uint64_t bytes = PLOOP_HDR_SIZE + 4 * bat_entries;
	return (bytes + cluster - 1) / cluster;
}

int ploop_hdr_init(struct ploop_hdr *h, uint64_t size, uint32_t cluster_sectors,
		   struct vz_error *err)
{
	uint64_t sectors = (size + PLOOP_SECTOR - 1) / PLOOP_SECTOR;
	uint32_t cl = cluster_sectors;

	if (cl == 0 || (cl & (cl - 1)) || cl < 8 ||
	    cl > PLOOP_MAX_CLUSTER_SECTORS)
		return vz_fail(err, VZ_EUSAGE,
			       "cluster size %u sectors: must be a power of two from 4K to 32M",
			       cl);
	if (sectors == 0)
		return vz_fail(err, VZ_EUSAGE, "disk size must be more than 0");
	uint64_t bat = (sectors + cl - 1) / cl;
	/* BAT entries are u32 cluster indices and the header keeps 32-bit
	 * counts: the whole file must stay addressable. */
	if (bat + hdr_clusters_for(bat, cl * PLOOP_SECTOR) > UINT32_MAX / 2 ||
	    sectors > (UINT64_C(1) << 50))
		return vz_fail(err, VZ_EUSAGE, "disk size too large for %u K clusters",
			       cl / 2);
	memset(h, 0, sizeof(*h));
	memcpy(h->sig, PLOOP_SIG_V2, 16);
	h->type = 2;
	h->heads = 16;
	h->sectors = cl;
	h->cylinders = (uint32_t)(sectors / (16 * 32));
	h->bat_entries = (uint32_t)bat;
	h->size_sectors = sectors;
	h->first_block = (uint32_t)(hdr_clusters_for(bat, cl * PLOOP_SECTOR) * cl);
	return 0;
}

int ploop_hdr_validate(const struct ploop_hdr *h, struct vz_error *err)
{
	if (memcmp(h->sig, PLOOP_SIG_V1, 16) == 0)
		return vz_fail(err, VZ_ECORRUPT,
			       "old ploop v1 image (WithoutFreeSpace) is not supported; convert it with qemu-img convert -O parallels");
	if (memcmp(h->sig, PLOOP_SIG_V2, 16) != 0)
		return vz_fail(err, VZ_ECORRUPT,
			       "not a ploop image (no WithouFreSpacExt signature)");
	uint32_t cl = h->sectors;
	if (cl == 0 || (cl & (cl - 1)) || cl > PLOOP_MAX_CLUSTER_SECTORS)
		return vz_fail(err, VZ_ECORRUPT, "bad header: cluster size %u sectors",
			       cl);
	if (h->bat_entries == 0 || h->size_sectors == 0)
		return vz_fail(err, VZ_ECORRUPT, "bad header: empty disk (%u BAT entries, %" PRIu64 " sectors)",
			       h->bat_entries, h->size_sectors);
	if (h->size_sectors > (uint64_t)h->bat_entries * cl)
		return vz_fail(err, VZ_ECORRUPT,
			       "bad header: size %" PRIu64 " sectors exceeds %u BAT entries",
			       h->size_sectors, h->bat_entries);
	uint64_t need = hdr_clusters_for(h->bat_entries, cl * PLOOP_SECTOR) * cl;
	if (h->first_block % cl || h->first_block < need)
		return vz_fail(err, VZ_ECORRUPT,
			       "bad header: first block at sector %u (BAT needs %" PRIu64 ", cluster-aligned)",
			       h->first_block, need);
	return 0;
}

void ploop_hdr_to_disk(const struct ploop_hdr *h, struct ploop_hdr *o)
{
	*o = *h;
	o->type = htole32(h->type);
	o->heads = htole32(h->heads);
	o->cylinders = htole32(h->cylinders);
	o->sectors = htole32(h->sectors);
	o->bat_entries = htole32(h->bat_entries);
	o->size_sectors = htole64(h->size_sectors);
	o->inuse = htole32(h->inuse);
	o->first_block = htole32(h->first_block);
	o->flags = htole32(h->flags);
}

void ploop_hdr_from_disk(const struct ploop_hdr *in, struct ploop_hdr *h)
{
	*h = *in;
	h->type = le32toh(in->type);
	h->heads = le32toh(in->heads);
	h->cylinders = le32toh(in->cylinders);
	h->sectors = le32toh(in->sectors);
	h->bat_entries = le32toh(in->bat_entries);
	h->size_sectors = le64toh(in->size_sectors);
	h->inuse = le32toh(in->inuse);
	h->first_block = le32toh(in->first_block);
	h->flags = le32toh(in->flags);
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			memset(p, 0, len); /* past EOF reads as zeroes */
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int ploop_delta_create(const char *path, uint64_t size, uint32_t cluster_sectors,
		       struct vz_error *err)
{
	struct ploop_hdr h, disk;
	if (ploop_hdr_init(&h, size, cluster_sectors, err) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				      0600);
	if (fd < 0)
		return vz_fail_errno(err, errno == EEXIST ? VZ_EEXIST : VZ_ESYSTEM,
				     "create %s", path);
	uint64_t hdr_bytes = (uint64_t)h.first_block * PLOOP_SECTOR;
	ploop_hdr_to_disk(&h, &disk);
	/* The header area is written in full (zero BAT), not left sparse. */
	_cleanup_free_ char *buf = xcalloc(1, (size_t)hdr_bytes);
	memcpy(buf, &disk, sizeof(disk));
	if (pwrite_all(fd, buf, (size_t)hdr_bytes, 0) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(path);
		return vz_fail_errnum(err, VZ_ESYSTEM, e, "write %s", path);
	}
	return 0;
}

int ploop_delta_open(struct ploop_delta *d, const char *path, int flags,
		     struct vz_error *err)
{
	struct ploop_hdr disk;
	struct stat st;
	int oflags = (flags & PLOOP_OPEN_RDWR) ? O_RDWR : O_RDONLY;

	memset(d, 0, sizeof(*d));
	d->fd = d->bfd = -1;
	d->bfd = open(path, oflags | O_CLOEXEC);
	if (d->bfd < 0)
		return vz_fail_errno(err, errno == ENOENT ? VZ_ENOENT : VZ_ESYSTEM,
				     "open %s", path);
	d->path = xstrdup(path);
	d->rw = flags & PLOOP_OPEN_RDWR;
	if (fstat(d->bfd, &st) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "stat %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		vz_fail(err, VZ_EUSAGE, "%s: not a regular file", path);
		goto fail;
	}
	d->file_size = (uint64_t)st.st_size;
	if (d->file_size < PLOOP_HDR_SIZE) {
		vz_fail(err, VZ_ECORRUPT, "%s: not a ploop image (%" PRIu64 " bytes, too short for a header)",
			path, d->file_size);
		goto fail;
	}
	if (pread_all(d->bfd, &disk, sizeof(disk), 0) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "read %s", path);
		goto fail;
	}
	ploop_hdr_from_disk(&disk, &d->hdr);
	if (ploop_hdr_validate(&d->hdr, err) < 0) {
		vz_prefix(err, "%s", path);
		goto fail;
	}
	d->cluster = d->hdr.sectors * PLOOP_SECTOR;
	d->hdr_clusters = ploop_hdr_first_cluster(&d->hdr);
	size_t batlen = (size_t)d->hdr.bat_entries * 4;
	d->bat = xmalloc(batlen);
	if (pread_all(d->bfd, d->bat, batlen, PLOOP_HDR_SIZE) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "read BAT of %s", path);
		goto fail;
	}
	uint64_t file_clusters = (d->file_size + d->cluster - 1) / d->cluster;
	d->alloc_end = file_clusters > d->hdr_clusters ? file_clusters : d->hdr_clusters;
	for (uint32_t i = 0; i < d->hdr.bat_entries; i++) {
		d->bat[i] = le32toh(d->bat[i]);
		if (!d->bat[i] || (flags & PLOOP_OPEN_NOCHECK))
			continue;
		if (d->bat[i] < d->hdr_clusters ||
		    ((uint64_t)d->bat[i] + 1) * d->cluster > d->file_size) {
			vz_fail(err, VZ_ECORRUPT,
				"%s: BAT entry %u points to cluster %u outside the data area (run ploop check -r)",
				path, i, d->bat[i]);
			goto fail;
		}
	}
	if (flags & PLOOP_OPEN_DIRECT) {
		/* a server's mark on every delta it serves: ploop check -r
		 * (which wants it exclusive) keeps its hands off */
		if (flock(d->bfd, LOCK_SH | LOCK_NB) < 0) {
			vz_fail(err, VZ_ESTATE, "%s is being repaired by ploop check", path);
			goto fail;
		}
		d->fd = open(path, oflags | O_DIRECT | O_CLOEXEC);
		if (d->fd < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "open %s with O_DIRECT", path);
			goto fail;
		}
	} else {
		d->fd = dup(d->bfd);
		if (d->fd < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "dup");
			goto fail;
		}
	}
	return 0;
fail:
	ploop_delta_close(d);
	return -1;
}

void ploop_delta_close(struct ploop_delta *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->bfd >= 0)
		close(d->bfd);
	free(d->bat);
	free(d->path);
	memset(d, 0, sizeof(*d));
	d->fd = d->bfd = -1;
}

int ploop_delta_write_hdr(struct ploop_delta *d, struct vz_error *err)
{
	/* Rewrite the whole first sector so the BAT entries sharing it are
	 * kept as they are on disk. */
	char sec[PLOOP_SECTOR];
	struct ploop_hdr disk;
	if (pread_all(d->bfd, sec, sizeof(sec), 0) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "read header of %s", d->path);
	ploop_hdr_to_disk(&d->hdr, &disk);
	memcpy(sec, &disk, sizeof(disk));
	if (pwrite_all(d->bfd, sec, sizeof(sec), 0) < 0 || fdatasync(d->bfd) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "write header of %s", d->path);
	return 0;
}

int ploop_delta_set_inuse(struct ploop_delta *d, bool inuse, struct vz_error *err)
{
	d->hdr.inuse = inuse ? PLOOP_INUSE_MAGIC : 0;
	return ploop_delta_write_hdr(d, err);
}

int ploop_delta_write_bat(struct ploop_delta *d, const uint32_t *bat,
			  uint32_t first, uint32_t n, struct vz_error *err)
{
	if (!bat)
		bat = d->bat;
	if (n == 0)
		return 0;
	/* whole sectors: byte range of the entries, widened */
	uint64_t b0 = (PLOOP_HDR_SIZE + 4ull * first) / PLOOP_SECTOR * PLOOP_SECTOR;
	uint64_t b1 = PLOOP_HDR_SIZE + 4ull * (first + n);
	b1 = (b1 + PLOOP_SECTOR - 1) / PLOOP_SECTOR * PLOOP_SECTOR;
	size_t len = (size_t)(b1 - b0);
	char *buf = ploop_aligned_alloc(len);
	int rc = 0;
	if (pread_all(d->bfd, buf, len, b0) < 0) {
		rc = vz_fail_errno(err, VZ_ESYSTEM, "read BAT of %s", d->path);
		goto out;
	}
	for (uint64_t off = b0; off < b1; off += 4) {
		if (off < PLOOP_HDR_SIZE)
			continue;
		uint64_t idx = (off - PLOOP_HDR_SIZE) / 4;
		if (idx >= d->hdr.bat_entries)
			break;
		uint32_t v = htole32(bat[idx]);
		memcpy(buf + (off - b0), &v, 4);
	}
	if (pwrite_all(d->bfd, buf, len, b0) < 0)
		rc = vz_fail_errno(err, VZ_ESYSTEM, "write BAT of %s", d->path);
out:
	free(buf);
	return rc;
}

int ploop_delta_pread(struct ploop_delta *d, void *buf, size_t len,
		      uint64_t off, struct vz_error *err)
{
	if (pread_all(d->bfd, buf, len, off) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "read %s", d->path);
	return 0;
}

int ploop_delta_pwrite(struct ploop_delta *d, const void *buf, size_t len,
		       uint64_t off, struct vz_error *err)
{
	if (pwrite_all(d->bfd, buf, len, off) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "write %s", d->path);
	return 0;
}

int ploop_delta_grow(struct ploop_delta *d, uint64_t new_size, struct vz_error *err)
{
	struct ploop_hdr nh;
	if (ploop_hdr_init(&nh, new_size, d->hdr.sectors, err) < 0)
		return -1;
	if (nh.size_sectors < d->hdr.size_sectors)
		return vz_fail(err, VZ_EUSAGE, "grow: new size is smaller");
	uint32_t new_hc = ploop_hdr_first_cluster(&nh);
	/* Data clusters that sit where the bigger BAT goes move to the end,
	 * each made durable before its BAT entry changes. */
	if (new_hc > d->hdr_clusters) {
		char *buf = ploop_aligned_alloc(d->cluster);
		if (d->alloc_end < new_hc)
			d->alloc_end = new_hc;
		for (uint32_t i = 0; i < d->hdr.bat_entries; i++) {
			if (!d->bat[i] || d->bat[i] >= new_hc)
				continue;
			uint64_t to = d->alloc_end++;
			if (ploop_delta_pread(d, buf, d->cluster,
					      (uint64_t)d->bat[i] * d->cluster, err) < 0 ||
			    ploop_delta_pwrite(d, buf, d->cluster, to * d->cluster, err) < 0 ||
			    fdatasync(d->bfd) < 0) {
				free(buf);
				return vz_prefix(err, "grow %s", d->path);
			}
			d->bat[i] = (uint32_t)to;
			if (ploop_delta_write_bat(d, NULL, i, 1, err) < 0 ||
			    fdatasync(d->bfd) < 0) {
				free(buf);
				return -1;
			}
		}
		free(buf);
	}
	/* New BAT entries are zero; write them before the header that
	 * makes them count. */
	uint32_t old_n = d->hdr.bat_entries;
	d->bat = xrealloc(d->bat, (size_t)nh.bat_entries * 4);
	memset(d->bat + old_n, 0, (size_t)(nh.bat_entries - old_n) * 4);
	uint32_t keep_inuse = d->hdr.inuse, keep_flags = d->hdr.flags;
	struct ploop_hdr old = d->hdr;
	d->hdr.bat_entries = nh.bat_entries;
	if (ploop_delta_write_bat(d, NULL, old_n, nh.bat_entries - old_n, err) < 0 ||
	    fdatasync(d->bfd) < 0) {
		d->hdr = old;
		return -1;
	}
	d->hdr = nh;
	d->hdr.inuse = keep_inuse;
	d->hdr.flags = keep_flags;
	d->hdr_clusters = new_hc;
	if (d->alloc_end < new_hc)
		d->alloc_end = new_hc;
	struct stat st;
	if (fstat(d->bfd, &st) == 0)
		d->file_size = (uint64_t)st.st_size;
	if (d->file_size < (uint64_t)new_hc * d->cluster) {
		if (ftruncate(d->bfd, (off_t)((uint64_t)new_hc * d->cluster)) < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "extend %s", d->path);
		d->file_size = (uint64_t)new_hc * d->cluster;
	}
	return ploop_delta_write_hdr(d, err);
}
