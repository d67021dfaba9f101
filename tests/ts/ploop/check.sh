#!/bin/bash
# ploop check on damaged images (e2fsprogs style): each defect with its
# expected report, nothing changed without -r, the repaired image clean for
# ploop and for qemu-img check -f parallels.  Bad input: one line, no change.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ploop/lib-ploop"
vzt_need_prog qemu-io

cd "$VZT_TMP" || exit 1
M=$((1024 * 1024))

# A 16 MiB image with data in virtual clusters 0..5 (file clusters 1..6).
mkimg() {
	rm -f "$1"
	qemu-img create -q -f parallels "$1" 16M &&
		qemu-io -f parallels -c "write -P 0x5a 0 6M" "$1" >/dev/null
}

# case NAME DAMAGE-CMD EXPECTED-REPORT
case_() {
	local name=$1 damage=$2 want=$3 img=$VZT_TMP/$1.hds before out rc
	mkimg "$img" || { vzt_failmsg "$name: make image"; return; }
	eval "$damage"
	before=$(md5sum < "$img")
	out=$(ploop check "$img" 2>&1); rc=$?
	vzt_is "$rc" 10 "$name: check exits 10 (corrupt)"
	vzt_is "$out" "$(printf '%s\n' "$want" "ploop: $img: $(printf '%s\n' "$want" | wc -l) defect(s) found; run ploop check -r to repair")" "$name: report"
	vzt_is "$(md5sum < "$img")" "$before" "$name: nothing changed without -r"
	out=$(ploop check -r "$img" 2>&1); rc=$?
	vzt_is "$rc" 0 "$name: check -r repairs"
	vzt_is "$out" "$(printf '%s\n' "$want" | sed 's/$/: repaired/'; echo "$img: $(printf '%s\n' "$want" | wc -l) defect(s) repaired")" "$name: repair report"
	vzt_like "$(ploop check "$img")" ": clean," "$name: clean after repair"
	vzt_ok "$name: qemu-img check agrees" qemu-img check -f parallels "$img"
}

N=$(basename "$VZT_TMP")
case_ dirty "put32 \$img 44 1953394521" \
	"dirty.hds: dirty flag set (image was not closed cleanly)"
case_ tail "truncate -s +4096 \$img" \
	"tail.hds: partial cluster at end of file (4096 bytes)"
case_ cut "truncate -s -4096 \$img" \
	"cut.hds: partial cluster at end of file (1044480 bytes)
cut.hds: BAT entry 5 points to cluster 6 beyond end of file"
case_ past "put32 \$img \$((64 + 4 * 3)) 1000" \
	"past.hds: BAT entry 3 points to cluster 1000 beyond end of file"
case_ leak "put32 \$img \$((64 + 4 * 5)) 0" \
	"leak.hds: 1 unreferenced cluster(s) at end of file"
case_ twice "put32 \$img \$((64 + 4 * 4)) 2" \
	"twice.hds: cluster 2 referenced by BAT entries 1 and 4"

# The repaired "twice" image: entry 4 now has its own copy of cluster 1's data.
vzt_ok "twice: both entries read the same data" \
	qemu-io -f parallels -c "read -P 0x5a $((4 * M)) $M" -c "read -P 0x5a $((1 * M)) $M" twice.hds

# Bad headers: reported, never "repaired" by guessing.
mkimg bad.hds
put32 bad.hds 28 3
before=$(md5sum < bad.hds)
vzt_fail 10 "cluster size 3 sectors" "bad cluster size is reported" ploop check bad.hds
vzt_fail 10 "cannot be repaired|cluster size" "bad header is not guessed at" ploop check -r bad.hds
vzt_is "$(md5sum < bad.hds)" "$before" "bad header: image unchanged"
mkimg sig.hds
printf 'NotAPloopImage!!' | dd of=sig.hds conv=notrunc status=none
vzt_fail 10 "not a ploop image" "bad signature" ploop check sig.hds

# Bad input: one line on stderr, exit code, nothing on disk.
head -c 100000 /dev/urandom > junk.bin
before=$(md5sum < junk.bin)
vzt_fail 10 "^ploop: .*not a ploop image" "random file" ploop check junk.bin
vzt_is "$(ploop check junk.bin 2>&1 | wc -l)" 1 "random file: one line"
vzt_is "$(md5sum < junk.bin)" "$before" "random file unchanged by check -r" ploop check -r junk.bin
vzt_fail 4 "No such file" "missing image" ploop check nothere.hds
mkdir -p new
vzt_fail 2 "bad size" "init with a bad size" ploop init -s 10Q new/root.hds
vzt_fail 2 "more than 0|bad size" "init with size 0" ploop init -s 0 new/root.hds
vzt_is "$(ls new)" "" "failed inits left nothing"
vzt_fail 4 "does not exist" "init in a missing directory" ploop init -s 1G nodir/root.hds
vzt_ok "init without fs" ploop init -s 100M new/root.hds
vzt_fail 9 "already exists" "init over an existing image" ploop init -s 1G new/root.hds
cp new/DiskDescriptor.xml desc.orig
printf '<Parallels_disk_image><Disk_Parameters>' > new/DiskDescriptor.xml
vzt_fail 3 "DiskDescriptor.xml:.*not a valid XML" "corrupt XML: one clear line" ploop mount new/DiskDescriptor.xml
vzt_is "$(ploop mount new 2>&1 | wc -l)" 1 "corrupt XML: exactly one line"
vzt_is "$(ls -A new | sort | tr '\n' ' ')" "DiskDescriptor.xml DiskDescriptor.xml.lck root.hds " "corrupt XML: nothing made"
sed 's/<Disk_size>.*</<Disk_size>lots</' desc.orig > new/DiskDescriptor.xml
vzt_fail 3 "Disk_size.*not a number" "bad number in descriptor" ploop info new
cp desc.orig new/DiskDescriptor.xml
vzt_fail 4 "no snapshot" "unknown snapshot GUID" ploop snapshot-delete -u '{11111111-2222-3333-4444-555555555555}' new
vzt_fail 2 "bad GUID" "malformed GUID" ploop snapshot-merge -u 1234 new
vzt_fail 2 "unknown command" "unknown command" ploop frobnicate new

# A descriptor rebuilt for an image qemu-img made; info reads it.
mkdir q && qemu-img create -q -f parallels q/disk.hds 64M
vzt_ok "restore-descriptor for a qemu-img image" ploop restore-descriptor q/disk.hds
vzt_like "$(ploop info q/disk.hds)" "size: 64M" "info on the rebuilt descriptor"
vzt_fail 9 "already exists" "restore-descriptor does not overwrite" ploop restore-descriptor q/disk.hds
# Header byte for byte as qemu-img writes it (first 64 bytes).
mkdir q2 && ploop init -s 64M q2/x.hds
vzt_is "$(head -c 64 q2/x.hds | md5sum)" "$(head -c 64 q/disk.hds | md5sum)" "header equals qemu-img's"
vzt_done
