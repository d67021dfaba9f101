/* Resource parameters to cgroup knobs, on cgroup v1 and v2.
 *
 *   RAM (PHYSPAGES), swap (SWAPPAGES)
 *       v1: memory.limit_in_bytes = RAM, memory.memsw.limit_in_bytes =
 *           RAM + swap (written in the order that keeps memsw >= limit)
 *       v2: memory.max = RAM, memory.swap.max = swap, memory.high = RAM
 *           less 1/16 (reclaim and throttling start before the hard limit)
 *   CPUUNITS   v1 cpu.shares = units x 1024 / 1000; v2 cpu.weight = units / 10
 *   CPULIMIT, CPUS (the smaller binds)
 *              v1 cpu.cfs_period_us = 100000, cpu.cfs_quota_us; v2 cpu.max
 *   CPUMASK    cpuset.cpus
 *   NUMPROC    pids.max (the limit)
 *   IOLIMIT, IOPSLIMIT  per device of the CT's disk:
 *              v1 blkio.throttle.{read,write}_{bps,iops}_device; v2 io.max
 *   IOPRIO     0..7 to a weight 100 x 2^(prio - 4): v1 blkio.bfq.weight or
 *              blkio.weight, v2 io.bfq.weight or io.weight
 *   TCPSNDBUF + TCPRCVBUF (limits)  v1 memory.kmem.tcp.limit_in_bytes
 *   other UBC names: kept, checked, reported as not enforced.
 *
 * A plan is computed first (pure: testable without cgroups), then written;
 * if the kernel refuses one value, the values already written are put back
 * and the error names the parameter, the knob and the reason.
 */
#ifndef VZ_RES_H
#define VZ_RES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ubc.h"

struct vz_error;
struct vz_cgroup;
struct vz_ct;

struct vz_res {
	bool has_ram, has_swap;
	uint64_t ram, swap;         /* bytes; VZ_UNLIMITED */
	bool has_cpuunits;
	unsigned cpuunits;
	bool has_cpulimit;
	unsigned cpulimit;          /* % of one CPU; 0 = none */
	bool has_cpus;
	unsigned cpus;              /* 0 = all */
	char *cpumask;              /* NULL = unset; "all" or a list */
	bool has_numproc;
	uint64_t numproc;           /* VZ_UNLIMITED */
	bool has_iolimit, has_iopslimit, has_ioprio;
	uint64_t iolimit;           /* bytes/s, 0 = none */
	uint64_t iopslimit;         /* 0 = none */
	int ioprio;                 /* 0..7 */
	struct vz_ubc ubc;          /* every UBC value as given */
};

/* Reads the resource parameters: ct's values, else global's (may be NULL).
 * A bad value fails with FILE:LINE. */
int vz_res_from_conf(struct vz_res *r, const struct vz_conf *ct,
		     const struct vz_conf *global, struct vz_error *err);
void vz_res_free(struct vz_res *r);

/* Stores a vzctl option value into c under its config name, checked and
 * normalised: RAM/swap sizes (bare number: bytes) as PHYSPAGES/SWAPPAGES
 * "0:SIZE"; CPULIMIT "N" or "N%"; IOLIMIT with K/M/G (bare number: MiB/s,
 * as OpenVZ's --iolimit) stored in bytes/s; NUMPROC and the other UBC
 * names as barrier[:limit]; CPUUNITS, CPUS, IOPSLIMIT, IOPRIO numbers;
 * CPUMASK "all" or a CPU list.  key is the config name ("PHYSPAGES"). */
int vz_res_conf_set(struct vz_conf *c, const char *key, const char *value,
		    struct vz_error *err);

struct vz_res_knob {
	const char *ctl;            /* "memory" */
	const char *file;           /* "memory.max" */
	char value[128];
	const char *param;          /* config name it enforces */
};

/* Where the plan is going: cgroup version, what the host offers, the
 * current values that decide the order of writes, the CT's disks. */
struct vz_res_env {
	bool v2;
	unsigned host_cpus;
	char *host_cpuset;          /* "0-1" (for CPUMASK=all) */
	uint64_t cur_memsw;         /* v1: current memsw limit (ordering) */
	dev_t *devs;                /* whole-disk devices of the CT's disk */
	size_t ndevs;
	const char *dev_why;        /* why ndevs is 0, for the report */
	bool (*has)(const char *ctl, const char *file, void *ctx);
	void *ctx;
};

