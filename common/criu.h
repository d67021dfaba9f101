/* CRIU, driven as an external program: finding a good one, building the
 * dump and restore command lines for a container, running them, and reading
 * CRIU's own statistics (the stats-dump / stats-restore images) for the
 * per-phase times.
 *
 * What the container layout must give CRIU (see criu-NOTES in the issue):
 * the CT's init is PID 1 of its pid namespace and a session leader, its
 * root is VE_ROOT pivot_root'ed in a private mount namespace, no host bind
 * mounts, and its cgroups exist in every hierarchy before a restore. */
#ifndef VZ_CRIU_H
#define VZ_CRIU_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vz_ct;
struct vz_error;
struct vz_json;

/* Oldest CRIU that works here: 4.1 cannot dump TCP sockets on 6.16+. */
#define VZ_CRIU_MIN_MAJOR 4
#define VZ_CRIU_MIN_MINOR 2

struct vz_criu {
	char *path;
	unsigned major, minor, sub;
};

/* Parses `criu --version` output ("Version: 4.2.1\n..."); 0 or -1. */
int vz_criu_parse_version(const char *text, unsigned *major, unsigned *minor,
			  unsigned *sub);
bool vz_criu_version_ok(unsigned major, unsigned minor);

/* Finds criu: $VZ_CRIU if set (a path; tests use it), else the first good
 * one in PATH, /usr/local/sbin, /usr/sbin.  Fails with VZ_ENOSYS naming
 * the version found and scripts/install-deps as the fix. */
int vz_criu_find(struct vz_criu *c, struct vz_error *err);
void vz_criu_free(struct vz_criu *c);

/* CRIU's statistics.  Times in microseconds. */
struct vz_criu_stats {
	bool have_dump, have_restore;
	/* dump */
	uint32_t freezing_us;   /* criu's own freeze (and seize) */
	uint32_t frozen_us;     /* from frozen until unfrozen/killed */
	uint32_t memdump_us;    /* collecting pages from the tasks */
	uint32_t memwrite_us;   /* writing pages out */
	uint64_t pages_scanned, pages_skipped_parent, pages_written;
	uint64_t pages_lazy;
	/* restore */
	uint32_t forking_us;    /* recreating the tree */
	uint32_t restore_us;    /* from start until the tree resumes */
	uint64_t pages_compared, pages_skipped_cow, pages_restored;
};

/* Parses one CRIU stats image (service magic, stats magic, then one
 * length-prefixed StatsEntry protobuf message) into st, adding to what is
 * there (dump and restore images fill different fields). */
int vz_criu_parse_stats(const void *buf, size_t len, struct vz_criu_stats *st,
			struct vz_error *err);
/* Reads DIR/stats-dump and DIR/stats-restore where present. */
int vz_criu_read_stats(const char *dir, struct vz_criu_stats *st,
		       struct vz_error *err);

/* One line of CRIU's log that says why it failed: the first "Error (...)"
 * line that is not known noise (missing iptables-save, RLIMIT_NOFILE),
 * without its timestamp and source location.  NULL if none; caller frees. */
char *vz_criu_log_reason(const char *log_text);

struct vz_criu_dump_opts {
	pid_t pid;                  /* host PID of the CT's init */
	const char *dir;            /* images directory (exists, empty) */
	const char *freeze_cgroup;  /* freezer cgroup directory, or NULL */
	bool leave_running;
	bool tcp_established;       /* dump established TCP connections;
				       connections not yet accepted are
				       dropped (their clients retry) */
	bool file_locks;
	char *const *external;      /* extra --external values, or NULL */
	const char *log_name;       /* log file name inside dir */
	int log_level;              /* -v level for criu's log (default 2) */
};
/* criu dump command line; free with vz_strv_free. */
char **vz_criu_dump_argv(const struct vz_criu *c,
			 const struct vz_criu_dump_opts *o);

struct vz_criu_restore_opts {
	const char *dir;            /* images directory */
	const char *root;           /* VE_ROOT, mounted */
	const char *pidfile;        /* absolute, must not exist */
	char *const *cgroup_roots;  /* "CTRL:/path", one per v1 controller, or
				       "/path" on cgroup v2; NULL: none */
	char *const *veth_pairs;    /* "CT_IF=HOST_IF" or NULL */
	char *const *external;
	bool tcp_established;
	bool file_locks;
	const char *log_name;
	int log_level;
};
char **vz_criu_restore_argv(const struct vz_criu *c,
			    const struct vz_criu_restore_opts *o);

/* --cgroup-root values for a CT whose cgroup is `rel` (PARENT/CTID) in
 * every mounted v1 hierarchy of this host (or the v2 path).  Read from
 * /proc/self/mountinfo. */
