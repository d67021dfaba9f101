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

int ploop_disk_open(const char *arg, int flags, struct ploop_disk *k,
		    struct vz_error *err)
{
	memset(k, 0, sizeof(*k));
	k->lock = -1;
	_cleanup_free_ char *path = ploop_find_desc(arg, err);
	if (!path)
		return -1;
	if ((flags & PLOOP_DISK_LOCK) && (k->lock = ploop_lock(path, err)) < 0)
		return -1;
	if (ploop_desc_read(path, &k->d, err) < 0)
		goto fail;
	struct ploop_image *top = ploop_desc_image(&k->d, k->d.top_guid);
	if (!top) {
		vz_fail(err, VZ_ECONFIG, "%s: no <Image> for the top %s", path, k->d.top_guid);
		goto fail;
	}
	k->top = ploop_desc_image_path(&k->d, top);
	k->ff = ploop_fuse_file(&k->d, NULL);
	if (flags & PLOOP_DISK_GEOMETRY) {
		struct ploop_delta td;
		if (ploop_delta_open(&td, k->top, PLOOP_OPEN_NOCHECK, err) < 0)
			goto fail;
		k->size = td.hdr.size_sectors * PLOOP_SECTOR;
		k->cl = td.hdr.sectors;
		ploop_delta_close(&td);
	}
	return 0;
fail:
	ploop_disk_close(k);
	return -1;
}

void ploop_disk_close(struct ploop_disk *k)
{
	ploop_desc_free(&k->d);
	free(k->top);
	free(k->ff);
	k->top = k->ff = NULL;
	if (k->lock >= 0)
		close(k->lock);
	k->lock = -1;
}

int ploop_disk_new_delta(const struct ploop_disk *k, char **file, char **path,
			 struct vz_error *err)
{
	char fguid[39];
	ploop_guid_new(fguid);
	/* the base's name with the new delta's GUID */
	_cleanup_free_ char *base = xstrdup(k->d.images[0].file);
	char *brace = strstr(base, ".{");
	if (brace)
		*brace = '\0';
	char *f = xasprintf("%s.%s", base, fguid);
	char *p = f[0] == '/' ? xstrdup(f) : xasprintf("%s/%s", k->d.dir, f);
	if (ploop_delta_create(p, k->size, k->cl, err) < 0) {
		free(f);
		free(p);
		return -1;
	}
	*file = f;
	*path = p;
	return 0;
}

/* Fails unless the descriptor lists snapshot guid. */
static int need_snap(const struct ploop_disk *k, const char *guid, struct vz_error *err)
{
	if (!ploop_desc_snap(&k->d, guid))
		return vz_fail(err, VZ_ENOENT, "%s: no snapshot %s", k->d.path, guid);
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
	/* Before 6.x loop sized itself from the cached i_size, which FUSE
	 * fills only at the first GETATTR (Debian's 6.1 made a loop device
	 * of size 0 without it): ask for the attributes first. */
	struct stat st;
	if (fstat(file, &st) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "stat %s", ff);
	if (st.st_size == 0)
		return vz_fail(err, VZ_ESYSTEM, "%s: the ploop server exports an empty disk", ff);
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
	_cleanup_disk_ struct ploop_disk k;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK, &k, err) < 0)
		return -1;
	if (p->guid && need_snap(&k, p->guid, err) < 0)
		return -1;
	return do_mount(&k.d, p, device, err);
}

