#!/bin/bash
# The data path: ext4 on a loop device with direct I/O on the FUSE file the
# ploop server exports.  Heavy random writes with checksums, e2fsck clean,
# the flat content read back by QEMU, discard and compaction, locking.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ploop/lib-ploop"
vzt_need_prog fio debugfs

cd "$VZT_TMP" || exit 1
mkdir -p disk mnt
vzt_ok "init 2G ext4" ploop init -s 2G -t ext4 disk/root.hds || exit 1
D=disk/DiskDescriptor.xml
dev=$(ploop mount -m "$VZT_TMP/mnt" $D); rc=$?
vzt_is "$rc" 0 "mount"
vzt_like "$dev" '^/dev/loop[0-9]+$' "mount prints the loop device"
vzt_is "$(cat /sys/block/${dev#/dev/}/loop/dio)" 1 "loop direct I/O is on"
vzt_is "$(cat /sys/block/${dev#/dev/}/loop/backing_file)" "$VZT_TMP/disk/.ploop.fuse" "loop sits on the FUSE file"
vzt_like "$(ploop list)" "^$dev $VZT_TMP/disk/DiskDescriptor.xml $VZT_TMP/mnt" "list shows the disk"
vzt_like "$(ploop info -j $D)" '"mounted": true' "info -j: mounted"
vzt_like "$(ploop info $D)" "\[dirty\]" "dirty flag set while mounted"
vzt_fail 5 "already mounted at $dev" "second mount refused" ploop mount $D
if ip netns add "${VZT_TAG}p" 2>/dev/null; then
	vzt_on_exit ip netns del "${VZT_TAG}p"
	vzt_like "$(ip netns exec "${VZT_TAG}p" ploop info -j $D)" '"mounted": true' "the server answers from another network namespace"
	vzt_fail 5 "already mounted" "and a mount from there is refused" ip netns exec "${VZT_TAG}p" ploop mount $D
else
	vzt_skip "network namespaces: ip netns add failed"
fi
vzt_fail 5 "in use by a ploop server" "check -r refuses a served image" ploop check -r disk/root.hds
vzt_like "$(ploop check disk/root.hds 2>&1)" "in use by a ploop server: allocations in flight" "check of a served image warns"

# Heavy random writes of mixed sizes at queue depth 32, verified by fio.
vzt_ok "fio random writes verify (QD32, 4k-1M, direct)" \
	fio --name=rw --filename=mnt/data --size=300M --rw=randwrite --bsrange=4k-1M \
	--ioengine=libaio --iodepth=32 --direct=1 --verify=crc32c --verify_fatal=1 \
	--randrepeat=0 --output=/dev/null
sum=$(md5sum < mnt/data)
dd if=/dev/urandom of=mnt/small bs=4k count=100 status=none
small=$(md5sum < mnt/small)

# Locking: a command waits for another holding the disk, then gives up.
flock disk/DiskDescriptor.xml.lck sleep 3 &
for _ in $(seq 50); do flock -n disk/DiskDescriptor.xml.lck true || break; sleep 0.1; done
vzt_fail 6 "locked by another" "commands on one disk serialise" env PLOOP_LOCK_TIMEOUT=1 ploop snapshot $D
wait

vzt_ok "umount" ploop umount $D
vzt_is "$(ploop_leaks)" "" "nothing left mounted, attached or running"
vzt_like "$(ploop check disk/root.hds)" "clean" "image clean after umount"
vzt_ok "qemu-img check agrees" qemu-img check -f parallels disk/root.hds
dev=$(ploop mount $D)
vzt_ok "e2fsck -fn clean" e2fsck -fn "$dev"
vzt_ok "umount device-only mount" ploop umount $D

# QEMU reads the same flat disk: the file inside matches.
vzt_ok "qemu-img convert to raw" qemu-img convert -f parallels -O raw disk/root.hds flat.raw
vzt_ok "e2fsck -fn on QEMU's raw copy" e2fsck -fn flat.raw
debugfs -R "dump /data data.out" flat.raw >/dev/null 2>&1
vzt_is "$(md5sum < data.out)" "$sum" "file read through QEMU equals what was written"
vzt_ok "qemu-img compare: image equals its raw copy" qemu-img compare -f parallels -F raw disk/root.hds flat.raw
rm -f flat.raw data.out

dev=$(ploop mount -m "$VZT_TMP/mnt" $D)
vzt_is "$(md5sum < mnt/data)" "$sum" "data intact after remount"
vzt_is "$(md5sum < mnt/small)" "$small" "small file intact after remount"

# Discards free clusters; compaction gives the space back.
before=$(stat -c %s disk/root.hds)
rm mnt/data
sync
vzt_ok "fstrim through loop and FUSE" fstrim mnt
out=$(ploop compact $D); rc=$?
vzt_is "$rc" 0 "compact while mounted"
after=$(stat -c %s disk/root.hds)
vzt_true "compact shrank the image ($before -> $after bytes)" [ "$after" -lt $((before - 200 * 1024 * 1024)) ]
vzt_is "$(md5sum < mnt/small)" "$small" "data intact after compaction"
vzt_ok "umount" ploop umount $D
vzt_like "$(ploop check disk/root.hds)" "clean" "clean after compaction"
vzt_ok "qemu-img check after compaction" qemu-img check -f parallels disk/root.hds
dev=$(ploop mount $D)
vzt_ok "e2fsck -fn after compaction" e2fsck -fn "$dev"
ploop umount $D

# offline compaction: the fs is mounted aside for FITRIM
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
head -c 100M /dev/urandom > mnt/big; sync; rm mnt/big
ploop umount $D
before=$(stat -c %s disk/root.hds)
vzt_like "$(ploop compact $D)" "^freed [0-9]+M" "offline compact"
after=$(stat -c %s disk/root.hds)
vzt_true "offline compact shrank the image ($before -> $after)" [ "$after" -lt $((before - 90 * 1024 * 1024)) ]
vzt_like "$(ploop check disk/root.hds)" "clean" "clean after offline compaction"
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
vzt_is "$(md5sum < mnt/small)" "$small" "data intact after offline compaction"
ploop umount $D

# a busy fs is not torn away; a disk without a fs does not mount on a dir
ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
exec 3< mnt/small
vzt_fail 5 "unmount .*busy" "umount of a busy fs refused" ploop umount $D
exec 3<&-
vzt_ok "umount once it is free" ploop umount $D
mkdir nofs
ploop init -s 64M nofs/root.hds
vzt_fail 8 "mount /dev/loop[0-9]+ on" "mount -m of a disk without a fs fails" ploop mount -m "$VZT_TMP/mnt" nofs
vzt_is "$(ploop_leaks)" "" "failed mount left nothing behind"
vzt_like "$(ploop check nofs/root.hds)" clean "and the image clean"

# An image qemu-img made mounts, takes a file system and stays valid.
mkdir q
qemu-img create -q -f parallels q/disk.hds 256M
ploop restore-descriptor q/disk.hds
dev=$(ploop mount q)
vzt_ok "mkfs on a qemu-made image" mkfs.ext4 -q "$dev"
vzt_ok "umount it" ploop umount q
vzt_ok "qemu-img check on it" qemu-img check -f parallels q/disk.hds
vzt_fail 5 "not mounted" "umount of an unmounted disk" ploop umount q
vzt_is "$(ploop_leaks)" "" "no leaks"
vzt_done
