#!/bin/bash
# An established TCP connection from outside the CT, across a veth pair,
# survives dump and restore: the host side pre-creates a new pair and
# criu moves its CT end in (--external netdev[eth0]:NAME), the way vzctl
# resume will once the CT has network devices.  The "host" end lives in a
# network namespace of its own, so the host's network is not touched.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/ts/criu/tree.inc"
vzt_init
ct_tree_need
vzt_need_prog ip nsenter
drive=$VZ_BUILD/bench/checkpoint-drive

root=$VZT_TMP/ct
rel=$CGROUP_PARENT/n1
freezer=$(ct_freezer "$rel")
hostns=${VZT_TAG}h
vzt_ok "busybox root" ct_rootfs "$root"
vzt_ok "static helper builds" ct_helper "$root/vzt-helper"
cat > "$root/init" <<'EOF'
#!/bin/sh
ip link set lo up
for i in $(seq 50); do ip link show eth0 >/dev/null 2>&1 && break; sleep 0.1; done
ip addr add 198.51.100.2/24 dev eth0
ip link set eth0 up
/vzt-helper serve 7008 </dev/null >/dev/null 2>&1 &
exec sleep 1000000
EOF
chmod 755 "$root/init"
init=$(ct_tree_start "$root" "$rel")
vzt_like "$init" '^[0-9]+$' "tree starts" || exit 1
vzt_on_exit "kill -9 \$(cat $freezer/cgroup.procs) 2>/dev/null"

# host side: its own netns, one end of the pair there, the other in the CT
ip netns add "$hostns" || vzt_skip_all "cannot create a network namespace"
ip link add "${VZT_TAG}a" type veth peer name "${VZT_TAG}b" ||
	vzt_skip_all "no veth support (kernel module veth)"
ip link set "${VZT_TAG}b" netns "/proc/$init/ns/net"
nsenter -t "$init" -n ip link set "${VZT_TAG}b" name eth0
ip link set "${VZT_TAG}a" netns "$hostns"
ip -n "$hostns" addr add 198.51.100.1/24 dev "${VZT_TAG}a"
ip -n "$hostns" link set "${VZT_TAG}a" up
ip -n "$hostns" link set lo up
ip netns exec "$hostns" "$root/vzt-helper" client 198.51.100.2 7008 "$VZT_TMP/client" &
cpid=$!
vzt_on_exit "kill $cpid"
vzt_true "client connected across the veth" ct_wait "$VZT_TMP/client" 'count=[0-9]+ ok' 100

d=$VZT_TMP/images
mkdir "$d"
out=$("$drive" dump "$init" "$d" "$freezer" 2>&1)
vzt_is "$?" 0 "dump with an external veth" || vzt_diag "$out"
c0=$(sed 's/.*count=\([0-9]*\).*/\1/' "$VZT_TMP/client")
sleep 0.3
vzt_is "$(sed 's/.*count=\([0-9]*\).*/\1/' "$VZT_TMP/client")" "$c0" "client stalls while the CT is gone"

# a new pair: host end configured first, CT end handed to criu
ip link add "${VZT_TAG}c" type veth peer name "${VZT_TAG}d"
ip link set "${VZT_TAG}d" netns "$hostns"
ip -n "$hostns" addr add 198.51.100.1/24 dev "${VZT_TAG}d"
ip -n "$hostns" link set "${VZT_TAG}d" up
out=$("$drive" restore "$d" "$root" "$rel" "$freezer" --external "netdev[eth0]:${VZT_TAG}c" 2>&1)
vzt_is "$?" 0 "restore moving the pre-created veth in" || vzt_diag "$out"
new=$(cat "$d/restore.pid")
vzt_like "$(nsenter -t "$new" -n ip -o addr show eth0)" '198\.51\.100\.2/24' "CT's eth0 back with its address"
vzt_true "the same TCP connection goes on" ct_grows "$VZT_TMP/client" count $((c0 + 20))
vzt_like "$(cat "$VZT_TMP/client")" 'ok$' "client saw no error"
vzt_true "client process is the same" kill -0 $cpid
vzt_done
