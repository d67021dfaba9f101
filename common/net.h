/* Container networking: routed addresses (IP_ADDRESS, venet-like) and
 * bridged veth interfaces (NETIF), through libnl-route-3.
 *
 * Routed mode: one veth pair per CT.  The CT sees "venet0" carrying its
 * addresses and default routes (IPv4: on-link via venet0, answered by proxy
 * ARP on the host end; IPv6: via fe80::1, which the host end holds).  The
 * host end "venet<CTID>" gets a /32 or /128 route per CT address, and the
 * host devices of NEIGHBOUR_DEVS get proxy ARP / proxy NDP entries so the
 * LAN finds the CT's addresses at the host.
 *
 * Bridged mode: one veth pair per NETIF entry; the CT end is named ifname
 * with mac, the host end host_ifname with host_mac, enslaved to bridge.
 *
 * The core calls, with the CT's network namespace (open fd of
 * /proc/PID/ns/net of the CT's init, after it unshared the netns and before
 * it execs the CT's init):
 *   vz_net_start()  at start; on failure nothing of it is left;
 *   vz_net_stop()   at stop and destroy (also when the CT already died);
 *   vz_net_ip_add() / vz_net_ip_del() / vz_net_netif_add() /
 *   vz_net_netif_del() for `vzctl set` on a running CT;
 *   vz_ct_files_apply() (net-files) for hostname, hosts, resolv.conf.
 */
#ifndef VZ_NET_H
#define VZ_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vz_error;
struct vz_conf;

/* IFNAMSIZ including the terminating NUL. */
#define VZ_IFNAMSIZ 16
#define VZ_MACSTRLEN 18

/* ---- addresses (net-conf.c) ---- */

struct vz_ip {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;               /* given prefix length, or -1 */
};

/* Parses "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6).  Refuses unspecified,
 * multicast, loopback and broadcast addresses: they cannot be routed to a
 * container.  VZ_EUSAGE with a message naming s. */
int vz_ip_parse(const char *s, struct vz_ip *ip, struct vz_error *err);
/* "198.51.100.1", or with "/prefix" when one was given. */
void vz_ip_format(const struct vz_ip *ip, char *buf, size_t len);
/* Address only, never the prefix. */
void vz_ip_format_addr(const struct vz_ip *ip, char *buf, size_t len);
/* Same address (prefixes ignored). */
bool vz_ip_same(const struct vz_ip *a, const struct vz_ip *b);
/* Host prefix of the family: 32 or 128. */
int vz_ip_maxprefix(const struct vz_ip *ip);

struct vz_iplist {
	struct vz_ip *v;
	size_t n;
};

/* Parses an IP_ADDRESS value (space-separated).  A duplicate is an error. */
int vz_iplist_parse(const char *s, struct vz_iplist *l, struct vz_error *err);
/* Adds ip; VZ_EEXIST if the address is already there. */
int vz_iplist_add(struct vz_iplist *l, const struct vz_ip *ip,
		  struct vz_error *err);
/* Removes ip; VZ_ENOENT if it is not there. */
int vz_iplist_del(struct vz_iplist *l, const struct vz_ip *ip,
		  struct vz_error *err);
ssize_t vz_iplist_find(const struct vz_iplist *l, const struct vz_ip *ip);
/* Space-separated, as saved in IP_ADDRESS.  Caller frees. */
char *vz_iplist_format(const struct vz_iplist *l);
void vz_iplist_free(struct vz_iplist *l);

/* ---- interfaces (net-conf.c) ---- */

struct vz_netif {
	char ifname[VZ_IFNAMSIZ];        /* in the CT */
	char mac[VZ_MACSTRLEN];          /* "" until generated */
	char host_ifname[VZ_IFNAMSIZ];   /* "" until generated */
	char host_mac[VZ_MACSTRLEN];
	char bridge[VZ_IFNAMSIZ];        /* "" = not enslaved */
};

struct vz_netifs {
	struct vz_netif *v;
	size_t n;
};

/* A valid interface name: 1..15 bytes, no '/', ':', whitespace or
 * control characters, not "." or "..".  what names it in the message. */
