#!/bin/bash
# VSwap RAM limit: RAM=64M, swap=0: a process allocating 200 MB is
# OOM-killed inside; the host and a neighbour CT are untouched.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
vzt_need_prog jq
vzt_ct_up 101 || { vzt_failmsg "CT 101 starts"; exit 1; }
vzt_ct_up 102 || { vzt_failmsg "CT 102 starts"; exit 1; }
vzt_ok "RAM 64M, no swap" vzctl set 101 --ram 64M --swap 0 --save
vzt_is "$(cg_ram 101)" $((64 << 20)) "RAM limit in the CT's cgroup"
if ! cg_v2; then
	vzt_is "$(cg_read 101 memory memory.memsw.limit_in_bytes)" $((64 << 20)) "RAM + swap limit (memsw)"
else
	vzt_is "$(cg_read 101 memory memory.swap.max)" 0 "swap.max 0"
	# VSwap's slow-down before the hard limit: memory.high 1/16 below it
	vzt_is "$(cg_read 101 memory memory.high)" $((60 << 20)) "memory.high 60M (RAM - 1/16)"
fi

sleep 300 & hostpid=$!
vzt_on_exit "kill $hostpid"
vzt_ok "50 MB fits" vzctl exec 101 dd if=/dev/zero of=/dev/null bs=50M count=1
vzctl exec 101 dd if=/dev/zero of=/dev/null bs=200M count=1 >/dev/null 2>&1; rc=$?
vzt_is "$rc" 137 "200 MB: killed by SIGKILL (the OOM killer) inside"
if cg_v2; then
	hi=$(awk '$1 == "high" {print $2}' "$(cg_file 101 memory memory.events)")
	vzt_true "throttled at memory.high on the way (memory.events high $hi)" test "${hi:-0}" -ge 1
fi
oom=$(vzctl ubc 101 -j | jq '.[] | select(.resource=="oomguarpages") | .failcnt')
vzt_true "OOM kill counted in oomguarpages failcnt ($oom)" test "${oom:-0}" -ge 1
vzt_is "$(vzctl status 101 | awk '{print $5}')" running "the CT itself still runs"
vzt_ok "and works" vzctl exec 101 true
vzt_true "host process untouched" kill -0 $hostpid
vzt_is "$(vzctl status 102 | awk '{print $5}')" running "neighbour still runs"
vzt_ok "neighbour allocates 200 MB" vzctl exec 102 dd if=/dev/zero of=/dev/null bs=200M count=1
n=$(vzctl ubc 102 -j | jq '.[] | select(.resource=="oomguarpages") | .failcnt')
vzt_is "$n" 0 "no OOM kill in the neighbour"
h=$(beancounter-check --host -j | jq '.containers[] | select(.ctid=="101") | .held')
vzt_true "beancounter-check --host reads held memory of a running CT ($h)" test "${h:-0}" -gt 0
vzt_done
