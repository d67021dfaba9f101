/* FUSE over io_uring for the ploop server (private to ploop-server.c and
 * ploop-uring.c).
 *
 * Kernel 6.14+ can hand FUSE requests to a server through io_uring
 * commands instead of read()/write() on /dev/fuse: one queue per possible
 * CPU, each a set of registered entries (a header buffer and a payload
 * buffer); an entry's command completes when a request lands in it, and
 * the reply is one COMMIT_AND_FETCH command that also re-arms the entry.
 * The fuse module needs its parameter enable_uring=Y, and the INIT reply
 * must carry FUSE_OVER_IO_URING.  Until every queue has an entry the
 * kernel keeps using /dev/fuse, and FORGET, INTERRUPT and notifications
 * always travel there: the classic threads stay, and are the whole
 * transport when io_uring is unavailable.
 *
 * The ring threads never block: READ and WRITE on clusters already mapped
 * (the steady state) become asynchronous reads and writes on the delta
 * files in the same io_uring, and so does FSYNC (an fdatasync) while no
 * allocation waits for its BAT entry; everything else (allocation,
 * copy-up, discard, the flush that writes BAT entries, attributes) goes
 * to a small pool of blocking threads that answers through the ring
 * thread.
 */
#ifndef VZ_PLOOP_URING_H
#define VZ_PLOOP_URING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/fuse.h>

/* --- kernel ABI (uapi linux/fuse.h 7.42+; Debian 12's headers lack it) --- */

#define PLOOP_FUSE_OVER_IO_URING (1ULL << 41)   /* INIT flags2 bit 9 */
#ifndef FUSE_INIT_EXT
#define FUSE_INIT_EXT (1u << 30)
#endif

#define PLOOP_URING_IN_OUT_SZ 128
#define PLOOP_URING_OP_SZ 128

struct ploop_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;     /* echoed in the commit command */
	uint32_t payload_sz;    /* bytes valid in the payload buffer */
	uint32_t padding;
	uint64_t reserved;
};

/* First iovec of a registered entry. */
struct ploop_uring_req_header {
	char in_out[PLOOP_URING_IN_OUT_SZ];     /* fuse_in_header / fuse_out_header */
	char op_in[PLOOP_URING_OP_SZ];          /* the opcode's fixed argument */
	struct ploop_uring_ent_in_out ent;
};

enum {
	PLOOP_URING_CMD_REGISTER = 1,
	PLOOP_URING_CMD_COMMIT_AND_FETCH = 2,
};

/* In the 80-byte command area of a 128-byte SQE. */
struct ploop_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

/* --- between the server and the transport --- */

/* One piece of a READ or WRITE: bytes [boff, boff+len) of the payload
 * buffer at foff in file fd, or zeroes (hole, reads only). */
struct ploop_seg {
	int fd;
	bool hole;
	uint64_t foff;
	uint32_t boff;
	uint32_t len;
};

struct ploop_uring_ent;

/* Server side (ploop-server.c). */

/* Plans a READ (write=false) or WRITE that can run without blocking.
 * Returns the number of segments, with the data path held shared until
 * ploop_srv_fast_end(); 0 when the request needs the blocking path;
 * -EAGAIN when a live operation holds the data path (retry after
 * ploop_uring_kick()).  *len is clamped to the disk's end for reads. */
int ploop_srv_fast_plan(bool write, uint64_t off, size_t *len,
			struct ploop_seg *segs, int max);
/* Ends a planned request; err is its result (0 or -errno). */
void ploop_srv_fast_end(bool write, const struct ploop_seg *segs, int n, int err);
/* What an FSYNC needs, as ploop_srv_fsync_plan() finds it. */
enum ploop_fsync_plan {
	PLOOP_FSYNC_POOL,     /* allocations wait for their BAT entries: the
				 blocking path commits them */
	PLOOP_FSYNC_SYNC,     /* fdatasync *fd, then ploop_srv_fsync_end();
				 the data path is held shared until then */
	PLOOP_FSYNC_DONE,     /* nothing to make durable: answer at once */
	PLOOP_FSYNC_PARKED = -EAGAIN,  /* as for ploop_srv_fast_plan() */
};
enum ploop_fsync_plan ploop_srv_fsync_plan(int *fd);
void ploop_srv_fsync_end(int err);
/* A blocking-path worker context, and a request handled with it. */
void *ploop_srv_worker_new(void);
void ploop_srv_handle_ring(void *worker, struct ploop_uring_ent *e,
			   const struct fuse_in_header *ih, const void *op,
			   char *payload, size_t plen);

/* Transport side (ploop-uring.c). */

/* ploop_uring_prepare() is in ploop-server.h. */
/* After the INIT reply that accepted io_uring: creates the queues and
 * registers their entries.  Returns 0 when every queue registered (the
 * kernel then switches to the rings), else -errno (requests stay on
 * /dev/fuse). */
int ploop_uring_start(int fuse_fd, size_t max_io);
/* Fills the reply of an entry (data may be the entry's own payload). */
void ploop_uring_reply(struct ploop_uring_ent *e, int error, const void *data, size_t len);
char *ploop_uring_payload(struct ploop_uring_ent *e);
/* Requests served by the asynchronous path, by the blocking pool, and
 * parked behind a live operation, since the start. */
void ploop_uring_stats(uint64_t *fast, uint64_t *fsync, uint64_t *pool, uint64_t *parked);
/* Wakes the ring threads after a live operation released the data path. */
void ploop_uring_kick(void);

#endif
