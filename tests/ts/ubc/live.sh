#!/bin/bash
# Live changes on a running CT: RAM down and up, CPULIMIT down and up,
# without a restart; a value the kernel refuses leaves the old one;
# set/start refuse a config that fails beancounter-check unless --force.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
vzt_need_prog jq
conf=$VZ_CONFDIR/conf/101.conf
vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
init0=$(vzctl exec 101 cat /proc/1/stat | awk '{print $22}')

vzt_ok "RAM 256M" vzctl set 101 --ram 256M --swap 0 --save
vzt_ok "100 MB fit" vzctl exec 101 dd if=/dev/zero of=/dev/null bs=100M count=1
vzt_ok "lower RAM to 64M live" vzctl set 101 --ram 64M
vzt_is "$(cg_ram 101)" $((64 << 20)) "64M in force"
vzctl exec 101 dd if=/dev/zero of=/dev/null bs=100M count=1 >/dev/null 2>&1; rc=$?
vzt_is "$rc" 137 "100 MB no longer fit"
vzt_true "not saved without --save" grep -q '^PHYSPAGES="0:256M"' "$conf"
vzt_ok "raise RAM to 256M live" vzctl set 101 --ram 256M
vzt_ok "100 MB fit again" vzctl exec 101 dd if=/dev/zero of=/dev/null bs=100M count=1
vzt_is "$(vzlist -H -o physpages.l 101 | tr -d ' ')" 65536 "vzlist physpages.l (pages)"
vzt_like "$(vzlist -H -o ctid,physpages,physpages.l,swappages,numproc,cpulimit 101)" \
	"^ *101 +[0-9]+ +65536 +[0-9]+ +[1-9][0-9]* +[0-9-]+ *$" "vzlist -o ctid,physpages,physpages.l,swappages,numproc,cpulimit"

# RAM below what the CT holds: refused, old value stays
vzctl exec 101 sh -c 'dd if=/dev/zero bs=100M count=1 | sleep 15' >/dev/null 2>&1 &
for i in $(seq 50); do
	h=$(vzlist -H -o physpages 101 | tr -d ' ')
	[ "${h:-0}" -gt 25600 ] && break
	sleep 0.2
done
vzt_true "CT holds 100 MB ($h pages)" test "${h:-0}" -gt 25600
vzt_fail 8 "PHYSPAGES|SWAPPAGES.*old value stays" "RAM 32M below usage refused" vzctl set 101 --ram 32M --save
vzt_is "$(cg_ram 101)" $((256 << 20)) "256M still in force"
vzt_true "config unchanged" grep -q '^PHYSPAGES="0:256M"' "$conf"
vzt_is "$(vzctl status 101 | awk '{print $5}')" running "CT still runs"

# CPULIMIT down and up
busy 101
vzt_ok "CPULIMIT 20 live" vzctl set 101 --cpulimit 20
sleep 0.5
p20=$(cpu_pct 101 3)
vzt_ok "CPULIMIT 50 live" vzctl set 101 --cpulimit 50
sleep 0.5
p50=$(cpu_pct 101 3)
# what the loop gets without a limit, for a host busy with other work
vzt_ok "CPULIMIT off live" vzctl set 101 --cpulimit 0
sleep 0.5
base=$(cpu_pct 101 3)
vzt_true "limit 20: 20% +- 5 (got $p20%; unlimited $base%)" cpu_within "$p20" 20 5 "$base"
vzt_true "limit 50: 50% +- 8 (got $p50%; unlimited $base%)" cpu_within "$p50" 50 8 "$base"
if cg_v2; then
	vzt_is "$(cg_read 101 cpu cpu.max)" "max 100000" "limit off: cpu.max max"
else
	vzt_is "$(cg_read 101 cpu cpu.cfs_quota_us)" -1 "limit off: no CFS quota"
fi
init1=$(vzctl exec 101 cat /proc/1/stat | awk '{print $22}')
vzt_is "$init1" "$init0" "no restart: same init"

# validation
vzt_fail 3 "fails beancounter-check: NUMPROC barrier" "set refuses a failing config" vzctl set 101 --numproc 10:20 --save
vzt_true "not saved" sh -c "! grep -q '^NUMPROC=' '$conf'"
vzt_ok "--force applies it" vzctl set 101 --numproc 10:20 --force --save
vzt_is "$(cg_read 101 pids pids.max)" 20 "limit in force"
vzctl stop 101 --fast >/dev/null
vzt_fail 5 "not running" "no beancounters for a stopped CT" vzctl ubc 101
vzt_fail 3 "NUMPROC barrier" "start refuses it" vzctl start 101
vzt_ok "start --force" vzctl start 101 --force
init0=$(vzctl exec 101 cat /proc/1/stat | awk '{print $22}')
vzt_fail 3 "NUMPROC barrier" "restart refuses it" vzctl restart 101 --fast
vzt_is "$(vzctl exec 101 cat /proc/1/stat | awk '{print $22}')" "$init0" "refused before the stop: the CT runs on"
vzt_ok "restart --force" vzctl restart 101 --fast --force
init1=$(vzctl exec 101 cat /proc/1/stat | awk '{print $22}')
vzt_true "restarted: a new init (start time $init0 -> ${init1:-none})" test -n "$init1" -a "$init1" != "$init0"
vzt_is "$(cg_read 101 pids pids.max)" 20 "the forced value applied at the start"
vzt_ok "repair with beancounter-check -r" beancounter-check -r -q "$conf"
vzt_ok "restart without --force" vzctl restart 101 --fast
vzt_is "$(cg_read 101 pids pids.max)" 20 "repaired value applied at start"
vzt_like "$(vzctl set 101 --kmemsize 10M 2>&1)" "not enforced: KMEMSIZE" "a name without a knob is reported"
vzt_true "legacy names keep barrier:limit" sh -c "vzctl set 101 --numtcpsock 100:100 --save && grep -q '^NUMTCPSOCK=\"100:100\"' '$conf'"
vzt_fail 2 "--ram" "bad --ram" vzctl set 101 --ram lots
vzt_done
