/* beancounter-check: validate, repair, sum and split resource configs.
 * Option parsing and printing only; the rules live in common/ubc.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ct.h"
#include "ctid.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "opts.h"
#include "res.h"
#include "ubc.h"
#include "util.h"

enum { EXIT_OK = 0, EXIT_UNREADABLE = 1, EXIT_FAILED = 2 };

static int opt_repair, opt_interactive, opt_json, opt_host;
static int opt_split;
static char *opt_reserve;

static const char *confdir(void)
{
	return vz_confdir();
}

static bool say(void)
{
	return vz_log_verbosity() >= VZ_LOG_WARN;
}

static void json_size(struct vz_json *j, const char *k, uint64_t v)
{
	vz_json_key(j, k);
	if (v == VZ_UNLIMITED)
		vz_json_null(j);
	else
		vz_json_uint(j, v);
}

static bool ask_user(const struct vz_ubc_issue *is, void *ctx)
{
	(void)ctx;
	char val[80], line[64];
	vz_ubc_format_pair(is->fix_param, is->fix_bar, is->fix_lim, val,
			   sizeof(val));
	/* with -j, stdout is for the JSON document */
	FILE *out = opt_json ? stderr : stdout;
	fprintf(out, "%s: %s\nFix: set %s=\"%s\"? [y/N] ",
		vz_ubc_sev_name(is->sev), is->msg,
		vz_ubc_def(is->fix_param)->name, val);
	fflush(out);
	if (!fgets(line, sizeof(line), stdin)) {
		fputc('\n', out);
		return false;
	}
	return line[0] == 'y' || line[0] == 'Y';
}

/* A CTID stands for confdir/conf/CTID.conf unless a file of that name
 * exists here. */
static char *conf_path(const char *arg)
{
	bool digits = *arg != '\0';
	for (const char *s = arg; *s; s++)
		if (*s < '0' || *s > '9')
			digits = false;
	if (digits && !vz_path_exists(arg))
		return xasprintf("%s/conf/%s.conf", confdir(), arg);
	return xstrdup(arg);
}

static int check_one(const char *arg)
{
	struct vz_error err = { 0 };
	struct vz_host_info host;
	_cleanup_free_ char *path = conf_path(arg);
	struct vz_conf c;
	struct vz_ubc u;
	struct vz_ubc_report found = { 0 }, fixes = { 0 }, after = { 0 };
	bool changed[VZ_UBC_NR] = { false };
	int rc = EXIT_OK;

	if (vz_host_info_read(&host, &err) < 0) {
		vz_report(&err);
		return EXIT_UNREADABLE;
	}
	vz_conf_init(&c, path);
	if (vz_conf_load(&c, path, &err) < 0) {
		vz_report(&err);
		vz_conf_free(&c);
		return EXIT_UNREADABLE;
	}
	vz_ubc_from_conf(&c, &u, &found);
	vz_ubc_validate(&u, &host, &found);

	if (opt_repair || opt_interactive) {
		if (!opt_json && !opt_interactive)
			vz_ubc_report_print(&found, stdout, NULL);
		vz_ubc_repair(&u, &host, opt_interactive ? ask_user : NULL,
			      NULL, &fixes, changed);
		if (fixes.n) {
			vz_ubc_to_conf(&u, changed, &c);
			if (vz_conf_save(&c, NULL, &err) < 0) {
				vz_prefix(&err, "repair %s", path);
				vz_report(&err);
				rc = EXIT_UNREADABLE;
				goto out;
			}
		}
		/* What is left after the repair decides the exit status. */
		struct vz_ubc u2;
		vz_ubc_from_conf(&c, &u2, &after);
		vz_ubc_validate(&u2, &host, &after);
	} else {
		after = found;
		found = (struct vz_ubc_report){ 0 };
	}
	if (after.errors)
		rc = EXIT_FAILED;

	if (opt_json) {
		struct vz_json j;
		vz_json_init(&j, stdout, isatty(STDOUT_FILENO));
		vz_json_begin_object(&j);
		vz_json_kv_string(&j, "file", path);
		vz_json_kv_bool(&j, "vswap", vz_ubc_is_vswap(&u));
		vz_json_kv_string(&j, "result", rc ? "failed" : "ok");
		vz_json_kv_int(&j, "errors", after.errors);
		vz_json_kv_int(&j, "warnings", after.warnings);
		vz_json_kv_int(&j, "recommendations", after.recs);
		vz_json_key(&j, "issues");
		vz_ubc_report_json(&after, &j);
		if (opt_repair || opt_interactive) {
			vz_json_key(&j, "found");
			vz_ubc_report_json(&found, &j);
			vz_json_key(&j, "fixes");
			vz_ubc_report_json(&fixes, &j);
		}
		vz_json_end_object(&j);
		vz_json_finish(&j);
	} else if (opt_repair || opt_interactive) {
		for (int i = 0; i < VZ_UBC_NR; i++) {
			char val[80];
			if (!changed[i])
				continue;
			vz_ubc_format_pair(i, u.p[i].bar, u.p[i].lim, val,
					   sizeof(val));
			printf("Fixed: %s=\"%s\"\n", vz_ubc_def(i)->name, val);
		}
		if (after.errors || after.warnings) {
			printf("Left after repair:\n");
			vz_ubc_report_print(&after, stdout, "  ");
		}
		if (say())
			printf("Validation completed: %s\n",
			       rc ? "failed" : "success");
	} else {
		vz_ubc_report_print(&after, stdout, NULL);
		if (say())
			printf("Validation completed: %s\n",
			       rc ? "failed" : "success");
	}
out:
	vz_ubc_report_free(&found);
	vz_ubc_report_free(&fixes);
	vz_ubc_report_free(&after);
	vz_conf_free(&c);
	return rc;
}

