#!/bin/bash
# vzctl suspend / resume of a busybox CT: memory patterns (64 and 256 MB)
# and a unix socket + pipe conversation come back with the same PIDs;
# --leave-running; --dumpfile survives the CT's running state; stop and
# destroy discard the dump; a refused dump leaves the CT running and
# thawed; a failed resume keeps the dump and the CT suspended; a missing
# or too old criu is named.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/ts/criu/tree.inc"
vzt_init
ct_tree_need
ct=101
priv=$VZT_TMP/private/$ct
root=$VZT_TMP/root/$ct
dump=$VZT_TMP/dump/$ct

vzt_ok "create" vzctl create $ct --ostemplate busybox || exit 1
vzt_ok "static helper builds" ct_helper "$priv/vzt-helper" || exit 1
cat > "$priv/etc/rc.d/S50vzt" <<'EOF'
#!/bin/sh
[ "$1" = start ] || exit 0
for m in 64 256; do /vzt-helper mem $m /tmp/mem$m </dev/null >/dev/null 2>&1 & done
/vzt-helper chat /tmp/chat </dev/null >/dev/null 2>&1 &
/vzt-helper tcp 7007 /tmp/tcp </dev/null >/dev/null 2>&1 &
/vzt-helper misc /tmp/misc </dev/null >/dev/null 2>&1 &
/vzt-helper pending 7009 /tmp/pending </dev/null >/dev/null 2>&1 &
mkdir -p /mnt/t && mount -t tmpfs -o size=1m vzt /mnt/t && echo kept > /mnt/t/f
[ -S /tmp/ext.sock ] && /vzt-helper ext /tmp/ext.sock /tmp/ext </dev/null >/dev/null 2>&1 &
exit 0
EOF
chmod 755 "$priv/etc/rc.d/S50vzt"
vzt_ok "start" vzctl start $ct || exit 1
freezer=$(ct_freezer "$CGROUP_PARENT/$ct")
vzt_true "workload up" ct_wait "$root/tmp/mem256" 'pass=[0-9]+ ok' 200
ct_wait "$root/tmp/mem64" 'pass=[0-9]+ ok' 100
ct_wait "$root/tmp/chat" 'count=[0-9]+ ok'
vzt_true "TCP conversation up" ct_wait "$root/tmp/tcp" 'count=[0-9]+ ok'
vzt_true "locks, timer and pty helper up" ct_wait "$root/tmp/misc" 'ticks=[0-9]+ pty=[0-9]+ ok'
vzt_true "a connection waits in a listener's queue" ct_wait "$root/tmp/pending" 'pending=1 ok'

field() { sed "s/.*$2=\([0-9]*\).*/\1/" "$root/tmp/$1"; }
grows() { ct_grows "$root/tmp/$1" "$2" "$3"; }
pids() { vzctl exec $ct ps -o pid,args | awk '/vzt-helper/ && !/awk/ {print $1}' | sort -n | tr '\n' ' '; }
cgroup_left() { local d; for d in $(vzt_cgroup_roots); do [ -d "$d/$CGROUP_PARENT/$ct" ] && echo "$d"; done; }

# --- suspend and resume
before=$(pids)
locks0=$(vzctl exec $ct cat /proc/locks | awk '{print $2, $3, $4, $5}' | sort)
m64=$(cut -d' ' -f1 "$root/tmp/mem64") m256=$(cut -d' ' -f1 "$root/tmp/mem256")
out=$(vzctl -v suspend $ct 2>&1)
vzt_is "$?" 0 "suspend" || vzt_diag "$out"
vzt_like "$out" 'freeze [0-9.]+ ms .*frozen [0-9.]+ ms' "-v: freeze times"
vzt_like "$out" 'memory written [0-9.]+ ms \((3[2-9][0-9]|[4-9][0-9][0-9])\.[0-9] MiB' "-v: memory written (>= 320 MiB)"
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted suspended" "status: suspended"
vzt_is "$(cgroup_left)" "" "suspended CT holds no cgroup"
vzt_true "dump in DUMPDIR/CTID" test -f "$dump/dump.done" -a -f "$dump/pstree.img"
vzt_fail 5 'suspended; resume it' "start of a suspended CT is refused" vzctl start $ct
c0=$(field chat count) p0=$(field mem256 pass) t0=$(field tcp count)
k0=$(field misc ticks) y0=$(field misc pty)
out=$(vzctl resume $ct --stats 2>&1)
vzt_is "$?" 0 "resume" || vzt_diag "$out"
vzt_like "$out" '^\{"op":"resume",.*"restore_us":[0-9]+,.*"criu_restore":\{"forking_us":[0-9]+' "--stats: JSON"
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted running" "status: running"
vzt_is "$(pids)" "$before" "same PIDs inside after resume"
vzt_true "256 MB pattern checked again" grows mem256 pass $((p0 + 1))
vzt_like "$(cat "$root/tmp/mem256")" "^$m256 pass=[0-9]+ ok" "256 MB pattern intact, same PID"
vzt_true "64 MB pattern checked again" ct_wait "$root/tmp/mem64" "pass=[0-9]+ ok"
vzt_like "$(cat "$root/tmp/mem64")" "^$m64 pass=[0-9]+ ok" "64 MB pattern intact, same PID"
vzt_true "unix socket + pipe conversation goes on" grows chat count $((c0 + 20))
vzt_like "$(cat "$root/tmp/chat")" 'ok$' "conversation: no error"
vzt_true "established TCP connection goes on" grows tcp count $((t0 + 20))
vzt_like "$(cat "$root/tmp/tcp")" 'ok$' "TCP conversation: no error"
vzt_true "periodic timerfd keeps ticking" grows misc ticks $((k0 + 10)) ||
	vzt_diag "$(cat "$root/tmp/misc")" \
		"a periodic timer that expired during the freeze is disarmed by a criu" \
		"without scripts/install-deps.d/criu-timerfd.patch (scripts/install-deps)"
