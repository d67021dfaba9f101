/* A container's network from its config: what start, stop, destroy and
 * `vzctl set` call.  What a start made is recorded in LOCKDIR/CTID.net, so a
 * stop removes it even when the config changed in between (a live --ipadd
 * without --save) or the CT died by itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "config.h"
#include "ct.h"
#include "error.h"
#include "log.h"
#include "net.h"
#include "util.h"

int vz_ct_net_conf(const struct vz_ct *ct, struct vz_net_conf *nc,
		   struct vz_error *err)
{
	return vz_net_conf_load(nc, ct->id, &ct->conf, &ct->global, err);
}

/* ---- the record of what is plugged in ---- */

static char *record_path(const struct vz_ct *ct)
{
	return xasprintf("%s/%s.net", ct->lockdir, ct->idstr);
}

static int record_save(const struct vz_ct *ct, const struct vz_net_conf *nc,
		       struct vz_error *err)
{
	_cleanup_free_ char *ips = vz_iplist_format(&nc->ips);
	char *links = xstrdup("");
	for (size_t i = 0; i < nc->netifs.n; i++) {
		char *n = xasprintf("%s%s%s", links, i ? " " : "",
				    nc->netifs.v[i].host_ifname);
		free(links);
		links = n;
	}
	_cleanup_free_ char *text = xasprintf("# network of CT %s as plugged in by vzctl\n"
					      "IP_ADDRESS=\"%s\"\nHOST_IFNAMES=\"%s\"\n",
					      ct->idstr, ips, links);
	free(links);
	_cleanup_free_ char *path = record_path(ct);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	if (vz_mkdir_p(ct->lockdir, 0755, err) < 0)
		return -1;
	/* runtime state: replaced atomically, but no fsync (after a crash
	 * of the host there is no network namespace left to clean) */
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "write %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Adds what the record names to nc.  False when there is no record. */
static bool record_merge(const struct vz_ct *ct, struct vz_net_conf *nc)
{
	_cleanup_free_ char *path = record_path(ct);
	struct vz_conf c;
	vz_conf_init(&c, path);
	if (vz_conf_load(&c, path, NULL) < 0) {
		vz_conf_free(&c);
		return false;
	}
	struct vz_iplist l;
	const char *v = vz_conf_get(&c, "IP_ADDRESS");
	if (v && vz_iplist_parse(v, &l, NULL) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (vz_iplist_find(&nc->ips, &l.v[i]) < 0)
				vz_iplist_add(&nc->ips, &l.v[i], NULL);
		vz_iplist_free(&l);
	}
	_cleanup_strv_ char **links = vz_strv_split(vz_conf_get(&c, "HOST_IFNAMES") ?: "", " ");
	for (size_t i = 0; links[i]; i++) {
		bool known = false;
		for (size_t j = 0; j < nc->netifs.n; j++)
			known |= !strcmp(nc->netifs.v[j].host_ifname, links[i]);
		if (known || vz_ifname_check(links[i], "name", NULL) < 0)
			continue;
		struct vz_netif n = { 0 };
		snprintf(n.ifname, sizeof(n.ifname), "gone%zu", i);
		snprintf(n.host_ifname, sizeof(n.host_ifname), "%s", links[i]);
		nc->netifs.v = xrealloc(nc->netifs.v, (nc->netifs.n + 1) * sizeof(n));
		nc->netifs.v[nc->netifs.n++] = n;
	}
	vz_conf_free(&c);
	return true;
}

/* ---- start / stop ---- */

int vz_ct_net_start(const struct vz_ct *ct, pid_t init_pid,
		    struct vz_error *err)
{
	uint64_t t0 = vz_now_ns();
	struct vz_net_conf nc;
	if (vz_ct_net_conf(ct, &nc, err) < 0)
		return vz_prefix(err, "start CT %s", ct->idstr);
	int rc = -1;
	int fd = -1;
	if (nc.ips.n == 0 && nc.netifs.n == 0) {
		/* nothing to plug in: the CT's own init brings up lo */
		vz_net_conf_free(&nc);
		return 0;
	}
	fd = vz_netns_open_pid(init_pid, err);
	if (fd < 0)
		goto out;
	for (size_t i = 0; i < nc.ips.n; i++) {
		unsigned other = vz_net_ip_owner(ct->confdir, ct->id, &nc.ips.v[i]);
		if (other) {
			char s[64];
			vz_ip_format_addr(&nc.ips.v[i], s, sizeof(s));
			/* only a running owner blocks: the kernel check below
			 * finds that one; a stopped one is worth a warning */
			vz_warn("CT %s: address %s is also configured for CT %u",
				ct->idstr, s, other);
		}
	}
	if (vz_net_start(&nc, fd, err) < 0)
		goto out;
	if (record_save(ct, &nc, err) < 0) {
		struct vz_error e2 = { 0 };
		vz_net_stop(&nc, &e2);
		goto out;
	}
	rc = 0;
	vz_debug("CT %s: network plugged in (%zu addresses, %zu interfaces) in %.2f ms",
		 ct->idstr, nc.ips.n, nc.netifs.n, (double)(vz_now_ns() - t0) / 1e6);
out:
	if (fd >= 0)
		close(fd);
	vz_net_conf_free(&nc);
	if (rc < 0)
		vz_prefix(err, "start CT %s", ct->idstr);
	return rc;
}

int vz_ct_net_stop(const struct vz_ct *ct, struct vz_error *err)
{
	/* Only what the record says this CT plugged in: the config may name
	 * an address or a host interface that another, running CT holds
	 * (a hand-edited config), and a stop of this one must not take it. */
	struct vz_net_conf nc = { .ctid = ct->id };
	if (!record_merge(ct, &nc))
		return 0;
	int rc = vz_net_stop(&nc, err);
	vz_net_conf_free(&nc);
	if (rc == 0) {
		_cleanup_free_ char *path = record_path(ct);
		unlink(path);
	}
	return rc;
}

/* ---- files inside ---- */

static const char *dists_dir(void)
{
	const char *d = getenv("VZ_DISTSDIR");
	return d && *d ? d : VZ_LIBEXECDIR "/dists";
}

/* The distro script for OSTEMPLATE: "debian-12-x86_64" -> dists/debian. */
static char *dist_script(const struct vz_ct *ct)
{
	const char *t = vz_ct_get(ct, "OSTEMPLATE");
	if (!t || !*t)
		return NULL;
	size_t n = strcspn(t, "-_.");
	_cleanup_free_ char *name = xstrndup(t, n);
	for (char *p = name; *p; p++)
		if (*p == '/')
			return NULL;
	char *path = xasprintf("%s/%s", dists_dir(), name);
	if (access(path, R_OK) == 0)
		return path;
	vz_debug("no network script for OSTEMPLATE %s (%s)", t, path);
	free(path);
	return NULL;
}

static int openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Runs the distro script on the host as a text filter: CT data in on
 * stdin, new text out; the script itself never touches the CT. */
static int run_filter(const char *script, char *const argv_tail[],
		      char *const env[], const char *in, char **out,
		      struct vz_error *err)
{
	int infd = memfd_create("vz-filter-in", MFD_CLOEXEC);
	int outfd = memfd_create("vz-filter-out", MFD_CLOEXEC);
	if (infd < 0 || outfd < 0) {
		if (infd >= 0)
			close(infd);
		return vz_fail_errno(err, VZ_ESYSTEM, "memfd_create");
	}
	size_t len = in ? strlen(in) : 0;
	if (len && write(infd, in, len) != (ssize_t)len) {
		close(infd);
		close(outfd);
		return vz_fail_errno(err, VZ_ESYSTEM, "write to %s", script);
	}
	lseek(infd, 0, SEEK_SET);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(infd);
		close(outfd);
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	}
	if (pid == 0) {
		dup2(infd, 0);
		dup2(outfd, 1);
		char *argv[8] = { "sh", (char *)script };
		for (size_t i = 0; argv_tail[i] && i < 5; i++)
			argv[2 + i] = argv_tail[i];
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	close(infd);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		close(outfd);
		return vz_fail(err, VZ_EFAIL, "%s %s failed (status %d)", script,
			       argv_tail[0], WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	}
	off_t size = lseek(outfd, 0, SEEK_END);
	char *buf = xmalloc((size_t)size + 1);
	ssize_t got = pread(outfd, buf, (size_t)size, 0);
	close(outfd);
	buf[got > 0 ? got : 0] = '\0';
	*out = buf;
	return 0;
}

static char **script_env(const struct vz_ct *ct, const struct vz_net_conf *nc)
{
	char **env = NULL;
	env = vz_strv_push(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	_cleanup_free_ char *veid = xasprintf("VEID=%s", ct->idstr);
	env = vz_strv_push(env, veid);
	_cleanup_free_ char *h = xasprintf("HOSTNAME=%s", nc->hostname ? nc->hostname : "");
	env = vz_strv_push(env, h);
	_cleanup_free_ char *ips = vz_iplist_format(&nc->ips);
	_cleanup_free_ char *ip = xasprintf("IP_ADDR=%s", ips);
	env = vz_strv_push(env, ip);
	char *ifs = xstrdup("");
	for (size_t i = 0; i < nc->netifs.n; i++) {
		char *n = xasprintf("%s%s%s", ifs, i ? " " : "", nc->netifs.v[i].ifname);
		free(ifs);
		ifs = n;
	}
	_cleanup_free_ char *ife = xasprintf("NETIF_IFNAMES=%s", ifs);
	free(ifs);
	env = vz_strv_push(env, ife);
	return env;
}

/* Reads file rel in the CT (NULL if absent), filters it through the
 * script, writes the result back if it changed. */
static int dist_file(const struct vz_ct *ct, int rootfd, const char *script,
		     char **env, const char *rel, struct vz_error *err)
{
	char *old = NULL;
	int fd = openat2_in_root(rootfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 1 << 20) {
			close(fd);
			return vz_fail(err, VZ_EFAIL,
				       "/%s in CT %s is not a regular file of sane size; not touching it",
				       rel, ct->idstr);
		}
		old = xmalloc((size_t)st.st_size + 1);
		ssize_t n = read(fd, old, (size_t)st.st_size);
		old[n > 0 ? n : 0] = '\0';
		close(fd);
	} else {
		/* no directory for it: this CT does not use the file */
		_cleanup_free_ char *dir = xstrdup(rel);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		int dfd = openat2_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
		if (dfd < 0)
			return 0;
		close(dfd);
	}
	char *argv[] = { "filter", (char *)rel, NULL };
	char *out = NULL;
	_cleanup_free_ char *oldp = old;
	if (run_filter(script, argv, env, old, &out, err) < 0)
		return -1;
	_cleanup_free_ char *outp = out;
	if (old && !strcmp(old, out))
		return 0;
	if (!old && !*out)
		return 0;
	/* the same careful way as hosts (net-files.c) */
	if (vz_ct_file_replace(rootfd, rel, out, err) < 0)
		return vz_prefix(err, "CT %s", ct->idstr);
	return 0;
}

static int run_dist_script(const struct vz_ct *ct, const struct vz_net_conf *nc,
			   struct vz_error *err)
{
	_cleanup_free_ char *script = dist_script(ct);
	if (!script)
		return 0;
	/* the files a script keeps are named on its "# vz-files:" line, so
	 * a CT without any of their directories costs no fork */
	char *text = NULL;
	size_t tlen;
	if (vz_read_file(script, &text, &tlen, err) < 0)
		return -1;
	_cleanup_free_ char *textp = text;
	const char *hdr = strstr(text, "\n# vz-files:");
	if (!hdr)
		return vz_fail(err, VZ_ECONFIG, "%s has no '# vz-files:' line", script);
	hdr += strlen("\n# vz-files:");
	_cleanup_free_ char *line = xstrndup(hdr, strcspn(hdr, "\n"));
	_cleanup_strv_ char **files = vz_strv_split(line, " \t");
	_cleanup_strv_ char **env = script_env(ct, nc);
	_cleanup_close_ int rootfd = open(ct->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", ct->root);
	for (size_t i = 0; files[i]; i++) {
		const char *rel = files[i];
		while (*rel == '/')
			rel++;
		if (!*rel || strstr(rel, ".."))
			continue;
		if (dist_file(ct, rootfd, script, env, rel, err) < 0)
			return -1;
	}
	return 0;
}

int vz_ct_net_files(const struct vz_ct *ct, struct vz_error *err)
{
	uint64_t t0 = vz_now_ns();
	struct vz_net_conf nc;
	if (vz_ct_net_conf(ct, &nc, err) < 0)
		return -1;
	int rc = vz_ct_files_apply(ct->root, &nc, err);
	uint64_t t1 = vz_now_ns();
	if (rc == 0)
		rc = run_dist_script(ct, &nc, err);
	vz_net_conf_free(&nc);
	vz_debug("CT %s: network files in %.2f ms (distro script %.2f ms)", ct->idstr,
		 (double)(vz_now_ns() - t0) / 1e6, (double)(vz_now_ns() - t1) / 1e6);
	return rc;
}

/* ---- vzctl set ---- */

unsigned vz_net_ip_owner(const char *confdir, unsigned self,
			 const struct vz_ip *ip)
{
	_cleanup_free_ char *dir = xasprintf("%s/conf", confdir);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	unsigned owner = 0;
	struct dirent *de;
	while (!owner && (de = readdir(d))) {
		char *end;
		unsigned long id = strtoul(de->d_name, &end, 10);
		if (end == de->d_name || strcmp(end, ".conf") || id == self || id == 0)
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		struct vz_conf c;
		vz_conf_init(&c, path);
		struct vz_iplist l;
		if (vz_conf_load(&c, path, NULL) == 0 &&
		    vz_iplist_parse(vz_conf_get(&c, "IP_ADDRESS"), &l, NULL) == 0) {
			if (vz_iplist_find(&l, ip) >= 0)
				owner = (unsigned)id;
			vz_iplist_free(&l);
		}
		vz_conf_free(&c);
	}
	closedir(d);
	return owner;
}

bool vz_net_set_any(const struct vz_net_set *s)
{
	return s->ipadd || s->ipdel || s->netif_add || s->netif_del || s->ifname ||
	       s->mac || s->host_ifname || s->host_mac || s->bridge;
}

/* One live step and how to undo it. */
enum step_kind { S_IPADD, S_IPDEL, S_NIFADD, S_NIFDEL };
struct step {
	enum step_kind kind;
	struct vz_ip ip;
	struct vz_netif nif;
};

static int step_do(const struct vz_net_conf *cur, int fd, const struct step *s,
		   bool undo, struct vz_error *err)
{
	enum step_kind k = s->kind;
	if (undo)
		k = k == S_IPADD ? S_IPDEL : k == S_IPDEL ? S_IPADD :
		    k == S_NIFADD ? S_NIFDEL : S_NIFADD;
	switch (k) {
	case S_IPADD: {
		/* cur must not list it for ip_add */
		struct vz_net_conf tmp = *cur;
		struct vz_iplist l = { 0 };
		for (size_t i = 0; i < cur->ips.n; i++)
			if (!vz_ip_same(&cur->ips.v[i], &s->ip))
				vz_iplist_add(&l, &cur->ips.v[i], NULL);
		tmp.ips = l;
		int rc = vz_net_ip_add(&tmp, fd, &s->ip, err);
		vz_iplist_free(&l);
		return rc;
	}
	case S_IPDEL:
		return vz_net_ip_del(cur, fd, &s->ip, err);
	case S_NIFADD:
		return vz_net_netif_add(cur, fd, &s->nif, err);
	case S_NIFDEL:
		return vz_net_netif_del(cur, fd, &s->nif, err);
	}
	return 0;
}

int vz_ct_net_set(struct vz_ct *ct, const struct vz_net_set *s, bool running,
		  struct vz_error *err)
{
	if (!vz_net_set_any(s))
		return 0;
	struct vz_net_conf nc;
	if (vz_ct_net_conf(ct, &nc, err) < 0)
		return -1;
	struct step *steps = NULL;
	size_t nsteps = 0;
	int rc = -1, fd = -1;
#define STEP(...) do { \
	steps = xrealloc(steps, (nsteps + 1) * sizeof(*steps)); \
	steps[nsteps++] = (struct step){ __VA_ARGS__ }; \
} while (0)

