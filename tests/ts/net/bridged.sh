#!/bin/bash
# Bridged veth interfaces (NETIF): two CTs on a test bridge reach each other
# and a host address on the bridge; generated MACs are saved and stay the
# same across restarts; live --netif_add/--netif_del; bad input (unknown
# bridge, over-long name) leaves nothing; stop and destroy leave no veth.
# The host side is a network namespace of this test (unshare -n).
. "$VZ_SRC/tests/ts/net/netns.inc"
ip link add br0 type bridge || vzt_skip_all "the kernel has no bridge support"
ip link set br0 up
ip addr add 203.0.113.1/24 dev br0
host_web
ctmac() { vzctl exec "$1" ip -o link show "$2" | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p'; }
leftovers() { ip -o link show | grep -E 'veth20[12]' ; }

vzt_ok "create CT 201" vzctl create 201 --ostemplate busybox
vzt_ok "create CT 202" vzctl create 202 --ostemplate busybox
vzt_ok "--netif_add with generated MACs" vzctl set 201 --netif_add eth0,,,,br0 --save
vzt_ok "--netif_add with a given MAC" vzctl set 202 --netif_add eth0,02:00:00:00:02:02,,,br0 --save
netif=$(sed -n 's/^NETIF="\(.*\)"$/\1/p' "$VZ_CONFDIR/conf/201.conf")
vzt_like "$netif" '^ifname=eth0,mac=([0-9A-F]{2}:){5}[0-9A-F]{2},host_ifname=veth201\.0,host_mac=([0-9A-F]{2}:){5}[0-9A-F]{2},bridge=br0$' \
	"NETIF saved with generated MACs and host name"
mac=$(printf '%s' "$netif" | sed 's/.*,mac=\([^,]*\),.*/\1/' | tr A-F a-f)

vzt_fail 2 "too long" "an over-long interface name is refused" \
	vzctl set 201 --netif_add eth0123456789abcdef --save
vzt_fail 9 "already configured" "a duplicate interface is refused" \
	vzctl set 201 --netif_add eth0 --save
vzt_fail 2 "invalid MAC" "a malformed MAC is refused" \
	vzctl set 201 --netif_add eth1,00:11:22 --save
vzt_fail 2 "need --ifname" "--bridge without --ifname is refused" \
	vzctl set 201 --bridge br0 --save
vzt_is "$(sed -n 's/^NETIF="\(.*\)"$/\1/p' "$VZ_CONFDIR/conf/201.conf")" "$netif" "refused sets changed nothing"

vzt_ok "start CT 201" vzctl start 201
vzt_ok "start CT 202" vzctl start 202
vzt_like "$(ip -o link show master br0 | tr '\n' ' ')" "veth201.0.*veth202.0" "host ends joined the bridge"
hmac=$(printf '%s' "$netif" | sed 's/.*,host_mac=\([^,]*\),.*/\1/' | tr A-F a-f)
vzt_like "$(ip -o link show veth201.0)" "link/ether $hmac " "the host end has the saved host MAC"
vzt_is "$(ctmac 201 eth0)" "$mac" "CT 201's eth0 has the saved MAC"
vzt_is "$(ctmac 202 eth0)" "02:00:00:00:02:02" "CT 202's eth0 has the given MAC"
vzctl exec 201 ip addr add 203.0.113.21/24 dev eth0
vzctl exec 202 ip addr add 203.0.113.22/24 dev eth0
vzctl exec 202 sh -c 'echo ct202 > /var/www/index.html; httpd -p 80 -h /var/www'
vzt_ok "CT 201 pings CT 202 over the bridge" vzctl exec 201 ping -c1 -W2 203.0.113.22
vzt_ok "CT 201 pings the host's bridge address" vzctl exec 201 ping -c1 -W2 203.0.113.1
vzt_is "$(ctget 201 203.0.113.22 80)" ct202 "CT 201 -> CT 202 TCP"
vzt_is "$(ctget 202 203.0.113.1 8080)" host-page "CT 202 -> host TCP"

vzt_fail 4 "bridge nosuchbr does not exist" "live add on an unknown bridge is refused" \
	vzctl set 201 --netif_add eth1,,,,nosuchbr --save
vzt_is "$(ip -o link show | grep veth201.1)" "" "and made no veth"
vzt_ok "live --netif_add" vzctl set 201 --netif_add eth1,,,,br0 --save
vzt_like "$(vzctl exec 201 ip -o link show)" "eth1" "eth1 appears inside"
vzt_ok "live --netif_del" vzctl set 201 --netif_del eth1 --save
vzt_is "$(vzctl exec 201 ip -o link show | grep eth1)" "" "eth1 is gone inside"
vzt_is "$(ip -o link show | grep veth201.1)" "" "and on the host"

ip link add br1 type bridge && ip link set br1 up
vzt_ok "live --ifname eth0 --bridge br1" vzctl set 201 --ifname eth0 --bridge br1 --save
vzt_like "$(ip -o link show veth201.0)" "master br1" "the host end moved to br1"
vzt_is "$(ctmac 201 eth0)" "$mac" "with the same MAC inside"
vzt_like "$(sed -n 's/^NETIF=//p' "$VZ_CONFDIR/conf/201.conf")" "bridge=br1" "NETIF saved with br1"
vzt_ok "back to br0" vzctl set 201 --ifname eth0 --bridge br0 --save
vzctl exec 201 ip addr add 203.0.113.21/24 dev eth0
vzt_ok "reaches the host on br0 again" vzctl exec 201 ping -c1 -W2 203.0.113.1
vzt_ok "create CT 203" vzctl create 203 --ostemplate busybox
echo 'NETIF="ifname=eth0,host_ifname=veth201.0,bridge=br0"' >> "$VZ_CONFDIR/conf/203.conf"
vzt_fail 9 "veth201.0 exists already" "CT 203 naming CT 201's host interface does not start" \
	vzctl start 203
vzt_ok "a stop of CT 203" vzctl stop 203
vzt_like "$(ip -o link show veth201.0)" "master br0" "CT 201's interface is untouched"
vzt_ok "destroy CT 203" vzctl destroy 203
vzt_ok "restart CT 201" vzctl restart 201 --fast
vzt_is "$(ctmac 201 eth0)" "$mac" "the MAC is the same after a restart"

vzt_ok "stop CT 202" vzctl stop 202 --fast
vzt_ok "point CT 202 at an unknown bridge" vzctl set 202 --ifname eth0 --bridge nosuchbr --save
vzt_fail 4 "bridge nosuchbr does not exist" "start with an unknown bridge fails clearly" \
	vzctl start 202
vzt_like "$(vzctl status 202)" "down" "CT 202 is not running"
vzt_is "$(ip -o link show | grep veth202)" "" "and left no veth"

vzt_ok "--netif_del all" vzctl set 201 --netif_del all --save
vzt_is "$(vzctl exec 201 ip -o link show | grep eth)" "" "no interface left inside"
vzt_is "$(sed -n 's/^NETIF=//p' "$VZ_CONFDIR/conf/201.conf")" "" "NETIF removed from the config"
vzt_ok "stop CT 201" vzctl stop 201 --fast
vzt_is "$(leftovers)" "" "no veth left after stop"
vzt_ok "destroy CT 201" vzctl destroy 201
vzt_ok "destroy CT 202" vzctl destroy 202
vzt_is "$(leftovers)" "" "nothing left after destroy"
vzt_done
