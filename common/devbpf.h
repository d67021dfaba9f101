/* Device allow-list on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
 * built from the rules and attached to the CT's cgroup (cgroup v1 has the
 * devices controller instead). */
#ifndef VZ_DEVBPF_H
#define VZ_DEVBPF_H

#include <stddef.h>

struct vz_error;

struct vz_dev_rule {
	char type;        /* 'c' or 'b' */
	int major;        /* -1: any */
	int minor;        /* -1: any */
	unsigned access;  /* VZ_DEV_R | VZ_DEV_W | VZ_DEV_M */
};

#define VZ_DEV_M 1u
#define VZ_DEV_R 2u
#define VZ_DEV_W 4u

/* Replaces the allow-list program of the cgroup directory (or attaches
 * the first one).  Programs the CT attached below or beside it stay, and
 * can only restrict further (BPF_F_ALLOW_MULTI). */
int vz_devbpf_apply(const char *cgroup_dir, const struct vz_dev_rule *rules,
		    size_t n, struct vz_error *err);

#endif
