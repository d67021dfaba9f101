#!/bin/bash
# What a CT sees: its own processes, mounts, hostname, network; /sys read
# only; no module loading; no host disks; its own cgroup tree.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_ct_up 101 --hostname iso1 || { vzt_failmsg "CT starts"; exit 1; }

ps_out=$(vzctl exec 101 ps -o pid,comm)
vzt_like "$ps_out" "^ *1 init" "PID 1 is the template's init"
vzt_is "$(vzctl exec 101 ps -o pid= | wc -l)" 2 "only init and ps are visible"
vzt_is "$(vzctl exec 101 hostname)" iso1 "own hostname"
vzt_is "$(hostname)" "$(uname -n)" "host hostname unchanged"
vzt_is "$(vzctl exec 101 ls /sys/class/net | tr '\n' ' ')" "lo " "only lo in its network namespace"
vzt_true "no host mount point in its mount table" sh -c "! vzctl exec 101 cat /proc/self/mountinfo | awk '{print \$5}' | grep -q '$VZT_TMP'"
vzt_true "host's /tmp content not visible" sh -c "! vzctl exec 101 ls /tmp | grep -q 'vzt\.'"
vzt_fail 1 "Read-only file system" "/sys is read-only" vzctl exec 101 mkdir /sys/kernel/vztest
vzt_like "$(vzctl exec 101 cat /proc/1/environ | tr '\0' '\n')" "^container=vz$" "container=vz in init's environment"
capbnd=$(vzctl exec 101 sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
vzt_true "CAP_SYS_MODULE not in the bounding set ($capbnd)" test $(( 0x$capbnd >> 16 & 1 )) -eq 0
vzt_true "CAP_SYS_RAWIO not in the bounding set" test $(( 0x$capbnd >> 17 & 1 )) -eq 0
vzt_true "CAP_SYS_ADMIN kept (system container)" test $(( 0x$capbnd >> 21 & 1 )) -eq 1
vzctl exec 101 sh -c 'echo garbage > /tmp/x.ko'
if [ -e /proc/modules ]; then
	vzt_fail 1 "not permitted" "loading a module fails" vzctl exec 101 insmod /tmp/x.ko
else
	vzt_skip "loading a module: this kernel has no module support (no /proc/modules)"
fi
rootdev=$(stat -c '%d' /)
maj=$((rootdev >> 8)) min=$((rootdev & 255))
vzt_fail 1 "not permitted" "mknod of the host's disk ($maj:$min) fails" vzctl exec 101 mknod /tmp/disk b $maj $min
vzt_fail 1 "not permitted" "mknod of /dev/mem fails" vzctl exec 101 mknod /tmp/mem c 1 1
vzt_ok "/dev/null works" vzctl exec 101 sh -c 'echo x > /dev/null'
# cgroup v2 (unified): one tree; v1: the memory hierarchy stands for all
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cgv="" cg_re="^0::/$"; else cgv=memory/ cg_re="memory:/$"; fi
vzt_like "$(vzctl exec 101 cat /proc/self/cgroup)" "$cg_re" "cgroup namespace: its group is the root"
vzt_ok "its cgroup tree is writable (mkdir)" vzctl exec 101 mkdir /sys/fs/cgroup/${cgv}sub
vzt_true "the sub-cgroup is below the CT's group on the host" test -d "/sys/fs/cgroup/$cgv$CGROUP_PARENT/101/sub"
vzt_ok "rmdir it" vzctl exec 101 rmdir /sys/fs/cgroup/${cgv}sub
# seen from the host: init and an exec'd process are in the CT's group in
# every hierarchy (init is born in the cgroup2 one and joins the v1 ones
# itself; exec'd processes likewise)
init_pid=$(sed -n 's/^INIT_PID=//p' "$VZT_TMP/lock/101.run")
outside() { grep -v ":/$CGROUP_PARENT/101\$" "/proc/$1/cgroup"; }
vzt_true "host view: init has cgroups ($(wc -l < /proc/$init_pid/cgroup) hierarchies)" grep -q . "/proc/$init_pid/cgroup"
vzt_is "$(outside "$init_pid")" "" "host view: init is in the CT's group in every hierarchy"
vzctl exec 101 sh -c 'sleep 30 </dev/null >/dev/null 2>&1 &'
sleep_pid=$(pgrep -f '^sleep 30$' | while read -r p; do
	[ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$init_pid/ns/pid)" ] && echo "$p"; done | head -1)
vzt_true "an exec'd background process runs (host pid ${sleep_pid:-none})" test -n "$sleep_pid"
vzt_is "$(outside "${sleep_pid:-self}")" "" "host view: an exec'd process is in the CT's group in every hierarchy"
vzt_like "$(vzctl exec 101 mount)" "on /run type tmpfs" "/run is a tmpfs"
vzt_like "$(vzctl exec 101 mount)" "devpts on /dev/pts type devpts" "own devpts"
vzt_like "$(vzctl exec 101 mount)" "on /dev/shm type tmpfs" "/dev/shm"
vzt_fail 1 "" "sysrq/kernel knobs read-only (/proc/sys/kernel)" vzctl exec 101 sh -c 'echo 1 > /proc/sys/kernel/panic'
vzt_ok "per-namespace net sysctls writable" vzctl exec 101 sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
vzt_is "$(cat /proc/sys/net/ipv4/ip_forward)" "$(ip netns exec 2>/dev/null; cat /proc/sys/net/ipv4/ip_forward)" "host ip_forward untouched"
vzt_done
