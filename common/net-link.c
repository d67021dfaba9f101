/* Kernel side of container networking, through libnl-route-3: veth pairs,
 * addresses, routes, proxy neighbour entries, bridge ports.  No `ip`.
 *
 * Netlink sockets stay bound to the network namespace they were created in,
 * so one socket is opened in the host namespace and one inside the CT's
 * (by entering it for the socket() call only). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <linux/fib_rules.h>

#include "error.h"
#include "log.h"
#include "net.h"
#include "util.h"

#ifndef IFF_UP
#define IFF_UP 0x1
#endif
#ifndef IFF_LOOPBACK
#define IFF_LOOPBACK 0x8
#endif
#ifndef IFF_NOARP
#define IFF_NOARP 0x80
#endif

#define VENET "venet0"

struct nl {
	struct nl_sock *host;
	struct nl_sock *ct;
};

static void nlh_close(struct nl *nl)
{
	if (nl->host)
		nl_socket_free(nl->host);
	if (nl->ct)
		nl_socket_free(nl->ct);
	nl->host = nl->ct = NULL;
}

/* A netlink failure as "OPERATION: libnl's reason". */
static int nlfail(struct vz_error *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int nlfail(struct vz_error *err, int rc, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	int code = VZ_ESYSTEM;
	if (rc == -NLE_EXIST)
		code = VZ_EEXIST;
	else if (rc == -NLE_PERM)
		code = VZ_ESYSTEM;
	return vz_fail(err, code, "%s: %s", what, nl_geterror(rc));
}

static int nl_sock_open(struct nl_sock **out, struct vz_error *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return vz_fail(err, VZ_ESYSTEM, "allocate a netlink socket");
	int rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(sk);
		return nlfail(err, rc, "open a route netlink socket");
	}
	*out = sk;
	return 0;
}

/* Runs in netns for the duration of fn.  Single-threaded callers only. */
static int in_netns(int netns, int (*fn)(void *arg, struct vz_error *err),
		    void *arg, struct vz_error *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open /proc/self/ns/net");
	if (setns(netns, CLONE_NEWNET) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM,
				     "enter the container's network namespace");
	int rc = fn(arg, err);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* continuing in the wrong namespace would touch the CT as if
		 * it were the host: never */
		vz_err("cannot return to the host network namespace: %s",
		       strerror(errno));
		abort();
	}
	return rc;
}

static int open_ct_sock(void *arg, struct vz_error *err)
{
	return nl_sock_open(arg, err);
}

static int nlh_open(struct nl *nl, int ct_netns, struct vz_error *err)
{
	memset(nl, 0, sizeof(*nl));
	if (nl_sock_open(&nl->host, err) < 0)
		return -1;
	if (ct_netns >= 0 && in_netns(ct_netns, open_ct_sock, &nl->ct, err) < 0) {
		nlh_close(nl);
		return -1;
	}
	return 0;
}

int vz_netns_open_pid(pid_t pid, struct vz_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vz_fail_errno(err, errno == ENOENT ? VZ_ESTATE : VZ_ESYSTEM,
				     "open %s", path);
	return fd;
}

/* ---- small libnl wrappers ---- */

static struct nl_addr *ip_nladdr(const struct vz_ip *ip, int prefix)
{
	struct nl_addr *a = nl_addr_build(ip->family, ip->addr,
					  ip->family == AF_INET ? 4 : 16);
	if (!a)
		abort();
	nl_addr_set_prefixlen(a, prefix);
	return a;
}

static struct nl_addr *mac_nladdr(const char *mac)
{
	uint8_t m[6];
	if (vz_mac_parse(mac, m, NULL) < 0)
		return NULL;
	struct nl_addr *a = nl_addr_build(AF_LLC, m, 6);
	if (!a)
		abort();
	return a;
}

/* ifindex of name, 0 if absent, -1 on error. */
static int link_find(struct nl_sock *sk, const char *name,
		     struct rtnl_link **out, struct vz_error *err)
{
	struct rtnl_link *l = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, name, &l);
	if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV)
		return 0;
	if (rc < 0)
		return nlfail(err, rc, "look up device %s", name);
	int idx = rtnl_link_get_ifindex(l);
	if (out)
		*out = l;
	else
		rtnl_link_put(l);
	return idx;
}

static int link_up(struct nl_sock *sk, const char *name, int master,
		   struct vz_error *err)
{
	struct rtnl_link *orig = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, name, &orig);
	if (rc < 0)
		return nlfail(err, rc, "look up device %s", name);
	struct rtnl_link *ch = rtnl_link_alloc();
	if (master > 0)
		rtnl_link_set_master(ch, master);
	rtnl_link_set_flags(ch, IFF_UP);
	rc = rtnl_link_change(sk, orig, ch, 0);
	rtnl_link_put(ch);
	rtnl_link_put(orig);
	if (rc < 0)
		return nlfail(err, rc, master > 0 ? "attach %s to its bridge and bring it up"
						  : "bring up device %s", name);
	return 0;
}

static int link_del(struct nl_sock *sk, const char *name, struct vz_error *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	rtnl_link_set_name(l, name);
	int rc = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV)
		return 0;
	if (rc < 0)
		return nlfail(err, rc, "delete device %s", name);
	vz_debug("deleted device %s", name);
	return 0;
}

/* Creates the pair: host end in the current (host) namespace, the peer
 * directly in the CT's namespace under its final name. */
static int veth_create(struct nl_sock *sk, const char *host, const char *host_mac,
		       const char *ct, const char *ct_mac, int ct_netns,
		       struct vz_error *err)
{
	struct rtnl_link *l = rtnl_link_veth_alloc();
	if (!l)
		return vz_fail(err, VZ_ESYSTEM, "allocate a veth link object");
	struct rtnl_link *peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, host);
	rtnl_link_set_name(peer, ct);
	struct nl_addr *a;
	if (host_mac && (a = mac_nladdr(host_mac))) {
		rtnl_link_set_addr(l, a);
		nl_addr_put(a);
	}
	if (ct_mac && (a = mac_nladdr(ct_mac))) {
		rtnl_link_set_addr(peer, a);
		nl_addr_put(a);
	}
	rtnl_link_set_ns_fd(peer, ct_netns);
	int rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(l);
	if (rc < 0) {
		nlfail(err, rc, "create veth pair %s (host) / %s (container)", host, ct);
		if (rc == -NLE_EXIST)
			vz_prefix(err, "device %s or %s exists already", host, ct);
		return -1;
	}
	vz_debug("created veth %s / %s", host, ct);
	return 0;
}

