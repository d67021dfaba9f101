#!/bin/bash
# The resource tests (tests/ts/ubc/) once more, inside the guest that boots
# Debian's 6.1 kernel with cgroup v2 only: memory.max/swap.max/high,
# cpu.max/weight, pids.max and io.max for real.  Every check the guest ran
# becomes one line here, named "v2 ubc/NAME.sh: ...".  Split in three parts
# to fit one test's time limit: this file runs every third ubc test
# starting with the first; ubc-v2-2.sh and ubc-v2-3.sh source it for the
# others.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzg_need_guest
# zram: the swap test swaps to a zram device (the guest's /tmp is tmpfs,
# which swapon refuses)
vzg_run_suite_part ubc 3 --modules zram
