#!/bin/bash
# The administrator's session of issue 3, as typed: every resource set in
# three commands on a running CT, saved, each in the knob that enforces it;
# the vzlist fields and the beancounter table show them; the saved config
# passes beancounter-check.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
vzt_need_prog jq
private_on_blockdev
conf=$VZ_CONFDIR/conf/101.conf
vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
disk=$(dev_of "$VZT_TMP/private")

vzt_ok "vzctl set 101 --ram 256M --swap 512M --save" vzctl set 101 --ram 256M --swap 512M --save
vzt_ok "vzctl set 101 --cpuunits 2000 --cpulimit 50 --cpus 1 --cpumask 0 --save" \
	vzctl set 101 --cpuunits 2000 --cpulimit 50 --cpus 1 --cpumask 0 --save
out=$(vzctl set 101 --numproc 200 --iolimit 10M --iopslimit 500 --ioprio 6 --save 2>&1); rc=$?
vzt_is "$rc" 0 "vzctl set 101 --numproc 200 --iolimit 10M --iopslimit 500 --ioprio 6 --save"
vzt_diag "$out"

# saved
for kv in 'PHYSPAGES="0:256M"' 'SWAPPAGES="0:512M"' 'CPUUNITS="2000"' 'CPULIMIT="50"' \
	'CPUS="1"' 'CPUMASK="0"' 'NUMPROC="200:200"' 'IOLIMIT="10485760"' 'IOPSLIMIT="500"' 'IOPRIO="6"'; do
	vzt_true "saved: $kv" grep -qx "$kv" "$conf"
done

# in force
vzt_is "$(cg_ram 101)" $((256 << 20)) "RAM limit"
if cg_v2; then
	vzt_is "$(cg_read 101 memory memory.swap.max)" $((512 << 20)) "memory.swap.max"
	vzt_is "$(cg_read 101 cpu cpu.weight)" 200 "cpu.weight (CPUUNITS / 10)"
	vzt_is "$(cg_read 101 cpu cpu.max)" "50000 100000" "cpu.max: CPULIMIT 50 within CPUS 1"
	vzt_is "$(cg_read 101 io io.max)" "$disk rbps=10485760 wbps=10485760 riops=500 wiops=500" \
		"io.max on the CT's disk $disk"
else
	vzt_is "$(cg_read 101 memory memory.memsw.limit_in_bytes)" $((768 << 20)) "memsw: RAM + swap"
	vzt_is "$(cg_read 101 cpu cpu.shares)" 2048 "cpu.shares (CPUUNITS * 1024 / 1000)"
	vzt_is "$(cg_read 101 cpu cpu.cfs_quota_us)" 50000 "CFS quota: CPULIMIT 50 within CPUS 1"
	vzt_is "$(cg_read 101 blkio blkio.throttle.write_bps_device)" "$disk 10485760" \
		"write bps on the CT's disk $disk"
	vzt_is "$(cg_read 101 blkio blkio.throttle.write_iops_device)" "$disk 500" \
		"write iops on the CT's disk $disk"
fi
vzt_is "$(cg_read 101 cpuset cpuset.cpus)" 0 "cpuset.cpus"
vzt_is "$(cg_read 101 pids pids.max)" 200 "pids.max"

# shown
line=$(vzlist -H -o ctid,physpages,physpages.l,swappages,numproc,cpulimit 101)
vzt_like "$line" "^ *101 +[0-9]+ +65536 +[0-9]+ +[1-9][0-9]* +50 *$" \
	"vzlist -o ctid,physpages,physpages.l,swappages,numproc,cpulimit: $line"
tab=$(vzctl ubc 101)
vzt_like "$(head -n 1 <<<"$tab")" "uid +resource +held +maxheld +barrier +limit +failcnt" \
	"vzctl ubc: held, maxheld, barrier, limit, failcnt"
vzt_like "$tab" "numproc +[1-9][0-9]* +[0-9]+ +200 +200 +0" "vzctl ubc: numproc 200:200"
vzt_is "$(vzctl ubc 101 -j | jq '.[] | select(.resource=="physpages") | .limit')" 65536 \
	"vzctl ubc -j: physpages limit in pages"
vzt_ok "beancounter-check on the saved config" beancounter-check "$conf"
vzt_done
