/* Container IDs: decimal numbers 1..2147483647, as OpenVZ used them.  They
 * become file names, so anything else is refused before a file is touched. */
#ifndef VZ_CTID_H
#define VZ_CTID_H

struct vz_error;

#define VZ_CTID_MAX 2147483647U

/* Parses s into *id; VZ_EUSAGE with a message naming s otherwise. */
int vz_ctid_parse(const char *s, unsigned *id, struct vz_error *err);

#endif