/* Exact when short ("256M"), else rounded ("23.5G"). */
static void cell(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "KMGTP";
	if (v == VZ_UNLIMITED) {
		snprintf(buf, len, "unlimited");
		return;
	}
	vz_format_size(v, buf, len);
	if (strlen(buf) <= 6)
		return;
	double d = (double)v;
	int u = -1;
	while (u < 4 && d >= 1024) {
		d /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%.0f", d);
	else
		snprintf(buf, len, "%.1f%c", d, units[u]);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

/* Memory in use by a running CT, from its cgroup. */
static bool held_cb(const char *ctid, uint64_t *ram, uint64_t *swap,
		    void *ctx)
{
	(void)ctx;
	unsigned id;
	struct vz_ct ct;
	struct vz_error err = { 0 };
	if (vz_ctid_parse(ctid, &id, NULL) < 0 || vz_ct_load(&ct, id, &err) < 0)
		return false;
	bool ok = vz_ct_res_held(&ct, ram, swap);
	vz_ct_free(&ct);
	return ok;
}

static int check_host(void)
{
	struct vz_error err = { 0 };
	struct vz_host_info host;
	struct vz_host_report r;

	if (vz_host_info_read(&host, &err) < 0 ||
	    vz_host_check(confdir(), &host, held_cb, NULL, &r,
			  &err) < 0) {
		vz_report(&err);
		return EXIT_UNREADABLE;
	}
	int rc = r.issues.errors ? EXIT_FAILED : EXIT_OK;
	uint64_t rs = host.ram + host.swap;

	if (opt_json) {
		struct vz_json j;
		vz_json_init(&j, stdout, isatty(STDOUT_FILENO));
		vz_json_begin_object(&j);
		vz_json_key(&j, "host");
		vz_json_begin_object(&j);
		vz_json_kv_uint(&j, "ram", host.ram);
		vz_json_kv_uint(&j, "swap", host.swap);
		vz_json_kv_uint(&j, "cpus", host.cpus);
		vz_json_end_object(&j);
		vz_json_key(&j, "containers");
		vz_json_begin_array(&j);
		for (size_t i = 0; i < r.n; i++) {
			const struct vz_host_ct *ct = &r.ct[i];
			vz_json_begin_object(&j);
			vz_json_kv_string(&j, "ctid", ct->ctid);
			vz_json_kv_bool(&j, "vswap", ct->vswap);
			json_size(&j, "ram", ct->ram);
			json_size(&j, "swap", ct->swap);
			json_size(&j, "commit", ct->commit);
			vz_json_key(&j, "held");
			if (ct->held_known)
				vz_json_uint(&j, ct->held);
			else
				vz_json_null(&j);
			vz_json_key(&j, "held_swap");
			if (ct->held_known)
				vz_json_uint(&j, ct->held_swap);
			else
				vz_json_null(&j);
			vz_json_kv_uint(&j, "cpuunits", ct->cpuunits);
			vz_json_kv_uint(&j, "cpulimit", ct->cpulimit);
			vz_json_kv_uint(&j, "cpus", ct->cpus);
			vz_json_key(&j, "cpu_share");
			vz_json_double(&j, r.sum_cpuunits ?
				       100.0 * host.cpus * ct->cpuunits /
				       (double)r.sum_cpuunits : 0);
			vz_json_kv_int(&j, "errors", ct->errors);
			vz_json_kv_int(&j, "warnings", ct->warnings);
			vz_json_end_object(&j);
		}
		vz_json_end_array(&j);
		vz_json_key(&j, "totals");
		vz_json_begin_object(&j);
		json_size(&j, "ram", r.sum_ram);
		json_size(&j, "commit", r.sum_commit);
		vz_json_kv_uint(&j, "held", r.sum_held);
		vz_json_kv_uint(&j, "held_swap", r.sum_held_swap);
		vz_json_kv_uint(&j, "cpuunits", r.sum_cpuunits);
		vz_json_kv_uint(&j, "cpulimit", r.sum_cpulimit);
		vz_json_end_object(&j);
		vz_json_key(&j, "percent");
		vz_json_begin_object(&j);
		vz_json_key(&j, "ram_commitment");
		if (r.sum_ram == VZ_UNLIMITED)
			vz_json_null(&j);
		else
			vz_json_double(&j, pct(r.sum_ram, host.ram));
		vz_json_key(&j, "ramswap_commitment");
		if (r.sum_commit == VZ_UNLIMITED)
			vz_json_null(&j);
		else
			vz_json_double(&j, pct(r.sum_commit, rs));
		vz_json_key(&j, "utilisation");
		vz_json_double(&j, pct(r.sum_held, host.ram));
		vz_json_key(&j, "ramswap_utilisation");
		vz_json_double(&j, pct(r.sum_held + r.sum_held_swap, rs));
		vz_json_key(&j, "cpulimit_commitment");
		vz_json_double(&j, pct(r.sum_cpulimit, 100ULL * host.cpus));
		vz_json_end_object(&j);
		vz_json_kv_string(&j, "result", rc ? "failed" : "ok");
		vz_json_key(&j, "issues");
		vz_ubc_report_json(&r.issues, &j);
		vz_json_end_object(&j);
		vz_json_finish(&j);
	} else {
		char a[32], b[32], c[32], d[32];
		printf("%-10s %10s %10s %10s %10s %8s %8s %7s\n", "CTID", "RAM",
		       "SWAP", "COMMIT", "HELD", "CPUUNITS", "CPULIMIT",
		       "SHARE");
		for (size_t i = 0; i < r.n; i++) {
			const struct vz_host_ct *ct = &r.ct[i];
			cell(a, sizeof(a), ct->ram);
			cell(b, sizeof(b), ct->swap);
			cell(c, sizeof(c), ct->commit);
			if (ct->held_known)
				cell(d, sizeof(d), ct->held);
			else
				snprintf(d, sizeof(d), "-");
			printf("%-10s %10s %10s %10s %10s %8u %7u%% %6.1f%%\n",
			       ct->ctid, a, b, c, d, ct->cpuunits,
			       ct->cpulimit,
			       r.sum_cpuunits ? 100.0 * host.cpus *
			       ct->cpuunits / (double)r.sum_cpuunits : 0);
		}
		cell(a, sizeof(a), host.ram);
		cell(b, sizeof(b), rs);
		printf("Host: RAM %s, RAM + swap %s, %u CPUs\n", a, b,
		       host.cpus);
		cell(c, sizeof(c), r.sum_ram);
		if (r.sum_ram == VZ_UNLIMITED)
			printf("RAM commitment:       unlimited\n");
		else
			printf("RAM commitment:       %s of %s (%.1f%%)\n", c, a,
			       pct(r.sum_ram, host.ram));
		cell(c, sizeof(c), r.sum_commit);
		if (r.sum_commit == VZ_UNLIMITED)
			printf("RAM+swap commitment:  unlimited\n");
		else
			printf("RAM+swap commitment:  %s of %s (%.1f%%)\n", c, b,
			       pct(r.sum_commit, rs));
		cell(c, sizeof(c), r.sum_held);
		printf("RAM utilisation:      %s of %s (%.1f%%)\n", c, a,
		       pct(r.sum_held, host.ram));
		cell(c, sizeof(c), r.sum_held + r.sum_held_swap);
		printf("RAM+swap utilisation: %s of %s (%.1f%%)\n", c, b,
		       pct(r.sum_held + r.sum_held_swap, rs));
		printf("CPU units:            %" PRIu64 " in all; CPU limits add up to %" PRIu64 "%% of %u%%\n",
		       r.sum_cpuunits, r.sum_cpulimit, 100 * host.cpus);
		vz_ubc_report_print(&r.issues, stdout, NULL);
	}
	vz_host_report_free(&r);
	return rc;
}

static int split(void)
{
	struct vz_error err = { 0 };
	struct vz_host_info host;
	struct vz_split s;
	uint64_t reserve = 0;

	if (opt_reserve && (vz_parse_size(opt_reserve, 1024 * 1024, &reserve) < 0 ||
			    !reserve)) {
		vz_err("--reserve: \"%s\" is not a size (MiB, or with K/M/G/T)",
		       opt_reserve);
		return EXIT_UNREADABLE;
	}
	if (opt_split <= 0) {
		vz_err("--split: the number of containers must be 1 or more");
		return EXIT_UNREADABLE;
	}
	if (vz_host_info_read(&host, &err) < 0 ||
	    vz_split(&host, (unsigned)opt_split, reserve, &s, &err) < 0) {
		vz_report(&err);
		return EXIT_UNREADABLE;
	}
	_cleanup_free_ char *text = vz_split_text(&s);
	if (opt_json) {
		struct vz_json j;
		vz_json_init(&j, stdout, isatty(STDOUT_FILENO));
		vz_json_begin_object(&j);
		vz_json_kv_uint(&j, "containers", s.n);
		vz_json_kv_uint(&j, "reserve", s.reserve);
		vz_json_kv_uint(&j, "ram", s.ram);
		vz_json_kv_uint(&j, "swap", s.swap);
		vz_json_kv_uint(&j, "cpuunits", s.cpuunits);
		vz_json_kv_uint(&j, "numproc", s.numproc);
		vz_json_kv_string(&j, "config", text);
		vz_json_end_object(&j);
		vz_json_finish(&j);
	} else {
		fputs(text, stdout);
	}
	return EXIT_OK;
}

int main(int argc, const char **argv)
{
	struct poptOption opts[] = {
		{ "repair", 'r', POPT_ARG_NONE, &opt_repair, 0,
		  "repair the config in place", NULL },
		{ "interactive", 'i', POPT_ARG_NONE, &opt_interactive, 0,
		  "ask before each repair", NULL },
		{ "host", '\0', POPT_ARG_NONE, &opt_host, 0,
		  "check all containers of this host", NULL },
		{ "split", '\0', POPT_ARG_INT, &opt_split, 's',
		  "print a sample config for N containers of this host", "N" },
		{ "reserve", '\0', POPT_ARG_STRING, &opt_reserve, 0,
		  "RAM kept for the host with --split (default max(256M, RAM/20))",
		  "SIZE" },
		{ "json", 'j', POPT_ARG_NONE, &opt_json, 0, "JSON output", NULL },
		VZ_POPT_COMMON,
		POPT_TABLEEND
	};
	vz_log_init("beancounter-check");
	poptContext ctx = poptGetContext(NULL, argc, argv, opts, 0);
	poptSetOtherOptionHelp(ctx, "[-r|-i] [-j] FILE|CTID | --host | --split N");
	int val, rc, split_given = 0;
	do {
		rc = vz_popt_next(ctx, &val);
		if (val == 's')
			split_given = 1;
	} while (!rc && val);
	if (rc) {
		poptFreeContext(ctx);
		return EXIT_UNREADABLE;
	}
	const char *file = poptGetArg(ctx);
	const char *extra = poptGetArg(ctx);
	int modes = !!file + opt_host + split_given;
	if (modes != 1 || extra || (opt_repair && opt_interactive) ||
	    ((opt_repair || opt_interactive) && !file)) {
		vz_err("give one of: a config (FILE or CTID), --host, --split N; -r or -i only with a config (see --help)");
		poptFreeContext(ctx);
		return EXIT_UNREADABLE;
	}
	if (file)
		rc = check_one(file);
	else if (opt_host)
		rc = check_host();
	else
		rc = split();
	poptFreeContext(ctx);
	return rc;
}
