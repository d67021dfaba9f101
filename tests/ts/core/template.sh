#!/bin/bash
# vztmpl-busybox builds a working busybox system, without network access.
. "$VZ_SRC/tests/lib.sh"
vzt_init
out=$VZT_TMP/t/cache/busybox.tar.gz
vzt_ok "build into a template directory" env VZ_TEMPLATE_DIR="$VZT_TMP/t" vztmpl-busybox
vzt_true "tarball written" test -s "$out"
list=$(tar tzf "$out")
for f in ./sbin/init ./etc/inittab ./etc/init.d/rcS ./etc/passwd ./etc/group ./etc/hostname \
	 ./etc/hosts ./etc/resolv.conf ./bin/sh ./bin/ps ./sbin/ip ./bin/ping ./usr/bin/nc ./usr/sbin/httpd \
	 ./sbin/halt; do
	vzt_like "$list" "^${f//./\\.}$" "template has $f"
done
vzt_like "$(tar tvzf "$out" ./bin/busybox)" "^-rwxr-xr-x 0/0" "files owned by root, numerically"
vzt_like "$(env VZ_TEMPLATE_DIR="$VZT_TMP/t" vztmpl-busybox 2>&1)" "exists" "an existing template is kept"
vzt_ok "-o FILE" vztmpl-busybox -o "$VZT_TMP/other.tar.gz"
vzt_fail 2 "unknown argument" "bad argument" vztmpl-busybox --bogus
vzt_fail 3 "cannot read" "no vz.conf" env VZ_CONFDIR=/nonexistent vztmpl-busybox

sed -i "s|^TEMPLATE=.*|TEMPLATE=\"$VZT_TMP/t\"|" "$VZ_CONFDIR/vz.conf"
vzt_ok "create from it" vzctl create 101
vzt_true "DEF_OSTEMPLATE is busybox" grep -q '^OSTEMPLATE="busybox"' "$VZ_CONFDIR/conf/101.conf"
vzt_ok "start" vzctl start 101
vzt_ok "httpd inside" vzctl exec 101 httpd -p 127.0.0.1:80 -h /var/www
vzt_like "$(vzctl exec 101 wget -qO- http://127.0.0.1/)" "vz busybox" "a page served and fetched inside"
vzt_ok "ping lo inside" vzctl exec 101 ping -c1 -W2 127.0.0.1
vzt_done
