/* A container: its merged configuration (vz.conf, then conf/CTID.conf),
 * paths, state, lock and lifecycle.  The tools only parse options and call
 * these. */
#ifndef VZ_CT_H
#define VZ_CT_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "config.h"

struct vz_error;

struct vz_ct {
	unsigned id;
	char idstr[16];
	char *confdir;          /* VZ_CONFDIR */
	char *conf_path;        /* confdir/conf/CTID.conf */
	struct vz_conf global;  /* vz.conf */
	struct vz_conf conf;    /* CTID.conf (empty if the CT does not exist) */
	bool exists;            /* CTID.conf exists */
	/* Resolved (with $VEID expanded) from conf, then global: */
	char *root;             /* VE_ROOT */
	char *private_dir;      /* VE_PRIVATE */
	char *lockdir, *dumpdir, *template_dir;
	struct vz_cgroup cg;
	int lock_fd;            /* held lock, or -1 */
};

enum vz_ct_state {
	VZ_CT_DELETED,     /* no config */
	VZ_CT_STOPPED,
	VZ_CT_MOUNTED,     /* stopped, root mounted */
	VZ_CT_RUNNING,
	VZ_CT_SUSPENDED,   /* stopped with a dump to resume from */
};

/* Directory of configs: $VZ_CONFDIR or /etc/vz. */
const char *vz_confdir(void);
/* Loads vz.conf and (if present) CTID.conf. */
int vz_ct_load(struct vz_ct *ct, unsigned id, struct vz_error *err);
void vz_ct_free(struct vz_ct *ct);
/* Value from CTID.conf, else vz.conf, else NULL (not $VEID-expanded). */
const char *vz_ct_get(const struct vz_ct *ct, const char *key);
/* Same, with $VEID expanded; caller frees. */
char *vz_ct_get_path(const struct vz_ct *ct, const char *key);

#endif
