/* CRIU as an external program: find, command lines, run, statistics. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "util.h"

/* CRIU image magics (criu/include/magic.h): a service image starts with
 * the service magic, then its own. */
#define CRIU_IMG_SERVICE_MAGIC 0x55105940u
#define CRIU_STATS_MAGIC 0x57093306u

int vz_criu_parse_version(const char *text, unsigned *major, unsigned *minor,
			  unsigned *sub)
{
	const char *p = text ? strstr(text, "Version:") : NULL;
	if (!p)
		return -1;
	p += strlen("Version:");
	while (*p == ' ' || *p == '\t')
		p++;
	unsigned v[3] = { 0, 0, 0 };
	int n = 0;
	while (n < 3) {
		if (*p < '0' || *p > '9')
			break;
		unsigned long x = 0;
		while (*p >= '0' && *p <= '9') {
			x = x * 10 + (unsigned)(*p - '0');
			if (x > 100000)
				return -1;
			p++;
		}
		v[n++] = (unsigned)x;
		if (*p != '.')
			break;
		p++;
	}
	if (n < 2)
		return -1;
	*major = v[0];
	*minor = v[1];
	*sub = v[2];
	return 0;
}

bool vz_criu_version_ok(unsigned major, unsigned minor)
{
	return major > VZ_CRIU_MIN_MAJOR ||
	       (major == VZ_CRIU_MIN_MAJOR && minor >= VZ_CRIU_MIN_MINOR);
}

/* Runs `path --version` and parses it; -1 if it does not run or say. */
static int criu_probe(const char *path, unsigned *major, unsigned *minor,
		      unsigned *sub)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0)
			dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		vz_close_fds_from(3);
		execl(path, path, "--version", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	char buf[512];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return vz_criu_parse_version(buf, major, minor, sub);
}

/* `criu --version` costs 10-15 ms here, a tenth of a small CT's dump: the
 * answer is kept in a one-line cache under /run, keyed by the binary's
 * device, inode, size and mtime, so a changed or replaced criu is probed
 * again. */
static char *version_cache_path(void)
{
	const char *p = getenv("VZ_CRIU_CACHE");
	return xstrdup(p && *p ? p : "/run/vz-criu-version");
}

static char *cache_key(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return NULL;
	return xasprintf("%s %llu %llu %lld %lld.%09ld", path,
			 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec);
}

static int probe_cached(const char *path, unsigned *major, unsigned *minor,
			unsigned *sub)
{
	_cleanup_free_ char *key = cache_key(path);
	_cleanup_free_ char *cache = version_cache_path();
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct vz_error ignore;
	if (key && vz_read_file(cache, &text, &len, &ignore) == 0) {
		char *nl = strchr(text, '\n');
		if (nl && (size_t)(nl - text) == strlen(key) &&
		    !strncmp(text, key, strlen(key)) &&
		    vz_criu_parse_version(nl + 1, major, minor, sub) == 0)
			return 0;
	}
	if (criu_probe(path, major, minor, sub) < 0)
		return -1;
	if (key && getuid() == 0) {
		_cleanup_free_ char *line = xasprintf("%s\nVersion: %u.%u.%u\n", key,
						      *major, *minor, *sub);
		vz_write_file_atomic(cache, line, strlen(line), 0644, &ignore);
	}
	return 0;
}

