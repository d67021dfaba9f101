#include <inttypes.h>
#include <math.h>

#include "json.h"

void vz_json_init(struct vz_json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->depth = 0;
	j->pretty = pretty;
	j->after_key = false;
	j->has_items[0] = false;
}

static void indent(struct vz_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct vz_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->has_items[j->depth])
			fputc(',', j->f);
		indent(j);
	}
	j->has_items[j->depth] = true;
}

static void open(struct vz_json *j, char c)
{
	before_item(j);
	fputc(c, j->f);
	if (j->depth < VZ_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close_(struct vz_json *j, char c)
{
	bool had = j->has_items[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->f);
}

void vz_json_begin_object(struct vz_json *j) { open(j, '{'); }
void vz_json_end_object(struct vz_json *j) { close_(j, '}'); }
void vz_json_begin_array(struct vz_json *j) { open(j, '['); }
void vz_json_end_array(struct vz_json *j) { close_(j, ']'); }

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void vz_json_key(struct vz_json *j, const char *key)
{
	before_item(j);
	put_string(j->f, key);
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = true;
}

void vz_json_string(struct vz_json *j, const char *s)
{
	before_item(j);
	if (s)
		put_string(j->f, s);
	else
		fputs("null", j->f);
}

void vz_json_int(struct vz_json *j, int64_t v)
{
	before_item(j);
	fprintf(j->f, "%" PRId64, v);
}

void vz_json_uint(struct vz_json *j, uint64_t v)
{
	before_item(j);
	fprintf(j->f, "%" PRIu64, v);
}

void vz_json_double(struct vz_json *j, double v)
{
	before_item(j);
	if (isfinite(v))
		fprintf(j->f, "%.17g", v);
	else
		fputs("null", j->f);
}

void vz_json_bool(struct vz_json *j, bool v)
{
	before_item(j);
	fputs(v ? "true" : "false", j->f);
}

void vz_json_null(struct vz_json *j)
{
	before_item(j);
	fputs("null", j->f);
}

void vz_json_finish(struct vz_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
