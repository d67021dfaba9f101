#!/bin/bash
# ploop resize: live grow under a running writer (image, loop capacity,
# online resize2fs: df inside shows the new size), a grow that moves data
# out of a bigger BAT, offline grow, offline shrink, live shrink refused
# (compact gives the space back instead); bad sizes refused.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ploop/lib-ploop"
vzt_need_prog resize2fs

cd "$VZT_TMP" || exit 1
mkdir -p disk mnt
vzt_ok "init 1G" ploop init -s 1G -t ext4 disk/root.hds || exit 1
D=$VZT_TMP/disk/DiskDescriptor.xml
G=$((1024 * 1024 * 1024))
fs_size() { df -B1 --output=size mnt | tail -1; }

dev=$(ploop mount -m "$VZT_TMP/mnt" $D)
head -c 30M /dev/urandom > mnt/a; A=$(md5sum < mnt/a)
( i=0; while :; do i=$((i + 1)); echo "$i" >> mnt/log; sync mnt/log; done ) &
w=$!
sleep 0.3
# Online ext4 resize needs CAP_SYS_RESOURCE; without it the disk grows
# live and the fs grows at the next offline resize.
capres=$(( 0x$(sed -n 's/^CapEff:\t//p' /proc/self/status) >> 24 & 1 ))
live_grow() {  # SIZE
	if [ "$capres" = 1 ]; then
		vzt_ok "live grow to $1 under a writer" ploop resize -s "$1" $D
	else
		vzt_fail 7 "CAP_SYS_RESOURCE" "live grow to $1: disk grows, online fs resize refused (no CAP_SYS_RESOURCE here)" ploop resize -s "$1" $D
	fi
}
live_grow 3G
vzt_is "$(blockdev --getsize64 "$dev")" $((3 * G)) "loop device has the new capacity"
vzt_like "$(ploop info $D)" "size: 3G" "info shows 3G"
if [ "$capres" = 1 ]; then
	vzt_true "df inside shows ~3G ($(fs_size))" [ "$(fs_size)" -gt $((29 * G / 10)) ]
else
	vzt_skip "df inside: online ext4 resize needs CAP_SYS_RESOURCE, which root lacks here"
fi
vzt_true "writer still running" kill -0 $w
live_grow 300G
vzt_is "$(blockdev --getsize64 "$dev")" $((300 * G)) "loop device has 300G (the BAT outgrew its cluster: data moved)"
ploop_stop_writer $w
n=$(wc -l < mnt/log)
vzt_is "$(seq 1 "$n" | md5sum)" "$(md5sum < mnt/log)" "writer's log intact ($n lines)"
vzt_is "$(md5sum < mnt/a)" "$A" "data intact after grows"
vzt_ok "umount" ploop umount $D
vzt_like "$(ploop check disk/root.hds)" clean "image clean"
vzt_ok "qemu-img check" qemu-img check -f parallels disk/root.hds
vzt_like "$(qemu-img info -f parallels disk/root.hds)" "virtual size: 300 GiB" "QEMU sees 300G"
dev=$(ploop mount $D); vzt_ok "e2fsck -fn after live grows" e2fsck -fn "$dev"; ploop umount $D
if [ "$capres" != 1 ]; then
	vzt_ok "offline resize at the same size grows the fs" ploop resize -s 300G $D
	ploop mount -m "$VZT_TMP/mnt" $D >/dev/null
	vzt_true "df inside shows ~300G ($(fs_size))" [ "$(fs_size)" -gt $((290 * G)) ]
	ploop umount $D
fi

vzt_ok "offline shrink to 2G" ploop resize -s 2G $D
vzt_like "$(qemu-img info -f parallels disk/root.hds)" "virtual size: 2 GiB" "QEMU sees 2G"
vzt_like "$(ploop check disk/root.hds)" clean "image clean after shrink"
vzt_ok "qemu-img check after shrink" qemu-img check -f parallels disk/root.hds
dev=$(ploop mount -m "$VZT_TMP/mnt" $D)
vzt_true "df inside shows ~2G" [ "$(fs_size)" -gt $((19 * G / 10)) ] && [ "$(fs_size)" -le $((2 * G)) ]
vzt_is "$(md5sum < mnt/a)" "$A" "data intact after shrink"
# A mounted ext4 cannot shrink: refused with what to do instead, nothing
# changed; compact gives back the space freed inside while mounted.
hdr=$(head -c 64 disk/root.hds | md5sum)
out=$(ploop resize -s 1500M $D 2>&1); rc=$?
vzt_is "$rc" 5 "live shrink refused (exit 5)"
vzt_like "$out" "is mounted, and a mounted file system cannot shrink: unmount it and run ploop resize -s 1500M again \(ploop compact gives back" "the refusal says to unmount, and names compact"
vzt_is "$(head -c 64 disk/root.hds | md5sum)" "$hdr" "refused shrink left the image header alone"
vzt_is "$(blockdev --getsize64 "$dev")" $((2 * G)) "refused shrink left the device size alone"
head -c 300M /dev/zero > mnt/big; sync
before=$(stat -c %s disk/root.hds)
rm mnt/big; sync
vzt_ok "compact while mounted" ploop compact $D
after=$(stat -c %s disk/root.hds)
vzt_true "compact gave back the freed space ($before -> $after bytes)" [ "$after" -lt $((before - 250 * 1024 * 1024)) ]
vzt_is "$(md5sum < mnt/a)" "$A" "data intact after compaction"
ploop umount $D
vzt_ok "offline grow to 4G" ploop resize -s 4G $D
dev=$(ploop mount -m "$VZT_TMP/mnt" $D)
vzt_true "df inside shows ~4G" [ "$(fs_size)" -gt $((39 * G / 10)) ]
vzt_is "$(md5sum < mnt/a)" "$A" "data intact after offline grow"
ploop umount $D
before=$(md5sum < disk/root.hds)
vzt_fail 2 "bad size" "resize to 0" ploop resize -s 0 $D
vzt_fail 2 "bad size" "resize to nonsense" ploop resize -s 12X $D
vzt_fail 2 "required" "resize without -s" ploop resize $D
vzt_is "$(md5sum < disk/root.hds)" "$before" "bad input changed nothing"
vzt_is "$(ploop_leaks)" "" "no leaks"
vzt_done