int ploop_umount(const char *arg, const char *guid, struct vz_error *err)
{
	_cleanup_disk_ struct ploop_disk k;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK, &k, err) < 0)
		return -1;
	if (guid && !strcasecmp(guid, k.d.top_guid))
		guid = NULL;
	_cleanup_free_ char *ff = ploop_fuse_file(&k.d, guid);
	_cleanup_free_ char *dev = ploop_loop_of(ff);
	if (!ploop_ctl_alive(ff) && !fuse_mounted(ff) && !dev)
		return vz_fail(err, VZ_ESTATE, "%s%s%s is not mounted", k.d.path,
			       guid ? " snapshot " : "", guid ? guid : "");
	return ploop_umount_ff(ff, err);
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
	_cleanup_disk_ struct ploop_disk k;
	memset(stats, 0, sizeof(*stats));
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK, &k, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < k.d.nimages; i++) {
		_cleanup_free_ char *p = ploop_desc_image_path(&k.d, &k.d.images[i]);
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
	return rc;
}

/* --- info / list --- */

int ploop_get_info(const char *arg, struct ploop_info *info, struct vz_error *err)
{
	_cleanup_disk_ struct ploop_disk k;
	memset(info, 0, sizeof(*info));
	if (ploop_disk_open(arg, 0, &k, err) < 0)
		return -1;
	_cleanup_strv_ char **chain = NULL;
	if (ploop_desc_chain(&k.d, NULL, &chain, err) < 0) {
		return -1;
	}
	info->desc = xstrdup(k.d.path);
	info->size = k.d.size_sectors * PLOOP_SECTOR;
	info->cluster = k.d.blocksize * PLOOP_SECTOR;
	info->ndeltas = vz_strv_len(chain);
	info->deltas = xcalloc(info->ndeltas, sizeof(*info->deltas));
	for (size_t i = 0; chain[i]; i++) {
		struct ploop_delta_info *di = &info->deltas[i];
		struct ploop_image *im = ploop_desc_image(&k.d, chain[i]);
		struct ploop_snap *sn = ploop_desc_snap(&k.d, chain[i]);
		snprintf(di->guid, sizeof(di->guid), "%s", chain[i]);
		snprintf(di->parent, sizeof(di->parent), "%s", sn->parent);
		di->file = ploop_desc_image_path(&k.d, im);
		struct ploop_delta dl;
		if (ploop_delta_open(&dl, di->file, PLOOP_OPEN_NOCHECK, err) < 0) {
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
	info->fuse_file = ploop_fuse_file(&k.d, NULL);
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
	for (size_t i = 0; i < k.d.nsnaps; i++) {
		_cleanup_free_ char *vff = ploop_fuse_file(&k.d, k.d.snaps[i].guid);
		if (!vz_path_exists(vff) || !ploop_ctl_alive(vff))
			continue;
		info->views = xrealloc(info->views, (info->nviews + 1) * sizeof(*info->views));
		struct ploop_view_info *v = &info->views[info->nviews++];
		snprintf(v->guid, sizeof(v->guid), "%s", k.d.snaps[i].guid);
		v->device = ploop_loop_of(vff);
		v->mountpoint = v->device ? mountpoint_of(v->device) : NULL;
	}
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

/* The fs mounted from ff's loop device, if any. */
char *ploop_fs_of(const char *ff)
{
	_cleanup_free_ char *dev = ploop_loop_of(ff);
	return dev ? mountpoint_of(dev) : NULL;
}

/* Gives delta `from` the GUID `to`, in its image, its snapshot entry and
 * its children's parent references. */
static void desc_rename(struct ploop_desc *d, const char *from, const char *to)
{
	struct ploop_image *im = ploop_desc_image(d, from);
	struct ploop_snap *sn = ploop_desc_snap(d, from);
	free(im->guid);
	im->guid = xstrdup(to);
	free(sn->guid);
	sn->guid = xstrdup(to);
	for (size_t i = 0; i < d->nsnaps; i++)
		if (!strcasecmp(d->snaps[i].parent, from)) {
			free(d->snaps[i].parent);
			d->snaps[i].parent = xstrdup(to);
		}
}

/* Switches the server to the prepared top with the fs frozen. */
static int snapshot_live(const char *ff, const char *npath, struct vz_error *err)
{
	_cleanup_free_ char *mp = ploop_fs_of(ff);
	_cleanup_free_ char *cmd = xasprintf("snapshot-prepare %s", npath);
	struct ploop_freeze fz;
	if (ploop_ctl_call(ff, cmd, NULL, NULL, NULL, err) < 0 ||
	    ploop_freeze(mp, &fz, err) < 0)
		return -1;
	uint64_t t1 = vz_now_ns();
	int r = ploop_ctl_call(ff, "snapshot-switch", NULL, NULL, NULL, err);
	ploop_thaw(&fz);
	if (mp)
		vz_info("snapshot: fs frozen for %.1f ms: freeze %.1f, switch %.1f, thaw %.1f "
			"(sync and journal checkpoint before it %.1f ms%s)",
			ploop_frozen_ms(&fz), (double)(fz.t_frozen - fz.t_freeze) / 1e6,
			(double)(fz.t_thaw - t1) / 1e6, (double)(fz.t_end - fz.t_thaw) / 1e6,
			(double)fz.presync_ns / 1e6,
			fz.expedited ? "; RCU grace periods expedited" : "");
	else
		vz_info("snapshot: switch %.1f ms (no fs mounted to freeze)",
			(double)(vz_now_ns() - t1) / 1e6);
	return r;
}

int ploop_snapshot(const char *arg, char guid_out[39], struct vz_error *err)
{
	_cleanup_free_ char *nfile = NULL;
	_cleanup_free_ char *npath = NULL;
	_cleanup_disk_ struct ploop_disk k;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK | PLOOP_DISK_GEOMETRY, &k, err) < 0 ||
	    ploop_disk_new_delta(&k, &nfile, &npath, err) < 0)
		return vz_prefix(err, "snapshot");
	char sguid[39];
	ploop_guid_new(sguid);
	/* The descriptor names the new (empty) top before anything is written
	 * to it: a crash in between leaves the same content either way. */
	desc_rename(&k.d, k.d.top_guid, sguid);
	ploop_desc_add(&k.d, PLOOP_TOP_GUID, sguid, nfile);
	if (ploop_desc_write(&k.d, err) < 0) {
		unlink(npath);
		return vz_prefix(err, "snapshot");
	}
	if (ploop_ctl_alive(k.ff) && snapshot_live(k.ff, npath, err) < 0) {
		/* back to the old descriptor */
		struct vz_error e2;
		ploop_desc_remove(&k.d, PLOOP_TOP_GUID);
		desc_rename(&k.d, sguid, PLOOP_TOP_GUID);
		free(k.d.top_guid);
		k.d.top_guid = xstrdup(PLOOP_TOP_GUID);
		if (ploop_desc_write(&k.d, &e2) == 0)
			unlink(npath);
		return vz_prefix(err, "snapshot");
	}
	snprintf(guid_out, 39, "%s", sguid);
	return 0;
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

/* Fails while snapshot guid has a read-only view mounted. */
static int snap_unmounted(const struct ploop_disk *k, const char *guid, struct vz_error *err)
{
	_cleanup_free_ char *snapff = ploop_fuse_file(&k->d, guid);
	if (ploop_ctl_alive(snapff))
		return vz_fail(err, VZ_ESTATE, "snapshot %s is mounted; ploop umount -u %s first",
			       guid, guid);
	return 0;
}

/* After the clusters of snapshot g (file sp) went into its child: the
 * child inherits g's parent, g leaves the descriptor, its file goes. */
static int drop_merged(struct ploop_disk *k, const char *g, const char *child,
		       const char *sp, struct vz_error *err)
{
	if (child) {
		struct ploop_snap *csn = ploop_desc_snap(&k->d, child);
		free(csn->parent);
		csn->parent = xstrdup(ploop_desc_snap(&k->d, g)->parent);
	}
	ploop_desc_remove(&k->d, g);
	if (ploop_desc_write(&k->d, err) < 0)
		return -1;
	if (unlink(sp) < 0)
		vz_warn("remove %s: %s", sp, strerror(errno));
	return 0;
}

/* Merges snapshot guid into its child in the current chain. */
static int merge_locked(struct ploop_disk *k, const char *guid, struct vz_error *err)
{
	_cleanup_strv_ char **chain = NULL;
	_cleanup_free_ char *sp = NULL;
	_cleanup_free_ char *cp = NULL;
	size_t pos;
	if (ploop_desc_chain(&k->d, NULL, &chain, err) < 0)
		return -1;
	if (!strcasecmp(guid, k->d.top_guid))
		return vz_fail(err, VZ_EUSAGE, "%s is the top delta, not a snapshot", guid);
	if (!in_chain(chain, guid, &pos))
		return vz_fail(err, VZ_ESTATE, "snapshot %s is not in the current chain", guid);
	const char *child = chain[pos + 1];
	struct ploop_image *sim = ploop_desc_image(&k->d, guid);
	struct ploop_image *cim = ploop_desc_image(&k->d, child);
	sp = ploop_desc_image_path(&k->d, sim);
	cp = ploop_desc_image_path(&k->d, cim);
	if (snap_unmounted(k, guid, err) < 0)
		return -1;
	if (ploop_ctl_alive(k->ff)) {
		_cleanup_free_ char *cmd = xasprintf("merge %zu", pos);
		if (ploop_ctl_call(k->ff, cmd, NULL, NULL, NULL, err) < 0)
			return -1;
	} else if (merge_offline(sp, cp, err) < 0) {
		return -1;
	}
	return drop_merged(k, guid, child, sp, err);
}

int ploop_snapshot_merge(const char *arg, const char *guid, struct vz_error *err)
{
	_cleanup_free_ char *g = NULL;
	_cleanup_disk_ struct ploop_disk k;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK, &k, err) < 0)
		return vz_prefix(err, "merge");
	if (!guid) {
		/* default: the top's parent */
		struct ploop_snap *t = ploop_desc_snap(&k.d, k.d.top_guid);
		if (!strcasecmp(t->parent, PLOOP_NULL_GUID)) {
			vz_fail(err, VZ_ESTATE, "%s has no snapshot to merge", k.d.path);
			return vz_prefix(err, "merge");
		}
		guid = t->parent;
	}
	g = xstrdup(guid);
	if (need_snap(&k, g, err) < 0 || merge_locked(&k, g, err) < 0)
		return vz_prefix(err, "merge");
	return 0;
}

