#!/bin/bash
# Per-CT locking: a second command fails clearly or waits; a lock left by a
# killed process is recovered.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_need_prog python3
# hold LOCKFILE SECONDS &: a POSIX record lock, as vzctl takes it, by a
# process whose pid is $!; held_wait waits until it has the lock.
hold() { rm -f "$1.held"; exec python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+"); fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[1] + ".held", "w").close(); time.sleep(float(sys.argv[2]))' "$@"; }
held_wait() { local i; for i in $(seq 500); do [ -e "$1.held" ] && return 0; sleep 0.02; done; return 1; }
vzt_ok "create" vzctl create 101 --ostemplate busybox
lock=$VZT_TMP/lock/101.lck

# another command holds the lock
th=$(date +%s.%N)
hold "$lock" 6 &
holder=$!
held_wait "$lock"
echo "vzctl stop, pid $holder" > "$lock"
vzt_fail 6 "CT 101 is locked by another command \\(vzctl stop, pid $holder\\)" "locked: exit 6 naming the holder" vzctl start 101
echo "something stale" > "$lock"
vzt_fail 6 "locked by another command \\(pid $holder\\)" "a stale holder record: the kernel's holder pid" vzctl start 101
vzt_is "$(vzctl status 101)" "CTID 101 exist unmounted down" "status does not need the lock"
vzt_ok "--wait waits for the holder" vzctl start 101 --wait
t1=$(date +%s.%N)
# the holder keeps the lock 6 s from its start (timed from there: on a
# slow machine -- the TCG guest on a busy host -- the commands above take
# a good part of those 6 s)
vzt_true "it waited until the holder let go" awk -v a="$th" -v b="$t1" 'BEGIN { exit !(b - a >= 6) }'
wait $holder
hold "$lock" 2 & held_wait "$lock"
vzt_ok "exec while another command holds the lock" vzctl exec 101 true
wait

# a holder killed with SIGKILL: the kernel drops its lock
hold "$lock" 60 &
holder=$!
held_wait "$lock"
kill -9 $holder; wait $holder 2>/dev/null
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
