/* vzctl: container lifecycle.  Option parsing and output only; the work is
 * done in libvz (common/ct*.c). */
#include <errno.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "criu.h"
#include "ct.h"
#include "net.h"
#include "ctid.h"
#include "error.h"
#include "log.h"
#include "json.h"
#include "opts.h"
#include "res.h"
#include "res-opts.h"
#include "util.h"

/* Own failures of exec/enter/runscript: the command's status is the exit
 * status otherwise, so vzctl's own errors need a value of their own. */
#define EXEC_OWN_ERROR 255

static int opt_wait;

static struct poptOption lock_popt[] = {
	{ "wait", '\0', POPT_ARG_NONE, &opt_wait, 0,
	  "wait for another command holding the CT's lock", NULL },
	POPT_TABLEEND
};
#define LOCK_OPTIONS { NULL, '\0', POPT_ARG_INCLUDE_TABLE, lock_popt, 0, "Locking:", NULL }

struct cmd;
typedef int (*cmd_fn)(struct vz_ct *ct, poptContext pc, struct vz_error *err);

struct cmd {
	const char *name;
	const char *alias;
	cmd_fn fn;
	struct poptOption *popt;
	bool lock;        /* takes the CT's lock */
	bool raw_args;    /* everything after CTID belongs to the command */
	const char *args; /* usage text */
	const char *help;
};

/* ---- create ---- */
static struct vz_create_opts create_o;
static struct poptOption create_popt[] = {
	{ "ostemplate", '\0', POPT_ARG_STRING, &create_o.ostemplate, 0,
	  "OS template (TEMPLATE/cache/NAME.tar.*)", "NAME" },
	{ "config", '\0', POPT_ARG_STRING, &create_o.config, 0,
	  "config sample (conf/ve-NAME.conf-sample)", "NAME" },
	{ "hostname", '\0', POPT_ARG_STRING, &create_o.hostname, 0, "hostname", "NAME" },
	{ "private", '\0', POPT_ARG_STRING, &create_o.private_dir, 0,
	  "private area ($VEID allowed)", "PATH" },
	{ "root", '\0', POPT_ARG_STRING, &create_o.root, 0,
	  "root mount point ($VEID allowed)", "PATH" },
	LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND
};

static int cmd_create(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	if (create_o.hostname) {
		const struct vz_param *p = vz_param_find("HOSTNAME");
		if (vz_param_check(p, create_o.hostname, err) < 0)
			return -1;
	}
	return vz_ct_create(ct, &create_o, err);
}

/* ---- start / stop / restart ---- */
static int start_force;
static struct poptOption start_popt[] = {
	{ "force", '\0', POPT_ARG_NONE, &start_force, 0,
	  "start even if the resource config fails beancounter-check", NULL },
	LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND
};

static int cmd_start(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	if (ct->exists && !start_force && vz_ct_res_validate(ct, err) < 0)
		return vz_prefix(err, "start");
	return vz_ct_start(ct, err);
}

static struct vz_stop_opts stop_o = { .timeout = -1 };
/* stop's own options, restart's too */
static struct poptOption stop_opts_popt[] = {
	{ "fast", '\0', POPT_ARG_NONE, &stop_o.fast, 0,
	  "kill at once instead of a graceful halt", NULL },
	{ "timeout", 't', POPT_ARG_INT, &stop_o.timeout, 0,
	  "seconds to wait for a graceful halt (default STOP_TIMEOUT)", "SECONDS" },
	POPT_TABLEEND
};
#define STOP_OPTIONS { NULL, '\0', POPT_ARG_INCLUDE_TABLE, stop_opts_popt, 0, NULL, NULL }
static struct poptOption stop_popt[] = {
	STOP_OPTIONS, LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND
};

static int check_timeout(struct vz_error *err)
{
	if (stop_o.timeout < -1 || stop_o.timeout > 86400)
		return vz_fail(err, VZ_EUSAGE, "--timeout must be 0..86400 seconds");
	return 0;
}

static int cmd_stop(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	if (check_timeout(err) < 0)
		return -1;
	return vz_ct_stop(ct, &stop_o, err);
}

