#!/bin/bash
# vzctl suspend / resume of a CT with a routed address: a TCP server
# inside, a client on the host side with one connection open exchanging a
# counter: suspend, resume, the same connection goes on; the host side
# (venet host end, route) is back; nothing of the CT's network is left
# on the host while it is suspended.  The "host" is a network namespace
# of this test (unshare -n): the machine's own network is never touched.
if [ -z "${VZT_IN_NETNS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "ok 1 # SKIP needs root"; echo "1..1"; exit 0; }
	exec env VZT_IN_NETNS=1 unshare -n bash "$0" "$@"
fi
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/ts/criu/tree.inc"
vzt_init
ct_tree_need
vzt_need_prog ip
export VZ_DISTSDIR=$VZ_SRC/scripts/dists
ct=103
priv=$VZT_TMP/private/$ct
root=$VZT_TMP/root/$ct
ip link set lo up
ip addr add 192.0.2.1/32 dev lo

vzt_ok "create" vzctl create $ct --ostemplate busybox || exit 1
vzt_ok "static helper builds" ct_helper "$priv/vzt-helper" || exit 1
vzt_ok "routed address" vzctl set $ct --ipadd 198.51.100.13 --save
cat > "$priv/etc/rc.d/S50vzt" <<'EOF'
#!/bin/sh
[ "$1" = start ] && /vzt-helper serve 7010 </dev/null >/dev/null 2>&1 &
exit 0
EOF
chmod 755 "$priv/etc/rc.d/S50vzt"
vzt_ok "start" vzctl start $ct || exit 1
for i in $(seq 50); do
	"$priv/vzt-helper" client 198.51.100.13 7010 "$VZT_TMP/client" & cpid=$!
	sleep 0.2
	kill -0 $cpid 2>/dev/null && break
done
vzt_on_exit "kill $cpid"
vzt_true "host-side client connected" ct_wait "$VZT_TMP/client" 'count=[0-9]+ ok' 100
host_side() { { ip -o link show; ip route show; } | grep -E "venet$ct|198\.51\.100\.13"; }
vzt_like "$(host_side)" "venet$ct" "host end before suspend"

out=$(vzctl -v suspend $ct 2>&1)
vzt_is "$?" 0 "suspend" || vzt_diag "$out"
vzt_is "$(host_side)" "" "nothing of the CT's network left on the host while suspended"
c0=$(sed 's/.*count=\([0-9]*\).*/\1/' "$VZT_TMP/client")

out=$(vzctl -v resume $ct 2>&1)
vzt_is "$?" 0 "resume" || vzt_diag "$out"
vzt_like "$(host_side)" "venet$ct" "host end back"
vzt_like "$(ip route show 198.51.100.13)" "dev venet$ct" "host route to the CT back"
vzt_like "$(vzctl exec $ct ip -o addr show dev venet0)" '198\.51\.100\.13/32' "venet0 inside, with its address"
vzt_true "the same TCP connection from the host goes on" ct_grows "$VZT_TMP/client" count $((c0 + 20))
vzt_like "$(cat "$VZT_TMP/client")" 'ok$' "client saw no error"
vzt_true "client process is the same" kill -0 $cpid
vzt_ok "CT reaches the host" vzctl exec $ct ping -c1 -W2 192.0.2.1

kill $cpid
vzt_ok "stop" vzctl stop $ct
vzt_is "$(host_side)" "" "nothing left after stop"
vzt_done
