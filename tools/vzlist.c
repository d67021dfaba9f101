/* vzlist: list containers and their fields as a table, -H/-o for scripts,
 * -j for JSON. */
#include <ctype.h>
#include <dirent.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "ctid.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "opts.h"
#include "res.h"
#include "util.h"

struct row {
	struct vz_ct ct;
	enum vz_ct_state state;
	long nproc;   /* -1 when not running */
};

enum kind { K_CONF, K_NUM, K_STR, K_RES };

struct field {
	const char *name;
	const char *header;
	int width;          /* negative: left-aligned */
	enum kind kind;
	const char *key;    /* config key for K_CONF */
	const char *help;
};

static const char *state_name(enum vz_ct_state s)
{
	switch (s) {
	case VZ_CT_RUNNING: return "running";
	case VZ_CT_MOUNTED: return "mounted";
	case VZ_CT_SUSPENDED: return "suspended";
	case VZ_CT_DELETED: return "deleted";
	default: return "stopped";
	}
}

static const struct field fields[] = {
	{ "ctid", "CTID", 10, K_NUM, NULL, "container ID" },
	{ "nproc", "NPROC", 10, K_NUM, NULL, "processes (running CTs)" },
	{ "status", "STATUS", -9, K_STR, NULL, "running, stopped, mounted or suspended" },
	{ "ip", "IP_ADDR", -15, K_CONF, "IP_ADDRESS", "routed IP addresses" },
	{ "hostname", "HOSTNAME", -20, K_CONF, "HOSTNAME", "hostname" },
	{ "name", "NAME", -12, K_CONF, "NAME", "container name" },
	{ "description", "DESCRIPTION", -20, K_CONF, "DESCRIPTION", "description" },
	{ "ostemplate", "OSTEMPLATE", -16, K_CONF, "OSTEMPLATE", "OS template" },
	{ "onboot", "ONBOOT", -6, K_CONF, "ONBOOT", "start at host boot" },
	{ "bootorder", "BOOTORDER", 9, K_CONF, "BOOTORDER", "start order at host boot" },
	{ "private", "PRIVATE", -30, K_STR, NULL, "private area" },
	{ "root", "ROOT", -30, K_STR, NULL, "root mount point" },
	{ "layout", "LAYOUT", -6, K_CONF, "VE_LAYOUT", "disk layout" },
	{ "nameserver", "NAMESERVER", -15, K_CONF, "NAMESERVER", "DNS servers" },
	{ "searchdomain", "SEARCHDOMAIN", -15, K_CONF, "SEARCHDOMAIN", "DNS search domains" },
	{ "cpuunits", "CPUUNITS", 8, K_CONF, "CPUUNITS", "CPU weight" },
	{ "cpulimit", "CPULIM", 6, K_CONF, "CPULIMIT", "CPU limit, % of one CPU" },
	{ "cpus", "CPUS", 4, K_CONF, "CPUS", "number of CPUs" },
	{ "cpumask", "CPUMASK", -8, K_CONF, "CPUMASK", "CPUs to run on" },
	{ "ioprio", "IOP", 3, K_CONF, "IOPRIO", "I/O priority" },
	{ "iolimit", "IOLIMIT", 10, K_CONF, "IOLIMIT", "disk bandwidth, bytes/s" },
	{ "iopslimit", "IOPSLIMIT", 9, K_CONF, "IOPSLIMIT", "disk operations/s" },
	{ "physpages", "PHYSPAGES", 10, K_RES, NULL,
	  "RAM in use, pages; every UBC name works, with .m maxheld, .b barrier, .l limit, .f failcnt" },
	{ "physpages.l", "PHYSP.L", 10, K_RES, NULL, "RAM limit, pages" },
	{ "swappages", "SWAPPAGES", 10, K_RES, NULL, "swap in use, pages" },
	{ "swappages.l", "SWAPP.L", 10, K_RES, NULL, "swap limit, pages" },
	{ "numproc", "NUMPROC", 8, K_RES, NULL, "processes" },
	{ "numproc.l", "NUMPROC.L", 10, K_RES, NULL, "process limit" },
};

