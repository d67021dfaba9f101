#!/bin/bash
# ploop copy: a busy disk sent live in rounds (write tracker), the stop
# command run before the frozen final pass; the received image equals the
# source as it was at the stop command, clean (no dirty flag), with a
# DiskDescriptor.xml.  Offline copy equals the source byte for byte.  A
# disk with snapshots arrives as one delta holding the flat view of its top,
# offline and live.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ploop/lib-ploop"

cd "$VZT_TMP" || exit 1
mkdir -p src dst dst2 mnt mnt2
vzt_ok "init" ploop init -s 1G -t ext4 src/root.hds || exit 1
D=$VZT_TMP/src/DiskDescriptor.xml
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
head -c 40M /dev/urandom > mnt/a; A=$(md5sum < mnt/a)
# live_copy LOG CHURN ERR IMAGE: a writer appends numbered lines to LOG
# and rewrites CHURN until the stop command pauses it (pid in $w), while
# the disk is copied live into IMAGE; both exit statuses in $copy_rc
live_copy() {
	( i=0; while :; do i=$((i + 1)); echo "$i" >> "mnt/$1"
	  dd if=/dev/urandom of="mnt/$2" bs=64k count=8 seek=$((i % 64 * 8)) conv=notrunc status=none
	  sync "mnt/$1"; done ) &
	w=$!
	sleep 0.5
	ploop -v copy -s $D -F "kill -STOP $w" 2> "$3" | ploop copy -d "$4"
	copy_rc="${PIPESTATUS[*]}"
	vzt_diag "$(grep -E 'pass|frozen' "$3")"
}
# received DIR: the image received in DIR is clean and QEMU agrees
received() {
	vzt_like "$(ploop check "$1/root.hds")" clean "$1: received image clean (dirty flag cleared)"
	vzt_ok "$1: qemu-img check on the received image" qemu-img check -f parallels "$1/root.hds"
}
live_copy log churn copy.err "$VZT_TMP/dst/root.hds"
vzt_is "$copy_rc" "0 0" "live copy through a pipe"
vzt_like "$(cat copy.err)" "copy: [0-9]+ passes" "sender reports its passes"
vzt_is "$(ps -o state= -p $w)" T "stop command ran (writer stopped)"
# the source now stands still: its state is the state at the stop command
L=$(md5sum < mnt/log); C=$(md5sum < mnt/churn); n=$(wc -l < mnt/log)
vzt_true "destination has a descriptor" [ -f dst/DiskDescriptor.xml ]
received dst
ploop mount -m "$VZT_TMP/mnt2" dst >/dev/null
vzt_is "$(md5sum < mnt2/a)" "$A" "static file equal"
vzt_is "$(md5sum < mnt2/log)" "$L" "writer's log equal to the source at stop ($n lines)"
vzt_is "$(md5sum < mnt2/churn)" "$C" "churned file equal to the source at stop"
ploop umount dst
dev=$(ploop mount dst); vzt_ok "e2fsck -fn on the received disk" e2fsck -fn "$dev"; ploop umount dst
ploop_stop_writer $w

# offline: byte for byte
ploop umount $D
ploop copy -s $D | ploop copy -d "$VZT_TMP/dst2/root.hds"
vzt_is "${PIPESTATUS[*]}" "0 0" "offline copy"
vzt_ok "qemu-img compare: copy equals source" qemu-img compare -f parallels -F parallels src/root.hds dst2/root.hds
vzt_is "$(md5sum < dst2/root.hds)" "$(md5sum < src/root.hds)" "image files identical"

# bad input
vzt_fail 10 "not a ploop copy stream" "garbage stream refused" sh -c "echo garbage-garbage-garbage | ploop copy -d $VZT_TMP/bad.hds"
vzt_true "nothing left from the bad stream" [ ! -e bad.hds ]
vzt_fail 10 "ended" "truncated stream refused" sh -c "ploop copy -s $D | head -c 100000 | ploop copy -d $VZT_TMP/bad.hds"
vzt_true "nothing left from the truncated stream" [ ! -e bad.hds ]
vzt_fail 9 "exists" "receive does not overwrite" sh -c "ploop copy -s $D | ploop copy -d $VZT_TMP/dst2/root.hds"

