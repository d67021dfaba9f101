#!/bin/bash
# Routed (venet-like) networking: two CTs reach each other and the host
# by ping and TCP, IPv4 and IPv6; live --ipadd/--ipdel; hostname, hosts and
# resolv.conf inside; stop and destroy leave nothing.  The whole "host" is
# a network namespace of this test (unshare -n): the machine's own network
# is never touched.
. "$VZ_SRC/tests/ts/net/netns.inc"
ip addr add 192.0.2.1/32 dev lo
ip addr add 2001:db8:ff::1/128 dev lo nodad
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# a web server on the host address (the test's netns)
host_web

vzt_ok "create CT 101" vzctl create 101 --ostemplate busybox
vzt_ok "create CT 102" vzctl create 102 --ostemplate busybox
vzt_ok "set addresses of 101" vzctl set 101 --ipadd 198.51.100.11 --ipadd 2001:db8::11 \
	--hostname web1.example.net --nameserver 192.0.2.53 --searchdomain example.net --save
vzt_ok "set addresses of 102" vzctl set 102 --ipadd 198.51.100.12 --ipadd 2001:db8::12/64 --save
vzt_like "$(grep IP_ADDRESS "$VZ_CONFDIR/conf/101.conf")" '^IP_ADDRESS="198.51.100.11 2001:db8::11"$' "IP_ADDRESS saved"
vzt_fail 9 "already configured for CT 101" "an address of another CT is refused" \
	vzctl set 102 --ipadd 198.51.100.11 --save
vzt_fail 9 "already has address" "a duplicate within the CT is refused" \
	vzctl set 102 --ipadd 198.51.100.12 --save
vzt_fail 2 "invalid IP address '198.51.100.300'" "a malformed address is refused" \
	vzctl set 102 --ipadd 198.51.100.300 --save
vzt_fail 2 "invalid hostname" "a malformed hostname is refused" \
	vzctl set 102 --hostname 'bad name' --save
vzt_like "$(grep IP_ADDRESS "$VZ_CONFDIR/conf/102.conf")" '^IP_ADDRESS="198.51.100.12 2001:db8::12/64"$' "refused sets changed nothing"

vzt_ok "start CT 101" vzctl start 101
vzt_ok "start CT 102" vzctl start 102
vzt_like "$(vzctl exec 101 ip -o addr show dev venet0)" "198.51.100.11/32" "venet0 inside carries the address"
vzt_is "$(vzctl exec 101 hostname)" "web1.example.net" "hostname inside"
vzt_like "$(vzctl exec 101 cat /etc/hosts)" "198.51.100.11	web1.example.net web1" "/etc/hosts inside"
vzt_like "$(vzctl exec 101 cat /etc/resolv.conf | tr '\n' ' ')" "search example.net nameserver 192.0.2.53" "resolv.conf inside"

vzctl exec 101 sh -c 'echo ct101 > /var/www/index.html; httpd -p 80 -h /var/www'
vzctl exec 102 sh -c 'echo ct102 > /var/www/index.html; httpd -p 80 -h /var/www'
# get ADDR PORT: an HTTP GET from the host, like ctget (netns.inc)
get() { printf 'GET / HTTP/1.0\r\n\r\n' | $bb nc -w 3 "$1" "$2" 2>/dev/null | tail -n 1; }
# leftover CT objects in the host netns
leftovers() {
	{ ip -o link show; ip route show; ip -6 route show; ip neigh show proxy; ip -6 neigh show proxy; ip -6 rule show; } |
		grep -E 'venet10|198\.51\.100\.1[1-3]|2001:db8::1[12]'
}
vzt_ok "host pings CT 101 (IPv4)" $bb ping -c1 -W2 198.51.100.11
vzt_ok "host pings CT 101 (IPv6)" $bb ping6 -c1 -W2 2001:db8::11
vzt_ok "CT 101 pings the host" vzctl exec 101 ping -c1 -W2 192.0.2.1
vzt_ok "CT 101 pings CT 102 (IPv4)" vzctl exec 101 ping -c1 -W2 198.51.100.12
vzt_ok "CT 102 pings CT 101 (IPv6)" vzctl exec 102 ping6 -c1 -W2 2001:db8::11
vzt_is "$(get 198.51.100.11 80)" ct101 "host -> CT 101 TCP (IPv4)"
vzt_is "$(get 2001:db8::11 80)" ct101 "host -> CT 101 TCP (IPv6)"
vzt_is "$(ctget 101 192.0.2.1 8080)" host-page "CT 101 -> host TCP"
vzt_is "$(ctget 101 2001:db8:ff::1 8080)" host-page "CT 101 -> host TCP (IPv6)"
vzt_is "$(ctget 101 198.51.100.12 80)" ct102 "CT 101 -> CT 102 TCP (IPv4)"
vzt_is "$(ctget 102 2001:db8::11 80)" ct101 "CT 102 -> CT 101 TCP (IPv6)"

