#!/bin/bash
# The test guest itself (tests/guest/run-in-guest): cgroup v2 only with
# every controller at the root, the host's tree read-only, writable
# places, exit status and output passed through, timeouts, shares.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzg_need_guest

share=$VZT_TMP/share
mkdir -p "$share"
script='
echo "kernel $(uname -r)"
echo "mounts: $(awk '\''$2 == "/sys/fs/cgroup" {print $3}'\'' /proc/mounts)"
echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "subtree: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "v1 hierarchies: $(awk '\''$1 == "cgroup" {n++} END {print n + 0}'\'' /proc/mounts)"
echo "cpus: $(nproc)"
echo "lo: $(cat /sys/class/net/lo/operstate)"
echo "var: $VZ_GUEST_TEST_VAR"
echo "other var: ${OTHER_GUEST_TEST_VAR:-unset}"
echo "pwd: $PWD"
touch /vz-guest-ro-probe 2>/dev/null && echo "root: writable" || echo "root: read-only"
for d in /tmp /run /var/tmp /root /etc; do touch "$d/.vzg" && echo "writable: $d"; done
echo data > "$VZ_GUEST_SHARE/from-guest"
for m in loop fuse veth bridge overlay nf_tables unix_diag inet_diag tcp_diag netlink_diag; do
	[ -d /sys/module/$m ] && echo "module: $m"
done
ip link add vzg0 type veth peer name vzg1 && echo "veth: ok"
test -c /dev/loop-control && echo "dev: loop-control"
test -c /dev/fuse && echo "dev: fuse"
test -c /dev/ptmx && echo "dev: ptmx"
echo to-stderr >&2
exit 7'
cd "$VZT_TMP"
VZ_GUEST_TEST_VAR="a b'c" OTHER_GUEST_TEST_VAR=x VZ_GUEST_SHARE=$share \
	vzg_run --share "$share" --timeout 120 -- bash -c "$script"
out=$(cat "$VZT_TMP/guest.out")
vzt_is "$vzg_rc" 7 "the command's exit status comes back"
vzt_like "$out" "^kernel 6\.1\." "Debian's 6.1 kernel"
vzt_like "$out" "^mounts: cgroup2$" "cgroup2 at /sys/fs/cgroup"
vzt_is "$(grep -c '^v1 hierarchies: 0$' <<< "$out")" 1 "no cgroup v1 hierarchy"
for c in cpuset cpu io memory pids; do
	vzt_like "$(grep '^subtree:' <<< "$out")" " $c( |$)" "controller $c enabled at the root"
done
vzt_like "$out" "^cpus: 2$" "two vCPUs"
vzt_like "$out" "^lo: (unknown|up)$" "lo is up"
vzt_like "$out" "^var: a b'c$" "VZ_* variables pass in, quoting kept"
vzt_like "$out" "^other var: unset$" "other variables do not"
vzt_like "$out" "^pwd: $VZT_TMP$" "runs in the caller's directory"
vzt_like "$out" "^root: read-only$" "the host's tree is read-only"
for d in /tmp /run /var/tmp /root /etc; do
	vzt_like "$out" "^writable: $d$" "$d writable in the guest"
done
vzt_true "nothing the guest wrote in /root reached the host" test ! -e /root/.vzg
vzt_is "$(cat "$share/from-guest" 2>/dev/null)" data "a --share directory is writable, at the same path"
for m in loop fuse veth bridge overlay nf_tables unix_diag inet_diag tcp_diag netlink_diag; do
	vzt_like "$out" "^module: $m$" "module $m loaded"
done
vzt_like "$out" "^veth: ok$" "veth pairs can be made"
vzt_like "$out" "^dev: loop-control$" "/dev/loop-control"
vzt_like "$out" "^dev: fuse$" "/dev/fuse"
vzt_like "$out" "^dev: ptmx$" "/dev/ptmx"
vzt_like "$(cat "$VZT_TMP/guest.err")" "^to-stderr$" "stderr comes back on stderr"
vzt_like "$(cat "$VZT_TMP/guest.err")" "kernel up [0-9.]+ s, ready to run [0-9.]+ s" "boot times reported"
vzt_diag "$(grep '^run-in-guest:' "$VZT_TMP/guest.err")"

# A command that does not end: the hard timeout ends the guest, status 125.
start=$(date +%s)
# (the tag on its kernel command line finds its qemu among other guests)
VZ_GUEST_APPEND="vz.tag=$VZT_TAG" "$VZG_RIG" --timeout 40 -- sleep 1000 > "$VZT_TMP/t.out" 2> "$VZT_TMP/t.err"
rc=$? took=$(( $(date +%s) - start ))
vzt_is "$rc" 125 "a command that outlives --timeout: status 125"
vzt_like "$(cat "$VZT_TMP/t.err")" "timed out after 40 s \(the command was running\)" "the timeout says so"
vzt_true "killed on time (took ${took} s)" test "$took" -lt 55
vzt_true "no qemu left behind" sh -c "! pgrep -f 'vz[.]tag=$VZT_TAG' >/dev/null"

vzt_fail 125 "no command given" "no command: 125 and why" "$VZG_RIG" --timeout 5 --
vzt_fail 125 "not a directory" "a --share that is not a directory" "$VZG_RIG" --share "$VZT_TMP/none" -- true
