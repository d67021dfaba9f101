/* Files inside the CT that follow its network parameters: /etc/hostname,
 * /etc/hosts, /etc/resolv.conf.
 *
 * The CT's root belongs to the CT: any path in it may be a symlink aimed at
 * the host (/etc -> /host/etc, resolv.conf -> /etc/shadow).  Every path is
 * therefore resolved with openat2(RESOLVE_IN_ROOT), which treats the CT's
 * root as "/" for absolute links and "..", so nothing here ever reads or
 * writes outside it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "error.h"
#include "log.h"
#include "net.h"
#include "util.h"

#define MAX_FILE (1024 * 1024)
#define MARK "# added by vz"

static int openat2_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Reads path under root; *data NULL when it does not exist. */
static int read_in_root(int rootfd, const char *path, char **data,
			struct vz_error *err)
{
	*data = NULL;
	_cleanup_close_ int fd = openat2_in_root(rootfd, path,
						 O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return vz_fail_errno(err, VZ_ESYSTEM, "open /%s in the container", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "stat /%s in the container", path);
	if (!S_ISREG(st.st_mode))
		return vz_fail(err, VZ_EFAIL,
			       "/%s in the container is not a regular file; not touching it",
			       path);
	if (st.st_size > MAX_FILE)
		return vz_fail(err, VZ_EFAIL, "/%s in the container is too big (%lld bytes)",
			       path, (long long)st.st_size);
	char *buf = xmalloc((size_t)st.st_size + 1);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return vz_fail_errno(err, VZ_ESYSTEM, "read /%s in the container", path);
		}
		if (r == 0 || n + (size_t)r == (size_t)st.st_size) {
			n += (size_t)r;
			break;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*data = buf;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Replaces dir/name under root with data.  A regular file is replaced
 * atomically (temporary file + rename, keeping its owner and mode); a
 * symlink that leads to a regular file inside the CT is written through. */
static int write_in_root(int rootfd, const char *dir, const char *name,
			 const char *data, struct vz_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_close_ int dfd = openat2_in_root(rootfd, dir,
						  O_PATH | O_DIRECTORY, 0);
	if (dfd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open /%s in the container", dir);
	struct stat st, dst;
	if (fstat(dfd, &dst) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "stat /%s in the container", dir);
	bool exists = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && S_ISLNK(st.st_mode)) {
		_cleanup_close_ int fd = openat2_in_root(rootfd, path,
							 O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (fd >= 0) {
			struct stat t;
			if (fstat(fd, &t) < 0 || !S_ISREG(t.st_mode))
				return vz_fail(err, VZ_EFAIL,
					       "/%s in the container leads to something that is not a regular file; not touching it",
					       path);
			if (ftruncate(fd, 0) < 0 ||
			    write_all(fd, data, strlen(data)) < 0)
				return vz_fail_errno(err, VZ_ESYSTEM,
						     "write /%s in the container", path);
			return 0;
		}
		if (errno != ENOENT)
			return vz_fail_errno(err, VZ_ESYSTEM,
					     "open /%s in the container", path);
		/* a dangling link: replace it with a file */
		exists = false;
	}
	if (exists && !S_ISREG(st.st_mode))
		return vz_fail(err, VZ_EFAIL,
			       "/%s in the container is not a regular file; not touching it",
			       path);
	_cleanup_free_ char *tmp = xasprintf(".%s.vz-%d", name, (int)getpid());
	_cleanup_close_ int fd = openat(dfd, tmp,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					exists ? (st.st_mode & 07777) : 0644);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "create /%s/%s in the container",
				     dir, tmp);
	uid_t uid = exists ? st.st_uid : dst.st_uid;
	gid_t gid = exists ? st.st_gid : dst.st_gid;
	if (fchown(fd, uid, gid) < 0 ||
	    fchmod(fd, exists ? (st.st_mode & 07777) : 0644) < 0 ||
	    write_all(fd, data, strlen(data)) < 0 || fsync(fd) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "write /%s in the container", path);
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	if (renameat(dfd, tmp, dfd, name) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "replace /%s in the container", path);
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	return 0;
}

/* Appends a line (plus newline) to a growing buffer. */
static void add(char **buf, const char *line)
{
	char *n = xasprintf("%s%s\n", *buf ? *buf : "", line);
	free(*buf);
	*buf = n;
}

static bool has_word(const char *line, const char *word)
{
	_cleanup_strv_ char **w = vz_strv_split(line, " \t");
	for (size_t i = 1; w[i] && w[i][0] != '#'; i++)
		if (!strcmp(w[i], word))
			return true;
	return false;
}

static bool first_word_is(const char *line, const char *word)
{
	while (*line == ' ' || *line == '\t')
		line++;
	size_t n = strlen(word);
	return !strncmp(line, word, n) &&
	       (line[n] == ' ' || line[n] == '\t' || line[n] == '\0');
}

/* /etc/hosts: the user's lines stay; ours (marked) are rewritten. */
static char *hosts_text(const char *old, const struct vz_net_conf *nc)
{
	char *out = NULL;
	bool lo4 = false, lo6 = false;
	_cleanup_strv_ char **lines = vz_strv_split(old ? old : "", "\n");
	for (size_t i = 0; lines[i]; i++) {
		if (strstr(lines[i], MARK))
			continue;
		if (first_word_is(lines[i], "127.0.0.1") && has_word(lines[i], "localhost"))
			lo4 = true;
		if (first_word_is(lines[i], "::1") && has_word(lines[i], "localhost"))
			lo6 = true;
	}
	if (!lo4)
		add(&out, "127.0.0.1\tlocalhost");
	if (!lo6)
		add(&out, "::1\t\tlocalhost ip6-localhost ip6-loopback");
	for (size_t i = 0; lines[i]; i++)
		if (!strstr(lines[i], MARK))
			add(&out, lines[i]);
	char names[600];
	const char *dot = strchr(nc->hostname, '.');
	if (dot)
		snprintf(names, sizeof(names), "%s %.*s", nc->hostname,
			 (int)(dot - nc->hostname), nc->hostname);
	else
		snprintf(names, sizeof(names), "%s", nc->hostname);
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < nc->ips.n; i++) {
		const struct vz_ip *ip = &nc->ips.v[i];
		bool *seen = ip->family == AF_INET ? &v4 : &v6;
		if (*seen)
			continue;
		*seen = true;
		char a[64];
		vz_ip_format_addr(ip, a, sizeof(a));
		_cleanup_free_ char *l = xasprintf("%s\t%s\t" MARK, a, names);
		add(&out, l);
	}
	if (!v4) {
		_cleanup_free_ char *l = xasprintf("127.0.1.1\t%s\t" MARK, names);
		add(&out, l);
	}
	return out;
}

/* /etc/resolv.conf: nameserver and search lines replaced when given. */
static char *resolv_text(const char *old, const struct vz_net_conf *nc)
{
	char *out = NULL;
	bool ns = nc->nameservers && nc->nameservers[0];
	bool sd = nc->searchdomains && nc->searchdomains[0];
	_cleanup_strv_ char **lines = vz_strv_split(old ? old : "", "\n");
	if (sd) {
		_cleanup_free_ char *j = vz_strv_join(nc->searchdomains, " ");
		_cleanup_free_ char *l = xasprintf("search %s", j);
		add(&out, l);
	} else {
		for (size_t i = 0; lines[i]; i++)
			if (first_word_is(lines[i], "search") ||
			    first_word_is(lines[i], "domain"))
				add(&out, lines[i]);
	}
	if (ns) {
		for (size_t i = 0; nc->nameservers[i]; i++) {
			_cleanup_free_ char *l = xasprintf("nameserver %s",
							   nc->nameservers[i]);
			add(&out, l);
		}
	} else {
		for (size_t i = 0; lines[i]; i++)
			if (first_word_is(lines[i], "nameserver"))
				add(&out, lines[i]);
	}
	for (size_t i = 0; lines[i]; i++)
		if (!first_word_is(lines[i], "search") &&
		    !first_word_is(lines[i], "domain") &&
		    !first_word_is(lines[i], "nameserver"))
			add(&out, lines[i]);
	return out ? out : xstrdup("");
}

int vz_ct_file_replace(int rootfd, const char *path, const char *text,
		       struct vz_error *err)
{
	while (*path == '/')
		path++;
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash || !slash[1])
		return vz_fail(err, VZ_EUSAGE, "bad path /%s", path);
	*slash = '\0';
	return write_in_root(rootfd, dir, slash + 1, text, err);
}

