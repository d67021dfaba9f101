/* vzctl suspend / resume: a container's checkpoint with CRIU.
 *
 * Suspend freezes the CT's freezer cgroup, dumps its tree (init and every
 * descendant) into the dump directory, lets criu kill it, then releases the
 * CT's cgroups and runtime record; the root stays mounted.  The CT is
 * "suspended" while DUMPDIR/CTID/dump.done exists: it names the dump
 * directory (DUMPDIR/CTID itself, or the --dumpfile directory).
 *
 * Resume recreates the cgroups with the CT's settings, mounts the root if
 * needed, restores the tree into them (criu --cgroup-root per controller)
 * and writes the runtime record from criu's pidfile, as start does.  A dump
 * that criu refuses leaves the CT running and thawed; a restore that fails
 * keeps the dump and the CT suspended. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"
#include "ct.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#define DUMP_MARKER "dump.done"
/* Written last into a complete dump: what it is and where from. */
#define DUMP_INFO "vz-dump.conf"

static void append(struct vz_error *err, const char *text)
{
	size_t l = strlen(err->msg);
	snprintf(err->msg + l, sizeof(err->msg) - l, "%s", text);
}

static char *default_dir(const struct vz_ct *ct)
{
	return xasprintf("%s/%s", ct->dumpdir, ct->idstr);
}

static char *marker_path(const struct vz_ct *ct)
{
	return xasprintf("%s/%s/%s", ct->dumpdir, ct->idstr, DUMP_MARKER);
}

char *vz_ct_dump_dir(const struct vz_ct *ct)
{
	_cleanup_free_ char *m = marker_path(ct);
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct vz_error ignore;
	if (vz_read_file(m, &text, &len, &ignore) == 0) {
		char *p = strstr(text, "DUMP=\"");
		if (p) {
			p += 6;
			char *q = strchr(p, '"');
			if (q && q > p)
				return xstrndup(p, (size_t)(q - p));
		}
	}
	return default_dir(ct);
}

/* Removes DUMPDIR/.CTID.consumed.* left by resumes (see below). */
static void remove_consumed(const struct vz_ct *ct)
{
	DIR *d = opendir(ct->dumpdir);
	if (!d)
		return;
	_cleanup_free_ char *prefix = xasprintf(".%s.consumed.", ct->idstr);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!vz_startswith(de->d_name, prefix))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", ct->dumpdir, de->d_name);
		struct vz_error ignore;
		vz_rm_rf(p, &ignore);
	}
	closedir(d);
}

int vz_ct_dump_discard(struct vz_ct *ct, struct vz_error *err)
{
	_cleanup_free_ char *dir = default_dir(ct);
	remove_consumed(ct);
	if (!vz_path_exists(dir))
		return 0;
	if (vz_rm_rf(dir, err) < 0)
		return vz_prefix(err, "discard the dump of CT %s", ct->idstr);
	vz_info("CT %s: dump %s discarded", ct->idstr, dir);
	return 0;
}

/* A resumed CT's dump is used up.  Unlinking hundreds of MB of images
 * takes as long as the restore itself (page cache and extents to free),
 * and the CT is running already: the directory is renamed out of the way
 * at once and removed by a detached, idle-priority process. */