	/* 1. compute the new config, checking everything */
	for (size_t i = 0; s->ipdel && s->ipdel[i]; i++) {
		if (!strcmp(s->ipdel[i], "all")) {
			for (size_t j = 0; j < nc.ips.n; j++)
				STEP(.kind = S_IPDEL, .ip = nc.ips.v[j]);
			vz_iplist_free(&nc.ips);
			continue;
		}
		struct vz_ip ip;
		if (vz_ip_parse(s->ipdel[i], &ip, err) < 0)
			goto out;
		ssize_t at = vz_iplist_find(&nc.ips, &ip);
		if (at < 0) {
			vz_fail(err, VZ_ENOENT, "CT %s has no address %s", ct->idstr,
				s->ipdel[i]);
			goto out;
		}
		STEP(.kind = S_IPDEL, .ip = nc.ips.v[at]);
		vz_iplist_del(&nc.ips, &ip, NULL);
	}
	for (size_t i = 0; s->ipadd && s->ipadd[i]; i++) {
		struct vz_ip ip;
		if (vz_ip_parse(s->ipadd[i], &ip, err) < 0)
			goto out;
		if (vz_iplist_add(&nc.ips, &ip, err) < 0) {
			vz_fail(err, VZ_EEXIST, "CT %s already has address %s",
				ct->idstr, s->ipadd[i]);
			goto out;
		}
		unsigned other = vz_net_ip_owner(ct->confdir, ct->id, &ip);
		if (other) {
			vz_fail(err, VZ_EEXIST, "address %s is already configured for CT %u",
				s->ipadd[i], other);
			goto out;
		}
		STEP(.kind = S_IPADD, .ip = ip);
	}
	for (size_t i = 0; s->netif_del && s->netif_del[i]; i++) {
		if (!strcmp(s->netif_del[i], "all")) {
			for (size_t j = 0; j < nc.netifs.n; j++)
				STEP(.kind = S_NIFDEL, .nif = nc.netifs.v[j]);
			vz_netifs_free(&nc.netifs);
			continue;
		}
		struct vz_netif *n = vz_netifs_find(&nc.netifs, s->netif_del[i]);
		if (!n) {
			vz_fail(err, VZ_ENOENT, "CT %s has no interface %s", ct->idstr,
				s->netif_del[i]);
			goto out;
		}
		STEP(.kind = S_NIFDEL, .nif = *n);
		vz_netifs_del(&nc.netifs, s->netif_del[i], NULL);
	}
	for (size_t i = 0; s->netif_add && s->netif_add[i]; i++) {
		struct vz_netif n;
		if (vz_netif_parse_arg(s->netif_add[i], &n, err) < 0 ||
		    vz_netifs_add(&nc.netifs, &n, ct->id, err) < 0)
			goto out;
		STEP(.kind = S_NIFADD, .nif = nc.netifs.v[nc.netifs.n - 1]);
	}
	if (s->ifname || s->mac || s->host_ifname || s->host_mac || s->bridge) {
		if (!s->ifname) {
			vz_fail(err, VZ_EUSAGE,
				"--mac, --host_ifname, --host_mac and --bridge need --ifname NAME (the interface to change)");
			goto out;
		}
		struct vz_netif *n = vz_netifs_find(&nc.netifs, s->ifname);
		if (!n) {
			vz_fail(err, VZ_ENOENT,
				"CT %s has no interface %s; add it with --netif_add %s",
				ct->idstr, s->ifname, s->ifname);
			goto out;
		}
		struct vz_netif old = *n, mod = *n;
		_cleanup_free_ char *spec = xasprintf("%s,%s,%s,%s,%s", s->ifname,
						      s->mac ? s->mac : mod.mac,
						      s->host_ifname ? s->host_ifname : mod.host_ifname,
						      s->host_mac ? s->host_mac : mod.host_mac,
						      s->bridge ? s->bridge : mod.bridge);
		if (vz_netif_parse_arg(spec, &mod, err) < 0)
			goto out;
		vz_netifs_del(&nc.netifs, s->ifname, NULL);
		if (vz_netifs_add(&nc.netifs, &mod, ct->id, err) < 0)
			goto out;
		STEP(.kind = S_NIFDEL, .nif = old);
		STEP(.kind = S_NIFADD, .nif = nc.netifs.v[nc.netifs.n - 1]);
		if (running)
			vz_warn("CT %s: interface %s is re-created; addresses set inside on it are gone",
				ct->idstr, s->ifname);
	}

