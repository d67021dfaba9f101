#!/bin/bash
# SIGKILL the ploop server while a writer fsyncs 4k blocks and logs what
# was acknowledged.  After remount (which repairs the dirty image by
# itself) every acknowledged write is there; ploop check and e2fsck -fn are
# clean.  Repeated at random points.  One log for all rounds: the writer
# numbers its versions on from the log's last one, so a block in flight at
# a crash is newer than anything acknowledged before it.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ploop/lib-ploop"

cd "$VZT_TMP" || exit 1
mkdir -p disk mnt
W="python3 $VZ_SRC/tests/ts/ploop/crashwriter.py"
nacks() { cat log 2>/dev/null | grep -c ^ack; }
vzt_ok "crashwriter's verifier tells crash leftovers from lost writes" \
	$W selftest "$VZT_TMP/selftest"
vzt_ok "init" ploop init -s 1G -t ext4 disk/root.hds || exit 1
D=$VZT_TMP/disk/DiskDescriptor.xml
ROUNDS=${PLOOP_CRASH_ROUNDS:-4}
N=8192   # 32 MiB of 4k blocks, sparse at first: ext4 allocates as it goes

for r in $(seq 1 "$ROUNDS"); do
	ploop mount -m "$VZT_TMP/mnt" $D > mount.out 2> mount.err
	vzt_is $? 0 "round $r: mount" || break
	[ "$r" -gt 1 ] && vzt_like "$(cat mount.err)" "not closed cleanly" "round $r: dirty image repaired on mount"
	[ "$r" -gt 1 ] && { $W verify mnt/blocks log $N > verify.out; rc=$?
		vzt_is "$rc" 0 "round $r: every acknowledged write survived ($(tail -1 verify.out))" ||
			vzt_diag "$(head -5 verify.out)"; }
	a0=$(nacks)
	$W write "$VZT_TMP/mnt/blocks" "$VZT_TMP/log" $N 2>/dev/null &
	wpid=$!
	# let this round's writer get going (python starts slowly on a busy
	# machine; the log already holds earlier rounds' acks), then a random
	# moment
	for _ in $(seq 100); do [ "$(nacks)" -gt "$a0" ] && break; sleep 0.1; done
	sleep "0.$((RANDOM % 9 + 1))"
	spid=$(ploop info -j $D | sed -n 's/.*"server_pid": \([0-9]*\).*/\1/p')
	acks=$(( $(nacks) - a0 ))
	kill -9 "$spid"
	sleep 0.2
	kill -9 "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	vzt_true "round $r: writer made progress ($acks acknowledged in this round)" [ "$acks" -gt 0 ]
	vzt_ok "round $r: umount after the server died" ploop umount $D
	vzt_is "$(ploop_leaks)" "" "round $r: nothing left behind"
	vzt_like "$(ploop info $D)" "\[dirty\]" "round $r: image left dirty"
done

# SIGKILL in the middle of an online merge: the descriptor still names
# the snapshot, the content is whole.
ploop mount -m "$VZT_TMP/mnt" $D > /dev/null 2>&1
vzt_ok "before merge: acknowledged writes all there" $W verify mnt/blocks log $N
head -c 200M /dev/urandom > mnt/big; sync   # so the merge takes a while
B=$(md5sum < mnt/big)
S=$(ploop snapshot $D)
a0=$(nacks)
$W write "$VZT_TMP/mnt/blocks" "$VZT_TMP/log" $N 2>/dev/null &
wpid=$!
for _ in $(seq 100); do [ "$(nacks)" -gt $((a0 + 200)) ] && break; sleep 0.1; done
# (the control socket is busy while it merges: ask for the pid first)
spid=$(ploop info -j $D 2>/dev/null | sed -n 's/.*"server_pid": \([0-9]*\).*/\1/p')
ploop snapshot-merge -u "$S" $D > /dev/null 2>&1 &
mpid=$!
sleep "0.$((RANDOM % 3))$((RANDOM % 9 + 1))"
kill -9 "$spid"
sleep 0.2
kill -9 "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
wait "$mpid"
vzt_is "$?" 8 "merge reports the server's death (exit 8)"
vzt_ok "umount after the server died mid-merge" ploop umount $D
ploop mount -m "$VZT_TMP/mnt" $D > /dev/null 2>&1
vzt_ok "after a kill during merge: acknowledged writes all there" $W verify mnt/blocks log $N
vzt_is "$(md5sum < mnt/big)" "$B" "after a kill during merge: the snapshot's data is whole"
ploop umount $D
ploop snapshot-merge $D >/dev/null 2>&1
vzt_is "$(ploop info -j $D | grep -c '"guid"')" 1 "merge completes afterwards"

ploop mount -m "$VZT_TMP/mnt" $D > /dev/null 2>&1
vzt_ok "final: acknowledged writes all there" $W verify mnt/blocks log $N
vzt_ok "final umount" ploop umount $D
img=$(ploop info -j $D | sed -n 's/.*"file": "\(.*\)".*/\1/p')
vzt_like "$(ploop check $D)" "clean" "ploop check clean"
vzt_ok "qemu-img check clean" qemu-img check -f parallels "$img"
dev=$(ploop mount $D)
vzt_ok "e2fsck -fn clean" e2fsck -fn "$dev"
ploop umount $D
vzt_is "$(ploop_leaks)" "" "no leaks"
vzt_done
