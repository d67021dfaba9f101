/* Resource parameters: parsing, the plan of cgroup writes, and writing it
 * with roll-back.  The cgroup layer is reached only in res-cg.c. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include "error.h"
#include "log.h"
#include "res.h"
#include "util.h"

#define UNL VZ_UNLIMITED
#define CFS_PERIOD ((uint64_t)100000)

static const char *get2(const struct vz_conf *ct, const struct vz_conf *g,
			const char *key, const char **file, int *line)
{
	const char *v = ct ? vz_conf_get(ct, key) : NULL;
	const struct vz_conf *c = ct;
	if (!v && g) {
		v = vz_conf_get(g, key);
		c = g;
	}
	if (v && file) {
		*file = c->path ? c->path : "config";
		*line = vz_conf_lineno(c, key);
	}
	return v;
}

static int get_uint(const struct vz_conf *ct, const struct vz_conf *g,
		    const char *key, long long min, long long max, bool *has,
		    uint64_t *out, struct vz_error *err)
{
	const char *file = NULL;
	int line = 0;
	const char *v = get2(ct, g, key, &file, &line);
	long long n;
	*has = false;
	if (!v || !*v)
		return 0;
	if (vz_parse_int(v, min, max, &n) < 0)
		return vz_fail(err, VZ_ECONFIG,
			       "%s:%d: %s=\"%s\" is not a whole number from %lld to %lld",
			       file, line, key, v, min, max);
	*has = true;
	*out = (uint64_t)n;
	return 0;
}

static bool valid_cpulist(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != ',' && *p != '-')
			return false;
	return true;
}

/* CPULIMIT: "N" or "N%" (percent of one CPU). */
static int parse_cpulimit(const char *v, unsigned *pct)
{
	long long n;
	_cleanup_free_ char *s = xstrdup(v);
	size_t len = strlen(s);
	if (len && s[len - 1] == '%')
		s[len - 1] = '\0';
	if (vz_parse_int(s, 0, 100 * 4096, &n) < 0)
		return -1;
	*pct = (unsigned)n;
	return 0;
}

int vz_res_from_conf(struct vz_res *r, const struct vz_conf *ct,
		     const struct vz_conf *global, struct vz_error *err)
{
	memset(r, 0, sizeof(*r));
	struct vz_ubc_report rep = { 0 };
	struct vz_ubc ug;
	vz_ubc_from_conf(ct, &r->ubc, &rep);
	if (global) {
		vz_ubc_from_conf(global, &ug, &rep);
		for (int i = 0; i < VZ_UBC_NR; i++)
			if (!r->ubc.p[i].set)
				r->ubc.p[i] = ug.p[i];
		if (!r->ubc.overcommit_set && ug.overcommit_set) {
			r->ubc.overcommit_set = true;
			r->ubc.overcommit = ug.overcommit;
		}
	}
	for (size_t i = 0; i < rep.n; i++)
		if (rep.v[i].sev == VZ_UBC_ERR) {
			vz_fail(err, VZ_ECONFIG, "%s", rep.v[i].msg);
			vz_ubc_report_free(&rep);
			return -1;
		}
	vz_ubc_report_free(&rep);

	const struct vz_ubc_val *ph = &r->ubc.p[VZ_UBC_PHYSPAGES];
	const struct vz_ubc_val *sw = &r->ubc.p[VZ_UBC_SWAPPAGES];
	if (ph->set) {
		r->has_ram = true;
		r->ram = ph->lim;
		r->has_swap = true;
		r->swap = sw->set ? sw->lim : 0;
	} else if (sw->set) {
		r->has_swap = true;
		r->swap = sw->lim;
		r->ram = UNL;
	}
	if (r->ubc.p[VZ_UBC_NUMPROC].set) {
		r->has_numproc = true;
		r->numproc = r->ubc.p[VZ_UBC_NUMPROC].lim;
	}

	uint64_t n;
	bool has;
	if (get_uint(ct, global, "CPUUNITS", 8, 500000, &has, &n, err) < 0)
		return -1;
	r->has_cpuunits = has;
	r->cpuunits = (unsigned)n;
	if (get_uint(ct, global, "CPUS", 0, 4096, &has, &n, err) < 0)
		return -1;
	r->has_cpus = has;
	r->cpus = (unsigned)n;
	if (get_uint(ct, global, "IOPSLIMIT", 0, INT64_MAX, &has, &n, err) < 0)
		return -1;
	r->has_iopslimit = has;
	r->iopslimit = n;
	if (get_uint(ct, global, "IOLIMIT", 0, INT64_MAX, &has, &n, err) < 0)
		return -1;
	r->has_iolimit = has;
	r->iolimit = n;
	if (get_uint(ct, global, "IOPRIO", 0, 7, &has, &n, err) < 0)
		return -1;
	r->has_ioprio = has;
	r->ioprio = (int)n;

	const char *file = NULL;
	int line = 0;
	const char *v = get2(ct, global, "CPULIMIT", &file, &line);
	if (v && *v) {
		if (parse_cpulimit(v, &r->cpulimit) < 0)
			return vz_fail(err, VZ_ECONFIG,
				       "%s:%d: CPULIMIT=\"%s\" is not a percentage of one CPU (0 = no limit)",
				       file, line, v);
		r->has_cpulimit = true;
	}
	v = get2(ct, global, "CPUMASK", &file, &line);
	if (v && *v) {
		if (strcmp(v, "all") != 0 && !valid_cpulist(v))
			return vz_fail(err, VZ_ECONFIG,
				       "%s:%d: CPUMASK=\"%s\" is not a CPU list (like 0,2-3) or all",
				       file, line, v);
		r->cpumask = xstrdup(v);
	}
	return 0;
}

