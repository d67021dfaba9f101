/* Capability bounding set and device allow-list of a container. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "ct.h"
#include "devbpf.h"
#include "error.h"
#include "log.h"
#include "util.h"

/* Dropped unless CAPABILITY turns them on: loading modules, raw I/O, the
 * host's clock, its audit and kernel log, MAC policy, wakeups.  CAP_SYS_BOOT
 * stays: reboot() inside a pid namespace only ends that namespace. */
static const cap_value_t default_drop[] = {
	CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_MAC_ADMIN,
	CAP_MAC_OVERRIDE, CAP_AUDIT_CONTROL, CAP_SYSLOG, CAP_WAKE_ALARM,
	CAP_BLOCK_SUSPEND,
};

int vz_caps_drop_mask(const struct vz_ct *ct, uint64_t *drop,
		      struct vz_error *err)
{
	uint64_t m = 0;
	for (size_t i = 0; i < ARRAY_SIZE(default_drop); i++)
		m |= 1ULL << default_drop[i];
	const char *conf = vz_ct_get(ct, "CAPABILITY");
	_cleanup_strv_ char **items = vz_strv_split(conf ? conf : "", " \t,");
	for (size_t i = 0; items[i]; i++) {
		char *colon = strrchr(items[i], ':');
		bool on;
		if (!colon || vz_parse_bool(colon + 1, &on) < 0)
			return vz_fail(err, VZ_ECONFIG,
				       "CAPABILITY: \"%s\" is not name:on or name:off",
				       items[i]);
		*colon = '\0';
		char *name = vz_startswith(items[i], "cap_") ||
			     vz_startswith(items[i], "CAP_") ?
			     xstrdup(items[i]) : xasprintf("cap_%s", items[i]);
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		cap_value_t v;
		int r = cap_from_name(name, &v);
		free(name);
		if (r < 0 || v < 0 || v > 63)
			return vz_fail(err, VZ_ECONFIG,
				       "CAPABILITY: unknown capability \"%s\"", items[i]);
		if (on)
			m &= ~(1ULL << v);
		else
			m |= 1ULL << v;
	}
	*drop = m;
	return 0;
}

