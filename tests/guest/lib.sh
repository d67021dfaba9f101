# Helpers for integration tests that run in the test guest
# (tests/ts/guest/*.sh), sourced after tests/lib.sh:
#
#   vzg_need_guest                 skip unless qemu and the kernel package are here
#   vzg_run [run-in-guest options] -- CMD...
#                                  run CMD in the guest; vzg_rc, $VZT_TMP/guest.{out,err}
#   vzg_import_logs DIR PREFIX GLOB
#                                  one line here per check in the logs a guest
#                                  tests/run left in DIR (VZ_TEST_LOGDIR)
#   vzg_check_summary              the guest's tests/run ended well and its
#                                  totals match what was imported
#   vzg_run_suite AREA K N [OPT...]
#                                  part K of N of tests/ts/AREA/ through the
#                                  guest's tests/run, imported as "v2 AREA/...";
#                                  OPTs go to run-in-guest (--modules zram)
#   vzg_run_suite_part AREA N [OPT...]
#                                  the same in a test named AREA-v2.sh (part 1)
#                                  or AREA-v2-K.sh (part K)
VZG_RIG=$VZ_SRC/tests/guest/run-in-guest
vzg_rc=""
vzg_passed=0 vzg_failed=0 vzg_skipped=0

vzg_need_guest() {
	local cache=${VZ_GUEST_CACHE:-/var/cache/vz-guest}
	# each guest test boots a TCG guest (about 10 s to minutes of CPU)
	[ -z "${VZ_TEST_NO_GUEST:-}" ] ||
		vzt_skip_all "VZ_TEST_NO_GUEST is set: no cgroup v2 guest tests"
	command -v qemu-system-x86_64 >/dev/null ||
		vzt_skip_all "needs qemu-system-x86_64 for the cgroup v2 guest (scripts/install-deps --test)"
	ls "$cache"/linux-image-6.1.*-amd64_*.deb >/dev/null 2>&1 ||
		vzt_skip_all "needs Debian's 6.1 kernel package in $cache for the guest (scripts/install-deps --test)"
	[ -x /bin/busybox ] ||
		vzt_skip_all "needs /bin/busybox (busybox-static) for the guest's initrd"
}

