#!/bin/bash
# A container on a cgroup v2-only kernel (the test guest): controllers
# enabled down to its group, the device allow-list enforced by BPF, live
# changes, cleanup.  The checks run in the guest
# (tests/guest/checks/cgroup-v2.sh) and come back here one by one.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzg_need_guest
share=$VZT_TMP/guest
mkdir -p "$share/logs"
if [ -f "${VZ_TEST_TEMPLATE:-}/cache/busybox.tar.gz" ]; then
	tmpl=$VZ_TEST_TEMPLATE
else
	tmpl=$share/template
	mkdir -p "$tmpl/cache"
	VZ_TEMPLATE_DIR=$tmpl vztmpl-busybox > /dev/null || vzt_failmsg "busybox template"
fi
vzg_run --share "$share" --share "$tmpl" --timeout 300 -- \
	sh -c 'VZ_TEST_TEMPLATE="$1" bash "$VZ_SRC/tests/guest/checks/cgroup-v2.sh" > "$2/logs/guest_cgroup-v2.sh.log" 2>&1' \
	sh "$tmpl" "$share"
vzg_import_logs "$share/logs" "v2 " 'guest_*.log'
vzt_true "the checks in the guest ran" test "$vzg_passed" -gt 0
vzt_is "$vzg_rc" "$([ "$vzg_failed" -gt 0 ] && echo 1 || echo 0)" "the guest's exit status agrees"
