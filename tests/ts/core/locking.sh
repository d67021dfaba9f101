#!/bin/bash
# Per-CT locking: a second command fails clearly or waits; a lock left by a
# killed process is recovered.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_need_prog flock
vzt_ok "create" vzctl create 101 --ostemplate busybox
lock=$VZT_TMP/lock/101.lck

# another command holds the lock
echo "vzctl stop, pid 4242" > "$lock"
flock "$lock" sleep 3 &
holder=$!
sleep 0.3
vzt_fail 6 "CT 101 is locked by another command \\(vzctl stop, pid 4242\\)" "locked: exit 6 naming the holder" vzctl start 101
vzt_is "$(vzctl status 101)" "CTID 101 exist unmounted down" "status does not need the lock"
t0=$(date +%s.%N)
vzt_ok "--wait waits for the holder" vzctl start 101 --wait
t1=$(date +%s.%N)
vzt_true "it waited (>= 2 s)" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 2) }'
wait $holder
vzt_ok "exec while another command holds the lock" sh -c "flock '$lock' sleep 2 & sleep 0.3; vzctl exec 101 true"
wait

# a holder killed with SIGKILL: the kernel drops its flock
flock -o "$lock" sleep 60 &
holder=$!
sleep 0.3
sleeper=$(pgrep -P $holder)
kill -9 $holder; wait $holder 2>/dev/null
kill $sleeper 2>/dev/null
vzt_ok "a lock left by a killed process is recovered" vzctl stop 101 --fast

# two real commands at once: one wins, the other says why
vzctl start 101 > "$VZT_TMP/a.out" 2>&1 & a=$!
vzctl start 101 > "$VZT_TMP/b.out" 2>&1 & b=$!
wait $a; ra=$?; wait $b; rb=$?
vzt_is "$(( (ra == 0) + (rb == 0) ))" 1 "two concurrent starts: exactly one succeeds ($ra, $rb)"
vzt_like "$(cat "$VZT_TMP/a.out" "$VZT_TMP/b.out")" "locked by another command|already running" "the other one says why"
vzt_is "$(vzctl status 101)" "CTID 101 exist mounted running" "and the CT runs once"
vzt_is "$(vzctl exec 101 ps -o comm= | grep -c '^init$')" 1 "one init"
vzt_done
