/* DiskDescriptor.xml: the disk's size and geometry, its image files and
 * the snapshot tree (GUID -> parent GUID), as OpenVZ's ploop wrote it.
 * Written atomically (temporary file + rename). */
#ifndef VZ_PLOOP_DESC_H
#define VZ_PLOOP_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vz_error;

#define PLOOP_TOP_GUID "{5fbaabe3-6958-40ff-92a7-860e329aab41}"
#define PLOOP_NULL_GUID "{00000000-0000-0000-0000-000000000000}"
#define PLOOP_DESC_NAME "DiskDescriptor.xml"

struct ploop_image {
	char *guid;
	char *file;   /* as written: usually relative to the descriptor */
};

struct ploop_snap {
	char *guid;
	char *parent;
	bool temporary;
};

struct ploop_desc {
	char *path;             /* the descriptor file */
	char *dir;              /* its directory */
	uint64_t size_sectors;
	uint32_t heads, cylinders, sectors;
	uint32_t blocksize;     /* cluster size in sectors */
	struct ploop_image *images;
	size_t nimages;
	struct ploop_snap *snaps;
	size_t nsnaps;
	char *top_guid;
};

int ploop_desc_read(const char *path, struct ploop_desc *d, struct vz_error *err);
int ploop_desc_write(const struct ploop_desc *d, struct vz_error *err);
void ploop_desc_free(struct ploop_desc *d);

/* A descriptor for a single image file (init, and rebuild from an image). */
int ploop_desc_new(struct ploop_desc *d, const char *path, uint64_t size_sectors,
		   uint32_t blocksize, const char *image_file, struct vz_error *err);

struct ploop_image *ploop_desc_image(const struct ploop_desc *d, const char *guid);
struct ploop_snap *ploop_desc_snap(const struct ploop_desc *d, const char *guid);
/* Absolute path of an image file (caller frees). */
char *ploop_desc_image_path(const struct ploop_desc *d, const struct ploop_image *im);
/* The chain ending at `guid` (NULL = top), base first: a NULL-terminated
 * vector of GUIDs.  Fails on a loop, a missing parent or missing image. */
int ploop_desc_chain(const struct ploop_desc *d, const char *guid, char ***chain,
		     struct vz_error *err);
/* The GUID of the snapshot whose parent is guid, NULL if none; more than
 * one is reported through *count. */
const char *ploop_desc_child(const struct ploop_desc *d, const char *guid,
			     size_t *count);

void ploop_desc_add(struct ploop_desc *d, const char *guid, const char *parent,
		    const char *file);
void ploop_desc_remove(struct ploop_desc *d, const char *guid);

/* New random GUID in the braces form. */
void ploop_guid_new(char out[39]);
bool ploop_guid_valid(const char *s);

#endif
