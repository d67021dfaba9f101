/* ploop commands: init, info, mount, umount, snapshots, resize, compact.
 * Each takes the descriptor's lock for its whole run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "ploop.h"
#include "ploop-delta.h"
#include "ploop-priv.h"
#include "ploop-server.h"
#include "util.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* --- locating things --- */

char *ploop_find_desc(const char *arg, struct vz_error *err)
{
	struct stat st;
	if (stat(arg, &st) < 0)
		return vz_fail_errno(err, errno == ENOENT ? VZ_ENOENT : VZ_ESYSTEM,
				     "%s", arg), NULL;
	if (S_ISDIR(st.st_mode)) {
		char *p = xasprintf("%s/%s", arg, PLOOP_DESC_NAME);
		if (!vz_path_exists(p)) {
			vz_fail(err, VZ_ENOENT, "%s: no %s in it", arg, PLOOP_DESC_NAME);
			free(p);
			return NULL;
		}
		return p;
	}
	size_t n = strlen(arg);
	if (n >= 4 && !strcmp(arg + n - 4, ".xml"))
		return xstrdup(arg);
	_cleanup_free_ char *copy = xstrdup(arg);
	char *p = xasprintf("%s/%s", dirname(copy), PLOOP_DESC_NAME);
	if (!vz_path_exists(p)) {
		vz_fail(err, VZ_ENOENT,
			"no %s beside %s (ploop restore-descriptor %s writes one)",
			PLOOP_DESC_NAME, arg, arg);
		free(p);
		return NULL;
	}
	return p;
}

char *ploop_fuse_file(const struct ploop_desc *d, const char *guid)
{
	if (!guid)
		return xasprintf("%s/.ploop.fuse", d->dir);
	return xasprintf("%s/.ploop-%s.fuse", d->dir, guid);
}

int ploop_lock(const char *desc_path, struct vz_error *err)
{
	_cleanup_free_ char *lck = xasprintf("%s.lck", desc_path);
	int fd = open(lck, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open lock %s", lck);
	const char *t = getenv("PLOOP_LOCK_TIMEOUT");
	long ms = (t ? atol(t) : 60) * 1000;
	for (long waited = 0;; waited += 20) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK) {
			vz_fail_errno(err, VZ_ESYSTEM, "lock %s", lck);
			break;
		}
		if (waited >= ms) {
			vz_fail(err, VZ_ELOCKED, "%s is locked by another ploop command",
				desc_path);
			break;
		}
		sleep_ms(20);
	}
	close(fd);
	return -1;
}

int ploop_load(const char *arg, struct ploop_desc *d, int *lock, struct vz_error *err)
{
	_cleanup_free_ char *path = ploop_find_desc(arg, err);
	if (!path)
		return -1;
	if (lock) {
		*lock = ploop_lock(path, err);
		if (*lock < 0)
			return -1;
	}
	if (ploop_desc_read(path, d, err) < 0) {
		if (lock) {
			close(*lock);
			*lock = -1;
		}
		return -1;
	}
	return 0;
}

/* Image paths of the chain ending at guid (NULL: top), base first. */
static int chain_paths(const struct ploop_desc *d, const char *guid, char ***paths,
		       struct vz_error *err)
{
	_cleanup_strv_ char **chain = NULL;
	if (ploop_desc_chain(d, guid, &chain, err) < 0)
		return -1;
	char **out = NULL;
	for (size_t i = 0; chain[i]; i++) {
		struct ploop_image *im = ploop_desc_image(d, chain[i]);
		_cleanup_free_ char *p = ploop_desc_image_path(d, im);
		out = vz_strv_push(out, p);
	}
	*paths = out;
	return 0;
}

/* --- mountinfo and loop devices --- */

/* Calls fn for each mountinfo line: fields 5 (mountpoint), 3 (maj:min),
 * fstype and source. */
static char *mountinfo_find(const char *want_fstype, const char *want_dev,
			    const char *want_mp, char **source)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL;
	size_t cap = 0;
	char *found = NULL;
	while (getline(&line, &cap, f) > 0) {
		char mp[4096], dev[64], fst[256], src[4096];
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		if (sscanf(line, "%*s %*s %63s %*s %4095s", dev, mp) != 2)
			continue;
		if (sscanf(sep + 3, "%255s %4095s", fst, src) != 2)
			continue;
		/* mountinfo escapes spaces as \040 */
		if (want_fstype && strcmp(fst, want_fstype))
			continue;
		if (want_dev && strcmp(dev, want_dev))
			continue;
		if (want_mp && strcmp(mp, want_mp))
			continue;
		found = xstrdup(mp);
		if (source)
			*source = xstrdup(src);
		break;
	}
	free(line);
	return found;
}

static bool fuse_mounted(const char *ff)
{
	_cleanup_free_ char *mp = mountinfo_find("fuse.ploop", NULL, ff, NULL);
	return mp != NULL;
}

/* The loop device whose backing file is ff, or NULL. */
char *ploop_loop_of(const char *ff)
{
	DIR *dir = opendir("/sys/block");
	if (!dir)
		return NULL;
	struct dirent *de;
	char *found = NULL;
	while (!found && (de = readdir(dir))) {
		if (strncmp(de->d_name, "loop", 4))
			continue;
		_cleanup_free_ char *p = xasprintf("/sys/block/%s/loop/backing_file", de->d_name);
		_cleanup_free_ char *data = NULL;
		struct vz_error e;
		if (vz_read_file(p, &data, NULL, &e) < 0)
			continue;
		vz_strstrip(data);
		if (!strcmp(data, ff))
			found = xasprintf("/dev/%s", de->d_name);
	}
	closedir(dir);
	return found;
}

static char *dev_majmin(const char *dev)
{
	struct stat st;
	if (stat(dev, &st) < 0)
		return NULL;
	return xasprintf("%u:%u", major(st.st_rdev), minor(st.st_rdev));
}

/* Where the fs on dev is mounted (first), or NULL. */
static char *mountpoint_of(const char *dev)
{
	_cleanup_free_ char *mm = dev_majmin(dev);
	if (!mm)
		return NULL;
	return mountinfo_find(NULL, mm, NULL, NULL);
}

