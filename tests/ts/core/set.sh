#!/bin/bash
# vzctl set: live where possible, --save rewrites the config atomically
# keeping the other lines.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_ct_up 101 --hostname before || { vzt_failmsg "CT starts"; exit 1; }
conf=$VZ_CONFDIR/conf/101.conf
sed -i '1i # a comment the admin wrote' "$conf"
echo 'FROBNICATE="kept"' >> "$conf"

vzt_ok "set --hostname live" vzctl set 101 --hostname after
vzt_is "$(vzctl exec 101 hostname)" after "hostname changed inside at once"
vzt_is "$(vzctl exec 101 cat /etc/hostname)" after "/etc/hostname written"
vzt_true "not saved without --save" grep -q '^HOSTNAME="before"' "$conf"
vzt_ok "set --hostname --save" vzctl set 101 --hostname saved --save
vzt_true "saved in the config" grep -q '^HOSTNAME="saved"' "$conf"
vzt_is "$(head -1 "$conf")" "# a comment the admin wrote" "comment kept in place"
vzt_true "unknown line kept" grep -q '^FROBNICATE="kept"' "$conf"
vzt_is "$(grep -c '^HOSTNAME=' "$conf")" 1 "one HOSTNAME line"

vzt_ok "nameserver and searchdomain" vzctl set 101 --nameserver 192.0.2.53 --nameserver 192.0.2.54 --searchdomain example.net --save
vzt_is "$(vzctl exec 101 grep -v '^#' /etc/resolv.conf)" "search example.net
nameserver 192.0.2.53
nameserver 192.0.2.54" "resolv.conf inside"
vzt_ok "onboot and description" vzctl set 101 --onboot yes --description "web server" --save
vzt_true "ONBOOT saved" grep -q '^ONBOOT="yes"' "$conf"
vzt_is "$(vzlist -H -o description 101)" "web server" "description listed"

# devices: live on the devices cgroup
vzt_fail 1 "not permitted" "loop device node refused by default" vzctl exec 101 mknod /tmp/loop0 b 7 0
vzt_ok "allow it live" vzctl set 101 --devices b:7:0:rw --save
vzt_ok "now mknod works" vzctl exec 101 mknod /tmp/loop0 b 7 0
vzt_true "DEVICES saved" grep -q '^DEVICES="b:7:0:rw"' "$conf"

# capabilities: at the next start
vzt_ok "drop CAP_NET_RAW" vzctl set 101 --capability net_raw:off --save
vzt_ok "restart" vzctl restart 101 --fast
capbnd=$(vzctl exec 101 sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
vzt_true "CAP_NET_RAW (13) gone after restart" test $(( 0x$capbnd >> 13 & 1 )) -eq 0
vzt_ok "turn CAP_SYS_TIME on" vzctl set 101 --capability sys_time:on --save
vzt_like "$(grep '^CAPABILITY=' "$conf")" 'net_raw:off sys_time:on' "both kept in CAPABILITY"
vzt_is "$(vzctl exec 101 hostname)" saved "saved hostname used at start"

# a stopped CT
vzctl stop 101 --fast
vzt_like "$(vzctl set 101 --hostname x 2>&1)" "not running and --save was not given" "stopped CT without --save: warned"
vzt_ok "stopped CT with --save" vzctl set 101 --hostname offline --save
vzt_ok "start" vzctl start 101
vzt_is "$(vzctl exec 101 hostname)" offline "takes effect at start"
vzt_done