static int addr_add(struct nl_sock *sk, int ifindex, const char *dev,
		    const struct vz_ip *ip, int prefix, unsigned flags,
		    struct vz_error *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *l = ip_nladdr(ip, prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, l);
	rtnl_addr_set_prefixlen(a, prefix);
	if (ip->family == AF_INET6)
		flags |= IFA_F_NODAD;
	if (flags)
		rtnl_addr_set_flags(a, flags);
	int rc = rtnl_addr_add(sk, a, NLM_F_EXCL);
	nl_addr_put(l);
	rtnl_addr_put(a);
	if (rc < 0) {
		char s[64];
		vz_ip_format_addr(ip, s, sizeof(s));
		return nlfail(err, rc, "add address %s/%d to %s", s, prefix, dev);
	}
	return 0;
}

/* Route to dst/prefix out of ifindex, optionally via gw. */
static struct rtnl_route *route_build(int ifindex, const struct vz_ip *dst,
				      int prefix, const struct vz_ip *gw,
				      int family)
{
	struct rtnl_route *r = rtnl_route_alloc();
	rtnl_route_set_family(r, (uint8_t)family);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, RTPROT_STATIC);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_set_scope(r, family == AF_INET && !gw ? RT_SCOPE_LINK
							 : RT_SCOPE_UNIVERSE);
	struct nl_addr *d;
	if (dst) {
		d = ip_nladdr(dst, prefix);
	} else {
		static const unsigned char zero[16];
		d = nl_addr_build(family, zero, family == AF_INET ? 4 : 16);
		nl_addr_set_prefixlen(d, 0);
	}
	rtnl_route_set_dst(r, d);
	nl_addr_put(d);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (gw) {
		struct nl_addr *g = ip_nladdr(gw, vz_ip_maxprefix(gw));
		rtnl_route_nh_set_gateway(nh, g);
		nl_addr_put(g);
	}
	rtnl_route_add_nexthop(r, nh);
	return r;
}

static const char *fam_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* IPv6 gateway the CT uses: fe80::1 on the host end. */
static void v6_gateway(struct vz_ip *gw)
{
	memset(gw, 0, sizeof(*gw));
	gw->family = AF_INET6;
	gw->addr[0] = 0xfe;
	gw->addr[1] = 0x80;
	gw->addr[15] = 1;
	gw->prefix = 64;
}

static int ct_default_route(struct nl_sock *sk, int ifindex, int family,
			    struct vz_error *err)
{
	struct vz_ip gw;
	v6_gateway(&gw);
	struct rtnl_route *r = route_build(ifindex, NULL, 0,
					   family == AF_INET6 ? &gw : NULL, family);
	int rc = rtnl_route_add(sk, r, NLM_F_REPLACE);
	rtnl_route_put(r);
	if (rc < 0)
		return nlfail(err, rc, "add the %s default route via %s in the container",
			      fam_name(family), VENET);
	return 0;
}

static int host_route(struct nl_sock *sk, int ifindex, const char *dev,
		      const struct vz_ip *ip, bool add, struct vz_error *err)
{
	struct rtnl_route *r = route_build(ifindex, ip, vz_ip_maxprefix(ip),
					   NULL, ip->family);
	int rc = add ? rtnl_route_add(sk, r, NLM_F_EXCL)
		     : rtnl_route_delete(sk, r, 0);
	rtnl_route_put(r);
	char s[64];
	vz_ip_format_addr(ip, s, sizeof(s));
	if (!add && (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV))
		return 0;
	if (rc == -NLE_EXIST)
		return vz_fail(err, VZ_EEXIST,
			       "address %s is already routed on the host (used by another container or the host)",
			       s);
	if (rc < 0)
		return nlfail(err, rc, "%s the host route to %s via %s",
			      add ? "add" : "delete", s, dev);
	return 0;
}

static int pneigh(struct nl_sock *sk, int ifindex, const char *dev,
		  const struct vz_ip *ip, bool add, struct vz_error *err)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *d = ip_nladdr(ip, vz_ip_maxprefix(ip));
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_dst(n, d);
	rtnl_neigh_set_family(n, ip->family);
	rtnl_neigh_set_flags(n, NTF_PROXY);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	int rc = add ? rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE)
		     : rtnl_neigh_delete(sk, n, 0);
	nl_addr_put(d);
	rtnl_neigh_put(n);
	if (!add && (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV))
		return 0;
	if (rc < 0) {
		char s[64];
		vz_ip_format_addr(ip, s, sizeof(s));
		return nlfail(err, rc, "%s the proxy %s entry for %s on %s",
			      add ? "add" : "delete",
			      ip->family == AF_INET ? "ARP" : "NDP", s, dev);
	}
	return 0;
}

/* IPv6 has no reverse path filter: policy rules do its work for the
 * routed host end.  Traffic coming in from the CT with one of its own
 * addresses as source goes on to the main table; anything else that is
 * not for the host itself (the local table comes first) is dropped. */
#define VZ_RULE_PRIO 32000  /* after local (0), before main (32766) */

static int src_rule(struct nl_sock *sk, const char *host, const struct vz_ip *ip,
		    bool add, struct vz_error *err)
{
	struct rtnl_rule *r = rtnl_rule_alloc();
	rtnl_rule_set_family(r, AF_INET6);
	rtnl_rule_set_prio(r, ip ? VZ_RULE_PRIO : VZ_RULE_PRIO + 1);
	rtnl_rule_set_iif(r, host);
	if (ip) {
		struct nl_addr *a = ip_nladdr(ip, 128);
		rtnl_rule_set_src(r, a);
		nl_addr_put(a);
		rtnl_rule_set_action(r, FR_ACT_TO_TBL);
		rtnl_rule_set_table(r, RT_TABLE_MAIN);
	} else {
		rtnl_rule_set_action(r, FR_ACT_BLACKHOLE);
	}
	int rc = add ? rtnl_rule_add(sk, r, NLM_F_EXCL) : rtnl_rule_delete(sk, r, 0);
	rtnl_rule_put(r);
	if (rc == -NLE_EXIST && add)
		return 0;
	if (!add && (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV))
		return 0;
	if (rc < 0) {
		char s[64] = "any other source";
		if (ip)
			vz_ip_format_addr(ip, s, sizeof(s));
		return nlfail(err, rc, "%s the IPv6 source rule for %s on %s",
			      add ? "add" : "delete", s, host);
	}
	return 0;
}

/* Removes the source rules of host for the IPv6 addresses in ips and,
 * with all, the final drop rule. */
