/* The user beancounter (UBC) and VSwap resource model, as OpenVZ defined it.
 *
 * A config holds up to 21 beancounters as NAME="barrier:limit" (one value
 * means both; "unlimited"; numbers in the parameter's unit or with K/M/G/T).
 * It is a VSwap config when PHYSPAGES has a finite limit: then RAM and swap
 * are all that is needed and the old memory parameters are implied.
 *
 * This module parses those values, checks them (OpenVZ's shape rules and
 * its eight interdependency formulas, plus the VSwap rules), repairs them,
 * sums them over the containers of a host and splits a host into N
 * containers.  It touches no cgroup: res.h applies the values.
 */
#ifndef VZ_UBC_H
#define VZ_UBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct vz_error;
struct vz_json;

#define VZ_UBC_PAGE 4096ULL

/* In the order of /proc/user_beancounters. */
enum vz_ubc_id {
	VZ_UBC_KMEMSIZE,
	VZ_UBC_LOCKEDPAGES,
	VZ_UBC_PRIVVMPAGES,
	VZ_UBC_SHMPAGES,
	VZ_UBC_NUMPROC,
	VZ_UBC_PHYSPAGES,
	VZ_UBC_VMGUARPAGES,
	VZ_UBC_OOMGUARPAGES,
	VZ_UBC_NUMTCPSOCK,
	VZ_UBC_NUMFLOCK,
	VZ_UBC_NUMPTY,
	VZ_UBC_NUMSIGINFO,
	VZ_UBC_TCPSNDBUF,
	VZ_UBC_TCPRCVBUF,
	VZ_UBC_OTHERSOCKBUF,
	VZ_UBC_DGRAMRCVBUF,
	VZ_UBC_NUMOTHERSOCK,
	VZ_UBC_DCACHESIZE,
	VZ_UBC_NUMFILE,
	VZ_UBC_NUMIPTENT,
	VZ_UBC_SWAPPAGES,
	VZ_UBC_NR
};

enum vz_ubc_unit {
	VZ_UBC_COUNT,   /* processes, sockets, files... */
	VZ_UBC_BYTES,   /* a bare number is bytes */
	VZ_UBC_PAGES,   /* a bare number is 4 KiB pages */
};

enum vz_ubc_shape {
	VZ_UBC_EQ,      /* barrier must equal limit */
	VZ_UBC_LE,      /* barrier <= limit */
	VZ_UBC_GUAR,    /* a guarantee: the limit must be unlimited */
	VZ_UBC_VSWAP,   /* PHYSPAGES/SWAPPAGES: barrier 0, limit is the value */
};

struct vz_ubc_def {
	const char *name;    /* config name: "NUMPROC" */
	const char *lname;   /* table name: "numproc" */
	enum vz_ubc_unit unit;
	enum vz_ubc_shape shape;
};

const struct vz_ubc_def *vz_ubc_def(int id);
/* Id of a config or table name (any case), or -1. */
int vz_ubc_find(const char *name);

/* Values are bytes for BYTES and PAGES parameters, counts for COUNT ones;
 * VZ_UNLIMITED is unlimited.  An unset parameter is unlimited unless VSwap
 * implies a value (vz_ubc_effective). */
struct vz_ubc_val {
	bool set;
	uint64_t bar, lim;
	int lineno;
};

struct vz_ubc {
	struct vz_ubc_val p[VZ_UBC_NR];
	bool avnumproc_set;
	uint64_t avnumproc;
	bool overcommit_set;
	double overcommit;      /* VM_OVERCOMMIT */
};

/* What this host has, for the checks that compare against it. */
struct vz_host_info {
	uint64_t ram, swap;     /* bytes */
	unsigned cpus;          /* online CPUs */
};
int vz_host_info_read(struct vz_host_info *h, struct vz_error *err);

enum vz_ubc_sev {
	VZ_UBC_REC = 1,         /* Recommendation: */
	VZ_UBC_WARN = 2,        /* Warning: */
	VZ_UBC_ERR = 3,         /* Error: (the config fails) */
};
const char *vz_ubc_sev_name(enum vz_ubc_sev s);  /* "Error" ... */

struct vz_ubc_issue {
	enum vz_ubc_sev sev;
	const char *rule;       /* "syntax", "shape", "vswap", "formula1".. */
	int param;              /* enum vz_ubc_id, or -1 */
	char msg[384];
	bool fixable;           /* fix_* say how */
	int fix_param;
	uint64_t fix_bar, fix_lim;
	bool fixed;             /* set by repair */
};

struct vz_ubc_report {
	struct vz_ubc_issue *v;
	size_t n, cap;
	int errors, warnings, recs;
};
void vz_ubc_report_free(struct vz_ubc_report *r);

