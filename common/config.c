#include <ctype.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "util.h"

void vz_conf_init(struct vz_conf *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->path = path ? xstrdup(path) : NULL;
}

void vz_conf_free(struct vz_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->lines[i].raw);
		free(c->lines[i].key);
		free(c->lines[i].value);
	}
	free(c->lines);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

static struct vz_conf_line *add_line(struct vz_conf *c)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->lines = xrealloc(c->lines, c->cap * sizeof(*c->lines));
	}
	struct vz_conf_line *l = &c->lines[c->n++];
	memset(l, 0, sizeof(*l));
	return l;
}

static bool key_start(char ch)
{
	return isalpha((unsigned char)ch) || ch == '_';
}

static bool key_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* Parses one line.  Returns NULL on success, or what is wrong. */
static const char *parse_line(const char *s, char **key, char **value)
{
	*key = *value = NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '#')
		return NULL;
	if (strncmp(s, "export", 6) == 0 && (s[6] == ' ' || s[6] == '\t')) {
		s += 6;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	if (!key_start(*s))
		return "expected NAME=\"value\"";
	const char *k = s;
	while (key_char(*s))
		s++;
	if (*s != '=')
		return "expected NAME=\"value\" (no '=' after the name, or a space before it)";
	size_t klen = s - k;
	s++;

	size_t cap = strlen(s) + 1, n = 0;
	char *v = xmalloc(cap);
	for (;;) {
		if (*s == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && s[1] && strchr("\"\\$`\n", s[1]))
					s++;
				v[n++] = *s++;
			}
			if (*s != '"') {
				free(v);
				return "unterminated double quote";
			}
			s++;
		} else if (*s == '\'') {
			s++;
			while (*s && *s != '\'')
				v[n++] = *s++;
			if (*s != '\'') {
				free(v);
				return "unterminated single quote";
			}
			s++;
		} else if (*s && !isspace((unsigned char)*s) && *s != '#') {
			if (*s == '\\' && s[1])
				s++;
			else if (strchr(";&|<>()`", *s)) {
				free(v);
				return "shell syntax in an unquoted value; quote the value";
			}
			v[n++] = *s++;
		} else {
			break;
		}
	}
	v[n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s && *s != '#') {
		free(v);
		return "text after the value; quote values that contain spaces";
	}
	*key = xstrndup(k, klen);
	*value = v;
	return NULL;
}

int vz_conf_parse(struct vz_conf *c, const char *name, const char *text,
		  size_t len, struct vz_error *err)
{
	const char *end = text + len;
	int lineno = 0;
	while (text < end) {
		const char *nl = memchr(text, '\n', end - text);
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		lineno++;
		if (memchr(text, '\0', n))
			return vz_fail(err, VZ_ECONFIG,
				       "%s:%d: NUL byte in line; this is not a text config",
				       name, lineno);
		char *raw = xstrndup(text, n);
		char *key, *value;
		const char *why = parse_line(raw, &key, &value);
		if (why) {
			vz_fail(err, VZ_ECONFIG, "%s:%d: %s", name, lineno, why);
			free(raw);
			return -1;
		}
		struct vz_conf_line *l = add_line(c);
		l->raw = raw;
		l->key = key;
		l->value = value;
		l->lineno = lineno;
		text += n + (nl ? 1 : 0);
	}
	return 0;
}

int vz_conf_load(struct vz_conf *c, const char *path, struct vz_error *err)
{
	char *text;
	size_t len;
	if (!c->path)
		c->path = xstrdup(path);
	if (vz_read_file(path, &text, &len, err) < 0)
		return -1;
	int r = vz_conf_parse(c, path, text, len, err);
	free(text);
	return r;
}

static struct vz_conf_line *find_last(const struct vz_conf *c, const char *key)
{
	for (size_t i = c->n; i-- > 0;)
		if (c->lines[i].key && strcmp(c->lines[i].key, key) == 0)
			return &c->lines[i];
	return NULL;
}

const char *vz_conf_get(const struct vz_conf *c, const char *key)
{
	struct vz_conf_line *l = find_last(c, key);
	return l ? l->value : NULL;
}

int vz_conf_lineno(const struct vz_conf *c, const char *key)
{
	struct vz_conf_line *l = find_last(c, key);
	return l ? l->lineno : 0;
}

