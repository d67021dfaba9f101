/* beancounter-check's rules: each has a config that passes and one that
 * fails, each repair gives a config that then passes, --host sums and
 * --split output. */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "ubc.h"
#include "util.h"
#include "unit.h"

static const struct vz_host_info host = {
	.ram = 8ULL << 30, .swap = 2ULL << 30, .cpus = 4,
};

struct rule_case {
	const char *name;
	const char *rule;
	int param;
	enum vz_ubc_sev sev;
	bool fixable;
	const char *bad, *good;
};

#define VSW "PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:512M\"\n"

static const struct rule_case cases[] = {
	{ "value syntax", "syntax", VZ_UBC_NUMPROC, VZ_UBC_ERR, false,
	  VSW "NUMPROC=\"lots\"\n", VSW "NUMPROC=\"unlimited\"\n" },
	{ "VSwap advised", "vswap", VZ_UBC_PHYSPAGES, VZ_UBC_REC, false,
	  "CPUUNITS=\"1000\"\n", VSW },
	{ "swap without RAM limit", "vswap", VZ_UBC_SWAPPAGES, VZ_UBC_WARN, false,
	  "PHYSPAGES=\"unlimited\"\nSWAPPAGES=\"0:1G\"\n",
	  "PHYSPAGES=\"unlimited\"\nSWAPPAGES=\"0:0\"\n" },
	{ "PHYSPAGES barrier 0", "vswap", VZ_UBC_PHYSPAGES, VZ_UBC_WARN, true,
	  "PHYSPAGES=\"1000:65536\"\nSWAPPAGES=\"0:0\"\n",
	  "PHYSPAGES=\"0:65536\"\nSWAPPAGES=\"0:0\"\n" },
	{ "PHYSPAGES limit 0", "vswap", VZ_UBC_PHYSPAGES, VZ_UBC_ERR, false,
	  "PHYSPAGES=\"0:0\"\nSWAPPAGES=\"0:0\"\n", VSW },
	{ "PHYSPAGES tiny", "vswap", VZ_UBC_PHYSPAGES, VZ_UBC_WARN, false,
	  "PHYSPAGES=\"0:8M\"\nSWAPPAGES=\"0:0\"\n",
	  "PHYSPAGES=\"0:16M\"\nSWAPPAGES=\"0:0\"\n" },
	{ "RAM above host", "host", VZ_UBC_PHYSPAGES, VZ_UBC_WARN, false,
	  "PHYSPAGES=\"0:9G\"\nSWAPPAGES=\"0:0\"\n",
	  "PHYSPAGES=\"0:8G\"\nSWAPPAGES=\"0:0\"\n" },
	{ "swap above host", "host", VZ_UBC_SWAPPAGES, VZ_UBC_WARN, false,
	  "PHYSPAGES=\"0:1G\"\nSWAPPAGES=\"0:3G\"\n",
	  "PHYSPAGES=\"0:1G\"\nSWAPPAGES=\"0:2G\"\n" },
	{ "SWAPPAGES set", "vswap", VZ_UBC_SWAPPAGES, VZ_UBC_WARN, true,
	  "PHYSPAGES=\"0:256M\"\n", VSW },
	{ "SWAPPAGES barrier 0", "vswap", VZ_UBC_SWAPPAGES, VZ_UBC_WARN, true,
	  "PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"512M\"\n", VSW },
	{ "SWAPPAGES limited", "vswap", VZ_UBC_SWAPPAGES, VZ_UBC_WARN, false,
	  "PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:unlimited\"\n", VSW },
	{ "barrier = limit", "shape", VZ_UBC_NUMPROC, VZ_UBC_ERR, true,
	  VSW "NUMPROC=\"100:200\"\n", VSW "NUMPROC=\"200\"\n" },
	{ "barrier = limit (numiptent)", "shape", VZ_UBC_NUMIPTENT, VZ_UBC_ERR, true,
	  VSW "NUMIPTENT=\"10:unlimited\"\n", VSW "NUMIPTENT=\"unlimited\"\n" },
	{ "barrier <= limit", "shape", VZ_UBC_KMEMSIZE, VZ_UBC_ERR, true,
	  VSW "KMEMSIZE=\"20M:10M\"\n", VSW "KMEMSIZE=\"10M:20M\"\n" },
	{ "guarantee limit unlimited", "shape", VZ_UBC_VMGUARPAGES, VZ_UBC_WARN, true,
	  VSW "VMGUARPAGES=\"1G:2G\"\n", VSW "VMGUARPAGES=\"1G:unlimited\"\n" },
	{ "guarantee limit unlimited (oom)", "shape", VZ_UBC_OOMGUARPAGES, VZ_UBC_WARN, true,
	  VSW "OOMGUARPAGES=\"1000:2000\"\n", VSW "OOMGUARPAGES=\"1000:unlimited\"\n" },
	{ "1 dcachesize", "formula1", VZ_UBC_DCACHESIZE, VZ_UBC_ERR, true,
	  "NUMFILE=\"1000\"\nDCACHESIZE=\"100K:300K\"\n",
	  "NUMFILE=\"1000\"\nDCACHESIZE=\"100K:375K\"\n" },
	{ "2 kmemsize", "formula2", VZ_UBC_KMEMSIZE, VZ_UBC_ERR, true,
	  "NUMPROC=\"100\"\nDCACHESIZE=\"1M:1M\"\nKMEMSIZE=\"2M:3M\"\n",
	  "NUMPROC=\"100\"\nDCACHESIZE=\"1M:1M\"\nKMEMSIZE=\"3024K:4M\"\n" },
	{ "2 kmemsize with AVNUMPROC", "formula2", VZ_UBC_KMEMSIZE, VZ_UBC_ERR, true,
	  "NUMPROC=\"100\"\nAVNUMPROC=\"200\"\nDCACHESIZE=\"0:0\"\nKMEMSIZE=\"7M:8M\"\n",
	  "NUMPROC=\"100\"\nAVNUMPROC=\"200\"\nDCACHESIZE=\"0:0\"\nKMEMSIZE=\"8000K:9M\"\n" },
	{ "3 privvmpages", "formula3", VZ_UBC_PRIVVMPAGES, VZ_UBC_WARN, true,
	  "VMGUARPAGES=\"1G:unlimited\"\nPRIVVMPAGES=\"512M:2G\"\n",
	  "VMGUARPAGES=\"1G:unlimited\"\nPRIVVMPAGES=\"1G:2G\"\n" },
	{ "3 privvmpages (VSwap implied)", "formula3", VZ_UBC_PRIVVMPAGES, VZ_UBC_WARN, true,
	  VSW "PRIVVMPAGES=\"700M:1G\"\n", VSW "PRIVVMPAGES=\"768M:1G\"\n" },
	{ "4 tcpsndbuf gap", "formula4", VZ_UBC_TCPSNDBUF, VZ_UBC_ERR, true,
	  "NUMTCPSOCK=\"100\"\nTCPSNDBUF=\"1M:1100K\"\n",
	  "NUMTCPSOCK=\"100\"\nTCPSNDBUF=\"1M:1274K\"\n" },
	{ "4 othersockbuf gap", "formula4", VZ_UBC_OTHERSOCKBUF, VZ_UBC_ERR, true,
	  "NUMOTHERSOCK=\"100\"\nOTHERSOCKBUF=\"1M:1M\"\n",
	  "NUMOTHERSOCK=\"100\"\nOTHERSOCKBUF=\"1M:1274K\"\n" },
	{ "5 tcprcvbuf gap", "formula5", VZ_UBC_TCPRCVBUF, VZ_UBC_ERR, true,
	  "NUMTCPSOCK=\"100\"\nTCPRCVBUF=\"1M:1200K\"\n",
	  "NUMTCPSOCK=\"100\"\nTCPRCVBUF=\"1M:1300K\"\n" },
	{ "6 tcpsndbuf minimum", "formula6", VZ_UBC_TCPSNDBUF, VZ_UBC_WARN, true,
	  "TCPSNDBUF=\"32K:1M\"\n", "TCPSNDBUF=\"64K:1M\"\n" },
	{ "6 tcprcvbuf minimum", "formula6", VZ_UBC_TCPRCVBUF, VZ_UBC_WARN, true,
	  "TCPRCVBUF=\"60K:1M\"\n", "TCPRCVBUF=\"1M:2M\"\n" },
	{ "7 dgramrcvbuf minimum", "formula7", VZ_UBC_DGRAMRCVBUF, VZ_UBC_WARN, true,
	  "DGRAMRCVBUF=\"16K\"\n", "DGRAMRCVBUF=\"129K\"\n" },
	{ "7 othersockbuf advised", "formula7", VZ_UBC_OTHERSOCKBUF, VZ_UBC_REC, true,
	  "OTHERSOCKBUF=\"64K:1M\"\n", "OTHERSOCKBUF=\"129K:1M\"\n" },
	{ "8 numfile by processes", "formula8", VZ_UBC_NUMFILE, VZ_UBC_ERR, true,
	  "NUMPROC=\"100\"\nNUMFILE=\"1000\"\n",
	  "NUMPROC=\"100\"\nNUMFILE=\"1600\"\n" },
	{ "8 numfile by sockets", "formula8", VZ_UBC_NUMFILE, VZ_UBC_ERR, true,
	  "NUMTCPSOCK=\"500\"\nNUMOTHERSOCK=\"500\"\nNUMPTY=\"16\"\nNUMFILE=\"1000\"\n",
	  "NUMTCPSOCK=\"500\"\nNUMOTHERSOCK=\"500\"\nNUMPTY=\"16\"\nNUMFILE=\"1016\"\n" },
};

