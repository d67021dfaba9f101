/* Container cgroups: the CT's group in every hierarchy of this host, found
 * in mountinfo -- v1 controllers, named v1 ("name=systemd") and the cgroup2
 * tree of a hybrid host, which systemd inside a CT needs too, or the one
 * cgroup2 tree of a v2 host.
 *
 * Groups are plain mkdir/rmdir.  libcgroup did this before; it was dropped
 * because start is measured against LXC: cgroup_init() + create took
 * 0.82 + 0.85 ms here (it parses the mount table once per controller),
 * against 0.26 ms for the same mkdirs, and it manages neither named v1
 * hierarchies nor the cgroup2 tree, which needed our own code anyway. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "error.h"
#include "log.h"
#include "util.h"

struct hier {
	char *mnt;         /* mount point */
	char *opts;        /* v1: "memory", "cpu,cpuacct", "name=systemd"; v2: "" */
	bool v2;
};

static struct hier *hiers;
static size_t n_hiers;
static bool scanned, unified_only;

/* One pass over mountinfo: every cgroup and cgroup2 mount of this mount
 * namespace, first mount of each hierarchy only. */
static void scan(void)
{
	if (scanned)
		return;
	scanned = true;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	bool any_v1 = false;
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], fstype[64], super[1024];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*d %*d %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		bool v2 = strcmp(fstype, "cgroup2") == 0;
		if (!v2 && strcmp(fstype, "cgroup") != 0)
			continue;
		/* keep only controller names from the super options */
		char **opts = vz_strv_split(super, ",");
		char **keep = xcalloc(1, sizeof(*keep));
		for (size_t i = 0; opts[i]; i++) {
			if (v2 || !strcmp(opts[i], "rw") || !strcmp(opts[i], "ro") ||
			    !strcmp(opts[i], "relatime") || vz_startswith(opts[i], "release_agent") ||
			    !strcmp(opts[i], "noprefix") || !strcmp(opts[i], "clone_children") ||
			    !strcmp(opts[i], "xattr") || !strcmp(opts[i], "cpuset_v2_mode"))
				continue;
			keep = vz_strv_push(keep, opts[i]);
		}
		char *o = vz_strv_join(keep, ",");
		vz_strv_free(opts);
		vz_strv_free(keep);
		bool dup = false;
		for (size_t i = 0; i < n_hiers; i++)
			if (hiers[i].v2 == v2 && strcmp(hiers[i].opts, o) == 0)
				dup = true;
		if (dup) {
			free(o);
			continue;
		}
		any_v1 |= !v2;
		hiers = xrealloc(hiers, (n_hiers + 1) * sizeof(*hiers));
		hiers[n_hiers++] = (struct hier){ xstrdup(mnt), o, v2 };
	}
	free(line);
	fclose(f);
	unified_only = !any_v1;
}

int vz_cg_init(struct vz_cgroup *cg, const char *parent, const char *ctid,
	       struct vz_error *err)
{
	scan();
	if (n_hiers == 0)
		return vz_fail(err, VZ_ENOSYS,
			       "no cgroup file system is mounted; mount cgroup2 on /sys/fs/cgroup");
	if (!parent || !*parent || strstr(parent, "..") || parent[0] == '/')
		return vz_fail(err, VZ_ECONFIG,
			       "CGROUP_PARENT \"%s\" must be a relative cgroup path without ..",
			       parent ? parent : "");
	cg->rel = xasprintf("%s/%s", parent, ctid);
	cg->unified = unified_only;
	return 0;
}

void vz_cg_free(struct vz_cgroup *cg)
{
	free(cg->rel);
	cg->rel = NULL;
}

static struct hier *hier_of(const char *controller)
{
	scan();
	for (size_t i = 0; i < n_hiers; i++) {
		struct hier *h = &hiers[i];
		if (unified_only && h->v2)
			return h;
		if (h->v2)
			continue;
		_cleanup_strv_ char **o = vz_strv_split(h->opts, ",");
		if (vz_strv_contains(o, controller))
			return h;
	}
	return NULL;
}

static bool v2_has(const char *controller)
{
	struct hier *h = hier_of(controller);
	if (!h || !h->v2)
		return false;
	_cleanup_free_ char *path = xasprintf("%s/cgroup.controllers", h->mnt);
	char *data;
	if (vz_read_file(path, &data, NULL, NULL) < 0)
		return false;
	char **v = vz_strv_split(data, " \n");
	bool r = vz_strv_contains(v, controller);
	vz_strv_free(v);
	free(data);
	return r;
}

bool vz_cg_has(const char *controller)
{
	struct hier *h = hier_of(controller);
	if (!h)
		return false;
	return h->v2 ? v2_has(controller) : true;
}

