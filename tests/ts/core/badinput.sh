#!/bin/bash
# Every bad input: one clear line, a documented exit code, nothing touched.
. "$VZ_SRC/tests/lib.sh"
vzt_init

before=$(find "$VZT_TMP" | sort)
for id in "../x" "" " " "10 1" "0" "-1" "2147483648" "99999999999999999999" "0101" "abc" "1e3"; do
	vzt_fail 2 "invalid CTID|no CTID" "CTID '$id' refused" vzctl create "$id" --ostemplate busybox
done
vzt_is "$(find "$VZT_TMP" | sort)" "$before" "nothing was created by the refused CTIDs"
vzt_fail 2 "unknown command 'frobnicate'" "unknown command" vzctl frobnicate 101
vzt_fail 2 "bogus" "unknown option" vzctl start 101 --bogus
vzt_fail 2 "no CTID" "missing CTID" vzctl start
vzt_fail 2 "unexpected argument" "extra argument" vzctl start 101 102
vzt_fail 2 "timeout" "bad --timeout" vzctl stop 101 --timeout -5
vzt_fail 2 "timeout" "bad -t of restart (stop's options, shared)" vzctl restart 101 -t -5
vzt_like "$(vzctl restart --help | sed -n '/OPTION/,$p' | grep -oE -- '--(fast|timeout|force|wait)' | tr '\n' ' ')" \
	"^--force --fast --timeout --wait $" "restart --help lists stop's options, --force and --wait"
vzt_fail 4 "does not exist" "start of a CT that does not exist" vzctl start 101
vzt_fail 4 "does not exist" "destroy of a CT that does not exist" vzctl destroy 101
vzt_fail 4 "OS template 'nosuch' not found" "missing template" vzctl create 101 --ostemplate nosuch
vzt_fail 2 "invalid OS template name" "template name with a slash" vzctl create 101 --ostemplate ../../etc/passwd
vzt_fail 3 "config sample 'nosuch'" "missing config sample" vzctl create 101 --config nosuch
vzt_true "nothing left by failed creates" test ! -e "$VZ_CONFDIR/conf/101.conf" -a ! -e "$VZT_TMP/private/101"

vzt_ok "create" vzctl create 101 --ostemplate busybox
vzt_fail 9 "already exists" "create of an existing CT" vzctl create 101 --ostemplate busybox
vzt_fail 2 "yes or no" "set --onboot maybe" vzctl set 101 --onboot maybe --save
vzt_fail 2 "nothing to set" "set without options" vzctl set 101
cp "$VZ_CONFDIR/conf/101.conf" "$VZT_TMP/saved.conf"
echo 'CPUUNITS="many"' >> "$VZ_CONFDIR/conf/101.conf"
n=$(wc -l < "$VZ_CONFDIR/conf/101.conf")
vzt_fail 3 "101.conf:$n: CPUUNITS: \"many\" is not a whole number" "bad value reported as FILE:LINE" vzctl start 101
cp "$VZT_TMP/saved.conf" "$VZ_CONFDIR/conf/101.conf"
echo 'HOSTNAME="unterminated' >> "$VZ_CONFDIR/conf/101.conf"
vzt_fail 3 "101.conf:$n: unterminated double quote" "syntax error reported as FILE:LINE" vzctl start 101
cp "$VZT_TMP/saved.conf" "$VZ_CONFDIR/conf/101.conf"
echo 'VE_ROOT=relative/path' >> "$VZ_CONFDIR/conf/101.conf"
vzt_fail 3 "not an absolute path" "relative VE_ROOT" vzctl start 101
cp "$VZT_TMP/saved.conf" "$VZ_CONFDIR/conf/101.conf"
echo 'FROBNICATE="1"' >> "$VZ_CONFDIR/conf/101.conf"
vzt_like "$(vzctl status 101 2>&1)" "101.conf:$n: unknown parameter FROBNICATE" "unknown name: warning with FILE:LINE, kept"
cp "$VZT_TMP/saved.conf" "$VZ_CONFDIR/conf/101.conf"
echo 'CAPABILITY="no_such_cap:on"' >> "$VZ_CONFDIR/conf/101.conf"
vzt_fail 3 "unknown capability" "unknown capability" vzctl start 101
cp "$VZT_TMP/saved.conf" "$VZ_CONFDIR/conf/101.conf"
echo 'DEVICES="x:1:2:rw"' >> "$VZ_CONFDIR/conf/101.conf"
vzt_fail 3 "DEVICES" "bad device entry" vzctl start 101
vzt_is "$(vzctl status 101)" "CTID 101 exist unmounted down" "failed starts left it down and unmounted"
cp "$VZT_TMP/saved.conf" "$VZ_CONFDIR/conf/101.conf"
mv "$VZT_TMP/private/101/sbin/init" "$VZT_TMP/init.saved"
vzt_fail 3 "sbin/init is missing" "template without init" vzctl start 101
mv "$VZT_TMP/init.saved" "$VZT_TMP/private/101/sbin/init"
left=$(for d in /sys/fs/cgroup/"$CGROUP_PARENT"/101 /sys/fs/cgroup/*/"$CGROUP_PARENT"/101; do [ -d "$d" ] && echo "$d"; done)
vzt_is "$left" "" "failed starts left no cgroup"

vzt_ok "start" vzctl start 101
vzt_fail 5 "already running" "start of a running CT" vzctl start 101
vzt_fail 5 "is running; stop it first" "destroy of a running CT" vzctl destroy 101
vzt_fail 5 "is running" "umount of a running CT" vzctl umount 101
echo 'NAME value' > "$VZ_CONFDIR/vz.conf.bad"
cp "$VZ_CONFDIR/vz.conf" "$VZT_TMP/vz.saved"; cat "$VZ_CONFDIR/vz.conf.bad" >> "$VZ_CONFDIR/vz.conf"
vzt_fail 3 "vz.conf:[0-9]+: expected NAME" "broken vz.conf named with its line" vzctl status 101
cp "$VZT_TMP/vz.saved" "$VZ_CONFDIR/vz.conf"
vzt_done
