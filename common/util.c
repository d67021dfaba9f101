#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "util.h"

extern char **environ;

void vz_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

void vz_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static void *oom(void)
{
	fputs("out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	return p ? p : oom();
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	return p ? p : oom();
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	return p ? p : oom();
}

char *xasprintf(const char *fmt, ...)
{
	char *p;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&p, fmt, ap);
	va_end(ap);
	return r < 0 ? oom() : p;
}

size_t vz_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **vz_strv_push(char **v, const char *s)
{
	size_t n = vz_strv_len(v);
	v = xrealloc(v, (n + 2) * sizeof(*v));
	v[n] = xstrdup(s);
	v[n + 1] = NULL;
	return v;
}

void vz_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void vz_strv_freep(char ***v)
{
	vz_strv_free(*v);
	*v = NULL;
}

bool vz_strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

char **vz_strv_split(const char *s, const char *seps)
{
	char **v = xcalloc(1, sizeof(*v));
	while (s && *s) {
		size_t skip = strspn(s, seps);
		s += skip;
		size_t n = strcspn(s, seps);
		if (n) {
			char *f = xstrndup(s, n);
			v = vz_strv_push(v, f);
			free(f);
		}
		s += n;
	}
	return v;
}

char *vz_strv_join(char *const *v, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + seplen;
	char *out = xmalloc(len), *p = out;
	*p = '\0';
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			p = stpcpy(p, sep);
		p = stpcpy(p, v[i]);
	}
	return out;
}

bool vz_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool vz_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *vz_strstrip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int vz_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int vz_parse_int(const char *s, long long min, long long max, long long *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int vz_parse_size(const char *s, uint64_t unit, uint64_t *bytes)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	uint64_t mult = unit;
	if (*end) {
		int shift;
		switch (toupper((unsigned char)*end)) {
		case 'B': shift = 0; break;
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		case 'P': shift = 50; break;
		default: return -1;
		}
		mult = 1ULL << shift;
		end++;
		/* accept K, KB, KiB (and B alone) */
		if (shift && (strcasecmp(end, "B") == 0 ||
			      strcasecmp(end, "iB") == 0))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (mult && v > UINT64_MAX / mult)
		return -1;
	*bytes = v * mult;
	return 0;
}

void vz_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	int u = -1;
	while (u < 4 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, bytes);
	else
		snprintf(buf, len, "%" PRIu64 "%c", bytes, units[u]);
}

int vz_read_file(const char *path, char **data, size_t *len,
		 struct vz_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, errno == ENOENT ? VZ_ENOENT : VZ_ESYSTEM,
				     "open %s", path);
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return vz_fail_errno(err, VZ_ESYSTEM, "read %s", path);
		}
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	*data = buf;
	if (len)
		*len = n;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t r = write(fd, data, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += r;
		len -= r;
	}
	return 0;
}

static int write_replace(const char *path, const char *data, size_t len,
			 mode_t mode, bool durable, struct vz_error *err);

int vz_write_file_atomic(const char *path, const char *data, size_t len,
			 mode_t mode, struct vz_error *err)
{
	return write_replace(path, data, len, mode, true, err);
}

int vz_write_file_replace(const char *path, const char *data, size_t len,
			  mode_t mode, struct vz_error *err)
{
	return write_replace(path, data, len, mode, false, err);
}

static int write_replace(const char *path, const char *data, size_t len,
			 mode_t mode, bool durable, struct vz_error *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "create %s", tmp);
	if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		vz_fail_errno(err, VZ_ESYSTEM, "write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "replace %s", path);
		unlink(tmp);
		return -1;
	}
	if (!durable)
		return 0;
	/* make the rename durable too */
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

int vz_write_string(const char *path, const char *s, struct vz_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", path);
	if (write_all(fd, s, strlen(s)) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "write '%s' to %s", s,
				     path);
	return 0;
}

int vz_mkdir_p(const char *path, mode_t mode, struct vz_error *err)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return vz_fail_errno(err, VZ_ESYSTEM, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return vz_fail_errno(err, VZ_ESYSTEM, "mkdir %s", p);
	return 0;
}

static int rm_at(int parent, const char *name, dev_t dev, const char *top,
		 struct vz_error *err)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 :
		       vz_fail_errno(err, VZ_ESYSTEM, "stat %s/%s", top, name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return vz_fail_errno(err, VZ_ESYSTEM, "remove %s/%s",
					     top, name);
		return 0;
	}
	if (st.st_dev != dev)
		return vz_fail(err, VZ_ESTATE,
			       "remove %s: %s is a mount point; unmount it first",
			       top, name);
	int fd = openat(parent, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s/%s", top, name);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s/%s", top, name);
	}
	int ret = 0;
	struct dirent *de;
	while (ret == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ret = rm_at(dirfd(d), de->d_name, dev, top, err);
	}
	closedir(d);
	if (ret == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT)
		return vz_fail_errno(err, VZ_ESYSTEM, "remove %s/%s", top, name);
	return ret;
}

int vz_rm_rf(const char *path, struct vz_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		       vz_fail_errno(err, VZ_ESYSTEM, "stat %s", path);
	return rm_at(AT_FDCWD, path, st.st_dev, path, err);
}

bool vz_path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

bool vz_is_mountpoint(const char *path)
{
	if (!path)
		return false;
	/* Linux 5.8+ says so in one call; mountinfo otherwise */
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) == 0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	struct stat a, b;
	_cleanup_free_ char *parent = xasprintf("%s/..", path);
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	if (a.st_dev != b.st_dev)
		return true;
	/* a bind mount of a directory of the same fs: ask mountinfo */
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char real[PATH_MAX];
	if (!realpath(path, real))
		return false;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX];
		if (sscanf(line, "%*d %*d %*s %*s %4095s", mnt) == 1 &&
		    strcmp(mnt, real) == 0)
			found = true;
	}
	free(line);
	return found;
}

void vz_close_fds_from(int from)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, from, ~0U, 0) == 0)
		return;
#endif
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		for (int fd = from; fd < 1024; fd++)
			close(fd);
		return;
	}
	struct dirent *de;
	int self = dirfd(d);
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (fd >= from && fd != self)
			close(fd);
	}
	closedir(d);
}

char *vz_find_program(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	const char *path = getenv("PATH");
	_cleanup_free_ char *all = xasprintf(
		"%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		path ? path : "");
	char *save = NULL;
	for (char *dir = strtok_r(all, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

int vz_run(char *const argv[], char *const envp_extra[], struct vz_error *err)
{
	_cleanup_free_ char *prog = vz_find_program(argv[0]);
	if (!prog)
		return vz_fail(err, VZ_ENOSYS,
			       "%s not found in PATH; install it (scripts/install-deps)",
			       argv[0]);
	pid_t pid = fork();
	if (pid < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	if (pid == 0) {
		for (size_t i = 0; envp_extra && envp_extra[i]; i++)
			putenv(envp_extra[i]);
		execv(prog, argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return vz_fail_errno(err, VZ_ESYSTEM, "wait for %s",
					     argv[0]);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

uint64_t vz_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
