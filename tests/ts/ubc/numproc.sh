#!/bin/bash
# NUMPROC=50 stops a fork bomb inside; the host can still fork.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
vzt_need_prog jq
vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
vzt_ok "NUMPROC 50" vzctl set 101 --numproc 50 --save
vzt_is "$(cg_read 101 pids pids.max)" 50 "pids.max"
vzt_true "NUMPROC saved" grep -q '^NUMPROC="50:50"' "$VZ_CONFDIR/conf/101.conf"
# a bounded bomb: 200 sleepers, as fast as the shell can fork
out=$(vzctl exec 101 sh -c 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; echo started' 2>&1)
vzt_like "$out" "can't fork|Resource temporarily unavailable|fork" "forks fail inside"
n=$(cg_read 101 pids pids.current)
vzt_true "at most 50 processes inside ($n)" test "$n" -le 50
vzt_true "the host can still fork" sh -c 'for i in 1 2 3 4 5; do /bin/true || exit 1; done'
f=$(vzctl ubc 101 -j | jq '.[] | select(.resource=="numproc") | .failcnt')
vzt_true "refused forks counted in numproc failcnt ($f)" test "${f:-0}" -ge 1
vzt_is "$(vzlist -H -o numproc.l 101 | tr -d ' ')" 50 "vzlist numproc.l"
vzt_ok "raise it live" vzctl set 101 --numproc 500
vzt_is "$(cg_read 101 pids pids.max)" 500 "pids.max raised"
vzt_ok "stop kills them all" vzctl stop 101 --fast
vzt_done
