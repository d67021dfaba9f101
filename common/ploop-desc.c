/* DiskDescriptor.xml through libxml2. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "error.h"
#include "ploop-desc.h"
#include "util.h"

void ploop_guid_new(char out[39])
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		uint64_t t = vz_now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)(i * 37);
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 39,
		 "{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

bool ploop_guid_valid(const char *s)
{
	static const char pat[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
	if (!s || strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'x') {
			if (!strchr("0123456789abcdefABCDEF", s[i]))
				return false;
		} else if (s[i] != pat[i]) {
			return false;
		}
	}
	return true;
}

void ploop_desc_free(struct ploop_desc *d)
{
	for (size_t i = 0; i < d->nimages; i++) {
		free(d->images[i].guid);
		free(d->images[i].file);
	}
	for (size_t i = 0; i < d->nsnaps; i++) {
		free(d->snaps[i].guid);
		free(d->snaps[i].parent);
	}
	free(d->images);
	free(d->snaps);
	free(d->top_guid);
	free(d->path);
	free(d->dir);
	memset(d, 0, sizeof(*d));
}

static void set_path(struct ploop_desc *d, const char *path)
{
	char *abs = realpath(path, NULL);
	if (!abs) {
		/* not there yet: resolve the directory */
		_cleanup_free_ char *dcopy = xstrdup(path);
		_cleanup_free_ char *bcopy = xstrdup(path);
		char *dabs = realpath(dirname(dcopy), NULL);
		if (dabs) {
			abs = xasprintf("%s/%s", dabs, basename(bcopy));
			free(dabs);
		} else {
			abs = xstrdup(path);
		}
	}
	d->path = abs;
	_cleanup_free_ char *copy = xstrdup(abs);
	d->dir = xstrdup(dirname(copy));
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

static char *text(xmlNode *n)
{
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	char *s = xstrdup(t ? (const char *)t : "");
	xmlFree(t);
	vz_strstrip(s);
	char *r = xstrdup(vz_strstrip(s));
	free(s);
	return r;
}

static int num(xmlNode *parent, const char *name, bool required, uint64_t *out,
	       const char *path, struct vz_error *err)
{
	xmlNode *n = child(parent, name);
	if (!n) {
		if (required)
			return vz_fail(err, VZ_ECONFIG, "%s: missing <%s>", path, name);
		*out = 0;
		return 0;
	}
	_cleanup_free_ char *s = text(n);
	if (vz_parse_u64(s, out) < 0)
		return vz_fail(err, VZ_ECONFIG, "%s:%ld: <%s>: not a number: '%s'",
			       path, (long)xmlGetLineNo(n), name, s);
	return 0;
}

