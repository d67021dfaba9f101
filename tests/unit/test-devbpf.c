/* The cgroup v2 device filter, for real: a child in a cgroup2 group with
 * the program attached may mknod/open only what the rules allow.  Needs
 * root and a cgroup2 mount (hybrid hosts have one too). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devbpf.h"
#include "error.h"
#include "util.h"
#include "unit.h"

static const char *v2_root(void)
{
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		return "/sys/fs/cgroup";
	if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
		return "/sys/fs/cgroup/unified";
	return NULL;
}

/* In a child that joined dir: 0 if mknod of the node works, else errno. */
static int try_mknod(const char *dir, const char *tmp, char type, int maj, int min)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *procs = xasprintf("%s/cgroup.procs", dir);
		if (vz_write_string(procs, "0", NULL) < 0)
			_exit(100);
		char *node = xasprintf("%s/node-%d", tmp, (int)getpid());
		int r = mknod(node, (type == 'b' ? S_IFBLK : S_IFCHR) | 0600, makedev(maj, min));
		int e = r < 0 ? errno : 0;
		unlink(node);
		_exit(e);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

int main(void)
{
	const char *root = v2_root();
	if (geteuid() != 0 || !root) {
		printf("ok 1 # SKIP needs root and a cgroup2 mount\n1..1\n");
		return 0;
	}
	char *dir = xasprintf("%s/vzt-devbpf-%d", root, (int)getpid());
	char tmp[] = "/tmp/vzt-devbpf-XXXXXX";
	CHECK(mkdir(dir, 0755) == 0 && mkdtemp(tmp), "test cgroup and dir");
	struct vz_error err = { 0 };
	struct vz_dev_rule rules[] = {
		{ 'c', 1, 3, VZ_DEV_R | VZ_DEV_W | VZ_DEV_M },
		{ 'c', 136, -1, VZ_DEV_R | VZ_DEV_W | VZ_DEV_M },
		{ 'b', 7, 0, VZ_DEV_R },   /* read only: no mknod */
	};
	int r = vz_devbpf_apply(dir, rules, 3, &err);
	CHECK(r == 0, "program loads and attaches: %s", err.msg);
	if (r == 0) {
		CHECK(try_mknod(dir, tmp, 'c', 1, 3) == 0, "allowed c 1:3");
		CHECK(try_mknod(dir, tmp, 'c', 136, 7) == 0, "allowed c 136:* (any minor)");
		CHECK(try_mknod(dir, tmp, 'c', 1, 5) == EPERM, "c 1:5 refused");
		CHECK(try_mknod(dir, tmp, 'c', 1, 1) == EPERM, "/dev/mem refused");
		CHECK(try_mknod(dir, tmp, 'b', 7, 0) == EPERM, "b 7:0 without m refused");
		CHECK(try_mknod(dir, tmp, 'b', 8, 0) == EPERM, "host disk b 8:0 refused");
		struct vz_dev_rule more[] = {
			{ 'c', 1, 5, VZ_DEV_R | VZ_DEV_W | VZ_DEV_M },
		};
		CHECK(vz_devbpf_apply(dir, more, 1, &err) == 0, "replaced: %s", err.msg);
		CHECK(try_mknod(dir, tmp, 'c', 1, 5) == 0, "now c 1:5 allowed");
		CHECK(try_mknod(dir, tmp, 'c', 1, 3) == EPERM, "and c 1:3 no more (replaced, not added)");
	}
	CHECK(try_mknod(root, tmp, 'c', 1, 5) == 0, "outside the group nothing changed");
	CHECK(rmdir(dir) == 0, "group removed");
	rmdir(tmp);
	free(dir);
	UNIT_DONE();
}