# Runs run-in-guest; its stdout and stderr are kept in $VZT_TMP/guest.out and
# guest.err and shown here as diagnostics (never as TAP lines of their own).
vzg_run() {
	# The guest's /tmp, /var/tmp and /run are its own: a source or build
	# tree there (a CI clone in /tmp) must be shared to be seen.
	local tree d src_shares=()
	for tree in "$VZ_SRC" "$VZ_BUILD"; do
		d=$(cd "$tree" 2>/dev/null && pwd -P) || continue
		case $d in /tmp/*|/var/tmp/*|/run/*) ;; *) continue ;; esac
		case $d in "$(cd "$VZ_SRC" && pwd -P)"/*) [ "$tree" = "$VZ_BUILD" ] && continue ;; esac
		src_shares+=(--share "$d")
	done
	"$VZG_RIG" --stats ${src_shares[@]+"${src_shares[@]}"} "$@" > "$VZT_TMP/guest.out" 2> "$VZT_TMP/guest.err"
	vzg_rc=$?
	sed 's/^/# guest: /' "$VZT_TMP/guest.out" "$VZT_TMP/guest.err"
	if [ "$vzg_rc" -eq 125 ]; then
		vzt_failmsg "the guest ran to the end"
		vzt_diag "$(grep '^run-in-guest:' "$VZT_TMP/guest.err")"
	fi
	return "$vzg_rc"
}

# vzg_import_logs DIR PREFIX GLOB: for each log DIR/GLOB (tests/run names
# them AREA_NAME.sh.log), its ok / not ok / skip lines become ours, named
# "PREFIXAREA/NAME.sh: what it checked"; its diagnostics follow them.
vzg_import_logs() {
	local dir=$1 prefix=$2 glob=$3 log name line rest
	for log in "$dir"/$glob; do
		[ -f "$log" ] || continue
		name=$(basename "$log" .log)
		name=${name/_//}
		while IFS= read -r line; do
			case $line in
			"not ok"*)
				rest=$(printf '%s' "$line" | sed -E 's/^not ok( [0-9]+)?( - )?//')
				vzg_failed=$((vzg_failed + 1))
				vzt_failmsg "$prefix$name: $rest" ;;
			"ok "*"# SKIP"*)
				vzg_skipped=$((vzg_skipped + 1))
				vzt_skip "$prefix$name: ${line#*# SKIP }" ;;
			"ok "*)
				rest=$(printf '%s' "$line" | sed -E 's/^ok( [0-9]+)?( - )?//')
				vzg_passed=$((vzg_passed + 1))
				vzt_pass "$prefix$name: $rest" ;;
			"1.."*) ;;
			"#"*) printf '%s\n' "$line" ;;
			*) printf '#   %s\n' "$line" ;;
			esac
		done < "$log"
	done
}

# The guest's tests/run prints "N passed, N failed, N skipped" last; check
# that it finished and that every check it counted was imported here.
vzg_check_summary() {
	local sum p f s
	[ "$vzg_rc" = 125 ] && return 1
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$VZT_TMP/guest.out" | tail -n 1)
	if [ -z "$sum" ]; then
		vzt_failmsg "the guest's tests/run printed its totals (exit $vzg_rc)"
		return 1
	fi
	read -r p _ f _ s _ <<< "${sum//,/}"
	vzt_pass "the guest's tests/run finished: $sum"
	# its totals include the unit tests, which are not imported
	if [ "$f" -ne "$vzg_failed" ] && [ "$vzg_failed" -eq 0 ]; then
		vzt_failmsg "the guest's failures were imported ($f counted there, $vzg_failed here)"
	fi
	[ "$p" -ge "$vzg_passed" ] && [ "$s" -ge "$vzg_skipped" ] ||
		vzt_failmsg "imported counts ($vzg_passed passed, $vzg_skipped skipped) within the guest's ($sum)"
}

# vzg_run_suite AREA K N [OPT...]: the guest's tests/run on every Nth
# script of tests/ts/AREA/ from the Kth on (split so that each part fits in
# one test's time limit), its checks imported here.  OPTs are run-in-guest
# options the area needs (e.g. --modules "zram": the guest's job cannot
# load modules itself).
vzg_run_suite() {
	local area=$1 k=$2 n=$3 i=0 t share limit pats=() tmpl=()
	shift 3
	for t in "$VZ_SRC/tests/ts/$area"/*.sh; do
		[ -f "$t" ] || continue
		i=$((i + 1))
		[ $(( (i - 1) % n + 1 )) -eq "$k" ] && pats+=("$area/$(basename "$t")")
	done
	[ ${#pats[@]} -gt 0 ] || vzt_skip_all "no tests in part $k of $n of tests/ts/$area"
	vzt_diag "part $k of $n: ${pats[*]}"
	share=$VZT_TMP/guest
	mkdir -p "$share"
	# A little below this test's own limit in tests/run, so that a slow
	# guest is reported by run-in-guest (with where it was), not killed.
	limit=$(( ${VZ_TEST_TIMEOUT:-600} - 30 ))
	# The suite's busybox template, when tests/run made one: the guest's
	# /tmp is its own, so share the directory (the tests only read it).
	[ -f "${VZ_TEST_TEMPLATE:-}/cache/busybox.tar.gz" ] && tmpl=(--share "$VZ_TEST_TEMPLATE")
	vzg_run --share "$share" "${tmpl[@]}" "$@" --timeout "$limit" -- \
		env VZ_TEST_LOGDIR="$share/logs" VZ_TEST_TIMEOUT=$((limit / 2)) \
		"$VZ_SRC/tests/run" --build "$VZ_BUILD" "${pats[@]}"
	vzg_import_logs "$share/logs" "v2 " "${area}_*.log"
	vzg_check_summary
}

# vzg_run_suite_part AREA N [OPT...]: vzg_run_suite, for an area split in N
# tests that differ only by their names: AREA-v2.sh runs part 1,
# AREA-v2-K.sh part K (each of those sources AREA-v2.sh).
vzg_run_suite_part() {
	local area=$1 n=$2 k
	shift 2
	k=$(basename "$0" .sh)
	case $k in
	"$area-v2") k=1 ;;
	"$area-v2-"[1-9]) k=${k#"$area-v2-"} ;;
	*) vzt_failmsg "$0: a part of $area is named $area-v2.sh or $area-v2-K.sh"; return 1 ;;
	esac
	vzg_run_suite "$area" "$k" "$n" "$@"
}