struct vz_res_plan {
	struct vz_res_knob *k;
	size_t n;
	char **unenforced;          /* "NAME: why" (strv) */
};

int vz_res_plan(const struct vz_res *r, const struct vz_res_env *env,
		struct vz_res_plan *p, struct vz_error *err);
void vz_res_plan_free(struct vz_res_plan *p);

/* Writes a plan through set/get, putting back what was written when one
 * write fails.  The callbacks make it testable; vz_res_apply uses the
 * cgroup layer. */
struct vz_res_io {
	int (*set)(void *ctx, const char *ctl, const char *file,
		   const char *value, struct vz_error *err);
	int (*get)(void *ctx, const char *ctl, const char *file, char **value,
		   struct vz_error *err);
	void *ctx;
};
int vz_res_write(const struct vz_res_plan *p, const struct vz_res_io *io,
		 bool v2, struct vz_error *err);

/* Whole disk(s) under path (the CT's private area or ploop mount): the
 * loop device of a ploop, else the disk holding the filesystem.  Fails
 * (VZ_ENOSYS) when there is no block device (tmpfs, overlay...). */
int vz_res_disk_devs(const char *path, dev_t **devs, size_t *n,
		     struct vz_error *err);

/* Applies r to the CT's cgroup (disk_path: the CT's private area or root,
 * for I/O limits; NULL skips them).  unenforced (may be NULL) gets the
 * parameters that have no knob here. */
int vz_res_apply(const struct vz_cgroup *cg, const struct vz_res *r,
		 const char *disk_path, char ***unenforced,
		 struct vz_error *err);

/* A /proc/user_beancounters-style row from cgroup counters. */
struct vz_res_counter {
	const char *name;           /* "physpages" */
	uint64_t held, maxheld, barrier, limit, failcnt;
	bool pages;                 /* held..limit in 4 KiB pages */
};
/* Rows for every UBC name; values without a counter are 0 (held) and
 * from the config (barrier, limit). */
int vz_res_counters(const struct vz_cgroup *cg, const struct vz_res *r,
		    struct vz_res_counter **rows, size_t *n,
		    struct vz_error *err);

/* --- a container (res-ct.c) --- */

/* The CT's resource parameters (CTID.conf over vz.conf). */
int vz_ct_res_load(const struct vz_ct *ct, struct vz_res *r,
		   struct vz_error *err);
/* beancounter-check's rules on the CT's config; VZ_ECONFIG with the first
 * Error (vzctl set/start refuse unless --force). */
int vz_ct_res_validate(const struct vz_ct *ct, struct vz_error *err);
/* Applies the CT's parameters to its cgroups (at start before init runs;
 * on set, live).  A refused value leaves the old ones in force. */
int vz_ct_res_apply(const struct vz_ct *ct, char ***unenforced,
		    struct vz_error *err);
/* The beancounter table of a running CT (VZ_ESTATE if not running). */
int vz_ct_ubc(const struct vz_ct *ct, struct vz_res_counter **rows,
	      size_t *n, struct vz_error *err);
/* RAM and swap in use by a running CT, for beancounter-check --host. */
bool vz_ct_res_held(const struct vz_ct *ct, uint64_t *ram, uint64_t *swap);
/* vzlist fields "physpages", "physpages.m|.b|.l|.f" for every UBC name:
 * held, maxheld, barrier, limit, failcnt (pages for *pages).  NULL when
 * unknown (held of a stopped CT). */
bool vz_res_field_known(const char *name);
const char *vz_ct_res_field(const struct vz_ct *ct, bool running,
			    const char *name, char *buf, size_t len);

/* --- lxcfs (res-lxcfs.c) --- */

/* LXCFS_DIR, default /var/lib/lxcfs. */
const char *vz_lxcfs_dir(const struct vz_ct *ct);
/* Is an lxcfs mounted there? */
bool vz_lxcfs_running(const char *dir);
/* Covers the running CT's /proc/meminfo, cpuinfo, stat, uptime, swaps,
 * diskstats, loadavg and /sys/devices/system/cpu/online with lxcfs's.
 * LXCFS=no: nothing; auto (default): when lxcfs runs; yes: required. */
int vz_ct_lxcfs_attach(const struct vz_ct *ct, struct vz_error *err);

#endif