static void load(struct vz_conf *c, const char *text)
{
	struct vz_error err = { 0 };
	vz_conf_init(c, "t.conf");
	if (vz_conf_parse(c, "t.conf", text, strlen(text), &err) < 0)
		printf("# parse: %s\n", err.msg);
}

static const struct vz_ubc_issue *find(const struct vz_ubc_report *r,
				       const struct rule_case *k)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].rule, k->rule) == 0 &&
		    r->v[i].param == k->param && r->v[i].sev == k->sev)
			return &r->v[i];
	return NULL;
}

static void check_text(const char *text, struct vz_ubc *u,
		       struct vz_ubc_report *r)
{
	struct vz_conf c;
	load(&c, text);
	vz_ubc_from_conf(&c, u, r);
	vz_ubc_validate(u, &host, r);
	vz_conf_free(&c);
}

static bool fixable_left(const struct vz_ubc_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].fixable && r->v[i].sev >= VZ_UBC_WARN)
			return true;
	return false;
}

static bool yes(const struct vz_ubc_issue *is, void *ctx)
{
	(void)is;
	(*(int *)ctx)++;
	return true;
}

static void rules(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct rule_case *k = &cases[i];
		struct vz_ubc u;
		struct vz_ubc_report r = { 0 };

		check_text(k->good, &u, &r);
		CHECK(!find(&r, k), "%s: passing config passes", k->name);
		for (size_t j = 0; j < r.n; j++)
			if (find(&r, k) == &r.v[j])
				printf("#   %s\n", r.v[j].msg);
		vz_ubc_report_free(&r);

		check_text(k->bad, &u, &r);
		const struct vz_ubc_issue *is = find(&r, k);
		CHECK(is != NULL, "%s: failing config fails (%s)", k->name,
		      is ? is->msg : "no such issue");
		if (!is) {
			vz_ubc_report_print(&r, stdout, "#   ");
			vz_ubc_report_free(&r);
			continue;
		}
		CHECK(is->fixable == k->fixable, "%s: %s", k->name,
		      k->fixable ? "has a repair" : "has no repair");
		vz_ubc_report_free(&r);
		if (!k->fixable)
			continue;

		/* repair, write the config, read it back: it passes */
		struct vz_conf c;
		struct vz_ubc_report fixes = { 0 };
		bool changed[VZ_UBC_NR] = { false };
		int asked = 0;
		load(&c, k->bad);
		vz_ubc_from_conf(&c, &u, &r);
		vz_ubc_report_free(&r);
		int n = vz_ubc_repair(&u, &host, k->sev == VZ_UBC_REC ? yes :
				      NULL, &asked, &fixes, changed);
		CHECK(n > 0 && changed[k->param] == true,
		      "%s: repair changes %s", k->name,
		      vz_ubc_def(k->param)->name);
		vz_ubc_to_conf(&u, changed, &c);
		_cleanup_free_ char *text = vz_conf_format(&c);
		vz_conf_free(&c);
		check_text(text, &u, &r);
		CHECK(!find(&r, k) && r.errors == 0 && !fixable_left(&r),
		      "%s: repaired config passes", k->name);
		if (find(&r, k) || r.errors || fixable_left(&r)) {
			printf("#   repaired:\n%s", text);
			vz_ubc_report_print(&r, stdout, "#   ");
		}
		vz_ubc_report_free(&r);
		vz_ubc_report_free(&fixes);
	}
}

