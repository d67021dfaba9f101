/* Parsing and checking of the network parameters: IP_ADDRESS, NETIF,
 * NEIGHBOUR_DEVS, HOSTNAME, NAMESERVER, SEARCHDOMAIN. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "error.h"
#include "net.h"
#include "util.h"

/* ---- addresses ---- */

int vz_ip_maxprefix(const struct vz_ip *ip)
{
	return ip->family == AF_INET ? 32 : 128;
}

int vz_ip_parse(const char *s, struct vz_ip *ip, struct vz_error *err)
{
	memset(ip, 0, sizeof(*ip));
	ip->prefix = -1;
	if (!s || !*s)
		return vz_fail(err, VZ_EUSAGE, "empty IP address");
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return vz_fail(err, VZ_EUSAGE, "invalid IP address '%s': too long", s);
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return vz_fail(err, VZ_EUSAGE,
			       "invalid IP address '%s' (want an IPv4 or IPv6 address, optionally /PREFIX)",
			       s);
	if (slash) {
		long long p;
		if (vz_parse_int(slash + 1, 0, vz_ip_maxprefix(ip), &p) < 0)
			return vz_fail(err, VZ_EUSAGE,
				       "invalid prefix length in '%s' (want 0..%d)",
				       s, vz_ip_maxprefix(ip));
		ip->prefix = (int)p;
	}
	const unsigned char *a = ip->addr;
	const char *why = NULL;
	if (ip->family == AF_INET) {
		if (a[0] == 0)
			why = "an unspecified (0.x.x.x) address";
		else if (a[0] == 127)
			why = "a loopback address";
		else if (a[0] >= 224 && a[0] <= 239)
			why = "a multicast address";
		else if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			why = "the broadcast address";
	} else {
		static const unsigned char zero[16], one[16] = { [15] = 1 };
		if (!memcmp(a, zero, 16))
			why = "the unspecified address";
		else if (!memcmp(a, one, 16))
			why = "the loopback address";
		else if (a[0] == 0xff)
			why = "a multicast address";
		else if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			why = "a link-local address";
	}
	if (why)
		return vz_fail(err, VZ_EUSAGE,
			       "invalid IP address '%s': %s cannot be given to a container",
			       s, why);
	return 0;
}

void vz_ip_format_addr(const struct vz_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->family, ip->addr, buf, len) && len)
		buf[0] = '\0';
}

void vz_ip_format(const struct vz_ip *ip, char *buf, size_t len)
{
	vz_ip_format_addr(ip, buf, len);
	if (ip->prefix >= 0) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "/%d", ip->prefix);
	}
}