static void discard_consumed(struct vz_ct *ct)
{
	_cleanup_free_ char *dir = default_dir(ct);
	if (!vz_path_exists(dir))
		return;
	_cleanup_free_ char *gone = xasprintf("%s/.%s.consumed.%d", ct->dumpdir,
					      ct->idstr, (int)getpid());
	struct vz_error e2;
	if (rename(dir, gone) < 0) {
		if (vz_ct_dump_discard(ct, &e2) < 0)
			vz_warn("%s", e2.msg);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		if (fork() != 0)
			_exit(0);
		vz_close_fds_from(0);
		int ignored = nice(19);  /* best effort */
		(void)ignored;
		vz_rm_rf(gone, &e2);
		_exit(0);
	}
	if (pid < 0) {
		vz_rm_rf(gone, &e2);
		return;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static char *freezer_dir(const struct vz_ct *ct)
{
	char *d = vz_cg_dir(&ct->cg, "freezer");
	if (!d && ct->cg.unified)
		d = vz_cg_dir(&ct->cg, "memory");
	return d;
}

/* Empty, or absent (then created). */
static int prepare_dir(const char *dir, bool wipe, struct vz_error *err)
{
	if (wipe && vz_path_exists(dir) && vz_rm_rf(dir, err) < 0)
		return -1;
	if (vz_mkdir_p(dir, 0700, err) < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", dir);
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty)
		return vz_fail(err, VZ_EEXIST,
			       "%s is not empty; give a new directory for the dump",
			       dir);
	return 0;
}

/* After a failed dump: drop the partial images (they can be large), keep
 * criu's logs for the message that points at them. */
static void drop_partial_images(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		size_t l = strlen(n);
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if ((l > 4 && !strcmp(n + l - 4, ".log")) ||
		    (l > 4 && !strcmp(n + l - 4, ".out")))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, n);
		if (de->d_type == DT_DIR) {
			struct vz_error ignore;
			vz_rm_rf(p, &ignore);
		} else {
			unlink(p);
		}
	}
	closedir(d);
}