int vz_criu_find(struct vz_criu *c, struct vz_error *err)
{
	memset(c, 0, sizeof(*c));
	const char *env = getenv("VZ_CRIU");
	_cleanup_strv_ char **cands = NULL;
	if (env && *env) {
		cands = vz_strv_push(cands, env);
	} else {
		const char *path = getenv("PATH");
		_cleanup_free_ char *all = xasprintf("%s:/usr/local/sbin:/usr/sbin:/sbin",
						     path ? path : "");
		_cleanup_strv_ char **dirs = vz_strv_split(all, ":");
		for (size_t i = 0; dirs && dirs[i]; i++) {
			_cleanup_free_ char *p = xasprintf("%s/criu", dirs[i]);
			if (dirs[i][0] == '/' && access(p, X_OK) == 0 &&
			    !vz_strv_contains(cands, p))
				cands = vz_strv_push(cands, p);
		}
	}
	if (!cands)
		return vz_fail(err, VZ_ENOSYS,
			       "criu not found (need %d.%d or newer); run scripts/install-deps",
			       VZ_CRIU_MIN_MAJOR, VZ_CRIU_MIN_MINOR);
	const char *first = NULL;
	unsigned fmaj = 0, fmin = 0, fsub = 0;
	bool first_ok = false;
	for (size_t i = 0; cands[i]; i++) {
		unsigned ma, mi, su;
		if (access(cands[i], X_OK) < 0)
			continue;
		int r = probe_cached(cands[i], &ma, &mi, &su);
		if (r == 0 && vz_criu_version_ok(ma, mi)) {
			c->path = xstrdup(cands[i]);
			c->major = ma;
			c->minor = mi;
			c->sub = su;
			return 0;
		}
		if (!first) {
			first = cands[i];
			first_ok = r == 0;
			fmaj = ma, fmin = mi, fsub = su;
		}
	}
	if (!first)
		return vz_fail(err, VZ_ENOSYS,
			       "criu not found at %s (need %d.%d or newer); run scripts/install-deps",
			       cands[0], VZ_CRIU_MIN_MAJOR, VZ_CRIU_MIN_MINOR);
	if (!first_ok)
		return vz_fail(err, VZ_ENOSYS,
			       "%s does not report a version (need criu %d.%d or newer); run scripts/install-deps",
			       first, VZ_CRIU_MIN_MAJOR, VZ_CRIU_MIN_MINOR);
	return vz_fail(err, VZ_ENOSYS,
		       "criu %u.%u.%u at %s is too old (need %d.%d or newer); run scripts/install-deps",
		       fmaj, fmin, fsub, first, VZ_CRIU_MIN_MAJOR,
		       VZ_CRIU_MIN_MINOR);
}

void vz_criu_free(struct vz_criu *c)
{
	free(c->path);
	c->path = NULL;
}

/* --- a minimal protobuf reader, enough for stats.proto --- */

struct pb {
	const uint8_t *p, *end;
};

