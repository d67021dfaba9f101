/* ploop format, descriptor and check units. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "ploop.h"
#include "ploop-delta.h"
#include "ploop-desc.h"
#include "unit.h"
#include "util.h"

static void test_header(void)
{
	struct ploop_hdr h;
	struct vz_error err;
	/* what qemu-img create -f parallels writes for 1G and 300G */
	CHECK(ploop_hdr_init(&h, 1ull << 30, 2048, &err) == 0, "1G header");
	CHECK(h.bat_entries == 1024 && h.first_block == 2048 && h.size_sectors == 2097152 &&
	      h.heads == 16 && h.cylinders == 4096 && h.sectors == 2048, "1G layout as qemu's");
	CHECK(ploop_hdr_init(&h, 300ull << 30, 2048, &err) == 0, "300G header");
	CHECK(h.bat_entries == 307200 && h.first_block == 4096, "300G BAT takes 2 clusters");
	CHECK(ploop_hdr_validate(&h, &err) == 0, "valid header passes");
	struct ploop_hdr b = h;
	b.sectors = 3;
	CHECK(ploop_hdr_validate(&b, &err) < 0 && err.code == VZ_ECORRUPT &&
	      strstr(err.msg, "cluster size"), "odd cluster size rejected: %s", err.msg);
	b = h;
	b.first_block = 2048;
	CHECK(ploop_hdr_validate(&b, &err) < 0 && strstr(err.msg, "first block"),
	      "first block inside BAT rejected");
	b = h;
	b.size_sectors = (uint64_t)b.bat_entries * 2048 + 1;
	CHECK(ploop_hdr_validate(&b, &err) < 0, "size beyond BAT rejected");
	memcpy(b.sig, "WithoutFreeSpace", 16);
	CHECK(ploop_hdr_validate(&b, &err) < 0 && strstr(err.msg, "v1"), "v1 named");
	CHECK(ploop_hdr_init(&h, 0, 2048, &err) < 0 && err.code == VZ_EUSAGE, "size 0 refused");
	CHECK(ploop_hdr_init(&h, 1 << 20, 1000, &err) < 0, "cluster not a power of two refused");
	CHECK(ploop_hdr_init(&h, 1000, 2048, &err) == 0 && h.size_sectors == 2 &&
	      h.bat_entries == 1, "size rounds up to a sector");
	struct ploop_hdr disk, back;
	ploop_hdr_init(&h, 1ull << 30, 2048, &err);
	h.inuse = PLOOP_INUSE_MAGIC;
	ploop_hdr_to_disk(&h, &disk);
	ploop_hdr_from_disk(&disk, &back);
	CHECK(memcmp(&h, &back, sizeof(h)) == 0, "header byte order round trip");
}

static void test_desc(const char *dir)
{
	struct vz_error err;
	struct ploop_desc d, r;
	char *path = xasprintf("%s/DiskDescriptor.xml", dir);
	ploop_desc_new(&d, path, 2097152, 2048, "root.hds", &err);
	char g[39];
	ploop_guid_new(g);
	CHECK(ploop_guid_valid(g), "new GUID valid: %s", g);
	CHECK(!ploop_guid_valid("{1234}") && !ploop_guid_valid(NULL), "bad GUIDs invalid");
	/* old top becomes snapshot g; new top on it */
	free(d.images[0].guid);
	d.images[0].guid = xstrdup(g);
	free(d.snaps[0].guid);
	d.snaps[0].guid = xstrdup(g);
	ploop_desc_add(&d, PLOOP_TOP_GUID, g, "root.hds.{x}");
	CHECK(ploop_desc_write(&d, &err) == 0, "write descriptor");
	CHECK(ploop_desc_read(path, &r, &err) == 0, "read it back: %s", err.msg);
	CHECK(r.size_sectors == 2097152 && r.blocksize == 2048 && r.nimages == 2 &&
	      r.nsnaps == 2, "fields survive");
	char **chain = NULL;
	CHECK(ploop_desc_chain(&r, NULL, &chain, &err) == 0 && vz_strv_len(chain) == 2 &&
	      !strcmp(chain[0], g) && !strcmp(chain[1], PLOOP_TOP_GUID), "chain base first");
	vz_strv_free(chain);
	size_t n;
	CHECK(ploop_desc_child(&r, g, &n) && n == 1, "child of snapshot");
	/* a loop in parents is caught */
	free(r.snaps[0].parent);
	r.snaps[0].parent = xstrdup(PLOOP_TOP_GUID);
	CHECK(ploop_desc_chain(&r, NULL, &chain, &err) < 0 && strstr(err.msg, "loop"),
	      "parent loop detected");
	ploop_desc_free(&r);
	ploop_desc_free(&d);
	FILE *f = fopen(path, "w");
	fputs("<Parallels_disk_image><Disk_Parameters><Disk_size>x</Disk_size>", f);
	fclose(f);
	CHECK(ploop_desc_read(path, &r, &err) < 0 && err.code == VZ_ECONFIG,
	      "broken XML: %s", err.msg);
	f = fopen(path, "w");
	fputs("<other/>", f);
	fclose(f);
	CHECK(ploop_desc_read(path, &r, &err) < 0 && strstr(err.msg, "Parallels_disk_image"),
	      "wrong root element named");
	unlink(path);
	free(path);
}