char *vz_cg_dir(const struct vz_cgroup *cg, const char *controller)
{
	if (!vz_cg_has(controller))
		return NULL;
	return xasprintf("%s/%s", hier_of(controller)->mnt, cg->rel);
}

/* cpuset groups start empty: copy cpus and mems down from the parent at
 * every level we made, or nothing can join them. */
static void cpuset_fill(const char *mnt, const char *rel)
{
	_cleanup_free_ char *p = xstrdup(rel);
	for (char *s = p;; s++) {
		bool end = *s == '\0';
		if (*s == '/' || end) {
			char save = *s;
			*s = '\0';
			static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
			for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
				_cleanup_free_ char *mine = xasprintf("%s/%s/%s", mnt, p, files[i]);
				_cleanup_free_ char *dir = xstrdup(mine);
				*strrchr(dir, '/') = '\0';
				char *slash = strrchr(dir, '/');
				*slash = '\0';
				_cleanup_free_ char *parent = xasprintf("%s/%s", dir, files[i]);
				char *cur = NULL, *up = NULL;
				if (vz_read_file(mine, &cur, NULL, NULL) == 0 &&
				    vz_strstrip(cur)[0] == '\0' &&
				    vz_read_file(parent, &up, NULL, NULL) == 0)
					vz_write_string(mine, vz_strstrip(up), NULL);
				free(cur);
				free(up);
			}
			*s = save;
		}
		if (end)
			break;
	}
}

/* A new cpuset group starts with no CPUs and no memory nodes, so nothing
 * could join it.  The parent of the CTs gets them once, when it is made,
 * and clone_children, so each CT's group inherits them at mkdir: reading
 * and writing cpuset files at every start would wait on the cpuset lock. */
static void cpuset_parent(const char *mnt, const char *rel)
{
	_cleanup_free_ char *parent = xstrdup(rel);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return;
	*slash = '\0';
	_cleanup_free_ char *dir = xasprintf("%s/%s", mnt, parent);
	if (access(dir, F_OK) == 0)
		return;
	if (vz_mkdir_p(dir, 0755, NULL) < 0)
		return;
	cpuset_fill(mnt, parent);
	_cleanup_free_ char *cc = xasprintf("%s/cgroup.clone_children", dir);
	vz_write_string(cc, "1", NULL);
}

/* cgroup v2: the controllers must be enabled in every ancestor's
 * subtree_control for the CT's group to have them. */
static int v2_enable(const char *mnt, const char *rel, struct vz_error *err)
{
	_cleanup_free_ char *avail_path = xasprintf("%s/cgroup.controllers", mnt);
	char *avail;
	if (vz_read_file(avail_path, &avail, NULL, err) < 0)
		return -1;
	_cleanup_strv_ char **names = vz_strv_split(avail, " \n");
	free(avail);
	_cleanup_free_ char *want = NULL;
	for (size_t i = 0; names[i]; i++) {
		char *w = xasprintf("%s%s+%s", want ? want : "", want ? " " : "", names[i]);
		free(want);
		want = w;
	}
	if (!want)
		return 0;
	_cleanup_free_ char *p = xstrdup(rel);
	char *slash = p;
	_cleanup_free_ char *dir = xstrdup(mnt);
	for (;;) {
		_cleanup_free_ char *sc = xasprintf("%s/cgroup.subtree_control", dir);
		/* best effort per controller: some cannot be enabled (threaded) */
		_cleanup_strv_ char **each = vz_strv_split(want, " ");
		for (size_t i = 0; each[i]; i++)
			vz_write_string(sc, each[i], NULL);
		slash = strchr(slash, '/');
		if (!slash)
			break;
		*slash = '\0';
		free(dir);
		dir = xasprintf("%s/%s", mnt, p);
		*slash++ = '/';
	}
	return 0;
}

/* The CT's group in one hierarchy; *dir is its path (caller frees). */
static int make_group(const struct hier *h, const struct vz_cgroup *cg,
		      char **dir, struct vz_error *err)
{
	if (!h->v2 && strstr(h->opts, "cpuset"))
		cpuset_parent(h->mnt, cg->rel);
	*dir = xasprintf("%s/%s", h->mnt, cg->rel);
	if (mkdir(*dir, 0755) < 0 && errno != EEXIST &&
	    vz_mkdir_p(*dir, 0755, err) < 0)
		return vz_prefix(err, "create cgroup");
	/* Only now: enabling a controller in CGROUP_PARENT's
	 * subtree_control needs CGROUP_PARENT to exist. */
	if (h->v2 && unified_only && v2_enable(h->mnt, cg->rel, err) < 0)
		return vz_prefix(err, "enable cgroup v2 controllers");
	return 0;
}

static int create(const struct vz_cgroup *cg, bool v2_too, struct vz_error *err)
{
	scan();
	for (size_t i = 0; i < n_hiers; i++) {
		if (hiers[i].v2 && !v2_too)
			continue;
		_cleanup_free_ char *dir = NULL;
		if (make_group(&hiers[i], cg, &dir, err) < 0)
			return -1;
	}
	return 0;
}