int vz_caps_apply_bound(uint64_t drop, struct vz_error *err)
{
	for (int c = 0; c <= 63; c++) {
		if (!(drop & (1ULL << c)))
			continue;
		if (!CAP_IS_SUPPORTED(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return vz_fail_errno(err, VZ_ESYSTEM,
					     "drop capability %s", cap_to_name(c));
	}
	return 0;
}

/* Always allowed: the memory devices, tty, console, pty master and slaves,
 * tun and fuse.  Never by default: block devices, raw memory (mem, kmem),
 * anything else. */
#define RWM (VZ_DEV_R | VZ_DEV_W | VZ_DEV_M)
static const struct vz_dev_rule default_devices[] = {
	{ 'c', 1, 3, RWM }, { 'c', 1, 5, RWM }, { 'c', 1, 7, RWM },
	{ 'c', 1, 8, RWM }, { 'c', 1, 9, RWM }, { 'c', 5, 0, RWM },
	{ 'c', 5, 1, RWM }, { 'c', 5, 2, RWM }, { 'c', 136, -1, RWM },
	{ 'c', 10, 200, RWM }, { 'c', 10, 229, RWM },
};

/* "c:10:200:rw" -> { c, 10, 200, rwm }; "b:8:all:r" -> { b, 8, any, rm };
 * "...:none" -> *deny. */
static int parse_device(const char *s, struct vz_dev_rule *r, bool *deny,
			struct vz_error *err)
{
	_cleanup_strv_ char **f = vz_strv_split(s, ":");
	if (vz_strv_len(f) != 4 || (strcmp(f[0], "c") && strcmp(f[0], "b")))
		return vz_fail(err, VZ_ECONFIG,
			       "DEVICES: \"%s\" is not c|b:MAJOR:MINOR|all:r|w|rw|none", s);
	long long maj, min = -1;
	bool all_min = strcmp(f[2], "all") == 0;
	if (vz_parse_int(f[1], 0, 4095, &maj) < 0 ||
	    (!all_min && vz_parse_int(f[2], 0, 1048575, &min) < 0))
		return vz_fail(err, VZ_ECONFIG, "DEVICES: bad device number in \"%s\"", s);
	const char *perm = f[3];
	*deny = strcmp(perm, "none") == 0;
	if (!*deny && (strspn(perm, "rwq") != strlen(perm) || !*perm))
		return vz_fail(err, VZ_ECONFIG,
			       "DEVICES: access \"%s\" in \"%s\" is not r, w, rw or none",
			       perm, s);
	r->type = f[0][0];
	r->major = (int)maj;
	r->minor = (int)min;
	r->access = VZ_DEV_M | (strchr(perm, 'r') ? VZ_DEV_R : 0) |
		    (strchr(perm, 'w') ? VZ_DEV_W : 0);
	if (*deny)
		r->access = RWM;
	return 0;
}

static void v1_rule(const struct vz_dev_rule *r, char *out, size_t len)
{
	char maj[16] = "*", min[16] = "*";
	if (r->major >= 0)
		snprintf(maj, sizeof(maj), "%d", r->major);
	if (r->minor >= 0)
		snprintf(min, sizeof(min), "%d", r->minor);
	snprintf(out, len, "%c %s:%s %s%s%s", r->type, maj, min,
		 r->access & VZ_DEV_R ? "r" : "", r->access & VZ_DEV_W ? "w" : "",
		 r->access & VZ_DEV_M ? "m" : "");
}

static bool same_device(const struct vz_dev_rule *a, const struct vz_dev_rule *b)
{
	return a->type == b->type && a->major == b->major && a->minor == b->minor;
}

int vz_devices_apply(const struct vz_ct *ct, struct vz_error *err)
{
	const char *conf = vz_ct_get(ct, "DEVICES");
	_cleanup_strv_ char **items = vz_strv_split(conf ? conf : "", " \t");
	size_t n_items = vz_strv_len(items);
	/* validate everything before touching the kernel */
	struct vz_dev_rule *conf_rules = xcalloc(n_items + 1, sizeof(*conf_rules));
	bool *deny = xcalloc(n_items + 1, sizeof(*deny));
	int ret = 0;
	for (size_t i = 0; items[i]; i++)
		if (parse_device(items[i], &conf_rules[i], &deny[i], err) < 0) {
			ret = -1;
			goto out;
		}
	if (vz_cg_has("devices")) {
		char rule[64];
		/* A fresh group allows all ("a *:* rwm"): set it up from deny-all.
		 * A running CT's list is only extended, so no device is denied
		 * for a moment while it changes. */
		_cleanup_free_ char *list = NULL;
		bool fresh = vz_cg_get(&ct->cg, "devices", "devices.list", &list, NULL) < 0 ||
			     strncmp(list, "a ", 2) == 0;
		if (fresh && vz_cg_set(&ct->cg, "devices", "devices.deny", "a", err) < 0) {
			ret = vz_prefix(err, "device allow-list");
			goto out;
		}
		for (size_t i = 0; fresh && i < ARRAY_SIZE(default_devices); i++) {
			v1_rule(&default_devices[i], rule, sizeof(rule));
			if (vz_cg_set(&ct->cg, "devices", "devices.allow", rule, err) < 0) {
				ret = vz_prefix(err, "device allow-list");
				goto out;
			}
		}
		for (size_t i = 0; i < n_items; i++) {
			v1_rule(&conf_rules[i], rule, sizeof(rule));
			if (vz_cg_set(&ct->cg, "devices", deny[i] ? "devices.deny" : "devices.allow",
				      rule, err) < 0) {
				ret = vz_prefix(err, "DEVICES %s", items[i]);
				goto out;
			}
		}
	} else if (ct->cg.unified) {
		/* cgroup v2: one program; a "none" entry drops the same device
		 * from the defaults (rules only allow) */
		struct vz_dev_rule *all = xcalloc(ARRAY_SIZE(default_devices) + n_items,
						  sizeof(*all));
		size_t n = 0;
		for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
			bool dropped = false;
			for (size_t j = 0; j < n_items; j++)
				dropped |= deny[j] && same_device(&conf_rules[j], &default_devices[i]);
			if (!dropped)
				all[n++] = default_devices[i];
		}
		for (size_t j = 0; j < n_items; j++)
			if (!deny[j])
				all[n++] = conf_rules[j];
		_cleanup_free_ char *dir = vz_cg_dir(&ct->cg, "memory");
		if (!dir)
			dir = vz_cg_dir(&ct->cg, "pids");
		if (!dir)
			ret = vz_fail(err, VZ_ENOSYS, "cgroup v2 without memory or pids controller");
		else if (vz_devbpf_apply(dir, all, n, err) < 0)
			ret = vz_prefix(err, "device allow-list");
		free(all);
	}
out:
	free(conf_rules);
	free(deny);
	return ret;
}