static int loop_attach(const char *ff, bool ro, char **devp, struct vz_error *err)
{
	_cleanup_close_ int file = open(ff, (ro ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	if (file < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", ff);
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return vz_fail_errno(err, VZ_ENOSYS, "open /dev/loop-control (loop module?)");
	for (int tries = 0; tries < 20; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "get a free loop device");
		_cleanup_free_ char *dev = xasprintf("/dev/loop%d", n);
		_cleanup_close_ int lfd = open(dev, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lfd < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "open %s", dev);
		struct loop_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)file;
		cfg.block_size = 512;
		cfg.info.lo_flags = LO_FLAGS_DIRECT_IO | (ro ? LO_FLAGS_READ_ONLY : 0);
		snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", ff);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0) {
			if (errno == EBUSY)
				continue;  /* someone took it first */
			return vz_fail_errno(err, VZ_ESYSTEM, "attach %s to %s", ff, dev);
		}
		*devp = xstrdup(dev);
		return 0;
	}
	return vz_fail(err, VZ_ESYSTEM, "no free loop device");
}

bool ploop_loop_dio(const char *dev)
{
	_cleanup_free_ char *p = xasprintf("/sys/block/%s/loop/dio", dev + 5);
	_cleanup_free_ char *data = NULL;
	struct vz_error e;
	if (vz_read_file(p, &data, NULL, &e) < 0)
		return false;
	return data[0] == '1';
}

static int loop_detach(const char *dev, const char *ff, struct vz_error *err)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", dev);
	if (ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
		return vz_fail_errno(err, VZ_ESTATE, "detach %s", dev);
	close(fd);
	fd = -1;
	for (int i = 0; i < 500; i++) {
		_cleanup_free_ char *still = ploop_loop_of(ff);
		if (!still || strcmp(still, dev))
			return 0;
		sleep_ms(10);
	}
	return vz_fail(err, VZ_ESTATE, "%s is still in use; close its users", dev);
}

/* --- server start/stop --- */

static int server_start(const char *desc, char **deltas, bool ro, const char *ff,
			struct vz_error *err)
{
	/* FUSE over io_uring needs the fuse module's enable_uring=Y: the
	 * server sets it too, but from here -v shows it */
	const char *why = NULL;
	if (!ploop_uring_prepare(&why))
		vz_info("fuse: no io_uring (%s)", why);
	int fd = open(ff, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "create %s", ff);
	close(fd);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	}
	if (pid == 0) {
		/* detach twice so the server is nobody's zombie */
		close(pfd[0]);
		setsid();
		if (fork() != 0)
			_exit(0);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
		/* the server's own messages, for debugging */
		const char *logp = getenv("PLOOP_SERVER_LOG");
		int lfd = logp ? open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;
		if (lfd >= 0) {
			dup2(lfd, 2);
			if (lfd != 2)
				close(lfd);
		}
		/* keep only the ready pipe (locks and other fds stay with the caller) */
		if (pfd[1] != 3) {
			dup2(pfd[1], 3);
			close(pfd[1]);
		}
		vz_close_fds_from(4);
		if (chdir("/") < 0)
			_exit(1);
		struct ploop_server_param sp = {
			.deltas = deltas, .readonly = ro, .fuse_file = ff,
			.desc = desc, .threads = 0, .ready_fd = 3,
		};
		const char *t = getenv("PLOOP_THREADS");
		if (t)
			sp.threads = atoi(t);
		_exit(ploop_server_run(&sp));
	}
	close(pfd[1]);
	waitpid(pid, NULL, 0);
	char ans[1200];
	size_t k = 0;
	while (k < sizeof(ans) - 1) {
		ssize_t r = read(pfd[0], ans + k, sizeof(ans) - 1 - k);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		k += (size_t)r;
	}
	close(pfd[0]);
	ans[k] = '\0';
	vz_strstrip(ans);
	if (!strcmp(ans, "OK")) {
		char *text = NULL, tr[32];
		struct vz_error e2;
		if (ploop_ctl_call(ff, "status", &text, NULL, NULL, &e2) == 0 && strstr(text, "transport=") &&
		    sscanf(strstr(text, "transport="), "transport=%31s", tr) == 1)
			vz_info("ploop server: FUSE transport %s", tr);
		free(text);
		return 0;
	}
	unlink(ff);
	if (!strncmp(ans, "ERR ", 4)) {
		char *end;
		long code = strtol(ans + 4, &end, 10);
		return vz_fail(err, (int)code, "ploop server: %s", *end ? end + 1 : "failed");
	}
	return vz_fail(err, VZ_ESYSTEM, "ploop server did not start");
}

