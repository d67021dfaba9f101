#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "ubc.h"
#include "util.h"

#define UNL VZ_UNLIMITED
#define KB 1024ULL
#define MB (1024ULL * 1024)

static const struct vz_ubc_def defs[VZ_UBC_NR] = {
	[VZ_UBC_KMEMSIZE] = { "KMEMSIZE", "kmemsize", VZ_UBC_BYTES, VZ_UBC_LE },
	[VZ_UBC_LOCKEDPAGES] = { "LOCKEDPAGES", "lockedpages", VZ_UBC_PAGES, VZ_UBC_LE },
	[VZ_UBC_PRIVVMPAGES] = { "PRIVVMPAGES", "privvmpages", VZ_UBC_PAGES, VZ_UBC_LE },
	[VZ_UBC_SHMPAGES] = { "SHMPAGES", "shmpages", VZ_UBC_PAGES, VZ_UBC_EQ },
	[VZ_UBC_NUMPROC] = { "NUMPROC", "numproc", VZ_UBC_COUNT, VZ_UBC_EQ },
	[VZ_UBC_PHYSPAGES] = { "PHYSPAGES", "physpages", VZ_UBC_PAGES, VZ_UBC_VSWAP },
	[VZ_UBC_VMGUARPAGES] = { "VMGUARPAGES", "vmguarpages", VZ_UBC_PAGES, VZ_UBC_GUAR },
	[VZ_UBC_OOMGUARPAGES] = { "OOMGUARPAGES", "oomguarpages", VZ_UBC_PAGES, VZ_UBC_GUAR },
	[VZ_UBC_NUMTCPSOCK] = { "NUMTCPSOCK", "numtcpsock", VZ_UBC_COUNT, VZ_UBC_EQ },
	[VZ_UBC_NUMFLOCK] = { "NUMFLOCK", "numflock", VZ_UBC_COUNT, VZ_UBC_LE },
	[VZ_UBC_NUMPTY] = { "NUMPTY", "numpty", VZ_UBC_COUNT, VZ_UBC_EQ },
	[VZ_UBC_NUMSIGINFO] = { "NUMSIGINFO", "numsiginfo", VZ_UBC_COUNT, VZ_UBC_EQ },
	[VZ_UBC_TCPSNDBUF] = { "TCPSNDBUF", "tcpsndbuf", VZ_UBC_BYTES, VZ_UBC_LE },
	[VZ_UBC_TCPRCVBUF] = { "TCPRCVBUF", "tcprcvbuf", VZ_UBC_BYTES, VZ_UBC_LE },
	[VZ_UBC_OTHERSOCKBUF] = { "OTHERSOCKBUF", "othersockbuf", VZ_UBC_BYTES, VZ_UBC_LE },
	[VZ_UBC_DGRAMRCVBUF] = { "DGRAMRCVBUF", "dgramrcvbuf", VZ_UBC_BYTES, VZ_UBC_LE },
	[VZ_UBC_NUMOTHERSOCK] = { "NUMOTHERSOCK", "numothersock", VZ_UBC_COUNT, VZ_UBC_EQ },
	[VZ_UBC_DCACHESIZE] = { "DCACHESIZE", "dcachesize", VZ_UBC_BYTES, VZ_UBC_LE },
	[VZ_UBC_NUMFILE] = { "NUMFILE", "numfile", VZ_UBC_COUNT, VZ_UBC_EQ },
	[VZ_UBC_NUMIPTENT] = { "NUMIPTENT", "numiptent", VZ_UBC_COUNT, VZ_UBC_EQ },
	[VZ_UBC_SWAPPAGES] = { "SWAPPAGES", "swappages", VZ_UBC_PAGES, VZ_UBC_VSWAP },
};

const struct vz_ubc_def *vz_ubc_def(int id)
{
	return id >= 0 && id < VZ_UBC_NR ? &defs[id] : NULL;
}

int vz_ubc_find(const char *name)
{
	for (int i = 0; i < VZ_UBC_NR; i++)
		if (strcasecmp(name, defs[i].name) == 0)
			return i;
	return -1;
}

const char *vz_ubc_sev_name(enum vz_ubc_sev s)
{
	switch (s) {
	case VZ_UBC_ERR: return "Error";
	case VZ_UBC_WARN: return "Warning";
	case VZ_UBC_REC: return "Recommendation";
	}
	return "?";
}

/* Saturating arithmetic: unlimited stays unlimited. */
static uint64_t s_add(uint64_t a, uint64_t b)
{
	if (a == UNL || b == UNL || a > UNL - b)
		return UNL;
	return a + b;
}

