/* Resources of a container: validate its config, apply it to its cgroups,
 * read its beancounters back (vzctl set/start/ubc, vzlist fields). */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "ct.h"
#include "error.h"
#include "log.h"
#include "res.h"
#include "util.h"

#define UNL VZ_UNLIMITED
/* OpenVZ printed "unlimited" as LONG_MAX; scripts expect that number. */
#define UBC_UNLIMITED_TEXT "9223372036854775807"

int vz_ct_res_load(const struct vz_ct *ct, struct vz_res *r,
		   struct vz_error *err)
{
	return vz_res_from_conf(r, &ct->conf, &ct->global, err);
}

int vz_ct_res_validate(const struct vz_ct *ct, struct vz_error *err)
{
	struct vz_host_info host;
	if (vz_host_info_read(&host, err) < 0)
		return -1;
	if (vz_ubc_check_conf(&ct->conf, &host, err) < 0) {
		vz_prefix(err, "CT %s", ct->idstr);
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n,
			 " (fix it, or use --force)");
		return -1;
	}
	return 0;
}

/* The I/O limits go to the device under the CT's root when it is mounted
 * (a ploop's loop device), else under its private area. */
static const char *disk_path(const struct vz_ct *ct)
{
	if (ct->root && vz_ct_is_mounted(ct))
		return ct->root;
	return ct->private_dir;
}

int vz_ct_res_apply(const struct vz_ct *ct, char ***unenforced,
		    struct vz_error *err)
{
	struct vz_res r;
	if (vz_ct_res_load(ct, &r, err) < 0)
		return vz_prefix(err, "CT %s", ct->idstr);
	int ret = vz_res_apply(&ct->cg, &r, disk_path(ct), unenforced, err);
	vz_res_free(&r);
	if (ret < 0)
		vz_prefix(err, "CT %s", ct->idstr);
	return ret;
}

int vz_ct_ubc(const struct vz_ct *ct, struct vz_res_counter **rows, size_t *n,
	      struct vz_error *err)
{
	if (vz_ct_state(ct) != VZ_CT_RUNNING)
		return vz_fail(err, VZ_ESTATE,
			       "CT %s is not running: beancounters exist only while it runs",
			       ct->idstr);
	struct vz_res r;
	if (vz_ct_res_load(ct, &r, err) < 0)
		return vz_prefix(err, "CT %s", ct->idstr);
	int ret = vz_res_counters(&ct->cg, &r, rows, n, err);
	vz_res_free(&r);
	return ret;
}

bool vz_ct_res_held(const struct vz_ct *ct, uint64_t *ram, uint64_t *swap)
{
	struct vz_res_counter *rows;
	size_t n;
	struct vz_error err = { 0 };
	if (vz_ct_ubc(ct, &rows, &n, &err) < 0)
		return false;
	*ram = rows[VZ_UBC_PHYSPAGES].held * VZ_UBC_PAGE;
	*swap = rows[VZ_UBC_SWAPPAGES].held * VZ_UBC_PAGE;
	free(rows);
	return true;
}

static const char *num(uint64_t v, char *buf, size_t len)
{
	if (v == UNL)
		return UBC_UNLIMITED_TEXT;
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

bool vz_res_field_known(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);
	if (dot && (strlen(dot) != 2 || !strchr("mblf", dot[1])))
		return false;
	char base[32];
	if (n >= sizeof(base))
		return false;
	memcpy(base, name, n);
	base[n] = '\0';
	for (const char *s = base; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return vz_ubc_find(base) >= 0;
}

const char *vz_ct_res_field(const struct vz_ct *ct, bool running,
			    const char *name, char *buf, size_t len)
{
	if (!vz_res_field_known(name))
		return NULL;
	const char *dot = strchr(name, '.');
	char base[32];
	size_t n = dot ? (size_t)(dot - name) : strlen(name);
	memcpy(base, name, n);
	base[n] = '\0';
	int id = vz_ubc_find(base);
	char what = dot ? dot[1] : 'h';

	struct vz_res r;
	struct vz_error err = { 0 };
	if (vz_ct_res_load(ct, &r, &err) < 0)
		return NULL;
	const char *out = NULL;
	if (what == 'b' || what == 'l') {
		uint64_t b, l;
		vz_ubc_effective(&r.ubc, id, &b, &l);
		uint64_t v = what == 'b' ? b : l;
		if (v != UNL && vz_ubc_def(id)->unit == VZ_UBC_PAGES)
			v /= VZ_UBC_PAGE;
		out = num(v, buf, len);
	} else if (running) {
		struct vz_res_counter *rows;
		size_t nr;
		if (vz_res_counters(&ct->cg, &r, &rows, &nr, &err) == 0) {
			uint64_t v = what == 'm' ? rows[id].maxheld :
				     what == 'f' ? rows[id].failcnt :
				     rows[id].held;
			out = num(v, buf, len);
			free(rows);
		}
	}
	vz_res_free(&r);
	return out;
}