int vz_cg_create(const struct vz_cgroup *cg, struct vz_error *err)
{
	return create(cg, true, err);
}

int vz_cg_create_v1(const struct vz_cgroup *cg, struct vz_error *err)
{
	return create(cg, false, err);
}

/* Removes dir and everything below it, deepest first.  Only directories:
 * the kernel refuses to remove a group that still has processes. */
static int rmdir_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	struct dirent *de;
	int ret = 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
		if (rmdir_tree(sub) < 0)
			ret = -1;
	}
	closedir(d);
	for (int i = 0; i < 50; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return ret;
		if (errno != EBUSY)
			return -1;
		usleep(2000);  /* the last task may still be exiting */
	}
	return -1;
}

int vz_cg_destroy(const struct vz_cgroup *cg, struct vz_error *err)
{
	scan();
	/* sub-groups made inside the CT (systemd) first: depth-first */
	for (size_t i = 0; i < n_hiers; i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", hiers[i].mnt, cg->rel);
		if (rmdir_tree(dir) < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "remove cgroup %s", dir);
	}
	return 0;
}

int vz_cg_attach_v2(const struct vz_cgroup *cg, pid_t pid, struct vz_error *err)
{
	scan();
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < n_hiers; i++) {
		if (!hiers[i].v2)
			continue;
		_cleanup_free_ char *procs =
			xasprintf("%s/%s/cgroup.procs", hiers[i].mnt, cg->rel);
		if (vz_write_string(procs, buf, err) < 0)
			return vz_prefix(err, "join cgroup");
	}
	return 0;
}

int vz_cg_open_v2(const struct vz_cgroup *cg, int *fd, struct vz_error *err)
{
	scan();
	*fd = -1;
	for (size_t i = 0; i < n_hiers; i++) {
		if (!hiers[i].v2)
			continue;
		_cleanup_free_ char *dir = NULL;
		if (make_group(&hiers[i], cg, &dir, err) < 0)
			return -1;
		*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*fd < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "open cgroup %s", dir);
		return 0;
	}
	return 0;
}

int vz_cg_roots_open(struct vz_cg_roots *r, struct vz_error *err)
{
	scan();
	memset(r, 0, sizeof(*r));
	r->fd = xcalloc(n_hiers ? n_hiers : 1, sizeof(*r->fd));
	r->cpuset = xcalloc(n_hiers ? n_hiers : 1, sizeof(*r->cpuset));
	for (size_t i = 0; i < n_hiers; i++) {
		if (hiers[i].v2)
			continue;
		int fd = open(hiers[i].mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "open %s", hiers[i].mnt);
		r->cpuset[r->n] = strstr(hiers[i].opts, "cpuset") != NULL;
		r->fd[r->n++] = fd;
	}
	return 0;
}

int vz_cg_join_v1(const struct vz_cgroup *cg, const struct vz_cg_roots *r,
		  struct vz_error *err)
{
	for (size_t i = 0; i < r->n; i++) {
		/* reachable through the fd whatever our root is now */
		char base[64];
		snprintf(base, sizeof(base), "/proc/self/fd/%d", r->fd[i]);
		_cleanup_free_ char *tasks = xasprintf("%s/%s/tasks", base, cg->rel);
		if (vz_write_string(tasks, "0", err) == 0)
			continue;
		/* a parent made without clone_children: empty cpuset */
		if (err && err->errnum == ENOSPC && r->cpuset[i]) {
			cpuset_fill(base, cg->rel);
			if (vz_write_string(tasks, "0", err) == 0)
				continue;
		}
		return vz_prefix(err, "join cgroup %s", cg->rel);
	}
	return 0;
}

char *vz_cg_join_file(const char *procs, bool *v2)
{
	scan();
	/* the innermost cgroup mount the file is under */
	const struct hier *h = NULL;
	size_t len = 0;
	for (size_t i = 0; i < n_hiers; i++) {
		size_t l = strlen(hiers[i].mnt);
		if (l > len && strncmp(procs, hiers[i].mnt, l) == 0 && procs[l] == '/') {
			h = &hiers[i];
			len = l;
		}
	}
	_cleanup_free_ char *dir = xstrdup(procs);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	char *tasks = xasprintf("%s/tasks", dir);
	*v2 = h ? h->v2 : access(tasks, F_OK) < 0;
	if (!*v2)
		return tasks;
	free(tasks);
	return xstrdup(procs);
}

/* Path of a knob of the CT's group: "<dir>/<file>". */
static char *knob_path(const struct vz_cgroup *cg, const char *controller,
		       const char *file, struct vz_error *err)
{
	_cleanup_free_ char *dir = vz_cg_dir(cg, controller);
	if (!dir) {
		vz_fail(err, VZ_ENOSYS,
			"the %s cgroup controller is not available on this host",
			controller);
		return NULL;
	}
	return xasprintf("%s/%s", dir, file);
}

