/* Parsing and checking of IP_ADDRESS, NETIF, hostname and DNS values. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "error.h"
#include "net.h"
#include "util.h"
#include "unit.h"

static void ip_ok(const char *s, int family, int prefix, const char *fmt)
{
	struct vz_error err = { 0 };
	struct vz_ip ip;
	int rc = vz_ip_parse(s, &ip, &err);
	CHECK(rc == 0 && ip.family == family && ip.prefix == prefix,
	      "IP '%s' parses (%s)", s, err.msg);
	char buf[80];
	vz_ip_format(&ip, buf, sizeof(buf));
	CHECK_STR(buf, fmt, "IP '%s' formats back", s);
}

static void ip_bad(const char *s, const char *want)
{
	struct vz_error err = { 0 };
	struct vz_ip ip;
	int rc = vz_ip_parse(s, &ip, &err);
	CHECK(rc < 0 && err.code == VZ_EUSAGE && strstr(err.msg, want),
	      "IP '%s' refused: %s", s, err.msg);
}

static void netif_bad(const char *s, int code, const char *want)
{
	struct vz_error err = { 0 };
	struct vz_netifs l;
	int rc = vz_netifs_parse(s, &l, &err);
	CHECK(rc < 0 && err.code == code && strstr(err.msg, want),
	      "NETIF '%s' refused: %s", s, err.msg);
}

static void arg_bad(const char *s, const char *want)
{
	struct vz_error err = { 0 };
	struct vz_netif n;
	int rc = vz_netif_parse_arg(s, &n, &err);
	CHECK(rc < 0 && err.code == VZ_EUSAGE && strstr(err.msg, want),
	      "--netif_add '%s' refused: %s", s, err.msg);
}

int main(void)
{
	struct vz_error err = { 0 };

	/* addresses */
	ip_ok("198.51.100.11", AF_INET, -1, "198.51.100.11");
	ip_ok("198.51.100.11/24", AF_INET, 24, "198.51.100.11/24");
	ip_ok("2001:db8::11", AF_INET6, -1, "2001:db8::11");
	ip_ok("2001:DB8:0:0::11/64", AF_INET6, 64, "2001:db8::11/64");
	ip_bad("", "empty");
	ip_bad("198.51.100", "invalid IP address");
	ip_bad("198.51.100.256", "invalid IP address");
	ip_bad("198.51.100.1/33", "prefix");
	ip_bad("198.51.100.1/", "prefix");
	ip_bad("198.51.100.1/x", "prefix");
	ip_bad("198.51.100.1/-1", "prefix");
	ip_bad("2001:db8::1/129", "prefix");
	ip_bad("2001:db8:::1", "invalid IP address");
	ip_bad("web1", "invalid IP address");
	ip_bad("0.0.0.0", "unspecified");
	ip_bad("127.0.0.1", "loopback");
	ip_bad("224.0.0.1", "multicast");
	ip_bad("255.255.255.255", "broadcast");
	ip_bad("::", "unspecified");
	ip_bad("::1", "loopback");
	ip_bad("ff02::1", "multicast");
	ip_bad("fe80::1", "link-local");
	ip_bad("198.51.100.1 ", "invalid IP address");
	ip_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999/64", "invalid IP address");
	ip_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/64", "too long");

	struct vz_iplist l;
	CHECK(vz_iplist_parse("198.51.100.11  2001:db8::11/64\t198.51.100.12", &l, &err) == 0 &&
	      l.n == 3, "IP_ADDRESS list parses");
	char *s = vz_iplist_format(&l);
	CHECK_STR(s, "198.51.100.11 2001:db8::11/64 198.51.100.12", "list formats");
	free(s);
	struct vz_ip ip;
	vz_ip_parse("2001:db8:0::11", &ip, NULL);
	CHECK(vz_iplist_add(&l, &ip, &err) < 0 && err.code == VZ_EEXIST &&
	      strstr(err.msg, "2001:db8::11"), "adding a duplicate (other spelling) fails: %s", err.msg);
	vz_ip_parse("198.51.100.11/32", &ip, NULL);
	CHECK(vz_iplist_find(&l, &ip) == 0, "find ignores the prefix");
	CHECK(vz_iplist_del(&l, &ip, &err) == 0 && l.n == 2, "delete an address");
	CHECK(vz_iplist_del(&l, &ip, &err) < 0 && err.code == VZ_ENOENT,
	      "deleting it again fails: %s", err.msg);
	vz_iplist_free(&l);
	CHECK(vz_iplist_parse("198.51.100.11 198.51.100.11", &l, &err) < 0 &&
	      err.code == VZ_EEXIST && strstr(err.msg, "twice"),
	      "duplicate in IP_ADDRESS refused: %s", err.msg);
	CHECK(vz_iplist_parse("198.51.100.11 bogus", &l, &err) < 0 &&
	      strstr(err.msg, "bogus"), "bad word in IP_ADDRESS refused: %s", err.msg);
	CHECK(vz_iplist_parse("", &l, &err) == 0 && l.n == 0, "empty list");
	vz_iplist_free(&l);

	/* names and MACs */
	CHECK(vz_ifname_check("eth0", "interface name", &err) == 0, "eth0 is a name");
	CHECK(vz_ifname_check("abcdefghijklmno", "interface name", &err) == 0,
	      "15 bytes is a name");
	CHECK(vz_ifname_check("abcdefghijklmnop", "interface name", &err) < 0 &&
	      strstr(err.msg, "too long"), "16 bytes is too long: %s", err.msg);
	CHECK(vz_ifname_check("a/b", "interface name", &err) < 0, "slash refused");
	CHECK(vz_ifname_check("a b", "interface name", &err) < 0, "space refused");
	CHECK(vz_ifname_check("..", "interface name", &err) < 0, ".. refused");
	CHECK(vz_ifname_check("", "interface name", &err) < 0, "empty refused");

	uint8_t mac[6];
	CHECK(vz_mac_parse("00:18:51:aA:bb:cc", mac, &err) == 0 && mac[3] == 0xaa,
	      "MAC parses");
	CHECK(vz_mac_parse("00-18-51-aa-bb-cc", mac, &err) == 0, "dashed MAC parses");
	CHECK(vz_mac_parse("00:18:51:aa:bb", mac, &err) < 0, "short MAC refused");
	CHECK(vz_mac_parse("00:18:51:aa:bb:cg", mac, &err) < 0, "non-hex MAC refused");
	CHECK(vz_mac_parse("00:18-51:aa:bb:cc", mac, &err) < 0, "mixed separators refused");
	CHECK(vz_mac_parse("01:18:51:aa:bb:cc", mac, &err) < 0 &&
	      strstr(err.msg, "multicast"), "multicast MAC refused: %s", err.msg);
	CHECK(vz_mac_parse("00:00:00:00:00:00", mac, &err) < 0, "zero MAC refused");

	char m1[VZ_MACSTRLEN], m2[VZ_MACSTRLEN], m3[VZ_MACSTRLEN], m4[VZ_MACSTRLEN];
	vz_mac_generate(101, "eth0", false, m1);
	vz_mac_generate(101, "eth0", false, m2);
	vz_mac_generate(101, "eth0", true, m3);
	vz_mac_generate(102, "eth0", false, m4);
	CHECK_STR(m1, m2, "generated MAC is stable");
	CHECK(strcmp(m1, m3) && strcmp(m1, m4), "generated MACs differ by side and CT");
	CHECK(vz_mac_parse(m1, mac, &err) == 0 && (mac[0] & 3) == 2,
	      "generated MAC is locally administered unicast (%s)", m1);

	char name[VZ_IFNAMSIZ];
	vz_net_routed_host_ifname(2147483647U, name);
	CHECK_STR(name, "venet2147483647", "routed host name fits for the largest CTID");
	CHECK(vz_net_bridged_host_ifname(101, 0, name, &err) == 0, "bridged name");
	CHECK_STR(name, "veth101.0", "bridged host name as OpenVZ");
	CHECK(vz_net_bridged_host_ifname(2147483647U, 3, name, &err) == 0 &&
	      strlen(name) < VZ_IFNAMSIZ, "long CTID gets a short name (%s)", name);

	/* NETIF */
	struct vz_netifs nl;
	CHECK(vz_netifs_parse("ifname=eth0,mac=00:18:51:AA:BB:CC,host_ifname=veth101.0,"
			      "host_mac=00:18:51:AA:BB:CD,bridge=br0;ifname=eth1", &nl, &err) == 0 &&
	      nl.n == 2, "NETIF parses (%s)", err.msg);
	CHECK_STR(nl.v[0].bridge, "br0", "bridge field");
	CHECK_STR(nl.v[1].mac, "", "missing MAC stays empty until completed");
	CHECK(vz_netif_complete(&nl.v[1], 101, &nl, &err) == 0, "complete eth1");
	CHECK_STR(nl.v[1].host_ifname, "veth101.1", "completion skips a used host name");
	CHECK(nl.v[1].mac[0] && nl.v[1].host_mac[0], "completion makes MACs");
	s = vz_netifs_format(&nl);
	struct vz_netifs nl2;
	CHECK(vz_netifs_parse(s, &nl2, &err) == 0 && nl2.n == 2 &&
	      !strcmp(nl2.v[1].mac, nl.v[1].mac), "NETIF round-trips: %s", s);
	free(s);
	vz_netifs_free(&nl2);
	struct vz_netif n;
	CHECK(vz_netif_parse_arg("eth0,,,,br1", &n, &err) == 0, "--netif_add form");
	CHECK(vz_netifs_add(&nl, &n, 101, &err) < 0 && err.code == VZ_EEXIST,
	      "adding an existing ifname fails: %s", err.msg);
	CHECK(vz_netif_parse_arg("eth2,,veth101.0", &n, &err) == 0, "eth2 with taken host name");
	CHECK(vz_netifs_add(&nl, &n, 101, &err) < 0 && err.code == VZ_EEXIST &&
	      strstr(err.msg, "veth101.0"), "duplicate host_ifname refused: %s", err.msg);
	CHECK(vz_netif_parse_arg("eth2,,,,br1", &n, &err) == 0 &&
	      vz_netifs_add(&nl, &n, 101, &err) == 0 && nl.n == 3, "add eth2");
	CHECK_STR(nl.v[2].host_ifname, "veth101.2", "eth2 host name");
	CHECK(vz_netifs_del(&nl, "eth1", &err) == 0 && nl.n == 2, "delete eth1");
	CHECK(vz_netifs_del(&nl, "eth1", &err) < 0 && err.code == VZ_ENOENT,
	      "deleting it again fails: %s", err.msg);
	vz_netifs_free(&nl);

	netif_bad("ifname=eth0;ifname=eth0", VZ_EEXIST, "already");
	netif_bad("mac=00:18:51:aa:bb:cc", VZ_EUSAGE, "no ifname");
	netif_bad("ifname=eth0,colour=red", VZ_EUSAGE, "unknown field 'colour'");
	netif_bad("ifname=eth0,bridge", VZ_EUSAGE, "NAME=VALUE");
	netif_bad("ifname=averyveryverylongname", VZ_EUSAGE, "too long");
	netif_bad("ifname=eth0,host_ifname=veth1234567890123", VZ_EUSAGE, "too long");
	netif_bad("ifname=eth0,bridge=br0br0br0br0br0br0", VZ_EUSAGE, "too long");
	netif_bad("ifname=eth0,mac=zz:18:51:aa:bb:cc", VZ_EUSAGE, "invalid MAC");
	arg_bad("", "required");
	arg_bad(",00:18:51:aa:bb:cc", "required");
	arg_bad("eth0,,,,br0,extra", "too many");
	arg_bad("eth0,,averyveryverylongname", "too long");
	arg_bad("eth0,00:18:51", "invalid MAC");
	CHECK(vz_netif_parse_arg("eth0", &n, &err) == 0 && !n.bridge[0], "bare ifname");

	/* hostname and DNS */
	CHECK(vz_hostname_check("web1", &err) == 0, "web1");
	CHECK(vz_hostname_check("web1.example.net", &err) == 0, "FQDN");
	CHECK(vz_hostname_check("-web", &err) < 0, "leading dash refused");
	CHECK(vz_hostname_check("web-", &err) < 0, "trailing dash refused");
	CHECK(vz_hostname_check("web..x", &err) < 0, "empty label refused");
	CHECK(vz_hostname_check("we b", &err) < 0, "space refused");
	CHECK(vz_hostname_check("a;rm -rf /", &err) < 0, "shell characters refused");
	CHECK(vz_nameserver_check("192.0.2.53", &err) == 0, "v4 nameserver");
	CHECK(vz_nameserver_check("2001:db8::53", &err) == 0, "v6 nameserver");
	CHECK(vz_nameserver_check("ns1", &err) < 0, "name as nameserver refused");
	CHECK(vz_searchdomain_check("example.net", &err) == 0, "search domain");
	CHECK(vz_searchdomain_check("exa mple", &err) < 0, "bad search domain refused");

	/* whole configuration with FILE:LINE errors */
	struct vz_conf ct, gl;
	vz_conf_init(&gl, "/x/vz.conf");
	vz_conf_init(&ct, "/x/conf/101.conf");
	const char *gtext = "NEIGHBOUR_DEVS=\"detect\"\nSKIP_ARPDETECT=\"no\"\n";
	const char *ctext = "HOSTNAME=\"web1\"\nIP_ADDRESS=\"198.51.100.11 2001:db8::11\"\n"
			    "NETIF=\"ifname=eth0,bridge=br0\"\nNAMESERVER=\"192.0.2.53\"\n"
			    "SEARCHDOMAIN=\"example.net\"\n";
	vz_conf_parse(&gl, "/x/vz.conf", gtext, strlen(gtext), NULL);
	vz_conf_parse(&ct, "/x/conf/101.conf", ctext, strlen(ctext), NULL);
	struct vz_net_conf nc;
	CHECK(vz_net_conf_load(&nc, 101, &ct, &gl, &err) == 0, "config loads (%s)", err.msg);
	CHECK(nc.ips.n == 2 && nc.netifs.n == 1 && !nc.neighbour_devs &&
	      !nc.skip_arpdetect && nc.hostname && !strcmp(nc.hostname, "web1") &&
	      vz_strv_len(nc.nameservers) == 1 && vz_strv_len(nc.searchdomains) == 1,
	      "config values");
	CHECK(nc.netifs.v[0].mac[0] && !strcmp(nc.netifs.v[0].host_ifname, "veth101.0"),
	      "NETIF completed on load");
	vz_net_conf_store(&nc, &ct);
	CHECK(strstr(vz_conf_get(&ct, "NETIF"), "mac=") != NULL, "generated MACs stored");
	vz_net_conf_free(&nc);
	vz_conf_set(&ct, "IP_ADDRESS", "198.51.100.11 198.51.100.300");
	vz_conf_set(&ct, "NETIF", NULL);
	CHECK(vz_net_conf_load(&nc, 101, &ct, &gl, &err) < 0 && err.code == VZ_ECONFIG &&
	      strstr(err.msg, "101.conf:2: IP_ADDRESS") && strstr(err.msg, "198.51.100.300"),
	      "bad IP in config names file and line: %s", err.msg);
	vz_conf_set(&ct, "IP_ADDRESS", NULL);
	vz_conf_set(&ct, "HOSTNAME", "bad_name");
	CHECK(vz_net_conf_load(&nc, 101, &ct, &gl, &err) < 0 && strstr(err.msg, "HOSTNAME"),
	      "bad hostname in config: %s", err.msg);
	vz_conf_free(&ct);
	vz_conf_free(&gl);
	UNIT_DONE();
}
