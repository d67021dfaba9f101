/* A libfuse3 (low-level API) export of one raw file as one FUSE file:
 * the best a libfuse-based ploop server could do (no cluster map at all),
 * for bench/ploop-io-fuse, which sets it against the ploop server (which
 * speaks /dev/fuse itself).  Built by that script, not part of vz.
 *
 *   ploop-io-libfuse BACKING MOUNTFILE [THREADS]
 */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int bfd;
static off_t bsize;
static __thread char *tbuf;

static char *buf(void)
{
	if (!tbuf && posix_memalign((void **)&tbuf, 4096, 1 << 20))
		abort();
	return tbuf;
}

static void ll_init(void *u, struct fuse_conn_info *c)
{
	(void)u;
	if (c->capable & FUSE_CAP_ASYNC_DIO)
		c->want |= FUSE_CAP_ASYNC_DIO;
	c->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	c->max_write = 1 << 20;
	c->max_background = 256;
	c->congestion_threshold = 192;
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_ino = 1;
	st.st_mode = S_IFREG | 0600;
	st.st_nlink = 1;
	st.st_size = bsize;
	fuse_reply_attr(req, &st, 1.0);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	char *b = buf();
	if (size > (1 << 20))
		size = 1 << 20;
	ssize_t n = pread(bfd, b, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, b, (size_t)n);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	/* the payload sits after libfuse's headers: copy for O_DIRECT */
	char *b = buf();
	memcpy(b, data, size);
	ssize_t n = pwrite(bfd, b, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int ds, struct fuse_file_info *fi)
{
	(void)ino;
	(void)ds;
	(void)fi;
	fuse_reply_err(req, fdatasync(bfd) < 0 ? errno : 0);
}

static const struct fuse_lowlevel_ops ops = {
	.init = ll_init,
	.getattr = ll_getattr,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.fsync = ll_fsync,
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s BACKING MOUNTFILE [THREADS]\n", argv[0]);
		return 2;
	}
	bfd = open(argv[1], O_RDWR | O_DIRECT);
	if (bfd < 0) {
		perror(argv[1]);
		return 1;
	}
	bsize = lseek(bfd, 0, SEEK_END);
	char *fargv[] = { argv[0], "-o", "allow_other", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se || fuse_session_mount(se, argv[2]) != 0)
		return 1;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, argc > 3 ? (unsigned)atoi(argv[3]) : 32);
	fuse_loop_cfg_set_idle_threads(cfg, argc > 3 ? (unsigned)atoi(argv[3]) : 32);
	int rc = fuse_session_loop_mt(se, cfg);
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	return rc ? 1 : 0;
}
