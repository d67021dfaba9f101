#!/bin/bash
# The LAN side of routed CTs: proxy ARP / NDP on NEIGHBOUR_DEVS (detect =
# the devices of the default routes), duplicate address detection against
# a LAN host and SKIP_ARPDETECT, and no proxy entry left after stop.
# "Host" and "LAN" are network namespaces of this test.
. "$VZ_SRC/tests/ts/net/netns.inc"
vzt_need_prog nsenter unshare
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# the LAN: one host, 198.51.100.60 / 2001:db8::60, behind the "uplink"
unshare -n sleep 600 & lanpid=$!
vzt_on_exit "kill $lanpid"
sleep 0.1
lan() { nsenter --net=/proc/$lanpid/ns/net "$@"; }
ip link add uplink type veth peer name lan0 netns /proc/$lanpid/ns/net
ip link set uplink up
ip addr add 198.51.100.1/24 dev uplink
ip addr add 2001:db8::1/64 dev uplink nodad
ip route add default via 198.51.100.254
ip -6 route add default via 2001:db8::fffe
lan ip link set lo up
lan ip link set lan0 up
lan ip addr add 198.51.100.60/24 dev lan0
lan ip addr add 2001:db8::60/64 dev lan0 nodad

vzt_ok "create CT 401" vzctl create 401 --ostemplate busybox
vzt_ok "create CT 402" vzctl create 402 --ostemplate busybox
vzt_ok "CT 401 gets free addresses" vzctl set 401 --ipadd 198.51.100.41 --ipadd 2001:db8::41 --save
vzt_ok "start CT 401 (duplicate address check passes)" vzctl start 401
vzt_like "$(ip neigh show proxy)" "198.51.100.41 dev uplink" "proxy ARP entry on the detected device"
vzt_like "$(ip -6 neigh show proxy)" "2001:db8::41 dev uplink" "proxy NDP entry on the detected device"
vzt_ok "the LAN host pings CT 401 (IPv4, proxy ARP)" lan $bb ping -c1 -W2 198.51.100.41
vzt_ok "the LAN host pings CT 401 (IPv6, proxy NDP)" lan $bb ping6 -c1 -W2 2001:db8::41
vzt_ok "CT 401 pings the LAN host" vzctl exec 401 ping -c1 -W2 198.51.100.60

vzt_ok "CT 402 is given the LAN host's address" vzctl set 402 --ipadd 198.51.100.60 --save
vzt_fail 9 "198.51.100.60 is in use on the network of uplink" \
	"start refuses an address in use on the LAN" vzctl start 402
vzt_like "$(vzctl status 402)" "down" "CT 402 is not running"
vzt_is "$(ip -o link show | grep venet402)" "" "and left no veth"
vzt_ok "live add of a LAN address is refused" sh -c \
	'vzctl set 401 --ipadd 2001:db8::60 2>&1 | grep -q "2001:db8::60 is in use"'
vzt_is "$(vzctl exec 401 ip addr | grep 2001:db8::60)" "" "and not added"
echo 'SKIP_ARPDETECT="yes"' >> "$VZ_CONFDIR/conf/402.conf"
vzt_ok "SKIP_ARPDETECT=yes lets it start" vzctl start 402
vzt_ok "stop CT 402" vzctl stop 402 --fast

# a hand-edited config with a running CT's address must not hurt that CT
vzt_ok "create CT 403" vzctl create 403 --ostemplate busybox
printf 'IP_ADDRESS="198.51.100.41"\nSKIP_ARPDETECT="yes"\n' >> "$VZ_CONFDIR/conf/403.conf"
vzt_fail 9 "198.51.100.41 is already routed" "CT 403 with CT 401's address does not start" \
	vzctl start 403
vzt_ok "a stop of CT 403" vzctl stop 403
vzt_like "$(ip neigh show proxy)" "198.51.100.41 dev uplink" "CT 401's proxy entry is untouched"
vzt_ok "the LAN host still reaches CT 401" lan $bb ping -c1 -W2 198.51.100.41

vzt_ok "live --ipadd adds proxy entries" vzctl set 401 --ipadd 198.51.100.42 --save
vzt_ok "the LAN host reaches the new address" lan $bb ping -c1 -W2 198.51.100.42
vzt_ok "live --ipdel" vzctl set 401 --ipdel 198.51.100.42 --save
vzt_is "$(ip neigh show proxy | grep 198.51.100.42)" "" "its proxy entry is gone"
vzt_ok "live --ipadd without --save" vzctl set 401 --ipadd 198.51.100.43
vzt_like "$(ip neigh show proxy)" "198.51.100.43 dev uplink" "its proxy entry is there"
vzt_ok "stop CT 401" vzctl stop 401 --fast
vzt_is "$(ip neigh show proxy; ip -6 neigh show proxy)" "" "no proxy entry left after stop (unsaved address too)"

# a CT that dies by itself: the next vzctl command cleans up after it
vzt_ok "start CT 401 again" vzctl start 401
vzt_like "$(ip neigh show proxy)" "198.51.100.41 dev uplink" "proxy entry back"
init=$(sed -n 's/^INIT_PID="\{0,1\}\([0-9]*\).*/\1/p' "$VZT_TMP"/lock/401.run)
vzt_true "its init pid is recorded" test -n "$init"
kill -9 "$init"
for i in $(seq 50); do [ -d /proc/"$init" ] || break; sleep 0.1; done
vzt_like "$(vzctl status 401)" "down" "CT 401 died"
vzt_ok "vzctl stop after the death" vzctl stop 401
vzt_is "$(ip neigh show proxy; ip -6 neigh show proxy)" "" "no proxy entry left after the death"
vzt_is "$(ip route show | grep 198.51.100.4)" "" "no host route left"
vzt_is "$(ip -6 rule show | grep venet)" "" "no IPv6 source rule left"
vzt_done
