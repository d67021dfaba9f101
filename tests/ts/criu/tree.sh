#!/bin/bash
# libvz's CRIU path (freeze, dump, restore, stats) on a namespaced busybox
# tree laid out like a vz container: memory patterns of 64 and 256 MB and a
# unix socket + pipe conversation survive suspend/resume with the same
# PIDs; --leave-running; a refused dump leaves the tree running and
# thawed; a failing restore keeps the dump; a too old criu is named.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/ts/criu/tree.inc"
vzt_init
ct_tree_need
drive=$VZ_BUILD/bench/checkpoint-drive

root=$VZT_TMP/ct
rel=$CGROUP_PARENT/t1
freezer=$(ct_freezer "$rel")
vzt_ok "busybox root" ct_rootfs "$root"
vzt_ok "static helper builds" ct_helper "$root/vzt-helper"
cat > "$root/init" <<'EOF'
#!/bin/sh
/vzt-helper mem 64 /tmp/mem64 &
/vzt-helper mem 256 /tmp/mem256 &
/vzt-helper chat /tmp/chat &
exec sleep 1000000
EOF
chmod 755 "$root/init"
init=$(ct_tree_start "$root" "$rel")
vzt_like "$init" '^[0-9]+$' "tree starts" || exit 1
vzt_on_exit "kill -9 \$(cat $freezer/cgroup.procs) 2>/dev/null"
vzt_true "helpers running" ct_wait "$root/tmp/mem256" 'pass=[0-9]+ ok' 200
ct_wait "$root/tmp/mem64" 'pass=[0-9]+ ok' 100
ct_wait "$root/tmp/chat" 'count=[0-9]+ ok'
m64=$(cut -d' ' -f1 "$root/tmp/mem64") m256=$(cut -d' ' -f1 "$root/tmp/mem256")
chat=$(cut -d' ' -f1 "$root/tmp/chat")

# --- dump with --leave-running: the tree goes on, nothing left frozen
d0=$VZT_TMP/dump-live
mkdir "$d0"
vzt_ok "dump --leave-running" "$drive" dump "$init" "$d0" "$freezer" --leave-running
vzt_is "$(cat "$freezer/freezer.state" 2>/dev/null || echo THAWED)" THAWED "thawed after --leave-running"
vzt_true "same init still running" kill -0 "$init"
p=$(sed 's/.*pass=\([0-9]*\).*/\1/' "$root/tmp/mem64")
vzt_true "memory checker keeps going" ct_wait "$root/tmp/mem64" "pass=$((p + 1)) ok"

# --- suspend: dump and kill
d1=$VZT_TMP/dump1
mkdir "$d1"
c0=$(sed 's/.*count=\([0-9]*\).*/\1/' "$root/tmp/chat")
out=$("$drive" dump "$init" "$d1" "$freezer" 2>&1)
vzt_is "$?" 0 "dump" || vzt_diag "$out"
vzt_like "$out" '"pages_written":[0-9]{5,}' "stats: pages written (>= 320 MB of pattern)"
vzt_like "$out" '"freeze_us":[0-9]+' "stats: freeze time"
vzt_is "$(ct_tree_pids "$rel" | wc -l)" 0 "no process left after dump"
vzt_is "$(cat "$freezer/freezer.state" 2>/dev/null || echo THAWED)" THAWED "freezer cgroup thawed"
s0=$(cat "$root/tmp/mem256")

# --- a restore that fails keeps the dump and leaves nothing behind
out=$("$drive" restore "$d1" "$VZT_TMP/no-such-root" "$rel" "$freezer" 2>&1)
rc=$?
vzt_is "$rc" 8 "restore into a missing root fails (exit 8)"
vzt_like "$out" '^checkpoint-drive: criu restore failed: .+ \(log: ' "one line with criu's reason: $out"
vzt_is "$(ct_tree_pids "$rel" | wc -l)" 0 "nothing half-started"
vzt_true "dump kept" test -s "$d1/pstree.img"