static int delete_locked(struct ploop_disk *k, const char *g, struct vz_error *err)
{
	_cleanup_strv_ char **chain = NULL;
	_cleanup_free_ char *sp = NULL;
	if (need_snap(k, g, err) < 0)
		return -1;
	if (!strcasecmp(g, k->d.top_guid))
		return vz_fail(err, VZ_EUSAGE, "%s is the top delta; it cannot be deleted", g);
	if (ploop_desc_chain(&k->d, NULL, &chain, err) < 0)
		return -1;
	/* in use by the current state: fold it into its child */
	if (in_chain(chain, g, NULL))
		return merge_locked(k, g, err);
	size_t nchild;
	const char *child = ploop_desc_child(&k->d, g, &nchild);
	if (nchild > 1)
		return vz_fail(err, VZ_ESTATE, "snapshot %s has %zu children; delete them first",
			       g, nchild);
	if (snap_unmounted(k, g, err) < 0)
		return -1;
	sp = ploop_desc_image_path(&k->d, ploop_desc_image(&k->d, g));
	if (child) {
		struct ploop_image *cim = ploop_desc_image(&k->d, child);
		_cleanup_free_ char *cp = ploop_desc_image_path(&k->d, cim);
		if (merge_offline(sp, cp, err) < 0)
			return -1;
	}
	return drop_merged(k, g, child, sp, err);
}