/* The process is gone (or a zombie nobody reaps yet). */
static bool pid_gone(pid_t pid)
{
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return true;
	_cleanup_free_ char *p = xasprintf("/proc/%d/stat", (int)pid);
	_cleanup_free_ char *st = NULL;
	struct vz_error e;
	if (vz_read_file(p, &st, NULL, &e) < 0)
		return true;
	const char *rp = strrchr(st, ')');
	return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static int server_stop(const char *ff, struct vz_error *err)
{
	if (ploop_ctl_alive(ff)) {
		char *text = NULL;
		pid_t pid = 0;
		struct vz_error e2;
		if (ploop_ctl_call(ff, "status", &text, NULL, NULL, &e2) == 0) {
			char *pp = strstr(text, "pid=");
			pid = pp ? atoi(pp + 4) : 0;
		}
		free(text);
		if (ploop_ctl_call(ff, "stop", NULL, NULL, NULL, err) < 0)
			return -1;
		/* gone means gone: the process, not just its socket */
		for (int i = 0; i < 1000; i++) {
			if (!ploop_ctl_alive(ff) && pid_gone(pid))
				break;
			sleep_ms(10);
		}
	}
	if (fuse_mounted(ff))
		umount2(ff, MNT_DETACH);
	unlink(ff);
	/* the socket file of a server that died */
	size_t alen;
	_cleanup_free_ char *a = ploop_ctl_address(ff, &alen);
	if (a[0] && !ploop_ctl_alive(ff))
		unlink(a);
	return 0;
}

/* Repairs images left dirty by a crash before they are served. */
static int check_dirty(char **deltas, struct vz_error *err)
{
	for (size_t i = 0; deltas[i]; i++) {
		struct ploop_delta d;
		if (ploop_delta_open(&d, deltas[i], PLOOP_OPEN_NOCHECK, err) < 0)
			return -1;
		bool dirty = d.hdr.inuse != 0;
		bool partial = d.file_size % d.cluster != 0;
		ploop_delta_close(&d);
		if (!dirty && !partial)
			continue;
		vz_warn("%s was not closed cleanly: checking and repairing", deltas[i]);
		struct ploop_check_stats st;
		FILE *out = vz_log_verbosity() >= VZ_LOG_INFO ? stderr : NULL;
		if (ploop_check(deltas[i], PLOOP_CHECK_REPAIR, out, &st, err) < 0)
			return vz_prefix(err, "repair");
	}
	return 0;
}

/* --- mount / umount (lock held) --- */

static int fs_mount(const char *dev, const char *target, const char *fstype,
		    const char *options, bool ro, struct vz_error *err)
{
	if (!fstype)
		fstype = "ext4";
	_cleanup_free_ char *opts = xstrdup(options ? options : "");
	unsigned long fl = ro ? MS_RDONLY : 0;
	if (ro && !strcmp(fstype, "ext4")) {
		free(opts);
		opts = xasprintf("%s%snoload", options ? options : "", options ? "," : "");
	}
	if (mount(dev, target, fstype, fl, opts) < 0)
		return vz_fail_errno(err, errno == ENOENT ? VZ_ENOENT : VZ_ESYSTEM,
				     "mount %s on %s", dev, target);
	return 0;
}

static int do_mount(const struct ploop_desc *d, const struct ploop_mount_param *p,
		    char **devp, struct vz_error *err)
{
	const char *guid = p->guid;
	if (guid && !strcasecmp(guid, d->top_guid))
		guid = NULL;
	bool ro = p->readonly || guid;
	_cleanup_free_ char *ff = ploop_fuse_file(d, guid);
	_cleanup_strv_ char **deltas = NULL;
	if (ploop_ctl_alive(ff)) {
		_cleanup_free_ char *dev = ploop_loop_of(ff);
		return vz_fail(err, VZ_ESTATE, "%s is already mounted%s%s", d->path,
			       dev ? " at " : "", dev ? dev : "");
	}
	if (fuse_mounted(ff) || ploop_loop_of(ff)) {
		/* a server that died: clear what it left */
		vz_warn("cleaning up after a ploop server that died");
		if (ploop_umount_ff(ff, err) < 0)
			return -1;
	}
	if (chain_paths(d, guid, &deltas, err) < 0)
		return -1;
	if (!guid && !p->readonly && check_dirty(deltas, err) < 0)
		return -1;
	if (server_start(d->path, deltas, ro, ff, err) < 0)
		return -1;
	char *dev = NULL;
	if (loop_attach(ff, ro, &dev, err) < 0)
		goto fail;
	if (!ploop_loop_dio(dev))
		vz_warn("%s: the kernel refused direct I/O on the loop device", dev);
	if (p->target && fs_mount(dev, p->target, p->fstype, p->options, ro, err) < 0) {
		struct vz_error e2;
		loop_detach(dev, ff, &e2);
		free(dev);
		goto fail;
	}
	*devp = dev;
	return 0;
fail:
	{
		struct vz_error e2;
		server_stop(ff, &e2);
	}
	return -1;
}

/* Unmounts the fs on the loop of ff, detaches it and stops its server. */
int ploop_umount_ff(const char *ff, struct vz_error *err)
{
	_cleanup_free_ char *dev = ploop_loop_of(ff);
	if (dev) {
		char *mp;
		while ((mp = mountpoint_of(dev))) {
			if (umount2(mp, 0) < 0) {
				int e = errno;
				vz_fail_errnum(err, VZ_ESTATE, e, "unmount %s", mp);
				free(mp);
				return -1;
			}
			free(mp);
		}
		if (loop_detach(dev, ff, err) < 0)
			return -1;
	}
	return server_stop(ff, err);
}

int ploop_mount(const char *arg, const struct ploop_mount_param *p, char **device,
		struct vz_error *err)
{
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	if (p->guid && !ploop_desc_snap(&d, p->guid)) {
		vz_fail(err, VZ_ENOENT, "%s: no snapshot %s", d.path, p->guid);
		ploop_desc_free(&d);
		return -1;
	}
	int rc = do_mount(&d, p, device, err);
	ploop_desc_free(&d);
	return rc;
}

int ploop_umount(const char *arg, const char *guid, struct vz_error *err)
{
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	if (guid && !strcasecmp(guid, d.top_guid))
		guid = NULL;
	_cleanup_free_ char *ff = ploop_fuse_file(&d, guid);
	int rc;
	if (!ploop_ctl_alive(ff) && !fuse_mounted(ff) && !ploop_loop_of(ff))
		rc = vz_fail(err, VZ_ESTATE, "%s%s%s is not mounted", d.path,
			     guid ? " snapshot " : "", guid ? guid : "");
	else
		rc = ploop_umount_ff(ff, err);
	ploop_desc_free(&d);
	return rc;
}

/* --- init --- */

static bool has_ext4(const char *dev)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
	uint16_t magic = 0;
	return fd >= 0 && pread(fd, &magic, 2, 1024 + 56) == 2 && magic == 0xEF53;
}

int ploop_init(const char *image, const struct ploop_init_param *p, struct vz_error *err)
{
	_cleanup_free_ char *copy = NULL;
	_cleanup_free_ char *descp = NULL;
	_cleanup_free_ char *bcopy = NULL;
	uint32_t cl = p->cluster_sectors ? p->cluster_sectors : PLOOP_DEF_CLUSTER_SECTORS;
	struct ploop_hdr h;
	if (p->fstype && *p->fstype && strcmp(p->fstype, "ext4") && strcmp(p->fstype, "ext3"))
		return vz_fail(err, VZ_EUSAGE, "file system type '%s' is not supported (ext4, ext3)",
			       p->fstype);
	if (ploop_hdr_init(&h, p->size, cl, err) < 0)
		return -1;
	if (p->size < 1024 * 1024 && p->fstype && *p->fstype)
		return vz_fail(err, VZ_EUSAGE, "disk size must be at least 1M for a file system");
	if (vz_path_exists(image))
		return vz_fail(err, VZ_EEXIST, "%s already exists", image);
	copy = xstrdup(image);
	char *dir = dirname(copy);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return vz_fail(err, VZ_ENOENT, "directory %s does not exist", dir);
	descp = xasprintf("%s/%s", dir, PLOOP_DESC_NAME);
	if (vz_path_exists(descp))
		return vz_fail(err, VZ_EEXIST, "%s already exists", descp);
	_cleanup_close_ int lock = ploop_lock(descp, err);
	if (lock < 0)
		return -1;
	if (ploop_delta_create(image, p->size, cl, err) < 0)
		goto fail_lock;
	struct ploop_desc d;
	bcopy = xstrdup(image);
	ploop_desc_new(&d, descp, h.size_sectors, cl, basename(bcopy), err);
	if (ploop_desc_write(&d, err) < 0) {
		ploop_desc_free(&d);
		unlink(image);
		goto fail_lock;
	}
	if (p->fstype && *p->fstype) {
		struct ploop_mount_param mp = { 0 };
		char *dev = NULL;
		if (do_mount(&d, &mp, &dev, err) < 0)
			goto fail;
		char *argv[] = { p->fstype[3] == '3' ? "mkfs.ext3" : "mkfs.ext4", "-q", "-F",
				 "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
				 dev, NULL };
		struct vz_error e2;
		int st2 = vz_run(argv, NULL, err);
		_cleanup_free_ char *ff = ploop_fuse_file(&d, NULL);
		int urc = ploop_umount_ff(ff, &e2);
		free(dev);
		if (st2 != 0) {
			if (st2 > 0)
				vz_fail(err, VZ_ESYSTEM, "mkfs failed (exit %d)", st2);
			goto fail;
		}
		if (urc < 0) {
			*err = e2;
			goto fail;
		}
	}
	ploop_desc_free(&d);
	return 0;
fail:
	unlink(d.path);
	ploop_desc_free(&d);
	unlink(image);
fail_lock:
	{
		_cleanup_free_ char *lck = xasprintf("%s.lck", descp);
		unlink(lck);
	}
	return vz_prefix(err, "init %s", image);
}