static void silent_xml_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int ploop_desc_read(const char *path, struct ploop_desc *d, struct vz_error *err)
{
	memset(d, 0, sizeof(*d));
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (vz_read_file(path, &data, &len, err) < 0)
		return -1;
	xmlSetGenericErrorFunc(NULL, silent_xml_error);
	xmlDoc *doc = xmlReadMemory(data, (int)len, path, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *xe = xmlGetLastError();
		return vz_fail(err, VZ_ECONFIG, "%s:%d: not a valid XML disk descriptor: %s",
			       path, xe ? xe->line : 0,
			       xe && xe->message ? vz_strstrip(xe->message) : "parse error");
	}
	int rc = -1;
	uint64_t v;
	set_path(d, path);
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "Parallels_disk_image")) {
		vz_fail(err, VZ_ECONFIG, "%s: not a disk descriptor (root element is not Parallels_disk_image)",
			path);
		goto out;
	}
	xmlNode *dp = child(root, "Disk_Parameters");
	if (!dp) {
		vz_fail(err, VZ_ECONFIG, "%s: missing <Disk_Parameters>", path);
		goto out;
	}
	if (num(dp, "Disk_size", true, &d->size_sectors, path, err) < 0)
		goto out;
	if (num(dp, "Cylinders", false, &v, path, err) < 0)
		goto out;
	d->cylinders = (uint32_t)v;
	if (num(dp, "Heads", false, &v, path, err) < 0)
		goto out;
	d->heads = (uint32_t)v;
	if (num(dp, "Sectors", false, &v, path, err) < 0)
		goto out;
	d->sectors = (uint32_t)v;
	xmlNode *st = child(child(root, "StorageData"), "Storage");
	if (!st) {
		vz_fail(err, VZ_ECONFIG, "%s: missing <StorageData><Storage>", path);
		goto out;
	}
	if (num(st, "Blocksize", true, &v, path, err) < 0)
		goto out;
	if (v == 0 || (v & (v - 1)) || v > 65536) {
		vz_fail(err, VZ_ECONFIG, "%s: <Blocksize> %" PRIu64 " is not a power of two sectors",
			path, v);
		goto out;
	}
	d->blocksize = (uint32_t)v;
	for (xmlNode *c = st->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "Image"))
			continue;
		_cleanup_free_ char *guid = text(child(c, "GUID"));
		_cleanup_free_ char *file = text(child(c, "File"));
		_cleanup_free_ char *type = text(child(c, "Type"));
		if (!ploop_guid_valid(guid) || !file || !*file) {
			vz_fail(err, VZ_ECONFIG, "%s:%ld: <Image> needs a <GUID> {...} and a <File>",
				path, (long)xmlGetLineNo(c));
			goto out;
		}
		if (type && strcmp(type, "Compressed")) {
			vz_fail(err, VZ_ECONFIG, "%s:%ld: image type '%s' is not supported (only Compressed, ploop1)",
				path, (long)xmlGetLineNo(c), type);
			goto out;
		}
		if (ploop_desc_image(d, guid)) {
			vz_fail(err, VZ_ECONFIG, "%s: image GUID %s listed twice", path, guid);
			goto out;
		}
		d->images = xrealloc(d->images, (d->nimages + 1) * sizeof(*d->images));
		d->images[d->nimages].guid = xstrdup(guid);
		d->images[d->nimages].file = xstrdup(file);
		d->nimages++;
	}
	if (!d->nimages) {
		vz_fail(err, VZ_ECONFIG, "%s: no <Image> listed", path);
		goto out;
	}
	xmlNode *sn = child(root, "Snapshots");
	d->top_guid = text(child(sn, "TopGUID"));
	if (!ploop_guid_valid(d->top_guid)) {
		vz_fail(err, VZ_ECONFIG, "%s: missing or bad <Snapshots><TopGUID>", path);
		goto out;
	}
	for (xmlNode *c = sn->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "Shot"))
			continue;
		_cleanup_free_ char *guid = text(child(c, "GUID"));
		_cleanup_free_ char *parent = text(child(c, "ParentGUID"));
		if (!ploop_guid_valid(guid) || !ploop_guid_valid(parent)) {
			vz_fail(err, VZ_ECONFIG, "%s:%ld: <Shot> needs <GUID> and <ParentGUID>",
				path, (long)xmlGetLineNo(c));
			goto out;
		}
		if (!ploop_desc_image(d, guid)) {
			vz_fail(err, VZ_ECONFIG, "%s: snapshot %s has no <Image>", path, guid);
			goto out;
		}
		d->snaps = xrealloc(d->snaps, (d->nsnaps + 1) * sizeof(*d->snaps));
		d->snaps[d->nsnaps].guid = xstrdup(guid);
		d->snaps[d->nsnaps].parent = xstrdup(parent);
		d->snaps[d->nsnaps].temporary = child(c, "Temporary") != NULL;
		d->nsnaps++;
	}
	if (!ploop_desc_snap(d, d->top_guid)) {
		vz_fail(err, VZ_ECONFIG, "%s: TopGUID %s has no <Shot>", path, d->top_guid);
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	if (rc < 0)
		ploop_desc_free(d);
	return rc;
}

static void add_num(xmlNode *n, const char *name, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	xmlNewTextChild(n, NULL, BAD_CAST name, BAD_CAST buf);
}

int ploop_desc_write(const struct ploop_desc *d, struct vz_error *err)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *root = xmlNewNode(NULL, BAD_CAST "Parallels_disk_image");
	xmlNewProp(root, BAD_CAST "Version", BAD_CAST "1.0");
	xmlDocSetRootElement(doc, root);
	xmlNode *dp = xmlNewChild(root, NULL, BAD_CAST "Disk_Parameters", NULL);
	add_num(dp, "Disk_size", d->size_sectors);
	add_num(dp, "Cylinders", d->cylinders);
	add_num(dp, "Heads", d->heads);
	add_num(dp, "Sectors", d->sectors);
	add_num(dp, "Padding", 0);
	xmlNode *st = xmlNewChild(xmlNewChild(root, NULL, BAD_CAST "StorageData", NULL),
				  NULL, BAD_CAST "Storage", NULL);
	add_num(st, "Start", 0);
	add_num(st, "End", d->size_sectors);
	add_num(st, "Blocksize", d->blocksize);
	for (size_t i = 0; i < d->nimages; i++) {
		xmlNode *im = xmlNewChild(st, NULL, BAD_CAST "Image", NULL);
		xmlNewTextChild(im, NULL, BAD_CAST "GUID", BAD_CAST d->images[i].guid);
		xmlNewTextChild(im, NULL, BAD_CAST "Type", BAD_CAST "Compressed");
		xmlNewTextChild(im, NULL, BAD_CAST "File", BAD_CAST d->images[i].file);
	}
	xmlNode *sn = xmlNewChild(root, NULL, BAD_CAST "Snapshots", NULL);
	xmlNewTextChild(sn, NULL, BAD_CAST "TopGUID", BAD_CAST d->top_guid);
	for (size_t i = 0; i < d->nsnaps; i++) {
		xmlNode *s = xmlNewChild(sn, NULL, BAD_CAST "Shot", NULL);
		xmlNewTextChild(s, NULL, BAD_CAST "GUID", BAD_CAST d->snaps[i].guid);
		xmlNewTextChild(s, NULL, BAD_CAST "ParentGUID", BAD_CAST d->snaps[i].parent);
		if (d->snaps[i].temporary)
			xmlNewChild(s, NULL, BAD_CAST "Temporary", NULL);
	}
	xmlChar *buf = NULL;
	int len = 0;
	xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 1);
	xmlFreeDoc(doc);
	int rc = vz_write_file_atomic(d->path, (const char *)buf, (size_t)len, 0600, err);
	xmlFree(buf);
	return rc;
}