# A disk with snapshots goes as one delta: the flat view of its top.
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
head -c 8M /dev/urandom > mnt/s1; sync
ploop snapshot $D >/dev/null
head -c 8M /dev/urandom > mnt/s2
dd if=/dev/urandom of=mnt/a bs=1M count=3 seek=7 conv=notrunc,fsync status=none
rm mnt/s1; sync
ploop snapshot $D >/dev/null
head -c 4M /dev/urandom > mnt/s3; sync
A3=$(md5sum < mnt/a); S2=$(md5sum < mnt/s2); S3=$(md5sum < mnt/s3)
ploop umount $D
vzt_is "$(ploop info -j $D | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["deltas"]))')" 3 "source has 3 deltas"
mkdir -p dst3 dst4
ploop -v copy -s $D 2> copy3.err | ploop copy -d "$VZT_TMP/dst3/root.hds"
vzt_is "${PIPESTATUS[*]}" "0 0" "offline copy of a disk with snapshots"
vzt_like "$(cat copy3.err)" "3 deltas go as one" "sender says it sends the flat view"
vzt_is "$(ls dst3)" "$(printf 'DiskDescriptor.xml\nroot.hds')" "receiver has one image and its descriptor"
received dst3
# the flat content: the source's chain read by the server equals the copy
rm -f q.raw; qemu-img convert -f parallels -O raw dst3/root.hds q.raw
sdev=$(ploop mount $D)
vzt_ok "flat content equals the source's top view" cmp "$sdev" q.raw
ploop umount $D; rm -f q.raw
vzt_true "the copy stores only what the chain holds ($(stat -c %s dst3/root.hds) bytes)" \
	[ "$(stat -c %s dst3/root.hds)" -le "$(cat src/root.hds* | wc -c)" ]

# live, under a writer, with snapshots: equal to the source at the stop command
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
live_copy log2 churn2 copy4.err "$VZT_TMP/dst4/root.hds"
vzt_is "$copy_rc" "0 0" "live copy of a busy disk with snapshots"
L2=$(md5sum < mnt/log2); C2=$(md5sum < mnt/churn2); n=$(wc -l < mnt/log2)
received dst4
ploop mount -m "$VZT_TMP/mnt2" dst4 >/dev/null
vzt_is "$(md5sum < mnt2/a)" "$A3" "file changed after the first snapshot equal"
vzt_is "$(md5sum < mnt2/s2)" "$S2" "file written between snapshots equal"
vzt_is "$(md5sum < mnt2/s3)" "$S3" "file written after the last snapshot equal"
vzt_true "file deleted after the first snapshot stays deleted" [ ! -e mnt2/s1 ]
vzt_is "$(md5sum < mnt2/log2)" "$L2" "writer's log equal to the source at stop ($n lines)"
vzt_is "$(md5sum < mnt2/churn2)" "$C2" "churned file equal to the source at stop"
ploop umount dst4
dev=$(ploop mount dst4); vzt_ok "e2fsck -fn on the received disk" e2fsck -fn "$dev"; ploop umount dst4
ploop_stop_writer $w

# the receiver dies while the source is frozen: the sender thaws it
mkdir -p dst5; mkfifo stream
ploop copy -d "$VZT_TMP/dst5/root.hds" < stream 2>/dev/null & r=$!
ploop copy -s $D -F "kill -9 $r" > stream 2> copy5.err; rc=$?
wait $r 2>/dev/null
vzt_true "sender failed when its receiver died (exit $rc)" [ "$rc" -ne 0 ]
# a write to a frozen fs blocks uninterruptibly: wait 10 s, then thaw it
# ourselves so that the test can end
touch mnt/after-copy & t=$!
for _ in $(seq 100); do kill -0 $t 2>/dev/null || break; sleep 0.1; done
if kill -0 $t 2>/dev/null; then
	vzt_failmsg "the source's fs is not left frozen (a write still blocks after 10 s)"
	fsfreeze -u mnt
else
	vzt_pass "the source's fs is not left frozen"
fi
wait $t
ploop umount $D
vzt_is "$(ploop_leaks)" "" "no leaks"
vzt_done
