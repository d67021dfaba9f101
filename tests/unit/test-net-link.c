/* The kernel side of container networking, driven through the library
 * before any container runtime: the test unshares its own network
 * namespace (the "host"), and "containers" are child processes in network
 * namespaces of their own.  Nothing here touches the machine's network;
 * every namespace dies with this process.
 *
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and veth; skips otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "net.h"
#include "util.h"
#include "unit.h"

struct ns {
	pid_t pid;
	int fd;
};

static struct ns ns_new(void)
{
	int p[2];
	struct ns n = { -1, -1 };
	if (pipe(p) < 0)
		return n;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		return n;
	}
	close(p[0]);
	n.pid = pid;
	n.fd = vz_netns_open_pid(pid, NULL);
	return n;
}

static void ns_kill(struct ns *n)
{
	if (n->pid > 0) {
		kill(n->pid, SIGKILL);
		waitpid(n->pid, NULL, 0);
	}
	if (n->fd >= 0)
		close(n->fd);
	n->pid = -1;
	n->fd = -1;
}

/* Runs a shell command in the host namespace, or in n's. */
static int sh(const struct ns *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int sh(const struct ns *n, const char *fmt, ...)
{
	char cmd[1024], full[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(full, sizeof(full), "nsenter --net=/proc/%d/ns/net sh -c '%s' >/dev/null 2>&1",
			 (int)n->pid, cmd);
	else
		snprintf(full, sizeof(full), "sh -c '%s' >/dev/null 2>&1", cmd);
	int rc = system(full);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* Output of a shell command (host namespace, or n's). */
static char *sh_out(const struct ns *n, const char *cmd)
{
	char full[1200];
	if (n)
		snprintf(full, sizeof(full), "nsenter --net=/proc/%d/ns/net sh -c '%s' 2>&1",
			 (int)n->pid, cmd);
	else
		snprintf(full, sizeof(full), "sh -c '%s' 2>&1", cmd);
	FILE *f = popen(full, "r");
	if (!f)
		return xstrdup("");
	char *buf = xcalloc(1, 65536);
	size_t got = fread(buf, 1, 65535, f);
	buf[got] = '\0';
	pclose(f);
	return buf;
}

static int sock_in(const struct ns *n, int family, int type)
{
	int self = -1;
	if (n) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (setns(n->fd, CLONE_NEWNET) < 0)
			abort();
	}
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (n) {
		if (setns(self, CLONE_NEWNET) < 0)
			abort();
		close(self);
	}
	return fd;
}

static socklen_t mkaddr(const char *a, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	inet_pton(AF_INET6, a, &s6->sin6_addr);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	return sizeof(*s6);
}

static int tcp_listen(const struct ns *n, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(addr, port, &ss);
	int fd = sock_in(n, ss.ss_family, SOCK_STREAM);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Connects from n to addr:port within timeout_ms and exchanges a byte with
 * the listener lfd (so the right socket answered). */
static bool tcp_reach(const struct ns *n, int lfd, const char *addr, int port,
		      int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(addr, port, &ss);
	int fd = sock_in(n, ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0)
		return false;
	bool ok = false;
	int rc = connect(fd, (struct sockaddr *)&ss, len);
	if (rc < 0 && errno != EINPROGRESS)
		goto out;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, timeout_ms) != 1)
		goto out;
	int e = 0;
	socklen_t el = sizeof(e);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
	if (e)
		goto out;
	struct pollfd lp = { .fd = lfd, .events = POLLIN };
	if (poll(&lp, 1, timeout_ms) != 1)
		goto out;
	int afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		goto out;
	ok = write(afd, "!", 1) == 1;
	char c = 0;
	struct pollfd rp = { .fd = fd, .events = POLLIN };
	ok = ok && poll(&rp, 1, timeout_ms) == 1 && read(fd, &c, 1) == 1 && c == '!';
	close(afd);
out:
	close(fd);
	return ok;
}

static void conf(struct vz_net_conf *nc, unsigned ctid, const char *ips,
		 const char *netif)
{
	memset(nc, 0, sizeof(*nc));
	nc->ctid = ctid;
	nc->arpdetect_ms = 300;
	nc->skip_arpdetect = true;
	vz_iplist_parse(ips, &nc->ips, NULL);
	vz_netifs_parse(netif, &nc->netifs, NULL);
	for (size_t i = 0; i < nc->netifs.n; i++)
		vz_netif_complete(&nc->netifs.v[i], ctid, &nc->netifs, NULL);
	nc->neighbour_devs = NULL;
}

static struct vz_error *clr(struct vz_error *e)
{
	vz_error_clear(e);
	return e;
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

int main(void)
{
	vz_log_init("test-net-link");
	if (geteuid() != 0) {
		printf("ok 1 # SKIP needs root (CAP_NET_ADMIN)\n1..1\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("ok 1 # SKIP cannot unshare a network namespace: %s\n1..1\n",
		       strerror(errno));
		return 0;
	}
	_cleanup_free_ char *nsenter = vz_find_program("nsenter");
	_cleanup_free_ char *ipprog = vz_find_program("ip");
	if (!nsenter || !ipprog) {
		printf("ok 1 # SKIP needs nsenter and ip (util-linux, iproute2) to inspect namespaces\n1..1\n");
		return 0;
	}
	if (sh(NULL, "ip link add vzchk0 type veth peer name vzchk1 && ip link del vzchk0")) {
		printf("ok 1 # SKIP the kernel has no veth\n1..1\n");
		return 0;
	}
	struct vz_error err = { 0 };

	/* the host: loopback, an address of its own on a dummy device,
	 * forwarding as a router host has it */
	sh(NULL, "ip link set lo up; ip addr add 192.0.2.1/32 dev lo;"
		 "ip addr add 2001:db8:ff::1/128 dev lo nodad;"
		 "sysctl -qw net.ipv4.ip_forward=1; sysctl -qw net.ipv6.conf.all.forwarding=1");

	/* ---- routed ---- */
	struct ns c1 = ns_new(), c2 = ns_new();
	CHECK(c1.fd >= 0 && c2.fd >= 0, "two container namespaces");
	struct vz_net_conf n1, n2;
	conf(&n1, 101, "198.51.100.11 2001:db8::11", "");
	conf(&n2, 102, "198.51.100.12/24 2001:db8::12/64", "");
	CHECK(vz_net_start(&n1, c1.fd, clr(&err)) == 0, "start routed CT 101 (%s)", err.msg);
	CHECK(vz_net_start(&n2, c2.fd, clr(&err)) == 0, "start routed CT 102 (%s)", err.msg);

	char *o = sh_out(&c1, "ip -o addr show dev venet0");
	CHECK(contains(o, "198.51.100.11/32") && contains(o, "2001:db8::11/128"),
	      "venet0 in CT 101 carries its addresses");
	free(o);
	o = sh_out(&c1, "ip route show default; ip -6 route show default");
	CHECK(contains(o, "default dev venet0") && contains(o, "default via fe80::1 dev venet0"),
	      "CT 101 has IPv4 and IPv6 default routes");
	free(o);
	o = sh_out(NULL, "ip route show; ip -6 route show");
	CHECK(contains(o, "198.51.100.11 dev venet101") &&
	      contains(o, "2001:db8::11 dev venet101") &&
	      contains(o, "198.51.100.12 dev venet102"), "host routes per CT address");
	free(o);

	o = sh_out(NULL, "ip -6 rule show");
	CHECK(contains(o, "from 2001:db8::11 iif venet101 lookup main") &&
	      contains(o, "from all iif venet101 blackhole"),
	      "IPv6 source rules for CT 101");
	free(o);
	/* CT 101 sending as another address is dropped at the host (UDP,
	 * so nothing depends on an answer) */
	sh(&c1, "ip addr add 2001:db8::99/128 dev venet0 nodad");
	struct sockaddr_storage rcv;
	socklen_t rlen = mkaddr("::", 8082, &rcv);
	int ufd = sock_in(&c2, AF_INET6, SOCK_DGRAM);
	bind(ufd, (struct sockaddr *)&rcv, rlen);
	const char *srcs[] = { "2001:db8::99", "2001:db8::11" };
	bool arrived[2];
	for (int k = 0; k < 2; k++) {
		struct sockaddr_storage src, dst;
		socklen_t sl = mkaddr(srcs[k], 0, &src);
		socklen_t dl = mkaddr("2001:db8::12", 8082, &dst);
		int sfd = sock_in(&c1, AF_INET6, SOCK_DGRAM);
		bind(sfd, (struct sockaddr *)&src, sl);
		sendto(sfd, "x", 1, 0, (struct sockaddr *)&dst, dl);
		close(sfd);
		struct pollfd up = { .fd = ufd, .events = POLLIN };
		arrived[k] = poll(&up, 1, 700) == 1;
		char c;
		if (arrived[k])
			recv(ufd, &c, 1, 0);
	}
	close(ufd);
	CHECK(!arrived[0], "IPv6 from a source CT 101 was not given does not arrive");
	CHECK(arrived[1], "IPv6 from its own source does");
	sh(&c1, "ip addr del 2001:db8::99/128 dev venet0");

	int l1 = tcp_listen(&c1, "198.51.100.11", 8080);
	int l1v6 = tcp_listen(&c1, "2001:db8::11", 8080);
	int l2 = tcp_listen(&c2, "0.0.0.0", 8080);
	int l2v6 = tcp_listen(&c2, "::", 8081);
	int lh = tcp_listen(NULL, "192.0.2.1", 8080);
	int lhv6 = tcp_listen(NULL, "2001:db8:ff::1", 8080);
	CHECK(l1 >= 0 && l1v6 >= 0 && l2 >= 0 && l2v6 >= 0 && lh >= 0 && lhv6 >= 0,
	      "listeners on the CT and host addresses");
	CHECK(tcp_reach(NULL, l1, "198.51.100.11", 8080, 2000), "host -> CT 101, IPv4 TCP");
	CHECK(tcp_reach(NULL, l1v6, "2001:db8::11", 8080, 3000), "host -> CT 101, IPv6 TCP");
	CHECK(tcp_reach(&c1, lh, "192.0.2.1", 8080, 2000), "CT 101 -> host, IPv4 TCP");
	CHECK(tcp_reach(&c1, lhv6, "2001:db8:ff::1", 8080, 3000), "CT 101 -> host, IPv6 TCP");
	CHECK(tcp_reach(&c1, l2, "198.51.100.12", 8080, 2000), "CT 101 -> CT 102, IPv4 TCP");
	CHECK(tcp_reach(&c2, l1, "198.51.100.11", 8080, 2000), "CT 102 -> CT 101, IPv4 TCP");
	CHECK(tcp_reach(&c1, l2v6, "2001:db8::12", 8081, 3000), "CT 101 -> CT 102, IPv6 TCP");
	CHECK(tcp_reach(&c2, l1v6, "2001:db8::11", 8080, 3000), "CT 102 -> CT 101, IPv6 TCP");

	/* live add and remove */
	struct vz_ip ip13, ip11;
	vz_ip_parse("198.51.100.13", &ip13, NULL);
	vz_ip_parse("198.51.100.11", &ip11, NULL);
	CHECK(vz_net_ip_add(&n1, c1.fd, &ip13, clr(&err)) == 0, "live add 198.51.100.13 (%s)", err.msg);
	vz_iplist_add(&n1.ips, &ip13, NULL);
	int l13 = tcp_listen(&c1, "198.51.100.13", 8080);
	CHECK(tcp_reach(&c2, l13, "198.51.100.13", 8080, 2000), "CT 102 -> the new address");
	CHECK(vz_net_ip_add(&n1, c1.fd, &ip13, clr(&err)) < 0 && err.code == VZ_EEXIST,
	      "adding it again: %s", err.msg);
	struct vz_ip ip12;
	vz_ip_parse("198.51.100.12", &ip12, NULL);
	CHECK(vz_net_ip_add(&n1, c1.fd, &ip12, clr(&err)) < 0 && err.code == VZ_EEXIST &&
	      contains(err.msg, "already routed"),
	      "live add of CT 102's address to CT 101 refused: %s", err.msg);
	o = sh_out(&c1, "ip -o addr show dev venet0");
	CHECK(!contains(o, "198.51.100.12"), "and not left in CT 101");
	free(o);
	CHECK(vz_net_ip_del(&n1, c1.fd, &ip11, clr(&err)) == 0, "live remove 198.51.100.11 (%s)", err.msg);
	vz_iplist_del(&n1.ips, &ip11, NULL);
	CHECK(!tcp_reach(&c2, l1, "198.51.100.11", 8080, 500), "removed address unreachable");
	CHECK(tcp_reach(&c2, l13, "198.51.100.13", 8080, 2000), "the other address still works");
	CHECK(tcp_reach(&c2, l1v6, "2001:db8::11", 8080, 2000), "and IPv6 still works");
	o = sh_out(NULL, "ip route show");
	CHECK(!contains(o, "198.51.100.11 "), "its host route is gone");
	free(o);

	/* ---- bad input leaves nothing ---- */
	struct ns c3 = ns_new();
	struct vz_net_conf n3;
	conf(&n3, 103, "198.51.100.21 198.51.100.12", "");
	CHECK(vz_net_start(&n3, c3.fd, clr(&err)) < 0 && err.code == VZ_EEXIST &&
	      contains(err.msg, "198.51.100.12") && contains(err.msg, "CT 103"),
	      "address of another CT refused at start: %s", err.msg);
	o = sh_out(NULL, "ip -o link show; ip route show; ip neigh show proxy");
	CHECK(!contains(o, "venet103") && !contains(o, "198.51.100.21"),
	      "nothing of CT 103 left on the host");
	free(o);
	o = sh_out(&c3, "ip -o link show");
	CHECK(!contains(o, "venet0"), "nothing left in CT 103");
	free(o);
	vz_net_conf_free(&n3);
	conf(&n3, 103, "192.0.2.1", "");
	CHECK(vz_net_start(&n3, c3.fd, clr(&err)) < 0 && contains(err.msg, "address of the host"),
	      "an address of the host refused: %s", err.msg);
	vz_net_conf_free(&n3);
	conf(&n3, 103, "", "ifname=eth0,bridge=nosuchbr");
	CHECK(vz_net_start(&n3, c3.fd, clr(&err)) < 0 && err.code == VZ_ENOENT &&
	      contains(err.msg, "bridge nosuchbr does not exist"),
	      "unknown bridge refused: %s", err.msg);
	vz_net_conf_free(&n3);
	sh(NULL, "ip link add notabr type veth peer name notabrp");
	conf(&n3, 103, "198.51.100.23", "ifname=eth0,bridge=notabr");
	CHECK(vz_net_start(&n3, c3.fd, clr(&err)) < 0 && contains(err.msg, "not a bridge"),
	      "a non-bridge refused: %s", err.msg);
	o = sh_out(NULL, "ip -o link show; ip route show");
	CHECK(!contains(o, "veth103") && !contains(o, "venet103") &&
	      !contains(o, "198.51.100.23"), "nothing of CT 103 left after the bad bridge");
	free(o);
	vz_net_conf_free(&n3);
	sh(NULL, "ip link add veth103.0 type veth peer name v103p");
	conf(&n3, 103, "198.51.100.23", "ifname=eth0");
	CHECK(vz_net_start(&n3, c3.fd, clr(&err)) < 0 && contains(err.msg, "veth103.0 exists"),
	      "a taken host interface name refused: %s", err.msg);
	o = sh_out(NULL, "ip -o link show veth103.0");
	CHECK(contains(o, "veth103.0"),
	      "and the device that was there is not removed");
	free(o);
	sh(NULL, "ip link del veth103.0");
	vz_net_conf_free(&n3);
	/* a failure half-way: the second interface cannot be made */
	sh(&c3, "ip link add eth1 type veth peer name eth1p");
	sh(NULL, "ip link add br9 type bridge");
	conf(&n3, 103, "198.51.100.23", "ifname=eth0,bridge=br9;ifname=eth1,bridge=br9");
	CHECK(vz_net_start(&n3, c3.fd, clr(&err)) < 0 && contains(err.msg, "eth1"),
	      "failure creating the second interface: %s", err.msg);
	o = sh_out(NULL, "ip -o link show; ip route show");
	CHECK(!contains(o, "veth103") && !contains(o, "venet103") &&
	      !contains(o, "198.51.100.23"), "what the start made before is removed");
	free(o);
	o = sh_out(&c3, "ip -o link show");
	CHECK(!contains(o, "venet0") && !contains(o, "eth0"), "and nothing left inside");
	free(o);
	vz_net_conf_free(&n3);

	/* ---- proxy ARP / NDP and duplicate address detection ---- */
	struct ns lan = ns_new();
	sh(NULL, "ip link add uplink type veth peer name lan0 netns /proc/%d/ns/net;"
		 "ip link set uplink up; ip addr add 198.51.100.1/24 dev uplink;"
		 "ip addr add 2001:db8::1/64 dev uplink nodad; ip route add default via 198.51.100.254;"
		 "ip -6 route add default via 2001:db8::fffe", (int)lan.pid);
	sh(&lan, "ip link set lo up; ip link set lan0 up; ip addr add 198.51.100.50/24 dev lan0;"
		 "ip addr add 2001:db8::50/64 dev lan0 nodad; ip neigh add 198.51.100.254 lladdr 02:00:00:00:00:fe dev lan0");
	struct vz_net_conf nd = { .ctid = 1 };
	char **devs = NULL;
	CHECK(vz_net_neighbour_devs(&nd, AF_INET, &devs, clr(&err)) == 0 &&
	      vz_strv_len(devs) == 1 && !strcmp(devs[0], "uplink"),
	      "NEIGHBOUR_DEVS detect: the device of the default route (%s)",
	      devs && devs[0] ? devs[0] : "none");
	vz_strv_free(devs);
	nd.neighbour_devs = vz_strv_split("all", " ");
	CHECK(vz_net_neighbour_devs(&nd, AF_INET, &devs, clr(&err)) == 0 &&
	      vz_strv_contains(devs, "uplink") && !vz_strv_contains(devs, "venet101") &&
	      !vz_strv_contains(devs, "lo") && !vz_strv_contains(devs, "br9"),
	      "NEIGHBOUR_DEVS all: up Ethernet devices, not CT ends, loopback or down ones");
	vz_strv_free(devs);
	vz_strv_free(nd.neighbour_devs);
	nd.neighbour_devs = vz_strv_split("uplink", " ");
	CHECK(vz_net_neighbour_devs(&nd, AF_INET6, &devs, clr(&err)) == 0 &&
	      vz_strv_len(devs) == 1, "NEIGHBOUR_DEVS names");
	vz_strv_free(devs);
	vz_strv_free(nd.neighbour_devs);
	struct ns c4 = ns_new();
	struct vz_net_conf n4;
	conf(&n4, 104, "198.51.100.50", "");
	n4.skip_arpdetect = false;
	CHECK(vz_net_start(&n4, c4.fd, clr(&err)) < 0 && err.code == VZ_EEXIST &&
	      contains(err.msg, "in use on the network"),
	      "duplicate address detection finds 198.51.100.50 on the LAN: %s", err.msg);
	o = sh_out(NULL, "ip -o link show; ip neigh show proxy");
	CHECK(!contains(o, "venet104") && !contains(o, "198.51.100.50"),
	      "nothing of CT 104 left");
	free(o);
	vz_net_conf_free(&n4);
	conf(&n4, 104, "198.51.100.14 2001:db8::50", "");
	n4.skip_arpdetect = false;
	CHECK(vz_net_start(&n4, c4.fd, clr(&err)) < 0 && err.code == VZ_EEXIST &&
	      contains(err.msg, "2001:db8::50 is in use on the network of uplink"),
	      "duplicate address detection finds 2001:db8::50 on the LAN: %s", err.msg);
	vz_net_conf_free(&n4);
	conf(&n4, 104, "198.51.100.50", "");
	CHECK(vz_net_start(&n4, c4.fd, clr(&err)) == 0, "SKIP_ARPDETECT lets it start (%s)", err.msg);
	CHECK(vz_net_stop(&n4, clr(&err)) == 0, "and stop");
	vz_net_conf_free(&n4);
	conf(&n4, 104, "198.51.100.14 2001:db8::14", "");
	n4.skip_arpdetect = false;
	uint64_t t0 = vz_now_ns();
	CHECK(vz_net_start(&n4, c4.fd, clr(&err)) == 0, "start CT 104 with free addresses (%s)", err.msg);
	printf("# start with duplicate address detection: %.0f ms\n",
	       (double)(vz_now_ns() - t0) / 1e6);
	o = sh_out(NULL, "ip neigh show proxy");
	CHECK(contains(o, "198.51.100.14 dev uplink") && contains(o, "2001:db8::14 dev uplink"),
	      "proxy ARP and NDP entries on the detected uplink");
	free(o);
	int l4 = tcp_listen(&c4, "198.51.100.14", 8080);
	int l4v6 = tcp_listen(&c4, "2001:db8::14", 8080);
	CHECK(tcp_reach(&lan, l4, "198.51.100.14", 8080, 3000),
	      "a LAN host reaches CT 104 through proxy ARP");
	CHECK(tcp_reach(&lan, l4v6, "2001:db8::14", 8080, 4000),
	      "a LAN host reaches CT 104 through proxy NDP");

	/* ---- bridged ---- */
	sh(NULL, "ip link add br0 type bridge; ip link set br0 up; ip addr add 203.0.113.1/24 dev br0");
	struct ns c5 = ns_new(), c6 = ns_new();
	struct vz_net_conf n5, n6;
	conf(&n5, 105, "", "ifname=eth0,bridge=br0");
	conf(&n6, 106, "", "ifname=eth0,mac=02:00:00:00:01:06,host_ifname=vzhost106,bridge=br0");
	CHECK(vz_net_start(&n5, c5.fd, clr(&err)) == 0, "start bridged CT 105 (%s)", err.msg);
	CHECK(vz_net_start(&n6, c6.fd, clr(&err)) == 0, "start bridged CT 106 (%s)", err.msg);
	o = sh_out(NULL, "ip -o link show master br0");
	CHECK(contains(o, "veth105.0") && contains(o, "vzhost106"), "host ends on the bridge");
	free(o);
	o = sh_out(&c6, "ip -o link show eth0");
	CHECK(contains(o, "02:00:00:00:01:06") && contains(o, "UP"), "configured MAC, up");
	free(o);
	char *mac5 = sh_out(&c5, "cat /sys/class/net/eth0/address");
	sh(&c5, "ip addr add 203.0.113.5/24 dev eth0");
	sh(&c6, "ip addr add 203.0.113.6/24 dev eth0");
	int l5 = tcp_listen(&c5, "203.0.113.5", 8080);
	int lb = tcp_listen(NULL, "203.0.113.1", 8080);
	CHECK(tcp_reach(&c6, l5, "203.0.113.5", 8080, 3000), "bridged CT 106 -> CT 105");
	CHECK(tcp_reach(&c5, lb, "203.0.113.1", 8080, 3000), "bridged CT 105 -> host on the bridge");
	close(l5);
	CHECK(vz_net_stop(&n5, clr(&err)) == 0, "stop CT 105");
	ns_kill(&c5);
	c5 = ns_new();
	CHECK(vz_net_start(&n5, c5.fd, clr(&err)) == 0, "restart CT 105 (%s)", err.msg);
	char *mac5b = sh_out(&c5, "cat /sys/class/net/eth0/address");
	vz_strstrip(mac5);
	vz_strstrip(mac5b);
	CHECK(mac5[0] && !strcmp(mac5, mac5b), "MAC stays the same across restarts (%s)", mac5);
	free(mac5);
	free(mac5b);
	struct vz_netif nif;
	vz_netif_parse_arg("eth1,,,,br0", &nif, NULL);
	vz_netif_complete(&nif, 105, &n5.netifs, NULL);
	CHECK(vz_net_netif_add(&n5, c5.fd, &nif, clr(&err)) == 0, "live add eth1 to CT 105 (%s)", err.msg);
	o = sh_out(&c5, "ip -o link show");
	CHECK(contains(o, "eth1"), "eth1 appears inside");
	free(o);
	CHECK(vz_net_netif_add(&n5, c5.fd, &nif, clr(&err)) < 0 && err.code == VZ_EEXIST,
	      "adding it again: %s", err.msg);
	CHECK(vz_net_netif_del(&n5, c5.fd, &nif, clr(&err)) == 0, "live remove eth1");
	o = sh_out(&c5, "ip -o link show");
	CHECK(!contains(o, "eth1"), "eth1 is gone inside");
	free(o);

	/* ---- stop removes everything ---- */
	CHECK(vz_net_stop(&n1, clr(&err)) == 0 && vz_net_stop(&n2, clr(&err)) == 0 &&
	      vz_net_stop(&n4, clr(&err)) == 0 && vz_net_stop(&n5, clr(&err)) == 0,
	      "stop the running CTs (%s)", err.msg);
	/* CT 106 dies before its stop, as a crashed CT does */
	ns_kill(&c6);
	CHECK(vz_net_stop(&n6, clr(&err)) == 0, "stop of a CT that died (%s)", err.msg);
	CHECK(vz_net_stop(&n6, clr(&err)) == 0, "stop twice is fine");
	o = sh_out(NULL, "ip -o link show; ip route show; ip -6 route show; ip neigh show proxy; ip -6 neigh show proxy; ip -6 rule show");
	CHECK(!contains(o, "venet1") && !contains(o, "veth10") && !contains(o, "vzhost") &&
	      !contains(o, "198.51.100.12") && !contains(o, "198.51.100.13") &&
	      !contains(o, "198.51.100.14") && !contains(o, "2001:db8::11") &&
	      !contains(o, "2001:db8::12") && !contains(o, "2001:db8::14"),
	      "no veth, route or proxy entry of any CT is left");
	if (contains(o, "venet1") || contains(o, "198.51.100.14"))
		printf("# %s\n", o);
	free(o);
	o = sh_out(&c1, "ip -o link show");
	CHECK(!contains(o, "venet0"), "venet0 gone from CT 101");
	free(o);

	ns_kill(&c1);
	ns_kill(&c2);
	ns_kill(&c3);
	ns_kill(&c4);
	ns_kill(&c5);
	ns_kill(&lan);
	vz_net_conf_free(&n1);
	vz_net_conf_free(&n2);
	vz_net_conf_free(&n4);
	vz_net_conf_free(&n5);
	vz_net_conf_free(&n6);
	UNIT_DONE();
}
