/* Resource parameters applied to, and read back from, a container's
 * cgroups (through common/cgroup.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "error.h"
#include "log.h"
#include "res.h"
#include "util.h"

#define UNL VZ_UNLIMITED

static bool cg_has(const char *ctl, const char *file, void *ctx)
{
	const struct vz_cgroup *cg = ctx;
	if (!vz_cg_has(ctl))
		return false;
	_cleanup_free_ char *dir = vz_cg_dir(cg, ctl);
	if (!dir)
		return false;
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	return vz_path_exists(p);
}

static int cg_set(void *ctx, const char *ctl, const char *file,
		  const char *value, struct vz_error *err)
{
	return vz_cg_set(ctx, ctl, file, value, err);
}

static int cg_get(void *ctx, const char *ctl, const char *file, char **value,
		  struct vz_error *err)
{
	return vz_cg_get(ctx, ctl, file, value, err);
}

static bool get_u64(const struct vz_cgroup *cg, const char *ctl,
		    const char *file, uint64_t *v)
{
	char *s = NULL;
	struct vz_error e = { 0 };
	if (!cg_has(ctl, file, (void *)cg) || vz_cg_get(cg, ctl, file, &s, &e) < 0)
		return false;
	vz_strstrip(s);
	bool ok = true;
	if (!strcmp(s, "max") || !strcmp(s, "-1"))
		*v = UNL;
	else
		ok = vz_parse_u64(s, v) == 0;
	free(s);
	/* v1 shows "unlimited" as the largest page-aligned signed long */
	if (ok && *v >= (1ULL << 62))
		*v = UNL;
	return ok;
}

/* "key value" lines (memory.stat, memory.events, pids.events...). */
static bool get_key(const struct vz_cgroup *cg, const char *ctl,
		    const char *file, const char *key, uint64_t *v)
{
	char *s = NULL;
	struct vz_error e = { 0 };
	if (!cg_has(ctl, file, (void *)cg) || vz_cg_get(cg, ctl, file, &s, &e) < 0)
		return false;
	bool found = false;
	size_t kl = strlen(key);
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			found = vz_parse_u64(line + kl + 1, v) == 0;
			break;
		}
	}
	free(s);
	return found;
}

int vz_res_apply(const struct vz_cgroup *cg, const struct vz_res *r,
		 const char *disk_path, char ***unenf, struct vz_error *err)
{
	struct vz_res_env env = {
		.v2 = cg->unified,
		.host_cpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.cur_memsw = UNL,
		.has = cg_has,
		.ctx = (void *)cg,
	};
	char *online = NULL;
	size_t len;
	struct vz_error e = { 0 };
	char why[1100] = "";

	if (r->cpumask && vz_read_file("/sys/devices/system/cpu/online",
				       &online, &len, &e) == 0)
		env.host_cpuset = vz_strstrip(online);
	if (!env.v2)
		get_u64(cg, "memory", "memory.memsw.limit_in_bytes",
			&env.cur_memsw);
	if (disk_path && (r->has_iolimit || r->has_iopslimit)) {
		if (vz_res_disk_devs(disk_path, &env.devs, &env.ndevs, &e) < 0) {
			snprintf(why, sizeof(why), "%s", e.msg);
			env.dev_why = why;
		}
	} else if (r->has_iolimit || r->has_iopslimit) {
		env.dev_why = "the container's disk is not known here";
	}

	struct vz_res_plan plan;
	struct vz_res_io io = { cg_set, cg_get, (void *)cg };
	int ret = vz_res_plan(r, &env, &plan, err);
	if (ret == 0)
		ret = vz_res_write(&plan, &io, env.v2, err);
	if (ret == 0) {
		for (size_t i = 0; i < plan.n; i++)
			vz_debug("%s = %s (%s)", plan.k[i].file, plan.k[i].value,
				 plan.k[i].param);
		for (size_t i = 0; plan.unenforced && plan.unenforced[i]; i++) {
			vz_info("not enforced: %s", plan.unenforced[i]);
			if (unenf)
				*unenf = vz_strv_push(*unenf, plan.unenforced[i]);
		}
	}
	vz_res_plan_free(&plan);
	free(env.devs);
	free(online);
	return ret;
}

static uint64_t pages(uint64_t bytes)
{
	return bytes == UNL ? UNL : bytes / VZ_UBC_PAGE;
}

