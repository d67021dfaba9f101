#!/bin/bash
# Inside a CT, free, /proc/meminfo, /proc/cpuinfo and uptime show the
# CT's own limits when lxcfs runs (scripts/vz-lxcfs); without it, the
# host's.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
vzt_need_prog lxcfs
[ -c /dev/fuse ] || vzt_skip_all "no /dev/fuse (FUSE module not loaded)"
lx=$VZT_TMP/lxcfs
echo "LXCFS_DIR=\"$lx\"" >> "$VZ_CONFDIR/vz.conf"

vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
vzt_ok "RAM 256M, swap 512M, 1 CPU" vzctl set 101 --ram 256M --swap 512M --cpus 1 --save
host_kb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
vzt_is "$(vzctl exec 101 awk '/^MemTotal/ {print $2}' /proc/meminfo)" "$host_kb" \
	"without lxcfs: the host's MemTotal inside"
out=$(vz-lxcfs status); rc=$?
vzt_is "$rc" 3 "vz-lxcfs status: not running ($out)"

vzt_ok "vz-lxcfs start" vz-lxcfs start
vzt_on_exit "vz-lxcfs stop '$lx'"
vzt_ok "vz-lxcfs status" vz-lxcfs status
vzt_ok "restart the CT" vzctl restart 101 --fast
vzt_is "$(vzctl exec 101 awk '/^MemTotal/ {print $2}' /proc/meminfo)" $((256 * 1024)) \
	"with lxcfs: MemTotal = RAM"
# lxcfs shows at most the host's swap
hs=$(awk '/^SwapTotal/ {print $2}' /proc/meminfo)
want=$(( hs < 512 * 1024 ? hs : 512 * 1024 ))
vzt_is "$(vzctl exec 101 awk '/^SwapTotal/ {print $2}' /proc/meminfo)" "$want" \
	"SwapTotal = swap (at most the host's)"
# busybox free asks sysinfo(2), which lxcfs cannot cover; procps free and
# top read /proc/meminfo
vzt_like "$(vzctl exec 101 head -1 /proc/meminfo)" "^MemTotal: +262144 kB" "meminfo as free/top read it"
vzt_is "$(vzctl exec 101 grep -c ^processor /proc/cpuinfo)" 1 "cpuinfo: 1 CPU (CPUS=1)"
up=$(vzctl exec 101 cut -d. -f1 /proc/uptime)
vzt_true "uptime is the CT's ($up s)" test "$up" -lt 60
vzt_like "$(vzctl exec 101 uptime)" "up " "uptime runs"

# LXCFS=yes with lxcfs gone: start still works, with a warning
vz-lxcfs stop "$lx"
vzt_ok "set LXCFS=yes" sh -c "echo 'LXCFS=\"yes\"' >> '$VZ_CONFDIR/conf/101.conf'"
out=$(vzctl restart 101 --fast 2>&1); rc=$?
vzt_is "$rc" 0 "restart without lxcfs still starts"
vzt_like "$out" "lxcfs is not mounted at" "and says lxcfs is missing"
vzt_done