/* stop's options, and start's --force for the start half */
static struct poptOption restart_popt[] = {
	STOP_OPTIONS,
	{ "force", '\0', POPT_ARG_NONE, &start_force, 0,
	  "restart even if the resource config fails beancounter-check", NULL },
	LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND
};

static int cmd_restart(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	if (check_timeout(err) < 0)
		return -1;
	/* checked before the stop: a config that cannot start stays running */
	if (ct->exists && !start_force && vz_ct_res_validate(ct, err) < 0)
		return vz_prefix(err, "restart");
	if (vz_ct_stop(ct, &stop_o, err) < 0)
		return -1;
	return vz_ct_start(ct, err);
}

/* ---- status / mount / umount / destroy ---- */
static struct poptOption plain_popt[] = { VZ_POPT_COMMON, POPT_TABLEEND };
static struct poptOption plain_lock_popt[] = { LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND };

static int cmd_status(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	_cleanup_free_ char *line = vz_ct_status_line(ct);
	puts(line);
	return 0;
}

static int cmd_mount(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	return vz_ct_mount(ct, err);
}

static int cmd_umount(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	return vz_ct_umount(ct, err);
}

static int cmd_destroy(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	return vz_ct_destroy(ct, err);
}

/* ---- suspend / resume (common/criu-ct.c) ---- */
static struct vz_suspend_opts suspend_o;
static int cpt_stats;
static struct poptOption suspend_popt[] = {
	{ "dumpfile", '\0', POPT_ARG_STRING, &suspend_o.dumpfile, 0,
	  "dump into this directory (new or empty) instead of DUMPDIR/CTID", "DIR" },
	{ "leave-running", '\0', POPT_ARG_NONE, &suspend_o.leave_running, 0,
	  "dump only: the container goes on running", NULL },
	{ "stats", '\0', POPT_ARG_NONE, &cpt_stats, 0,
	  "print the phase times and CRIU's statistics as JSON", NULL },
	LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND
};

static int cmd_suspend(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	struct vz_cpt_report rep;
	int r = vz_ct_suspend(ct, &suspend_o, &rep, err);
	if (r == 0)
		vz_cpt_report_print(&rep, "suspend", cpt_stats);
	vz_cpt_report_free(&rep);
	return r;
}

static struct vz_resume_opts resume_o;
static struct poptOption resume_popt[] = {
	{ "dumpfile", '\0', POPT_ARG_STRING, &resume_o.dumpfile, 0,
	  "restore from this dump directory", "DIR" },
	{ "stats", '\0', POPT_ARG_NONE, &cpt_stats, 0,
	  "print the phase times and CRIU's statistics as JSON", NULL },
	LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND
};

static int cmd_resume(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	struct vz_cpt_report rep;
	int r = vz_ct_resume(ct, &resume_o, &rep, err);
	if (r == 0)
		vz_cpt_report_print(&rep, "resume", cpt_stats);
	vz_cpt_report_free(&rep);
	return r;
}

/* ---- exec / enter / runscript ---- */
static int exec_status;

static int cmd_exec(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	const char **rest = poptGetArgs(pc);
	char **argv = NULL;
	/* "vzctl exec CT -" and no command both mean: commands on stdin */
	if (rest && rest[0] && !(strcmp(rest[0], "-") == 0 && !rest[1])) {
		argv = xcalloc(vz_strv_len((char **)rest) + 1, sizeof(*argv));
		for (size_t i = 0; rest[i]; i++)
			argv[i] = (char *)rest[i];
	}
	int r = vz_ct_exec_final(ct, argv, &exec_status, err);
	free(argv);
	return r;
}

static int cmd_enter(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	return vz_ct_enter(ct, &exec_status, err);
}

static int cmd_runscript(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	const char **rest = poptGetArgs(pc);
	if (!rest || !rest[0] || rest[1])
		return vz_fail(err, VZ_EUSAGE, "runscript needs exactly one script file");
	return vz_ct_runscript(ct, rest[0], &exec_status, err);
}

/* ---- set ---- */
static char *set_hostname, *set_onboot, *set_description;
static char **set_ns, **set_sd, **set_caps, **set_devs;
static char **set_res;  /* "KEY=value" of the resource options */
static int set_save, set_force;

