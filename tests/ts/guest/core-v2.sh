#!/bin/bash
# The core integration tests (tests/ts/core/) once more, inside a guest that
# boots Debian's 6.1 kernel with cgroup v2 only (tests/guest/run-in-guest):
# the container runtime on the other cgroup version, for real.  Every check
# the guest ran becomes one line here, named "v2 core/NAME.sh: ...".
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzg_need_guest

share=$VZT_TMP/guest
mkdir -p "$share"
# A little below this test's own limit in tests/run, so that a slow guest
# is reported by run-in-guest (with where it was) rather than killed.
limit=$(( ${VZ_TEST_TIMEOUT:-600} - 30 ))
# The suite's busybox template, when tests/run made one: the guest's /tmp is
# its own, so share the directory (the tests only read it).
tmpl=()
[ -f "${VZ_TEST_TEMPLATE:-}/cache/busybox.tar.gz" ] && tmpl=(--share "$VZ_TEST_TEMPLATE")
vzg_run --share "$share" "${tmpl[@]}" --timeout "$limit" -- \
	env VZ_TEST_LOGDIR="$share/logs" VZ_TEST_TIMEOUT=$((limit / 2)) \
	"$VZ_SRC/tests/run" --build "$VZ_BUILD" core/
vzg_import_logs "$share/logs" "v2 " 'core_*.log'
vzg_check_summary