int vz_ifname_check(const char *name, const char *what, struct vz_error *err);
/* "xx:xx:xx:xx:xx:xx" (also '-' separated, any case); unicast only. */
int vz_mac_parse(const char *s, uint8_t mac[6], struct vz_error *err);
void vz_mac_format(const uint8_t mac[6], char out[VZ_MACSTRLEN]);
/* A stable MAC for (ctid, ifname, side): locally administered, unicast,
 * derived from /etc/machine-id (when readable), ctid, ifname and side,
 * so it is the same across restarts on one host and differs between
 * hosts.  Saved in NETIF by `set --save` so it travels with the CT. */
void vz_mac_generate(unsigned ctid, const char *ifname, bool host_side,
		     char out[VZ_MACSTRLEN]);
/* Host-side names: "venet<CTID>" for the routed pair, "veth<CTID>.<N>"
 * for bridged ones ("vz<CTID>.<N>" when that would not fit). */
void vz_net_routed_host_ifname(unsigned ctid, char out[VZ_IFNAMSIZ]);
int vz_net_bridged_host_ifname(unsigned ctid, unsigned n,
			       char out[VZ_IFNAMSIZ], struct vz_error *err);

/* Parses a NETIF value: entries "ifname=X,mac=X,host_ifname=X,host_mac=X,
 * bridge=X" separated by ';'.  Names and MACs are checked; duplicate
 * ifname or host_ifname is an error. */
int vz_netifs_parse(const char *s, struct vz_netifs *l, struct vz_error *err);
/* Parses the `--netif_add ifname[,mac,host_ifname,host_mac,bridge]` form
 * (empty fields are left to vz_netif_complete). */
int vz_netif_parse_arg(const char *s, struct vz_netif *nif,
		       struct vz_error *err);
/* NETIF value as saved.  Caller frees. */
char *vz_netifs_format(const struct vz_netifs *l);
struct vz_netif *vz_netifs_find(const struct vz_netifs *l, const char *ifname);
/* Adds nif (completed first); duplicate ifname/host_ifname is VZ_EEXIST. */
int vz_netifs_add(struct vz_netifs *l, const struct vz_netif *nif,
		  unsigned ctid, struct vz_error *err);
int vz_netifs_del(struct vz_netifs *l, const char *ifname,
		  struct vz_error *err);
/* Fills empty mac, host_mac and host_ifname (a free veth<CTID>.<N>). */
int vz_netif_complete(struct vz_netif *nif, unsigned ctid,
		      const struct vz_netifs *others, struct vz_error *err);
void vz_netifs_free(struct vz_netifs *l);

/* ---- a container's network configuration ---- */

struct vz_net_conf {
	unsigned ctid;
	struct vz_iplist ips;          /* IP_ADDRESS */
	struct vz_netifs netifs;       /* NETIF */
	char **neighbour_devs;         /* NEIGHBOUR_DEVS words; NULL = detect */
	bool skip_arpdetect;           /* SKIP_ARPDETECT */
	char *hostname;                /* HOSTNAME or NULL */
	char **nameservers;            /* NAMESERVER words */
	char **searchdomains;          /* SEARCHDOMAIN words */
	/* How long the duplicate address check waits for an answer. */
	unsigned arpdetect_ms;
};

/* Reads the parameters from the CT config, falling back to the global one
 * (either may be NULL).  Bad values: VZ_ECONFIG with FILE:LINE. */
int vz_net_conf_load(struct vz_net_conf *nc, unsigned ctid,
		     const struct vz_conf *ct, const struct vz_conf *global,
		     struct vz_error *err);
void vz_net_conf_free(struct vz_net_conf *nc);
/* Writes IP_ADDRESS and NETIF of nc into c (removing empty ones). */
void vz_net_conf_store(const struct vz_net_conf *nc, struct vz_conf *c);

/* Checks hostname (RFC 1123 labels), nameserver (an IP address) and
 * search domain values. */
int vz_hostname_check(const char *s, struct vz_error *err);
int vz_nameserver_check(const char *s, struct vz_error *err);
int vz_searchdomain_check(const char *s, struct vz_error *err);

/* ---- kernel operations (net-link.c) ---- */

/* Opens /proc/PID/ns/net.  Returns the fd or -1. */
int vz_netns_open_pid(pid_t pid, struct vz_error *err);

/* Sets up everything of nc for the CT whose network namespace is ct_netns.
 * Checks first (names, bridges, addresses in use on the host or by another
 * CT, duplicate address detection unless skip_arpdetect), then creates; on
 * any failure removes what it made. */
