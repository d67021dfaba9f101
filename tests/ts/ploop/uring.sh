#!/bin/bash
# The server's two FUSE transports: io_uring queues (the default where the
# kernel has FUSE over io_uring) and /dev/fuse threads (PLOOP_FUSE_URING=0
# or no kernel support).  Each must carry checksummed random writes at
# queue depth 32 while live operations (snapshot, grow, merge) quiesce the
# data path, and leave a clean image that the other transport reads back.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ploop/lib-ploop"
vzt_need_prog fio

cd "$VZT_TMP" || exit 1
mkdir -p disk mnt
D=$VZT_TMP/disk/DiskDescriptor.xml
PARAM=/sys/module/fuse/parameters/enable_uring

# transport [KEY]: what the running server says it serves through (or KEY=)
transport() {
	python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"status\n")
a=b""
while not a.endswith(b"\n"):
    d=s.recv(4096)
    if not d: break
    a+=d
print([w[len(sys.argv[2]) + 1:] for w in a.decode().split()
       if w.startswith(sys.argv[2] + "=")][0])' disk/.ploop.sock "${1:-transport}"
}
# load: checksummed random writes of mixed sizes, in the background
load_start() {
	fio --name=u --filename=mnt/data --size=200M --rw=randwrite --bsrange=4k-256k \
		--ioengine=libaio --iodepth=32 --direct=1 --verify=crc32c --verify_fatal=1 \
		--do_verify=0 --verify_state_save=0 --randrepeat=0 --time_based --runtime="$1" \
		--output=fio.out >/dev/null 2>&1 &
	load=$!
}

vzt_ok "init 1G ext4" ploop init -s 1G -t ext4 disk/root.hds || exit 1

if [ "${PLOOP_FUSE_URING:-}" = 0 ]; then
	want=threads
	vzt_skip "io_uring transport: PLOOP_FUSE_URING=0 in the environment"
elif [ ! -e $PARAM ]; then
	want=threads
	vzt_skip "io_uring transport: kernel without FUSE over io_uring ($PARAM missing)"
elif ! ldd "$(command -v ploop)" | grep -q liburing; then
	want=threads
	vzt_skip "io_uring transport: ploop built without liburing (liburing-dev)"
else
	want=io_uring
fi

# 1. default transport
vzt_ok "mount (default transport)" ploop -v mount -m "$VZT_TMP/mnt" $D || exit 1
vzt_is "$(transport)" "$want" "the server serves through $want"
[ $want = io_uring ] && vzt_is "$(cat $PARAM)" Y "enable_uring is Y"

# A fresh file: every write allocates (blocking path), then overwrites
# (asynchronous ring path), with snapshots and a live grow in between.
vzt_ok "fio writes with checksums (allocating)" \
	fio --name=u --filename=mnt/data --size=200M --rw=randwrite --bsrange=4k-256k \
	--ioengine=libaio --iodepth=32 --direct=1 --verify=crc32c --verify_fatal=1 \
	--randrepeat=0 --output=/dev/null
load_start 6
sleep 1
vzt_ok "live snapshot under load" ploop snapshot $D
sleep 0.5
vzt_ok "second live snapshot under load" ploop snapshot $D
sleep 0.5
# (online ext4 resize needs CAP_SYS_RESOURCE: the disk grows either way)
ploop resize -s 2G $D >/dev/null 2>grow.err; rc=$?
[ $rc = 7 ] && grep -q CAP_SYS_RESOURCE grow.err && rc=0
vzt_is "$rc" 0 "live grow under load"
wait $load; rc=$?
vzt_is "$rc" 0 "the load ran through the live operations"
vzt_ok "fio verifies everything it wrote" \
	fio --name=u --filename=mnt/data --size=200M --rw=randwrite --bsrange=4k-256k \
	--ioengine=libaio --iodepth=32 --direct=1 --verify=crc32c --verify_fatal=1 \
	--verify_only --randrepeat=0 --output=/dev/null
sum=$(md5sum < mnt/data)
dev=$(ploop list | awk -v m="$VZT_TMP/mnt" '$3 == m {print $1}')
vzt_is "$(blockdev --getsize64 "$dev")" $((2 << 30)) "the loop device shows the grown disk"
G1=$(ploop snapshot-list $D | awk 'NR == 2 {print $1}')
vzt_ok "online merge of the first snapshot under load" sh -c "
	fio --name=r --filename=mnt/data --size=200M --rw=randread --bs=4k --ioengine=libaio \
		--iodepth=32 --direct=1 --time_based --runtime=3 --output=/dev/null &
	ploop snapshot-merge -u $G1 $D; r=\$?; wait; exit \$r"
vzt_is "$(md5sum < mnt/data)" "$sum" "content unchanged by the merge"
if [ $want = io_uring ]; then
	vzt_true "overwrites took the asynchronous ring path ($(transport ring_async))" \
		[ "$(transport ring_async)" -gt 1000 ]
	vzt_true "allocations and flushes took the blocking pool ($(transport ring_blocking))" \
		[ "$(transport ring_blocking)" -gt 100 ]
fi
# Flushes with no allocation waiting are fdatasyncs in the ring: an
# fsync-per-write writer over the (now allocated) file raises ring_fsync,
# and what it acknowledged reads back after a fresh mount (below).
if [ $want = io_uring ]; then
	f0=$(transport ring_fsync)
	vzt_ok "fsync-per-write overwrites with checksums" \
		fio --name=s --filename=mnt/data --size=200M --rw=randwrite --bs=4k \
		--ioengine=libaio --iodepth=1 --direct=1 --fsync=1 --number_ios=300 \
		--verify=crc32c --verify_fatal=1 --do_verify=0 --verify_state_save=0 \
		--randrepeat=0 --output=/dev/null
	vzt_true "flushes took the ring's fdatasync ($(transport ring_fsync) after $f0)" \
		[ "$(transport ring_fsync)" -ge $((f0 + 300)) ]
	sum=$(md5sum < mnt/data)
fi
vzt_ok "umount" ploop umount $D
vzt_like "$(ploop check $D)" "clean" "every delta clean"

# 2. the other transport reads it back
vzt_ok "mount with PLOOP_FUSE_URING=0" env PLOOP_FUSE_URING=0 ploop mount -m "$VZT_TMP/mnt" $D
vzt_is "$(transport)" threads "the server serves through /dev/fuse threads"
vzt_is "$(md5sum < mnt/data)" "$sum" "content read through the threads equals what the rings wrote"
load_start 3
sleep 1
vzt_ok "live snapshot under load (threads)" ploop snapshot $D
wait $load; rc=$?
vzt_is "$rc" 0 "load through the threads"
sum=$(md5sum < mnt/data)
vzt_ok "umount" ploop umount $D

# 3. and back to the default, after a device-only check
dev=$(ploop mount $D)
vzt_ok "e2fsck -fn clean" e2fsck -fn "$dev"
vzt_ok "umount device-only mount" ploop umount $D
vzt_ok "mount again (default)" ploop mount -m "$VZT_TMP/mnt" $D
vzt_is "$(md5sum < mnt/data)" "$sum" "content read through $want equals what the threads wrote"
vzt_ok "umount" ploop umount $D
vzt_is "$(ploop_leaks)" "" "nothing left mounted, attached or running"
vzt_done