int vz_ct_files_apply(const char *root, const struct vz_net_conf *nc,
		      struct vz_error *err)
{
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open the container root %s", root);
	if (nc->hostname) {
		_cleanup_free_ char *h = xasprintf("%s\n", nc->hostname);
		_cleanup_free_ char *old = NULL;
		if (write_in_root(rootfd, "etc", "hostname", h, err) < 0 ||
		    read_in_root(rootfd, "etc/hosts", &old, err) < 0)
			return vz_prefix(err, "set the hostname of CT %u", nc->ctid);
		_cleanup_free_ char *text = hosts_text(old, nc);
		if (write_in_root(rootfd, "etc", "hosts", text, err) < 0)
			return vz_prefix(err, "set the hostname of CT %u", nc->ctid);
	}
	if ((nc->nameservers && nc->nameservers[0]) ||
	    (nc->searchdomains && nc->searchdomains[0])) {
		_cleanup_free_ char *old = NULL;
		if (read_in_root(rootfd, "etc/resolv.conf", &old, err) < 0)
			return vz_prefix(err, "set the DNS servers of CT %u", nc->ctid);
		_cleanup_free_ char *text = resolv_text(old, nc);
		if (write_in_root(rootfd, "etc", "resolv.conf", text, err) < 0)
			return vz_prefix(err, "set the DNS servers of CT %u", nc->ctid);
	}
	return 0;
}