void vz_res_free(struct vz_res *r)
{
	free(r->cpumask);
	r->cpumask = NULL;
}

int vz_res_conf_set(struct vz_conf *c, const char *key, const char *value,
		    struct vz_error *err)
{
	char buf[96];
	uint64_t a, b;
	long long n;
	unsigned pct;

	if (!strcmp(key, "PHYSPAGES") || !strcmp(key, "SWAPPAGES")) {
		/* --ram/--swap: one size (bare number: bytes) */
		if (strchr(value, ':')) {
			if (vz_parse_ubc(value, VZ_UBC_PAGE, &a, &b) < 0)
				goto bad_size;
		} else {
			if (vz_parse_size(value, 1, &b) < 0)
				goto bad_size;
			a = 0;
		}
		int id = vz_ubc_find(key);
		if (b != UNL)
			b = (b + VZ_UBC_PAGE - 1) / VZ_UBC_PAGE * VZ_UBC_PAGE;
		vz_ubc_format_pair(id, a == UNL ? 0 : a, b, buf, sizeof(buf));
		vz_conf_set(c, key, buf);
		return 0;
	}
	if (!strcmp(key, "CPULIMIT")) {
		if (parse_cpulimit(value, &pct) < 0)
			return vz_fail(err, VZ_EUSAGE,
				       "--cpulimit: \"%s\" is not a percentage of one CPU (0 = no limit)",
				       value);
		snprintf(buf, sizeof(buf), "%u", pct);
		vz_conf_set(c, key, buf);
		return 0;
	}
	if (!strcmp(key, "IOLIMIT")) {
		_cleanup_free_ char *s = xstrdup(value);
		size_t len = strlen(s);
		if (len > 2 && !strcmp(s + len - 2, "/s"))
			s[len - 2] = '\0';
		if (vz_parse_size(s, 1024 * 1024, &a) < 0 || a > INT64_MAX)
			return vz_fail(err, VZ_EUSAGE,
				       "--iolimit: \"%s\" is not a rate (MiB/s, or with K/M/G; 0 = no limit)",
				       value);
		snprintf(buf, sizeof(buf), "%" PRIu64, a);
		vz_conf_set(c, key, buf);
		return 0;
	}
	if (!strcmp(key, "CPUMASK")) {
		if (strcmp(value, "all") && !valid_cpulist(value))
			return vz_fail(err, VZ_EUSAGE,
				       "--cpumask: \"%s\" is not a CPU list (like 0,2-3) or all",
				       value);
		vz_conf_set(c, key, value);
		return 0;
	}
	static const struct { const char *key; long long min, max; } ints[] = {
		{ "CPUUNITS", 8, 500000 }, { "CPUS", 0, 4096 },
		{ "IOPSLIMIT", 0, INT64_MAX }, { "IOPRIO", 0, 7 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		if (strcmp(key, ints[i].key))
			continue;
		if (vz_parse_int(value, ints[i].min, ints[i].max, &n) < 0)
			return vz_fail(err, VZ_EUSAGE,
				       "%s: \"%s\" is not a whole number from %lld to %lld",
				       key, value, ints[i].min, ints[i].max);
		snprintf(buf, sizeof(buf), "%lld", n);
		vz_conf_set(c, key, buf);
		return 0;
	}
	int id = vz_ubc_find(key);
	if (id >= 0) {
		const struct vz_ubc_def *d = vz_ubc_def(id);
		uint64_t unit = d->unit == VZ_UBC_PAGES ? VZ_UBC_PAGE : 1;
		if (vz_parse_ubc(value, unit, &a, &b) < 0)
			return vz_fail(err, VZ_EUSAGE,
				       "%s: \"%s\" is not barrier[:limit] (numbers%s, or unlimited)",
				       key, value, d->unit == VZ_UBC_COUNT ? "" :
				       " with optional K/M/G/T");
		if (d->unit == VZ_UBC_PAGES) {
			if (a != UNL)
				a = (a + VZ_UBC_PAGE - 1) / VZ_UBC_PAGE * VZ_UBC_PAGE;
			if (b != UNL)
				b = (b + VZ_UBC_PAGE - 1) / VZ_UBC_PAGE * VZ_UBC_PAGE;
		}
		vz_ubc_format_pair(id, a, b, buf, sizeof(buf));
		vz_conf_set(c, key, buf);
		return 0;
	}
	return vz_fail(err, VZ_EUSAGE, "%s is not a resource parameter", key);
bad_size:
	return vz_fail(err, VZ_EUSAGE,
		       "--%s: \"%s\" is not a size (bytes, or with K/M/G/T)",
		       !strcmp(key, "PHYSPAGES") ? "ram" : "swap", value);
}

/* ------------------------------------------------------------------ plan */

static void knob(struct vz_res_plan *p, const char *ctl, const char *file,
		 const char *param, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void knob(struct vz_res_plan *p, const char *ctl, const char *file,
		 const char *param, const char *fmt, ...)
{
	p->k = xrealloc(p->k, (p->n + 1) * sizeof(*p->k));
	struct vz_res_knob *k = &p->k[p->n++];
	k->ctl = ctl;
	k->file = file;
	k->param = param;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->value, sizeof(k->value), fmt, ap);
	va_end(ap);
}

static void unenforced(struct vz_res_plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void unenforced(struct vz_res_plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	p->unenforced = vz_strv_push(p->unenforced, s);
	free(s);
}

void vz_res_plan_free(struct vz_res_plan *p)
{
	free(p->k);
	vz_strv_free(p->unenforced);
	memset(p, 0, sizeof(*p));
}

static bool has(const struct vz_res_env *env, const char *ctl,
		const char *file)
{
	return env->has && env->has(ctl, file, env->ctx);
}

static uint64_t sadd(uint64_t a, uint64_t b)
{
	return a == UNL || b == UNL || a > UNL - b ? UNL : a + b;
}

/* A size for v1 ("-1" = unlimited) or v2 ("max"). */
static const char *num(uint64_t v, bool v2, char *buf, size_t len)
{
	if (v == UNL)
		snprintf(buf, len, "%s", v2 ? "max" : "-1");
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static void plan_memory(const struct vz_res *r, const struct vz_res_env *env,
			struct vz_res_plan *p)
{
	char a[32], b[32];
	if (!r->has_ram && !r->has_swap)
		return;
	uint64_t ram = r->has_ram ? r->ram : UNL;
	uint64_t swap = r->has_swap ? r->swap : 0;
	if (env->v2) {
		if (!has(env, "memory", "memory.max")) {
			unenforced(p, "PHYSPAGES: no memory controller in this cgroup tree");
			return;
		}
		if (has(env, "memory", "memory.swap.max"))
			knob(p, "memory", "memory.swap.max", "SWAPPAGES", "%s",
			     num(swap, true, a, sizeof(a)));
		else if (swap && swap != UNL)
			unenforced(p, "SWAPPAGES: no memory.swap.max (kernel without swap accounting)");
		knob(p, "memory", "memory.high", "PHYSPAGES", "%s",
		     num(ram == UNL ? UNL : ram - ram / 16, true, a, sizeof(a)));
		knob(p, "memory", "memory.max", "PHYSPAGES", "%s",
		     num(ram, true, a, sizeof(a)));
		return;
	}
	if (!has(env, "memory", "memory.limit_in_bytes")) {
		unenforced(p, "PHYSPAGES: no memory controller mounted");
		return;
	}
	if (!has(env, "memory", "memory.memsw.limit_in_bytes")) {
		if (swap && swap != UNL)
			unenforced(p, "SWAPPAGES: no memory.memsw.limit_in_bytes (kernel without swap accounting, swapaccount=0)");
		knob(p, "memory", "memory.limit_in_bytes", "PHYSPAGES", "%s",
		     num(ram, false, a, sizeof(a)));
		return;
	}
	/* memsw must stay >= limit after each write */
	uint64_t memsw = sadd(ram, swap);
	num(ram, false, a, sizeof(a));
	num(memsw, false, b, sizeof(b));
	if (ram > env->cur_memsw) {
		knob(p, "memory", "memory.memsw.limit_in_bytes", "SWAPPAGES",
		     "%s", b);
		knob(p, "memory", "memory.limit_in_bytes", "PHYSPAGES", "%s", a);
	} else {
		knob(p, "memory", "memory.limit_in_bytes", "PHYSPAGES", "%s", a);
		knob(p, "memory", "memory.memsw.limit_in_bytes", "SWAPPAGES",
		     "%s", b);
	}
}

static void plan_cpu(const struct vz_res *r, const struct vz_res_env *env,
		     struct vz_res_plan *p)
{
	if (r->has_cpuunits) {
		if (env->v2) {
			unsigned w = r->cpuunits / 10;
			w = w < 1 ? 1 : w > 10000 ? 10000 : w;
			if (has(env, "cpu", "cpu.weight"))
				knob(p, "cpu", "cpu.weight", "CPUUNITS", "%u", w);
			else
				unenforced(p, "CPUUNITS: no cpu controller in this cgroup tree");
		} else if (has(env, "cpu", "cpu.shares")) {
			uint64_t s = (uint64_t)r->cpuunits * 1024 / 1000;
			knob(p, "cpu", "cpu.shares", "CPUUNITS", "%" PRIu64,
			     s < 2 ? 2 : s);
		} else {
			unenforced(p, "CPUUNITS: no cpu controller mounted");
		}
	}
	if (r->has_cpulimit || r->has_cpus) {
		uint64_t pct = UNL;
		if (r->has_cpulimit && r->cpulimit)
			pct = r->cpulimit;
		if (r->has_cpus && r->cpus && 100ULL * r->cpus < pct)
			pct = 100ULL * r->cpus;
		const char *param = r->has_cpulimit ? "CPULIMIT" : "CPUS";
		if (env->v2) {
			if (!has(env, "cpu", "cpu.max"))
				unenforced(p, "%s: no cpu controller in this cgroup tree", param);
			else if (pct == UNL)
				knob(p, "cpu", "cpu.max", param, "max %" PRIu64,
				     CFS_PERIOD);
			else
				knob(p, "cpu", "cpu.max", param,
				     "%" PRIu64 " %" PRIu64, pct * CFS_PERIOD / 100,
				     CFS_PERIOD);
		} else if (!has(env, "cpu", "cpu.cfs_quota_us")) {
			unenforced(p, "%s: no CFS bandwidth control (cpu.cfs_quota_us)", param);
		} else {
			knob(p, "cpu", "cpu.cfs_period_us", param, "%" PRIu64,
			     CFS_PERIOD);
			if (pct == UNL)
				knob(p, "cpu", "cpu.cfs_quota_us", param, "-1");
			else
				knob(p, "cpu", "cpu.cfs_quota_us", param,
				     "%" PRIu64, pct * CFS_PERIOD / 100);
		}
	}
	if (r->cpumask) {
		const char *mask = strcmp(r->cpumask, "all") ? r->cpumask :
				   env->host_cpuset;
		if (!has(env, "cpuset", "cpuset.cpus"))
			unenforced(p, "CPUMASK: no cpuset controller");
		else if (mask)
			knob(p, "cpuset", "cpuset.cpus", "CPUMASK", "%s", mask);
	}
}

static unsigned io_weight(int prio)
{
	/* 4 (the default) is the kernel's default weight 100; each step
	 * doubles or halves it */
	static const unsigned w[8] = { 6, 12, 25, 50, 100, 200, 400, 800 };
	return w[prio < 0 ? 0 : prio > 7 ? 7 : prio];
}

static void plan_io(const struct vz_res *r, const struct vz_res_env *env,
		    struct vz_res_plan *p)
{
	char a[32];
	if (r->has_iolimit || r->has_iopslimit) {
		const char *param = r->has_iolimit ? "IOLIMIT" : "IOPSLIMIT";
		const char *file = env->v2 ? "io.max" :
				   "blkio.throttle.write_bps_device";
		const char *ctl = env->v2 ? "io" : "blkio";
		if (!has(env, ctl, file))
			unenforced(p, "%s: no I/O throttling (%s)", param, file);
		else if (!env->ndevs)
			unenforced(p, "%s: %s", param, env->dev_why ?
				   env->dev_why : "the container's disk has no block device");
		for (size_t i = 0; has(env, ctl, file) && i < env->ndevs; i++) {
			unsigned ma = major(env->devs[i]), mi = minor(env->devs[i]);
			if (env->v2) {
				char b[96] = "", c[96] = "";
				if (r->has_iolimit) {
					num(r->iolimit ? r->iolimit : UNL, true, a,
					    sizeof(a));
					snprintf(b, sizeof(b), " rbps=%s wbps=%s", a, a);
				}
				if (r->has_iopslimit) {
					num(r->iopslimit ? r->iopslimit : UNL,
					    true, a, sizeof(a));
					snprintf(c, sizeof(c), " riops=%s wiops=%s", a, a);
				}
				knob(p, "io", "io.max", param, "%u:%u%s%s", ma,
				     mi, b, c);
				continue;
			}
			/* v1: 0 removes the rule */
			if (r->has_iolimit) {
				knob(p, "blkio", "blkio.throttle.read_bps_device",
				     "IOLIMIT", "%u:%u %" PRIu64, ma, mi, r->iolimit);
				knob(p, "blkio", "blkio.throttle.write_bps_device",
				     "IOLIMIT", "%u:%u %" PRIu64, ma, mi, r->iolimit);
			}
			if (r->has_iopslimit) {
				knob(p, "blkio", "blkio.throttle.read_iops_device",
				     "IOPSLIMIT", "%u:%u %" PRIu64, ma, mi,
				     r->iopslimit);
				knob(p, "blkio", "blkio.throttle.write_iops_device",
				     "IOPSLIMIT", "%u:%u %" PRIu64, ma, mi,
				     r->iopslimit);
			}
		}
	}
	if (r->has_ioprio) {
		static const char *const v1[] = { "blkio.bfq.weight", "blkio.weight" };
		static const char *const v2[] = { "io.bfq.weight", "io.weight" };
		const char *const *files = env->v2 ? v2 : v1;
		const char *ctl = env->v2 ? "io" : "blkio";
		size_t i;
		for (i = 0; i < 2; i++)
			if (has(env, ctl, files[i]))
				break;
		if (i < 2)
			knob(p, ctl, files[i], "IOPRIO", "%u", io_weight(r->ioprio));
		else
			unenforced(p, "IOPRIO: no I/O weight knob (%s or %s: the BFQ I/O scheduler gives them)",
				   files[0], files[1]);
	}
}

static void plan_ubc(const struct vz_res *r, const struct vz_res_env *env,
		     struct vz_res_plan *p)
{
	const struct vz_ubc *u = &r->ubc;
	bool tcp = false;
	if (!env->v2 && (u->p[VZ_UBC_TCPSNDBUF].set || u->p[VZ_UBC_TCPRCVBUF].set) &&
	    has(env, "memory", "memory.kmem.tcp.limit_in_bytes")) {
		uint64_t s = u->p[VZ_UBC_TCPSNDBUF].set ? u->p[VZ_UBC_TCPSNDBUF].lim : UNL;
		uint64_t rc = u->p[VZ_UBC_TCPRCVBUF].set ? u->p[VZ_UBC_TCPRCVBUF].lim : UNL;
		char a[32];
		knob(p, "memory", "memory.kmem.tcp.limit_in_bytes", "TCPSNDBUF",
		     "%s", num(sadd(s, rc), false, a, sizeof(a)));
		tcp = true;
	}
	if (r->has_numproc) {
		char a[32];
		if (has(env, "pids", "pids.max"))
			knob(p, "pids", "pids.max", "NUMPROC", "%s",
			     num(r->numproc, true, a, sizeof(a)));
		else
			unenforced(p, "NUMPROC: no pids controller");
	}
	for (int i = 0; i < VZ_UBC_NR; i++) {
		if (!u->p[i].set)
			continue;
		const char *why;
		switch (i) {
		case VZ_UBC_PHYSPAGES:
		case VZ_UBC_SWAPPAGES:
		case VZ_UBC_NUMPROC:
			continue;
		case VZ_UBC_TCPSNDBUF:
		case VZ_UBC_TCPRCVBUF:
			if (tcp)
				continue;
			why = "no separate cgroup knob here; TCP buffers are charged to RAM";
			break;
		case VZ_UBC_KMEMSIZE:
		case VZ_UBC_DCACHESIZE:
		case VZ_UBC_OTHERSOCKBUF:
		case VZ_UBC_DGRAMRCVBUF:
			why = "no separate cgroup knob; kernel memory is charged to RAM (PHYSPAGES)";
			break;
		case VZ_UBC_PRIVVMPAGES:
		case VZ_UBC_VMGUARPAGES:
		case VZ_UBC_OOMGUARPAGES:
		case VZ_UBC_SHMPAGES:
		case VZ_UBC_LOCKEDPAGES:
			why = "no cgroup knob; RAM and swap (PHYSPAGES, SWAPPAGES) bound it";
			break;
		default:
			why = "no cgroup knob";
			break;
		}
		unenforced(p, "%s: %s (kept and checked, not enforced)",
			   vz_ubc_def(i)->name, why);
	}
}

int vz_res_plan(const struct vz_res *r, const struct vz_res_env *env,
		struct vz_res_plan *p, struct vz_error *err)
{
	memset(p, 0, sizeof(*p));
	plan_memory(r, env, p);
	plan_cpu(r, env, p);
	plan_ubc(r, env, p);
	plan_io(r, env, p);
	return 0;
}

/* ----------------------------------------------------------------- write */

static bool is_dev_file(const char *file)
{
	return strstr(file, "_device") || !strcmp(file, "io.max");
}

/* The value to put back: for per-device files, the device's old line, or
 * the "no limit" line when it had none. */
static char *restore_value(const struct vz_res_knob *k, const char *old)
{
	if (!is_dev_file(k->file))
		return xstrdup(old);
	const char *sp = strchr(k->value, ' ');
	size_t dl = sp ? (size_t)(sp - k->value) : strlen(k->value);
	_cleanup_strv_ char **lines = vz_strv_split(old, "\n");
	for (size_t i = 0; lines && lines[i]; i++)
		if (!strncmp(lines[i], k->value, dl) && lines[i][dl] == ' ')
			return xstrdup(lines[i]);
	if (!strcmp(k->file, "io.max"))
		return xasprintf("%.*s rbps=max wbps=max riops=max wiops=max",
				 (int)dl, k->value);
	return xasprintf("%.*s 0", (int)dl, k->value);
}

static void strip_nl(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

int vz_res_write(const struct vz_res_plan *p, const struct vz_res_io *io,
		 bool v2, struct vz_error *err)
{
	char **old = xcalloc(p->n + 1, sizeof(char *));
	int ret = 0;
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct vz_res_knob *k = &p->k[i];
		char *cur = NULL;
		struct vz_error e = { 0 };
		if (io->get(io->ctx, k->ctl, k->file, &cur, &e) == 0) {
			strip_nl(cur);
			old[i] = restore_value(k, cur);
			free(cur);
		}
		/* v2 OOM-kills rather than refuse a memory.max below usage:
		 * refuse it here, after memory.high (written just before)
		 * made the kernel reclaim what it could */
		if (v2 && !strcmp(k->file, "memory.max") &&
		    strcmp(k->value, "max")) {
			uint64_t want = strtoull(k->value, NULL, 10), used;
			if (io->get(io->ctx, "memory", "memory.current", &cur,
				    &e) == 0) {
				if (vz_parse_u64(vz_strstrip(cur), &used) == 0 &&
				    used > want) {
					char a[32], b[32];
					vz_format_size(want, a, sizeof(a));
					vz_format_size(used, b, sizeof(b));
					vz_fail(err, VZ_ESYSTEM,
						"%s: RAM %s is below what the container uses now (%s) and it cannot be reclaimed; the old value stays",
						k->param, a, b);
					free(cur);
					ret = -1;
					break;
				}
				free(cur);
			}
		}
		if (io->set(io->ctx, k->ctl, k->file, k->value, err) < 0) {
			int errnum = err->errnum;
			const char *hint = "";
			if (!strcmp(k->file, "memory.limit_in_bytes") ||
			    !strcmp(k->file, "memory.memsw.limit_in_bytes"))
				hint = errnum == EBUSY ?
					" (below what the container uses now, and it cannot be reclaimed)" : "";
			else if (!strcmp(k->file, "cpuset.cpus"))
				hint = " (CPUs outside this host's or the parent's set?)";
			vz_prefix(err, "%s: the kernel refused %s=%s%s; the old value stays",
				  k->param, k->file, k->value, hint);
			ret = -1;
			break;
		}
	}
	if (ret < 0) {
		/* put back, last first, what was already written (and the
		 * knob that failed: a partial write may have changed it) */
		for (size_t j = i + 1; j-- > 0;) {
			struct vz_error e = { 0 };
			if (j < p->n && old[j] &&
			    io->set(io->ctx, p->k[j].ctl, p->k[j].file, old[j],
				    &e) < 0 && j < i)
				vz_warn("could not restore %s=%s: %s",
					p->k[j].file, old[j], e.msg);
		}
	}
	for (i = 0; i < p->n; i++)
		free(old[i]);
	free(old);
	return ret;
}

/* ------------------------------------------------------------------ disk */

int vz_res_disk_devs(const char *path, dev_t **devs, size_t *n,
		     struct vz_error *err)
{
	struct stat st;
	*devs = NULL;
	*n = 0;
	if (stat(path, &st) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "stat %s", path);
	if (major(st.st_dev) == 0)
		return vz_fail(err, VZ_ENOSYS,
			       "%s is on a filesystem without a block device of its own (tmpfs, overlay, btrfs subvolume...): I/O limits need one (use a ploop disk)",
			       path);
	dev_t d = st.st_dev;
	char p[128];
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/partition", major(d),
		 minor(d));
	if (vz_path_exists(p)) {
		/* throttling is per whole disk: the partition's parent */
		char *text = NULL;
		size_t len;
		unsigned ma, mi;
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/../dev", major(d),
			 minor(d));
		if (vz_read_file(p, &text, &len, err) < 0)
			return -1;
		if (sscanf(text, "%u:%u", &ma, &mi) == 2)
			d = makedev(ma, mi);
		free(text);
	}
	*devs = xmalloc(sizeof(dev_t));
	(*devs)[0] = d;
	*n = 1;
	return 0;
}