bool vz_ip_same(const struct vz_ip *a, const struct vz_ip *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

ssize_t vz_iplist_find(const struct vz_iplist *l, const struct vz_ip *ip)
{
	for (size_t i = 0; i < l->n; i++)
		if (vz_ip_same(&l->v[i], ip))
			return (ssize_t)i;
	return -1;
}

int vz_iplist_add(struct vz_iplist *l, const struct vz_ip *ip,
		  struct vz_error *err)
{
	if (vz_iplist_find(l, ip) >= 0) {
		char s[64];
		vz_ip_format_addr(ip, s, sizeof(s));
		return vz_fail(err, VZ_EEXIST, "IP address %s is given twice", s);
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = *ip;
	return 0;
}

int vz_iplist_del(struct vz_iplist *l, const struct vz_ip *ip,
		  struct vz_error *err)
{
	ssize_t i = vz_iplist_find(l, ip);
	if (i < 0) {
		char s[64];
		vz_ip_format_addr(ip, s, sizeof(s));
		return vz_fail(err, VZ_ENOENT,
			       "IP address %s is not one of the container's", s);
	}
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	return 0;
}

int vz_iplist_parse(const char *s, struct vz_iplist *l, struct vz_error *err)
{
	memset(l, 0, sizeof(*l));
	_cleanup_strv_ char **words = vz_strv_split(s ? s : "", " \t\n");
	for (size_t i = 0; words[i]; i++) {
		struct vz_ip ip;
		if (vz_ip_parse(words[i], &ip, err) < 0 ||
		    vz_iplist_add(l, &ip, err) < 0) {
			vz_iplist_free(l);
			return -1;
		}
	}
	return 0;
}

char *vz_iplist_format(const struct vz_iplist *l)
{
	size_t cap = l->n * 48 + 1;
	char *out = xmalloc(cap);
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		char s[64];
		vz_ip_format(&l->v[i], s, sizeof(s));
		if (i)
			strcat(out, " ");
		strcat(out, s);
	}
	return out;
}

void vz_iplist_free(struct vz_iplist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- interface names and MACs ---- */

int vz_ifname_check(const char *name, const char *what, struct vz_error *err)
{
	size_t n = strlen(name);
	if (n == 0)
		return vz_fail(err, VZ_EUSAGE, "empty %s", what);
	if (n >= VZ_IFNAMSIZ)
		return vz_fail(err, VZ_EUSAGE,
			       "%s '%s' is too long (%zu bytes; the kernel allows at most %d)",
			       what, name, n, VZ_IFNAMSIZ - 1);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return vz_fail(err, VZ_EUSAGE, "invalid %s '%s'", what, name);
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p == ',' || *p == ';' ||
		    *p == '=' || isspace((unsigned char)*p) ||
		    iscntrl((unsigned char)*p) || (unsigned char)*p >= 0x7f)
			return vz_fail(err, VZ_EUSAGE,
				       "invalid %s '%s': it may not contain '%c'",
				       what, name, isprint((unsigned char)*p) ? *p : '?');
	return 0;
}

int vz_mac_parse(const char *s, uint8_t mac[6], struct vz_error *err)
{
	unsigned v[6];
	char sep[5], tail;
	if (strlen(s) != 17 ||
	    sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &v[0], &sep[0], &v[1],
		   &sep[1], &v[2], &sep[2], &v[3], &sep[3], &v[4], &sep[4],
		   &v[5], &tail) != 11)
		goto bad;
	for (int i = 0; i < 5; i++)
		if (sep[i] != sep[0] || (sep[i] != ':' && sep[i] != '-'))
			goto bad;
	for (int i = 0; i < 17; i++)
		if (i % 3 != 2 && !isxdigit((unsigned char)s[i]))
			goto bad;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return vz_fail(err, VZ_EUSAGE,
			       "MAC address '%s' is a multicast address; a device needs a unicast one",
			       s);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return vz_fail(err, VZ_EUSAGE, "MAC address '%s' is all zeroes", s);
	return 0;
bad:
	return vz_fail(err, VZ_EUSAGE,
		       "invalid MAC address '%s' (want XX:XX:XX:XX:XX:XX)", s);
}

void vz_mac_format(const uint8_t m[6], char out[VZ_MACSTRLEN])
{
	snprintf(out, VZ_MACSTRLEN, "%02X:%02X:%02X:%02X:%02X:%02X",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* 64-bit FNV-1a: a stable hash, enough to spread MACs (not a secret). */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void vz_mac_generate(unsigned ctid, const char *ifname, bool host_side,
		     char out[VZ_MACSTRLEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char *mid = NULL;
	size_t len;
	if (vz_read_file("/etc/machine-id", &mid, &len, NULL) == 0) {
		h = fnv1a(h, mid, len);
		free(mid);
	}
	char key[64];
	int n = snprintf(key, sizeof(key), "%u/%s/%c", ctid, ifname,
			 host_side ? 'h' : 'c');
	h = fnv1a(h, key, (size_t)n);
	/* avalanche the last bytes over all bits */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	uint8_t mac[6];
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);  /* local, unicast */
	vz_mac_format(mac, out);
}

void vz_net_routed_host_ifname(unsigned ctid, char out[VZ_IFNAMSIZ])
{
	/* "venet" + at most 10 digits = 15 */
	snprintf(out, VZ_IFNAMSIZ, "venet%u", ctid);
}

int vz_net_bridged_host_ifname(unsigned ctid, unsigned n,
			       char out[VZ_IFNAMSIZ], struct vz_error *err)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "veth%u.%u", ctid, n);
	if (strlen(buf) >= VZ_IFNAMSIZ)
		snprintf(buf, sizeof(buf), "vz%u.%u", ctid, n);
	if (strlen(buf) >= VZ_IFNAMSIZ)
		return vz_fail(err, VZ_EUSAGE,
			       "no room for a host interface name of CT %u interface %u; give host_ifname",
			       ctid, n);
	strcpy(out, buf);
	return 0;
}

/* ---- NETIF ---- */

