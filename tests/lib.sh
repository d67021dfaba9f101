# Shared by the integration tests (tests/ts/AREA/NAME.sh).  A test:
#
#   . "$VZ_SRC/tests/lib.sh"
#   vzt_init                       # own tree, VZ_CONFDIR, cgroup parent, traps
#   vzt_ok "CT starts" vzctl start 101
#   vzt_fail 4 "not exist" "status of a missing CT" vzctl start 999
#   vzt_is "$(vzctl exec 101 hostname)" web1 "hostname inside"
#   vzt_done
#
# Output is TAP-like ("ok N - ..." / "not ok N - ..." / "# SKIP"), counted by
# tests/run.  Everything the test made is removed on exit, even on failure:
# containers are stopped, mounts under the tree unmounted, loop devices
# detached, cgroups removed, netns and veths named with the test's tag
# deleted.
set -u
: "${VZ_SRC:?run through tests/run}"
: "${VZ_BUILD:=$VZ_SRC/build}"
export PATH="$VZ_BUILD/tools:$VZ_SRC/scripts:$PATH"

vzt_n=0
vzt_failed=0
vzt_cleanups=()

vzt_pass() { vzt_n=$((vzt_n + 1)); echo "ok $vzt_n - $*"; }
vzt_failmsg() { vzt_n=$((vzt_n + 1)); vzt_failed=$((vzt_failed + 1)); echo "not ok $vzt_n - $*"; }
vzt_diag() { printf '%s\n' "$@" | sed 's/^/#   /'; }

# vzt_skip_all REASON: the whole test cannot run here (name the feature).
vzt_skip_all() { vzt_n=$((vzt_n + 1)); echo "ok $vzt_n # SKIP $*"; exit 0; }
vzt_skip() { vzt_n=$((vzt_n + 1)); echo "ok $vzt_n # SKIP $*"; }

# vzt_ok DESC CMD...: CMD must succeed.
vzt_ok() {
	local desc=$1; shift
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then vzt_pass "$desc"
	else vzt_failmsg "$desc"; vzt_diag "command: $*" "exit: $rc" "$out"; fi
	return $rc
}

# vzt_fail CODE REGEX DESC CMD...: CMD must exit with CODE and print one
# line on stderr matching REGEX.
vzt_fail() {
	local code=$1 re=$2 desc=$3; shift 3
	local err rc
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq "$code" ] && printf '%s' "$err" | grep -qE -- "$re"; then
		vzt_pass "$desc"
	else
		vzt_failmsg "$desc"
		vzt_diag "command: $*" "exit: $rc (want $code)" "stderr: $err" "want match: $re"
		return 1
	fi
}

# vzt_is GOT WANT DESC
vzt_is() {
	if [ "$1" = "$2" ]; then vzt_pass "$3"
	else vzt_failmsg "$3"; vzt_diag "got:  '$1'" "want: '$2'"; return 1; fi
}

# vzt_like GOT REGEX DESC
vzt_like() {
	if printf '%s' "$1" | grep -qE -- "$2"; then vzt_pass "$3"
	else vzt_failmsg "$3"; vzt_diag "got:  '$1'" "want match: '$2'"; return 1; fi
}

# vzt_true DESC CONDITION-CMD...: like vzt_ok but shows no output.
vzt_true() { local d=$1; shift; if "$@"; then vzt_pass "$d"; else vzt_failmsg "$d"; return 1; fi; }

vzt_need_root() { [ "$(id -u)" -eq 0 ] || vzt_skip_all "needs root"; }
vzt_need_prog() { local p; for p; do command -v "$p" >/dev/null || vzt_skip_all "needs $p (scripts/install-deps)"; done; }

# Runs at exit, last added first.
vzt_on_exit() { vzt_cleanups+=("$*"); }