int ploop_snapshot_delete(const char *arg, const char *guid, struct vz_error *err)
{
	_cleanup_free_ char *g = xstrdup(guid);
	_cleanup_disk_ struct ploop_disk k;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK, &k, err) < 0 ||
	    delete_locked(&k, g, err) < 0)
		return vz_prefix(err, "delete snapshot");
	return 0;
}

static int switch_locked(struct ploop_disk *k, const char *guid, struct vz_error *err)
{
	_cleanup_free_ char *nfile = NULL;
	_cleanup_free_ char *npath = NULL;
	if (need_snap(k, guid, err) < 0)
		return -1;
	if (!strcasecmp(guid, k->d.top_guid))
		return vz_fail(err, VZ_EUSAGE, "%s is already the current state", guid);
	if (ploop_ctl_alive(k->ff))
		return vz_fail(err, VZ_ESTATE, "%s is mounted; unmount it to switch snapshots",
			       k->d.path);
	/* The current top is discarded; a fresh empty top grows on guid. */
	if (ploop_disk_new_delta(k, &nfile, &npath, err) < 0)
		return -1;
	ploop_desc_remove(&k->d, PLOOP_TOP_GUID);
	ploop_desc_add(&k->d, PLOOP_TOP_GUID, guid, nfile);
	if (ploop_desc_write(&k->d, err) < 0) {
		unlink(npath);
		return -1;
	}
	if (unlink(k->top) < 0)
		vz_warn("remove %s: %s", k->top, strerror(errno));
	return 0;
}