int vz_net_start(const struct vz_net_conf *nc, int ct_netns,
		 struct vz_error *err);
/* Removes the CT's host ends (and with them their routes) and every proxy
 * ARP/NDP entry of the CT's addresses.  Missing objects are no error. */
int vz_net_stop(const struct vz_net_conf *nc, struct vz_error *err);

/* Live changes on a running CT.  nc is the configuration before the
 * change (ip_add: ip not in it yet; ip_del: ip in it). */
int vz_net_ip_add(const struct vz_net_conf *nc, int ct_netns,
		  const struct vz_ip *ip, struct vz_error *err);
int vz_net_ip_del(const struct vz_net_conf *nc, int ct_netns,
		  const struct vz_ip *ip, struct vz_error *err);
/* nif must be complete (vz_netif_complete). */
int vz_net_netif_add(const struct vz_net_conf *nc, int ct_netns,
		     const struct vz_netif *nif, struct vz_error *err);
int vz_net_netif_del(const struct vz_net_conf *nc, int ct_netns,
		     const struct vz_netif *nif, struct vz_error *err);

/* Host devices that get proxy ARP/NDP entries: NEIGHBOUR_DEVS resolved
 * ("detect": those carrying a default route of that family; "all": every
 * up, non-loopback device with ARP except CT host ends; else the names).
 * family AF_INET or AF_INET6. */
int vz_net_neighbour_devs(const struct vz_net_conf *nc, int family,
			  char ***devs, struct vz_error *err);

/* ---- files inside the CT (net-files.c) ---- */

/* Writes /etc/hostname, the hostname line of /etc/hosts and the nameserver
 * and search lines of /etc/resolv.conf under root, each only when nc has a
 * value for it.  Paths are resolved inside root (openat2 RESOLVE_IN_ROOT):
 * a symlink in the CT never leads out of it.  Files are replaced
 * atomically and keep their owner and mode. */
int vz_ct_files_apply(const char *root, const struct vz_net_conf *nc,
		      struct vz_error *err);
/* Replaces path (below rootfd, an O_PATH fd of the CT root) the same
 * careful way: resolved inside the root, atomic for regular files,
 * written through links that stay inside, owner and mode kept. */
int vz_ct_file_replace(int rootfd, const char *path, const char *text,
		       struct vz_error *err);

/* ---- a container's network, from its config (net-ct.c) ---- */

struct vz_ct;

/* Loads the CT's network parameters (CTID.conf over vz.conf). */
int vz_ct_net_conf(const struct vz_ct *ct, struct vz_net_conf *nc,
		   struct vz_error *err);
/* At start: plugs the network into the netns of the CT's init (which has
 * not exec'd yet) and records what it made (LOCKDIR/CTID.net). */
int vz_ct_net_start(const struct vz_ct *ct, pid_t init_pid,
		    struct vz_error *err);
/* At stop, destroy and cleanup: removes what the config and the record
 * name.  Nothing there is no error. */
int vz_ct_net_stop(const struct vz_ct *ct, struct vz_error *err);
/* hostname, hosts, resolv.conf in the CT root, then the distro's script
 * (scripts/dists/OSTEMPLATE) inside the CT when it runs. */
int vz_ct_net_files(const struct vz_ct *ct, struct vz_error *err);

/* `vzctl set` network options. */
struct vz_net_set {
	char **ipadd, **ipdel;          /* "all" in ipdel: every address */
	char **netif_add, **netif_del;  /* --netif_add/--netif_del */
	const char *ifname;             /* --ifname: the NETIF entry to change */
	const char *mac, *host_ifname, *host_mac, *bridge;
};
bool vz_net_set_any(const struct vz_net_set *s);
/* Checks everything first (nothing changes on bad input), updates
 * IP_ADDRESS and NETIF in ct->conf, and applies the change to the CT when
 * running (undoing this command's earlier steps if a later one fails). */
int vz_ct_net_set(struct vz_ct *ct, const struct vz_net_set *s, bool running,
		  struct vz_error *err);
/* CTID of another CT (in VZ_CONFDIR/conf) that has ip in IP_ADDRESS, 0 if
 * none. */
unsigned vz_net_ip_owner(const char *confdir, unsigned self,
			 const struct vz_ip *ip);

#endif
