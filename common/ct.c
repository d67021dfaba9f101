/* Container: configuration, paths, lock, runtime record, status. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct.h"
#include "error.h"
#include "log.h"
#include "util.h"

const char *vz_confdir(void)
{
	const char *d = getenv("VZ_CONFDIR");
	return d && *d ? d : VZ_CONFDIR_DEFAULT;
}

const char *vz_ct_get(const struct vz_ct *ct, const char *key)
{
	const char *v = vz_conf_get(&ct->conf, key);
	return v ? v : vz_conf_get(&ct->global, key);
}

char *vz_ct_get_path(const struct vz_ct *ct, const char *key)
{
	const char *v = vz_ct_get(ct, key);
	return v ? vz_conf_expand(v, ct->idstr) : NULL;
}

static int resolve_path(struct vz_ct *ct, const char *key, const char *def,
			char **out, struct vz_error *err)
{
	char *v = vz_ct_get_path(ct, key);
	if (!v)
		v = vz_conf_expand(def, ct->idstr);
	if (v[0] != '/') {
		vz_fail(err, VZ_ECONFIG, "%s: %s=\"%s\" is not an absolute path",
			vz_conf_get(&ct->conf, key) ? ct->conf_path : ct->global.path,
			key, v);
		free(v);
		return -1;
	}
	*out = v;
	return 0;
}

int vz_ct_load(struct vz_ct *ct, unsigned id, struct vz_error *err)
{
	memset(ct, 0, sizeof(*ct));
	ct->lock_fd = -1;
	ct->id = id;
	snprintf(ct->idstr, sizeof(ct->idstr), "%u", id);
	ct->confdir = xstrdup(vz_confdir());
	_cleanup_free_ char *global = xasprintf("%s/vz.conf", ct->confdir);
	vz_conf_init(&ct->global, global);
	if (vz_conf_load(&ct->global, global, err) < 0) {
		if (err->code == VZ_ENOENT)
			err->code = VZ_ECONFIG;
		return vz_prefix(err, "global config");
	}
	if (vz_conf_check(&ct->global, err) < 0)
		return -1;
	ct->conf_path = xasprintf("%s/conf/%u.conf", ct->confdir, id);
	vz_conf_init(&ct->conf, ct->conf_path);
	if (vz_conf_load(&ct->conf, ct->conf_path, err) < 0) {
		if (err->code != VZ_ENOENT)
			return -1;
		vz_error_clear(err);
	} else {
		ct->exists = true;
		if (vz_conf_check(&ct->conf, err) < 0)
			return -1;
	}
	if (resolve_path(ct, "VE_ROOT", "/vz/root/$VEID", &ct->root, err) < 0 ||
	    resolve_path(ct, "VE_PRIVATE", "/vz/private/$VEID", &ct->private_dir, err) < 0 ||
	    resolve_path(ct, "LOCKDIR", "/vz/lock", &ct->lockdir, err) < 0 ||
	    resolve_path(ct, "DUMPDIR", "/vz/dump", &ct->dumpdir, err) < 0 ||
	    resolve_path(ct, "TEMPLATE", "/vz/template", &ct->template_dir, err) < 0)
		return -1;
	const char *parent = getenv("CGROUP_PARENT");
	if (!parent || !*parent)
		parent = vz_ct_get(ct, "CGROUP_PARENT");
	if (vz_cg_init(&ct->cg, parent ? parent : "vz", ct->idstr, err) < 0)
		return -1;
	const char *logfile = vz_conf_get(&ct->global, "LOGFILE");
	if (logfile && *logfile) {
		const char *lvl = vz_conf_get(&ct->global, "LOG_LEVEL");
		vz_log_open_file(logfile, lvl ? atoi(lvl) : VZ_LOG_INFO);
	}
	return 0;
}

void vz_ct_free(struct vz_ct *ct)
{
	vz_ct_unlock(ct);
	vz_conf_free(&ct->global);
	vz_conf_free(&ct->conf);
	free(ct->confdir);
	free(ct->conf_path);
	free(ct->root);
	free(ct->private_dir);
	free(ct->lockdir);
	free(ct->dumpdir);
	free(ct->template_dir);
	vz_cg_free(&ct->cg);
}

int vz_ct_save(struct vz_ct *ct, struct vz_error *err)
{
	return vz_conf_save(&ct->conf, ct->conf_path, err);
}

/* A POSIX record lock, not flock(): it belongs to this process alone, so
 * a child that outlives vzctl (a background cleanup, a helper that sits
 * in a namespace) can never keep the CT locked, and the kernel names the
 * holder.  It goes when the process exits, however it dies. */