static struct vz_net_set set_net;

enum { OPT_NS = 1000, OPT_SD, OPT_CAP, OPT_DEV, OPT_IPADD, OPT_IPDEL,
       OPT_NIFADD, OPT_NIFDEL };

static struct poptOption set_popt[] = {
	{ "hostname", '\0', POPT_ARG_STRING, &set_hostname, 0, "hostname", "NAME" },
	{ "nameserver", '\0', POPT_ARG_STRING, NULL, OPT_NS,
	  "DNS server (repeat for several)", "ADDR" },
	{ "searchdomain", '\0', POPT_ARG_STRING, NULL, OPT_SD,
	  "DNS search domain (repeat for several)", "DOMAIN" },
	{ "ipadd", '\0', POPT_ARG_STRING, NULL, OPT_IPADD,
	  "add a routed IP address (repeat)", "ADDR[/PREFIX]" },
	{ "ipdel", '\0', POPT_ARG_STRING, NULL, OPT_IPDEL,
	  "remove a routed IP address (repeat; all: every one)", "ADDR|all" },
	{ "netif_add", '\0', POPT_ARG_STRING, NULL, OPT_NIFADD,
	  "add a veth: IFNAME[,MAC,HOST_IFNAME,HOST_MAC,BRIDGE]", "SPEC" },
	{ "netif_del", '\0', POPT_ARG_STRING, NULL, OPT_NIFDEL,
	  "remove a veth interface (all: every one)", "IFNAME|all" },
	{ "ifname", '\0', POPT_ARG_STRING, &set_net.ifname, 0,
	  "the veth that the next four options change", "IFNAME" },
	{ "mac", '\0', POPT_ARG_STRING, &set_net.mac, 0, "MAC inside", "MAC" },
	{ "host_ifname", '\0', POPT_ARG_STRING, &set_net.host_ifname, 0,
	  "host-side interface name", "NAME" },
	{ "host_mac", '\0', POPT_ARG_STRING, &set_net.host_mac, 0, "host-side MAC", "MAC" },
	{ "bridge", '\0', POPT_ARG_STRING, &set_net.bridge, 0, "bridge to join", "BRIDGE" },
	{ "onboot", '\0', POPT_ARG_STRING, &set_onboot, 0,
	  "start when the host boots", "yes|no" },
	{ "capability", '\0', POPT_ARG_STRING, NULL, OPT_CAP,
	  "capability in the bounding set (repeat)", "NAME:on|off" },
	{ "devices", '\0', POPT_ARG_STRING, NULL, OPT_DEV,
	  "device access (repeat)", "c|b:MAJOR:MINOR|all:r|w|rw|none" },
	{ "description", '\0', POPT_ARG_STRING, &set_description, 0,
	  "free-form description", "TEXT" },
	VZ_RES_POPT,
	{ "save", '\0', POPT_ARG_NONE, &set_save, 0,
	  "save the changes in the CT's config", NULL },
	{ "force", '\0', POPT_ARG_NONE, &set_force, 0,
	  "apply even if validation fails", NULL },
	LOCK_OPTIONS, VZ_POPT_COMMON, POPT_TABLEEND
};

static int set_opt(int val, const char *arg)
{
	switch (val) {
	case OPT_NS: set_ns = vz_strv_push(set_ns, arg); return 1;
	case OPT_SD: set_sd = vz_strv_push(set_sd, arg); return 1;
	case OPT_CAP: set_caps = vz_strv_push(set_caps, arg); return 1;
	case OPT_DEV: set_devs = vz_strv_push(set_devs, arg); return 1;
	case OPT_IPADD: set_net.ipadd = vz_strv_push(set_net.ipadd, arg); return 1;
	case OPT_IPDEL: set_net.ipdel = vz_strv_push(set_net.ipdel, arg); return 1;
	case OPT_NIFADD: set_net.netif_add = vz_strv_push(set_net.netif_add, arg); return 1;
	case OPT_NIFDEL: set_net.netif_del = vz_strv_push(set_net.netif_del, arg); return 1;
	}
	const char *key = vz_res_opt_key(val);
	if (key) {
		_cleanup_free_ char *kv = xasprintf("%s=%s", key, arg);
		set_res = vz_strv_push(set_res, kv);
		return 1;
	}
	return 0;
}