int ploop_snapshot_switch(const char *arg, const char *guid, struct vz_error *err)
{
	_cleanup_disk_ struct ploop_disk k;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK | PLOOP_DISK_GEOMETRY, &k, err) < 0 ||
	    switch_locked(&k, guid, err) < 0)
		return vz_prefix(err, "switch snapshot");
	return 0;
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

/* The disk's loop device for a command that needs the disk served: the
 * mounted one, or (offline) one attached for this command only, *temp
 * set; give it back with release_device. */
static int disk_device(struct ploop_disk *k, char **dev, bool *temp,
		       struct vz_error *err)
{
	*temp = false;
	*dev = NULL;
	if (ploop_ctl_alive(k->ff)) {
		*dev = ploop_loop_of(k->ff);
		return 0;
	}
	struct ploop_mount_param mp = { 0 };
	if (do_mount(&k->d, &mp, dev, err) < 0)
		return -1;
	*temp = true;
	return 0;
}

/* Frees dev and unmounts a temporary one; returns rc, or -1 when rc was
 * 0 and the unmount failed (err then says why). */
static int release_device(struct ploop_disk *k, char *dev, bool temp, int rc,
			  struct vz_error *err)
{
	free(dev);
	if (!temp)
		return rc;
	struct vz_error e2;
	if (ploop_umount_ff(k->ff, &e2) < 0 && rc == 0) {
		*err = e2;
		return -1;
	}
	return rc;
}

/* Grows the fs on dev to the device (ext4; others are left as they are). */
static int grow_fs(const struct ploop_disk *k, const char *dev, uint64_t want,
		   struct vz_error *err)
{
	if (!has_ext4(dev))
		return 0;
	_cleanup_free_ char *mp = mountpoint_of(dev);
	if (!mp) {
		char *fsck[] = { "e2fsck", "-f", "-p", (char *)dev, NULL };
		char *rs[] = { "resize2fs", "-p", (char *)dev, NULL };
		if (run_tool("e2fsck", fsck, err) < 0)
			return -1;
		return run_tool("resize2fs", rs, err);
	}
	if (!has_cap(CAP_SYS_RESOURCE)) {
		char sz[32];
		vz_format_size(want, sz, sizeof(sz));
		return vz_fail(err, VZ_ENOSYS,
			       "%s grew to %s, but online ext4 resize needs CAP_SYS_RESOURCE, which this process lacks; unmount and run ploop resize again to grow the file system",
			       k->d.path, sz);
	}
	char *rs[] = { "resize2fs", "-f", (char *)dev, NULL };
	return run_tool("resize2fs", rs, err);
}

