#!/bin/bash
# The resource tests (tests/ts/ubc/) once more, inside the guest that boots
# Debian's 6.1 kernel with cgroup v2 only: memory.max/swap.max/high,
# cpu.max/weight, pids.max and io.max for real.  Every check the guest ran
# becomes one line here, named "v2 ubc/NAME.sh: ...".  Split in three parts
# (ubc-v2.sh, ubc-v2-2.sh, ubc-v2-3.sh) to fit one test's time limit.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzg_need_guest
part=$(basename "$0" .sh)
part=${part#ubc-v2}
part=${part#-}
# zram: the swap test swaps to a zram device (the guest's /tmp is tmpfs,
# which swapon refuses)
vzg_run_suite ubc "${part:-1}" 3 --modules zram