/* Repairs cascade (a raised NUMFILE raises DCACHESIZE, which raises
 * KMEMSIZE) and keep every other line of the file. */
static void cascade(void)
{
	const char *text =
		"# my container\n"
		"HOSTNAME=\"web\"\n"
		"NUMPROC=\"100:120\"\n"
		"NUMFILE=\"100\"\n"
		"DCACHESIZE=\"10K:10K\"\n"
		"KMEMSIZE=\"100K:100K\"\n"
		"TCPSNDBUF=\"10K:10K\"\n"
		"NUMTCPSOCK=\"80\"\n"
		"ONBOOT=\"yes\"\n";
	struct vz_conf c;
	struct vz_ubc u;
	struct vz_ubc_report r = { 0 }, fixes = { 0 };
	bool changed[VZ_UBC_NR] = { false };

	load(&c, text);
	vz_ubc_from_conf(&c, &u, &r);
	vz_ubc_validate(&u, &host, &r);
	CHECK(r.errors >= 5, "classic broken config has %d errors", r.errors);
	vz_ubc_report_free(&r);
	vz_ubc_repair(&u, &host, NULL, NULL, &fixes, changed);
	vz_ubc_to_conf(&u, changed, &c);
	_cleanup_free_ char *out = vz_conf_format(&c);
	vz_conf_free(&c);
	CHECK(strncmp(out, "# my container\nHOSTNAME=\"web\"\nNUMPROC=", 38) == 0 &&
	      strstr(out, "\nONBOOT=\"yes\"\n") != NULL,
	      "repair keeps comments and other lines in place");
	check_text(out, &u, &r);
	CHECK(r.errors == 0 && r.warnings == 0, "cascaded repair passes");
	if (r.errors || r.warnings) {
		printf("%s", out);
		vz_ubc_report_print(&r, stdout, "#   ");
	}
	CHECK(u.p[VZ_UBC_NUMPROC].bar == 120 && u.p[VZ_UBC_NUMFILE].bar == 1920,
	      "NUMPROC 120:120 and NUMFILE 32 x 60");
	CHECK(u.p[VZ_UBC_DCACHESIZE].lim == 384 * 1920,
	      "DCACHESIZE raised to 384 x NUMFILE");
	CHECK(u.p[VZ_UBC_KMEMSIZE].bar == 40 * 1024 * 60 + 384 * 1920,
	      "KMEMSIZE raised to 40K x 60 + DCACHESIZE");
	vz_ubc_report_free(&r);
	vz_ubc_report_free(&fixes);

	/* interactive: saying no changes nothing */
	load(&c, text);
	vz_ubc_from_conf(&c, &u, &r);
	vz_conf_free(&c);
	memset(changed, 0, sizeof(changed));
	int n = vz_ubc_repair(&u, &host, NULL, NULL, &fixes, changed);
	vz_ubc_report_free(&fixes);
	CHECK(n > 0, "repair without asking");
	vz_ubc_report_free(&r);
}