vzt_true "pty keeps carrying the counter" grows misc pty $((y0 + 10))
vzt_like "$(cat "$root/tmp/misc")" 'ok$' "timer and pty: no error"
vzt_like "$locks0" 'FLOCK ADVISORY WRITE' "a flock was held before"
vzt_is "$(vzctl exec $ct cat /proc/locks | awk '{print $2, $3, $4, $5}' | sort)" "$locks0" \
	"the same flock and POSIX lock held after resume"
vzt_is "$(vzctl exec $ct cat /mnt/t/f)" kept "the CT's own tmpfs mount is back with its file"
vzt_is "$(cat "$freezer/freezer.state" 2>/dev/null || echo THAWED)" THAWED "resumed CT not frozen"
vzt_true "dump consumed" test ! -e "$dump"
in_all_cgroups() {
	local run=$VZT_TMP/lock/$ct.run init f files
	init=$(sed -n 's/^INIT_PID=//p' "$run")
	files=$(sed -n 's/^CGROUP_PROCS="\(.*\)"/\1/p' "$run")
	[ -n "$init" ] && [ -n "$files" ] || { echo "no runtime record"; return 1; }
	for f in $files; do
		grep -qx "$init" "$f" || { echo "init $init not in $f"; return 1; }
	done
}
vzt_ok "restored init is in every cgroup of the CT" in_all_cgroups
vzt_ok "exec works after resume" vzctl exec $ct true

# --- --leave-running
live=$VZT_TMP/live.dump
out=$(vzctl chkpnt $ct --leave-running --dumpfile "$live" --stats 2>&1)
vzt_is "$?" 0 "chkpnt --leave-running --dumpfile" || vzt_diag "$out"
vzt_like "$out" '"criu_dump":\{"freezing_us":[0-9]+,"frozen_us":[0-9]+,"memdump_us":[0-9]+,"memwrite_us":[0-9]+' "--stats: criu dump stats"
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted running" "still running"
vzt_is "$(cat "$freezer/freezer.state")" THAWED "thawed after --leave-running"
vzt_is "$(pids)" "$before" "same processes"
vzt_fail 9 'not empty' "--dumpfile into a non-empty directory is refused" \
	vzctl suspend $ct --dumpfile "$live"

# --- --dumpfile: resume after the running state is gone
file=$VZT_TMP/backup/$ct.dump
vzt_ok "suspend --dumpfile" vzctl suspend $ct --dumpfile "$file"
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted suspended" "suspended to a dumpfile"
vzt_ok "stop discards the suspended state" vzctl stop $ct
vzt_is "$(vzctl status $ct)" "CTID $ct exist unmounted down" "down and unmounted"
vzt_true "the user's dumpfile stays" test -f "$file/pstree.img"
vzt_fail 5 'not suspended' "resume without a dump is refused" vzctl resume $ct
vzt_ok "resume --dumpfile" vzctl resume $ct --dumpfile "$file"
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted running" "running from the dumpfile"
vzt_is "$(pids)" "$before" "same PIDs from the dumpfile"
vzt_ok "create another CT" vzctl create 102 --ostemplate busybox
vzt_fail 2 "resume CT 102: the dump in $file is of CT $ct" \
	"another CT's dump is refused" vzctl resume 102 --dumpfile "$file"
vzt_ok "destroy it" vzctl destroy 102

# --- a TERM or ^C in the middle waits until the CT is consistent
# blocked PID: waits until PID, once it is vzctl, blocks SIGTERM (it is in
# the critical part).  Before the exec it is a copy of this shell, which
# blocks signals around fork and would run this test's traps.
blocked() {
	local i m
	for i in $(seq 1000); do
		m=""
		[ "$(cat /proc/$1/comm 2>/dev/null)" = vzctl ] &&
			m=$(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$1/status 2>/dev/null)
		[ -n "$m" ] && [ $(( 0x$m & (1 << 14) )) -ne 0 ] && return 0
		sleep 0.005
	done
	return 1
}
vzctl suspend $ct >/dev/null 2>&1 & vp=$!
vzt_true "suspend reaches its critical part" blocked $vp
kill -TERM $vp; kill -INT $vp
wait $vp
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted suspended" "TERM during suspend: suspended all the same"
vzt_is "$(cgroup_left)" "" "TERM during suspend: no cgroup (nothing frozen) left"
vzctl resume $ct >/dev/null 2>&1 & vp=$!
vzt_true "resume reaches its critical part" blocked $vp
kill -TERM $vp
wait $vp
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted running" "TERM during resume: running all the same"
vzt_is "$(pids)" "$before" "TERM during resume: same PIDs"