int vz_ct_lock(struct vz_ct *ct, const char *op, bool wait,
	       struct vz_error *err)
{
	if (vz_mkdir_p(ct->lockdir, 0755, err) < 0)
		return vz_prefix(err, "lock CT %s", ct->idstr);
	_cleanup_free_ char *path = xasprintf("%s/%s.lck", ct->lockdir, ct->idstr);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "lock CT %s: open %s",
				     ct->idstr, path);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EACCES && errno != EAGAIN) {
			vz_fail_errno(err, VZ_ESYSTEM, "lock %s", path);
			close(fd);
			return -1;
		}
		struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int holder = fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ?
			     (int)q.l_pid : 0;
		/* the holder wrote "vzctl OP, pid N" when it took the lock */
		char who[128] = "", desc[160];
		ssize_t n = pread(fd, who, sizeof(who) - 1, 0);
		if (n > 0)
			who[n] = '\0';
		vz_strstrip(who);
		char mine[32];
		snprintf(mine, sizeof(mine), "pid %d", holder);
		if (holder && *who && strstr(who, mine) &&
		    strlen(strstr(who, mine)) == strlen(mine))
			snprintf(desc, sizeof(desc), "%s", who);
		else if (holder)
			snprintf(desc, sizeof(desc), "pid %d", holder);
		else
			snprintf(desc, sizeof(desc), "unknown");
		if (!wait) {
			vz_fail(err, VZ_ELOCKED,
				"CT %s is locked by another command (%s); try again when it is done, or use --wait",
				ct->idstr, desc);
			close(fd);
			return -1;
		}
		vz_info("CT %s is locked by %s; waiting", ct->idstr, desc);
		while (fcntl(fd, F_SETLKW, &fl) < 0) {
			if (errno == EINTR)
				continue;
			vz_fail_errno(err, VZ_ESYSTEM, "lock %s", path);
			close(fd);
			return -1;
		}
	}
	/* Written over in place, padded to a fixed size: truncating would
	 * free a block, which on a file system mounted with "discard" waits
	 * for the device (half a millisecond here). */
	char who[128];
	int n = snprintf(who, sizeof(who), "%s %s, pid %d", vz_prog(), op,
			 (int)getpid());
	if (n < 0 || n >= (int)sizeof(who))
		n = (int)sizeof(who) - 1;
	memset(who + n, ' ', sizeof(who) - 1 - n);
	who[sizeof(who) - 1] = '\n';
	if (pwrite(fd, who, sizeof(who), 0) < 0)
		vz_debug("cannot record lock holder in %s", path);
	ct->lock_fd = fd;
	return 0;
}

void vz_ct_unlock(struct vz_ct *ct)
{
	if (ct->lock_fd >= 0) {
		/* the file stays: removing it would race with a waiter */
		close(ct->lock_fd);
		ct->lock_fd = -1;
	}
}

static char *runtime_path(const struct vz_ct *ct)
{
	return xasprintf("%s/%s.run", ct->lockdir, ct->idstr);
}

unsigned long long vz_proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: count from the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long start = 0;
	char state;
	if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
			  "%*d %*d %*d %*d %*d %*d %llu", &state, &start) != 2)
		return 0;
	if (state == 'Z' || state == 'X')
		return 0;
	return start;
}