static uint64_t s_mul(uint64_t a, uint64_t b)
{
	if (a == UNL || b == UNL)
		return UNL;
	if (a && b > (UNL - 1) / a)
		return UNL;
	return a * b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ---------------------------------------------------------------- format */

void vz_ubc_format(int id, uint64_t v, char *buf, size_t len)
{
	if (v == UNL) {
		snprintf(buf, len, "unlimited");
		return;
	}
	switch (defs[id].unit) {
	case VZ_UBC_COUNT:
		snprintf(buf, len, "%" PRIu64, v);
		break;
	case VZ_UBC_PAGES:
		if (v && v % MB == 0)
			vz_format_size(v, buf, len);
		else
			snprintf(buf, len, "%" PRIu64, (uint64_t)(v / VZ_UBC_PAGE));
		break;
	case VZ_UBC_BYTES:
		if (v && v % KB == 0)
			vz_format_size(v, buf, len);
		else
			snprintf(buf, len, "%" PRIu64, v);
		break;
	}
}

void vz_ubc_format_pair(int id, uint64_t bar, uint64_t lim, char *buf,
			size_t len)
{
	char b[32], l[32];
	vz_ubc_format(id, bar, b, sizeof(b));
	vz_ubc_format(id, lim, l, sizeof(l));
	snprintf(buf, len, "%s:%s", b, l);
}

/* A value for messages: sizes with their unit, counts bare. */
static const char *show(int id, uint64_t v, char *buf, size_t len)
{
	if (v == UNL)
		snprintf(buf, len, "unlimited");
	else if (defs[id].unit == VZ_UBC_COUNT)
		snprintf(buf, len, "%" PRIu64, v);
	else
		vz_format_size(v, buf, len);
	return buf;
}

static const char *show_bytes(uint64_t v, char *buf, size_t len)
{
	if (v == UNL)
		snprintf(buf, len, "unlimited");
	else
		vz_format_size(v, buf, len);
	return buf;
}

/* ---------------------------------------------------------------- report */

void vz_ubc_report_free(struct vz_ubc_report *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static struct vz_ubc_issue *add(struct vz_ubc_report *r, enum vz_ubc_sev sev,
				const char *rule, int param, const char *fmt,
				...) __attribute__((format(printf, 5, 6)));

static struct vz_ubc_issue *add(struct vz_ubc_report *r, enum vz_ubc_sev sev,
				const char *rule, int param, const char *fmt,
				...)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	struct vz_ubc_issue *is = &r->v[r->n++];
	memset(is, 0, sizeof(*is));
	is->sev = sev;
	is->rule = rule;
	is->param = param;
	is->fix_param = -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(is->msg, sizeof(is->msg), fmt, ap);
	va_end(ap);
	switch (sev) {
	case VZ_UBC_ERR: r->errors++; break;
	case VZ_UBC_WARN: r->warnings++; break;
	case VZ_UBC_REC: r->recs++; break;
	}
	return is;
}

static void set_fix(struct vz_ubc_issue *is, int id, uint64_t bar,
		    uint64_t lim)
{
	is->fixable = true;
	is->fix_param = id;
	is->fix_bar = bar;
	is->fix_lim = lim;
}

static void append_copy(struct vz_ubc_report *r, const struct vz_ubc_issue *is)
{
	struct vz_ubc_issue *c = add(r, is->sev, is->rule, is->param, "%s",
				     is->msg);
	*c = *is;
}

void vz_ubc_report_print(const struct vz_ubc_report *r, FILE *f,
			 const char *prefix)
{
	for (size_t i = 0; i < r->n; i++)
		fprintf(f, "%s%s: %s\n", prefix ? prefix : "",
			vz_ubc_sev_name(r->v[i].sev), r->v[i].msg);
}

void vz_ubc_report_json(const struct vz_ubc_report *r, struct vz_json *j)
{
	vz_json_begin_array(j);
	for (size_t i = 0; i < r->n; i++) {
		const struct vz_ubc_issue *is = &r->v[i];
		char buf[80];
		vz_json_begin_object(j);
		vz_json_kv_string(j, "severity", is->sev == VZ_UBC_ERR ? "error" :
				  is->sev == VZ_UBC_WARN ? "warning" :
				  "recommendation");
		vz_json_kv_string(j, "rule", is->rule);
		vz_json_kv_string(j, "param", is->param >= 0 ?
				  defs[is->param].name : NULL);
		vz_json_kv_string(j, "message", is->msg);
		if (is->fixable) {
			vz_ubc_format_pair(is->fix_param, is->fix_bar,
					   is->fix_lim, buf, sizeof(buf));
			vz_json_key(j, "fix");
			vz_json_begin_object(j);
			vz_json_kv_string(j, "param", defs[is->fix_param].name);
			vz_json_kv_string(j, "value", buf);
			vz_json_end_object(j);
		}
		vz_json_kv_bool(j, "fixed", is->fixed);
		vz_json_end_object(j);
	}
	vz_json_end_array(j);
}

/* ----------------------------------------------------------------- parse */

void vz_ubc_from_conf(const struct vz_conf *c, struct vz_ubc *u,
		      struct vz_ubc_report *r)
{
	const char *file = c->path ? c->path : "config";
	memset(u, 0, sizeof(*u));
	for (int i = 0; i < VZ_UBC_NR; i++) {
		const char *v = vz_conf_get(c, defs[i].name);
		if (!v)
			continue;
		int line = vz_conf_lineno(c, defs[i].name);
		uint64_t unit = defs[i].unit == VZ_UBC_PAGES ? VZ_UBC_PAGE : 1;
		uint64_t b, l;
		if (vz_parse_ubc(v, unit, &b, &l) < 0) {
			add(r, VZ_UBC_ERR, "syntax", i,
			    "%s:%d: %s=\"%s\" is not barrier[:limit] (numbers%s, or unlimited)",
			    file, line, defs[i].name, v,
			    defs[i].unit == VZ_UBC_COUNT ? "" :
			    " with optional K/M/G/T");
			continue;
		}
		/* pages are whole: round a byte size up to a page */
		if (defs[i].unit == VZ_UBC_PAGES) {
			if (b != UNL)
				b = s_mul((b + VZ_UBC_PAGE - 1) / VZ_UBC_PAGE,
					  VZ_UBC_PAGE);
			if (l != UNL)
				l = s_mul((l + VZ_UBC_PAGE - 1) / VZ_UBC_PAGE,
					  VZ_UBC_PAGE);
		}
		u->p[i] = (struct vz_ubc_val){ true, b, l, line };
	}
	const char *v = vz_conf_get(c, "AVNUMPROC");
	if (v) {
		uint64_t b, l;
		if (vz_parse_ubc(v, 1, &b, &l) < 0)
			add(r, VZ_UBC_ERR, "syntax", -1,
			    "%s:%d: AVNUMPROC=\"%s\" is not a number", file,
			    vz_conf_lineno(c, "AVNUMPROC"), v);
		else {
			u->avnumproc_set = true;
			u->avnumproc = b;
		}
	}
	v = vz_conf_get(c, "VM_OVERCOMMIT");
	if (v && *v) {
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (errno || *end || !(d > 0) || isinf(d))
			add(r, VZ_UBC_ERR, "syntax", -1,
			    "%s:%d: VM_OVERCOMMIT=\"%s\" is not a positive number",
			    file, vz_conf_lineno(c, "VM_OVERCOMMIT"), v);
		else {
			u->overcommit_set = true;
			u->overcommit = d;
		}
	}
}

bool vz_ubc_is_vswap(const struct vz_ubc *u)
{
	return u->p[VZ_UBC_PHYSPAGES].set &&
	       u->p[VZ_UBC_PHYSPAGES].lim != UNL;
}

static uint64_t ram_of(const struct vz_ubc *u)
{
	return u->p[VZ_UBC_PHYSPAGES].lim;
}

static uint64_t swap_of(const struct vz_ubc *u)
{
	return u->p[VZ_UBC_SWAPPAGES].set ? u->p[VZ_UBC_SWAPPAGES].lim : 0;
}

void vz_ubc_effective(const struct vz_ubc *u, int id, uint64_t *bar,
		      uint64_t *lim)
{
	if (u->p[id].set) {
		*bar = u->p[id].bar;
		*lim = u->p[id].lim;
		return;
	}
	*bar = *lim = UNL;
	if (!vz_ubc_is_vswap(u))
		return;
	uint64_t ram = ram_of(u), rs = s_add(ram, swap_of(u));
	switch (id) {
	case VZ_UBC_LOCKEDPAGES:
		*bar = *lim = ram;
		break;
	case VZ_UBC_OOMGUARPAGES:
		*bar = ram;
		break;
	case VZ_UBC_VMGUARPAGES:
		*bar = rs;
		break;
	case VZ_UBC_PRIVVMPAGES:
		if (u->overcommit_set && rs != UNL) {
			double d = (double)rs * u->overcommit;
			uint64_t v = d >= 1.8e19 ? UNL :
				     (uint64_t)d / VZ_UBC_PAGE * VZ_UBC_PAGE;
			*bar = *lim = v;
		}
		break;
	case VZ_UBC_SWAPPAGES:
		*bar = 0;
		*lim = 0;
		break;
	}
}

uint64_t vz_ubc_avnumproc(const struct vz_ubc *u)
{
	if (u->avnumproc_set)
		return u->avnumproc;
	uint64_t b, l;
	vz_ubc_effective(u, VZ_UBC_NUMPROC, &b, &l);
	return b == UNL ? UNL : b / 2;
}

/* -------------------------------------------------------------- validate */

static void check_shape(const struct vz_ubc *u, int i, struct vz_ubc_report *r)
{
	const struct vz_ubc_val *v = &u->p[i];
	char b[32], l[32];
	if (!v->set)
		return;
	show(i, v->bar, b, sizeof(b));
	show(i, v->lim, l, sizeof(l));
	switch (defs[i].shape) {
	case VZ_UBC_EQ:
		if (v->bar != v->lim)
			set_fix(add(r, VZ_UBC_ERR, "shape", i,
				    "%s barrier (%s) must equal its limit (%s)",
				    defs[i].name, b, l),
				i, v->lim, v->lim);
		break;
	case VZ_UBC_LE:
		if (v->bar > v->lim)
			set_fix(add(r, VZ_UBC_ERR, "shape", i,
				    "%s barrier (%s) is above its limit (%s)",
				    defs[i].name, b, l),
				i, v->bar, v->bar);
		break;
	case VZ_UBC_GUAR:
		if (v->lim != UNL)
			set_fix(add(r, VZ_UBC_WARN, "shape", i,
				    "%s is a guarantee: its limit (%s) should be unlimited",
				    defs[i].name, l),
				i, v->bar, UNL);
		break;
	case VZ_UBC_VSWAP:
		break;   /* check_vswap */
	}
}

static void check_vswap(const struct vz_ubc *u, const struct vz_host_info *h,
			struct vz_ubc_report *r)
{
	const struct vz_ubc_val *ph = &u->p[VZ_UBC_PHYSPAGES];
	const struct vz_ubc_val *sw = &u->p[VZ_UBC_SWAPPAGES];
	char a[32], b[32];

	if (!vz_ubc_is_vswap(u)) {
		add(r, VZ_UBC_REC, "vswap", VZ_UBC_PHYSPAGES,
		    "not a VSwap config: PHYSPAGES has no limit, so RAM is not limited; set RAM and swap (vzctl set CTID --ram SIZE --swap SIZE)");
		if (sw->set && sw->lim != UNL && sw->lim != 0)
			add(r, VZ_UBC_WARN, "vswap", VZ_UBC_SWAPPAGES,
			    "SWAPPAGES (%s) has no effect without a PHYSPAGES limit",
			    show(VZ_UBC_SWAPPAGES, sw->lim, a, sizeof(a)));
		return;
	}
	if (ph->bar != 0)
		set_fix(add(r, VZ_UBC_WARN, "vswap", VZ_UBC_PHYSPAGES,
			    "PHYSPAGES barrier (%s) is ignored with VSwap and should be 0",
			    show(VZ_UBC_PHYSPAGES, ph->bar, a, sizeof(a))),
			VZ_UBC_PHYSPAGES, 0, ph->lim);
	if (ph->lim == 0)
		add(r, VZ_UBC_ERR, "vswap", VZ_UBC_PHYSPAGES,
		    "PHYSPAGES limit is 0: the container could not run a single process; set RAM (--ram)");
	else if (ph->lim < 16 * MB)
		add(r, VZ_UBC_WARN, "vswap", VZ_UBC_PHYSPAGES,
		    "PHYSPAGES limit (%s) is below 16M: little will run in it",
		    show(VZ_UBC_PHYSPAGES, ph->lim, a, sizeof(a)));
	/* Facts of this host are not the config's fault (it may be meant
	 * for another host): warned about, never "repaired". */
	if (h && h->ram && ph->lim > h->ram)
		add(r, VZ_UBC_WARN, "host", VZ_UBC_PHYSPAGES,
		    "PHYSPAGES limit (%s) is above this host's RAM (%s)",
		    show(VZ_UBC_PHYSPAGES, ph->lim, a, sizeof(a)),
		    show_bytes(h->ram, b, sizeof(b)));

	if (!sw->set) {
		set_fix(add(r, VZ_UBC_WARN, "vswap", VZ_UBC_SWAPPAGES,
			    "SWAPPAGES is not set: a VSwap config needs both RAM and swap (taken as 0)"),
			VZ_UBC_SWAPPAGES, 0, 0);
		return;
	}
	if (sw->bar != 0 && sw->bar != UNL)
		set_fix(add(r, VZ_UBC_WARN, "vswap", VZ_UBC_SWAPPAGES,
			    "SWAPPAGES barrier (%s) is ignored with VSwap and should be 0",
			    show(VZ_UBC_SWAPPAGES, sw->bar, a, sizeof(a))),
			VZ_UBC_SWAPPAGES, 0, sw->lim);
	if (sw->lim == UNL) {
		add(r, VZ_UBC_WARN, "vswap", VZ_UBC_SWAPPAGES,
		    "SWAPPAGES limit is unlimited: RAM + swap is then unlimited and the container can take all of the host's swap; set it (--swap)");
	} else if (sw->bar == UNL) {
		set_fix(add(r, VZ_UBC_WARN, "vswap", VZ_UBC_SWAPPAGES,
			    "SWAPPAGES barrier is unlimited and should be 0"),
			VZ_UBC_SWAPPAGES, 0, sw->lim);
	} else if (h && sw->lim > h->swap) {
		add(r, VZ_UBC_WARN, "host", VZ_UBC_SWAPPAGES,
		    "SWAPPAGES limit (%s) is above this host's swap (%s): the container is OOM-killed before it uses all of it",
		    show(VZ_UBC_SWAPPAGES, sw->lim, a, sizeof(a)),
		    show_bytes(h->swap, b, sizeof(b)));
	}
}

/* The eight interdependency formulas.  A formula whose right side is
 * unlimited (an operand not set) is skipped: there is nothing to compare.
 * Fixes raise the left side only, so repair converges. */
static void check_formulas(const struct vz_ubc *u, struct vz_ubc_report *r)
{
	uint64_t bar[VZ_UBC_NR], lim[VZ_UBC_NR];
	for (int i = 0; i < VZ_UBC_NR; i++)
		vz_ubc_effective(u, i, &bar[i], &lim[i]);
	uint64_t avn = vz_ubc_avnumproc(u);
	char a[32], b[32];
	uint64_t need;

	/* 1. dcachesize.lim >= 384 * numfile */
	need = s_mul(384, bar[VZ_UBC_NUMFILE]);
	if (need != UNL && lim[VZ_UBC_DCACHESIZE] < need)
		set_fix(add(r, VZ_UBC_ERR, "formula1", VZ_UBC_DCACHESIZE,
			    "DCACHESIZE limit (%s) must be at least 384 bytes x NUMFILE (%" PRIu64 ") = %s",
			    show_bytes(lim[VZ_UBC_DCACHESIZE], a, sizeof(a)),
			    bar[VZ_UBC_NUMFILE], show_bytes(need, b, sizeof(b))),
			VZ_UBC_DCACHESIZE,
			bar[VZ_UBC_DCACHESIZE] == UNL || bar[VZ_UBC_DCACHESIZE] > need ?
				need : bar[VZ_UBC_DCACHESIZE], need);

	/* 2. kmemsize.bar >= 40 KB * avnumproc + dcachesize.lim */
	need = s_add(s_mul(40 * KB, avn), lim[VZ_UBC_DCACHESIZE]);
	if (need != UNL && bar[VZ_UBC_KMEMSIZE] < need)
		set_fix(add(r, VZ_UBC_ERR, "formula2", VZ_UBC_KMEMSIZE,
			    "KMEMSIZE barrier (%s) must be at least 40K x AVNUMPROC (%" PRIu64 ") + DCACHESIZE limit = %s",
			    show_bytes(bar[VZ_UBC_KMEMSIZE], a, sizeof(a)), avn,
			    show_bytes(need, b, sizeof(b))),
			VZ_UBC_KMEMSIZE, need,
			max64(lim[VZ_UBC_KMEMSIZE], s_add(need, need / 10)));

	/* 3. privvmpages.bar >= vmguarpages.bar */
	need = bar[VZ_UBC_VMGUARPAGES];
	if (need != UNL && bar[VZ_UBC_PRIVVMPAGES] < need)
		set_fix(add(r, VZ_UBC_WARN, "formula3", VZ_UBC_PRIVVMPAGES,
			    "PRIVVMPAGES barrier (%s) is below the VMGUARPAGES barrier (%s): the guarantee cannot be given",
			    show_bytes(bar[VZ_UBC_PRIVVMPAGES], a, sizeof(a)),
			    show_bytes(need, b, sizeof(b))),
			VZ_UBC_PRIVVMPAGES, need,
			max64(lim[VZ_UBC_PRIVVMPAGES], need));

	/* 4. tcpsndbuf.lim - bar >= 2.5 KB * numtcpsock,
	 *    othersockbuf.lim - bar >= 2.5 KB * numothersock
	 * 5. tcprcvbuf.lim - bar >= 2.5 KB * numtcpsock */
	static const struct { int buf, sock; const char *rule; } gaps[] = {
		{ VZ_UBC_TCPSNDBUF, VZ_UBC_NUMTCPSOCK, "formula4" },
		{ VZ_UBC_OTHERSOCKBUF, VZ_UBC_NUMOTHERSOCK, "formula4" },
		{ VZ_UBC_TCPRCVBUF, VZ_UBC_NUMTCPSOCK, "formula5" },
	};
	for (size_t g = 0; g < ARRAY_SIZE(gaps); g++) {
		int bi = gaps[g].buf, si = gaps[g].sock;
		need = s_mul(2560, bar[si]);
		if (need == UNL || lim[bi] == UNL || bar[bi] == UNL)
			continue;
		if (lim[bi] < bar[bi] || lim[bi] - bar[bi] < need)
			set_fix(add(r, VZ_UBC_ERR, gaps[g].rule, bi,
				    "%s limit - barrier (%s) must be at least 2.5K x %s (%" PRIu64 ") = %s",
				    defs[bi].name,
				    lim[bi] < bar[bi] ? "negative" :
				    show_bytes(lim[bi] - bar[bi], a, sizeof(a)),
				    defs[si].name, bar[si],
				    show_bytes(need, b, sizeof(b))),
				bi, bar[bi], s_add(bar[bi], need));
	}

	/* 6. tcpsndbuf.bar, tcprcvbuf.bar >= 64 KB
	 * 7. dgramrcvbuf.bar, othersockbuf.bar >= 32 KB (129 KB advised) */
	static const struct { int id; uint64_t min, rec; const char *rule; } mins[] = {
		{ VZ_UBC_TCPSNDBUF, 64 * KB, 0, "formula6" },
		{ VZ_UBC_TCPRCVBUF, 64 * KB, 0, "formula6" },
		{ VZ_UBC_DGRAMRCVBUF, 32 * KB, 129 * KB, "formula7" },
		{ VZ_UBC_OTHERSOCKBUF, 32 * KB, 129 * KB, "formula7" },
	};
	for (size_t m = 0; m < ARRAY_SIZE(mins); m++) {
		int i = mins[m].id;
		if (bar[i] == UNL)
			continue;
		uint64_t want = 0;
		struct vz_ubc_issue *is = NULL;
		if (bar[i] < mins[m].min) {
			want = mins[m].min;
			is = add(r, VZ_UBC_WARN, mins[m].rule, i,
				 "%s barrier (%s) is below %s: sockets will fail to send or receive",
				 defs[i].name, show_bytes(bar[i], a, sizeof(a)),
				 show_bytes(want, b, sizeof(b)));
		} else if (mins[m].rec && bar[i] < mins[m].rec) {
			want = mins[m].rec;
			is = add(r, VZ_UBC_REC, mins[m].rule, i,
				 "%s barrier (%s) below %s may slow local datagram and unix socket traffic",
				 defs[i].name, show_bytes(bar[i], a, sizeof(a)),
				 show_bytes(want, b, sizeof(b)));
		}
		if (is)
			set_fix(is, i, want, max64(lim[i], want));
	}

	/* 8. numfile >= max(32 * avnumproc, numtcpsock + numothersock + numpty) */
	uint64_t socks = s_add(s_add(bar[VZ_UBC_NUMTCPSOCK],
				     bar[VZ_UBC_NUMOTHERSOCK]),
			       bar[VZ_UBC_NUMPTY]);
	uint64_t byproc = s_mul(32, avn);
	/* each side counts when it is known */
	need = byproc == UNL ? socks : socks == UNL ? byproc :
	       max64(byproc, socks);
	if (need != UNL && bar[VZ_UBC_NUMFILE] < need)
		set_fix(add(r, VZ_UBC_ERR, "formula8", VZ_UBC_NUMFILE,
			    "NUMFILE (%" PRIu64 ") must be at least max(32 x AVNUMPROC, NUMTCPSOCK + NUMOTHERSOCK + NUMPTY) = %" PRIu64,
			    bar[VZ_UBC_NUMFILE], need),
			VZ_UBC_NUMFILE, need, need);
}

void vz_ubc_validate(const struct vz_ubc *u, const struct vz_host_info *host,
		     struct vz_ubc_report *r)
{
	check_vswap(u, host, r);
	for (int i = 0; i < VZ_UBC_NR; i++)
		check_shape(u, i, r);
	check_formulas(u, r);
}

/* ---------------------------------------------------------------- repair */

int vz_ubc_repair(struct vz_ubc *u, const struct vz_host_info *host,
		  vz_ubc_ask_fn ask, void *ctx, struct vz_ubc_report *fixes,
		  bool changed[VZ_UBC_NR])
{
	int applied = 0;
	/* Questions already answered "no", so -i does not ask twice. */
	struct vz_ubc_report declined = { 0 };

	for (int round = 0; round < 32; round++) {
		struct vz_ubc_report r = { 0 };
		vz_ubc_validate(u, host, &r);
		bool any = false;
		for (size_t i = 0; i < r.n; i++) {
			struct vz_ubc_issue *is = &r.v[i];
			if (!is->fixable)
				continue;
			if (!ask && is->sev < VZ_UBC_WARN)
				continue;
			bool seen = false;
			for (size_t d = 0; d < declined.n; d++)
				if (strcmp(declined.v[d].msg, is->msg) == 0)
					seen = true;
			if (seen)
				continue;
			if (ask && !ask(is, ctx)) {
				append_copy(&declined, is);
				continue;
			}
			struct vz_ubc_val *v = &u->p[is->fix_param];
			v->set = true;
			v->bar = is->fix_bar;
			v->lim = is->fix_lim;
			changed[is->fix_param] = true;
			is->fixed = true;
			append_copy(fixes, is);
			applied++;
			any = true;
			/* later issues were computed from the old values */
			break;
		}
		vz_ubc_report_free(&r);
		if (!any)
			break;
	}
	vz_ubc_report_free(&declined);
	return applied;
}

void vz_ubc_to_conf(const struct vz_ubc *u, const bool changed[VZ_UBC_NR],
		    struct vz_conf *c)
{
	for (int i = 0; i < VZ_UBC_NR; i++) {
		if (!changed[i])
			continue;
		char buf[80];
		vz_ubc_format_pair(i, u->p[i].bar, u->p[i].lim, buf,
				   sizeof(buf));
		vz_conf_set(c, defs[i].name, buf);
	}
}

int vz_ubc_check_conf(const struct vz_conf *c, const struct vz_host_info *host,
		      struct vz_error *err)
{
	struct vz_ubc u;
	struct vz_ubc_report r = { 0 };
	vz_ubc_from_conf(c, &u, &r);
	vz_ubc_validate(&u, host, &r);
	int ret = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (r.v[i].sev != VZ_UBC_ERR)
			continue;
		ret = vz_fail(err, VZ_ECONFIG,
			      "%s fails beancounter-check: %s%s",
			      c->path ? c->path : "config", r.v[i].msg,
			      r.errors > 1 ? " (and more; run beancounter-check)" : "");
		break;
	}
	vz_ubc_report_free(&r);
	return ret;
}