# --- stop of a suspended CT discards its dump
vzt_ok "suspend again" vzctl suspend $ct
vzt_ok "stop the suspended CT" vzctl stop $ct
vzt_true "dump discarded" test ! -e "$dump"
vzt_is "$(vzctl status $ct)" "CTID $ct exist unmounted down" "down after stop"

# --- a resume that fails keeps the dump, the CT stays suspended
vzt_ok "start" vzctl start $ct
ct_wait "$root/tmp/chat" 'count=[0-9]+ ok'
ct_wait "$root/tmp/tcp" 'count=[0-9]+ ok'
vzt_ok "suspend" vzctl suspend $ct
mv "$dump/pstree.img" "$VZT_TMP/pstree.img"
printf 'garbage' > "$dump/pstree.img"
out=$(vzctl resume $ct 2>&1)
vzt_is "$?" 8 "resume from a broken dump fails (exit 8)"
vzt_like "$out" "^vzctl: resume CT $ct: criu restore failed: .*; the dump is kept, the CT stays suspended$" \
	"one line: criu's reason, dump kept: $(head -1 <<< "$out")"
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted suspended" "still suspended"
vzt_is "$(cgroup_left)" "" "nothing half-started (no cgroup)"
mv "$VZT_TMP/pstree.img" "$dump/pstree.img"
vzt_ok "resume once the dump is whole" vzctl resume $ct

# --- criu missing or too old
printf '#!/bin/sh\necho "Version: 3.17"\n' > "$VZT_TMP/old-criu"
chmod 755 "$VZT_TMP/old-criu"
vzt_fail 7 "suspend CT $ct: criu 3\.17\.0 at .*old-criu is too old \(need 4\.2 or newer\); run scripts/install-deps" \
	"criu too old" env VZ_CRIU_CACHE="$VZT_TMP/criu-cache" VZ_CRIU="$VZT_TMP/old-criu" vzctl suspend $ct
vzt_fail 7 "criu not found .*run scripts/install-deps" "criu missing" \
	env VZ_CRIU_CACHE="$VZT_TMP/criu-cache" VZ_CRIU="$VZT_TMP/no-criu" vzctl suspend $ct
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted running" "still running"

# --- a dump CRIU refuses half-way: a unix socket to a host listener
vzt_ok "stop" vzctl stop $ct
vzt_ok "mount" vzctl mount $ct
"$priv/vzt-helper" listen "$root/tmp/ext.sock" & lpid=$!
vzt_on_exit "kill $lpid"
for i in $(seq 50); do [ -S "$root/tmp/ext.sock" ] && break; sleep 0.05; done
vzt_ok "start with an external socket" vzctl start $ct
vzt_true "connected outside" ct_wait "$root/tmp/ext" ok
ct_wait "$root/tmp/chat" 'count=[0-9]+ ok'
before=$(pids)
out=$(vzctl suspend $ct 2>&1)
vzt_is "$?" 8 "refused dump fails (exit 8)"
vzt_like "$out" "^vzctl: suspend CT $ct: criu dump failed: .*[Ss]ocket.*\(log: [^)]*\); the CT keeps running$" \
	"one line with criu's reason: $(head -1 <<< "$out")"
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted running" "still running"
vzt_is "$(cat "$freezer/freezer.state")" THAWED "no frozen cgroup left"
vzt_is "$(pids)" "$before" "same processes"
c0=$(field chat count)
vzt_true "the CT goes on" grows chat count $((c0 + 10))
vzt_true "no dump.done" test ! -e "$dump/dump.done"
vzt_true "no partial images kept" test -z "$(ls "$dump" | grep '\.img$')"

# --- a CT left frozen (a suspend killed with SIGKILL) can still be stopped
kill $lpid; wait $lpid 2>/dev/null  # its bound socket pins the CT's root
echo FROZEN > "$freezer/freezer.state"
vzt_ok "stop of a frozen CT" timeout 30 vzctl stop $ct --timeout 5

# --- destroy removes the dump
rm -f "$root/tmp/ext.sock" "$priv/tmp/ext.sock"
vzt_ok "start" vzctl start $ct
ct_wait "$root/tmp/chat" 'count=[0-9]+ ok'
vzt_ok "suspend" vzctl suspend $ct
vzt_ok "destroy a suspended CT" vzctl destroy $ct
vzt_true "its dump is gone" test ! -e "$dump"
vzt_done
