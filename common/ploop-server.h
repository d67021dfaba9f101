/* The ploop server: one process per mounted disk (or snapshot view) that
 * exports the flat virtual disk as one FUSE file, speaking the /dev/fuse
 * protocol directly, and answers live operations on a control socket.
 *
 * Control protocol (ploop-ctl.c is the client): the client sends one line
 * "COMMAND ARGS\n"; the server answers "OK TEXT\n" or "ERR CODE TEXT\n",
 * "OK DATA N\n" being followed by N bytes.  Commands: status, sync, stop,
 * snapshot PATH, merge LEVEL, grow BYTES, track-start, track-get,
 * track-stop, compact.
 */
#ifndef VZ_PLOOP_SERVER_H
#define VZ_PLOOP_SERVER_H

#include <sys/socket.h>
#include <sys/un.h>
#include <stdbool.h>
#include <stddef.h>

struct vz_error;

struct ploop_server_param {
	char **deltas;          /* image paths, base first, NULL-terminated */
	bool readonly;
	const char *fuse_file;  /* mount point (a regular file) */
	const char *desc;       /* shown as the FUSE mount's source */
	int threads;
	int ready_fd;           /* gets "OK\n" or "ERR code message\n" */
};

/* Runs the server until it is stopped or its mount goes away; returns the
 * process exit status.  Call in a fresh child process. */
int ploop_server_run(const struct ploop_server_param *p);

/* Whether the server can offer FUSE over io_uring: not refused by
 * PLOOP_FUSE_URING=0, built with liburing, the kernel has it, and the fuse
 * module parameter enable_uring is (or has just been set to, said at -v)
 * Y.  *why gets a static reason when not.  The server calls it; callers
 * that want the decision shown call it first. */
bool ploop_uring_prepare(const char **why);

/* Client side (ploop-ctl.c). */
char *ploop_ctl_address(const char *fuse_file, size_t *len);
/* The same as a socket address, with its length. */
socklen_t ploop_ctl_sockaddr(const char *fuse_file, struct sockaddr_un *sa);
/* Sends cmd and reads the answer.  A server that is not running fails
 * with VZ_ESTATE and errnum ECONNREFUSED.  *text gets the answer after
 * "OK ", *data the payload if any (caller frees both; either may be NULL). */
int ploop_ctl_call(const char *fuse_file, const char *cmd, char **text,
		   void **data, size_t *len, struct vz_error *err);
bool ploop_ctl_alive(const char *fuse_file);

#endif