static const struct field *find_field(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	/* any other UBC field: "kmemsize", "numproc.f", ... */
	static struct field *dyn[64];
	static size_t ndyn;
	for (size_t i = 0; i < ndyn; i++)
		if (strcmp(dyn[i]->name, name) == 0)
			return dyn[i];
	if (vz_res_field_known(name) && ndyn < ARRAY_SIZE(dyn)) {
		struct field *f = xcalloc(1, sizeof(*f));
		dyn[ndyn++] = f;
		char *h = xstrdup(name);
		for (char *p = h; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		f->name = xstrdup(name);
		f->header = h;
		f->width = 10;
		f->kind = K_RES;
		f->help = "";
		return f;
	}
	return NULL;
}

/* The value of a field for a row; NULL when it has none. */
static const char *value(const struct field *f, const struct row *r, char *buf,
			 size_t len)
{
	if (f->kind == K_RES)
		return vz_ct_res_field(&r->ct, r->state == VZ_CT_RUNNING, f->name,
				       buf, len);
	if (f->kind == K_CONF) {
		const char *v = vz_ct_get(&r->ct, f->key);
		return v && *v ? v : NULL;
	}
	if (!strcmp(f->name, "ctid"))
		return r->ct.idstr;
	if (!strcmp(f->name, "nproc")) {
		if (r->nproc < 0)
			return NULL;
		snprintf(buf, len, "%ld", r->nproc);
		return buf;
	}
	if (!strcmp(f->name, "status"))
		return state_name(r->state);
	if (!strcmp(f->name, "private"))
		return r->ct.private_dir;
	if (!strcmp(f->name, "root"))
		return r->ct.root;
	return NULL;
}

static int sort_sign = 1;
static const struct field *sort_field;

static int cmp_rows(const void *a, const void *b)
{
	const struct row *ra = a, *rb = b;
	if (!sort_field)
		return (ra->ct.id > rb->ct.id) - (ra->ct.id < rb->ct.id);
	char ba[64], bb[64];
	const char *va = value(sort_field, ra, ba, sizeof(ba));
	const char *vb = value(sort_field, rb, bb, sizeof(bb));
	int r;
	if (!va || !vb)
		r = (va != NULL) - (vb != NULL);
	else if (sort_field->kind == K_NUM ||
		 (strspn(va, "0123456789") == strlen(va) &&
		  strspn(vb, "0123456789") == strlen(vb) && *va && *vb)) {
		unsigned long long x = strtoull(va, NULL, 10), y = strtoull(vb, NULL, 10);
		r = (x > y) - (x < y);
	} else {
		r = strcmp(va, vb);
	}
	if (r == 0)
		r = (ra->ct.id > rb->ct.id) - (ra->ct.id < rb->ct.id);
	return r * sort_sign;
}

static int load_row(struct row *r, unsigned id, struct vz_error *err)
{
	if (vz_ct_load(&r->ct, id, err) < 0)
		return -1;
	r->state = vz_ct_state(&r->ct);
	r->nproc = -1;
	if (r->state == VZ_CT_RUNNING) {
		pid_t *pids;
		size_t n;
		if (vz_cg_pids(&r->ct.cg, &pids, &n, NULL) == 0) {
			r->nproc = (long)n;
			free(pids);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	vz_log_init("vzlist");
	int all = 0, stopped = 0, no_header = 0, json = 0, list_fields = 0;
	char *out_fields = NULL, *sort = NULL;
	struct poptOption table[] = {
		{ "all", 'a', POPT_ARG_NONE, &all, 0, "all containers, not only running ones", NULL },
		{ "stopped", 'S', POPT_ARG_NONE, &stopped, 0, "stopped containers only", NULL },
		{ "no-header", 'H', POPT_ARG_NONE, &no_header, 0, "no header line", NULL },
		{ "output", 'o', POPT_ARG_STRING, &out_fields, 0, "fields to show", "FIELD,..." },
		{ "sort", 's', POPT_ARG_STRING, &sort, 0, "sort by field (-field: descending)", "[-]FIELD" },
		{ "json", 'j', POPT_ARG_NONE, &json, 0, "JSON output", NULL },
		{ "list", 'L', POPT_ARG_NONE, &list_fields, 0, "list the fields", NULL },
		VZ_POPT_COMMON, POPT_TABLEEND
	};
	poptContext pc = poptGetContext("vzlist", argc, (const char **)argv, table, 0);
	poptSetOtherOptionHelp(pc, "[options] [CTID...]");
	int val, rc;
	do {
		if ((rc = vz_popt_next(pc, &val)) != 0)
			return rc;
	} while (val);

	if (list_fields) {
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			printf("%-14s %-13s %s\n", fields[i].name, fields[i].header, fields[i].help);
		return 0;
	}

	const struct field *cols[ARRAY_SIZE(fields) * 4];
	size_t ncols = 0;
	if (out_fields) {
		_cleanup_strv_ char **names = vz_strv_split(out_fields, ",");
		if (!names[0]) {
			vz_err("-o needs at least one field (vzlist -L lists them)");
			return VZ_EUSAGE;
		}
		for (size_t i = 0; names[i]; i++) {
			const struct field *f = find_field(names[i]);
			if (!f) {
				vz_err("unknown field '%s' (vzlist -L lists them)", names[i]);
				return VZ_EUSAGE;
			}
			if (ncols < ARRAY_SIZE(cols))
				cols[ncols++] = f;
		}
	} else if (json) {
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			cols[ncols++] = &fields[i];
	} else {
		static const char *const def[] = { "ctid", "nproc", "status", "ip", "hostname" };
		for (size_t i = 0; i < ARRAY_SIZE(def); i++)
			cols[ncols++] = find_field(def[i]);
	}
	if (sort) {
		const char *name = sort;
		if (*name == '-') {
			sort_sign = -1;
			name++;
		}
		sort_field = find_field(name);
		if (!sort_field) {
			vz_err("unknown sort field '%s' (vzlist -L lists them)", name);
			return VZ_EUSAGE;
		}
	}

	struct row *rows = NULL;
	size_t nrows = 0;
	int status = 0;
	struct vz_error err = { 0 };
	const char **args = poptGetArgs(pc);
	if (args && args[0]) {
		for (size_t i = 0; args[i]; i++) {
			unsigned id;
			if (vz_ctid_parse(args[i], &id, &err) < 0)
				return vz_report(&err);
			rows = xrealloc(rows, (nrows + 1) * sizeof(*rows));
			if (load_row(&rows[nrows], id, &err) < 0)
				return vz_report(&err);
			if (!rows[nrows].ct.exists) {
				vz_err("CT %u does not exist", id);
				vz_ct_free(&rows[nrows].ct);
				status = VZ_ENOENT;
				continue;
			}
			nrows++;
		}
	} else {
		_cleanup_free_ char *dir = xasprintf("%s/conf", vz_confdir());
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t n = strlen(de->d_name);
			if (n < 6 || strcmp(de->d_name + n - 5, ".conf"))
				continue;
			char idbuf[16];
			if (n - 5 >= sizeof(idbuf))
				continue;
			memcpy(idbuf, de->d_name, n - 5);
			idbuf[n - 5] = '\0';
			unsigned id;
			if (vz_ctid_parse(idbuf, &id, NULL) < 0)
				continue;
			rows = xrealloc(rows, (nrows + 1) * sizeof(*rows));
			if (load_row(&rows[nrows], id, &err) < 0) {
				vz_report(&err);
				status = err.code;
				vz_ct_free(&rows[nrows].ct);
				continue;
			}
			bool run = rows[nrows].state == VZ_CT_RUNNING;
			if ((stopped && run) || (!all && !stopped && !run)) {
				vz_ct_free(&rows[nrows].ct);
				continue;
			}
			nrows++;
		}
		if (d)
			closedir(d);
	}
	qsort(rows, nrows, sizeof(*rows), cmp_rows);

	char buf[64];
	if (json) {
		struct vz_json j;
		vz_json_init(&j, stdout, true);
		vz_json_begin_array(&j);
		for (size_t r = 0; r < nrows; r++) {
			vz_json_begin_object(&j);
			for (size_t c = 0; c < ncols; c++) {
				const char *v = value(cols[c], &rows[r], buf, sizeof(buf));
				vz_json_key(&j, cols[c]->name);
				if (v && (cols[c]->kind == K_NUM || cols[c]->kind == K_RES))
					vz_json_uint(&j, strtoull(v, NULL, 10));
				else
					vz_json_string(&j, v);
			}
			vz_json_end_object(&j);
		}
		vz_json_end_array(&j);
		vz_json_finish(&j);
	} else {
		if (!no_header) {
			for (size_t c = 0; c < ncols; c++) {
				bool last = c + 1 == ncols;
				int w = cols[c]->width;
				printf(c ? " " : "");
				if (last && w < 0)
					printf("%s", cols[c]->header);
				else
					printf("%*s", w, cols[c]->header);
			}
			putchar('\n');
		}
		for (size_t r = 0; r < nrows; r++) {
			for (size_t c = 0; c < ncols; c++) {
				const char *v = value(cols[c], &rows[r], buf, sizeof(buf));
				bool last = c + 1 == ncols;
				int w = cols[c]->width;
				printf(c ? " " : "");
				if (last && w < 0)
					printf("%s", v ? v : "-");
				else
					printf("%*s", w, v ? v : "-");
			}
			putchar('\n');
		}
	}
	if (nrows == 0 && !json && !args)
		vz_info("no containers found");
	for (size_t r = 0; r < nrows; r++)
		vz_ct_free(&rows[r].ct);
	free(rows);
	poptFreeContext(pc);
	free(out_fields);
	free(sort);
	return status;
}