/* Grows image, loop capacity and fs, live or offline.  Offline, the same
 * size still grows the fs to the disk (finishing a live grow whose online
 * fs resize the kernel refused). */
static int grow_locked(struct ploop_disk *k, const struct ploop_hdr *nh,
		       struct vz_error *err)
{
	uint64_t want = nh->size_sectors * PLOOP_SECTOR;
	char *dev;
	bool temp;
	if (disk_device(k, &dev, &temp, err) < 0)
		return -1;
	int rc = -1;
	_cleanup_free_ char *cmd = xasprintf("grow %" PRIu64, want);
	if (want > k->size && (ploop_ctl_call(k->ff, cmd, NULL, NULL, NULL, err) < 0 ||
			       update_desc_size(&k->d, nh->size_sectors, err) < 0))
		goto out;
	struct stat st;
	stat(k->ff, &st);  /* fetches the new size into the kernel */
	if (dev) {
		_cleanup_close_ int lfd = open(dev, O_RDONLY | O_CLOEXEC);
		if (lfd < 0 || ioctl(lfd, LOOP_SET_CAPACITY, 0) < 0) {
			vz_fail_errno(err, VZ_ESYSTEM, "set capacity of %s", dev);
			goto out;
		}
		if (grow_fs(k, dev, want, err) < 0)
			goto out;
	}
	rc = 0;
out:
	return release_device(k, dev, temp, rc, err);
}

/* Cuts every delta of the chain to nh's size (the fs already fits). */
static int shrink_images(struct ploop_disk *k, const struct ploop_hdr *nh,
			 struct vz_error *err)
{
	_cleanup_strv_ char **deltas = NULL;
	if (chain_paths(&k->d, NULL, &deltas, err) < 0)
		return -1;
	for (size_t i = 0; deltas[i]; i++) {
		struct ploop_delta dl;
		if (ploop_delta_open(&dl, deltas[i], PLOOP_OPEN_RDWR, err) < 0)
			return -1;
		uint32_t nb = nh->bat_entries;
		if (nb < dl.hdr.bat_entries) {
			/* entries past the end are dropped (zero on disk first) */
			memset(dl.bat + nb, 0, (size_t)(dl.hdr.bat_entries - nb) * 4);
			if (ploop_delta_write_bat(&dl, NULL, nb, dl.hdr.bat_entries - nb, err) < 0 ||
			    fdatasync(dl.bfd) < 0) {
				ploop_delta_close(&dl);
				return -1;
			}
			dl.hdr.bat_entries = nb;
		}
		dl.hdr.size_sectors = nh->size_sectors;
		dl.hdr.cylinders = nh->cylinders;
		int r = ploop_delta_write_hdr(&dl, err);
		ploop_delta_close(&dl);
		if (r < 0)
			return -1;
		/* clusters past the end are now unreferenced: trim the tail */
		struct ploop_check_stats cs;
		if (ploop_check(deltas[i], PLOOP_CHECK_REPAIR, NULL, &cs, err) < 0)
			return -1;
	}
	return update_desc_size(&k->d, nh->size_sectors, err);
}

/* Shrinks offline: the fs first (resize2fs), then the images.  A mounted
 * ext4 cannot shrink (the kernel only grows it online), and a balloon
 * file would hide space without making the disk smaller: refused, with
 * compact named for giving back the space freed inside. */
