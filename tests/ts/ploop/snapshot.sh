#!/bin/bash
# Snapshots with checksums through every path: live snapshot of a busy disk,
# read-only snapshot views, online and offline merge, delete, switch; the
# flat content cross-checked through QEMU.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ploop/lib-ploop"
vzt_need_prog debugfs

cd "$VZT_TMP" || exit 1
mkdir -p disk mnt snap
vzt_ok "init" ploop init -s 1G -t ext4 disk/root.hds || exit 1
D=$VZT_TMP/disk/DiskDescriptor.xml
# qfile IMAGE PATH: md5 of a file inside a single-delta image, read by QEMU
qfile() {
	rm -f q.raw q.out
	qemu-img convert -f parallels -O raw "$1" q.raw &&
		debugfs -R "dump $2 q.out" q.raw >/dev/null 2>&1 &&
		md5sum < q.out; rm -f q.raw q.out
}
busy_start() { ( while :; do dd if=/dev/urandom of=mnt/busy bs=64k count=32 conv=fsync status=none; done ) & busy=$!; }
busy_stop() { ploop_stop_writer "$busy"; }

ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
head -c 20M /dev/urandom > mnt/a; sync
A=$(md5sum < mnt/a)

busy_start
# a second writer appends numbered lines: the snapshot must hold an
# unbroken prefix at least as long as what was written before it began
( i=0; while :; do i=$((i + 1)); echo "$i"; done > mnt/seq ) &
seqw=$!
sleep 0.5
before=$(wc -l < mnt/seq)
rcu=$(cat /sys/kernel/rcu_expedited 2>/dev/null)
S1=$(ploop -v snapshot $D 2> snap.err); rc=$?
busy_stop
ploop_stop_writer $seqw
vzt_is "$rc" 0 "live snapshot of a busy disk"
vzt_like "$S1" '^\{[0-9a-f-]{36}\}$' "snapshot prints its GUID"
# the frozen window is reported (its length is the bench's business:
# bench/ploop-snapshot)
vzt_like "$(cat snap.err)" 'snapshot: fs frozen for [0-9.]+ ms: freeze [0-9.]+, switch [0-9.]+, thaw [0-9.]+ \(sync and journal checkpoint before it [0-9.]+ ms' "snapshot -v reports the frozen window"
vzt_diag "$(cat snap.err)"
# the freeze expedites RCU grace periods, and puts the knob back
if [ -w /sys/kernel/rcu_expedited ] && [ "$rcu" = 0 ]; then
	vzt_like "$(cat snap.err)" "RCU grace periods expedited" "the freeze expedited RCU grace periods"
	vzt_is "$(cat /sys/kernel/rcu_expedited)" 0 "rcu_expedited put back after the freeze"
	# two disks at once must not restore each other's value
	for n in 2 3; do
		mkdir -p disk$n mnt$n
		ploop init -s 256M -t ext4 disk$n/root.hds >/dev/null &&
			ploop mount -m "$VZT_TMP/mnt$n" disk$n >/dev/null
	done
	for _ in 1 2 3; do ploop snapshot disk2 >/dev/null & ploop snapshot disk3 >/dev/null; wait; done
	vzt_is "$(cat /sys/kernel/rcu_expedited)" 0 "rcu_expedited still 0 after snapshots of two disks at once"
	vzt_is "$(ploop snapshot-list disk2 | grep -c '{') $(ploop snapshot-list disk3 | grep -c '{')" "4 4" \
		"both disks got their 3 snapshots"
	ploop umount disk2; ploop umount disk3
else
	vzt_skip "rcu_expedited is not writable or not 0 here: freeze with plain grace periods"
fi
vzt_is "$(sed -n 's/.*<TopGUID>\(.*\)<.*/\1/p' $D)" "{5fbaabe3-6958-40ff-92a7-860e329aab41}" "top GUID stays the top"
vzt_like "$(ploop snapshot-list $D)" "$S1" "snapshot-list shows it"

# change things after the snapshot
head -c 10M /dev/urandom > mnt/b
dd if=/dev/urandom of=mnt/a bs=1M count=2 seek=5 conv=notrunc,fsync status=none
A2=$(md5sum < mnt/a); B=$(md5sum < mnt/b); sync

