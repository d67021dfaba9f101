/* The floor for starting a container: clone into new pid, mount, uts, ipc,
 * net and cgroup namespaces, pivot_root into a root, exec a program.  No
 * config, no cgroups, no devices: what no runtime can go below.
 *   floor ROOT PROGRAM */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
				   CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD,
				   NULL, NULL, NULL, NULL);
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount(argv[1], argv[1], NULL, MS_BIND | MS_REC, NULL) ||
		    chdir(argv[1]) || syscall(SYS_pivot_root, ".", ".") ||
		    umount2(".", MNT_DETACH) || chdir("/"))
			_exit(1);
		execl(argv[2], argv[2], (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