static void test_delta_check(const char *dir)
{
	struct vz_error err;
	char *img = xasprintf("%s/t.hds", dir);
	CHECK(ploop_delta_create(img, 8 << 20, 8, &err) == 0, "create 8M image, 4K clusters");
	CHECK(ploop_delta_create(img, 8 << 20, 8, &err) < 0 && err.code == VZ_EEXIST,
	      "create refuses an existing file");
	struct ploop_delta d;
	CHECK(ploop_delta_open(&d, img, PLOOP_OPEN_RDWR, &err) == 0, "open rw");
	/* map virtual cluster 5 to a new data cluster, data first */
	char buf[4096];
	memset(buf, 0xab, sizeof(buf));
	uint64_t fc = d.alloc_end++;
	CHECK(ploop_delta_pwrite(&d, buf, sizeof(buf), fc * d.cluster, &err) == 0, "data");
	d.bat[5] = (uint32_t)fc;
	CHECK(ploop_delta_write_bat(&d, NULL, 5, 1, &err) == 0, "BAT entry");
	CHECK(ploop_delta_set_inuse(&d, true, &err) == 0, "dirty flag");
	ploop_delta_close(&d);
	struct ploop_check_stats st;
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	CHECK(ploop_check(img, 0, f, &st, &err) < 0 && err.code == VZ_ECORRUPT,
	      "dirty image fails check");
	fclose(f);
	CHECK(strstr(out, "dirty flag set") != NULL, "report names the flag: %s", out);
	free(out);
	CHECK(ploop_check(img, PLOOP_CHECK_REPAIR, NULL, &st, &err) == 0 && st.repaired == 1,
	      "repair");
	CHECK(ploop_check(img, 0, NULL, &st, &err) == 0 && st.defects == 0 && st.clusters == 1,
	      "clean after repair, one cluster");
	CHECK(ploop_delta_open(&d, img, PLOOP_OPEN_RDWR, &err) == 0 && d.bat[5] == fc,
	      "entry kept");
	CHECK(ploop_delta_grow(&d, 64 << 20, &err) == 0, "grow 8M -> 64M");
	uint32_t moved = d.bat[5];
	char rb[4096];
	CHECK(ploop_delta_pread(&d, rb, sizeof(rb), (uint64_t)moved * d.cluster, &err) == 0 &&
	      !memcmp(rb, buf, sizeof(rb)), "data still reachable (moved: %u -> %u)",
	      (unsigned)fc, moved);
	ploop_delta_close(&d);
	CHECK(ploop_check(img, 0, NULL, &st, &err) == 0, "clean after grow: %s", err.msg);
	unlink(img);
	free(img);
}

int main(void)
{
	char tmpl[] = "/tmp/vz-unit-ploop.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		return 1;
	test_header();
	test_desc(dir);
	test_delta_check(dir);
	rmdir(dir);
	UNIT_DONE();
}