char *vz_conf_quote(const char *value)
{
	char *out = xmalloc(2 * strlen(value) + 3), *p = out;
	*p++ = '"';
	for (const char *s = value; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == '`')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
	return out;
}

void vz_conf_set(struct vz_conf *c, const char *key, const char *value)
{
	bool done = false;
	size_t w = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct vz_conf_line *l = &c->lines[i];
		if (l->key && strcmp(l->key, key) == 0) {
			if (done || !value) {
				free(l->raw);
				free(l->key);
				free(l->value);
				continue;
			}
			_cleanup_free_ char *q = vz_conf_quote(value);
			free(l->raw);
			free(l->value);
			l->raw = xasprintf("%s=%s", key, q);
			l->value = xstrdup(value);
			done = true;
		}
		c->lines[w++] = *l;
	}
	c->n = w;
	if (!done && value) {
		_cleanup_free_ char *q = vz_conf_quote(value);
		struct vz_conf_line *l = add_line(c);
		l->raw = xasprintf("%s=%s", key, q);
		l->key = xstrdup(key);
		l->value = xstrdup(value);
	}
	c->dirty = true;
}

char *vz_conf_format(const struct vz_conf *c)
{
	size_t len = 1;
	for (size_t i = 0; i < c->n; i++)
		len += strlen(c->lines[i].raw) + 1;
	char *out = xmalloc(len), *p = out;
	*p = '\0';
	for (size_t i = 0; i < c->n; i++) {
		p = stpcpy(p, c->lines[i].raw);
		*p++ = '\n';
		*p = '\0';
	}
	return out;
}

int vz_conf_save(const struct vz_conf *c, const char *path,
		 struct vz_error *err)
{
	if (!path)
		path = c->path;
	_cleanup_free_ char *text = vz_conf_format(c);
	return vz_write_file_atomic(path, text, strlen(text), 0644, err);
}

char *vz_conf_expand(const char *value, const char *ctid)
{
	static const char *const names[] = { "${VEID}", "$VEID", "${CTID}",
					     "$CTID" };
	size_t cap = strlen(value) + 1;
	char *out = xmalloc(cap), *p = out;
	const char *s = value;
	while (*s) {
		bool hit = false;
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			size_t n = strlen(names[i]);
			if (strncmp(s, names[i], n) == 0 &&
			    (names[i][1] == '{' || !key_char(s[n]))) {
				size_t off = p - out;
				cap += strlen(ctid);
				out = xrealloc(out, cap);
				p = stpcpy(out + off, ctid);
				s += n;
				hit = true;
				break;
			}
		}
		if (!hit)
			*p++ = *s++;
	}
	*p = '\0';
	return out;
}

