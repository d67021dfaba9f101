#!/bin/bash
# Soft-dirty memory tracking (CRIU's pre-dump, vzmigrate's pre-copy) works
# in the test guest, whose Debian 6.1 kernel has it, while this host's
# kernel may not.  A base for the checkpoint tests that need it.
. "$VZ_SRC/tests/lib.sh"
. "$VZ_SRC/tests/guest/lib.sh"
vzt_init
vzt_need_prog python3
vzg_need_guest
probe=$VZ_SRC/tests/guest/soft-dirty-probe

# On the host, for the record only: the answer depends on its kernel.
vzt_diag "host kernel $(uname -r): $("$probe" | tail -n 1)"

script='
uname -r
'"$probe"'; echo "probe exit $?"
if command -v criu >/dev/null; then
	criu check --feature mem_dirty_track >/dev/null 2>&1; echo "criu mem_dirty_track $?"
fi'
vzg_run --timeout 120 -- sh -c "$script"
out=$(cat "$VZT_TMP/guest.out")
vzt_is "$vzg_rc" 0 "the guest ran the probe"
vzt_like "$out" "^6\.1\." "the guest runs Debian's 6.1 kernel"
vzt_like "$out" "after clear_refs 4: dirty pages \[\]" "clear_refs 4 clears every page's soft-dirty bit"
vzt_like "$out" "after writing pages 3 and 7: dirty pages \[3, 7\]" "pagemap bit 55 marks exactly the pages written since"
vzt_like "$out" "probe exit 0" "soft-dirty tracked in the guest"
if command -v criu >/dev/null; then
	vzt_like "$out" "criu mem_dirty_track 0" "criu check --feature mem_dirty_track passes in the guest"
else
	vzt_skip "criu check --feature mem_dirty_track: no criu installed"
fi