vzt_cgroup_roots() {
	local d
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo /sys/fs/cgroup; return; fi
	for d in /sys/fs/cgroup/*/; do
		[ -L "${d%/}" ] && continue
		echo "${d%/}"
	done
}

vzt_cleanup() {
	local rc=$? i ct m d
	set +e
	for ((i = ${#vzt_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${vzt_cleanups[$i]}" >/dev/null 2>&1
	done
	if [ -d "$VZ_CONFDIR/conf" ]; then
		for ct in "$VZ_CONFDIR"/conf/*.conf; do
			ct=$(basename "$ct" .conf)
			case $ct in *[!0-9]*|'') continue ;; esac
			timeout 20 vzctl --quiet stop "$ct" --fast >/dev/null 2>&1
			timeout 20 vzctl --quiet umount "$ct" >/dev/null 2>&1
		done
	fi
	# anything still in our cgroups dies
	for d in $(vzt_cgroup_roots); do
		[ -d "$d/$CGROUP_PARENT" ] || continue
		find "$d/$CGROUP_PARENT" -name cgroup.procs -exec cat {} + 2>/dev/null |
			xargs -r kill -9 2>/dev/null
	done
	sleep 0.1
	# unmount everything below the tree, deepest first
	awk -v t="$VZT_TMP" '$5 == t || index($5, t "/") == 1 {print $5}' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m"; done
	# loop devices backed by files in the tree
	losetup -a 2>/dev/null | grep -F "$VZT_TMP" | cut -d: -f1 | xargs -r -n1 losetup -d
	for d in $(vzt_cgroup_roots); do
		[ -d "$d/$CGROUP_PARENT" ] || continue
		find "$d/$CGROUP_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	for m in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -F "$VZT_TAG"); do
		ip netns pids "$m" 2>/dev/null | xargs -r kill -9
		ip netns del "$m"
	done
	for m in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -F "$VZT_TAG"); do
		ip link del "$m"
	done
	rm -rf "$VZT_TMP"
	if [ "$vzt_failed" -gt 0 ] && [ $rc -eq 0 ]; then rc=1; fi
	echo "1..$vzt_n"
	exit $rc
}

# Creates the test's own host tree and traps its removal.
vzt_init() {
	vzt_need_root
	VZT_TMP=$(mktemp -d /tmp/vzt.XXXXXX)
	chmod 755 "$VZT_TMP"
	# a short tag unique to this test, used in cgroup, netns and link names
	VZT_TAG=vzt${VZT_TMP##*.}
	VZT_TAG=$(printf '%s' "$VZT_TAG" | tr -dc 'a-zA-Z0-9' | cut -c1-9)
	export VZ_CONFDIR=$VZT_TMP/etc
	export CGROUP_PARENT=$VZT_TAG
	trap vzt_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$VZ_CONFDIR/conf" "$VZT_TMP/private" "$VZT_TMP/root" \
		"$VZT_TMP/lock" "$VZT_TMP/dump"
	local tmpl=${VZ_TEST_TEMPLATE:-$VZT_TMP/template}
	sed -e "s|^VE_ROOT=.*|VE_ROOT=\"$VZT_TMP/root/\$VEID\"|" \
	    -e "s|^VE_PRIVATE=.*|VE_PRIVATE=\"$VZT_TMP/private/\$VEID\"|" \
	    -e "s|^TEMPLATE=.*|TEMPLATE=\"$tmpl\"|" \
	    -e "s|^LOCKDIR=.*|LOCKDIR=\"$VZT_TMP/lock\"|" \
	    -e "s|^DUMPDIR=.*|DUMPDIR=\"$VZT_TMP/dump\"|" \
	    -e "s|^LOGFILE=.*|LOGFILE=\"$VZT_TMP/vzctl.log\"|" \
	    -e "s|^CGROUP_PARENT=.*|CGROUP_PARENT=\"$CGROUP_PARENT\"|" \
	    "$VZ_SRC/etc/vz.conf" > "$VZ_CONFDIR/vz.conf"
	cp "$VZ_SRC"/etc/*.conf-sample "$VZ_CONFDIR/conf/" 2>/dev/null
}

# Creates and starts CT $1 from the busybox template (extra create args follow).
vzt_ct_up() {
	local ct=$1; shift
	vzctl create "$ct" --ostemplate busybox "$@" >/dev/null &&
		vzctl start "$ct" >/dev/null
}

vzt_done() { exit 0; }