# --- resume
out=$("$drive" restore "$d1" "$root" "$rel" "$freezer" 2>&1)
vzt_is "$?" 0 "restore" || vzt_diag "$out" "$(grep Error "$d1/restore.log" | head -5)"
vzt_like "$out" '"criu_restore":\{"forking_us":[0-9]+,"restore_us":[0-9]+' "restore stats"
vzt_true "64 MB pattern checked again after resume" ct_wait "$root/tmp/mem64" "pass=[0-9]+ ok" &&
	ct_wait "$root/tmp/mem256" "pass=$(( $(sed 's/.*pass=\([0-9]*\).*/\1/' <<< "$s0") + 2 )) ok" 100
vzt_like "$(cat "$root/tmp/mem256")" "^$m256 pass=[0-9]+ ok" "256 MB pattern intact, same PID inside"
vzt_like "$(cat "$root/tmp/mem64")" "^$m64 pass=[0-9]+ ok" "64 MB pattern intact, same PID inside"
ct_grows "$root/tmp/chat" count $((c0 + 20))
c1=$(sed 's/.*count=\([0-9]*\).*/\1/' "$root/tmp/chat")
vzt_true "unix socket + pipe conversation goes on ($c0 -> $c1)" test "$c1" -gt "$((c0 + 10))"
vzt_like "$(cat "$root/tmp/chat")" "^$chat count=[0-9]+ ok" "conversation: same PID, no error"
vzt_is "$(cat "$freezer/freezer.state" 2>/dev/null || echo THAWED)" THAWED "restored tree not frozen"
init=$(cat "$d1/restore.pid")
vzt_is "$(wc -l < <(ct_tree_pids "$rel"))" 5 "all 5 tasks back in the CT's cgroup"

# --- a dump CRIU refuses: a unix socket to a listener outside the tree
"$root/vzt-helper" listen "$root/tmp/ext.sock" & lpid=$!
vzt_on_exit "kill $lpid"
for i in $(seq 50); do [ -S "$root/tmp/ext.sock" ] && break; sleep 0.05; done
# restart the tree with one more helper that connects to it
d2=$VZT_TMP/dump2
mkdir "$d2"
kill -9 $(ct_tree_pids "$rel") 2>/dev/null
sleep 0.2
sed -i 's|^exec sleep|/vzt-helper ext /tmp/ext.sock /tmp/ext \&\nexec sleep|' "$root/init"
rm -f "$root/tmp/chat"
init=$(ct_tree_start "$root" "$rel")
vzt_true "tree with an external unix socket" ct_wait "$root/tmp/ext" 'ok'
ct_wait "$root/tmp/chat" 'count=[0-9]+ ok'
before=$(ct_tree_pids "$rel" | sort | tr '\n' ' ')
out=$("$drive" dump "$init" "$d2" "$freezer" 2>&1)
vzt_is "$?" 8 "refused dump fails (exit 8)"
vzt_like "$out" '^checkpoint-drive: criu dump failed: .*(unix|socket|sk).*\(log: [^)]*\)$' \
	"refused dump: criu's reason in one line: $out"
vzt_is "$(cat "$freezer/freezer.state")" THAWED "refused dump: nothing left frozen"
vzt_is "$(ct_tree_pids "$rel" | sort | tr '\n' ' ')" "$before" "refused dump: same tasks still there"
c0=$(sed 's/.*count=\([0-9]*\).*/\1/' "$root/tmp/chat")
vzt_true "refused dump: the tree keeps running" ct_grows "$root/tmp/chat" count $((c0 + 10))

# --- criu missing or too old
printf '#!/bin/sh\necho "Version: 4.1.1"\n' > "$VZT_TMP/old-criu"
chmod 755 "$VZT_TMP/old-criu"
vzt_fail 7 'criu 4\.1\.1 at .*old-criu is too old \(need 4\.2 or newer\); run scripts/install-deps' \
	"criu too old: named with its version" env VZ_CRIU_CACHE="$VZT_TMP/criu-cache" VZ_CRIU="$VZT_TMP/old-criu" "$drive" dump "$init" "$d2"
vzt_fail 7 'criu not found at .*; run scripts/install-deps' \
	"criu missing: named" env VZ_CRIU_CACHE="$VZT_TMP/criu-cache" VZ_CRIU="$VZT_TMP/none" "$drive" dump "$init" "$d2"
vzt_done
