#!/bin/bash
# CPU: CPULIMIT=25 holds a busy loop to 25% +- 5 of one CPU (cgroup CPU
# time over a few seconds); CPUUNITS 1000 and 3000 on one CPU split the
# time about 1:3.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
vzt_ct_up 101 || { vzt_failmsg "CT 101 starts"; exit 1; }
vzt_ct_up 102 || { vzt_failmsg "CT 102 starts"; exit 1; }

# what a busy loop gets without a limit, for a host busy with other work
busy 101
sleep 0.5
base=$(cpu_pct 101 3)
vzt_ok "CPULIMIT 25" vzctl set 101 --cpulimit 25 --save
if cg_v2; then
	vzt_is "$(cg_read 101 cpu cpu.max)" "25000 100000" "cpu.max"
else
	vzt_is "$(cg_read 101 cpu cpu.cfs_quota_us)/$(cg_read 101 cpu cpu.cfs_period_us)" \
		"25000/100000" "CFS quota/period"
fi
sleep 0.5
p=$(cpu_pct 101 4)
vzt_true "busy loop held to 25% +- 5 (got $p%; unlimited $base%)" cpu_within "$p" 25 5 "$base"
# CPUS 1: a quota of one CPU, whatever the CT runs
vzt_ok "CPUS 1, CPULIMIT off" vzctl set 101 --cpus 1 --cpulimit 0 --save
if cg_v2; then
	vzt_is "$(cg_read 101 cpu cpu.max)" "100000 100000" "cpu.max of one CPU"
else
	vzt_is "$(cg_read 101 cpu cpu.cfs_quota_us)/$(cg_read 101 cpu cpu.cfs_period_us)" \
		"100000/100000" "CFS quota of one CPU"
fi
busy 101
sleep 0.5
p=$(cpu_pct 101 3)
vzt_true "two busy loops held to one CPU (got $p%, unlimited up to 200%)" test "$p" -ge 10 -a "$p" -le 110
# (no quota left for the weights below: a guest's CPU clock outruns its
# wall clock, and a quota of one CPU would throttle 101 there)
vzt_ok "CPUS 0: no CPU quota" vzctl set 101 --cpus 0 --save
if cg_v2; then
	vzt_is "$(cg_read 101 cpu cpu.max)" "max 100000" "cpu.max: no quota"
else
	vzt_is "$(cg_read 101 cpu cpu.cfs_quota_us)" -1 "no CFS quota"
fi
vzctl stop 101 --fast >/dev/null

# weights: both CTs on CPU 0, busy
vzt_ok "CPUUNITS 1000 on CPU 0" vzctl set 102 --cpuunits 1000 --cpumask 0 --save
vzt_ok "start 101 again" vzctl start 101
vzt_ok "CPUUNITS 3000 on CPU 0, no limit" vzctl set 101 --cpuunits 3000 --cpulimit 0 --cpumask 0 --save
if cg_v2; then
	vzt_is "$(cg_read 101 cpu cpu.weight)/$(cg_read 102 cpu cpu.weight)" 300/100 "cpu.weight"
else
	vzt_is "$(cg_read 101 cpu cpu.shares)/$(cg_read 102 cpu cpu.shares)" 3072/1024 "cpu.shares"
fi
vzt_is "$(cg_read 101 cpuset cpuset.cpus)" 0 "cpuset.cpus"
busy 101; busy 102
sleep 0.5
a0=$(cg_cpu_usec 101); b0=$(cg_cpu_usec 102); t0=$(date +%s%N)
sleep 4
a1=$(cg_cpu_usec 101); b1=$(cg_cpu_usec 102); t1=$(date +%s%N)
wall=$(( (t1 - t0) / 1000 ))
a=$((a1 - a0)); b=$((b1 - b0))
ratio=$(( a * 100 / (b > 0 ? b : 1) ))
vzt_true "3000:1000 split about 3:1 (got $ratio/100; $a us vs $b us)" test "$ratio" -ge 220 -a "$ratio" -le 400
# unconfined they would take both CPUs (~200%); the margin is for
# emulated guests, whose CPU clock and wall clock drift apart
vzt_true "both together use one CPU at most ($(( (a + b) / 1000 )) ms in $((wall / 1000)) ms)" \
	test $(( a + b )) -le $(( wall * 125 / 100 ))
vzt_fail 8 "cpuset.cpus.*old value stays" "CPUMASK 1000 refused by the kernel" vzctl set 101 --cpumask 1000
vzt_is "$(cg_read 101 cpuset cpuset.cpus)" 0 "old mask still in force"
vzt_done