static int set_param(struct vz_ct *ct, const char *key, const char *value,
		     struct vz_error *err)
{
	const struct vz_param *p = vz_param_find(key);
	if (p && vz_param_check(p, value, err) < 0)
		return -1;
	vz_conf_set(&ct->conf, key, value);
	return 0;
}

static int sethostname_inside(void *arg)
{
	const char *h = arg;
	return sethostname(h, strlen(h)) < 0 ? 1 : 0;
}

/* Merges "name:on" items into an existing CAPABILITY list, last wins. */
static char *merge_caps(const char *old, char **add)
{
	char **all = vz_strv_split(old ? old : "", " \t");
	for (size_t i = 0; add && add[i]; i++) {
		const char *colon = strrchr(add[i], ':');
		size_t n = colon ? (size_t)(colon - add[i]) : strlen(add[i]);
		size_t w = 0;
		for (size_t j = 0; all[j]; j++) {
			if (strncasecmp(all[j], add[i], n) == 0 && all[j][n] == ':')
				free(all[j]);
			else
				all[w++] = all[j];
		}
		all[w] = NULL;
		all = vz_strv_push(all, add[i]);
	}
	char *r = vz_strv_join(all, " ");
	vz_strv_free(all);
	return r;
}

static int cmd_set(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	bool any = set_hostname || set_onboot || set_description || set_ns ||
		   set_sd || set_caps || set_devs || vz_net_set_any(&set_net) ||
		   set_res;
	if (!any)
		return vz_fail(err, VZ_EUSAGE, "set: nothing to set (see vzctl set --help)");
	if (set_hostname && (set_param(ct, "HOSTNAME", set_hostname, err) < 0))
		return -1;
	if (set_hostname && vz_hostname_check(set_hostname, err) < 0)
		return -1;
	for (size_t i = 0; set_ns && set_ns[i]; i++)
		if (vz_nameserver_check(set_ns[i], err) < 0)
			return -1;
	for (size_t i = 0; set_sd && set_sd[i]; i++)
		if (vz_searchdomain_check(set_sd[i], err) < 0)
			return -1;
	if (set_onboot) {
		bool b;
		if (vz_parse_bool(set_onboot, &b) < 0)
			return vz_fail(err, VZ_EUSAGE, "--onboot takes yes or no, not '%s'", set_onboot);
		vz_conf_set(&ct->conf, "ONBOOT", b ? "yes" : "no");
	}
	if (set_description)
		vz_conf_set(&ct->conf, "DESCRIPTION", set_description);
	if (set_ns) {
		_cleanup_free_ char *v = vz_strv_join(set_ns, " ");
		vz_conf_set(&ct->conf, "NAMESERVER", v);
	}
	if (set_sd) {
		_cleanup_free_ char *v = vz_strv_join(set_sd, " ");
		vz_conf_set(&ct->conf, "SEARCHDOMAIN", v);
	}
	if (set_caps) {
		_cleanup_free_ char *v = merge_caps(vz_ct_get(ct, "CAPABILITY"), set_caps);
		vz_conf_set(&ct->conf, "CAPABILITY", v);
		uint64_t drop;
		if (vz_caps_drop_mask(ct, &drop, err) < 0)
			return -1;
	}
	if (set_devs) {
		_cleanup_free_ char *v = vz_strv_join(set_devs, " ");
		vz_conf_set(&ct->conf, "DEVICES", v);
	}

	for (size_t i = 0; set_res && set_res[i]; i++) {
		char *eq = strchr(set_res[i], '=');
		*eq = '\0';
		int r = vz_res_conf_set(&ct->conf, set_res[i], eq + 1, err);
		*eq = '=';
		if (r < 0)
			return -1;
	}
	if (set_res && !set_force && vz_ct_res_validate(ct, err) < 0)
		return -1;

	bool running = vz_ct_state(ct) == VZ_CT_RUNNING;
	if (running && set_res) {
		/* all or nothing: a refused value leaves the old ones */
		_cleanup_strv_ char **unenf = NULL;
		if (vz_ct_res_apply(ct, &unenf, err) < 0)
			return -1;
		for (size_t i = 0; unenf && unenf[i]; i++)
			for (size_t j = 0; set_res[j]; j++) {
				size_t n = strcspn(set_res[j], "=");
				if (!strncmp(unenf[i], set_res[j], n) &&
				    unenf[i][n] == ':')
					vz_warn("CT %s: not enforced: %s", ct->idstr, unenf[i]);
			}
	}
	/* network (net room): checks all, applies live, updates ct->conf */
	if (vz_ct_net_set(ct, &set_net, running, err) < 0)
		return -1;
	if (running) {
		if (set_hostname) {
			int st = vz_ct_run_inside(ct, sethostname_inside, set_hostname, err);
			if (st != 0)
				return st < 0 ? -1 : vz_fail(err, VZ_ESYSTEM, "set hostname inside CT %s", ct->idstr);
		}
		if ((set_hostname || set_ns || set_sd || set_net.ipadd || set_net.ipdel) &&
		    vz_ct_write_config_files(ct, err) < 0)
			return -1;
		if (set_devs && vz_devices_apply(ct, err) < 0)
			return -1;
		if (set_caps)
			vz_warn("CT %s: capabilities take effect at the next start", ct->idstr);
	} else if (set_hostname || set_ns || set_sd) {
		if (vz_ct_is_mounted(ct) && vz_ct_write_config_files(ct, err) < 0)
			return -1;
	}
	if (set_save)
		return vz_ct_save(ct, err);
	if (!running)
		vz_warn("CT %s is not running and --save was not given: nothing changed",
			ct->idstr);
	else
		vz_warn("applied to the running CT %s only; use --save to keep it", ct->idstr);
	return 0;
}

