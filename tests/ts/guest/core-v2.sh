#!/bin/bash
# The core integration tests (tests/ts/core/) once more, inside a guest that
# boots Debian's 6.1 kernel with cgroup v2 only (tests/guest/run-in-guest):
# the container runtime on the other cgroup version, for real.  Every check
# the guest ran becomes one line here, named "v2 core/NAME.sh: ...".
#
# Under TCG the whole core suite outlasts one test's time limit in
# tests/run, so it is split: this file runs every third core test starting
# with the first; core-v2-2.sh and core-v2-3.sh source it for the others.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzg_need_guest
vzg_run_suite_part core 3
