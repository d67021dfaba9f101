/* Resource parameters to cgroup knobs: the plan on v1 and v2, the order
 * of memory writes, roll-back when the kernel refuses, option values. */
#include <errno.h>
#include <sys/sysmacros.h>

#include "config.h"
#include "error.h"
#include "res.h"
#include "util.h"
#include "unit.h"

static bool no_tcp;

static bool has_all(const char *ctl, const char *file, void *ctx)
{
	(void)ctl;
	(void)ctx;
	if (no_tcp && strstr(file, "kmem.tcp"))
		return false;
	/* as on a host without BFQ: only the plain weight */
	return strcmp(file, "io.bfq.weight") && strcmp(file, "blkio.bfq.weight");
}

static int res_of(struct vz_res *r, const char *text)
{
	struct vz_conf c;
	struct vz_error err = { 0 };
	vz_conf_init(&c, "t.conf");
	vz_conf_parse(&c, "t.conf", text, strlen(text), &err);
	int ret = vz_res_from_conf(r, &c, NULL, &err);
	if (ret < 0)
		printf("# %s\n", err.msg);
	vz_conf_free(&c);
	return ret;
}

/* "ctl/file=value;..." of a plan, to compare whole plans. */
static char *show(const struct vz_res_plan *p)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < p->n; i++) {
		char *t = xasprintf("%s%s=%s;", s, p->k[i].file, p->k[i].value);
		free(s);
		s = t;
	}
	return s;
}

static char *plan_of(const char *text, bool v2, uint64_t cur_memsw,
		     struct vz_res_plan *p)
{
	struct vz_res r;
	struct vz_error err = { 0 };
	dev_t dev = makedev(7, 3);
	struct vz_res_env env = {
		.v2 = v2, .host_cpus = 2, .host_cpuset = "0-1",
		.cur_memsw = cur_memsw, .devs = &dev, .ndevs = 1,
		.has = has_all,
	};
	if (res_of(&r, text) < 0)
		return xstrdup("(parse failed)");
	vz_res_plan(&r, &env, p, &err);
	vz_res_free(&r);
	return show(p);
}

static bool unenforced(const struct vz_res_plan *p, const char *prefix)
{
	for (size_t i = 0; p->unenforced && p->unenforced[i]; i++)
		if (vz_startswith(p->unenforced[i], prefix))
			return true;
	return false;
}

static void plans(void)
{
	struct vz_res_plan p;
	char *s;

	s = plan_of("PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:512M\"\n", false,
		    1ULL << 30, &p);
	CHECK_STR(s, "memory.limit_in_bytes=268435456;"
		     "memory.memsw.limit_in_bytes=805306368;",
		  "v1 lowering: limit first, then memsw");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("PHYSPAGES=\"0:2G\"\nSWAPPAGES=\"0:0\"\n", false,
		    1ULL << 30, &p);
	CHECK_STR(s, "memory.memsw.limit_in_bytes=2147483648;"
		     "memory.limit_in_bytes=2147483648;",
		  "v1 raising above memsw: memsw first");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:512M\"\n", true, 0, &p);
	CHECK_STR(s, "memory.swap.max=536870912;memory.high=251658240;"
		     "memory.max=268435456;",
		  "v2: swap.max, high (RAM - 1/16), max");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("PHYSPAGES=\"unlimited\"\n", false, 1ULL << 30, &p);
	CHECK_STR(s, "memory.memsw.limit_in_bytes=-1;memory.limit_in_bytes=-1;",
		  "v1 unlimited");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("CPUUNITS=\"1000\"\nCPULIMIT=\"25\"\nCPUMASK=\"all\"\n",
		    false, 0, &p);
	CHECK_STR(s, "cpu.shares=1024;cpu.cfs_period_us=100000;"
		     "cpu.cfs_quota_us=25000;cpuset.cpus=0-1;",
		  "v1 CPU: shares, CFS quota, cpuset");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("CPUUNITS=\"3000\"\nCPULIMIT=\"150%\"\nCPUS=\"1\"\nCPUMASK=\"1\"\n",
		    true, 0, &p);
	CHECK_STR(s, "cpu.weight=300;cpu.max=100000 100000;cpuset.cpus=1;",
		  "v2 CPU: weight, CPUS binds over CPULIMIT");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("CPULIMIT=\"0\"\n", true, 0, &p);
	CHECK_STR(s, "cpu.max=max 100000;", "v2 CPULIMIT 0 = no limit");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("NUMPROC=\"50\"\n", false, 0, &p);
	CHECK_STR(s, "pids.max=50;", "NUMPROC to pids.max");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("NUMPROC=\"unlimited\"\n", true, 0, &p);
	CHECK_STR(s, "pids.max=max;", "NUMPROC unlimited");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("IOLIMIT=\"10485760\"\nIOPSLIMIT=\"500\"\nIOPRIO=\"6\"\n",
		    false, 0, &p);
	CHECK_STR(s, "blkio.throttle.read_bps_device=7:3 10485760;"
		     "blkio.throttle.write_bps_device=7:3 10485760;"
		     "blkio.throttle.read_iops_device=7:3 500;"
		     "blkio.throttle.write_iops_device=7:3 500;"
		     "blkio.weight=400;",
		  "v1 I/O per device, IOPRIO 6 to weight 400");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("IOLIMIT=\"0\"\nIOPSLIMIT=\"500\"\nIOPRIO=\"0\"\n", true, 0,
		    &p);
	CHECK_STR(s, "io.max=7:3 rbps=max wbps=max riops=500 wiops=500;"
		     "io.weight=6;", "v2 io.max and io.weight");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("KMEMSIZE=\"10M\"\nNUMFILE=\"100\"\nTCPSNDBUF=\"1M\"\n"
		    "TCPRCVBUF=\"2M\"\nPRIVVMPAGES=\"1G\"\n", false, 0, &p);
	CHECK_STR(s, "memory.kmem.tcp.limit_in_bytes=3145728;",
		  "v1 TCP buffers to kmem.tcp");
	CHECK(unenforced(&p, "KMEMSIZE:") && unenforced(&p, "NUMFILE:") &&
	      unenforced(&p, "PRIVVMPAGES:") && !unenforced(&p, "TCPSNDBUF:"),
	      "legacy names without a knob reported as not enforced");
	free(s);
	vz_res_plan_free(&p);

	s = plan_of("TCPSNDBUF=\"1M\"\n", true, 0, &p);
	CHECK(!strcmp(s, "") && unenforced(&p, "TCPSNDBUF:"),
	      "v2: TCP buffers not enforced");
	free(s);
	vz_res_plan_free(&p);
	CHECK(vz_strv_len(p.unenforced) == 0, "plan freed");
}