# no spoofing: CT 101 sending as CT 102 is dropped at the host
rpf() { awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v); for (i in k) if (k[i] == "IPReversePathFilter") print v[i] } }' /proc/net/netstat; }
vzctl exec 101 ip addr add 198.51.100.12/32 dev venet0
before=$(rpf)
vzctl exec 101 ping -c1 -W1 -I 198.51.100.12 192.0.2.1 >/dev/null 2>&1
vzt_true "a packet with another CT's source address is dropped (reverse path filter)" \
	test "$(rpf)" -gt "$before"
vzctl exec 101 ip addr del 198.51.100.12/32 dev venet0
vzt_ok "CT 101's own source still passes" vzctl exec 101 ping -c1 -W2 192.0.2.1

# live changes
vzt_ok "live --ipadd" vzctl set 101 --ipadd 198.51.100.13 --save
vzt_is "$(get 198.51.100.13 80)" ct101 "the new address answers"
vzt_ok "live --ipdel" vzctl set 101 --ipdel 198.51.100.11 --save
vzt_fail 1 "" "the removed address is silent" $bb ping -c1 -W1 198.51.100.11
vzt_is "$(get 198.51.100.13 80)" ct101 "the other IPv4 address still answers"
vzt_is "$(get 2001:db8::11 80)" ct101 "IPv6 still answers"
vzt_is "$(ctget 102 198.51.100.13 80)" ct101 "CT 102 reaches the new address"
vzt_like "$(vzctl exec 101 cat /etc/hosts)" "198.51.100.13	web1" "/etc/hosts follows the first address"
vzt_ok "live --hostname and DNS" vzctl set 101 --hostname web2 --nameserver 192.0.2.54 --save
vzt_is "$(vzctl exec 101 hostname)" web2 "hostname changed inside"
vzt_like "$(vzctl exec 101 cat /etc/resolv.conf)" "nameserver 192.0.2.54" "resolv.conf changed inside"
vzt_like "$(vzlist -H -o ctid,ip 101)" "101 +2001:db8::11 198.51.100.13$" "vzlist -o ip"

# a live change that fails leaves nothing half-done
ip addr add 198.51.100.99/32 dev lo
vzt_fail 9 "address of the host" "an address the host has is refused live" \
	vzctl set 101 --ipadd 198.51.100.98 --ipadd 198.51.100.99 --save
vzt_is "$(ip route show | grep 198.51.100.98)" "" "the first address of that command was undone"
vzt_is "$(vzctl exec 101 ip addr | grep 198.51.100.98)" "" "and is not inside"

# stop and destroy leave nothing
vzt_ok "stop CT 101" vzctl stop 101 --fast
vzt_ok "stop CT 102" vzctl stop 102 --fast
vzt_is "$(leftovers)" "" "no veth, route or proxy entry left after stop"
vzt_ok "start CT 101 again" vzctl start 101
vzt_is "$(ctget 101 192.0.2.1 8080)" host-page "works after restart"
vzt_ok "live --ipdel all" vzctl set 101 --ipdel all --save
vzt_is "$(vzctl exec 101 ip -o addr show dev venet0 | grep -E 'inet6? (198|2001)')" "" "no address left inside"
vzt_is "$(sed -n 's/^IP_ADDRESS=//p' "$VZ_CONFDIR/conf/101.conf")" "" "IP_ADDRESS removed from the config"
vzt_ok "live --ipadd after all were removed" vzctl set 101 --ipadd 198.51.100.11 --save
vzt_ok "which answers" $bb ping -c1 -W2 198.51.100.11
vzt_ok "stop CT 101 again" vzctl stop 101 --fast
vzt_ok "destroy CT 101" vzctl destroy 101
vzt_ok "destroy CT 102" vzctl destroy 102
vzt_is "$(leftovers)" "" "nothing left after destroy"
vzt_done