/* ------------------------------------------------------------------ host */

int vz_host_info_read(struct vz_host_info *h, struct vz_error *err)
{
	memset(h, 0, sizeof(*h));
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return vz_fail_errno(err, VZ_ESYSTEM, "open /proc/meminfo");
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			h->ram = kb * KB;
		else if (sscanf(line, "SwapTotal: %llu kB", &kb) == 1)
			h->swap = kb * KB;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	h->cpus = n > 0 ? (unsigned)n : 1;
	if (!h->ram)
		return vz_fail(err, VZ_ESYSTEM, "no MemTotal in /proc/meminfo");
	return 0;
}

void vz_host_report_free(struct vz_host_report *r)
{
	free(r->ct);
	vz_ubc_report_free(&r->issues);
	memset(r, 0, sizeof(*r));
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int ctid_cmp(const void *a, const void *b)
{
	const struct vz_host_ct *x = a, *y = b;
	unsigned long long p = strtoull(x->ctid, NULL, 10);
	unsigned long long q = strtoull(y->ctid, NULL, 10);
	return p < q ? -1 : p > q;
}

static unsigned conf_uint(const struct vz_conf *ct, const struct vz_conf *g,
			  const char *key, unsigned def)
{
	const char *v = vz_conf_get(ct, key);
	if (!v && g)
		v = vz_conf_get(g, key);
	long long n;
	if (!v || !*v || vz_parse_int(v, 0, 1 << 30, &n) < 0)
		return def;
	return (unsigned)n;
}

static void host_one(struct vz_host_report *hr, const struct vz_conf *c,
		     const struct vz_conf *g, const char *ctid,
		     vz_ubc_held_fn held, void *ctx)
{
	hr->ct = xrealloc(hr->ct, (hr->n + 1) * sizeof(*hr->ct));
	struct vz_host_ct *ct = &hr->ct[hr->n++];
	memset(ct, 0, sizeof(*ct));
	snprintf(ct->ctid, sizeof(ct->ctid), "%s", ctid);

	struct vz_ubc u;
	struct vz_ubc_report r = { 0 };
	vz_ubc_from_conf(c, &u, &r);
	vz_ubc_validate(&u, &hr->host, &r);
	ct->errors = r.errors;
	ct->warnings = r.warnings;
	for (size_t i = 0; i < r.n; i++) {
		if (r.v[i].sev == VZ_UBC_REC)
			continue;
		add(&hr->issues, r.v[i].sev, r.v[i].rule, r.v[i].param,
		    "CT %s: %s", ctid, r.v[i].msg);
	}
	vz_ubc_report_free(&r);

	ct->vswap = vz_ubc_is_vswap(&u);
	if (ct->vswap) {
		ct->ram = ram_of(&u);
		ct->swap = swap_of(&u);
		ct->commit = s_add(ct->ram, ct->swap);
	} else {
		uint64_t b, l;
		ct->ram = ct->swap = UNL;
		vz_ubc_effective(&u, VZ_UBC_PRIVVMPAGES, &b, &l);
		ct->commit = l;
		add(&hr->issues, VZ_UBC_WARN, "host", VZ_UBC_PHYSPAGES,
		    "CT %s: no RAM limit (not a VSwap config): its memory cannot be counted against the host",
		    ctid);
	}
	ct->cpuunits = conf_uint(c, g, "CPUUNITS", 1000);
	ct->cpus = conf_uint(c, g, "CPUS", 0);
	unsigned cpus = ct->cpus && ct->cpus < hr->host.cpus ? ct->cpus :
			hr->host.cpus;
	unsigned lim = conf_uint(c, g, "CPULIMIT", 0);
	ct->cpulimit = lim && lim < cpus * 100 ? lim : cpus * 100;
	if (ct->cpus > hr->host.cpus)
		add(&hr->issues, VZ_UBC_WARN, "host", -1,
		    "CT %s: CPUS (%u) is more than this host's %u CPUs",
		    ctid, ct->cpus, hr->host.cpus);
	if (held)
		ct->held_known = held(ctid, &ct->held, &ct->held_swap, ctx);

	hr->sum_ram = s_add(hr->sum_ram, ct->ram);
	hr->sum_commit = s_add(hr->sum_commit, ct->commit);
	hr->sum_held = s_add(hr->sum_held, ct->held);
	hr->sum_held_swap = s_add(hr->sum_held_swap, ct->held_swap);
	hr->sum_cpuunits += ct->cpuunits;
	hr->sum_cpulimit += ct->cpulimit;
}

int vz_host_check(const char *confdir, const struct vz_host_info *host,
		  vz_ubc_held_fn held, void *ctx, struct vz_host_report *r,
		  struct vz_error *err)
{
	memset(r, 0, sizeof(*r));
	r->host = *host;

	struct vz_conf g;
	_cleanup_free_ char *gpath = xasprintf("%s/vz.conf", confdir);
	vz_conf_init(&g, gpath);
	bool have_g = vz_conf_load(&g, gpath, err) == 0;
	if (!have_g && err->code != VZ_ENOENT) {
		vz_conf_free(&g);
		return -1;
	}
	vz_error_clear(err);

	_cleanup_free_ char *dir = xasprintf("%s/conf", confdir);
	DIR *d = opendir(dir);
	if (!d) {
		vz_conf_free(&g);
		if (errno == ENOENT)
			return 0;   /* no containers */
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", dir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		char ctid[16];
		if (len - 5 >= sizeof(ctid))
			continue;
		memcpy(ctid, de->d_name, len - 5);
		ctid[len - 5] = '\0';
		if (!all_digits(ctid))
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		struct vz_conf c;
		struct vz_error e = { 0 };
		vz_conf_init(&c, path);
		if (vz_conf_load(&c, path, &e) < 0) {
			add(&r->issues, VZ_UBC_ERR, "syntax", -1, "CT %s: %s",
			    ctid, e.msg);
			vz_conf_free(&c);
			continue;
		}
		host_one(r, &c, have_g ? &g : NULL, ctid, held, ctx);
		vz_conf_free(&c);
	}
	closedir(d);
	vz_conf_free(&g);
	if (r->n)
		qsort(r->ct, r->n, sizeof(*r->ct), ctid_cmp);

	char a[32], b[32];
	if (r->sum_ram != UNL && r->sum_ram > host->ram)
		add(&r->issues, VZ_UBC_WARN, "host", -1,
		    "RAM is overcommitted: the containers may use %s, the host has %s (%.0f%%)",
		    show_bytes(r->sum_ram, a, sizeof(a)),
		    show_bytes(host->ram, b, sizeof(b)),
		    100.0 * (double)r->sum_ram / (double)host->ram);
	uint64_t rs = s_add(host->ram, host->swap);
	if (r->sum_commit != UNL && r->sum_commit > rs)
		add(&r->issues, VZ_UBC_WARN, "host", -1,
		    "RAM + swap is overcommitted: the containers may use %s, the host has %s (%.0f%%); OOM kills can hit any container",
		    show_bytes(r->sum_commit, a, sizeof(a)),
		    show_bytes(rs, b, sizeof(b)),
		    100.0 * (double)r->sum_commit / (double)rs);
	if (r->sum_cpulimit > 100ULL * host->cpus)
		add(&r->issues, VZ_UBC_REC, "host", -1,
		    "CPU limits add up to %" PRIu64 "%% of one CPU, the host has %u%%: under full load the CPU weights (CPUUNITS) decide",
		    r->sum_cpulimit, 100 * host->cpus);
	return 0;
}

/* ----------------------------------------------------------------- split */

int vz_split(const struct vz_host_info *host, unsigned n, uint64_t reserve,
	     struct vz_split *s, struct vz_error *err)
{
	memset(s, 0, sizeof(*s));
	if (n == 0)
		return vz_fail(err, VZ_EUSAGE, "--split needs at least 1 container");
	if (!reserve) {
		reserve = max64(256 * MB, host->ram / 20);
		if (reserve > host->ram / 2)
			reserve = host->ram / 2;
	}
	if (reserve >= host->ram)
		return vz_fail(err, VZ_EUSAGE,
			       "the host reserve is all of this host's RAM; choose a smaller --reserve");
	s->n = n;
	s->reserve = reserve;
	s->ram = (host->ram - reserve) / n / MB * MB;
	s->swap = host->swap / n / MB * MB;
	if (s->ram < 32 * MB) {
		char a[32];
		return vz_fail(err, VZ_EUSAGE,
			       "%u containers would get %s of RAM each; the least that makes sense is 32M",
			       n, show_bytes(s->ram, a, sizeof(a)));
	}
	s->cpuunits = 1000;
	/* about one process per 256 KiB of RAM, within sane bounds */
	s->numproc = s->ram / (256 * KB);
	if (s->numproc < 100)
		s->numproc = 100;
	if (s->numproc > 32768)
		s->numproc = 32768;
	return 0;
}

char *vz_split_text(const struct vz_split *s)
{
	char ram[32], swap[32], res[32];
	vz_format_size(s->ram, ram, sizeof(ram));
	vz_format_size(s->swap, swap, sizeof(swap));
	vz_format_size(s->reserve, res, sizeof(res));
	return xasprintf(
		"# VSwap sample for %u containers on this host (beancounter-check --split %u):\n"
		"# RAM less %s for the host, and swap, divided evenly.\n"
		"PHYSPAGES=\"0:%s\"\n"
		"SWAPPAGES=\"0:%s\"\n"
		"CPUUNITS=\"%u\"\n"
		"NUMPROC=\"%" PRIu64 ":%" PRIu64 "\"\n",
		s->n, s->n, res, ram, s->swap ? swap : "0", s->cpuunits,
		s->numproc, s->numproc);
}