static int shrink_locked(struct ploop_disk *k, const struct ploop_hdr *nh,
			 struct vz_error *err)
{
	uint64_t want = nh->size_sectors * PLOOP_SECTOR;
	if (ploop_ctl_alive(k->ff)) {
		char sz[32];
		vz_format_size(want, sz, sizeof(sz));
		return vz_fail(err, VZ_ESTATE,
			       "%s is mounted, and a mounted file system cannot shrink: unmount it and run ploop resize -s %s again (ploop compact gives back the space freed inside while it stays mounted)",
			       k->d.path, sz);
	}
	char *dev;
	bool temp;
	if (disk_device(k, &dev, &temp, err) < 0)
		return -1;
	int r = 0;
	if (has_ext4(dev)) {
		char *fsck[] = { "e2fsck", "-f", "-p", dev, NULL };
		_cleanup_free_ char *kb = xasprintf("%" PRIu64 "K", want / 1024);
		char *rs[] = { "resize2fs", "-p", dev, kb, NULL };
		r = run_tool("e2fsck", fsck, err);
		if (r == 0)
			r = run_tool("resize2fs", rs, err);
	}
	if (release_device(k, dev, temp, r, err) < 0)
		return -1;
	return shrink_images(k, nh, err);
}

int ploop_resize(const char *arg, uint64_t size, struct vz_error *err)
{
	_cleanup_disk_ struct ploop_disk k;
	struct ploop_hdr nh;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK | PLOOP_DISK_GEOMETRY, &k, err) < 0 ||
	    ploop_hdr_init(&nh, size, k.cl, err) < 0)
		return vz_prefix(err, "resize");
	uint64_t want = nh.size_sectors * PLOOP_SECTOR;
	int rc;
	if (want == k.size && ploop_ctl_alive(k.ff))
		rc = 0;
	else if (want >= k.size)
		rc = grow_locked(&k, &nh, err);
	else
		rc = shrink_locked(&k, &nh, err);
	return rc < 0 ? vz_prefix(err, "resize") : 0;
}

/* --- compact --- */

/* FITRIM on the fs mounted from the disk: the fs tells the disk what it
 * does not use. */
static int trim_fs(const char *mp, struct vz_error *err)
{
	_cleanup_close_ int fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct fstrim_range r = { .start = 0, .len = UINT64_MAX, .minlen = 0 };
	/* blocks freed in the running transaction are trimmable only after
	 * it commits */
	if (fd >= 0)
		syncfs(fd);
	if (fd < 0 || ioctl(fd, FITRIM, &r) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "trim %s", mp);
	return 0;
}

static int compact_locked(struct ploop_disk *k, uint64_t *freed, struct vz_error *err)
{
	_cleanup_free_ char *tmpmp = NULL;
	_cleanup_free_ char *mp = NULL;
	char *dev;
	bool temp;
	if (disk_device(k, &dev, &temp, err) < 0)
		return -1;
	int rc = -1;
	if (temp && has_ext4(dev)) {
		/* offline: the fs is mounted aside for FITRIM */
		tmpmp = xasprintf("%s/.ploop-compact.mnt", k->d.dir);
		mkdir(tmpmp, 0700);
		if (fs_mount(dev, tmpmp, "ext4", NULL, false, err) < 0)
			goto out;
	}
	mp = ploop_fs_of(k->ff);
	if (mp && trim_fs(mp, err) < 0)
		goto out;
	char *text = NULL;
	if (ploop_ctl_call(k->ff, "compact", &text, NULL, NULL, err) < 0)
		goto out;
	*freed = strtoull(text, NULL, 10);
	free(text);
	rc = 0;
out:
	rc = release_device(k, dev, temp, rc, err);
	if (tmpmp)
		rmdir(tmpmp);
	return rc;
}

int ploop_compact(const char *arg, uint64_t *freed, struct vz_error *err)
{
	_cleanup_disk_ struct ploop_disk k;
	*freed = 0;
	if (ploop_disk_open(arg, PLOOP_DISK_LOCK, &k, err) < 0 ||
	    compact_locked(&k, freed, err) < 0)
		return vz_prefix(err, "compact");
	return 0;
}