int ploop_restore_desc(const char *image, struct vz_error *err)
{
	struct ploop_delta dl;
	if (ploop_delta_open(&dl, image, PLOOP_OPEN_NOCHECK, err) < 0)
		return -1;
	_cleanup_free_ char *copy = xstrdup(image);
	_cleanup_free_ char *bcopy = xstrdup(image);
	_cleanup_free_ char *descp = xasprintf("%s/%s", dirname(copy), PLOOP_DESC_NAME);
	int rc = -1;
	if (vz_path_exists(descp)) {
		vz_fail(err, VZ_EEXIST, "%s already exists", descp);
		goto out;
	}
	struct ploop_desc d;
	ploop_desc_new(&d, descp, dl.hdr.size_sectors, dl.hdr.sectors, basename(bcopy), err);
	rc = ploop_desc_write(&d, err);
	ploop_desc_free(&d);
out:
	ploop_delta_close(&dl);
	return rc;
}

/* --- check of a whole disk --- */

int ploop_check_disk(const char *arg, int flags, FILE *out,
		     struct ploop_check_stats *stats, struct vz_error *err)
{
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	memset(stats, 0, sizeof(*stats));
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < d.nimages; i++) {
		_cleanup_free_ char *p = ploop_desc_image_path(&d, &d.images[i]);
		struct ploop_check_stats st = { 0 };
		struct vz_error e;
		if (ploop_check(p, flags, out, &st, &e) < 0) {
			/* report every image; keep the first failure */
			if (rc == 0)
				*err = e;
			else if (out)
				fprintf(out, "%s\n", e.msg);
			rc = -1;
		}
		stats->defects += st.defects;
		stats->repaired += st.repaired;
		stats->clusters += st.clusters;
	}
	ploop_desc_free(&d);
	return rc;
}

/* --- info / list --- */

int ploop_get_info(const char *arg, struct ploop_info *info, struct vz_error *err)
{
	struct ploop_desc d;
	memset(info, 0, sizeof(*info));
	if (ploop_load(arg, &d, NULL, err) < 0)
		return -1;
	_cleanup_strv_ char **chain = NULL;
	if (ploop_desc_chain(&d, NULL, &chain, err) < 0) {
		ploop_desc_free(&d);
		return -1;
	}
	info->desc = xstrdup(d.path);
	info->size = d.size_sectors * PLOOP_SECTOR;
	info->cluster = d.blocksize * PLOOP_SECTOR;
	info->ndeltas = vz_strv_len(chain);
	info->deltas = xcalloc(info->ndeltas, sizeof(*info->deltas));
	for (size_t i = 0; chain[i]; i++) {
		struct ploop_delta_info *di = &info->deltas[i];
		struct ploop_image *im = ploop_desc_image(&d, chain[i]);
		struct ploop_snap *sn = ploop_desc_snap(&d, chain[i]);
		snprintf(di->guid, sizeof(di->guid), "%s", chain[i]);
		snprintf(di->parent, sizeof(di->parent), "%s", sn->parent);
		di->file = ploop_desc_image_path(&d, im);
		struct ploop_delta dl;
		if (ploop_delta_open(&dl, di->file, PLOOP_OPEN_NOCHECK, err) < 0) {
			ploop_desc_free(&d);
			ploop_info_free(info);
			return -1;
		}
		di->file_size = dl.file_size;
		di->dirty = dl.hdr.inuse != 0;
		for (uint32_t c = 0; c < dl.hdr.bat_entries; c++)
			di->clusters += dl.bat[c] != 0;
		if (i + 1 == info->ndeltas)
			info->size = dl.hdr.size_sectors * PLOOP_SECTOR;
		ploop_delta_close(&dl);
	}
	info->fuse_file = ploop_fuse_file(&d, NULL);
	info->mounted = ploop_ctl_alive(info->fuse_file);
	if (info->mounted) {
		char *text = NULL;
		struct vz_error e2;
		if (ploop_ctl_call(info->fuse_file, "status", &text, NULL, NULL, &e2) == 0) {
			char *pp = strstr(text, "pid=");
			if (pp)
				info->server_pid = atoi(pp + 4);
			char *sz = strstr(text, "size=");
			if (sz)
				info->size = strtoull(sz + 5, NULL, 10);
		}
		free(text);
		info->device = ploop_loop_of(info->fuse_file);
		if (info->device)
			info->mountpoint = mountpoint_of(info->device);
	}
	for (size_t i = 0; i < d.nsnaps; i++) {
		_cleanup_free_ char *vff = ploop_fuse_file(&d, d.snaps[i].guid);
		if (!vz_path_exists(vff) || !ploop_ctl_alive(vff))
			continue;
		info->views = xrealloc(info->views, (info->nviews + 1) * sizeof(*info->views));
		struct ploop_view_info *v = &info->views[info->nviews++];
		snprintf(v->guid, sizeof(v->guid), "%s", d.snaps[i].guid);
		v->device = ploop_loop_of(vff);
		v->mountpoint = v->device ? mountpoint_of(v->device) : NULL;
	}
	ploop_desc_free(&d);
	return 0;
}

