#!/bin/bash
# VSwap swap: RAM=64M, swap=128M on a host with swap (this test makes a
# swap file and removes it): 150 MB fit, and swap use shows in the table.
. "$VZ_SRC/tests/lib.sh"
vzt_init
. "$VZ_SRC/tests/ts/ubc/res.inc"
vzt_need_prog jq
vzt_need_prog mkswap swapon swapoff
if ! cg_v2 && [ ! -f /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
	vzt_skip_all "kernel without swap accounting (no memory.memsw.*; boot with swapaccount=1)"
fi
# a swap file; where the tree cannot hold one (tmpfs), a zram device
sw=$VZT_TMP/swapfile
why=
if dd if=/dev/zero of="$sw" bs=1M count=256 status=none && chmod 600 "$sw" &&
	mkswap "$sw" >/dev/null 2>&1 && why=$(swapon "$sw" 2>&1); then
	vzt_on_exit "swapoff '$sw'"
else
	why="swap file: ${why:-cannot make one in $VZT_TMP}"
	rm -f "$sw"
	sw=
	# (the guest preloads zram: its modules are not under the chroot's /lib/modules)
	if command -v zramctl >/dev/null && { [ -d /sys/module/zram ] || modprobe zram 2>/dev/null; } &&
		sw=$(zramctl --find --size 256M 2>/dev/null) && [ -n "$sw" ]; then
		vzt_on_exit "zramctl --reset '$sw'"
		if ! mkswap "$sw" >/dev/null 2>&1 || ! err=$(swapon "$sw" 2>&1); then
			vzt_skip_all "swapon not permitted here: $why; zram: ${err:-mkswap failed}"
		fi
		vzt_on_exit "swapoff '$sw'"
	else
		vzt_skip_all "swapon not permitted here ($why) and no zram device (zram module, zramctl)"
	fi
fi
vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
vzt_ok "RAM 64M, swap 128M" vzctl set 101 --ram 64M --swap 128M --save
if cg_v2; then
	vzt_is "$(cg_read 101 memory memory.swap.max)" $((128 << 20)) "swap.max"
else
	vzt_is "$(cg_read 101 memory memory.memsw.limit_in_bytes)" $((192 << 20)) "memsw = RAM + swap"
fi
vzt_ok "150 MB fit in RAM + swap" vzctl exec 101 dd if=/dev/zero of=/dev/null bs=150M count=1
# hold 150 MB (dd blocks writing into a pipe nobody reads)
vzctl exec 101 sh -c 'dd if=/dev/zero bs=150M count=1 | sleep 20' >/dev/null 2>&1 &
held=0
for i in $(seq 50); do
	held=$(vzctl ubc 101 -j | jq '.[] | select(.resource=="swappages") | .held')
	[ "${held:-0}" -gt $((60 << 20 >> 12)) ] && break
	sleep 0.2
done
vzt_true "swap use shows in the table (swappages held $held pages)" test "${held:-0}" -gt $((60 << 20 >> 12))
vzt_like "$(vzctl ubc 101)" "swappages +[0-9]+" "text table has swappages"
hs=$(beancounter-check --host -j | jq '.containers[] | select(.ctid=="101") | .held_swap')
vzt_true "beancounter-check --host counts the swap in use ($hs)" test "${hs:-0}" -gt $((30 << 20))
vzctl exec 101 dd if=/dev/zero of=/dev/null bs=250M count=1 >/dev/null 2>&1; rc=$?
vzt_is "$rc" 137 "beyond RAM + swap: killed"
vzt_done