int vz_parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "on") ||
	    !strcmp(s, "1") || !strcasecmp(s, "true"))
		*out = true;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "off") ||
		 !strcmp(s, "0") || !strcasecmp(s, "false"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_ubc_value(const char *s, uint64_t unit, uint64_t *v)
{
	/* OpenVZ wrote unlimited as LONG_MAX (in any unit): configs made by
	 * its tools carry it */
	if (strcmp(s, "unlimited") == 0 ||
	    strcmp(s, "9223372036854775807") == 0) {
		*v = VZ_UNLIMITED;
		return 0;
	}
	return vz_parse_size(s, unit, v);
}

int vz_parse_ubc(const char *s, uint64_t unit, uint64_t *barrier,
		 uint64_t *limit)
{
	const char *colon = strchr(s, ':');
	if (!colon) {
		if (parse_ubc_value(s, unit, barrier) < 0)
			return -1;
		*limit = *barrier;
		return 0;
	}
	_cleanup_free_ char *b = xstrndup(s, colon - s);
	if (parse_ubc_value(b, unit, barrier) < 0 ||
	    parse_ubc_value(colon + 1, unit, limit) < 0)
		return -1;
	return 0;
}

#define PAGE 4096ULL
#define KB 1024ULL
#define P_STR(n, h) { n, VZ_PT_STRING, 0, 0, 0, h }
#define P_BOOL(n, h) { n, VZ_PT_BOOL, 0, 0, 0, h }
#define P_INT(n, lo, hi, h) { n, VZ_PT_INT, lo, hi, 0, h }
#define P_SIZE(n, u, h) { n, VZ_PT_SIZE, 0, 0, u, h }
#define P_UBC(n, u, h) { n, VZ_PT_UBC, 0, 0, u, h }
#define P_PATH(n, h) { n, VZ_PT_PATH, 0, 0, 0, h }
#define P_LIST(n, h) { n, VZ_PT_LIST, 0, 0, 0, h }

/* Sorted by name for bsearch. */
static const struct vz_param params[] = {
	P_INT("AVNUMPROC", 0, 2147483647, "expected average number of processes"),
	P_INT("BOOTORDER", 0, 2147483647, "start order of ONBOOT containers"),
	P_LIST("CAPABILITY", "capabilities, name:on|off ..."),
	P_STR("CGROUP_PARENT", "cgroup below which containers are created"),
	P_STR("CONFIGFILE", "sample config used by create (ve-NAME.conf-sample)"),
	P_STR("CPULIMIT", "CPU limit, % of one CPU"),
	P_STR("CPUMASK", "CPUs the container may run on (list, or all)"),
	P_INT("CPUS", 0, 4096, "number of CPUs the container sees"),
	P_INT("CPUUNITS", 8, 500000, "CPU weight"),
	P_UBC("DCACHESIZE", 1, "dentry cache, bytes"),
	P_STR("DEF_OSTEMPLATE", "OS template for create without --ostemplate"),
	P_STR("DESCRIPTION", "free-form description"),
	P_LIST("DEVICES", "device access, c|b:MAJOR:MINOR|all:r|w|rw|none ..."),
	P_UBC("DGRAMRCVBUF", 1, "datagram receive buffers, bytes"),
	P_UBC("DISKINODES", 1, "inodes, soft:hard"),
	P_UBC("DISKSPACE", KB, "disk space, soft:hard (KB or with K/M/G/T)"),
	P_PATH("DUMPDIR", "directory of checkpoint dumps"),
	P_STR("FEATURES", "optional features, name:on|off ..."),
	P_STR("HOSTNAME", "container hostname"),
	P_INT("IOLIMIT", 0, 9223372036854775807LL, "disk bandwidth, bytes/s"),
	P_INT("IOPRIO", 0, 7, "I/O priority"),
	P_INT("IOPSLIMIT", 0, 9223372036854775807LL, "disk I/O operations per second"),
	P_LIST("IP_ADDRESS", "routed addresses, ADDR[/PREFIX] ..."),
	P_UBC("KMEMSIZE", 1, "kernel memory, bytes"),
	P_PATH("LOCKDIR", "directory of lock files"),
	P_UBC("LOCKEDPAGES", PAGE, "locked memory, pages"),
	P_STR("LOGFILE", "log file"),
	P_INT("LOG_LEVEL", 0, 10, "log file verbosity"),
	P_STR("LXCFS", "lxcfs /proc files in containers: auto, yes or no"),
	P_PATH("LXCFS_DIR", "where lxcfs is mounted (vz-lxcfs start)"),
	P_STR("NAME", "container name"),
	P_LIST("NAMESERVER", "DNS servers for resolv.conf"),
	P_LIST("NEIGHBOUR_DEVS", "host devices for proxy ARP/NDP (detect, all, or names)"),
	P_STR("NETIF", "bridged interfaces, ifname=,mac=,host_ifname=,host_mac=,bridge= ;..."),
	P_UBC("NUMFILE", 1, "open files"),
	P_UBC("NUMFLOCK", 1, "file locks"),
	P_UBC("NUMIPTENT", 1, "iptables entries"),
	P_UBC("NUMOTHERSOCK", 1, "non-TCP sockets"),
	P_UBC("NUMPROC", 1, "processes and threads"),
	P_UBC("NUMPTY", 1, "pseudo-terminals"),
	P_UBC("NUMSIGINFO", 1, "siginfo structures"),
	P_UBC("NUMTCPSOCK", 1, "TCP sockets"),
	P_BOOL("ONBOOT", "start the container when the host boots"),
	P_UBC("OOMGUARPAGES", PAGE, "OOM guarantee, pages"),
	P_STR("OSTEMPLATE", "OS template the container was created from"),
	P_UBC("OTHERSOCKBUF", 1, "other socket buffers, bytes"),
	P_UBC("PHYSPAGES", PAGE, "RAM, pages (0:ram)"),
	P_UBC("PRIVVMPAGES", PAGE, "private virtual memory, pages"),
	P_LIST("SEARCHDOMAIN", "DNS search domains"),
	P_UBC("SHMPAGES", PAGE, "shared memory, pages"),
	P_BOOL("SKIP_ARPDETECT", "skip the duplicate address check"),
	P_INT("STOP_TIMEOUT", 0, 86400, "seconds to wait for a graceful stop"),
	P_UBC("SWAPPAGES", PAGE, "swap, pages (0:swap)"),
	P_UBC("TCPRCVBUF", 1, "TCP receive buffers, bytes"),
	P_UBC("TCPSNDBUF", 1, "TCP send buffers, bytes"),
	P_PATH("TEMPLATE", "template directory (cache/ holds OS tarballs)"),
	P_BOOL("VERBOSE", "verbose output"),
	P_STR("VE_LAYOUT", "disk layout: simfs or ploop"),
	P_PATH("VE_PRIVATE", "private area"),
	P_PATH("VE_ROOT", "root mount point"),
	P_STR("VE_STOP_MODE", "stop mode"),
	P_UBC("VMGUARPAGES", PAGE, "memory guarantee, pages"),
	P_STR("VM_OVERCOMMIT", "privvmpages factor over RAM + swap"),
};

static int param_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct vz_param *)elem)->name);
}