static int pb_varint(struct pb *b, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (b->p >= b->end)
			return -1;
		uint8_t c = *b->p++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Next field: number, wire type, and its value (varint) or bytes. */
static int pb_field(struct pb *b, uint32_t *num, uint64_t *val, struct pb *sub)
{
	uint64_t key;
	if (pb_varint(b, &key) < 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
		return -1;
	*num = (uint32_t)(key >> 3);
	*val = 0;
	sub->p = sub->end = NULL;
	switch (key & 7) {
	case 0:
		return pb_varint(b, val);
	case 1:
		if (b->end - b->p < 8)
			return -1;
		for (int i = 7; i >= 0; i--)
			*val = (*val << 8) | b->p[i];
		b->p += 8;
		return 0;
	case 5:
		if (b->end - b->p < 4)
			return -1;
		for (int i = 3; i >= 0; i--)
			*val = (*val << 8) | b->p[i];
		b->p += 4;
		return 0;
	case 2: {
		uint64_t n;
		if (pb_varint(b, &n) < 0 || n > (uint64_t)(b->end - b->p))
			return -1;
		sub->p = b->p;
		sub->end = b->p + n;
		b->p += n;
		return 0;
	}
	default:
		return -1;
	}
}

static uint32_t u32_clamp(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int parse_dump_entry(struct pb b, struct vz_criu_stats *st)
{
	while (b.p < b.end) {
		uint32_t num;
		uint64_t v;
		struct pb sub;
		if (pb_field(&b, &num, &v, &sub) < 0)
			return -1;
		switch (num) {
		case 1: st->freezing_us = u32_clamp(v); break;
		case 2: st->frozen_us = u32_clamp(v); break;
		case 3: st->memdump_us = u32_clamp(v); break;
		case 4: st->memwrite_us = u32_clamp(v); break;
		case 5: st->pages_scanned = v; break;
		case 6: st->pages_skipped_parent = v; break;
		case 7: st->pages_written = v; break;
		case 9: st->pages_lazy = v; break;
		default: break; /* fields we do not report */
		}
	}
	st->have_dump = true;
	return 0;
}

static int parse_restore_entry(struct pb b, struct vz_criu_stats *st)
{
	while (b.p < b.end) {
		uint32_t num;
		uint64_t v;
		struct pb sub;
		if (pb_field(&b, &num, &v, &sub) < 0)
			return -1;
		switch (num) {
		case 1: st->pages_compared = v; break;
		case 2: st->pages_skipped_cow = v; break;
		case 3: st->forking_us = u32_clamp(v); break;
		case 4: st->restore_us = u32_clamp(v); break;
		case 5: st->pages_restored = v; break;
		default: break;
		}
	}
	st->have_restore = true;
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int vz_criu_parse_stats(const void *buf, size_t len, struct vz_criu_stats *st,
			struct vz_error *err)
{
	const uint8_t *p = buf, *end = p + len;
	if (len >= 4 && le32(p) == CRIU_IMG_SERVICE_MAGIC)
		p += 4;
	if (end - p < 8 || le32(p) != CRIU_STATS_MAGIC)
		return vz_fail(err, VZ_ECORRUPT,
			       "not a CRIU stats image (bad magic)");
	p += 4;
	uint32_t size = le32(p);
	p += 4;
	if (size > (size_t)(end - p))
		return vz_fail(err, VZ_ECORRUPT,
			       "CRIU stats image truncated (%u bytes announced, %zu there)",
			       size, (size_t)(end - p));
	struct pb b = { p, p + size };
	while (b.p < b.end) {
		uint32_t num;
		uint64_t v;
		struct pb sub;
		if (pb_field(&b, &num, &v, &sub) < 0)
			return vz_fail(err, VZ_ECORRUPT,
				       "CRIU stats image: malformed message");
		int r = 0;
		if (num == 1 && sub.p)
			r = parse_dump_entry(sub, st);
		else if (num == 2 && sub.p)
			r = parse_restore_entry(sub, st);
		if (r < 0)
			return vz_fail(err, VZ_ECORRUPT,
				       "CRIU stats image: malformed %s entry",
				       num == 1 ? "dump" : "restore");
	}
	return 0;
}

int vz_criu_read_stats(const char *dir, struct vz_criu_stats *st,
		       struct vz_error *err)
{
	static const char *const names[] = { "stats-dump", "stats-restore" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
		if (!vz_path_exists(path))
			continue;
		_cleanup_free_ char *data = NULL;
		size_t len;
		if (vz_read_file(path, &data, &len, err) < 0 ||
		    vz_criu_parse_stats(data, len, st, err) < 0)
			return vz_prefix(err, "%s", path);
	}
	return 0;
}

/* --- the log --- */

static bool noise(const char *msg)
{
	/* Logged as errors on every run here, but harmless: CRIU probes for
	 * iptables tools (we lock with nftables), and root lacks
	 * CAP_SYS_RESOURCE to raise its own RLIMIT_NOFILE. */
	static const char *const pats[] = {
		"iptables", "ip6tables", "RLIMIT_NOFILE",
	};
	for (size_t i = 0; i < ARRAY_SIZE(pats); i++)
		if (strstr(msg, pats[i]))
			return true;
	return false;
}

char *vz_criu_log_reason(const char *log_text)
{
	if (!log_text)
		return NULL;
	const char *line = log_text;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		_cleanup_free_ char *l = xstrndup(line, n);
		char *e = strstr(l, "Error (");
		if (e) {
			char *msg = strstr(e, "): ");
			msg = msg ? msg + 3 : e;
			vz_strstrip(msg);
			if (*msg && !noise(msg))
				return xstrdup(msg);
		}
		if (!eol)
			break;
		line = eol + 1;
	}
	return NULL;
}

/* --- command lines --- */

static char **push_log(char **v, const char *dir, const char *log_name,
		       int level)
{
	v = vz_strv_push(v, "-D");
	v = vz_strv_push(v, dir);
	v = vz_strv_push(v, "-o");
	v = vz_strv_push(v, log_name);
	_cleanup_free_ char *lv = xasprintf("-v%d", level > 0 ? level : 2);
	v = vz_strv_push(v, lv);
	return v;
}

char **vz_criu_dump_argv(const struct vz_criu *c,
			 const struct vz_criu_dump_opts *o)
{
	char **v = vz_strv_push(NULL, c && c->path ? c->path : "criu");
	v = vz_strv_push(v, "dump");
	_cleanup_free_ char *pid = xasprintf("%d", (int)o->pid);
	v = vz_strv_push(v, "-t");
	v = vz_strv_push(v, pid);
	v = push_log(v, o->dir, o->log_name ? o->log_name : "dump.log",
		     o->log_level);
	/* The default lock needs iptables, which we do not require. */
	v = vz_strv_push(v, "--network-lock");
	v = vz_strv_push(v, "nftables");
	if (o->freeze_cgroup) {
		v = vz_strv_push(v, "--freeze-cgroup");
		v = vz_strv_push(v, o->freeze_cgroup);
	}
	if (o->leave_running)
		v = vz_strv_push(v, "--leave-running");
	if (o->tcp_established) {
		v = vz_strv_push(v, "--tcp-established");
		/* A connection still in a listener's accept queue cannot be
		 * saved; refusing the whole dump for it would make a busy
		 * server unsuspendable.  Its client sees a reset and retries. */
		v = vz_strv_push(v, "--skip-in-flight");
	}
	if (o->file_locks)
		v = vz_strv_push(v, "--file-locks");
	for (size_t i = 0; o->external && o->external[i]; i++) {
		v = vz_strv_push(v, "--external");
		v = vz_strv_push(v, o->external[i]);
	}
	return v;
}

char **vz_criu_restore_argv(const struct vz_criu *c,
			    const struct vz_criu_restore_opts *o)
{
	char **v = vz_strv_push(NULL, c && c->path ? c->path : "criu");
	v = vz_strv_push(v, "restore");
	v = push_log(v, o->dir, o->log_name ? o->log_name : "restore.log",
		     o->log_level);
	/* Detached: criu exits once the tree runs; the CT's init is then
	 * reparented to the nearest subreaper. */
	v = vz_strv_push(v, "--restore-detached");
	v = vz_strv_push(v, "--root");
	v = vz_strv_push(v, o->root);
	v = vz_strv_push(v, "--pidfile");
	v = vz_strv_push(v, o->pidfile);
	v = vz_strv_push(v, "--network-lock");
	v = vz_strv_push(v, "nftables");
	for (size_t i = 0; o->cgroup_roots && o->cgroup_roots[i]; i++) {
		v = vz_strv_push(v, "--cgroup-root");
		v = vz_strv_push(v, o->cgroup_roots[i]);
	}
	for (size_t i = 0; o->veth_pairs && o->veth_pairs[i]; i++) {
		v = vz_strv_push(v, "--veth-pair");
		v = vz_strv_push(v, o->veth_pairs[i]);
	}
	if (o->tcp_established)
		v = vz_strv_push(v, "--tcp-established");
	if (o->file_locks)
		v = vz_strv_push(v, "--file-locks");
	for (size_t i = 0; o->external && o->external[i]; i++) {
		v = vz_strv_push(v, "--external");
		v = vz_strv_push(v, o->external[i]);
	}
	return v;
}

/* Controller list of a v1 cgroup mount from its super options: "cpu",
 * "cpu,cpuacct", "name=systemd"; NULL for a mount without any. */
static char *v1_controllers(const char *superopts)
{
	_cleanup_strv_ char **opts = vz_strv_split(superopts, ",");
	_cleanup_strv_ char **ctl = NULL;
	static const char *const skip[] = {
		"rw", "ro", "relatime", "noatime", "nosuid", "nodev",
		"noexec", "clone_children", "xattr", "noprefix", "cpuset_v2_mode",
		"favordynmods", "nsdelegate",
	};
	for (size_t i = 0; opts && opts[i]; i++) {
		bool s = false;
		for (size_t k = 0; k < ARRAY_SIZE(skip); k++)
			if (vz_streq(opts[i], skip[k]))
				s = true;
		if (s || vz_startswith(opts[i], "release_agent="))
			continue;
		ctl = vz_strv_push(ctl, opts[i]);
	}
	return ctl ? vz_strv_join(ctl, ",") : NULL;
}

char **vz_criu_cgroup_roots(const char *rel, bool unified)
{
	char **v = NULL;
	while (*rel == '/')
		rel++;
	if (unified) {
		_cleanup_free_ char *arg = xasprintf("/%s", rel);
		return vz_strv_push(v, arg);
	}
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL;
	size_t cap = 0;
	char *v2_dir = NULL;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [tags] - type src super */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char mnt[PATH_MAX], type[64], src[256], super[1024];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %255s %1023s", type, src, super) != 3)
			continue;
		if (vz_streq(type, "cgroup2")) {
			if (!v2_dir)
				v2_dir = xstrdup(mnt);
			continue;
		}
		if (!vz_streq(type, "cgroup"))
			continue;
		_cleanup_free_ char *ctl = v1_controllers(super);
		_cleanup_free_ char *dir = xasprintf("%s/%s", mnt, rel);
		if (!ctl || !vz_path_exists(dir))
			continue;
		_cleanup_free_ char *arg = xasprintf("%s:/%s", ctl, rel);
		if (!vz_strv_contains(v, arg))
			v = vz_strv_push(v, arg);
	}
	free(line);
	/* Hybrid: the CT may also have a directory in the v2 tree. */
	if (v2_dir) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", v2_dir, rel);
		if (vz_path_exists(dir)) {
			_cleanup_free_ char *arg = xasprintf("/%s", rel);
			v = vz_strv_push(v, arg);
		}
		free(v2_dir);
	}
	return v;
}

/* --- running --- */

int vz_criu_run(const struct vz_criu *c, char **argv, const char *dir,
		const char *log_name, uint64_t *elapsed_ns,
		struct vz_error *err)
{
	_cleanup_free_ char *out = xasprintf("%s/criu.out", dir);
	_cleanup_free_ char *cmd = vz_strv_join(argv, " ");
	vz_debug("running %s", cmd);
	uint64_t t0 = vz_now_ns();
	pid_t pid = fork();
	if (pid < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "fork for criu");
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (null < 0 || o < 0)
			_exit(126);
		dup2(null, 0);
		dup2(o, 1);
		dup2(o, 2);
		/* Nothing of ours (locks, sockets) may leak into criu or into
		 * the restored tree. */
		vz_close_fds_from(3);
		signal(SIGPIPE, SIG_DFL);
		/* Its own process group: a ^C at the terminal must not stop
		 * criu half-way (the CT would stay frozen or half-restored). */
		setpgid(0, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(c->path, argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return vz_fail_errno(err, VZ_ESYSTEM, "wait for criu");
	if (elapsed_ns)
		*elapsed_ns = vz_now_ns() - t0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	_cleanup_free_ char *log_path = xasprintf("%s/%s", dir, log_name);
	_cleanup_free_ char *text = NULL, *otext = NULL;
	struct vz_error ignore;
	size_t len;
	_cleanup_free_ char *reason = NULL;
	if (vz_read_file(log_path, &text, &len, &ignore) == 0)
		reason = vz_criu_log_reason(text);
	if (!reason && vz_read_file(out, &otext, &len, &ignore) == 0) {
		reason = vz_criu_log_reason(otext);
		if (!reason) {
			/* Last non-empty line of its own output. */
			char *s = vz_strstrip(otext);
			char *nl = strrchr(s, '\n');
			if (*s)
				reason = xstrdup(nl ? nl + 1 : s);
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !reason)
		reason = xasprintf("cannot execute %s", c->path);
	if (WIFSIGNALED(status))
		return vz_fail(err, VZ_ESYSTEM, "criu %s killed by signal %d%s%s (log: %s)",
			       argv[1], WTERMSIG(status), reason ? ": " : "",
			       reason ? reason : "", log_path);
	return vz_fail(err, VZ_ESYSTEM, "criu %s failed: %s (log: %s)", argv[1],
		       reason ? reason : "no reason logged", log_path);
}

void vz_criu_stats_json(struct vz_json *j, const struct vz_criu_stats *st)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	if (st->have_dump) {
		vz_json_key(j, "criu_dump");
		vz_json_begin_object(j);
		vz_json_kv_uint(j, "freezing_us", st->freezing_us);
		vz_json_kv_uint(j, "frozen_us", st->frozen_us);
		vz_json_kv_uint(j, "memdump_us", st->memdump_us);
		vz_json_kv_uint(j, "memwrite_us", st->memwrite_us);
		vz_json_kv_uint(j, "pages_scanned", st->pages_scanned);
		vz_json_kv_uint(j, "pages_written", st->pages_written);
		vz_json_kv_uint(j, "bytes_written",
				st->pages_written * (uint64_t)page);
		vz_json_end_object(j);
	}
	if (st->have_restore) {
		vz_json_key(j, "criu_restore");
		vz_json_begin_object(j);
		vz_json_kv_uint(j, "forking_us", st->forking_us);
		vz_json_kv_uint(j, "restore_us", st->restore_us);
		vz_json_kv_uint(j, "pages_restored", st->pages_restored);
		vz_json_end_object(j);
	}
}

/* --- freezer --- */

static bool freezer_is_v2(const char *dir)
{
	_cleanup_free_ char *p = xasprintf("%s/cgroup.freeze", dir);
	return vz_path_exists(p);
}

/* 1 frozen, 0 thawed, 2 in transition, -1 unreadable. */
static int freezer_state(const char *dir, bool v2)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir,
					   v2 ? "cgroup.events" : "freezer.state");
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct vz_error ignore;
	if (vz_read_file(p, &text, &len, &ignore) < 0)
		return -1;
	if (v2) {
		char *f = strstr(text, "frozen ");
		return f ? f[7] == '1' : -1;
	}
	vz_strstrip(text);
	if (vz_streq(text, "FROZEN"))
		return 1;
	if (vz_streq(text, "THAWED"))
		return 0;
	return 2;
}

bool vz_criu_freezer_frozen(const char *dir)
{
	bool v2 = freezer_is_v2(dir);
	if (v2) {
		_cleanup_free_ char *p = xasprintf("%s/cgroup.freeze", dir);
		_cleanup_free_ char *text = NULL;
		size_t len;
		struct vz_error ignore;
		return vz_read_file(p, &text, &len, &ignore) == 0 && text[0] == '1';
	}
	return freezer_state(dir, false) != 0;
}

int vz_criu_freezer_set(const char *dir, bool frozen, unsigned timeout_ms,
			uint64_t *elapsed_ns, struct vz_error *err)
{
	bool v2 = freezer_is_v2(dir);
	_cleanup_free_ char *knob = xasprintf("%s/%s", dir,
					      v2 ? "cgroup.freeze" : "freezer.state");
	const char *val = v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
	uint64_t t0 = vz_now_ns();
	if (vz_write_string(knob, val, err) < 0)
		return vz_prefix(err, "%s cgroup", frozen ? "freeze" : "thaw");
	uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000000ULL;
	const struct timespec step = { 0, 1000000 };
	for (unsigned i = 0;; i++) {
		int st = freezer_state(dir, v2);
		if (st == (frozen ? 1 : 0))
			break;
		if (vz_now_ns() > deadline) {
			if (frozen) {
				struct vz_error e2;
				vz_write_string(knob, v2 ? "0" : "THAWED", &e2);
				return vz_fail(err, VZ_ESYSTEM,
					       "freezing %s did not finish in %u ms (a task stuck in the kernel?); thawed it again",
					       dir, timeout_ms);
			}
			return vz_fail(err, VZ_ESYSTEM,
				       "thawing %s did not finish in %u ms",
				       dir, timeout_ms);
		}
		/* A v1 freeze can stall on a task that was mid-fork; asking
		 * again now and then lets the kernel retry it. */
		if (!v2 && frozen && i % 100 == 99)
			vz_write_string(knob, val, err);
		nanosleep(&step, NULL);
	}
	if (elapsed_ns)
		*elapsed_ns = vz_now_ns() - t0;
	return 0;
}

/* From the freeze to the thaw, and during a restore, vzctl must not die
 * of a ^C or a TERM: it would leave the CT frozen or half-restored.  The
 * signals wait until the operation is over. */
void vz_criu_block_signals(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGQUIT);
	sigprocmask(SIG_BLOCK, &s, old);
}