int vz_cg_set(const struct vz_cgroup *cg, const char *controller,
	      const char *file, const char *value, struct vz_error *err)
{
	_cleanup_free_ char *path = knob_path(cg, controller, file, err);
	return path ? vz_write_string(path, value, err) : -1;
}

int vz_cg_get(const struct vz_cgroup *cg, const char *controller,
	      const char *file, char **value, struct vz_error *err)
{
	_cleanup_free_ char *path = knob_path(cg, controller, file, err);
	if (!path || vz_read_file(path, value, NULL, err) < 0)
		return -1;
	vz_strstrip(*value);
	return 0;
}

static void collect(const char *dir, pid_t **pids, size_t *n)
{
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
	char *data;
	if (vz_read_file(procs, &data, NULL, NULL) == 0) {
		for (char *s = data, *e; *s; s = e) {
			long v = strtol(s, &e, 10);
			if (e == s)
				break;
			*pids = xrealloc(*pids, (*n + 1) * sizeof(**pids));
			(*pids)[(*n)++] = (pid_t)v;
		}
		free(data);
	}
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
		collect(sub, pids, n);
	}
	closedir(d);
}

int vz_cg_pids(const struct vz_cgroup *cg, pid_t **pids, size_t *n,
	       struct vz_error *err)
{
	*pids = NULL;
	*n = 0;
	/* the pids (or freezer) hierarchy holds every task of the CT */
	const char *ctl = vz_cg_has("pids") ? "pids" :
			  vz_cg_has("freezer") ? "freezer" : "memory";
	_cleanup_free_ char *dir = vz_cg_dir(cg, ctl);
	if (!dir && unified_only)
		dir = xasprintf("%s/%s", hiers[0].mnt, cg->rel);
	if (!dir)
		return vz_fail(err, VZ_ENOSYS, "no cgroup hierarchy to find the CT's processes in");
	collect(dir, pids, n);
	return 0;
}

static int wait_state(const char *path, const char *want, struct vz_error *err)
{
	for (int i = 0; i < 5000; i++) {
		char *cur;
		if (vz_read_file(path, &cur, NULL, err) < 0)
			return -1;
		bool done = strcmp(vz_strstrip(cur), want) == 0;
		free(cur);
		if (done)
			return 0;
		usleep(1000);
	}
	return vz_fail(err, VZ_ESYSTEM, "%s did not become %s in 5 s", path, want);
}

int vz_cg_freeze(const struct vz_cgroup *cg, bool frozen, struct vz_error *err)
{
	if (unified_only) {
		_cleanup_free_ char *dir = vz_cg_dir(cg, "memory");
		if (!dir)
			dir = xasprintf("%s/%s", hiers[0].mnt, cg->rel);
		_cleanup_free_ char *f = xasprintf("%s/cgroup.freeze", dir);
		if (vz_write_string(f, frozen ? "1" : "0", err) < 0)
			return -1;
		_cleanup_free_ char *ev = xasprintf("%s/cgroup.events", dir);
		for (int i = 0; i < 5000; i++) {
			char *data;
			if (vz_read_file(ev, &data, NULL, err) < 0)
				return -1;
			bool done = strstr(data, frozen ? "frozen 1" : "frozen 0") != NULL;
			free(data);
			if (done)
				return 0;
			usleep(1000);
		}
		return vz_fail(err, VZ_ESYSTEM, "freezing %s timed out", dir);
	}
	_cleanup_free_ char *dir = vz_cg_dir(cg, "freezer");
	if (!dir)
		return vz_fail(err, VZ_ENOSYS, "the freezer cgroup controller is not mounted");
	_cleanup_free_ char *f = xasprintf("%s/freezer.state", dir);
	if (vz_write_string(f, frozen ? "FROZEN" : "THAWED", err) < 0)
		return -1;
	return wait_state(f, frozen ? "FROZEN" : "THAWED", err);
}

char **vz_cg_procs_files(const struct vz_cgroup *cg)
{
	scan();
	char **v = xcalloc(1, sizeof(*v));
	for (size_t i = 0; i < n_hiers; i++) {
		_cleanup_free_ char *p =
			xasprintf("%s/%s/cgroup.procs", hiers[i].mnt, cg->rel);
		v = vz_strv_push(v, p);
	}
	return v;
}

char **vz_cg_hierarchies(bool *v2)
{
	scan();
	*v2 = unified_only;
	char **v = xcalloc(1, sizeof(*v));
	for (size_t i = 0; i < n_hiers; i++)
		if (!hiers[i].v2 || unified_only)
			v = vz_strv_push(v, hiers[i].opts);
	return v;
}