const struct vz_param *vz_param_find(const char *name)
{
	return bsearch(name, params, ARRAY_SIZE(params), sizeof(params[0]),
		       param_cmp);
}

const struct vz_param *vz_param_table(size_t *n)
{
	*n = ARRAY_SIZE(params);
	return params;
}

int vz_param_check(const struct vz_param *p, const char *value,
		   struct vz_error *err)
{
	long long i;
	uint64_t a, b;
	bool flag;

	switch (p->type) {
	case VZ_PT_STRING:
	case VZ_PT_LIST:
		return 0;
	case VZ_PT_BOOL:
		if (vz_parse_bool(value, &flag) < 0)
			return vz_fail(err, VZ_ECONFIG,
				       "%s: \"%s\" is not yes or no", p->name,
				       value);
		return 0;
	case VZ_PT_INT:
		if (vz_parse_int(value, p->min, p->max, &i) < 0)
			return vz_fail(err, VZ_ECONFIG,
				       "%s: \"%s\" is not a whole number from %lld to %lld",
				       p->name, value, p->min, p->max);
		return 0;
	case VZ_PT_SIZE:
		if (vz_parse_size(value, p->unit, &a) < 0)
			return vz_fail(err, VZ_ECONFIG,
				       "%s: \"%s\" is not a size (a number, optionally with K, M, G or T)",
				       p->name, value);
		return 0;
	case VZ_PT_UBC:
		if (vz_parse_ubc(value, p->unit, &a, &b) < 0)
			return vz_fail(err, VZ_ECONFIG,
				       "%s: \"%s\" is not barrier[:limit] (numbers with optional K/M/G/T, or unlimited)",
				       p->name, value);
		if (a != VZ_UNLIMITED && b != VZ_UNLIMITED && a > b)
			return vz_fail(err, VZ_ECONFIG,
				       "%s: barrier %s is above limit", p->name,
				       value);
		return 0;
	case VZ_PT_PATH:
		if (value[0] != '/')
			return vz_fail(err, VZ_ECONFIG,
				       "%s: \"%s\" is not an absolute path",
				       p->name, value);
		return 0;
	}
	return 0;
}

int vz_conf_check(const struct vz_conf *c, struct vz_error *err)
{
	const char *name = c->path ? c->path : "config";
	for (size_t i = 0; i < c->n; i++) {
		const struct vz_conf_line *l = &c->lines[i];
		if (!l->key)
			continue;
		const struct vz_param *p = vz_param_find(l->key);
		if (!p) {
			vz_warn("%s:%d: unknown parameter %s (kept)", name,
				l->lineno, l->key);
			continue;
		}
		if (vz_param_check(p, l->value, err) < 0)
			return vz_prefix(err, "%s:%d", name, l->lineno);
	}
	return 0;
}