char **vz_criu_cgroup_roots(const char *rel, bool unified);

/* Runs c->path with argv (from the builders above); stdin /dev/null,
 * stdout and stderr to DIR/criu.out.  On failure fills err with CRIU's
 * reason from DIR/LOG_NAME (or criu.out), code VZ_ESYSTEM.  *elapsed_ns
 * (optional) gets the wall time. */
int vz_criu_run(const struct vz_criu *c, char **argv, const char *dir,
		const char *log_name, uint64_t *elapsed_ns,
		struct vz_error *err);

/* Freezes (true) or thaws a freezer cgroup directory (v1 freezer.state or
 * v2 cgroup.freeze) and waits, polling every millisecond, until the kernel
 * reports it done (criu's own loop sleeps 100 ms steps).  A freeze that
 * does not complete in timeout_ms is undone and reported. */
int vz_criu_freezer_set(const char *dir, bool frozen, unsigned timeout_ms,
			uint64_t *elapsed_ns, struct vz_error *err);
/* Is the freezer cgroup frozen (or freezing)? */
bool vz_criu_freezer_frozen(const char *dir);

/* A whole checkpoint of a tree: freeze (when freezer is set), criu dump,
 * thaw on failure (the tree keeps running, nothing left frozen) and after
 * --leave-running.  Times of each phase go to *t. */
struct vz_criu_times {
	uint64_t freeze_ns, dump_ns, restore_ns, thaw_ns;
};
int vz_criu_checkpoint(const struct vz_criu *c,
		       const struct vz_criu_dump_opts *o,
		       struct vz_criu_times *t, struct vz_error *err);
/* criu restore, then read the CT init's host PID from the pidfile and thaw
 * the freezer cgroup if criu brought it back frozen. */
int vz_criu_restore(const struct vz_criu *c,
		    const struct vz_criu_restore_opts *o, const char *freezer,
		    pid_t *pid, struct vz_criu_times *t, struct vz_error *err);

/* Mounts of a CT that come from the host (a host directory or file bound
 * in, an lxcfs file): criu cannot save them, it must be told they are
 * external.  From the CT init's mountinfo and the host's: a mount is
 * external when it is not a pseudo filesystem and not the CT root's own
 * filesystem below the CT root.  ct_paths[i] is where it is in the CT,
 * host_paths[i] what the host sees there.  A mount of the host whose
 * source the host cannot see is VZ_ENOSYS. */
int vz_criu_external_mounts(const char *ct_mountinfo, const char *host_mountinfo,
			    char ***ct_paths, char ***host_paths,
			    struct vz_error *err);

/* Blocks INT, TERM, HUP, QUIT (old mask to *old): what a checkpoint must
 * not be interrupted by; they are delivered once the mask is restored. */
void vz_criu_block_signals(sigset_t *old);

/* Writes the stats as JSON members "criu_dump" and "criu_restore" (times
 * in microseconds, pages, bytes) into the open object. */
void vz_criu_stats_json(struct vz_json *j, const struct vz_criu_stats *st);

/* --- containers (criu-ct.c): vzctl suspend / resume --- */

struct vz_suspend_opts {
	const char *dumpfile;   /* dump directory; NULL: DUMPDIR/CTID */
	bool leave_running;     /* dump only: the CT goes on running */
};
struct vz_resume_opts {
	const char *dumpfile;   /* NULL: the dump of the suspended CT */
};
/* What a suspend or resume did, for -v and --stats. */
struct vz_cpt_report {
	char *dir;                  /* the dump directory */
	struct vz_criu_times t;
	struct vz_criu_stats st;
};
int vz_ct_suspend(struct vz_ct *ct, const struct vz_suspend_opts *o,
		  struct vz_cpt_report *rep, struct vz_error *err);
int vz_ct_resume(struct vz_ct *ct, const struct vz_resume_opts *o,
		 struct vz_cpt_report *rep, struct vz_error *err);
void vz_cpt_report_free(struct vz_cpt_report *rep);
/* The dump directory of a suspended CT (DUMPDIR/CTID unless suspended
 * with --dumpfile).  Caller frees. */
char *vz_ct_dump_dir(const struct vz_ct *ct);
/* Forgets a suspended CT's dump: removes DUMPDIR/CTID (a --dumpfile
 * directory is the user's and stays). */
int vz_ct_dump_discard(struct vz_ct *ct, struct vz_error *err);
/* Prints the report: per-phase times as info lines (-v), or as one JSON
 * object on stdout. */
void vz_cpt_report_print(const struct vz_cpt_report *rep, const char *op,
			 bool json);

#endif