static void src_rules_purge(struct nl_sock *sk, const char *host,
			    const struct vz_ip *ips, size_t n, bool all)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i].family == AF_INET6)
			src_rule(sk, host, &ips[i], false, NULL);
	if (all)
		src_rule(sk, host, NULL, false, NULL);
}

/* ---- proxy entries: find them wherever they are ---- */

struct pneigh_found {
	int family;
	unsigned char addr[16];
	int *ifindexes;
	size_t n;
};

static int pneigh_dump_cb(struct nl_msg *msg, void *arg)
{
	struct pneigh_found *f = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	if (h->nlmsg_type != RTM_NEWNEIGH)
		return NL_OK;
	struct ndmsg *ndm = nlmsg_data(h);
	if (!(ndm->ndm_flags & NTF_PROXY) || ndm->ndm_family != f->family)
		return NL_OK;
	struct nlattr *tb[NDA_MAX + 1];
	if (nlmsg_parse(h, sizeof(*ndm), tb, NDA_MAX, NULL) < 0 || !tb[NDA_DST])
		return NL_OK;
	size_t alen = f->family == AF_INET ? 4 : 16;
	if ((size_t)nla_len(tb[NDA_DST]) != alen ||
	    memcmp(nla_data(tb[NDA_DST]), f->addr, alen))
		return NL_OK;
	f->ifindexes = xrealloc(f->ifindexes, (f->n + 1) * sizeof(int));
	f->ifindexes[f->n++] = ndm->ndm_ifindex;
	return NL_OK;
}

/* Removes every proxy entry for ip, on whatever device it is. */
static int pneigh_purge(struct nl_sock *sk, const struct vz_ip *ip,
			struct vz_error *err)
{
	struct pneigh_found f = { .family = ip->family };
	memcpy(f.addr, ip->addr, 16);
	struct ndmsg ndm = { .ndm_family = (unsigned char)ip->family,
			     .ndm_flags = NTF_PROXY };
	char s[64];
	vz_ip_format_addr(ip, s, sizeof(s));
	int rc = nl_send_simple(sk, RTM_GETNEIGH, NLM_F_DUMP, &ndm, sizeof(ndm));
	if (rc < 0)
		return nlfail(err, rc, "list proxy neighbour entries for %s", s);
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, pneigh_dump_cb, &f);
	rc = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (rc < 0) {
		free(f.ifindexes);
		return nlfail(err, rc, "list proxy neighbour entries for %s", s);
	}
	int ret = 0;
	for (size_t i = 0; i < f.n; i++) {
		char dev[32];
		snprintf(dev, sizeof(dev), "device #%d", f.ifindexes[i]);
		if (pneigh(sk, f.ifindexes[i], dev, ip, false, err) < 0)
			ret = -1;
	}
	free(f.ifindexes);
	return ret;
}

/* ---- sysctls of devices ---- */

static int dev_sysctl(int family, const char *dev, const char *key,
		      const char *val, bool must, struct vz_error *err)
{
	_cleanup_free_ char *path = xasprintf("/proc/sys/net/%s/conf/%s/%s",
					      family == AF_INET ? "ipv4" : "ipv6",
					      dev, key);
	struct vz_error e;
	if (vz_write_string(path, val, &e) < 0) {
		if (!must)
			return 0;
		if (err)
			*err = e;
		return -1;
	}
	return 0;
}

static bool sysctl_on(const char *path)
{
	char *s = NULL;
	size_t n;
	if (vz_read_file(path, &s, &n, NULL) < 0)
		return false;
	bool on = s[0] != '0';
	free(s);
	return on;
}

/* ---- neighbour devices ---- */

struct dev_scan {
	struct nl_sock *sk;
	int family;
	char **out;
	bool all;
};

static void scan_default_routes(struct nl_object *o, void *arg)
{
	struct dev_scan *s = arg;
	struct rtnl_route *r = (struct rtnl_route *)o;
	if (rtnl_route_get_family(r) != s->family ||
	    rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(r) != RTN_UNICAST)
		return;
	struct nl_addr *d = rtnl_route_get_dst(r);
	if (d && nl_addr_get_prefixlen(d) != 0)
		return;
	for (int i = 0; i < rtnl_route_get_nnexthops(r); i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, i);
		char name[VZ_IFNAMSIZ];
		struct rtnl_link *l = NULL;
		if (rtnl_link_get_kernel(s->sk, rtnl_route_nh_get_ifindex(nh),
					 NULL, &l) < 0)
			continue;
		snprintf(name, sizeof(name), "%s", rtnl_link_get_name(l));
		rtnl_link_put(l);
		if (!vz_strv_contains(s->out, name))
			s->out = vz_strv_push(s->out, name);
	}
}

static bool is_ct_host_end(const char *name)
{
	return vz_startswith(name, "venet") || vz_startswith(name, "veth") ||
	       vz_startswith(name, "vz");
}

static void scan_all_links(struct nl_object *o, void *arg)
{
	struct dev_scan *s = arg;
	struct rtnl_link *l = (struct rtnl_link *)o;
	unsigned flags = rtnl_link_get_flags(l);
	const char *name = rtnl_link_get_name(l);
	if (!(flags & IFF_UP) || (flags & (IFF_LOOPBACK | IFF_NOARP)) ||
	    rtnl_link_get_arptype(l) != ARPHRD_ETHER || is_ct_host_end(name) ||
	    rtnl_link_get_master(l) > 0)
		return;
	s->out = vz_strv_push(s->out, name);
}

static int neighbour_devs(struct nl_sock *sk, const struct vz_net_conf *nc,
			  int family, char ***devs, struct vz_error *err)
{
	struct dev_scan s = { .sk = sk, .family = family,
			      .out = xcalloc(1, sizeof(char *)) };
	char **want = nc->neighbour_devs;
	if (want && !vz_strv_contains(want, "all")) {
		for (size_t i = 0; want[i]; i++)
			s.out = vz_strv_push(s.out, want[i]);
		*devs = s.out;
		return 0;
	}
	struct nl_cache *cache = NULL;
	int rc;
	if (want) {
		rc = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
		if (rc < 0) {
			vz_strv_free(s.out);
			return nlfail(err, rc, "list host devices");
		}
		nl_cache_foreach(cache, scan_all_links, &s);
	} else {
		rc = rtnl_route_alloc_cache(sk, family, 0, &cache);
		if (rc < 0) {
			vz_strv_free(s.out);
			return nlfail(err, rc, "list host %s routes", fam_name(family));
		}
		nl_cache_foreach(cache, scan_default_routes, &s);
	}
	nl_cache_free(cache);
	*devs = s.out;
	return 0;
}

