#!/bin/bash
# ploop live grow for real: tests/ts/ploop/resize.sh inside the guest, where
# root has CAP_SYS_RESOURCE (this host's root lacks it, so here the online
# ext4 resize is refused and only the disk grows).  There the live grow
# under a running writer ends with df inside showing the new size, without
# an unmount.  Every check the guest ran becomes one line here, named
# "v2 ploop/resize.sh: ...".
#
# The guest's /tmp is a tmpfs, and Debian's 6.1 tmpfs refuses O_DIRECT,
# which the ploop server opens its deltas with: the guest's /tmp (where
# the tests make their trees) becomes an ext4 file system on a loop device
# over a file in the guest's /run.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzg_need_guest
vzt_need_prog mkfs.ext4 resize2fs qemu-img

share=$VZT_TMP/guest
mkdir -p "$share/logs"
limit=$(( ${VZ_TEST_TIMEOUT:-600} - 30 ))
# shellcheck disable=SC2016
guest_cmd='set -e
# root in the guest must have what the host lacks, else this proves nothing
caps=$(sed -n "s/^CapEff:\t//p" /proc/self/status)
[ $(( 0x$caps >> 24 & 1 )) = 1 ] || { echo "guest root lacks CAP_SYS_RESOURCE" >&2; exit 3; }
[ -c /dev/fuse ] && [ -c /dev/loop-control ] || { echo "guest lacks /dev/fuse or /dev/loop-control" >&2; exit 3; }
# /tmp becomes ext4; what was mounted below it (this test'"'"'s share for
# the logs, a source tree in /tmp) shows through again
keep=/run/vzt-oldtmp
mkdir -p $keep
mount --rbind /tmp $keep
truncate -s 8G /run/vzt-tmp.img
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 /run/vzt-tmp.img
mount -o loop /run/vzt-tmp.img /tmp
chmod 1777 /tmp
seen=
for m in $(awk -v k="$keep/" "index(\$5, k) == 1 { print substr(\$5, length(k) + 1) }" /proc/self/mountinfo | sort -u); do
	inner=
	for s in $seen; do case $m in "$s"/*) inner=1 ;; esac; done
	[ -z "$inner" ] || continue
	mkdir -p "/tmp/$m"
	mount --rbind "$keep/$m" "/tmp/$m"
	seen="$seen $m"
done
rc=0
"$@" || rc=$?
exit $rc'
vzg_run --share "$share" --mem 1536 --timeout "$limit" -- \
	env VZ_TEST_LOGDIR="$share/logs" VZ_TEST_TIMEOUT=$((limit - 60)) \
	bash -c "$guest_cmd" guest-ploop "$VZ_SRC/tests/run" --build "$VZ_BUILD" ploop/resize.sh
vzt_true "the guest has CAP_SYS_RESOURCE for root, FUSE and loop devices" [ "$vzg_rc" != 3 ]
vzg_import_logs "$share/logs" "v2 " "ploop_resize.sh.log"
vzg_check_summary
# the point of running it there: the checks the host has to skip
log=$share/logs/ploop_resize.sh.log
vzt_true "the guest ran the live grow with the online fs resize (df inside checked)" \
	grep -qE '^ok [0-9]+.*df inside shows ~3G' "$log"
vzt_true "no check of resize.sh was skipped in the guest" \
	bash -c "! grep -q '# SKIP' '$log'"
vzt_done
