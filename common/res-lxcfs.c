/* lxcfs: /proc files that show a container its own limits.
 *
 * Without it, /proc/meminfo, /proc/cpuinfo, /proc/stat, /proc/uptime...
 * inside a CT are the host's (free shows the host's RAM; the limits are
 * enforced all the same).  With an lxcfs mounted on the host (vz-lxcfs
 * start), the CT's /proc files are covered with lxcfs's, which answer per
 * reader from its cgroup.  The mounts are cloned on the host
 * (open_tree) and attached inside the CT's mount namespace (move_mount),
 * since the CT cannot see the host's lxcfs directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ct.h"
#include "error.h"
#include "log.h"
#include "res.h"
#include "util.h"

#define FUSE_MAGIC 0x65735546

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

static const char *const files[] = {
	"proc/meminfo", "proc/cpuinfo", "proc/stat", "proc/uptime",
	"proc/swaps", "proc/diskstats", "proc/loadavg",
	"sys/devices/system/cpu/online",
};
#define NFILES (sizeof(files) / sizeof(files[0]))

const char *vz_lxcfs_dir(const struct vz_ct *ct)
{
	const char *d = vz_ct_get(ct, "LXCFS_DIR");
	return d && *d ? d : "/var/lib/lxcfs";
}

bool vz_lxcfs_running(const char *dir)
{
	struct statfs sf;
	_cleanup_free_ char *p = xasprintf("%s/proc/meminfo", dir);
	return statfs(dir, &sf) == 0 && sf.f_type == FUSE_MAGIC &&
	       vz_path_exists(p);
}

struct attach {
	int fd[NFILES];
};

static int attach_inside(void *p)
{
	struct attach *a = p;
	for (size_t i = 0; i < NFILES; i++) {
		if (a->fd[i] < 0)
			continue;
		_cleanup_free_ char *target = xasprintf("/%s", files[i]);
		if (!vz_path_exists(target))
			continue;
		if (syscall(SYS_move_mount, a->fd[i], "", AT_FDCWD, target,
			    MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return 10 + (int)i;
	}
	return 0;
}

int vz_ct_lxcfs_attach(const struct vz_ct *ct, struct vz_error *err)
{
	const char *mode = vz_ct_get(ct, "LXCFS");
	bool required = mode && !strcasecmp(mode, "yes");
	if (mode && (!strcasecmp(mode, "no") || !*mode))
		return 0;
	const char *dir = vz_lxcfs_dir(ct);
	if (!vz_lxcfs_running(dir)) {
		if (required)
			return vz_fail(err, VZ_ENOSYS,
				       "LXCFS=yes but lxcfs is not mounted at %s: start it with vz-lxcfs start %s",
				       dir, dir);
		vz_debug("no lxcfs at %s: the CT sees the host's /proc/meminfo", dir);
		return 0;
	}
	struct attach a;
	int n = 0;
	for (size_t i = 0; i < NFILES; i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", dir, files[i]);
		a.fd[i] = -1;
		if (!vz_path_exists(src))
			continue;   /* loadavg needs lxcfs -l, ... */
		a.fd[i] = (int)syscall(SYS_open_tree, AT_FDCWD, src,
				       OPEN_TREE_CLONE | O_CLOEXEC);
		if (a.fd[i] < 0) {
			int e = errno;
			for (size_t j = 0; j < i; j++)
				if (a.fd[j] >= 0)
					close(a.fd[j]);
			return vz_fail_errnum(err, e == ENOSYS ? VZ_ENOSYS : VZ_ESYSTEM,
					      e, "lxcfs: clone the mount of %s (open_tree needs Linux 5.2)",
					      src);
		}
		n++;
	}
	int st = n ? vz_ct_run_inside(ct, attach_inside, &a, err) : 0;
	for (size_t i = 0; i < NFILES; i++)
		if (a.fd[i] >= 0)
			close(a.fd[i]);
	if (st < 0)
		return vz_prefix(err, "lxcfs");
	if (st >= 10 && st < 10 + (int)NFILES)
		return vz_fail(err, VZ_ESYSTEM,
			       "lxcfs: attach %s/%s over /%s inside CT %s failed",
			       dir, files[st - 10], files[st - 10], ct->idstr);
	if (st)
		return vz_fail(err, VZ_ESYSTEM, "lxcfs: attach inside CT %s: status %d",
			       ct->idstr, st);
	vz_info("CT %s: /proc/meminfo, cpuinfo, stat, uptime... from lxcfs at %s",
		ct->idstr, dir);
	return 0;
}