int vz_net_neighbour_devs(const struct vz_net_conf *nc, int family,
			  char ***devs, struct vz_error *err)
{
	struct nl nl;
	if (nlh_open(&nl, -1, err) < 0)
		return -1;
	int rc = neighbour_devs(nl.host, nc, family, devs, err);
	nlh_close(&nl);
	return rc;
}

/* ---- checks before anything is made ---- */

struct local_check {
	const struct vz_ip *ips;
	size_t n;
	const struct vz_ip *hit;
};

static void scan_local_addr(struct nl_object *o, void *arg)
{
	struct local_check *c = arg;
	struct nl_addr *a = rtnl_addr_get_local((struct rtnl_addr *)o);
	if (!a || c->hit)
		return;
	for (size_t i = 0; i < c->n; i++) {
		size_t len = c->ips[i].family == AF_INET ? 4 : 16;
		if (nl_addr_get_family(a) == c->ips[i].family &&
		    nl_addr_get_len(a) == len &&
		    !memcmp(nl_addr_get_binary_addr(a), c->ips[i].addr, len))
			c->hit = &c->ips[i];
	}
}

/* None of ips may be an address of the host itself. */
static int check_not_local(struct nl_sock *sk, const struct vz_ip *ips,
			   size_t n, struct vz_error *err)
{
	struct nl_cache *cache = NULL;
	int rc = rtnl_addr_alloc_cache(sk, &cache);
	if (rc < 0)
		return nlfail(err, rc, "list host addresses");
	struct local_check c = { .ips = ips, .n = n };
	nl_cache_foreach(cache, scan_local_addr, &c);
	nl_cache_free(cache);
	if (c.hit) {
		char s[64];
		vz_ip_format_addr(c.hit, s, sizeof(s));
		return vz_fail(err, VZ_EEXIST,
			       "address %s is an address of the host itself", s);
	}
	return 0;
}

/* Neighbour devices per family, looked up once per operation (a host
 * may carry a big routing table). */
struct devcache {
	char **v[2];
	bool have[2];
};

static void devcache_free(struct devcache *c)
{
	vz_strv_free(c->v[0]);
	vz_strv_free(c->v[1]);
	memset(c, 0, sizeof(*c));
}

/* Duplicate address detection on the neighbour devices, before anything
 * is made.  IPv4: an RFC 5227 probe (ARP request from 0.0.0.0); any reply,
 * or another host's probe for the same address, means it is in use.
 * IPv6: a neighbour solicitation to the address's solicited-node group;
 * an advertisement for it means it is in use.  All probes go out at once
 * and the answers are awaited together, for arpdetect_ms. */
struct probe_sock {
	int fd;
	int family;
	uint8_t mac[6];
	const char *dev;
};

struct arp_pkt {
	struct arphdr h;
	uint8_t sha[6], sip[4], tha[6], tip[4];
} __attribute__((packed));

static int dad_open(struct probe_sock *ps, int family, int idx,
		    struct vz_error *err)
{
	if (family == AF_INET) {
		ps->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
				htons(ETH_P_ARP));
		if (ps->fd < 0)
			return vz_fail_errno(err, VZ_ESYSTEM,
					     "open a packet socket for the duplicate address check");
		struct sockaddr_ll sll = { .sll_family = AF_PACKET,
					   .sll_protocol = htons(ETH_P_ARP),
					   .sll_ifindex = idx };
		if (bind(ps->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			return vz_fail_errno(err, VZ_ESYSTEM, "bind to %s", ps->dev);
		return 0;
	}
	ps->fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			IPPROTO_ICMPV6);
	if (ps->fd < 0)
		return vz_fail_errno(err, VZ_ESYSTEM,
				     "open an ICMPv6 socket for the duplicate address check");
	int hops = 255;
	struct icmp6_filter filt;
	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filt);
	if (setsockopt(ps->fd, SOL_SOCKET, SO_BINDTODEVICE, ps->dev,
		       (socklen_t)strlen(ps->dev)) < 0 ||
	    setsockopt(ps->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(ps->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0 ||
	    setsockopt(ps->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof(filt)) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "set up ICMPv6 on %s", ps->dev);
	return 0;
}

static void dad_send(const struct probe_sock *ps, int idx, const struct vz_ip *ip)
{
	ssize_t r;
	if (ps->family == AF_INET) {
		struct arp_pkt p = { .h = { htons(ARPHRD_ETHER), htons(ETH_P_IP), 6, 4,
					    htons(ARPOP_REQUEST) } };
		memcpy(p.sha, ps->mac, 6);
		memcpy(p.tip, ip->addr, 4);
		struct sockaddr_ll to = { .sll_family = AF_PACKET,
					  .sll_protocol = htons(ETH_P_ARP),
					  .sll_ifindex = idx, .sll_halen = 6 };
		memset(to.sll_addr, 0xff, 6);
		r = sendto(ps->fd, &p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to));
	} else {
		struct {
			struct nd_neighbor_solicit ns;
			uint8_t opt_type, opt_len, mac[6];
		} __attribute__((packed)) p = { .opt_type = ND_OPT_SOURCE_LINKADDR,
						.opt_len = 1 };
		p.ns.nd_ns_type = ND_NEIGHBOR_SOLICIT;
		memcpy(&p.ns.nd_ns_target, ip->addr, 16);
		memcpy(p.mac, ps->mac, 6);
		struct sockaddr_in6 to = { .sin6_family = AF_INET6,
					   .sin6_scope_id = (uint32_t)idx };
		static const uint8_t snm[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
		memcpy(&to.sin6_addr, snm, 13);
		memcpy((uint8_t *)&to.sin6_addr + 13, ip->addr + 13, 3);
		r = sendto(ps->fd, &p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to));
	}
	if (r < 0)
		vz_warn("duplicate address check on %s: send: %s", ps->dev, strerror(errno));
}