/* Reads the UBC values, AVNUMPROC and VM_OVERCOMMIT of c.  A value that
 * does not parse is an Error issue in r (with FILE:LINE) and is left
 * unset. */
void vz_ubc_from_conf(const struct vz_conf *c, struct vz_ubc *u,
		      struct vz_ubc_report *r);
bool vz_ubc_is_vswap(const struct vz_ubc *u);
/* The value in force: explicit, implied by VSwap, or unlimited. */
void vz_ubc_effective(const struct vz_ubc *u, int id, uint64_t *bar,
		      uint64_t *lim);
uint64_t vz_ubc_avnumproc(const struct vz_ubc *u);

/* Checks u; host NULL skips the checks against host RAM and swap. */
void vz_ubc_validate(const struct vz_ubc *u, const struct vz_host_info *host,
		     struct vz_ubc_report *r);

/* Fixes issues until none is left that may be fixed: every Error and
 * Warning with a fix when ask is NULL, else those ask() accepts
 * (Recommendations too).  Applied fixes are appended to fixes (fixed =
 * true); changed[id] marks each parameter changed.  Returns the number of
 * fixes applied. */
typedef bool (*vz_ubc_ask_fn)(const struct vz_ubc_issue *is, void *ctx);
int vz_ubc_repair(struct vz_ubc *u, const struct vz_host_info *host,
		  vz_ubc_ask_fn ask, void *ctx, struct vz_ubc_report *fixes,
		  bool changed[VZ_UBC_NR]);
/* Writes the changed parameters into c (other lines untouched). */
void vz_ubc_to_conf(const struct vz_ubc *u, const bool changed[VZ_UBC_NR],
		    struct vz_conf *c);

/* "unlimited", "256M" (page params in whole MiB), "65536", "1K"... in the
 * form a config takes back. */
void vz_ubc_format(int id, uint64_t v, char *buf, size_t len);
/* "barrier:limit" in that form. */
void vz_ubc_format_pair(int id, uint64_t bar, uint64_t lim, char *buf,
			size_t len);

/* Validates conf (and the host) and fails with the first Error's text:
 * for `vzctl set/start` without --force. */
int vz_ubc_check_conf(const struct vz_conf *c, const struct vz_host_info *host,
		      struct vz_error *err);

/* Prints "Error: ..." lines / a JSON array of issues. */
void vz_ubc_report_print(const struct vz_ubc_report *r, FILE *f,
			 const char *prefix);
void vz_ubc_report_json(const struct vz_ubc_report *r, struct vz_json *j);

/* --- the host: all containers' commitments (vzmemcheck, vzcpucheck) --- */

struct vz_host_ct {
	char ctid[16];
	bool vswap;
	uint64_t ram, swap;     /* bytes; VZ_UNLIMITED if none */
	uint64_t commit;        /* RAM + swap, or privvmpages for old configs */
	uint64_t held;          /* RAM in use now (0 when not running) */
	uint64_t held_swap;     /* swap in use now */
	bool held_known;
	unsigned cpuunits;
	unsigned cpulimit;      /* % of one CPU that binds (0: none) */
	unsigned cpus;          /* 0: all */
	int errors, warnings;
};

struct vz_host_report {
	struct vz_host_info host;
	struct vz_host_ct *ct;
	size_t n;
	uint64_t sum_ram, sum_commit;   /* VZ_UNLIMITED if any is */
	uint64_t sum_held, sum_held_swap;
	uint64_t sum_cpuunits, sum_cpulimit;
	struct vz_ubc_report issues;  /* host-wide and per-CT ("CT 101: ...") */
};

/* Reads the RAM and swap in use by a running CT (bytes); returns false
 * when it is not running or the counters are unavailable. */
typedef bool (*vz_ubc_held_fn)(const char *ctid, uint64_t *ram,
			       uint64_t *swap, void *ctx);

/* Checks every CTID.conf in confdir/conf against host.  vz.conf in
 * confdir gives defaults.  held may be NULL. */
int vz_host_check(const char *confdir, const struct vz_host_info *host,
		  vz_ubc_held_fn held, void *ctx, struct vz_host_report *r,
		  struct vz_error *err);
void vz_host_report_free(struct vz_host_report *r);

/* --- split: a sample config for N containers of this host (vzsplit) --- */

struct vz_split {
	unsigned n;
	uint64_t reserve;       /* bytes of RAM kept for the host */
	uint64_t ram, swap;     /* per container, whole MiB */
	unsigned cpuunits;
	uint64_t numproc;
};

/* reserve 0: the default, max(256 MiB, RAM / 20) but at most RAM / 2. */
int vz_split(const struct vz_host_info *host, unsigned n, uint64_t reserve,
	     struct vz_split *s, struct vz_error *err);
/* The sample config text (caller frees). */
char *vz_split_text(const struct vz_split *s);

#endif