/* A classic config as OpenVZ shipped it (vps.basic) passes, with the
 * VSwap recommendation only. */
static void classic(void)
{
	struct vz_ubc u;
	struct vz_ubc_report r = { 0 };
	check_text("NUMPROC=\"240:240\"\nAVNUMPROC=\"120:120\"\n"
		   "NUMTCPSOCK=\"360:360\"\nNUMOTHERSOCK=\"360:360\"\n"
		   "VMGUARPAGES=\"33792:9223372036854775807\"\n"
		   "KMEMSIZE=\"14372700:14790164\"\nTCPSNDBUF=\"1720320:2703360\"\n"
		   "TCPRCVBUF=\"1720320:2703360\"\nOTHERSOCKBUF=\"1126080:2097152\"\n"
		   "DGRAMRCVBUF=\"262144:262144\"\n"
		   "OOMGUARPAGES=\"26112:9223372036854775807\"\n"
		   "PRIVVMPAGES=\"65536:69632\"\nLOCKEDPAGES=\"256:256\"\n"
		   "SHMPAGES=\"21504:21504\"\nPHYSPAGES=\"0:9223372036854775807\"\n"
		   "NUMFILE=\"9312:9312\"\nNUMFLOCK=\"188:206\"\nNUMPTY=\"16:16\"\n"
		   "NUMSIGINFO=\"256:256\"\nDCACHESIZE=\"3409920:3624960\"\n"
		   "NUMIPTENT=\"128:128\"\n", &u, &r);
	CHECK(r.errors == 0 && r.warnings == 0 && r.recs == 1,
	      "OpenVZ's vps.basic passes (%d errors, %d warnings)", r.errors,
	      r.warnings);
	if (r.errors || r.warnings)
		vz_ubc_report_print(&r, stdout, "#   ");
	vz_ubc_report_free(&r);
}