static int set_field(char *dst, size_t size, const char *val,
		     const char *what, struct vz_error *err)
{
	if (!*val) {
		dst[0] = '\0';
		return 0;
	}
	if (!strcmp(what, "mac") || !strcmp(what, "host_mac")) {
		uint8_t m[6];
		if (vz_mac_parse(val, m, err) < 0)
			return vz_prefix(err, "NETIF %s", what);
		vz_mac_format(m, dst);
		return 0;
	}
	const char *desc = !strcmp(what, "ifname") ? "interface name" :
			   !strcmp(what, "host_ifname") ? "host interface name" :
			   "bridge name";
	if (vz_ifname_check(val, desc, err) < 0)
		return -1;
	snprintf(dst, size, "%s", val);
	return 0;
}

#define NETIF_FIELD(nif, name) \
	{ #name, (nif)->name, sizeof((nif)->name) }

static int netif_parse_entry(const char *s, struct vz_netif *nif,
			     struct vz_error *err)
{
	memset(nif, 0, sizeof(*nif));
	struct { const char *name; char *dst; size_t size; } f[] = {
		NETIF_FIELD(nif, ifname), NETIF_FIELD(nif, mac),
		NETIF_FIELD(nif, host_ifname), NETIF_FIELD(nif, host_mac),
		NETIF_FIELD(nif, bridge),
	};
	_cleanup_strv_ char **kv = vz_strv_split(s, ",");
	for (size_t i = 0; kv[i]; i++) {
		char *eq = strchr(kv[i], '=');
		if (!eq)
			return vz_fail(err, VZ_EUSAGE,
				       "NETIF entry '%s': '%s' is not NAME=VALUE", s, kv[i]);
		*eq = '\0';
		size_t j;
		for (j = 0; j < ARRAY_SIZE(f); j++)
			if (!strcmp(f[j].name, kv[i]))
				break;
		/* OpenVZ wrote these too; they mean nothing here */
		if (j == ARRAY_SIZE(f) && (!strcmp(kv[i], "network") ||
					   !strcmp(kv[i], "configure")))
			continue;
		if (j == ARRAY_SIZE(f))
			return vz_fail(err, VZ_EUSAGE,
				       "NETIF entry '%s': unknown field '%s' (known: ifname, mac, host_ifname, host_mac, bridge)",
				       s, kv[i]);
		if (set_field(f[j].dst, f[j].size, eq + 1, f[j].name, err) < 0)
			return -1;
	}
	if (!nif->ifname[0])
		return vz_fail(err, VZ_EUSAGE, "NETIF entry '%s' has no ifname=", s);
	return 0;
}

static int netifs_append(struct vz_netifs *l, const struct vz_netif *nif,
			 struct vz_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i].ifname, nif->ifname))
			return vz_fail(err, VZ_EEXIST,
				       "interface %s is already configured", nif->ifname);
		if (nif->host_ifname[0] &&
		    !strcmp(l->v[i].host_ifname, nif->host_ifname))
			return vz_fail(err, VZ_EEXIST,
				       "host interface name %s is already used by %s",
				       nif->host_ifname, l->v[i].ifname);
		if (nif->mac[0] && !strcmp(l->v[i].mac, nif->mac))
			return vz_fail(err, VZ_EEXIST,
				       "MAC %s is already used by %s", nif->mac,
				       l->v[i].ifname);
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = *nif;
	return 0;
}

int vz_netifs_parse(const char *s, struct vz_netifs *l, struct vz_error *err)
{
	memset(l, 0, sizeof(*l));
	_cleanup_strv_ char **ents = vz_strv_split(s ? s : "", ";");
	for (size_t i = 0; ents[i]; i++) {
		char *e = vz_strstrip(ents[i]);
		if (!*e)
			continue;
		struct vz_netif nif;
		if (netif_parse_entry(e, &nif, err) < 0 ||
		    netifs_append(l, &nif, err) < 0) {
			vz_netifs_free(l);
			return -1;
		}
	}
	return 0;
}

int vz_netif_parse_arg(const char *s, struct vz_netif *nif,
		       struct vz_error *err)
{
	memset(nif, 0, sizeof(*nif));
	struct { const char *name; char *dst; size_t size; } f[] = {
		NETIF_FIELD(nif, ifname), NETIF_FIELD(nif, mac),
		NETIF_FIELD(nif, host_ifname), NETIF_FIELD(nif, host_mac),
		NETIF_FIELD(nif, bridge),
	};
	size_t i = 0;
	const char *p = s;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (i == ARRAY_SIZE(f))
			return vz_fail(err, VZ_EUSAGE,
				       "--netif_add '%s': too many fields (want ifname[,mac,host_ifname,host_mac,bridge])",
				       s);
		_cleanup_free_ char *val = xstrndup(p, len);
		if (set_field(f[i].dst, f[i].size, val, f[i].name, err) < 0)
			return vz_prefix(err, "--netif_add '%s'", s);
		i++;
		if (!c)
			break;
		p = c + 1;
	}
	if (!nif->ifname[0])
		return vz_fail(err, VZ_EUSAGE,
			       "--netif_add '%s': the first field (interface name in the container) is required",
			       s);
	return 0;
}