/* The address an answer on ps says is taken, or NULL. */
static const struct vz_ip *dad_answer(const struct probe_sock *ps,
				      const struct vz_ip *ips, size_t n,
				      uint8_t who[6])
{
	if (ps->family == AF_INET) {
		struct arp_pkt p;
		ssize_t got;
		while ((got = recv(ps->fd, &p, sizeof(p), 0)) > 0) {
			if ((size_t)got < sizeof(p) || ntohs(p.h.ar_pro) != ETH_P_IP ||
			    !memcmp(p.sha, ps->mac, 6))  /* our own, looped back */
				continue;
			for (size_t i = 0; i < n; i++) {
				if (ips[i].family != AF_INET)
					continue;
				bool reply = ntohs(p.h.ar_op) == ARPOP_REPLY &&
					     !memcmp(p.sip, ips[i].addr, 4);
				bool probe = ntohs(p.h.ar_op) == ARPOP_REQUEST &&
					     !memcmp(p.tip, ips[i].addr, 4) &&
					     !memcmp(p.sip, "\0\0\0\0", 4);
				if (reply || probe) {
					memcpy(who, p.sha, 6);
					return &ips[i];
				}
			}
		}
		return NULL;
	}
	uint8_t buf[1500];
	ssize_t got;
	while ((got = recv(ps->fd, buf, sizeof(buf), 0)) > 0) {
		if ((size_t)got < sizeof(struct nd_neighbor_advert) ||
		    buf[0] != ND_NEIGHBOR_ADVERT)
			continue;
		const struct nd_neighbor_advert *na = (const void *)buf;
		memset(who, 0, 6);
		/* target link-layer address option, when present */
		for (size_t off = sizeof(*na); off + 8 <= (size_t)got && buf[off + 1];
		     off += (size_t)buf[off + 1] * 8)
			if (buf[off] == ND_OPT_TARGET_LINKADDR)
				memcpy(who, buf + off + 2, 6);
		if (!memcmp(who, ps->mac, 6))
			continue;
		for (size_t i = 0; i < n; i++)
			if (ips[i].family == AF_INET6 &&
			    !memcmp(&na->nd_na_target, ips[i].addr, 16))
				return &ips[i];
	}
	return NULL;
}