static bool no(const struct vz_ubc_issue *is, void *ctx)
{
	(void)is;
	(*(int *)ctx)++;
	return false;
}

static void interactive(void)
{
	struct vz_conf c;
	struct vz_ubc u;
	struct vz_ubc_report r = { 0 }, fixes = { 0 };
	bool changed[VZ_UBC_NR] = { false };
	int asked = 0;
	load(&c, "NUMPROC=\"1:2\"\nKMEMSIZE=\"2M:1M\"\n");
	vz_ubc_from_conf(&c, &u, &r);
	vz_conf_free(&c);
	int n = vz_ubc_repair(&u, &host, no, &asked, &fixes, changed);
	CHECK(n == 0 && asked == 2 && !changed[VZ_UBC_NUMPROC],
	      "-i: each issue asked once, no answer changes nothing (asked %d)",
	      asked);
	vz_ubc_report_free(&r);
	vz_ubc_report_free(&fixes);
}

static void values(void)
{
	struct vz_conf c;
	struct vz_ubc u;
	struct vz_ubc_report r = { 0 };
	char buf[64];
	uint64_t b, l;

	load(&c, "PHYSPAGES=\"0:65536\"\nSWAPPAGES=\"0:1G\"\nVM_OVERCOMMIT=\"1.5\"\n"
		 "NUMPROC=\"unlimited\"\nKMEMSIZE=\"1000\"\n");
	vz_ubc_from_conf(&c, &u, &r);
	vz_conf_free(&c);
	CHECK(r.n == 0, "values parse");
	CHECK(vz_ubc_is_vswap(&u), "finite PHYSPAGES limit: VSwap");
	CHECK(u.p[VZ_UBC_PHYSPAGES].lim == 256ULL << 20, "65536 pages = 256M");
	CHECK(u.p[VZ_UBC_NUMPROC].lim == VZ_UNLIMITED, "unlimited");
	vz_ubc_effective(&u, VZ_UBC_LOCKEDPAGES, &b, &l);
	CHECK(b == 256ULL << 20, "implied LOCKEDPAGES barrier = RAM");
	vz_ubc_effective(&u, VZ_UBC_OOMGUARPAGES, &b, &l);
	CHECK(b == 256ULL << 20 && l == VZ_UNLIMITED,
	      "implied OOMGUARPAGES = RAM:unlimited");
	vz_ubc_effective(&u, VZ_UBC_VMGUARPAGES, &b, &l);
	CHECK(b == 1280ULL << 20, "implied VMGUARPAGES = RAM + swap");
	vz_ubc_effective(&u, VZ_UBC_PRIVVMPAGES, &b, &l);
	CHECK(b == 1920ULL << 20 && l == b,
	      "implied PRIVVMPAGES = (RAM + swap) x VM_OVERCOMMIT");
	vz_ubc_format_pair(VZ_UBC_PHYSPAGES, 0, 256ULL << 20, buf, sizeof(buf));
	CHECK_STR(buf, "0:256M", "pages written in MiB");
	vz_ubc_format_pair(VZ_UBC_PHYSPAGES, 0, 4096 * 3, buf, sizeof(buf));
	CHECK_STR(buf, "0:3", "odd pages written as pages");
	vz_ubc_format_pair(VZ_UBC_NUMPROC, VZ_UNLIMITED, VZ_UNLIMITED, buf,
			   sizeof(buf));
	CHECK_STR(buf, "unlimited:unlimited", "unlimited written back");
	vz_ubc_format_pair(VZ_UBC_KMEMSIZE, 1000, 2048, buf, sizeof(buf));
	CHECK_STR(buf, "1000:2K", "bytes");
	CHECK(vz_ubc_find("numproc") == VZ_UBC_NUMPROC && vz_ubc_find("x") < 0,
	      "names");

	/* OpenVZ's own configs say unlimited as LONG_MAX */
	load(&c, "PHYSPAGES=\"0:9223372036854775807\"\n"
		 "NUMPROC=\"9223372036854775807:9223372036854775807\"\n");
	vz_ubc_from_conf(&c, &u, &r);
	vz_conf_free(&c);
	CHECK(r.n == 0 && u.p[VZ_UBC_PHYSPAGES].lim == VZ_UNLIMITED &&
	      u.p[VZ_UBC_NUMPROC].bar == VZ_UNLIMITED && !vz_ubc_is_vswap(&u),
	      "LONG_MAX is unlimited");
	vz_ubc_report_free(&r);

	struct vz_error err = { 0 };
	load(&c, "NUMPROC=\"1:2\"\n");
	CHECK(vz_ubc_check_conf(&c, &host, &err) < 0 &&
	      strstr(err.msg, "NUMPROC barrier") && err.code == VZ_ECONFIG,
	      "check_conf fails with the error: %s", err.msg);
	vz_conf_free(&c);
	load(&c, VSW);
	CHECK(vz_ubc_check_conf(&c, &host, &err) == 0, "check_conf passes");
	vz_conf_free(&c);
}