void ploop_info_free(struct ploop_info *info)
{
	for (size_t i = 0; i < info->ndeltas; i++)
		free(info->deltas[i].file);
	free(info->deltas);
	for (size_t i = 0; i < info->nviews; i++) {
		free(info->views[i].device);
		free(info->views[i].mountpoint);
	}
	free(info->views);
	free(info->desc);
	free(info->fuse_file);
	free(info->device);
	free(info->mountpoint);
	memset(info, 0, sizeof(*info));
}

int ploop_list_mounted(char ***descs, struct vz_error *err)
{
	(void)err;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char **out = NULL;
	if (!f) {
		*descs = NULL;
		return vz_fail_errno(err, VZ_ESYSTEM, "read /proc/self/mountinfo");
	}
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char mp[4096], fst[256], src[4096];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
		    sscanf(sep + 3, "%255s %4095s", fst, src) != 2)
			continue;
		if (strcmp(fst, "fuse.ploop"))
			continue;
		/* the main view only; snapshot views are listed by info */
		const char *b = strrchr(mp, '/');
		if (!b || strcmp(b + 1, ".ploop.fuse"))
			continue;
		out = vz_strv_push(out, src);
	}
	free(line);
	*descs = out;
	return 0;
}

/* --- snapshots --- */

int ploop_freeze(const char *mp, int *fdp, struct vz_error *err)
{
	*fdp = -1;
	if (!mp)
		return 0;
	int fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", mp);
	if (ioctl(fd, FIFREEZE, 0) < 0) {
		close(fd);
		return vz_fail_errno(err, VZ_ESYSTEM, "freeze %s", mp);
	}
	*fdp = fd;
	return 0;
}

void ploop_thaw(int fd)
{
	if (fd < 0)
		return;
	if (ioctl(fd, FITHAW, 0) < 0)
		vz_warn("thaw: %s", strerror(errno));
	close(fd);
}

/* The fs mounted from ff's loop device, if any. */
char *ploop_fs_of(const char *ff)
{
	_cleanup_free_ char *dev = ploop_loop_of(ff);
	return dev ? mountpoint_of(dev) : NULL;
}

int ploop_snapshot(const char *arg, char guid_out[39], struct vz_error *err)
{
	_cleanup_free_ char *toppath = NULL;
	_cleanup_free_ char *base = NULL;
	_cleanup_free_ char *nfile = NULL;
	_cleanup_free_ char *npath = NULL;
	_cleanup_free_ char *ff = NULL;
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc = -1;
	char sguid[39], fguid[39];
	ploop_guid_new(sguid);
	ploop_guid_new(fguid);
	struct ploop_image *topim = ploop_desc_image(&d, d.top_guid);
	toppath = ploop_desc_image_path(&d, topim);
	struct ploop_delta td;
	if (ploop_delta_open(&td, toppath, PLOOP_OPEN_NOCHECK, err) < 0)
		goto out;
	uint64_t size = td.hdr.size_sectors * PLOOP_SECTOR;
	uint32_t cl = td.hdr.sectors;
	ploop_delta_close(&td);
	/* new file name: the base's name with the new delta's GUID */
	base = xstrdup(d.images[0].file);
	char *brace = strstr(base, ".{");
	if (brace)
		*brace = '\0';
	nfile = xasprintf("%s.%s", base, fguid);
	npath = nfile[0] == '/' ? xstrdup(nfile) :
		xasprintf("%s/%s", d.dir, nfile);
	if (ploop_delta_create(npath, size, cl, err) < 0)
		goto out;
	/* The descriptor names the new (empty) top before anything is written
	 * to it: a crash in between leaves the same content either way. */
	struct ploop_image *oim = ploop_desc_image(&d, d.top_guid);
	struct ploop_snap *osn = ploop_desc_snap(&d, d.top_guid);
	free(oim->guid);
	oim->guid = xstrdup(sguid);
	free(osn->guid);
	osn->guid = xstrdup(sguid);
	for (size_t i = 0; i < d.nsnaps; i++)
		if (!strcasecmp(d.snaps[i].parent, PLOOP_TOP_GUID)) {
			free(d.snaps[i].parent);
			d.snaps[i].parent = xstrdup(sguid);
		}
	ploop_desc_add(&d, PLOOP_TOP_GUID, sguid, nfile);
	if (ploop_desc_write(&d, err) < 0) {
		unlink(npath);
		goto out;
	}
	ff = ploop_fuse_file(&d, NULL);
	if (ploop_ctl_alive(ff)) {
		_cleanup_free_ char *mp = ploop_fs_of(ff);
		int fz = -1;
		_cleanup_free_ char *cmd = xasprintf("snapshot-prepare %s", npath);
		if (ploop_ctl_call(ff, cmd, NULL, NULL, NULL, err) < 0)
			goto undo;
		/* write back first, so the freeze itself has little to do */
		if (mp) {
			_cleanup_close_ int mfd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (mfd >= 0)
				syncfs(mfd);
		}
		uint64_t t0 = vz_now_ns();
		if (ploop_freeze(mp, &fz, err) < 0)
			goto undo;
		uint64_t t1 = vz_now_ns();
		int r = ploop_ctl_call(ff, "snapshot-switch", NULL, NULL, NULL, err);
		uint64_t t2 = vz_now_ns();
		ploop_thaw(fz);
		uint64_t t3 = vz_now_ns();
		vz_info("snapshot switch took %.1f ms (fs frozen): freeze %.1f, switch %.1f, thaw %.1f",
			(double)(t3 - t0) / 1e6, (double)(t1 - t0) / 1e6,
			(double)(t2 - t1) / 1e6, (double)(t3 - t2) / 1e6);
		if (r < 0)
			goto undo;
	}
	snprintf(guid_out, 39, "%s", sguid);
	rc = 0;
	goto out;
undo:
	{
		/* back to the old descriptor */
		struct vz_error e2;
		ploop_desc_remove(&d, PLOOP_TOP_GUID);
		struct ploop_image *im = ploop_desc_image(&d, sguid);
		struct ploop_snap *sn = ploop_desc_snap(&d, sguid);
		free(im->guid);
		im->guid = xstrdup(PLOOP_TOP_GUID);
		free(sn->guid);
		sn->guid = xstrdup(PLOOP_TOP_GUID);
		for (size_t i = 0; i < d.nsnaps; i++)
			if (!strcasecmp(d.snaps[i].parent, sguid)) {
				free(d.snaps[i].parent);
				d.snaps[i].parent = xstrdup(PLOOP_TOP_GUID);
			}
		free(d.top_guid);
		d.top_guid = xstrdup(PLOOP_TOP_GUID);
		if (ploop_desc_write(&d, &e2) == 0)
			unlink(npath);
	}
out:
	ploop_desc_free(&d);
	return rc < 0 ? vz_prefix(err, "snapshot") : 0;
}