static char *absolute(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

/* Kills whatever is still in the CT's cgroups (vzctl exec sessions are
 * not part of init's tree, so criu neither dumps nor kills them). */
static int kill_leftovers(const struct vz_ct *ct, struct vz_error *err)
{
	uint64_t end = vz_now_ns() + 10ULL * 1000000000ULL;
	for (;;) {
		pid_t *pids;
		size_t n;
		if (vz_cg_pids(&ct->cg, &pids, &n, err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
		if (n == 0)
			return 0;
		if (vz_now_ns() > end)
			return vz_fail(err, VZ_ESYSTEM,
				       "processes remain in the cgroup of CT %s after 10 s",
				       ct->idstr);
		usleep(1000);
	}
}

static int criu_log_level(void)
{
	return vz_log_verbosity() >= VZ_LOG_DEBUG ? 4 : 2;
}

static int external_mounts(pid_t init, char ***ct_paths, char ***host_paths,
			   struct vz_error *err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/mountinfo", (int)init);
	_cleanup_free_ char *ct_mi = NULL, *host_mi = NULL;
	size_t len;
	if (vz_read_file(path, &ct_mi, &len, err) < 0 ||
	    vz_read_file("/proc/self/mountinfo", &host_mi, &len, err) < 0)
		return -1;
	if (vz_criu_external_mounts(ct_mi, host_mi, ct_paths, host_paths, err) < 0)
		return -1;
	for (size_t i = 0; *ct_paths && (*ct_paths)[i]; i++)
		if (strpbrk((*ct_paths)[i], "\"\n\\$`") || strpbrk((*host_paths)[i], "\"\n\\$`"))
			return vz_fail(err, VZ_ENOSYS,
				       "the CT's mount %s has a name vz cannot record",
				       (*ct_paths)[i]);
	return 0;
}

/* Values KEY="V" of a vz-dump.conf, in file order, for keys with prefix. */
static char **info_values(const char *text, const char *prefix, const char *suffix)
{
	char **v = NULL;
	_cleanup_strv_ char **lines = vz_strv_split(text, "\n");
	for (size_t i = 0; lines && lines[i]; i++) {
		char *eq = strchr(lines[i], '=');
		if (!eq || !vz_startswith(lines[i], prefix))
			continue;
		*eq = '\0';
		size_t kl = strlen(lines[i]), sl = strlen(suffix);
		if (kl < sl || strcmp(lines[i] + kl - sl, suffix) ||
		    (!sl && kl != strlen(prefix)))
			continue;
		char *val = eq + 1;
		size_t vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		v = vz_strv_push(v, val);
	}
	return v;
}

/* --- network devices at resume ---
 *
 * The CT's devices are made by the net room's own start code, so the host
 * side (host end, routes, proxy ARP, bridge) is in place before the CT
 * runs: vz_ct_net_start plugs them into a throw-away network namespace,
 * each CT end then moves to the host namespace under a temporary name,
 * and criu moves it into the restored CT (--external netdev[IF]:TMP),
 * giving it back its name, MAC and ifindex; addresses and routes inside
 * come from the dump. */

struct net_helper {
	pid_t pid;      /* sits in its own netns until hold is closed */
	int hold;
};

static void net_helper_end(struct net_helper *h)
{
	if (h->hold >= 0)
		close(h->hold);
	h->hold = -1;
	if (h->pid > 0)
		while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
			;
	h->pid = 0;
}

static int net_helper_start(struct net_helper *h, struct vz_error *err)
{
	int hold[2], ready[2];
	h->pid = 0;
	h->hold = -1;
	if (pipe2(hold, O_CLOEXEC) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "pipe");
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(hold[0]);
		close(hold[1]);
		return vz_fail_errno(err, VZ_ESYSTEM, "pipe");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(hold[0]); close(hold[1]); close(ready[0]); close(ready[1]);
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	}
	if (pid == 0) {
		close(hold[1]);
		close(ready[0]);
		char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || c != 'y')
			_exit(1);
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(hold[0]);
	close(ready[1]);
	h->pid = pid;
	h->hold = hold[1];
	char c = 'n';
	ssize_t n = read(ready[0], &c, 1);
	close(ready[0]);
	if (n != 1 || c != 'y') {
		net_helper_end(h);
		return vz_fail(err, VZ_ENOSYS, "cannot create a network namespace");
	}
	return 0;
}

/* In the helper's netns: renames each device and moves it to the host's
 * netns.  Runs in a child (setns is per thread, vzctl stays put). */
static int move_to_host(pid_t helper, char **names, char **tmps,
			struct vz_error *err)
{
	int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open /proc/self/ns/net");
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(host);
		return vz_fail_errno(err, VZ_ESYSTEM, "pipe");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(ep[0]);
		char msg[512] = "";
		_cleanup_free_ char *nsp = xasprintf("/proc/%d/ns/net", (int)helper);
		int ns = open(nsp, O_RDONLY | O_CLOEXEC);
		struct nl_sock *sk = NULL;
		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
			snprintf(msg, sizeof(msg), "enter the staging netns: %s", strerror(errno));
			goto fail;
		}
		sk = nl_socket_alloc();
		if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
			snprintf(msg, sizeof(msg), "netlink socket");
			goto fail;
		}
		for (size_t i = 0; names[i]; i++) {
			struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
			int r = rtnl_link_get_kernel(sk, 0, names[i], &link);
			if (r >= 0) {
				rtnl_link_set_name(change, tmps[i]);
				rtnl_link_set_ns_fd(change, host);
				r = rtnl_link_change(sk, link, change, 0);
			}
			rtnl_link_put(change);
			if (link)
				rtnl_link_put(link);
			if (r < 0) {
				snprintf(msg, sizeof(msg), "move %s to the host as %s: %s",
					 names[i], tmps[i], nl_geterror(r));
				goto fail;
			}
		}
		nl_socket_free(sk);
		_exit(0);
fail:
		if (sk)
			nl_socket_free(sk);
		if (write(ep[1], msg, strlen(msg)) < 0)
			_exit(2);
		_exit(1);
	}
	close(ep[1]);
	close(host);
	if (pid < 0) {
		close(ep[0]);
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char msg[512];
	ssize_t n = read(ep[0], msg, sizeof(msg) - 1);
	close(ep[0]);
	if (n > 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		msg[n > 0 ? n : 0] = '\0';
		return vz_fail(err, VZ_ESYSTEM, "network devices: %s",
			       n > 0 ? msg : "helper failed");
	}
	return 0;
}

