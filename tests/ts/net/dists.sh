#!/bin/bash
# Files inside the CT kept from its config: hostname, hosts, resolv.conf
# and the distro's own (scripts/dists/OSTEMPLATE), written without
# following links out of the CT root, at start and on a live set.
. "$VZ_SRC/tests/ts/net/netns.inc"

vzt_ok "create CT 301" vzctl create 301 --ostemplate busybox
priv=$VZT_TMP/private/301
vzt_true "the private area is a plain directory" test -d "$priv/etc"
# a CT that looks like Debian, with hostile links
sed -i 's/^OSTEMPLATE=.*/OSTEMPLATE="debian-12-x86_64"/' "$VZ_CONFDIR/conf/301.conf"
mkdir -p "$priv/etc/network"
# interfaces is a link inside the CT (followed, inside)
printf 'auto eth0\niface eth0 inet dhcp\n' > "$priv/etc/network/interfaces.real"
ln -s /etc/network/interfaces.real "$priv/etc/network/interfaces"
echo old.example > "$priv/etc/mailname"
echo "host secret" > "$VZT_TMP/victim"
rm -f "$priv/etc/resolv.conf"
ln -s "$VZT_TMP/victim" "$priv/etc/resolv.conf"
ln -sf ../../../../../../../../"$VZT_TMP"/victim "$priv/etc/hosts"

vzt_ok "set network parameters" vzctl set 301 --ipadd 198.51.100.31 --hostname db1.example.net \
	--nameserver 192.0.2.53 --searchdomain example.net --save
vzt_ok "start CT 301" vzctl start 301
vzt_is "$(cat "$VZT_TMP/victim")" "host secret" "the host file behind the CT's links is untouched"
vzt_is "$(vzctl exec 301 hostname)" db1.example.net "hostname inside"
vzt_is "$(vzctl exec 301 cat /etc/hostname)" db1.example.net "/etc/hostname inside"
vzt_like "$(vzctl exec 301 cat /etc/hosts)" "198.51.100.31	db1.example.net db1" "/etc/hosts inside"
vzt_is "$(vzctl exec 301 cat /etc/resolv.conf)" "search example.net
nameserver 192.0.2.53" "resolv.conf inside"
ifs=$(vzctl exec 301 cat /etc/network/interfaces)
vzt_like "$ifs" "iface eth0 inet dhcp" "Debian interfaces keeps the user's stanzas"
vzt_like "$(printf '%s' "$ifs" | tr '\n' ' ')" "auto lo iface lo inet loopback" "and has loopback"
vzt_like "$(printf '%s' "$ifs" | tr '\n' ' ')" "# addresses: 198.51.100.31 iface venet0 inet manual" "and declares venet0"
vzt_is "$(vzctl exec 301 cat /etc/mailname)" db1.example.net "/etc/mailname follows the hostname"

vzt_ok "live set" vzctl set 301 --hostname db2 --ipadd 198.51.100.32 --nameserver 192.0.2.54 \
	--nameserver 192.0.2.55 --save
vzt_is "$(vzctl exec 301 hostname)" db2 "hostname inside after live set"
vzt_like "$(vzctl exec 301 cat /etc/hosts)" "198.51.100.31	db2	# added by vz" "/etc/hosts after live set"
vzt_is "$(vzctl exec 301 grep -c 'added by vz' /etc/hosts)" 1 "one line of ours in /etc/hosts"
vzt_is "$(vzctl exec 301 grep nameserver /etc/resolv.conf | tr '\n' ' ')" \
	"nameserver 192.0.2.54 nameserver 192.0.2.55 " "resolv.conf after live set"
vzt_like "$(vzctl exec 301 cat /etc/network/interfaces | tr '\n' ' ')" \
	"# addresses: 198.51.100.31 198.51.100.32 iface" "interfaces after live set"
vzt_is "$(vzctl exec 301 grep -c 'vz: begin' /etc/network/interfaces)" 1 "one block of ours in interfaces"
vzt_true "interfaces is still the CT's link" test -L "$priv/etc/network/interfaces"
vzt_is "$(cat "$VZT_TMP/victim")" "host secret" "the host file is still untouched"
vzt_ok "stop CT 301" vzctl stop 301 --fast
vzt_ok "destroy CT 301" vzctl destroy 301
vzt_done