# read-only view of S1
sdev=$(ploop snapshot-mount -u "$S1" $D); rc=$?
vzt_is "$rc" 0 "snapshot-mount (device only)"
vzt_ok "e2fsck -fn on the snapshot (frozen fs is consistent)" e2fsck -fn "$sdev"
vzt_is "$(cat /sys/block/${sdev#/dev/}/ro)" 1 "snapshot device is read-only"
vzt_ok "snapshot-umount" ploop snapshot-umount -u "$S1" $D
vzt_ok "snapshot-mount -m" ploop snapshot-mount -u "$S1" -m "$VZT_TMP/snap" $D
vzt_like "$(ploop info $D)" "snapshot view: $S1 /dev/loop[0-9]+ on $VZT_TMP/snap" "info lists the mounted snapshot view"
vzt_is "$(md5sum < snap/a)" "$A" "snapshot shows a as it was"
k=$(wc -l < snap/seq)
vzt_is "$(md5sum < snap/seq)" "$(seq 1 "$k" | md5sum)" "snapshot of the appended file is an unbroken prefix ($k lines)"
vzt_true "snapshot holds all $before lines written before it began" [ "$k" -ge "$before" ]
vzt_true "snapshot has no b" [ ! -e snap/b ]
vzt_is "$(md5sum < mnt/a)" "$A2" "live disk shows a changed"
vzt_fail 5 "is mounted" "merge of a mounted snapshot refused" ploop snapshot-merge -u "$S1" $D
vzt_ok "snapshot-umount" ploop umount -u "$S1" $D

S2=$(ploop snapshot $D)
head -c 5M /dev/urandom > mnt/c; sync
C=$(md5sum < mnt/c)
vzt_is "$(ploop info -j $D | grep -c '"guid"')" 3 "three deltas in the chain"
vzt_fail 5 "in use" "check -r of a mounted disk refused" ploop check -r $D

# online merge of S1 under a busy writer
busy_start
vzt_ok "online merge of S1" ploop snapshot-merge -u "$S1" $D
busy_stop
vzt_is "$(ploop info -j $D | grep -c '"guid"')" 2 "two deltas after merge"
vzt_true "merged delta file removed" [ "$(ls disk | grep -c hds)" -eq 2 ]
vzt_is "$(md5sum < mnt/a)$(md5sum < mnt/b)$(md5sum < mnt/c)" "$A2$B$C" "content intact after online merge"
vzt_ok "umount" ploop umount $D
vzt_like "$(ploop check $D)" "clean" "check of every delta of the disk"
dev=$(ploop mount $D); vzt_ok "e2fsck -fn after online merge" e2fsck -fn "$dev"; ploop umount $D
base=$(ploop info -j $D | sed -n 's/.*"file": "\(.*\)".*/\1/p' | head -1)
vzt_is "$(qfile "$base" /a)" "$A2" "base delta alone, read by QEMU: a at S2"
vzt_ok "qemu-img check on the base" qemu-img check -f parallels "$base"

# offline merge of S2: one delta holding everything
vzt_ok "offline merge (default: the top's parent)" ploop snapshot-merge $D
vzt_is "$(ploop info -j $D | grep -c '"guid"')" 1 "one delta"
top=$(ploop info -j $D | sed -n 's/.*"file": "\(.*\)".*/\1/p')
vzt_is "$(qfile "$top" /a)$(qfile "$top" /b)$(qfile "$top" /c)" "$A2$B$C" "QEMU reads all files from the merged image"
vzt_like "$(ploop check "$top")" clean "merged image clean"

# switch: back to a snapshot, the state after it dropped
S3=$(ploop snapshot $D)
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
head -c 1M /dev/urandom > mnt/d
ploop umount $D
vzt_fail 5 "mounted" "switch refuses a mounted disk" sh -c "ploop mount $D >/dev/null && ploop snapshot-switch -u '$S3' $D"
ploop umount $D
vzt_ok "snapshot-switch to S3" ploop snapshot-switch -u "$S3" $D
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
vzt_true "file written after S3 is gone" [ ! -e mnt/d ]
vzt_is "$(md5sum < mnt/a)$(md5sum < mnt/c)" "$A2$C" "content of S3 intact"
ploop umount $D

# delete: S4 folded into the live top (online merge into the top)
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
S4=$(ploop snapshot $D)
head -c 1M /dev/urandom > mnt/e; E=$(md5sum < mnt/e)
dd if=/dev/urandom of=mnt/a bs=4k count=3 seek=7 conv=notrunc,fsync status=none
A3=$(md5sum < mnt/a)
busy_start
vzt_ok "snapshot-delete S4 while mounted and busy" ploop snapshot-delete -u "$S4" $D
busy_stop
vzt_is "$(md5sum < mnt/a)$(md5sum < mnt/e)" "$A3$E" "content after online merge into the top"
ploop umount $D
A2=$A3
vzt_ok "snapshot-delete S3" ploop snapshot-delete -u "$S3" $D
vzt_is "$(ploop info -j $D | grep -c '"guid"')" 1 "one delta after deletes"
vzt_fail 4 "no snapshot" "deleted GUID is gone" ploop snapshot-delete -u "$S4" $D
vzt_fail 2 "top delta" "the top cannot be deleted" ploop snapshot-delete -u '{5fbaabe3-6958-40ff-92a7-860e329aab41}' $D
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
vzt_is "$(md5sum < mnt/a)$(md5sum < mnt/c)$(md5sum < mnt/e)" "$A2$C$E" "content after deletes"
ploop umount $D
vzt_is "$(ls disk | grep -c hds)" 1 "one image file left"
vzt_is "$(ploop_leaks)" "" "no leaks"
vzt_done