/* Plugs the CT's network in for a restore; *ext gets the criu arguments.
 * Nothing to do for a CT without IP_ADDRESS or NETIF. */
static int net_prepare(const struct vz_ct *ct, char ***ext, struct vz_error *err)
{
	struct vz_net_conf nc;
	if (vz_ct_net_conf(ct, &nc, err) < 0)
		return -1;
	_cleanup_strv_ char **names = NULL, **tmps = NULL;
	if (nc.ips.n > 0)
		names = vz_strv_push(names, "venet0");
	for (size_t i = 0; i < nc.netifs.n; i++)
		names = vz_strv_push(names, nc.netifs.v[i].ifname);
	vz_net_conf_free(&nc);
	if (!names)
		return 0;
	for (size_t i = 0; names[i]; i++) {
		char t[VZ_IFNAMSIZ];
		snprintf(t, sizeof(t), "vzr%x.%zu", ct->id, i);
		tmps = vz_strv_push(tmps, t);
	}
	struct net_helper h;
	if (net_helper_start(&h, err) < 0)
		return -1;
	int r = vz_ct_net_start(ct, h.pid, err);
	if (r == 0 && (r = move_to_host(h.pid, names, tmps, err)) < 0) {
		struct vz_error e2;
		vz_ct_net_stop(ct, &e2);
	}
	net_helper_end(&h);
	if (r < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *arg = xasprintf("netdev[%s]:%s", names[i], tmps[i]);
		*ext = vz_strv_push(*ext, arg);
	}
	return 0;
}

/* Everything of a suspend after criu was found. */
static int suspend_with(struct vz_ct *ct, const struct vz_suspend_opts *o,
			const struct vz_criu *c, pid_t init,
			struct vz_cpt_report *rep, struct vz_error *err)
{
	bool own_dir = !o->dumpfile;
	_cleanup_free_ char *dir = own_dir ? default_dir(ct) : absolute(o->dumpfile);
	_cleanup_free_ char *freezer = freezer_dir(ct);
	if (prepare_dir(dir, own_dir, err) < 0)
		return -1;
	rep->dir = xstrdup(dir);
	if (!freezer)
		return vz_fail(err, VZ_ENOSYS,
			       "no freezer cgroup (cgroup v1 freezer or v2) on this host");
	/* Host mounts bound into the CT are saved as references. */
	_cleanup_strv_ char **ct_paths = NULL, **host_paths = NULL, **ext = NULL;
	_cleanup_free_ char *ext_info = xstrdup("");
	if (external_mounts(init, &ct_paths, &host_paths, err) < 0)
		return -1;
	for (size_t i = 0; ct_paths && ct_paths[i]; i++) {
		_cleanup_free_ char *arg = xasprintf("mnt[%s]:vzmnt%zu", ct_paths[i], i);
		ext = vz_strv_push(ext, arg);
		char *more = xasprintf("%sEXT_MNT%zu_CT=\"%s\"\nEXT_MNT%zu_HOST=\"%s\"\n",
				       ext_info, i, ct_paths[i], i, host_paths[i]);
		free(ext_info);
		ext_info = more;
		vz_info("CT %s: %s is the host's %s (saved as a reference)", ct->idstr,
			ct_paths[i], host_paths[i]);
	}
	vz_info("CT %s: dumping to %s with %s %u.%u.%u", ct->idstr, dir, c->path,
		c->major, c->minor, c->sub);
	struct vz_criu_dump_opts d = {
		.pid = init, .dir = dir, .freeze_cgroup = freezer,
		.leave_running = o->leave_running, .tcp_established = true,
		.file_locks = true, .log_level = criu_log_level(), .external = ext,
	};
	if (vz_criu_checkpoint(c, &d, &rep->t, err) < 0) {
		drop_partial_images(dir);
		append(err, "; the CT keeps running");
		return -1;
	}
	struct vz_error e2;
	if (vz_criu_read_stats(dir, &rep->st, &e2) < 0)
		vz_warn("%s", e2.msg);
	_cleanup_free_ char *info = xasprintf(
		"# a vz container dump, written by vzctl suspend\n"
		"CTID=\"%s\"\nVE_ROOT=\"%s\"\nCGROUP=\"%s\"\nCRIU_VERSION=\"%u.%u.%u\"\n%s",
		ct->idstr, ct->root, ct->cg.rel, c->major, c->minor, c->sub, ext_info);
	_cleanup_free_ char *info_path = xasprintf("%s/%s", dir, DUMP_INFO);
	if (vz_write_file_atomic(info_path, info, strlen(info), 0600, err) < 0)
		return -1;
	if (o->leave_running)
		return 0;
	/* The tree is gone: release what it held. */
	if (kill_leftovers(ct, err) < 0)
		return -1;
	vz_ct_runtime_remove(ct);
	if (vz_cg_destroy(&ct->cg, err) < 0)
		return vz_prefix(err, "release its cgroups");
	/* its devices went with its netns; routes, proxy ARP and the record
	 * stay with the host until taken down */
	struct vz_error en;
	if (vz_ct_net_stop(ct, &en) < 0)
		vz_warn("CT %s: %s", ct->idstr, en.msg);
	_cleanup_free_ char *mdir = default_dir(ct);
	_cleanup_free_ char *marker = marker_path(ct);
	_cleanup_free_ char *mtext = xasprintf("DUMP=\"%s\"\n", dir);
	if (vz_mkdir_p(mdir, 0700, err) < 0 ||
	    vz_write_file_atomic(marker, mtext, strlen(mtext), 0600, err) < 0)
		return -1;
	return 0;
}

