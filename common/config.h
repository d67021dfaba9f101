/* OpenVZ-style config files: lines NAME="value", # comments, shell-sourceable.
 *
 * A file is kept as its lines, so `set --save` can rewrite it changing only
 * the lines it must (atomically: tmp + rename) and keeping comments, order
 * and unknown names.  Syntax errors are reported as FILE:LINE.
 */
#ifndef VZ_CONFIG_H
#define VZ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vz_error;

struct vz_conf_line {
	char *raw;    /* the line as read or as it will be written */
	char *key;    /* NULL for comments and blank lines */
	char *value;  /* unquoted value */
	int lineno;   /* 1-based line in the file as read; 0 if added */
};

struct vz_conf {
	char *path;   /* for messages and saving; may be NULL */
	struct vz_conf_line *lines;
	size_t n, cap;
	bool dirty;
};

void vz_conf_init(struct vz_conf *c, const char *path);
void vz_conf_free(struct vz_conf *c);
/* Reads path.  A missing file is VZ_ENOENT; a bad line is VZ_ECONFIG with
 * "FILE:LINE: what is wrong". */
int vz_conf_load(struct vz_conf *c, const char *path, struct vz_error *err);
/* Parses text (for tests and fuzzing); name is used in messages. */
int vz_conf_parse(struct vz_conf *c, const char *name, const char *text,
		  size_t len, struct vz_error *err);

/* Value of the last line that sets key (shell semantics), or NULL. */
const char *vz_conf_get(const struct vz_conf *c, const char *key);
/* Line number of that line, 0 if none. */
int vz_conf_lineno(const struct vz_conf *c, const char *key);
/* Sets key in place (first occurrence; later duplicates removed) or
 * appends it; value NULL removes it. */
void vz_conf_set(struct vz_conf *c, const char *key, const char *value);
/* The file's text as it would be saved. */
char *vz_conf_format(const struct vz_conf *c);
/* Writes atomically to path (NULL: c->path). */
int vz_conf_save(const struct vz_conf *c, const char *path,
		 struct vz_error *err);

/* Quotes a value for writing: KEY="value" with " \ ` escaped. */
char *vz_conf_quote(const char *value);
/* Replaces $VEID and ${VEID} (also $CTID) with ctid. */
char *vz_conf_expand(const char *value, const char *ctid);

/* Known parameters.  Each has a type that the checker validates. */
enum vz_param_type {
	VZ_PT_STRING,   /* anything */
	VZ_PT_BOOL,     /* yes|no */
	VZ_PT_INT,      /* integer in [min, max] */
	VZ_PT_SIZE,     /* size with K/M/G/T suffix (bare number: unit) */
	VZ_PT_UBC,      /* barrier[:limit], each number, size or "unlimited" */
	VZ_PT_PATH,     /* absolute path, $VEID allowed */
	VZ_PT_LIST,     /* space-separated words */
};

struct vz_param {
	const char *name;
	enum vz_param_type type;
	long long min, max;   /* VZ_PT_INT */
	uint64_t unit;        /* VZ_PT_SIZE/VZ_PT_UBC: bytes of a bare number */
	const char *help;
};

const struct vz_param *vz_param_find(const char *name);
const struct vz_param *vz_param_table(size_t *n);
/* Checks one value against its parameter's type; on error the message
 * names the parameter and the accepted form. */
int vz_param_check(const struct vz_param *p, const char *value,
		   struct vz_error *err);
/* Checks every known parameter in c ("FILE:LINE: NAME: ..." on the first
 * bad one) and warns (FILE:LINE) about unknown names. */
int vz_conf_check(const struct vz_conf *c, struct vz_error *err);

/* barrier:limit.  "unlimited" is VZ_UNLIMITED. */
#define VZ_UNLIMITED UINT64_MAX
int vz_parse_ubc(const char *s, uint64_t unit, uint64_t *barrier,
		 uint64_t *limit);
int vz_parse_bool(const char *s, bool *out);

#endif