static void write_file(const char *path, const char *text)
{
	struct vz_error err = { 0 };
	if (vz_write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
		printf("# %s\n", err.msg);
}

static bool held(const char *ctid, uint64_t *ram, uint64_t *swap, void *ctx)
{
	(void)ctx;
	if (strcmp(ctid, "101"))
		return false;
	*ram = 100 << 20;
	*swap = 10 << 20;
	return true;
}

static void hostcheck(void)
{
	char tmpl[] = "/tmp/test-ubc.XXXXXX";
	char *dir = mkdtemp(tmpl);
	struct vz_error err = { 0 };
	struct vz_host_report r;
	CHECK(dir != NULL, "temp dir");
	if (!dir)
		return;
	_cleanup_free_ char *conf = xasprintf("%s/conf", dir);
	_cleanup_free_ char *g = xasprintf("%s/vz.conf", dir);
	_cleanup_free_ char *a = xasprintf("%s/101.conf", conf);
	_cleanup_free_ char *b = xasprintf("%s/102.conf", conf);
	_cleanup_free_ char *s = xasprintf("%s/ve-x.conf-sample", conf);
	vz_mkdir_p(conf, 0755, &err);
	write_file(g, "CPUUNITS=\"500\"\n");
	write_file(a, "PHYSPAGES=\"0:1G\"\nSWAPPAGES=\"0:1G\"\nCPUUNITS=\"3000\"\nCPULIMIT=\"50\"\n");
	write_file(b, "PHYSPAGES=\"0:2G\"\nSWAPPAGES=\"0:512M\"\nCPUS=\"2\"\n");
	write_file(s, "PHYSPAGES=\"0:100G\"\n");

	CHECK(vz_host_check(dir, &host, held, NULL, &r, &err) == 0,
	      "host check: %s", err.msg);
	CHECK(r.n == 2, "two containers (the sample is not one)");
	CHECK(r.sum_ram == 3ULL << 30, "RAM sum 1G + 2G");
	CHECK(r.sum_commit == (3ULL << 30) + (1536ULL << 20),
	      "RAM + swap sum");
	CHECK(r.sum_held == 100 << 20 && r.sum_held_swap == 10 << 20 &&
	      r.ct[0].held_known &&
	      !r.ct[1].held_known, "held from the running CT");
	CHECK(r.sum_cpuunits == 3500, "CPUUNITS 3000 + default 500 from vz.conf");
	CHECK(r.sum_cpulimit == 250, "CPU limit 50%% + 2 CPUs (200%%)");
	CHECK(r.issues.errors == 0 && r.issues.warnings == 0,
	      "nothing overcommitted");
	vz_host_report_free(&r);

	write_file(b, "PHYSPAGES=\"0:8G\"\nSWAPPAGES=\"0:4G\"\nNUMPROC=\"1:2\"\n");
	CHECK(vz_host_check(dir, &host, NULL, NULL, &r, &err) == 0, "again");
	bool ram = false, rs = false;
	for (size_t i = 0; i < r.issues.n; i++) {
		if (strstr(r.issues.v[i].msg, "RAM is overcommitted"))
			ram = true;
		if (strstr(r.issues.v[i].msg, "RAM + swap is overcommitted"))
			rs = true;
	}
	CHECK(ram && rs, "overcommit of RAM and RAM + swap reported");
	CHECK(r.issues.errors == 1 && r.ct[1].errors == 1,
	      "a CT's config error counts");
	vz_host_report_free(&r);
	vz_rm_rf(dir, &err);
}

static void split(void)
{
	unsigned ns[] = { 1, 2, 20, 100 };
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		struct vz_split s;
		struct vz_error err = { 0 };
		struct vz_ubc u;
		struct vz_ubc_report r = { 0 };
		CHECK(vz_split(&host, ns[i], 0, &s, &err) == 0, "split %u", ns[i]);
		_cleanup_free_ char *text = vz_split_text(&s);
		check_text(text, &u, &r);
		CHECK(r.errors == 0 && r.warnings == 0 && r.recs == 0,
		      "split %u: output passes its own validation", ns[i]);
		CHECK(s.ram * ns[i] + s.reserve <= host.ram &&
		      s.swap * ns[i] <= host.swap, "split %u fits the host", ns[i]);
		vz_ubc_report_free(&r);
	}
	struct vz_split s;
	struct vz_error err = { 0 };
	CHECK(vz_split(&host, 1000, 0, &s, &err) < 0 &&
	      strstr(err.msg, "32M"), "split 1000: too small: %s", err.msg);
	CHECK(vz_split(&host, 0, 0, &s, &err) < 0, "split 0 refused");
}

int main(void)
{
	rules();
	cascade();
	classic();
	interactive();
	values();
	hostcheck();
	split();
	UNIT_DONE();
}