static bool in_chain(char **chain, const char *guid, size_t *pos)
{
	for (size_t i = 0; chain[i]; i++)
		if (!strcasecmp(chain[i], guid)) {
			if (pos)
				*pos = i;
			return true;
		}
	return false;
}

/* Offline merge of delta `src` into `dst` (its child): copy what only src
 * holds, then the caller drops src. */
static int merge_offline(const char *srcp, const char *dstp, struct vz_error *err)
{
	struct ploop_delta s, t;
	if (ploop_delta_open(&s, srcp, 0, err) < 0)
		return -1;
	if (ploop_delta_open(&t, dstp, PLOOP_OPEN_RDWR, err) < 0) {
		ploop_delta_close(&s);
		return -1;
	}
	int rc = 0;
	char *buf = ploop_aligned_alloc(s.cluster);
	bool any = false;
	for (uint32_t c = 0; c < s.hdr.bat_entries && c < t.hdr.bat_entries; c++) {
		if (!s.bat[c] || t.bat[c])
			continue;
		uint64_t fo = t.alloc_end++;
		if (ploop_delta_pread(&s, buf, s.cluster, (uint64_t)s.bat[c] * s.cluster, err) < 0 ||
		    ploop_delta_pwrite(&t, buf, t.cluster, fo * t.cluster, err) < 0) {
			rc = -1;
			goto out;
		}
		t.bat[c] = (uint32_t)fo;
		any = true;
	}
	if (any && (fdatasync(t.bfd) < 0 ||
		    ploop_delta_write_bat(&t, NULL, 0, t.hdr.bat_entries, err) < 0 ||
		    fdatasync(t.bfd) < 0))
		rc = vz_fail_errno(err, VZ_ESYSTEM, "write %s", dstp);
out:
	free(buf);
	ploop_delta_close(&s);
	ploop_delta_close(&t);
	return rc;
}

/* Merges snapshot guid into its child in the current chain. */
static int merge_locked(struct ploop_desc *d, const char *guid, struct vz_error *err)
{
	_cleanup_strv_ char **chain = NULL;
	_cleanup_free_ char *sp = NULL;
	_cleanup_free_ char *cp = NULL;
	_cleanup_free_ char *ff = NULL;
	_cleanup_free_ char *snapff = NULL;
	size_t pos;
	if (ploop_desc_chain(d, NULL, &chain, err) < 0)
		return -1;
	if (!strcasecmp(guid, d->top_guid))
		return vz_fail(err, VZ_EUSAGE, "%s is the top delta, not a snapshot", guid);
	if (!in_chain(chain, guid, &pos))
		return vz_fail(err, VZ_ESTATE, "snapshot %s is not in the current chain", guid);
	const char *child = chain[pos + 1];
	struct ploop_image *sim = ploop_desc_image(d, guid);
	struct ploop_image *cim = ploop_desc_image(d, child);
	sp = ploop_desc_image_path(d, sim);
	cp = ploop_desc_image_path(d, cim);
	ff = ploop_fuse_file(d, NULL);
	snapff = ploop_fuse_file(d, guid);
	if (ploop_ctl_alive(snapff))
		return vz_fail(err, VZ_ESTATE, "snapshot %s is mounted; ploop umount -u %s first",
			       guid, guid);
	if (ploop_ctl_alive(ff)) {
		_cleanup_free_ char *cmd = xasprintf("merge %zu", pos);
		if (ploop_ctl_call(ff, cmd, NULL, NULL, NULL, err) < 0)
			return -1;
	} else if (merge_offline(sp, cp, err) < 0) {
		return -1;
	}
	struct ploop_snap *csn = ploop_desc_snap(d, child);
	struct ploop_snap *ssn = ploop_desc_snap(d, guid);
	free(csn->parent);
	csn->parent = xstrdup(ssn->parent);
	ploop_desc_remove(d, guid);
	if (ploop_desc_write(d, err) < 0)
		return -1;
	if (unlink(sp) < 0)
		vz_warn("remove %s: %s", sp, strerror(errno));
	return 0;
}

int ploop_snapshot_merge(const char *arg, const char *guid, struct vz_error *err)
{
	_cleanup_free_ char *g = NULL;
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc;
	if (!guid) {
		/* default: the top's parent */
		struct ploop_snap *t = ploop_desc_snap(&d, d.top_guid);
		if (!strcasecmp(t->parent, PLOOP_NULL_GUID)) {
			rc = vz_fail(err, VZ_ESTATE, "%s has no snapshot to merge", d.path);
			goto out;
		}
		guid = t->parent;
	}
	if (!ploop_desc_snap(&d, guid)) {
		rc = vz_fail(err, VZ_ENOENT, "%s: no snapshot %s", d.path, guid);
		goto out;
	}
	g = xstrdup(guid);
	rc = merge_locked(&d, g, err);
out:
	ploop_desc_free(&d);
	return rc < 0 ? vz_prefix(err, "merge") : 0;
}