/* A fake cgroup: a table of files; "refuse" makes one file's write fail. */
struct fake {
	char *file[16], *val[16];
	size_t n;
	const char *refuse;
	char log[1024];
};

static char **slot(struct fake *f, const char *file)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->file[i], file))
			return &f->val[i];
	f->file[f->n] = xstrdup(file);
	f->val[f->n] = NULL;
	return &f->val[f->n++];
}

static int fset(void *ctx, const char *ctl, const char *file,
		const char *value, struct vz_error *err)
{
	struct fake *f = ctx;
	(void)ctl;
	size_t l = strlen(f->log);
	snprintf(f->log + l, sizeof(f->log) - l, "%s=%s;", file, value);
	if (f->refuse && !strcmp(f->refuse, file) && strcmp(value, "old")) {
		errno = EBUSY;
		return vz_fail_errno(err, VZ_ESYSTEM, "write %s", file);
	}
	char **v = slot(f, file);
	free(*v);
	*v = xstrdup(value);
	return 0;
}

static int fget(void *ctx, const char *ctl, const char *file, char **value,
		struct vz_error *err)
{
	(void)ctl;
	char **v = slot(ctx, file);
	if (!*v)
		return vz_fail(err, VZ_ESYSTEM, "no %s", file);
	*value = xasprintf("%s\n", *v);
	return 0;
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->file[i]);
		free(f->val[i]);
	}
}

static void writes(void)
{
	struct vz_res_plan p;
	struct vz_error err = { 0 };
	struct fake f = { .n = 0 };
	struct vz_res_io io = { fset, fget, &f };
	char *s;

	*slot(&f, "memory.limit_in_bytes") = xstrdup("old");
	*slot(&f, "memory.memsw.limit_in_bytes") = xstrdup("old");
	*slot(&f, "pids.max") = xstrdup("old");
	f.refuse = "memory.memsw.limit_in_bytes";
	s = plan_of("NUMPROC=\"50\"\nPHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:0\"\n",
		    false, 1ULL << 30, &p);
	free(s);
	int r = vz_res_write(&p, &io, false, &err);
	CHECK(r < 0 && strstr(err.msg, "SWAPPAGES: the kernel refused memory.memsw.limit_in_bytes=268435456") &&
	      strstr(err.msg, "old value stays"),
	      "refusal names the parameter and knob: %s", err.msg);
	CHECK_STR(*slot(&f, "memory.limit_in_bytes"), "old",
		  "limit put back after the refusal");
	CHECK_STR(*slot(&f, "pids.max"), "old", "pids.max put back too");
	vz_res_plan_free(&p);
	fake_free(&f);

	/* v2: memory.max below usage is refused before it is written */
	struct fake g = { .n = 0 };
	io.ctx = &g;
	*slot(&g, "memory.max") = xstrdup("max");
	*slot(&g, "memory.high") = xstrdup("max");
	*slot(&g, "memory.swap.max") = xstrdup("max");
	*slot(&g, "memory.current") = xstrdup("104857600");
	s = plan_of("PHYSPAGES=\"0:64M\"\nSWAPPAGES=\"0:0\"\n", true, 0, &p);
	free(s);
	err = (struct vz_error){ 0 };
	r = vz_res_write(&p, &io, true, &err);
	CHECK(r < 0 && strstr(err.msg, "below what the container uses now (100M)"),
	      "v2 RAM below usage refused: %s", err.msg);
	CHECK_STR(*slot(&g, "memory.max"), "max", "memory.max untouched");
	CHECK_STR(*slot(&g, "memory.high"), "max", "memory.high put back");
	CHECK_STR(*slot(&g, "memory.swap.max"), "max", "swap.max put back");
	vz_res_plan_free(&p);

	/* and accepted when usage fits */
	free(*slot(&g, "memory.current"));
	*slot(&g, "memory.current") = xstrdup("1048576");
	s = plan_of("PHYSPAGES=\"0:64M\"\nSWAPPAGES=\"0:0\"\n", true, 0, &p);
	free(s);
	CHECK(vz_res_write(&p, &io, true, &err) == 0, "v2 RAM above usage applied");
	CHECK_STR(*slot(&g, "memory.max"), "67108864", "memory.max written");
	vz_res_plan_free(&p);
	fake_free(&g);

	/* per-device files: the device's old line is restored */
	struct fake h = { .n = 0 };
	io.ctx = &h;
	*slot(&h, "blkio.throttle.read_bps_device") = xstrdup("8:0 100\n7:3 5000");
	*slot(&h, "blkio.throttle.write_bps_device") = xstrdup("8:0 100");
	h.refuse = "blkio.throttle.write_bps_device";
	s = plan_of("IOLIMIT=\"1000\"\n", false, 0, &p);
	free(s);
	r = vz_res_write(&p, &io, false, &err);
	CHECK(r < 0 && strstr(h.log, "read_bps_device=7:3 5000;"),
	      "old per-device line restored: %s", h.log);
	vz_res_plan_free(&p);
	fake_free(&h);
}

