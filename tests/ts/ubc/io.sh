#!/bin/bash
# I/O: IOPSLIMIT and IOLIMIT cap a direct-I/O writer on the CT's disk.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
private_on_blockdev
if cg_v2; then knob=io.max; ctl=io; else knob=blkio.throttle.write_iops_device; ctl=blkio; fi
vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
[ -f "$(cg_file 101 $ctl $knob)" ] || vzt_skip_all "no I/O throttling in this kernel ($knob)"

# elapsed ms of a direct-I/O writer inside
wr() {
	local t0 t1
	t0=$(date +%s%N)
	vzctl exec 101 dd if=/dev/zero of=/root/io.dat bs="$1" count="$2" oflag=direct conv=fsync >/dev/null 2>&1 || return 1
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}
base=$(wr 4k 150)
vzt_true "direct writer runs unthrottled ($base ms for 150 x 4K)" test -n "$base"
vzt_ok "IOPSLIMIT 50" vzctl set 101 --iopslimit 50 --ioprio 6 --save
vzt_like "$(cg_read 101 $ctl $knob)" "^[0-9]+:[0-9]+ .*50" "per-device iops limit in the cgroup"
# IOPRIO 6 is weight 400 (the default 4 is the kernel's 100) where the
# kernel has a weight knob (BFQ's, or v2's io.cost io.weight); else it is
# reported as not enforced
w=
for f in io.bfq.weight io.weight blkio.bfq.weight blkio.weight; do
	[ -f "$(cg_file 101 $ctl $f)" ] && { w=$f; break; }
done
if [ -n "$w" ]; then
	vzt_like "$(cg_read 101 $ctl $w | head -n 1)" "^(default )?400$" "IOPRIO 6: $w 400"
else
	vzt_like "$(vzctl set 101 --ioprio 6 2>&1)" "not enforced: IOPRIO: no I/O weight knob" \
		"IOPRIO: no weight knob in this kernel, reported as not enforced"
fi
t=$(wr 4k 150)
vzt_true "150 writes at 50 IOPS take about 3 s (got $t ms, unthrottled $base ms)" test "$t" -ge 2300 -a "$t" -le 8000
vzt_ok "IOPSLIMIT off, IOLIMIT 1M" vzctl set 101 --iopslimit 0 --iolimit 1M --save
vzt_true "IOLIMIT stored as bytes/s" grep -q '^IOLIMIT="1048576"' "$VZ_CONFDIR/conf/101.conf"
t=$(wr 64k 48)
vzt_true "3 MiB at 1 MiB/s take about 3 s (got $t ms)" test "$t" -ge 2300 -a "$t" -le 8000
vzt_ok "limits off" vzctl set 101 --iolimit 0 --save
t=$(wr 64k 48)
vzt_true "unthrottled again (got $t ms)" test "$t" -lt 2300
vzt_done