int ploop_snapshot_delete(const char *arg, const char *guid, struct vz_error *err)
{
	_cleanup_strv_ char **chain = NULL;
	_cleanup_free_ char *g = NULL;
	_cleanup_free_ char *snapff = NULL;
	_cleanup_free_ char *sp = NULL;
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc = -1;
	if (!ploop_desc_snap(&d, guid)) {
		vz_fail(err, VZ_ENOENT, "%s: no snapshot %s", d.path, guid);
		goto out;
	}
	if (!strcasecmp(guid, d.top_guid)) {
		vz_fail(err, VZ_EUSAGE, "%s is the top delta; it cannot be deleted", guid);
		goto out;
	}
	if (ploop_desc_chain(&d, NULL, &chain, err) < 0)
		goto out;
	g = xstrdup(guid);
	if (in_chain(chain, g, NULL)) {
		/* in use by the current state: fold it into its child */
		rc = merge_locked(&d, g, err);
		goto out;
	}
	size_t nchild;
	const char *child = ploop_desc_child(&d, g, &nchild);
	if (nchild > 1) {
		vz_fail(err, VZ_ESTATE, "snapshot %s has %zu children; delete them first", g, nchild);
		goto out;
	}
	snapff = ploop_fuse_file(&d, g);
	if (ploop_ctl_alive(snapff)) {
		vz_fail(err, VZ_ESTATE, "snapshot %s is mounted; ploop umount -u %s first", g, g);
		goto out;
	}
	struct ploop_image *sim = ploop_desc_image(&d, g);
	sp = ploop_desc_image_path(&d, sim);
	if (child) {
		struct ploop_image *cim = ploop_desc_image(&d, child);
		_cleanup_free_ char *cp = ploop_desc_image_path(&d, cim);
		if (merge_offline(sp, cp, err) < 0)
			goto out;
		struct ploop_snap *csn = ploop_desc_snap(&d, child);
		free(csn->parent);
		csn->parent = xstrdup(ploop_desc_snap(&d, g)->parent);
	}
	ploop_desc_remove(&d, g);
	if (ploop_desc_write(&d, err) < 0)
		goto out;
	unlink(sp);
	rc = 0;
out:
	ploop_desc_free(&d);
	return rc < 0 ? vz_prefix(err, "delete snapshot") : 0;
}

int ploop_snapshot_switch(const char *arg, const char *guid, struct vz_error *err)
{
	_cleanup_free_ char *ff = NULL;
	_cleanup_free_ char *tp = NULL;
	_cleanup_free_ char *base = NULL;
	_cleanup_free_ char *nfile = NULL;
	_cleanup_free_ char *npath = NULL;
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc = -1;
	ff = ploop_fuse_file(&d, NULL);
	if (!ploop_desc_snap(&d, guid)) {
		vz_fail(err, VZ_ENOENT, "%s: no snapshot %s", d.path, guid);
		goto out;
	}
	if (!strcasecmp(guid, d.top_guid)) {
		vz_fail(err, VZ_EUSAGE, "%s is already the current state", guid);
		goto out;
	}
	if (ploop_ctl_alive(ff)) {
		vz_fail(err, VZ_ESTATE, "%s is mounted; unmount it to switch snapshots", d.path);
		goto out;
	}
	/* The current top is discarded; a fresh empty top grows on guid. */
	struct ploop_image *tim = ploop_desc_image(&d, d.top_guid);
	tp = ploop_desc_image_path(&d, tim);
	struct ploop_delta td;
	if (ploop_delta_open(&td, tp, PLOOP_OPEN_NOCHECK, err) < 0)
		goto out;
	uint64_t size = td.hdr.size_sectors * PLOOP_SECTOR;
	uint32_t cl = td.hdr.sectors;
	ploop_delta_close(&td);
	char fguid[39];
	ploop_guid_new(fguid);
	base = xstrdup(d.images[0].file);
	char *brace = strstr(base, ".{");
	if (brace)
		*brace = '\0';
	nfile = xasprintf("%s.%s", base, fguid);
	npath = nfile[0] == '/' ? xstrdup(nfile) :
		xasprintf("%s/%s", d.dir, nfile);
	if (ploop_delta_create(npath, size, cl, err) < 0)
		goto out;
	ploop_desc_remove(&d, PLOOP_TOP_GUID);
	ploop_desc_add(&d, PLOOP_TOP_GUID, guid, nfile);
	if (ploop_desc_write(&d, err) < 0) {
		unlink(npath);
		goto out;
	}
	if (unlink(tp) < 0)
		vz_warn("remove %s: %s", tp, strerror(errno));
	rc = 0;
out:
	ploop_desc_free(&d);
	return rc < 0 ? vz_prefix(err, "switch snapshot") : 0;
}

/* --- resize --- */

#define CAP_SYS_RESOURCE 24

static bool has_cap(int cap)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			return v & (1ULL << cap);
	}
	return false;
}

static int run_tool(const char *what, char *const argv[], struct vz_error *err)
{
	int st = vz_run(argv, NULL, err);
	if (st < 0)
		return -1;
	/* e2fsck: 1 = errors corrected */
	if (st != 0 && !(st == 1 && !strcmp(argv[0], "e2fsck")))
		return vz_fail(err, VZ_ESYSTEM, "%s failed (exit %d)", what, st);
	return 0;
}

static int update_desc_size(struct ploop_desc *d, uint64_t size_sectors,
			    struct vz_error *err)
{
	d->size_sectors = size_sectors;
	d->cylinders = (uint32_t)(size_sectors / (16 * 63));
	return ploop_desc_write(d, err);
}