	/* 2. live, in order; a failure undoes this command's earlier steps */
	if (running) {
		struct vz_ct_runtime rt;
		if (!vz_ct_runtime(ct, &rt)) {
			vz_fail(err, VZ_ESTATE, "CT %s is not running", ct->idstr);
			goto out;
		}
		fd = vz_netns_open_pid(rt.init_pid, err);
		vz_ct_runtime_free(&rt);
		if (fd < 0)
			goto out;
		struct vz_net_conf cur;
		if (vz_ct_net_conf(ct, &cur, err) < 0)
			goto out;
		/* what is plugged in: an address or interface only in the
		 * config (hand-edited) is not ours to take from the kernel */
		struct vz_net_conf rec = { .ctid = ct->id };
		record_merge(ct, &rec);
		for (size_t i = 0; i < nsteps; i++) {
			bool plugged = true;
			if (steps[i].kind == S_IPDEL)
				plugged = vz_iplist_find(&rec.ips, &steps[i].ip) >= 0;
			else if (steps[i].kind == S_NIFDEL) {
				plugged = false;
				for (size_t j = 0; j < rec.netifs.n; j++)
					plugged |= !strcmp(rec.netifs.v[j].host_ifname,
							   steps[i].nif.host_ifname);
			}
			if (!plugged) {
				vz_info("CT %s: %s was not plugged in; only the config changes",
					ct->idstr, steps[i].kind == S_IPDEL ? "the address" : "the interface");
				memmove(&steps[i], &steps[i + 1], (nsteps - i - 1) * sizeof(*steps));
				nsteps--;
				i--;
			}
		}
		vz_net_conf_free(&rec);
		size_t done;
		for (done = 0; done < nsteps; done++) {
			if (step_do(&cur, fd, &steps[done], false, err) < 0)
				break;
			/* keep cur in step with the kernel for the next step */
			if (steps[done].kind == S_IPADD)
				vz_iplist_add(&cur.ips, &steps[done].ip, NULL);
			else if (steps[done].kind == S_IPDEL)
				vz_iplist_del(&cur.ips, &steps[done].ip, NULL);
		}
		if (done < nsteps) {
			while (done-- > 0) {
				struct vz_error e2 = { 0 };
				if (step_do(&cur, fd, &steps[done], true, &e2) < 0)
					vz_warn("undo: %s", e2.msg);
			}
			vz_net_conf_free(&cur);
			vz_prefix(err, "CT %s", ct->idstr);
			goto out;
		}
		vz_net_conf_free(&cur);
		/* the record follows the kernel, saved or not */
		struct vz_error e2 = { 0 };
		if (record_save(ct, &nc, &e2) < 0)
			vz_warn("CT %s: %s", ct->idstr, e2.msg);
	}
	vz_net_conf_store(&nc, &ct->conf);
	rc = 0;
out:
#undef STEP
	if (fd >= 0)
		close(fd);
	free(steps);
	vz_net_conf_free(&nc);
	return rc;
}