int vz_ct_runtime(const struct vz_ct *ct, struct vz_ct_runtime *rt)
{
	memset(rt, 0, sizeof(*rt));
	_cleanup_free_ char *path = runtime_path(ct);
	struct vz_conf c;
	vz_conf_init(&c, path);
	if (vz_conf_load(&c, path, NULL) < 0) {
		vz_conf_free(&c);
		return 0;
	}
	const char *pid = vz_conf_get(&c, "INIT_PID");
	const char *start = vz_conf_get(&c, "INIT_START");
	const char *caps = vz_conf_get(&c, "CAPS_DROP");
	const char *procs = vz_conf_get(&c, "CGROUP_PROCS");
	if (pid && start) {
		rt->init_pid = (pid_t)atoi(pid);
		rt->start = strtoull(start, NULL, 10);
		rt->caps_drop = caps ? strtoull(caps, NULL, 16) : 0;
		rt->procs = vz_strv_split(procs ? procs : "", " ");
	}
	vz_conf_free(&c);
	if (rt->init_pid <= 0 ||
	    vz_proc_starttime(rt->init_pid) != rt->start) {
		vz_ct_runtime_free(rt);
		return 0;
	}
	return 1;
}

void vz_ct_runtime_free(struct vz_ct_runtime *rt)
{
	vz_strv_free(rt->procs);
	memset(rt, 0, sizeof(*rt));
}

static char *runtime_text(const struct vz_ct_runtime *rt)
{
	_cleanup_free_ char *procs = vz_strv_join(rt->procs, " ");
	return xasprintf(
		"# runtime record of a running CT, written by vzctl start\n"
		"INIT_PID=%d\nINIT_START=%llu\nCAPS_DROP=%" PRIx64 "\n"
		"CGROUP_PROCS=\"%s\"\n",
		(int)rt->init_pid, rt->start, rt->caps_drop, procs);
}

int vz_ct_runtime_save(const struct vz_ct *ct, const struct vz_ct_runtime *rt,
		       struct vz_error *err)
{
	_cleanup_free_ char *path = runtime_path(ct);
	_cleanup_free_ char *text = runtime_text(rt);
	return vz_write_file_replace(path, text, strlen(text), 0644, err);
}

char *vz_ct_runtime_stage(const struct vz_ct *ct, const struct vz_ct_runtime *rt,
			  struct vz_error *err)
{
	_cleanup_free_ char *path = runtime_path(ct);
	_cleanup_free_ char *text = runtime_text(rt);
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "write %s", tmp);
		if (fd >= 0)
			unlink(tmp);
		free(tmp);
		return NULL;
	}
	return tmp;
}

int vz_ct_runtime_commit(const char *staged, const struct vz_ct *ct,
			 struct vz_error *err)
{
	_cleanup_free_ char *path = runtime_path(ct);
	if (rename(staged, path) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "put %s in place", path);
	return 0;
}

void vz_ct_runtime_remove(const struct vz_ct *ct)
{
	_cleanup_free_ char *path = runtime_path(ct);
	unlink(path);
}

bool vz_ct_is_mounted(const struct vz_ct *ct)
{
	return vz_is_mountpoint(ct->root);
}

enum vz_ct_state vz_ct_state(const struct vz_ct *ct)
{
	if (!ct->exists)
		return VZ_CT_DELETED;
	struct vz_ct_runtime rt;
	if (vz_ct_runtime(ct, &rt)) {
		vz_ct_runtime_free(&rt);
		return VZ_CT_RUNNING;
	}
	_cleanup_free_ char *dump = xasprintf("%s/%s/dump.done", ct->dumpdir, ct->idstr);
	if (vz_path_exists(dump))
		return VZ_CT_SUSPENDED;
	return vz_ct_is_mounted(ct) ? VZ_CT_MOUNTED : VZ_CT_STOPPED;
}

char *vz_ct_status_line(const struct vz_ct *ct)
{
	enum vz_ct_state st = vz_ct_state(ct);
	bool mounted = st == VZ_CT_RUNNING || vz_ct_is_mounted(ct);
	const char *run = st == VZ_CT_RUNNING ? "running" :
			  st == VZ_CT_SUSPENDED ? "suspended" : "down";
	return xasprintf("CTID %s %s %s %s", ct->idstr,
			 ct->exists ? "exist" : "deleted",
			 mounted ? "mounted" : "unmounted", run);
}