/* ---- ubc ---- */
static int ubc_json;
static struct poptOption ubc_popt[] = {
	{ "json", 'j', POPT_ARG_NONE, &ubc_json, 0, "JSON output", NULL },
	VZ_POPT_COMMON, POPT_TABLEEND
};

static int cmd_ubc(struct vz_ct *ct, poptContext pc, struct vz_error *err)
{
	struct vz_res_counter *rows;
	size_t n;
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	if (vz_ct_ubc(ct, &rows, &n, err) < 0)
		return -1;
	/* OpenVZ showed unlimited as LONG_MAX */
	const uint64_t unl = 9223372036854775807ULL;
	if (ubc_json) {
		struct vz_json j;
		vz_json_init(&j, stdout, true);
		vz_json_begin_array(&j);
		for (size_t i = 0; i < n; i++) {
			vz_json_begin_object(&j);
			vz_json_kv_string(&j, "resource", rows[i].name);
			vz_json_kv_uint(&j, "held", rows[i].held);
			vz_json_kv_uint(&j, "maxheld", rows[i].maxheld);
			vz_json_key(&j, "barrier");
			if (rows[i].barrier == VZ_UNLIMITED) vz_json_null(&j);
			else vz_json_uint(&j, rows[i].barrier);
			vz_json_key(&j, "limit");
			if (rows[i].limit == VZ_UNLIMITED) vz_json_null(&j);
			else vz_json_uint(&j, rows[i].limit);
			vz_json_kv_uint(&j, "failcnt", rows[i].failcnt);
			vz_json_kv_bool(&j, "pages", rows[i].pages);
			vz_json_end_object(&j);
		}
		vz_json_end_array(&j);
		vz_json_finish(&j);
	} else {
		printf("%10s  %-12s %20s %20s %20s %20s %10s\n", "uid", "resource",
		       "held", "maxheld", "barrier", "limit", "failcnt");
		for (size_t i = 0; i < n; i++)
			printf("%10s  %-12s %20llu %20llu %20llu %20llu %10llu\n",
			       i ? "" : ct->idstr, rows[i].name,
			       (unsigned long long)rows[i].held,
			       (unsigned long long)rows[i].maxheld,
			       (unsigned long long)(rows[i].barrier == VZ_UNLIMITED ? unl : rows[i].barrier),
			       (unsigned long long)(rows[i].limit == VZ_UNLIMITED ? unl : rows[i].limit),
			       (unsigned long long)rows[i].failcnt);
	}
	free(rows);
	return 0;
}