static int arp_detect(struct nl_sock *sk, const struct vz_net_conf *nc,
		      const struct vz_ip *ips, size_t n, struct vz_error *err)
{
	if (nc->skip_arpdetect || n == 0)
		return 0;
	struct probe_sock *ps = NULL;
	struct pollfd *pfd = NULL;
	size_t np = 0;
	int ret = 0;
	struct devcache dc = { 0 };
	for (int f = 0; f < 2 && ret == 0; f++) {
		int family = f ? AF_INET6 : AF_INET;
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any |= ips[i].family == family;
		if (!any)
			continue;
		if (neighbour_devs(sk, nc, family, &dc.v[f], err) < 0) {
			ret = -1;
			break;
		}
		for (size_t d = 0; dc.v[f][d] && ret == 0; d++) {
			struct rtnl_link *l = NULL;
			if (link_find(sk, dc.v[f][d], &l, NULL) <= 0)
				continue;
			unsigned flags = rtnl_link_get_flags(l);
			struct nl_addr *hw = rtnl_link_get_addr(l);
			int idx = rtnl_link_get_ifindex(l);
			bool usable = (flags & IFF_UP) && !(flags & (IFF_NOARP | IFF_LOOPBACK)) &&
				      rtnl_link_get_arptype(l) == ARPHRD_ETHER && hw &&
				      nl_addr_get_len(hw) == 6;
			struct probe_sock p = { .fd = -1, .family = family,
						.dev = dc.v[f][d] };
			if (usable)
				memcpy(p.mac, nl_addr_get_binary_addr(hw), 6);
			rtnl_link_put(l);
			if (!usable)
				continue;
			ps = xrealloc(ps, (np + 1) * sizeof(*ps));
			pfd = xrealloc(pfd, (np + 1) * sizeof(*pfd));
			ps[np] = p;
			pfd[np] = (struct pollfd){ .fd = -1, .events = POLLIN };
			np++;
			if (dad_open(&ps[np - 1], family, idx, err) < 0) {
				ret = -1;
				break;
			}
			pfd[np - 1].fd = ps[np - 1].fd;
			for (size_t i = 0; i < n; i++)
				if (ips[i].family == family)
					dad_send(&ps[np - 1], idx, &ips[i]);
			vz_info("checking on %s that the container's %s addresses are free",
				p.dev, fam_name(family));
		}
	}
	uint64_t deadline = vz_now_ns() + (uint64_t)nc->arpdetect_ms * 1000000ULL;
	while (np && ret == 0) {
		uint64_t now = vz_now_ns();
		if (now >= deadline)
			break;
		int pr = poll(pfd, np, (int)((deadline - now) / 1000000ULL) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		for (size_t k = 0; k < np && ret == 0; k++) {
			if (!(pfd[k].revents & POLLIN))
				continue;
			uint8_t who[6];
			const struct vz_ip *hit = dad_answer(&ps[k], ips, n, who);
			if (hit) {
				char s[64];
				vz_ip_format_addr(hit, s, sizeof(s));
				ret = vz_fail(err, VZ_EEXIST,
					      "address %s is in use on the network of %s (answered by %02x:%02x:%02x:%02x:%02x:%02x); set SKIP_ARPDETECT=yes to skip this check",
					      s, ps[k].dev, who[0], who[1], who[2], who[3],
					      who[4], who[5]);
			}
		}
	}
	for (size_t k = 0; k < np; k++)
		if (ps[k].fd >= 0)
			close(ps[k].fd);
	free(ps);
	free(pfd);
	devcache_free(&dc);
	return ret;
}

/* ---- routed mode ---- */

struct made {
	char **links;           /* host ends we created */
	struct vz_ip *pn;       /* addresses we added proxy entries for */
	size_t npn;
	char rules_host[VZ_IFNAMSIZ];  /* IPv6 source rules made for it */
	struct vz_ip *r6;
	size_t nr6;
};

static void made_undo(struct nl_sock *sk, struct made *m)
{
	if (m->rules_host[0])
		src_rules_purge(sk, m->rules_host, m->r6, m->nr6, true);
	for (size_t i = 0; i < m->npn; i++)
		pneigh_purge(sk, &m->pn[i], NULL);
	for (size_t i = 0; m->links && m->links[i]; i++)
		link_del(sk, m->links[i], NULL);
}

static void made_free(struct made *m)
{
	vz_strv_free(m->links);
	free(m->pn);
	free(m->r6);
	memset(m, 0, sizeof(*m));
}

static void warn_forwarding(const struct vz_ip *ip, const char *const *devs)
{
	static bool warned4, warned6;
	bool *w = ip->family == AF_INET ? &warned4 : &warned6;
	if (*w)
		return;
	for (size_t i = 0; devs && devs[i]; i++) {
		_cleanup_free_ char *p = xasprintf("/proc/sys/net/%s/conf/%s/forwarding",
						   ip->family == AF_INET ? "ipv4" : "ipv6",
						   devs[i]);
		if (!sysctl_on(p)) {
			vz_warn("forwarding is off on %s (net.%s.conf.%s.forwarding): the network there will not reach the container's %s addresses",
				devs[i], ip->family == AF_INET ? "ipv4" : "ipv6",
				devs[i], fam_name(ip->family));
			*w = true;
		}
	}
}

/* Routed parts of one address on the host: route, proxy entries. */
static int routed_host_addr(struct nl_sock *sk, const struct vz_net_conf *nc,
			    int host_idx, const char *host, const struct vz_ip *ip,
			    bool add_route, struct made *m, struct devcache *dc,
			    struct vz_error *err)
{
	if (add_route && host_route(sk, host_idx, host, ip, true, err) < 0)
		return -1;
	if (ip->family == AF_INET6) {
		if (m) {
			m->r6 = xrealloc(m->r6, (m->nr6 + 1) * sizeof(*m->r6));
			m->r6[m->nr6++] = *ip;
		}
		if (src_rule(sk, host, ip, true, err) < 0)
			return -1;
	}
	int f = ip->family == AF_INET6;
	if (!dc->have[f]) {
		if (neighbour_devs(sk, nc, ip->family, &dc->v[f], err) < 0)
			return -1;
		dc->have[f] = true;
	}
	char **devs = dc->v[f];
	warn_forwarding(ip, (const char *const *)devs);
	bool recorded = false;
	for (size_t i = 0; devs[i]; i++) {
		int idx = link_find(sk, devs[i], NULL, err);
		if (idx < 0)
			return -1;
		if (idx == 0) {
			if (nc->neighbour_devs)
				return vz_fail(err, VZ_ECONFIG,
					       "NEIGHBOUR_DEVS: device %s does not exist",
					       devs[i]);
			continue;
		}
		if (ip->family == AF_INET6 &&
		    dev_sysctl(AF_INET6, devs[i], "proxy_ndp", "1", true, err) < 0)
			return vz_prefix(err, "enable proxy NDP on %s", devs[i]);
		if (!recorded && m) {
			m->pn = xrealloc(m->pn, (m->npn + 1) * sizeof(*m->pn));
			m->pn[m->npn++] = *ip;
			recorded = true;
		}
		if (pneigh(sk, idx, devs[i], ip, true, err) < 0)
			return -1;
	}
	return 0;
}

static int ct_link_index(struct nl_sock *ct, const char *name,
			 struct vz_error *err)
{
	int idx = link_find(ct, name, NULL, err);
	if (idx == 0)
		return vz_fail(err, VZ_ESTATE, "device %s is missing in the container",
			       name);
	return idx;
}

static int ct_addr(struct nl_sock *ct, const struct vz_ip *ip,
		   struct vz_error *err)
{
	int idx = ct_link_index(ct, VENET, err);
	if (idx < 0)
		return -1;
	/* Like venet: everything goes through the host, even the CT's own
	 * subnet (a prefix is kept for the CT's eyes, without its route). */
	int prefix = ip->prefix >= 0 ? ip->prefix : vz_ip_maxprefix(ip);
	if (addr_add(ct, idx, VENET " in the container", ip, prefix,
		     IFA_F_NOPREFIXROUTE, err) < 0)
		return -1;
	return ct_default_route(ct, idx, ip->family, err);
}

static int routed_setup(struct nl *nl, const struct vz_net_conf *nc,
			int ct_netns, const struct vz_ip *ips, size_t n,
			struct made *m, struct vz_error *err)
{
	char host[VZ_IFNAMSIZ], hmac[VZ_MACSTRLEN], cmac[VZ_MACSTRLEN];
	vz_net_routed_host_ifname(nc->ctid, host);
	vz_mac_generate(nc->ctid, VENET, true, hmac);
	vz_mac_generate(nc->ctid, VENET, false, cmac);
	if (veth_create(nl->host, host, hmac, VENET, cmac, ct_netns, err) < 0)
		return -1;
	m->links = vz_strv_push(m->links, host);
	/* The host end answers ARP for everything the CT asks (its default
	 * route is on-link) and forwards what the CT sends. */
	if (dev_sysctl(AF_INET, host, "proxy_arp", "1", true, err) < 0 ||
	    dev_sysctl(AF_INET, host, "forwarding", "1", true, err) < 0)
		return vz_prefix(err, "configure %s", host);
	/* Like venet, a CT sends only from its own addresses: the strict
	 * reverse path check drops what comes in with any other source,
	 * since only the CT's addresses are routed back to this device.
	 * (IPv6 has no such knob; that needs a netfilter rule.) */
	if (dev_sysctl(AF_INET, host, "rp_filter", "1", true, err) < 0)
		return vz_prefix(err, "configure %s", host);
	if (sysctl_on("/proc/sys/net/ipv4/conf/all/rp_filter")) {
		char *v = NULL;
		size_t vlen;
		if (vz_read_file("/proc/sys/net/ipv4/conf/all/rp_filter", &v, &vlen, NULL) == 0 &&
		    v[0] == '2')
			vz_warn("net.ipv4.conf.all.rp_filter is 2 (loose): containers can send with other source addresses");
		free(v);
	}
	/* per-device IPv6 forwarding where the kernel has it (6.17+) */
	dev_sysctl(AF_INET6, host, "force_forwarding", "1", false, NULL);
	if (link_up(nl->host, host, 0, err) < 0)
		return -1;
	int hidx = link_find(nl->host, host, NULL, err);
	if (hidx <= 0)
		return hidx < 0 ? -1 : vz_fail(err, VZ_ESYSTEM, "device %s vanished", host);
	bool v6 = false;
	for (size_t i = 0; i < n; i++)
		v6 |= ips[i].family == AF_INET6;
	if (v6) {
		struct vz_ip gw;
		v6_gateway(&gw);
		if (addr_add(nl->host, hidx, host, &gw, 64, 0, err) < 0)
			return -1;
		snprintf(m->rules_host, sizeof(m->rules_host), "%s", host);
		if (src_rule(nl->host, host, NULL, true, err) < 0)
			return -1;
		_cleanup_free_ char *ff = xasprintf("/proc/sys/net/ipv6/conf/%s/force_forwarding", host);
		if (!sysctl_on("/proc/sys/net/ipv6/conf/all/forwarding") &&
		    !sysctl_on(ff))
			vz_warn("IPv6 forwarding is off on this host (net.ipv6.conf.all.forwarding): the container's IPv6 addresses reach only the host");
	}
	if (link_up(nl->ct, VENET, 0, err) < 0)
		return vz_prefix(err, "in the container");
	for (size_t i = 0; i < n; i++)
		if (ct_addr(nl->ct, &ips[i], err) < 0)
			return -1;
	struct devcache dc = { 0 };
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = routed_host_addr(nl->host, nc, hidx, host, &ips[i], true, m, &dc, err);
	devcache_free(&dc);
	return rc;
}

/* ---- bridged mode ---- */

static int bridge_index(struct nl_sock *sk, const char *bridge,
			struct vz_error *err)
{
	struct rtnl_link *l = NULL;
	int idx = link_find(sk, bridge, &l, err);
	if (idx < 0)
		return -1;
	if (idx == 0)
		return vz_fail(err, VZ_ENOENT,
			       "bridge %s does not exist on the host; create it first",
			       bridge);
	const char *t = rtnl_link_get_type(l);
	_cleanup_free_ char *type = xstrdup(t ? t : "unknown");
	rtnl_link_put(l);
	if (strcmp(type, "bridge"))
		return vz_fail(err, VZ_EUSAGE, "device %s is not a bridge (type %s)",
			       bridge, type);
	return idx;
}

static int netif_check(struct nl *nl, const struct vz_netif *nif,
		       struct vz_error *err)
{
	if (vz_ifname_check(nif->ifname, "interface name", err) < 0 ||
	    vz_ifname_check(nif->host_ifname, "host interface name", err) < 0)
		return -1;
	if (!strcmp(nif->ifname, VENET) || !strcmp(nif->ifname, "lo"))
		return vz_fail(err, VZ_EUSAGE,
			       "interface name %s is reserved in the container",
			       nif->ifname);
	if (nif->bridge[0] && bridge_index(nl->host, nif->bridge, err) < 0)
		return -1;
	int idx = link_find(nl->host, nif->host_ifname, NULL, err);
	if (idx < 0)
		return -1;
	if (idx > 0)
		return vz_fail(err, VZ_EEXIST,
			       "host interface %s exists already (another container's, or left over)",
			       nif->host_ifname);
	return 0;
}

static int netif_setup(struct nl *nl, int ct_netns, const struct vz_netif *nif,
		       struct made *m, struct vz_error *err)
{
	int bidx = 0;
	if (nif->bridge[0] && (bidx = bridge_index(nl->host, nif->bridge, err)) < 0)
		return -1;
	if (veth_create(nl->host, nif->host_ifname, nif->host_mac, nif->ifname,
			nif->mac, ct_netns, err) < 0)
		return -1;
	m->links = vz_strv_push(m->links, nif->host_ifname);
	if (link_up(nl->host, nif->host_ifname, bidx, err) < 0)
		return -1;
	if (link_up(nl->ct, nif->ifname, 0, err) < 0)
		return vz_prefix(err, "in the container");
	return 0;
}

/* ---- entry points ---- */

int vz_net_start(const struct vz_net_conf *nc, int ct_netns,
		 struct vz_error *err)
{
	struct nl nl;
	if (nlh_open(&nl, ct_netns, err) < 0)
		return vz_prefix(err, "set up the network of CT %u", nc->ctid);
	struct made m = { 0 };
	int rc = -1;
	/* checks first: nothing is made when one fails */
	for (size_t i = 0; i < nc->netifs.n; i++)
		if (netif_check(&nl, &nc->netifs.v[i], err) < 0)
			goto out;
	if (nc->ips.n) {
		char host[VZ_IFNAMSIZ];
		vz_net_routed_host_ifname(nc->ctid, host);
		int idx = link_find(nl.host, host, NULL, err);
		if (idx < 0)
			goto out;
		if (idx > 0) {
			vz_fail(err, VZ_EEXIST, "host interface %s exists already", host);
			goto out;
		}
		if (check_not_local(nl.host, nc->ips.v, nc->ips.n, err) < 0 ||
		    arp_detect(nl.host, nc, nc->ips.v, nc->ips.n, err) < 0)
			goto out;
	}
	if (link_up(nl.ct, "lo", 0, err) < 0) {
		vz_prefix(err, "in the container");
		goto out;
	}
	if (nc->ips.n &&
	    routed_setup(&nl, nc, ct_netns, nc->ips.v, nc->ips.n, &m, err) < 0)
		goto undo;
	for (size_t i = 0; i < nc->netifs.n; i++)
		if (netif_setup(&nl, ct_netns, &nc->netifs.v[i], &m, err) < 0)
			goto undo;
	rc = 0;
	goto out;
undo:
	made_undo(nl.host, &m);
out:
	made_free(&m);
	nlh_close(&nl);
	if (rc < 0)
		vz_prefix(err, "set up the network of CT %u", nc->ctid);
	return rc;
}

int vz_net_stop(const struct vz_net_conf *nc, struct vz_error *err)
{
	struct nl nl;
	if (nlh_open(&nl, -1, err) < 0)
		return vz_prefix(err, "remove the network of CT %u", nc->ctid);
	int rc = 0;
	struct vz_error e;
	for (size_t i = 0; i < nc->ips.n; i++)
		if (pneigh_purge(nl.host, &nc->ips.v[i], &e) < 0 && rc == 0) {
			*err = e;
			rc = -1;
		}
	char host[VZ_IFNAMSIZ];
	vz_net_routed_host_ifname(nc->ctid, host);
	/* only a CT with routed addresses has one: never guess at a name */
	if (nc->ips.n && link_del(nl.host, host, &e) < 0 && rc == 0) {
		*err = e;
		rc = -1;
	}
	/* rules name the device: they outlive it */
	if (nc->ips.n)
		src_rules_purge(nl.host, host, nc->ips.v, nc->ips.n, true);
	for (size_t i = 0; i < nc->netifs.n; i++)
		if (link_del(nl.host, nc->netifs.v[i].host_ifname, &e) < 0 && rc == 0) {
			*err = e;
			rc = -1;
		}
	nlh_close(&nl);
	if (rc < 0)
		vz_prefix(err, "remove the network of CT %u", nc->ctid);
	return rc;
}

struct addr_del {
	struct nl_sock *sk;
	const struct vz_ip *ip;
	int ifindex;
	int rc;
};

static void del_matching_addr(struct nl_object *o, void *arg)
{
	struct addr_del *d = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct nl_addr *l = rtnl_addr_get_local(a);
	size_t len = d->ip->family == AF_INET ? 4 : 16;
	if (rtnl_addr_get_ifindex(a) != d->ifindex || !l ||
	    nl_addr_get_family(l) != d->ip->family || nl_addr_get_len(l) != len ||
	    memcmp(nl_addr_get_binary_addr(l), d->ip->addr, len))
		return;
	int rc = rtnl_addr_delete(d->sk, a, 0);
	if (rc < 0 && d->rc == 0)
		d->rc = rc;
}

/* Takes one routed address away: proxy entries, host route, the address
 * in the CT.  Outside first, so the network stops sending before the CT
 * forgets the address. */
static int routed_addr_remove(struct nl *nl, const struct vz_net_conf *nc,
			      const struct vz_ip *ip, struct vz_error *err)
{
	char s[64];
	vz_ip_format_addr(ip, s, sizeof(s));
	char host[VZ_IFNAMSIZ];
	vz_net_routed_host_ifname(nc->ctid, host);
	if (pneigh_purge(nl->host, ip, err) < 0)
		return -1;
	int hidx = link_find(nl->host, host, NULL, err);
	if (hidx < 0)
		return -1;
	if (hidx > 0 && host_route(nl->host, hidx, host, ip, false, err) < 0)
		return -1;
	if (ip->family == AF_INET6 && src_rule(nl->host, host, ip, false, err) < 0)
		return -1;
	int cidx = link_find(nl->ct, VENET, NULL, err);
	if (cidx <= 0)
		return cidx;
	struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(nl->ct, &cache);
	if (r < 0)
		return nlfail(err, r, "list the container's addresses");
	struct addr_del d = { .sk = nl->ct, .ip = ip, .ifindex = cidx };
	nl_cache_foreach(cache, del_matching_addr, &d);
	nl_cache_free(cache);
	if (d.rc < 0)
		return nlfail(err, d.rc, "delete address %s from %s in the container",
			      s, VENET);
	return 0;
}

int vz_net_ip_add(const struct vz_net_conf *nc, int ct_netns,
		  const struct vz_ip *ip, struct vz_error *err)
{
	char s[64];
	vz_ip_format_addr(ip, s, sizeof(s));
	if (vz_iplist_find(&nc->ips, ip) >= 0)
		return vz_fail(err, VZ_EEXIST, "CT %u already has address %s",
			       nc->ctid, s);
	struct nl nl;
	if (nlh_open(&nl, ct_netns, err) < 0)
		return vz_prefix(err, "add %s to CT %u", s, nc->ctid);
	struct made m = { 0 };
	int rc = -1;
	char host[VZ_IFNAMSIZ];
	vz_net_routed_host_ifname(nc->ctid, host);
	int hidx = link_find(nl.host, host, NULL, err);
	if (hidx < 0)
		goto out;
	if (check_not_local(nl.host, ip, 1, err) < 0 ||
	    arp_detect(nl.host, nc, ip, 1, err) < 0)
		goto out;
	if (hidx == 0) {
		/* the first routed address: the pair comes now */
		if (routed_setup(&nl, nc, ct_netns, ip, 1, &m, err) < 0)
			made_undo(nl.host, &m);
		else
			rc = 0;
		goto out;
	}
	/* the host route first: adding it is the check against other CTs */
	if (host_route(nl.host, hidx, host, ip, true, err) < 0)
		goto out;
	if (ip->family == AF_INET6) {
		struct vz_ip gw;
		v6_gateway(&gw);
		struct vz_error e;
		if (addr_add(nl.host, hidx, host, &gw, 64, 0, &e) < 0 &&
		    e.code != VZ_EEXIST) {
			*err = e;
			goto undo;
		}
		if (src_rule(nl.host, host, NULL, true, err) < 0)
			goto undo;
	}
	struct devcache dc = { 0 };
	int r = ct_addr(nl.ct, ip, err);
	if (r == 0)
		r = routed_host_addr(nl.host, nc, hidx, host, ip, false, NULL, &dc, err);
	devcache_free(&dc);
	if (r < 0)
		goto undo;
	rc = 0;
	goto out;
undo:
	routed_addr_remove(&nl, nc, ip, NULL);
out:
	made_free(&m);
	nlh_close(&nl);
	if (rc < 0)
		vz_prefix(err, "add %s to CT %u", s, nc->ctid);
	return rc;
}

int vz_net_ip_del(const struct vz_net_conf *nc, int ct_netns,
		  const struct vz_ip *ip, struct vz_error *err)
{
	char s[64];
	vz_ip_format_addr(ip, s, sizeof(s));
	struct nl nl;
	if (nlh_open(&nl, ct_netns, err) < 0)
		return vz_prefix(err, "remove %s from CT %u", s, nc->ctid);
	int rc = routed_addr_remove(&nl, nc, ip, err);
	nlh_close(&nl);
	if (rc < 0)
		vz_prefix(err, "remove %s from CT %u", s, nc->ctid);
	return rc;
}

int vz_net_netif_add(const struct vz_net_conf *nc, int ct_netns,
		     const struct vz_netif *nif, struct vz_error *err)
{
	struct nl nl;
	if (nlh_open(&nl, ct_netns, err) < 0)
		return vz_prefix(err, "add interface %s to CT %u", nif->ifname, nc->ctid);
	struct made m = { 0 };
	int rc = -1;
	if (netif_check(&nl, nif, err) < 0)
		goto out;
	int cidx = link_find(nl.ct, nif->ifname, NULL, err);
	if (cidx < 0)
		goto out;
	if (cidx > 0) {
		vz_fail(err, VZ_EEXIST, "the container has a device %s already",
			nif->ifname);
		goto out;
	}
	if (netif_setup(&nl, ct_netns, nif, &m, err) < 0) {
		made_undo(nl.host, &m);
		goto out;
	}
	rc = 0;
out:
	made_free(&m);
	nlh_close(&nl);
	if (rc < 0)
		vz_prefix(err, "add interface %s to CT %u", nif->ifname, nc->ctid);
	return rc;
}

int vz_net_netif_del(const struct vz_net_conf *nc, int ct_netns,
		     const struct vz_netif *nif, struct vz_error *err)
{
	struct nl nl;
	if (nlh_open(&nl, -1, err) < 0)
		return vz_prefix(err, "remove interface %s from CT %u", nif->ifname,
				 nc->ctid);
	/* deleting one end of a veth pair deletes both */
	int rc = link_del(nl.host, nif->host_ifname, err);
	nlh_close(&nl);
	if (rc < 0)
		vz_prefix(err, "remove interface %s from CT %u", nif->ifname, nc->ctid);
	return rc;
}
