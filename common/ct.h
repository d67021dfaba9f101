/* A container: its merged configuration (vz.conf, then conf/CTID.conf),
 * paths, state, lock and lifecycle.  The tools only parse options and call
 * these. */
#ifndef VZ_CT_H
#define VZ_CT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "config.h"

struct vz_error;

struct vz_ct {
	unsigned id;
	char idstr[16];
	char *confdir;          /* VZ_CONFDIR */
	char *conf_path;        /* confdir/conf/CTID.conf */
	struct vz_conf global;  /* vz.conf */
	struct vz_conf conf;    /* CTID.conf (empty if the CT does not exist) */
	bool exists;            /* CTID.conf exists */
	/* Resolved (with $VEID expanded) from conf, then global: */
	char *root;             /* VE_ROOT */
	char *private_dir;      /* VE_PRIVATE */
	char *lockdir, *dumpdir, *template_dir;
	struct vz_cgroup cg;
	int lock_fd;            /* held lock, or -1 */
};

enum vz_ct_state {
	VZ_CT_DELETED,     /* no config */
	VZ_CT_STOPPED,
	VZ_CT_MOUNTED,     /* stopped, root mounted */
	VZ_CT_RUNNING,
	VZ_CT_SUSPENDED,   /* stopped with a dump to resume from */
};

/* What a running CT's init is, as recorded at start (LOCKDIR/CTID.run). */
struct vz_ct_runtime {
	pid_t init_pid;              /* in the host's pid namespace */
	unsigned long long start;    /* init's start time (clock ticks) */
	uint64_t caps_drop;          /* capabilities dropped from the bounding set */
	char **procs;                /* cgroup.procs files to join */
};

/* Directory of configs: $VZ_CONFDIR or /etc/vz. */
const char *vz_confdir(void);
/* Loads vz.conf and (if present) CTID.conf. */
int vz_ct_load(struct vz_ct *ct, unsigned id, struct vz_error *err);
void vz_ct_free(struct vz_ct *ct);
/* Value from CTID.conf, else vz.conf, else NULL (not $VEID-expanded). */
const char *vz_ct_get(const struct vz_ct *ct, const char *key);
/* Same, with $VEID expanded; caller frees. */
char *vz_ct_get_path(const struct vz_ct *ct, const char *key);

/* Per-CT lock (LOCKDIR/CTID.lck, a POSIX record lock of this process: a
 * killed holder releases it, a forked child never holds it).
 * Busy: VZ_ELOCKED naming the holder, unless wait. */
int vz_ct_lock(struct vz_ct *ct, const char *op, bool wait,
	       struct vz_error *err);
void vz_ct_unlock(struct vz_ct *ct);

/* Reads the runtime record and checks that its init is alive and is
 * the one recorded.  Returns 1 running (rt filled), 0 not running. */
int vz_ct_runtime(const struct vz_ct *ct, struct vz_ct_runtime *rt);
void vz_ct_runtime_free(struct vz_ct_runtime *rt);
int vz_ct_runtime_save(const struct vz_ct *ct, const struct vz_ct_runtime *rt,
		       struct vz_error *err);
/* The same in two steps: written under a temporary name (returned, caller
 * frees; NULL on error), then renamed into place. */
char *vz_ct_runtime_stage(const struct vz_ct *ct, const struct vz_ct_runtime *rt,
			  struct vz_error *err);
int vz_ct_runtime_commit(const char *staged, const struct vz_ct *ct,
			 struct vz_error *err);
void vz_ct_runtime_remove(const struct vz_ct *ct);
bool vz_ct_is_mounted(const struct vz_ct *ct);
enum vz_ct_state vz_ct_state(const struct vz_ct *ct);
/* "CTID 101 exist mounted running" */
char *vz_ct_status_line(const struct vz_ct *ct);
/* Start time of a process (field 22 of /proc/PID/stat), 0 if gone. */
unsigned long long vz_proc_starttime(pid_t pid);

/* Saves CTID.conf atomically. */
int vz_ct_save(struct vz_ct *ct, struct vz_error *err);

/* Lifecycle (ct-create.c, ct-start.c, ct-exec.c). */
struct vz_create_opts {
	const char *ostemplate;  /* NULL: DEF_OSTEMPLATE */
	const char *config;      /* sample name; NULL: CONFIGFILE */
	const char *hostname;
	const char *private_dir; /* NULL: VE_PRIVATE */
	const char *root;        /* NULL: VE_ROOT */
};
int vz_ct_create(struct vz_ct *ct, const struct vz_create_opts *o,
		 struct vz_error *err);
int vz_ct_destroy(struct vz_ct *ct, struct vz_error *err);
int vz_ct_mount(struct vz_ct *ct, struct vz_error *err);
int vz_ct_umount(struct vz_ct *ct, struct vz_error *err);
/* Cleans what a CT that stopped by itself left: cgroups, mounts, record. */
int vz_ct_cleanup_stopped(struct vz_ct *ct, bool umount, struct vz_error *err);

int vz_ct_start(struct vz_ct *ct, struct vz_error *err);
/* The CT's cgroups with its device list and resource limits, as start
 * and resume both need them before any of its processes runs. */
int vz_ct_cgroups_prepare(struct vz_ct *ct, struct vz_error *err);
struct vz_stop_opts {
	bool fast;        /* kill at once, no graceful halt */
	int timeout;      /* seconds for the graceful part; <0: STOP_TIMEOUT */
};
int vz_ct_stop(struct vz_ct *ct, const struct vz_stop_opts *o,
	       struct vz_error *err);

/* Runs argv inside; *status is the command's exit status (128+signal if
 * killed).  The caller stays in the host. */
int vz_ct_exec(const struct vz_ct *ct, char *const argv[], int *status,
	       struct vz_error *err);
/* The same for a process that ends right after (vzctl exec): it enters
 * the CT's namespaces itself, saving a fork.  argv NULL: /bin/sh reading
 * stdin.  vz_ct_runscript and vz_ct_enter are one-way like this too. */
int vz_ct_exec_final(const struct vz_ct *ct, char *const argv[], int *status,
		     struct vz_error *err);
/* Runs a host script file inside with /bin/sh. */
int vz_ct_runscript(const struct vz_ct *ct, const char *script, int *status,
		    struct vz_error *err);
/* Interactive shell on a pty inside. */
int vz_ct_enter(const struct vz_ct *ct, int *status, struct vz_error *err);
/* Runs fn(arg) in a child that has entered all of the CT's namespaces
 * (and cgroups); returns the child's exit status. */
int vz_ct_run_inside(const struct vz_ct *ct, int (*fn)(void *), void *arg,
		     struct vz_error *err);


/* Writes /etc/hostname, /etc/hosts, /etc/resolv.conf and the distro's
 * network files from the config (net room: vz_ct_net_files). */
int vz_ct_write_config_files(const struct vz_ct *ct, struct vz_error *err);

/* Capabilities and devices (ct-caps.c). */
int vz_caps_drop_mask(const struct vz_ct *ct, uint64_t *drop,
		      struct vz_error *err);
int vz_caps_apply_bound(uint64_t drop, struct vz_error *err);
int vz_devices_apply(const struct vz_ct *ct, struct vz_error *err);

#endif