static const struct cmd cmds[] = {
	{ "create", NULL, cmd_create, create_popt, true, false, "CTID [options]",
	  "create a container from an OS template" },
	{ "destroy", "delete", cmd_destroy, plain_lock_popt, true, false, "CTID",
	  "remove a stopped container and its private area" },
	{ "start", NULL, cmd_start, start_popt, true, false, "CTID", "start a container" },
	{ "stop", NULL, cmd_stop, stop_popt, true, false, "CTID [--fast] [--timeout S]",
	  "stop a container (halt inside, then kill after the timeout)" },
	{ "restart", NULL, cmd_restart, restart_popt, true, false,
	  "CTID [--fast] [--timeout S] [--force]", "stop, then start" },
	{ "status", NULL, cmd_status, plain_popt, false, false, "CTID",
	  "print: CTID N exist|deleted mounted|unmounted running|down|suspended" },
	{ "mount", NULL, cmd_mount, plain_lock_popt, true, false, "CTID",
	  "mount the container's root" },
	{ "umount", NULL, cmd_umount, plain_lock_popt, true, false, "CTID",
	  "unmount the container's root" },
	{ "exec", NULL, cmd_exec, plain_popt, false, true, "CTID [COMMAND [ARG...]]",
	  "run a command inside (no command or '-': commands from stdin)" },
	{ "enter", NULL, cmd_enter, plain_popt, false, false, "CTID",
	  "open a shell inside on a terminal" },
	{ "runscript", NULL, cmd_runscript, plain_popt, false, false, "CTID SCRIPT",
	  "run a host script inside with /bin/sh" },
	{ "set", NULL, cmd_set, set_popt, true, false, "CTID [options] [--save]",
	  "change parameters, live where possible" },
	{ "suspend", "chkpnt", cmd_suspend, suspend_popt, true, false,
	  "CTID [--dumpfile DIR] [--leave-running] [--stats]",
	  "checkpoint a running container with CRIU and stop it" },
	{ "resume", "restore", cmd_resume, resume_popt, true, false,
	  "CTID [--dumpfile DIR] [--stats]",
	  "restore a suspended container from its dump" },
	{ "ubc", NULL, cmd_ubc, ubc_popt, false, false, "CTID [-j]",
	  "beancounters: held, maxheld, barrier, limit, failcnt" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vzctl [-v|-q] COMMAND CTID [options]\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nvzctl COMMAND --help shows a command's options; man vzctl(8).\n");
}

/* Does the option word (e.g. "--timeout", "-t") take its value from the
 * next word? */
static bool opt_takes_arg(const struct poptOption *t, const char *word)
{
	if (strchr(word, '='))
		return false;
	for (; t->longName || t->shortName || t->argInfo || t->arg; t++) {
		if ((t->argInfo & POPT_ARG_MASK) == POPT_ARG_INCLUDE_TABLE) {
			if (opt_takes_arg(t->arg, word))
				return true;
			continue;
		}
		bool hit = (word[1] == '-' && t->longName && !strcmp(word + 2, t->longName)) ||
			   (word[1] != '-' && t->shortName && word[1] == t->shortName && !word[2]);
		if (hit)
			return (t->argInfo & POPT_ARG_MASK) != POPT_ARG_NONE;
	}
	return false;
}

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0 ||
		    (cmds[i].alias && strcmp(cmds[i].alias, name) == 0))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	vz_log_init("vzctl");
	int i = 1;
	/* options before the command: the common ones only */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strspn(a + 1, "v") == strlen(a + 1) || !strcmp(a, "--verbose")) {
			for (size_t n = a[1] == '-' ? 1 : strlen(a + 1); n; n--)
				vz_log_set_verbosity(vz_log_verbosity() < VZ_LOG_INFO ?
						     VZ_LOG_INFO : vz_log_verbosity() + 1);
		}
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			vz_log_set_verbosity(VZ_LOG_ERROR);
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("vzctl (vz) %s\n", VZ_VERSION);
			return 0;
		} else {
			vz_err("unknown option %s (see vzctl --help)", a);
			return VZ_EUSAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return VZ_EUSAGE;
	}
	const struct cmd *cmd = find_cmd(argv[i]);
	if (!cmd) {
		vz_err("unknown command '%s' (see vzctl --help)", argv[i]);
		return VZ_EUSAGE;
	}
	i++;
	/* "vzctl start --help" without a CTID */
	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
		poptContext pc = poptGetContext("vzctl", 1, (const char **)argv, cmd->popt, 0);
		printf("Usage: vzctl %s %s\n  %s\n\n", cmd->name, cmd->args, cmd->help);
		poptPrintHelp(pc, stdout, 0);
		poptFreeContext(pc);
		return 0;
	}
	if (i >= argc) {
		vz_err("%s: no CTID given (usage: vzctl %s %s)", cmd->name, cmd->name, cmd->args);
		return VZ_EUSAGE;
	}
	bool exec_like = cmd->fn == cmd_exec || cmd->fn == cmd_enter ||
			 cmd->fn == cmd_runscript;
	struct vz_error err = { 0 };
	unsigned id;
	/* The CTID follows the command; options may stand before it too
	 * ("vzctl stop --fast 101"), except for exec whose rest is a command. */
	int ctid_at = i;
	if (!cmd->raw_args)
		while (ctid_at < argc && argv[ctid_at][0] == '-' && argv[ctid_at][1])
			ctid_at += opt_takes_arg(cmd->popt, argv[ctid_at]) ? 2 : 1;
	if (ctid_at >= argc) {
		vz_err("%s: no CTID given (usage: vzctl %s %s)", cmd->name, cmd->name, cmd->args);
		return VZ_EUSAGE;
	}
	if (vz_ctid_parse(argv[ctid_at], &id, &err) < 0)
		return vz_report(&err);
	/* take the CTID out; the options around it go to popt */
	for (int j = ctid_at; j > i; j--)
		argv[j] = argv[j - 1];
	i++;

	/* popt sees "vzctl <rest>"; for exec the rest is the command itself */
	int pargc = argc - i + 1;
	const char **pargv = xcalloc(pargc + 2, sizeof(char *));
	pargv[0] = "vzctl";
	int k = 1;
	if (cmd->raw_args)
		pargv[k++] = "--";
	for (int j = i; j < argc; j++)
		pargv[k++] = argv[j];
	pargc = k;
	poptContext pc = poptGetContext("vzctl", pargc, pargv, cmd->popt, 0);
	int val, rc;
	for (;;) {
		if ((rc = vz_popt_next(pc, &val)) != 0)
			return rc;
		if (!val)
			break;
		/* popt hands over a copy of the argument */
		char *arg = poptGetOptArg(pc);
		set_opt(val, arg);
		free(arg);
	}
	if (!cmd->raw_args && cmd->fn != cmd_runscript && poptPeekArg(pc)) {
		vz_err("%s: unexpected argument '%s'", cmd->name, poptPeekArg(pc));
		return VZ_EUSAGE;
	}

	struct vz_ct ct;
	if (vz_ct_load(&ct, id, &err) < 0) {
		rc = vz_report(&err);
		return exec_like ? EXEC_OWN_ERROR : rc;
	}
	if (cmd->lock && vz_ct_lock(&ct, cmd->name, opt_wait, &err) < 0)
		return vz_report(&err);
	rc = cmd->fn(&ct, pc, &err) < 0 ? vz_report(&err) : 0;
	if (rc)
		vz_log(VZ_LOG_INFO, "%s CT %s failed", cmd->name, ct.idstr);
	else if (cmd->lock)
		vz_log(VZ_LOG_DEBUG, "%s CT %s done", cmd->name, ct.idstr);
	vz_ct_free(&ct);
	poptFreeContext(pc);
	free(pargv);
	if (exec_like) {
		/* like a shell: 127 command not found, 126 not executable */
		if (rc && (exec_status == 127 || exec_status == 126))
			rc = exec_status;
		else
			rc = rc ? EXEC_OWN_ERROR : exec_status;
		/* This process now lives in the CT's namespaces: end it without
		 * exit handlers (LeakSanitizer's would hang in a foreign pid
		 * namespace). */
		fflush(NULL);
		_exit(rc);
	}
	return rc;
}