int ploop_desc_new(struct ploop_desc *d, const char *path, uint64_t size_sectors,
		   uint32_t blocksize, const char *image_file, struct vz_error *err)
{
	memset(d, 0, sizeof(*d));
	set_path(d, path);
	d->size_sectors = size_sectors;
	d->heads = 16;
	d->sectors = 63;
	d->cylinders = (uint32_t)(size_sectors / (16 * 63));
	d->blocksize = blocksize;
	d->top_guid = xstrdup(PLOOP_TOP_GUID);
	ploop_desc_add(d, PLOOP_TOP_GUID, PLOOP_NULL_GUID, image_file);
	return 0;
}

struct ploop_image *ploop_desc_image(const struct ploop_desc *d, const char *guid)
{
	for (size_t i = 0; i < d->nimages; i++)
		if (!strcasecmp(d->images[i].guid, guid))
			return &d->images[i];
	return NULL;
}

struct ploop_snap *ploop_desc_snap(const struct ploop_desc *d, const char *guid)
{
	for (size_t i = 0; i < d->nsnaps; i++)
		if (!strcasecmp(d->snaps[i].guid, guid))
			return &d->snaps[i];
	return NULL;
}

char *ploop_desc_image_path(const struct ploop_desc *d, const struct ploop_image *im)
{
	if (im->file[0] == '/')
		return xstrdup(im->file);
	return xasprintf("%s/%s", d->dir, im->file);
}

int ploop_desc_chain(const struct ploop_desc *d, const char *guid, char ***chain,
		     struct vz_error *err)
{
	char **rev = NULL;
	const char *g = guid ? guid : d->top_guid;
	size_t n = 0;
	while (strcasecmp(g, PLOOP_NULL_GUID)) {
		struct ploop_snap *s = ploop_desc_snap(d, g);
		if (!s) {
			vz_strv_free(rev);
			return vz_fail(err, guid ? VZ_ENOENT : VZ_ECONFIG,
				       "%s: no snapshot %s", d->path, g);
		}
		if (++n > d->nsnaps) {
			vz_strv_free(rev);
			return vz_fail(err, VZ_ECONFIG, "%s: snapshot parents form a loop",
				       d->path);
		}
		rev = vz_strv_push(rev, s->guid);
		g = s->parent;
	}
	char **out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(rev[n - 1 - i]);
	vz_strv_free(rev);
	*chain = out;
	return 0;
}

const char *ploop_desc_child(const struct ploop_desc *d, const char *guid,
			     size_t *count)
{
	const char *c = NULL;
	size_t n = 0;
	for (size_t i = 0; i < d->nsnaps; i++)
		if (!strcasecmp(d->snaps[i].parent, guid)) {
			if (!c)
				c = d->snaps[i].guid;
			n++;
		}
	if (count)
		*count = n;
	return c;
}

void ploop_desc_add(struct ploop_desc *d, const char *guid, const char *parent,
		    const char *file)
{
	d->images = xrealloc(d->images, (d->nimages + 1) * sizeof(*d->images));
	d->images[d->nimages].guid = xstrdup(guid);
	d->images[d->nimages].file = xstrdup(file);
	d->nimages++;
	d->snaps = xrealloc(d->snaps, (d->nsnaps + 1) * sizeof(*d->snaps));
	d->snaps[d->nsnaps].guid = xstrdup(guid);
	d->snaps[d->nsnaps].parent = xstrdup(parent);
	d->snaps[d->nsnaps].temporary = false;
	d->nsnaps++;
}

void ploop_desc_remove(struct ploop_desc *d, const char *guid)
{
	for (size_t i = 0; i < d->nimages; i++)
		if (!strcasecmp(d->images[i].guid, guid)) {
			free(d->images[i].guid);
			free(d->images[i].file);
			memmove(&d->images[i], &d->images[i + 1],
				(d->nimages - i - 1) * sizeof(*d->images));
			d->nimages--;
			break;
		}
	for (size_t i = 0; i < d->nsnaps; i++)
		if (!strcasecmp(d->snaps[i].guid, guid)) {
			free(d->snaps[i].guid);
			free(d->snaps[i].parent);
			memmove(&d->snaps[i], &d->snaps[i + 1],
				(d->nsnaps - i - 1) * sizeof(*d->snaps));
			d->nsnaps--;
			break;
		}
}