static int checkpoint_blocked(const struct vz_criu *c,
			      const struct vz_criu_dump_opts *o,
			      struct vz_criu_times *t, struct vz_error *err);

int vz_criu_checkpoint(const struct vz_criu *c,
		       const struct vz_criu_dump_opts *o,
		       struct vz_criu_times *t, struct vz_error *err)
{
	sigset_t old;
	vz_criu_block_signals(&old);
	int r = checkpoint_blocked(c, o, t, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int checkpoint_blocked(const struct vz_criu *c,
			      const struct vz_criu_dump_opts *o,
			      struct vz_criu_times *t, struct vz_error *err)
{
	if (o->freeze_cgroup &&
	    vz_criu_freezer_set(o->freeze_cgroup, true, 10000, &t->freeze_ns,
				err) < 0)
		return -1;
	_cleanup_strv_ char **argv = vz_criu_dump_argv(c, o);
	int r = vz_criu_run(c, argv, o->dir, o->log_name ? o->log_name : "dump.log",
			    &t->dump_ns, err);
	/* After a failed dump criu has released the tasks; after
	 * --leave-running it puts the cgroup back as it found it (frozen by
	 * us).  Either way the CT must run again. */
	if (o->freeze_cgroup && (r < 0 || o->leave_running) &&
	    vz_path_exists(o->freeze_cgroup)) {
		struct vz_error e2;
		if (vz_criu_freezer_set(o->freeze_cgroup, false, 10000,
					&t->thaw_ns, &e2) < 0) {
			if (r == 0) {
				*err = e2;
				return -1;
			}
			vz_warn("%s", e2.msg);
		}
	}
	return r;
}

static int read_pidfile(const char *path, pid_t *pid, struct vz_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	long long v;
	if (vz_read_file(path, &text, &len, err) < 0)
		return -1;
	if (vz_parse_int(vz_strstrip(text), 1, INT_MAX, &v) < 0)
		return vz_fail(err, VZ_ECORRUPT, "%s: not a PID", path);
	*pid = (pid_t)v;
	return 0;
}

int vz_criu_restore(const struct vz_criu *c,
		    const struct vz_criu_restore_opts *o, const char *freezer,
		    pid_t *pid, struct vz_criu_times *t, struct vz_error *err)
{
	if (vz_path_exists(o->pidfile) && unlink(o->pidfile) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "remove %s", o->pidfile);
	_cleanup_strv_ char **argv = vz_criu_restore_argv(c, o);
	sigset_t old;
	vz_criu_block_signals(&old);
	int r = vz_criu_run(c, argv, o->dir,
			    o->log_name ? o->log_name : "restore.log",
			    &t->restore_ns, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return -1;
	if (read_pidfile(o->pidfile, pid, err) < 0)
		return vz_prefix(err, "criu restore succeeded but");
	/* The dump recorded the freezer as we had it (frozen): run again. */
	if (freezer && vz_criu_freezer_frozen(freezer) &&
	    vz_criu_freezer_set(freezer, false, 10000, &t->thaw_ns, err) < 0)
		return -1;
	return 0;
}

/* --- external mounts --- */

struct mnt {
	char *root, *mp, *fstype;
	unsigned maj, min;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static void mnts_free(struct mnt *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].root);
		free(v[i].mp);
		free(v[i].fstype);
	}
	free(v);
}

static int mnts_parse(const char *text, struct mnt **out, size_t *nout)
{
	struct mnt *v = NULL;
	size_t n = 0;
	_cleanup_strv_ char **lines = vz_strv_split(text, "\n");
	for (size_t i = 0; lines && lines[i]; i++) {
		char root[4096], mp[4096], fstype[256];
		unsigned maj, min;
		const char *sep = strstr(lines[i], " - ");
		if (!sep || sscanf(lines[i], "%*s %*s %u:%u %4095s %4095s", &maj, &min,
				   root, mp) != 4 ||
		    sscanf(sep + 3, "%255s", fstype) != 1) {
			mnts_free(v, n);
			return -1;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].root = unescape(root);
		v[n].mp = unescape(mp);
		v[n].fstype = xstrdup(fstype);
		v[n].maj = maj;
		v[n].min = min;
		n++;
	}
	*out = v;
	*nout = n;
	return 0;
}

static bool pseudo_fs(const char *t)
{
	static const char *const names[] = {
		"proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2",
		"devtmpfs", "securityfs", "debugfs", "tracefs", "pstore", "bpf",
		"hugetlbfs", "binfmt_misc", "autofs", "configfs", "fusectl",
		"ramfs", "efivarfs", "nsfs",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (vz_streq(t, names[i]))
			return true;
	return false;
}

/* Is path equal to dir or below it? */
static bool below(const char *path, const char *dir)
{
	if (vz_streq(dir, "/"))
		return path[0] == '/';
	size_t l = strlen(dir);
	return !strncmp(path, dir, l) && (path[l] == '\0' || path[l] == '/');
}

int vz_criu_external_mounts(const char *ct_mountinfo, const char *host_mountinfo,
			    char ***ct_paths, char ***host_paths,
			    struct vz_error *err)
{
	*ct_paths = *host_paths = NULL;
	struct mnt *cm = NULL, *hm = NULL;
	size_t cn = 0, hn = 0;
	int r = -1;
	if (mnts_parse(ct_mountinfo, &cm, &cn) < 0 ||
	    mnts_parse(host_mountinfo, &hm, &hn) < 0) {
		vz_fail(err, VZ_ESYSTEM, "cannot parse mountinfo");
		goto out;
	}
	const struct mnt *rootm = NULL;
	for (size_t i = 0; i < cn; i++)
		if (vz_streq(cm[i].mp, "/"))
			rootm = &cm[i];  /* the last one is the visible root */
	if (!rootm) {
		vz_fail(err, VZ_ESYSTEM, "the CT has no root mount in its mountinfo");
		goto out;
	}
	for (size_t i = 0; i < cn; i++) {
		const struct mnt *m = &cm[i];
		if (m == rootm || pseudo_fs(m->fstype))
			continue;
		if (m->maj == rootm->maj && m->min == rootm->min &&
		    below(m->root, rootm->root))
			continue;  /* a bind of the CT's own files */
		/* Where the host sees that file system, with the longest
		 * root that contains this mount's root. */
		const struct mnt *best = NULL;
		for (size_t k = 0; k < hn; k++)
			if (hm[k].maj == m->maj && hm[k].min == m->min &&
			    below(m->root, hm[k].root) &&
			    (!best || strlen(hm[k].root) > strlen(best->root)))
				best = &hm[k];
		if (!best) {
			vz_fail(err, VZ_ENOSYS,
				"%s inside the CT is a %s mount that the host does not show anywhere: it cannot be saved",
				m->mp, m->fstype);
			goto out;
		}
		const char *rest = vz_streq(best->root, "/") ? m->root :
				   m->root + strlen(best->root);
		if (vz_streq(rest, "/"))
			rest = "";
		_cleanup_free_ char *host =
			!*rest ? xstrdup(best->mp) :
			vz_streq(best->mp, "/") ? xstrdup(rest) :
			xasprintf("%s%s", best->mp, rest);
		*ct_paths = vz_strv_push(*ct_paths, m->mp);
		*host_paths = vz_strv_push(*host_paths, host);
	}
	r = 0;
out:
	mnts_free(cm, cn);
	mnts_free(hm, hn);
	if (r < 0) {
		vz_strv_free(*ct_paths);
		vz_strv_free(*host_paths);
		*ct_paths = *host_paths = NULL;
	}
	return r;
}
