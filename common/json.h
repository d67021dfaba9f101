/* One JSON writer for every tool's -j output, so text and JSON are printed
 * from the same values and never disagree. Streaming: no tree is built. */
#ifndef VZ_JSON_H
#define VZ_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VZ_JSON_MAX_DEPTH 32

struct vz_json {
	FILE *f;
	int depth;
	bool pretty;
	bool after_key;
	bool has_items[VZ_JSON_MAX_DEPTH];
};

void vz_json_init(struct vz_json *j, FILE *f, bool pretty);
void vz_json_begin_object(struct vz_json *j);
void vz_json_end_object(struct vz_json *j);
void vz_json_begin_array(struct vz_json *j);
void vz_json_end_array(struct vz_json *j);
void vz_json_key(struct vz_json *j, const char *key);
void vz_json_string(struct vz_json *j, const char *s);  /* NULL -> null */
void vz_json_int(struct vz_json *j, int64_t v);
void vz_json_uint(struct vz_json *j, uint64_t v);
void vz_json_double(struct vz_json *j, double v);
void vz_json_bool(struct vz_json *j, bool v);
void vz_json_null(struct vz_json *j);
/* Ends the document with a newline. */
void vz_json_finish(struct vz_json *j);

static inline void vz_json_kv_string(struct vz_json *j, const char *k,
				     const char *v)
{
	vz_json_key(j, k);
	vz_json_string(j, v);
}
static inline void vz_json_kv_int(struct vz_json *j, const char *k, int64_t v)
{
	vz_json_key(j, k);
	vz_json_int(j, v);
}
static inline void vz_json_kv_uint(struct vz_json *j, const char *k,
				   uint64_t v)
{
	vz_json_key(j, k);
	vz_json_uint(j, v);
}
static inline void vz_json_kv_bool(struct vz_json *j, const char *k, bool v)
{
	vz_json_key(j, k);
	vz_json_bool(j, v);
}

#endif
