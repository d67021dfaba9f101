/* Client side of the ploop server's control socket. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "ploop-server.h"
#include "util.h"

static int ctl_connect(const char *fuse_file, struct vz_error *err)
{
	struct sockaddr_un sa;
	socklen_t salen = ploop_ctl_sockaddr(fuse_file, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "socket");
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		int e = errno;
		close(fd);
		return vz_fail_errnum(err, VZ_ESTATE, e, "no ploop server for %s", fuse_file);
	}
	return fd;
}

bool ploop_ctl_alive(const char *fuse_file)
{
	struct vz_error err;
	int fd = ctl_connect(fuse_file, &err);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

int ploop_ctl_call(const char *fuse_file, const char *cmd, char **text,
		   void **data, size_t *len, struct vz_error *err)
{
	_cleanup_close_ int fd = ctl_connect(fuse_file, err);
	if (fd < 0)
		return -1;
	_cleanup_free_ char *line = xasprintf("%s\n", cmd);
	size_t n = strlen(line);
	if (write(fd, line, n) != (ssize_t)n)
		return vz_fail_errno(err, VZ_ESYSTEM, "send '%s' to ploop server", cmd);
	char ans[1300];
	size_t k = 0;
	while (k < sizeof(ans) - 1) {
		ssize_t r = read(fd, ans + k, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ans[k] == '\n')
			break;
		k++;
	}
	ans[k] = '\0';
	if (k == 0)
		return vz_fail(err, VZ_ESYSTEM, "ploop server died during '%s'", cmd);
	if (!strncmp(ans, "ERR ", 4)) {
		char *end;
		long code = strtol(ans + 4, &end, 10);
		return vz_fail(err, (int)code ? (int)code : VZ_EFAIL, "%s",
			       *end ? end + 1 : "ploop server error");
	}
	if (strncmp(ans, "OK", 2))
		return vz_fail(err, VZ_ESYSTEM, "bad answer from ploop server: %s", ans);
	const char *rest = ans[2] == ' ' ? ans + 3 : ans + 2;
	if (!strncmp(rest, "DATA ", 5)) {
		size_t dl = strtoull(rest + 5, NULL, 10);
		void *buf = xmalloc(dl ? dl : 1);
		if (read_full(fd, buf, dl) < 0) {
			free(buf);
			return vz_fail(err, VZ_ESYSTEM, "short answer from ploop server");
		}
		if (data) {
			*data = buf;
			*len = dl;
		} else {
			free(buf);
		}
	}
	if (text)
		*text = xstrdup(rest);
	return 0;
}
