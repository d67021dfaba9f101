/* Capability bounding set and device allow-list of a container. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "ct.h"
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
static const char *const default_devices[] = {
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
	"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
	"c 10:200 rwm", "c 10:229 rwm",
};

/* "c:10:200:rw" -> "c 10:200 rwm"; "b:8:all:r" -> "b 8:* rm" */
static int parse_device(const char *s, char *out, size_t len, bool *deny,
			struct vz_error *err)
{
	_cleanup_strv_ char **f = vz_strv_split(s, ":");
	if (vz_strv_len(f) != 4 || (strcmp(f[0], "c") && strcmp(f[0], "b")))
		return vz_fail(err, VZ_ECONFIG,
			       "DEVICES: \"%s\" is not c|b:MAJOR:MINOR|all:r|w|rw|none", s);
	long long maj, min = 0;
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
	char minor[24];
	if (all_min)
		strcpy(minor, "*");
	else
		snprintf(minor, sizeof(minor), "%lld", min);
	snprintf(out, len, "%s %lld:%s %s%sm", f[0], maj, minor,
		 strchr(perm, 'r') ? "r" : "", strchr(perm, 'w') ? "w" : "");
	if (*deny)
		snprintf(out, len, "%s %lld:%s rwm", f[0], maj, minor);
	return 0;
}

int vz_devices_apply(const struct vz_ct *ct, struct vz_error *err)
{
	const char *conf = vz_ct_get(ct, "DEVICES");
	_cleanup_strv_ char **items = vz_strv_split(conf ? conf : "", " \t");
	/* validate everything before touching the kernel */
	char rule[64];
	bool deny;
	for (size_t i = 0; items[i]; i++)
		if (parse_device(items[i], rule, sizeof(rule), &deny, err) < 0)
			return -1;
	if (!vz_cg_has("devices")) {
		if (ct->cg.unified)
			vz_debug("cgroup v2: device allow-list is enforced by the BPF filter only");
		return 0;
	}
	if (vz_cg_set(&ct->cg, "devices", "devices.deny", "a", err) < 0)
		return vz_prefix(err, "device allow-list");
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		if (vz_cg_set(&ct->cg, "devices", "devices.allow",
			      default_devices[i], err) < 0)
			return vz_prefix(err, "device allow-list");
	for (size_t i = 0; items[i]; i++) {
		parse_device(items[i], rule, sizeof(rule), &deny, err);
		if (vz_cg_set(&ct->cg, "devices",
			      deny ? "devices.deny" : "devices.allow", rule, err) < 0)
			return vz_prefix(err, "DEVICES %s", items[i]);
	}
	return 0;
}
