#!/bin/bash
# A host directory bound into a running CT (as lxcfs files or shared
# directories are) is saved as a reference: suspend names it, resume binds
# the same host directory again, a process working in it goes on; resume
# refuses clearly when the host directory is gone.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/ts/criu/tree.inc"
vzt_init
ct_tree_need
ct=102
priv=$VZT_TMP/private/$ct
root=$VZT_TMP/root/$ct
hostdir=$VZT_TMP/host-share

vzt_ok "create" vzctl create $ct --ostemplate busybox || exit 1
vzt_ok "static helper builds" ct_helper "$priv/vzt-helper" || exit 1
mkdir -p "$priv/mnt/host" "$hostdir"
echo "from the host" > "$hostdir/data"
cat > "$priv/etc/rc.d/S50vzt" <<'EOF'
#!/bin/sh
[ "$1" = start ] || exit 0
(
	while [ ! -e /mnt/host/ready ]; do sleep 0.1; done
	cd /mnt/host && echo in > /tmp/inhost && exec sleep 1000000
) </dev/null >/dev/null 2>&1 &
exit 0
EOF
chmod 755 "$priv/etc/rc.d/S50vzt"
vzt_ok "start" vzctl start $ct || exit 1
init=$(sed -n 's/^INIT_PID=//p' "$VZT_TMP/lock/$ct.run")
touch "$hostdir/ready"
vzt_ok "bind a host directory into the running CT" \
	"$priv/vzt-helper" inject "$hostdir" "$init" /mnt/host || exit 1
vzt_true "a process works in it" ct_wait "$root/tmp/inhost" in 50

cwd_in_host() {
	vzctl exec $ct sh -c 'for p in /proc/[0-9]*; do [ "$(readlink $p/cwd)" = /mnt/host ] && echo yes; done' | head -1
}
out=$(vzctl -v suspend $ct 2>&1)
vzt_is "$?" 0 "suspend" || vzt_diag "$out"
vzt_like "$out" "/mnt/host is the host's $hostdir \(saved as a reference\)" "-v names the external mount"
vzt_like "$(cat "$VZT_TMP/dump/$ct/vz-dump.conf")" "EXT_MNT0_HOST=\"$hostdir\"" "recorded in the dump"

# the host directory must be there to resume
mv "$hostdir" "$hostdir.away"
vzt_fail 4 "resume CT $ct: $hostdir, bound at /mnt/host inside the CT when it was dumped, is missing on this host" \
	"resume without the host directory is refused" vzctl resume $ct
vzt_is "$(vzctl status $ct)" "CTID $ct exist mounted suspended" "still suspended"
mv "$hostdir.away" "$hostdir"

out=$(vzctl resume $ct 2>&1)
vzt_is "$?" 0 "resume" || vzt_diag "$out"
vzt_is "$(vzctl exec $ct cat /mnt/host/data)" "from the host" "the host directory is bound again"
echo "written after resume" > "$hostdir/later"
vzt_is "$(vzctl exec $ct cat /mnt/host/later)" "written after resume" "it is the host's directory, live"
vzt_is "$(cwd_in_host)" yes "the process still works in it"
vzt_ok "stop" vzctl stop $ct
vzt_done