int ploop_resize(const char *arg, uint64_t size, struct vz_error *err)
{
	_cleanup_free_ char *ff = NULL;
	_cleanup_free_ char *tp = NULL;
	_cleanup_strv_ char **deltas = NULL;
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc = -1;
	ff = ploop_fuse_file(&d, NULL);
	struct ploop_image *tim = ploop_desc_image(&d, d.top_guid);
	tp = ploop_desc_image_path(&d, tim);
	struct ploop_delta td;
	if (ploop_delta_open(&td, tp, PLOOP_OPEN_NOCHECK, err) < 0)
		goto out;
	uint64_t cur = td.hdr.size_sectors * PLOOP_SECTOR;
	uint32_t cl = td.hdr.sectors;
	ploop_delta_close(&td);
	struct ploop_hdr nh;
	if (ploop_hdr_init(&nh, size, cl, err) < 0)
		goto out;
	uint64_t want = nh.size_sectors * PLOOP_SECTOR;
	bool live = ploop_ctl_alive(ff);
	if (want == cur && live) {
		rc = 0;
		goto out;
	}
	/* Offline, the same size still grows the fs to the disk (finishing
	 * a live grow whose online fs resize the kernel refused). */
	if (want >= cur) {
		char *dev = NULL;
		bool temp = false;
		if (!live) {
			struct ploop_mount_param mp = { 0 };
			if (do_mount(&d, &mp, &dev, err) < 0)
				goto out;
			temp = true;
		} else {
			dev = ploop_loop_of(ff);
		}
		_cleanup_free_ char *cmd = xasprintf("grow %" PRIu64, want);
		if (want > cur && ploop_ctl_call(ff, cmd, NULL, NULL, NULL, err) < 0)
			goto grow_done;
		if (want > cur && update_desc_size(&d, nh.size_sectors, err) < 0)
			goto grow_done;
		struct stat st;
		stat(ff, &st);  /* fetches the new size into the kernel */
		if (dev) {
			_cleanup_close_ int lfd = open(dev, O_RDONLY | O_CLOEXEC);
			if (lfd < 0 || ioctl(lfd, LOOP_SET_CAPACITY, 0) < 0) {
				vz_fail_errno(err, VZ_ESYSTEM, "set capacity of %s", dev);
				goto grow_done;
			}
			if (has_ext4(dev)) {
				_cleanup_free_ char *mp = mountpoint_of(dev);
				if (!mp) {
					char *fsck[] = { "e2fsck", "-f", "-p", dev, NULL };
					if (run_tool("e2fsck", fsck, err) < 0)
						goto grow_done;
				}
				if (mp && !has_cap(CAP_SYS_RESOURCE)) {
					char sz[32];
					vz_format_size(want, sz, sizeof(sz));
					vz_fail(err, VZ_ENOSYS,
						"%s grew to %s, but online ext4 resize needs CAP_SYS_RESOURCE, which this process lacks; unmount and run ploop resize again to grow the file system",
						d.path, sz);
					goto grow_done;
				}
				char *rs[] = { "resize2fs", "-f", dev, NULL };
				if (!mp)
					rs[1] = "-p";
				if (run_tool("resize2fs", rs, err) < 0)
					goto grow_done;
			}
		}
		rc = 0;
grow_done:
		if (temp) {
			struct vz_error e2;
			if (ploop_umount_ff(ff, &e2) < 0 && rc == 0) {
				*err = e2;
				rc = -1;
			}
		}
		free(dev);
		goto out;
	}
	/* shrink: offline only; the fs first, then the image */
	if (live) {
		vz_fail(err, VZ_ESTATE, "%s is mounted; shrinking works offline only (unmount first)",
			d.path);
		goto out;
	}
	{
		struct ploop_mount_param mp = { 0 };
		char *dev = NULL;
		if (do_mount(&d, &mp, &dev, err) < 0)
			goto out;
		int r = 0;
		if (has_ext4(dev)) {
			char *fsck[] = { "e2fsck", "-f", "-p", dev, NULL };
			_cleanup_free_ char *k = xasprintf("%" PRIu64 "K", want / 1024);
			char *rs[] = { "resize2fs", "-p", dev, k, NULL };
			r = run_tool("e2fsck", fsck, err);
			if (r == 0)
				r = run_tool("resize2fs", rs, err);
		}
		struct vz_error e2;
		if (ploop_umount_ff(ff, &e2) < 0 && r == 0) {
			*err = e2;
			r = -1;
		}
		free(dev);
		if (r < 0)
			goto out;
	}
	if (chain_paths(&d, NULL, &deltas, err) < 0)
		goto out;
	for (size_t i = 0; deltas[i]; i++) {
		struct ploop_delta dl;
		if (ploop_delta_open(&dl, deltas[i], PLOOP_OPEN_RDWR, err) < 0)
			goto out;
		uint32_t nb = nh.bat_entries;
		if (nb < dl.hdr.bat_entries) {
			/* entries past the end are dropped (zero on disk first) */
			memset(dl.bat + nb, 0, (size_t)(dl.hdr.bat_entries - nb) * 4);
			if (ploop_delta_write_bat(&dl, NULL, nb, dl.hdr.bat_entries - nb, err) < 0 ||
			    fdatasync(dl.bfd) < 0) {
				ploop_delta_close(&dl);
				goto out;
			}
			dl.hdr.bat_entries = nb;
		}
		dl.hdr.size_sectors = nh.size_sectors;
		dl.hdr.cylinders = nh.cylinders;
		int r = ploop_delta_write_hdr(&dl, err);
		ploop_delta_close(&dl);
		if (r < 0)
			goto out;
		/* clusters past the end are now unreferenced: trim the tail */
		struct ploop_check_stats cs;
		if (ploop_check(deltas[i], PLOOP_CHECK_REPAIR, NULL, &cs, err) < 0)
			goto out;
	}
	if (update_desc_size(&d, nh.size_sectors, err) < 0)
		goto out;
	rc = 0;
out:
	ploop_desc_free(&d);
	return rc < 0 ? vz_prefix(err, "resize") : 0;
}

/* --- compact --- */

int ploop_compact(const char *arg, uint64_t *freed, struct vz_error *err)
{
	_cleanup_free_ char *ff = NULL;
	_cleanup_free_ char *tmpmp = NULL;
	struct ploop_desc d;
	_cleanup_close_ int lock = -1;
	*freed = 0;
	if (ploop_load(arg, &d, &lock, err) < 0)
		return -1;
	int rc = -1;
	ff = ploop_fuse_file(&d, NULL);
	tmpmp = NULL;
	bool temp = false;
	if (!ploop_ctl_alive(ff)) {
		struct ploop_mount_param mp = { 0 };
		char *dev = NULL;
		if (do_mount(&d, &mp, &dev, err) < 0)
			goto out;
		temp = true;
		if (has_ext4(dev)) {
			tmpmp = xasprintf("%s/.ploop-compact.mnt", d.dir);
			mkdir(tmpmp, 0700);
			if (fs_mount(dev, tmpmp, "ext4", NULL, false, err) < 0) {
				free(dev);
				goto done;
			}
		}
		free(dev);
	}
	{
		_cleanup_free_ char *mp = ploop_fs_of(ff);
		if (mp) {
			/* the fs tells the disk what it does not use */
			_cleanup_close_ int fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			struct fstrim_range r = { .start = 0, .len = UINT64_MAX, .minlen = 0 };
			/* blocks freed in the running transaction are
			 * trimmable only after it commits */
			if (fd >= 0)
				syncfs(fd);
			if (fd < 0 || ioctl(fd, FITRIM, &r) < 0) {
				vz_fail_errno(err, VZ_ESYSTEM, "trim %s", mp);
				goto done;
			}
		}
	}
	char *text = NULL;
	if (ploop_ctl_call(ff, "compact", &text, NULL, NULL, err) < 0)
		goto done;
	*freed = strtoull(text, NULL, 10);
	free(text);
	rc = 0;
done:
	if (temp) {
		struct vz_error e2;
		if (ploop_umount_ff(ff, &e2) < 0 && rc == 0) {
			*err = e2;
			rc = -1;
		}
		if (tmpmp)
			rmdir(tmpmp);
	}
out:
	ploop_desc_free(&d);
	return rc < 0 ? vz_prefix(err, "compact") : 0;
}