char *vz_netifs_format(const struct vz_netifs *l)
{
	char *out = xstrdup("");
	for (size_t i = 0; i < l->n; i++) {
		const struct vz_netif *n = &l->v[i];
		char *next = xasprintf("%s%sifname=%s,mac=%s,host_ifname=%s,host_mac=%s%s%s",
				       out, i ? ";" : "", n->ifname, n->mac,
				       n->host_ifname, n->host_mac,
				       n->bridge[0] ? ",bridge=" : "", n->bridge);
		free(out);
		out = next;
	}
	return out;
}

struct vz_netif *vz_netifs_find(const struct vz_netifs *l, const char *ifname)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].ifname, ifname))
			return &l->v[i];
	return NULL;
}

int vz_netif_complete(struct vz_netif *nif, unsigned ctid,
		      const struct vz_netifs *others, struct vz_error *err)
{
	if (!nif->mac[0])
		vz_mac_generate(ctid, nif->ifname, false, nif->mac);
	if (!nif->host_mac[0])
		vz_mac_generate(ctid, nif->ifname, true, nif->host_mac);
	if (!nif->host_ifname[0]) {
		for (unsigned n = 0;; n++) {
			char name[VZ_IFNAMSIZ];
			if (vz_net_bridged_host_ifname(ctid, n, name, err) < 0)
				return -1;
			bool used = false;
			for (size_t i = 0; others && i < others->n; i++)
				if (!strcmp(others->v[i].host_ifname, name))
					used = true;
			if (!used) {
				strcpy(nif->host_ifname, name);
				break;
			}
		}
	}
	return 0;
}

int vz_netifs_add(struct vz_netifs *l, const struct vz_netif *nif,
		  unsigned ctid, struct vz_error *err)
{
	struct vz_netif c = *nif;
	if (vz_netifs_find(l, c.ifname))
		return vz_fail(err, VZ_EEXIST, "interface %s is already configured",
			       c.ifname);
	if (vz_netif_complete(&c, ctid, l, err) < 0)
		return -1;
	return netifs_append(l, &c, err);
}

int vz_netifs_del(struct vz_netifs *l, const char *ifname,
		  struct vz_error *err)
{
	struct vz_netif *n = vz_netifs_find(l, ifname);
	if (!n)
		return vz_fail(err, VZ_ENOENT,
			       "interface %s is not configured in the container", ifname);
	size_t i = (size_t)(n - l->v);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	return 0;
}

void vz_netifs_free(struct vz_netifs *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- hostname, DNS ---- */

int vz_hostname_check(const char *s, struct vz_error *err)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return vz_fail(err, VZ_EUSAGE,
			       "invalid hostname '%s': want 1..253 characters", s);
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63)
				return vz_fail(err, VZ_EUSAGE,
					       "invalid hostname '%s': each dot-separated part needs 1..63 characters",
					       s);
			if (s[i - 1] == '-')
				return vz_fail(err, VZ_EUSAGE,
					       "invalid hostname '%s': a part may not end with '-'", s);
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return vz_fail(err, VZ_EUSAGE,
				       "invalid hostname '%s': only letters, digits, '-' and '.' are allowed",
				       s);
		if (label == 0 && c == '-')
			return vz_fail(err, VZ_EUSAGE,
				       "invalid hostname '%s': a part may not start with '-'", s);
		label++;
	}
	return 0;
}

int vz_nameserver_check(const char *s, struct vz_error *err)
{
	unsigned char buf[16];
	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return 0;
	return vz_fail(err, VZ_EUSAGE,
		       "invalid nameserver '%s': want an IPv4 or IPv6 address", s);
}

int vz_searchdomain_check(const char *s, struct vz_error *err)
{
	if (vz_hostname_check(s, err) < 0) {
		vz_fail(err, VZ_EUSAGE,
			"invalid search domain '%s': want a domain name like example.net", s);
		return -1;
	}
	return 0;
}

/* ---- whole configuration ---- */