static void options(void)
{
	struct vz_conf c;
	struct vz_error err = { 0 };
	vz_conf_init(&c, "t.conf");
	CHECK(vz_res_conf_set(&c, "PHYSPAGES", "256M", &err) == 0 &&
	      !strcmp(vz_conf_get(&c, "PHYSPAGES"), "0:256M"), "--ram 256M");
	CHECK(vz_res_conf_set(&c, "SWAPPAGES", "1000", &err) == 0 &&
	      !strcmp(vz_conf_get(&c, "SWAPPAGES"), "0:1"),
	      "--swap 1000 bytes rounds up to a page");
	CHECK(vz_res_conf_set(&c, "CPULIMIT", "25%", &err) == 0 &&
	      !strcmp(vz_conf_get(&c, "CPULIMIT"), "25"), "--cpulimit 25%%");
	CHECK(vz_res_conf_set(&c, "IOLIMIT", "10M", &err) == 0 &&
	      !strcmp(vz_conf_get(&c, "IOLIMIT"), "10485760"), "--iolimit 10M");
	CHECK(vz_res_conf_set(&c, "IOLIMIT", "3", &err) == 0 &&
	      !strcmp(vz_conf_get(&c, "IOLIMIT"), "3145728"),
	      "--iolimit 3 is MiB/s");
	CHECK(vz_res_conf_set(&c, "NUMPROC", "200", &err) == 0 &&
	      !strcmp(vz_conf_get(&c, "NUMPROC"), "200:200"), "--numproc 200");
	CHECK(vz_res_conf_set(&c, "KMEMSIZE", "14M:15M", &err) == 0 &&
	      !strcmp(vz_conf_get(&c, "KMEMSIZE"), "14M:15M"), "--kmemsize");
	CHECK(vz_res_conf_set(&c, "IOPRIO", "8", &err) < 0 &&
	      err.code == VZ_EUSAGE && strstr(err.msg, "0 to 7"),
	      "--ioprio 8 refused: %s", err.msg);
	CHECK(vz_res_conf_set(&c, "CPUMASK", "0-1,x", &err) < 0,
	      "bad --cpumask refused");
	CHECK(vz_res_conf_set(&c, "PHYSPAGES", "lots", &err) < 0 &&
	      strstr(err.msg, "--ram"), "bad --ram refused: %s", err.msg);
	vz_conf_free(&c);

	struct vz_res r;
	CHECK(res_of(&r, "CPULIMIT=\"x\"\n") < 0, "bad CPULIMIT in a config");
	CHECK(res_of(&r, "NUMPROC=\"1:x\"\n") < 0, "bad NUMPROC in a config");
	CHECK(res_of(&r, "PHYSPAGES=\"0:1G\"\n") == 0 && r.has_swap &&
	      r.swap == 0 && r.ram == 1ULL << 30, "VSwap without SWAPPAGES: swap 0");
	vz_res_free(&r);
}

static void disk(void)
{
	dev_t *d;
	size_t n;
	struct vz_error err = { 0 };
	if (vz_res_disk_devs("/proc/self", &d, &n, &err) == 0) {
		CHECK(0, "/proc has no block device");
		free(d);
	} else {
		CHECK(err.code == VZ_ENOSYS, "no block device under /proc: %s",
		      err.msg);
	}
}

int main(void)
{
	plans();
	writes();
	options();
	disk();
	UNIT_DONE();
}
