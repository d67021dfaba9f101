#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devbpf.h"
#include "error.h"
#include "util.h"

#define PROG_NAME "vz_devices"

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV64_REG(dst, src) INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* r2 = device type, r3 = access asked, r4 = major, r5 = minor; per rule a
 * block that jumps to the next rule on any mismatch and returns 1 (allow)
 * when all match; 0 (deny) at the end. */
static struct bpf_insn *build(const struct vz_dev_rule *rules, size_t n,
			      size_t *len)
{
	struct bpf_insn *p = xcalloc(6 + n * 8 + 2, sizeof(*p));
	size_t i = 0;
	p[i++] = LDX_W(2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[i++] = ALU32_IMM(BPF_AND, 2, 0xffff);
	p[i++] = LDX_W(3, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[i++] = ALU32_IMM(BPF_RSH, 3, 16);
	p[i++] = LDX_W(4, 1, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[i++] = LDX_W(5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor));
	for (size_t r = 0; r < n; r++) {
		const struct vz_dev_rule *d = &rules[r];
		int blk = 6 + (d->major >= 0) + (d->minor >= 0);  /* insns in the block */
		int left = blk;
		int type = d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
		p[i++] = JNE_IMM(2, type, left - 1);
		left--;
		if (d->major >= 0) {
			p[i++] = JNE_IMM(4, d->major, left - 1);
			left--;
		}
		if (d->minor >= 0) {
			p[i++] = JNE_IMM(5, d->minor, left - 1);
			left--;
		}
		/* anything asked beyond what the rule gives: no match */
		p[i++] = MOV64_REG(1, 3);
		p[i++] = ALU32_IMM(BPF_AND, 1, ~d->access & 0xffff);
		p[i++] = JNE_IMM(1, 0, 2);
		p[i++] = MOV64_IMM(0, 1);
		p[i++] = EXIT_INSN();
	}
	p[i++] = MOV64_IMM(0, 0);
	p[i++] = EXIT_INSN();
	*len = i;
	return p;
}

/* Our program already attached to the cgroup, or -1. */
static int find_ours(int cgfd)
{
	uint32_t ids[64], cnt = 64;
	union bpf_attr q = { 0 };
	q.query.target_fd = cgfd;
	q.query.attach_type = BPF_CGROUP_DEVICE;
	q.query.prog_ids = (uint64_t)(uintptr_t)ids;
	q.query.prog_cnt = cnt;
	if (sys_bpf(BPF_PROG_QUERY, &q) < 0)
		return -1;
	for (uint32_t i = 0; i < q.query.prog_cnt && i < cnt; i++) {
		union bpf_attr g = { 0 };
		g.prog_id = ids[i];
		int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
		if (fd < 0)
			continue;
		struct bpf_prog_info info = { 0 };
		union bpf_attr a = { 0 };
		a.info.bpf_fd = fd;
		a.info.info_len = sizeof(info);
		a.info.info = (uint64_t)(uintptr_t)&info;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 &&
		    strcmp(info.name, PROG_NAME) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

int vz_devbpf_apply(const char *cgroup_dir, const struct vz_dev_rule *rules,
		    size_t n, struct vz_error *err)
{
	size_t len;
	_cleanup_free_ struct bpf_insn *insns = build(rules, n, &len);
	char log[4096] = "";
	union bpf_attr load = { 0 };
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)insns;
	load.insn_cnt = (uint32_t)len;
	load.license = (uint64_t)(uintptr_t)"GPL";
	load.log_buf = (uint64_t)(uintptr_t)log;
	load.log_size = sizeof(log);
	load.log_level = 1;
	strncpy(load.prog_name, PROG_NAME, sizeof(load.prog_name) - 1);
	_cleanup_close_ int prog = (int)sys_bpf(BPF_PROG_LOAD, &load);
	if (prog < 0) {
		/* the verifier's verdict is its log's last line */
		size_t l = strlen(log);
		while (l && log[l - 1] == '\n')
			log[--l] = '\0';
		char *last = strrchr(log, '\n');
		return vz_fail_errno(err, errno == ENOSYS ? VZ_ENOSYS : VZ_ESYSTEM,
				     "load the device allow-list BPF program%s%s",
				     log[0] ? ": " : "", last ? last + 1 : log);
	}
	_cleanup_close_ int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", cgroup_dir);
	_cleanup_close_ int old = find_ours(cg);
	union bpf_attr at = { 0 };
	at.target_fd = cg;
	at.attach_bpf_fd = prog;
	at.attach_type = BPF_CGROUP_DEVICE;
	at.attach_flags = BPF_F_ALLOW_MULTI;
	if (old >= 0) {
		at.attach_flags |= BPF_F_REPLACE;
		at.replace_bpf_fd = old;
	}
	if (sys_bpf(BPF_PROG_ATTACH, &at) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM,
				     "attach the device allow-list to %s", cgroup_dir);
	return 0;
}