static const char *get2(const struct vz_conf *ct, const struct vz_conf *gl,
			const char *key, const struct vz_conf **from)
{
	const char *v = ct ? vz_conf_get(ct, key) : NULL;
	*from = ct;
	if (!v && gl) {
		v = vz_conf_get(gl, key);
		*from = gl;
	}
	return v;
}

static int conf_err(struct vz_error *err, const struct vz_conf *c,
		    const char *key)
{
	int line = c ? vz_conf_lineno(c, key) : 0;
	err->code = VZ_ECONFIG;
	if (c && c->path && line)
		return vz_prefix(err, "%s:%d: %s", c->path, line, key);
	return vz_prefix(err, "%s", key);
}

int vz_net_conf_load(struct vz_net_conf *nc, unsigned ctid,
		     const struct vz_conf *ct, const struct vz_conf *gl,
		     struct vz_error *err)
{
	memset(nc, 0, sizeof(*nc));
	nc->ctid = ctid;
	nc->arpdetect_ms = 300;
	const struct vz_conf *from;
	const char *v;

	v = get2(ct, gl, "IP_ADDRESS", &from);
	if (v && vz_iplist_parse(v, &nc->ips, err) < 0)
		goto bad_ip;
	v = get2(ct, gl, "NETIF", &from);
	if (v && vz_netifs_parse(v, &nc->netifs, err) < 0)
		goto bad_netif;
	for (size_t i = 0; i < nc->netifs.n; i++)
		if (vz_netif_complete(&nc->netifs.v[i], ctid, &nc->netifs, err) < 0)
			goto bad_netif;
	v = get2(ct, gl, "NEIGHBOUR_DEVS", &from);
	if (v) {
		char **w = vz_strv_split(v, " \t");
		if (w[0] && !(w[1] == NULL && !strcmp(w[0], "detect"))) {
			nc->neighbour_devs = w;
			for (size_t i = 0; w[i]; i++)
				if (strcmp(w[i], "all") &&
				    vz_ifname_check(w[i], "device name", err) < 0) {
					conf_err(err, from, "NEIGHBOUR_DEVS");
					goto fail;
				}
		} else {
			vz_strv_free(w);
		}
	}
	v = get2(ct, gl, "SKIP_ARPDETECT", &from);
	if (v && vz_parse_bool(v, &nc->skip_arpdetect) < 0) {
		vz_fail(err, VZ_ECONFIG, "want yes or no, not '%s'", v);
		conf_err(err, from, "SKIP_ARPDETECT");
		goto fail;
	}
	v = get2(ct, gl, "HOSTNAME", &from);
	if (v && *v) {
		if (vz_hostname_check(v, err) < 0) {
			conf_err(err, from, "HOSTNAME");
			goto fail;
		}
		nc->hostname = xstrdup(v);
	}
	v = get2(ct, gl, "NAMESERVER", &from);
	nc->nameservers = vz_strv_split(v ? v : "", " \t");
	for (size_t i = 0; nc->nameservers[i]; i++)
		if (vz_nameserver_check(nc->nameservers[i], err) < 0) {
			conf_err(err, from, "NAMESERVER");
			goto fail;
		}
	v = get2(ct, gl, "SEARCHDOMAIN", &from);
	nc->searchdomains = vz_strv_split(v ? v : "", " \t");
	for (size_t i = 0; nc->searchdomains[i]; i++)
		if (vz_searchdomain_check(nc->searchdomains[i], err) < 0) {
			conf_err(err, from, "SEARCHDOMAIN");
			goto fail;
		}
	return 0;
bad_ip:
	conf_err(err, from, "IP_ADDRESS");
	goto fail;
bad_netif:
	conf_err(err, from, "NETIF");
fail:
	vz_net_conf_free(nc);
	return -1;
}

void vz_net_conf_free(struct vz_net_conf *nc)
{
	vz_iplist_free(&nc->ips);
	vz_netifs_free(&nc->netifs);
	vz_strv_free(nc->neighbour_devs);
	vz_strv_free(nc->nameservers);
	vz_strv_free(nc->searchdomains);
	free(nc->hostname);
	memset(nc, 0, sizeof(*nc));
}

void vz_net_conf_store(const struct vz_net_conf *nc, struct vz_conf *c)
{
	_cleanup_free_ char *ips = vz_iplist_format(&nc->ips);
	_cleanup_free_ char *nifs = vz_netifs_format(&nc->netifs);
	vz_conf_set(c, "IP_ADDRESS", *ips ? ips : NULL);
	vz_conf_set(c, "NETIF", *nifs ? nifs : NULL);
}
