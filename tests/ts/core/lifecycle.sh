#!/bin/bash
# Create, start, status transitions, list, stop, destroy leaving nothing.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_need_prog python3

vzt_is "$(vzctl status 101)" "CTID 101 deleted unmounted down" "status of a CT that does not exist"
vzt_ok "create from the busybox template" vzctl create 101 --ostemplate busybox --hostname web1
vzt_is "$(vzctl status 101)" "CTID 101 exist unmounted down" "status after create"
vzt_true "config written with OSTEMPLATE and HOSTNAME" \
	grep -q '^OSTEMPLATE="busybox"' "$VZ_CONFDIR/conf/101.conf"
vzt_true "private area unpacked" test -x "$VZT_TMP/private/101/sbin/init"
vzt_ok "mount" vzctl mount 101
vzt_is "$(vzctl status 101)" "CTID 101 exist mounted down" "status after mount"
vzt_ok "umount" vzctl umount 101
vzt_ok "start" vzctl start 101
vzt_is "$(vzctl status 101)" "CTID 101 exist mounted running" "status when running"
vzt_is "$(vzctl exec 101 hostname)" web1 "hostname inside"

vzt_ok "second CT" vzctl create 102 --ostemplate busybox --hostname db1
out=$(vzlist)
vzt_like "$out" "^ +CTID +NPROC STATUS +IP_ADDR +HOSTNAME" "vzlist header"
vzt_like "$out" "101 +[0-9]+ running +- +web1" "vzlist shows the running CT"
vzt_true "vzlist without -a hides stopped CTs" sh -c '! vzlist | grep -q " 102 "'
vzt_like "$(vzlist -a)" "102 +- stopped +- +db1" "vzlist -a shows stopped CTs"
vzt_is "$(vzlist -S -H -o ctid)" "       102" "vzlist -S: stopped only"
vzt_is "$(vzlist -H -o ctid,status,hostname 101)" "       101 running   web1" "vzlist -H -o with a CTID"
vzt_is "$(vzlist -a -H -o hostname -s -hostname | tr '\n' ' ')" "web1 db1 " "vzlist -s -field sorts descending"
json=$(vzlist -a -j -o ctid,status,hostname,nproc)
vzt_is "$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join("%s:%s:%s" % (c["ctid"], c["status"], c["hostname"]) for c in d))')" \
	"101:running:web1 102:stopped:db1" "vzlist -j is valid JSON with the fields"
vzt_like "$(vzlist -L)" "^ctid +CTID" "vzlist -L lists fields"

init_pid=$(sed -n 's/^INIT_PID=//p' "$VZT_TMP/lock/101.run")
vzt_ok "stop (graceful)" vzctl stop 101
vzt_is "$(vzctl status 101)" "CTID 101 exist unmounted down" "status after stop"
# gone, or a zombie waiting for a host init that is slow to reap
vzt_true "init is gone" sh -c "! grep -qs '^State:[[:space:]]*[RSD]' /proc/$init_pid/status"
vzt_ok "restart cycle: start" vzctl start 101
vzt_ok "restart" vzctl restart 101 --fast
vzt_is "$(vzctl status 101)" "CTID 101 exist mounted running" "running after restart"
vzt_ok "stop --fast" vzctl stop 101 --fast
vzt_ok "stop of a stopped CT is not an error" vzctl stop 101

vzt_like "$(cat "$VZT_TMP/vzctl.log")" "vzctl\[[0-9]+\]: CT 101 started" "the log file records what was done"
vzt_like "$(vzctl -v start 101 2>&1)" "CT 101 started" "-v shows the steps"
vzt_is "$(vzctl stop 101 --fast 2>&1)" "" "quiet by default on success"
vzt_is "$(vzctl -q set 101 --hostname q 2>&1)" "" "-q hides warnings"
vzt_like "$(vzctl set 101 --hostname q 2>&1)" "warning: CT 101 is not running" "without -q the warning shows"
vzt_ok "destroy" vzctl destroy 101
vzt_is "$(vzctl status 101)" "CTID 101 deleted unmounted down" "status after destroy"
vzt_true "private area removed" test ! -e "$VZT_TMP/private/101"
vzt_true "no mount left" sh -c "! grep -q '$VZT_TMP/root/101' /proc/self/mountinfo"
left=$(for d in /sys/fs/cgroup/*/"$CGROUP_PARENT"/101; do [ -d "$d" ] && echo "$d"; done)
vzt_is "$left" "" "no cgroup left"
vzt_ok "create again with the same CTID" vzctl create 101 --ostemplate busybox
vzt_done