int vz_res_counters(const struct vz_cgroup *cg, const struct vz_res *r,
		    struct vz_res_counter **rows, size_t *n,
		    struct vz_error *err)
{
	struct vz_res_counter *v = xcalloc(VZ_UBC_NR, sizeof(*v));
	bool v2 = cg->unified;

	for (int i = 0; i < VZ_UBC_NR; i++) {
		const struct vz_ubc_def *d = vz_ubc_def(i);
		uint64_t b, l;
		vz_ubc_effective(&r->ubc, i, &b, &l);
		v[i].name = d->lname;
		v[i].pages = d->unit == VZ_UBC_PAGES;
		v[i].barrier = v[i].pages ? pages(b) : b;
		v[i].limit = v[i].pages ? pages(l) : l;
	}
	struct vz_res_counter *ph = &v[VZ_UBC_PHYSPAGES], *sw = &v[VZ_UBC_SWAPPAGES];
	struct vz_res_counter *np = &v[VZ_UBC_NUMPROC], *km = &v[VZ_UBC_KMEMSIZE];
	struct vz_res_counter *oom = &v[VZ_UBC_OOMGUARPAGES];
	uint64_t x, y;
	if (v2) {
		if (get_u64(cg, "memory", "memory.current", &x))
			ph->held = pages(x);
		if (get_u64(cg, "memory", "memory.peak", &x))
			ph->maxheld = pages(x);
		if (get_key(cg, "memory", "memory.events", "max", &x))
			ph->failcnt = x;
		if (get_key(cg, "memory", "memory.events", "oom_kill", &x))
			oom->failcnt = x;
		if (get_u64(cg, "memory", "memory.swap.current", &x))
			sw->held = pages(x);
		if (get_u64(cg, "memory", "memory.swap.peak", &x))
			sw->maxheld = pages(x);
		if (get_key(cg, "memory", "memory.swap.events", "fail", &x))
			sw->failcnt = x;
		if (get_key(cg, "memory", "memory.stat", "kernel", &x))
			km->held = x;
		if (get_u64(cg, "pids", "pids.peak", &x))
			np->maxheld = x;
	} else {
		if (get_u64(cg, "memory", "memory.usage_in_bytes", &x))
			ph->held = pages(x);
		if (get_u64(cg, "memory", "memory.max_usage_in_bytes", &x))
			ph->maxheld = pages(x);
		if (get_u64(cg, "memory", "memory.failcnt", &x))
			ph->failcnt = x;
		if (get_key(cg, "memory", "memory.oom_control", "oom_kill", &x))
			oom->failcnt = x;
		/* total_*: the CT's whole tree (systemd inside makes
		 * sub-groups) */
		if (get_key(cg, "memory", "memory.stat", "total_swap", &x) ||
		    get_key(cg, "memory", "memory.stat", "swap", &x))
			sw->held = pages(x);
		if (get_u64(cg, "memory", "memory.memsw.max_usage_in_bytes", &x) &&
		    get_u64(cg, "memory", "memory.max_usage_in_bytes", &y))
			sw->maxheld = x > y ? pages(x - y) : 0;
		if (get_u64(cg, "memory", "memory.memsw.failcnt", &x))
			sw->failcnt = x;
		if (get_u64(cg, "memory", "memory.kmem.usage_in_bytes", &x))
			km->held = x;
		if (get_u64(cg, "memory", "memory.kmem.max_usage_in_bytes", &x))
			km->maxheld = x;
		if (get_u64(cg, "memory", "memory.kmem.failcnt", &x))
			km->failcnt = x;
	}
	oom->held = ph->held;
	oom->maxheld = ph->maxheld;
	if (get_u64(cg, "pids", "pids.current", &x))
		np->held = x;
	if (np->maxheld < np->held)
		np->maxheld = np->held;
	if (get_key(cg, "pids", "pids.events", "max", &x))
		np->failcnt = x;
	/* limits in force, where the config leaves them open */
	if (ph->limit == UNL && get_u64(cg, "memory", v2 ? "memory.max" :
					"memory.limit_in_bytes", &x))
		ph->limit = pages(x);
	if (np->limit == UNL && get_u64(cg, "pids", "pids.max", &x))
		np->limit = np->barrier = x;
	*rows = v;
	*n = VZ_UBC_NR;
	(void)err;
	return 0;
}