int vz_ct_suspend(struct vz_ct *ct, const struct vz_suspend_opts *o,
		  struct vz_cpt_report *rep, struct vz_error *err)
{
	memset(rep, 0, sizeof(*rep));
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	struct vz_ct_runtime rt;
	if (!vz_ct_runtime(ct, &rt)) {
		enum vz_ct_state st = vz_ct_state(ct);
		return vz_fail(err, VZ_ESTATE, "CT %s is %s, not running",
			       ct->idstr, st == VZ_CT_SUSPENDED ? "already suspended" : "stopped");
	}
	pid_t init = rt.init_pid;
	vz_ct_runtime_free(&rt);
	struct vz_criu c;
	if (vz_criu_find(&c, err) < 0)
		return vz_prefix(err, "suspend CT %s", ct->idstr);
	/* Dying half-way would leave the CT frozen or without its record:
	 * ^C and TERM wait until the suspend is over. */
	sigset_t old;
	vz_criu_block_signals(&old);
	int r = suspend_with(ct, o, &c, init, rep, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	vz_criu_free(&c);
	if (r < 0)
		return vz_prefix(err, "suspend CT %s", ct->idstr);
	return 0;
}

static int resume_body(struct vz_ct *ct, const struct vz_resume_opts *o,
		       struct vz_cpt_report *rep, struct vz_error *err);

int vz_ct_resume(struct vz_ct *ct, const struct vz_resume_opts *o,
		 struct vz_cpt_report *rep, struct vz_error *err)
{
	/* Dying between the restore and the runtime record would leave a
	 * running CT that looks suspended: signals wait. */
	sigset_t old;
	vz_criu_block_signals(&old);
	int r = resume_body(ct, o, rep, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int resume_body(struct vz_ct *ct, const struct vz_resume_opts *o,
		       struct vz_cpt_report *rep, struct vz_error *err)
{
	memset(rep, 0, sizeof(*rep));
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	enum vz_ct_state st = vz_ct_state(ct);
	if (st == VZ_CT_RUNNING)
		return vz_fail(err, VZ_ESTATE, "CT %s is running", ct->idstr);
	if (st != VZ_CT_SUSPENDED && !o->dumpfile)
		return vz_fail(err, VZ_ESTATE,
			       "CT %s is not suspended (no dump in %s/%s); give --dumpfile or start it",
			       ct->idstr, ct->dumpdir, ct->idstr);
	_cleanup_free_ char *dir = o->dumpfile ? absolute(o->dumpfile) : vz_ct_dump_dir(ct);
	_cleanup_free_ char *info = xasprintf("%s/%s", dir, DUMP_INFO);
	if (!vz_path_exists(info))
		return vz_fail(err, VZ_ENOENT,
			       "resume CT %s: %s holds no complete dump (no %s)",
			       ct->idstr, dir, DUMP_INFO);
	rep->dir = xstrdup(dir);
	/* Host mounts the CT had bound in must be there again. */
	_cleanup_free_ char *info_text = NULL;
	size_t info_len;
	if (vz_read_file(info, &info_text, &info_len, err) < 0)
		return vz_prefix(err, "resume CT %s", ct->idstr);
	/* Another CT's processes would wake up in this CT's files. */
	_cleanup_strv_ char **of = info_values(info_text, "CTID", "");
	if (!of || !vz_streq(of[0], ct->idstr))
		return vz_fail(err, VZ_EUSAGE,
			       "resume CT %s: the dump in %s is of CT %s",
			       ct->idstr, dir, of ? of[0] : "(unknown)");
	_cleanup_strv_ char **ext_ct = info_values(info_text, "EXT_MNT", "_CT");
	_cleanup_strv_ char **ext_host = info_values(info_text, "EXT_MNT", "_HOST");
	_cleanup_strv_ char **ext = NULL;
	if (vz_strv_len(ext_ct) != vz_strv_len(ext_host))
		return vz_fail(err, VZ_ECORRUPT, "resume CT %s: %s is damaged (external mounts)",
			       ct->idstr, info);
	for (size_t i = 0; ext_host && ext_host[i]; i++)
		if (!vz_path_exists(ext_host[i]))
			return vz_fail(err, VZ_ENOENT,
				       "resume CT %s: %s, bound at %s inside the CT when it was dumped, is missing on this host",
				       ct->idstr, ext_host[i], ext_ct[i]);
	struct vz_criu c;
	if (vz_criu_find(&c, err) < 0)
		return vz_prefix(err, "resume CT %s", ct->idstr);

	int r = -1;
	bool mounted_here = false;
	_cleanup_free_ char *freezer = NULL;
	_cleanup_strv_ char **cg_roots = NULL;
	_cleanup_free_ char *pidfile = xasprintf("%s/restore.pid", dir);
	/* leftovers of an earlier run (cgroups of a CT that stopped) */
	if (vz_ct_cleanup_stopped(ct, false, err) < 0)
		goto fail;
	if (!vz_ct_is_mounted(ct)) {
		if (vz_ct_mount(ct, err) < 0)
			goto fail;
		mounted_here = true;
	}
	uint64_t caps_drop;
	if (vz_caps_drop_mask(ct, &caps_drop, err) < 0)
		goto fail;
	/* The same cgroups, with the same settings and limits, as vzctl
	 * start makes. */
	if (vz_ct_cgroups_prepare(ct, err) < 0)
		goto fail_cg;
	freezer = freezer_dir(ct);
	cg_roots = vz_criu_cgroup_roots(ct->cg.rel, ct->cg.unified);
	for (size_t i = 0; ext_host && ext_host[i]; i++) {
		_cleanup_free_ char *arg = xasprintf("mnt[vzmnt%zu]:%s", i, ext_host[i]);
		ext = vz_strv_push(ext, arg);
	}
	if (net_prepare(ct, &ext, err) < 0)
		goto fail_cg;
	struct vz_criu_restore_opts ro = {
		.dir = dir, .root = ct->root, .pidfile = pidfile,
		.cgroup_roots = cg_roots, .tcp_established = true,
		.file_locks = true, .log_level = criu_log_level(), .external = ext,
	};
	vz_info("CT %s: restoring from %s with %s", ct->idstr, dir, c.path);
	pid_t pid;
	if (vz_criu_restore(&c, &ro, freezer, &pid, &rep->t, err) < 0)
		goto fail_cg;
	struct vz_ct_runtime rt = {
		.init_pid = pid, .start = vz_proc_starttime(pid),
		.caps_drop = caps_drop, .procs = vz_cg_procs_files(&ct->cg),
	};
	int sr = vz_ct_runtime_save(ct, &rt, err);
	vz_ct_runtime_free(&rt);
	if (sr < 0)
		goto fail_cg;
	struct vz_error e2;
	if (vz_criu_read_stats(dir, &rep->st, &e2) < 0)
		vz_warn("%s", e2.msg);
	/* The dump is used up; a --dumpfile directory is the user's own. */
	discard_consumed(ct);
	vz_info("CT %s resumed (init pid %d)", ct->idstr, (int)pid);
	r = 0;
	goto out;

fail_cg: {
	struct vz_error e3;
	vz_ct_runtime_remove(ct);
	kill_leftovers(ct, &e3);
	vz_ct_net_stop(ct, &e3);
	vz_cg_destroy(&ct->cg, &e3);
	}
fail:
	if (mounted_here) {
		struct vz_error e3;
		vz_ct_umount(ct, &e3);
	}
	vz_prefix(err, "resume CT %s", ct->idstr);
	if (vz_ct_state(ct) == VZ_CT_SUSPENDED)
		append(err, "; the dump is kept, the CT stays suspended");
	else
		append(err, "; the dump is kept");
out:
	vz_criu_free(&c);
	return r;
}

void vz_cpt_report_free(struct vz_cpt_report *rep)
{
	free(rep->dir);
	rep->dir = NULL;
}

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

void vz_cpt_report_print(const struct vz_cpt_report *rep, const char *op,
			 bool json)
{
	const struct vz_criu_stats *st = &rep->st;
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	if (st->have_dump && vz_streq(op, "suspend")) {
		vz_info("freeze %.1f ms (vz, freezer cgroup), seize %.1f ms, frozen %.1f ms (criu)",
			ms(rep->t.freeze_ns), st->freezing_us / 1e3, st->frozen_us / 1e3);
		vz_info("dump %.1f ms in all: memory dump %.1f ms, memory written %.1f ms (%.1f MiB, %llu pages)",
			ms(rep->t.dump_ns), st->memdump_us / 1e3, st->memwrite_us / 1e3,
			st->pages_written * (double)page / 1048576.0,
			(unsigned long long)st->pages_written);
	}
	if (st->have_restore && vz_streq(op, "resume"))
		vz_info("restore %.1f ms in all: criu restore %.1f ms (forking %.1f ms, %llu pages)",
			ms(rep->t.restore_ns), st->restore_us / 1e3, st->forking_us / 1e3,
			(unsigned long long)st->pages_restored);
	if (!json)
		return;
	struct vz_json j;
	vz_json_init(&j, stdout, false);
	vz_json_begin_object(&j);
	vz_json_kv_string(&j, "op", op);
	vz_json_kv_string(&j, "dump_dir", rep->dir);
	if (vz_streq(op, "suspend")) {
		vz_json_kv_uint(&j, "freeze_us", rep->t.freeze_ns / 1000);
		vz_json_kv_uint(&j, "dump_us", rep->t.dump_ns / 1000);
		vz_json_kv_uint(&j, "thaw_us", rep->t.thaw_ns / 1000);
		struct vz_criu_stats d = *st;
		d.have_restore = false;
		vz_criu_stats_json(&j, &d);
	} else {
		vz_json_kv_uint(&j, "restore_us", rep->t.restore_ns / 1000);
		vz_json_kv_uint(&j, "thaw_us", rep->t.thaw_ns / 1000);
		struct vz_criu_stats r = *st;
		r.have_dump = false;
		vz_criu_stats_json(&j, &r);
	}
	vz_json_end_object(&j);
	vz_json_finish(&j);
}
