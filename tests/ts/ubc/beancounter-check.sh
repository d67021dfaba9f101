#!/bin/bash
# beancounter-check as an administrator uses it: validate (exit 0/1/2),
# repair in place, interactive, --host sums, --split, JSON.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_need_prog jq
conf=$VZ_CONFDIR/conf

# a good VSwap config passes
cat > "$conf/101.conf" <<'X'
# web server
HOSTNAME="web"
PHYSPAGES="0:256M"
SWAPPAGES="0:0"
CPUUNITS="2000"
X
vzt_ok "VSwap config passes" beancounter-check "$conf/101.conf"
vzt_ok "a CTID names its config" beancounter-check 101
out=$(beancounter-check 101)
vzt_is "$out" "Validation completed: success" "no issues printed for a good config"

# a broken classic config fails with Error: lines and exit 2
cat > "$conf/102.conf" <<'X'
# old style
HOSTNAME="db"
NUMPROC="100:120"
NUMFILE="100"
DCACHESIZE="10K:10K"
KMEMSIZE="100K:100K"
TCPSNDBUF="10K:10K"
NUMTCPSOCK="80"
ONBOOT="yes"
X
cp "$conf/102.conf" "$VZT_TMP/102.orig"
out=$(beancounter-check "$conf/102.conf"); rc=$?
vzt_is "$rc" 2 "broken config: exit 2"
vzt_like "$out" "^Error: NUMPROC barrier \(100\) must equal its limit \(120\)" "shape rule named"
vzt_like "$out" "Error: NUMFILE" "formula 8 named"
vzt_like "$out" "Warning: TCPSNDBUF barrier" "formula 6 is a warning"
vzt_like "$out" "Recommendation: not a VSwap config" "VSwap recommended"
vzt_true "checking changed nothing" cmp -s "$conf/102.conf" "$VZT_TMP/102.orig"

# -j: the same verdict as JSON
j=$(beancounter-check -j "$conf/102.conf")
vzt_is "$(jq -r .result <<<"$j")" failed "JSON result"
vzt_is "$(jq '[.issues[] | select(.severity=="error")] | length' <<<"$j")" \
	"$(grep -c '^Error:' <<<"$out")" "JSON and text count the same errors"

# -r: repaired in place, other lines kept, then it passes
out=$(beancounter-check -r "$conf/102.conf"); rc=$?
vzt_is "$rc" 0 "repair: exit 0"
vzt_like "$out" 'Fixed: NUMPROC="120:120"' "repair says what it set"
vzt_ok "repaired config passes" beancounter-check "$conf/102.conf"
vzt_is "$(head -3 "$conf/102.conf")" '# old style
HOSTNAME="db"
NUMPROC="120:120"' "comment and lines kept in place"
vzt_true "ONBOOT kept" grep -q '^ONBOOT="yes"' "$conf/102.conf"
vzt_is "$(ls "$conf" | grep -c tmp)" 0 "no temporary file left"

# -i: answers decide
cp "$VZT_TMP/102.orig" "$conf/103.conf"
printf 'n\nn\nn\nn\nn\nn\nn\nn\nn\nn\nn\nn\n' | beancounter-check -i "$conf/103.conf" >/dev/null
vzt_true "-i answered no: unchanged" cmp -s "$conf/103.conf" "$VZT_TMP/102.orig"
yes y | head -50 | beancounter-check -i "$conf/103.conf" >/dev/null; rc=$?
vzt_is "$rc" 0 "-i answered yes: exit 0"
vzt_ok "-i repaired config passes" beancounter-check "$conf/103.conf"

# unreadable config: exit 1
beancounter-check "$conf/999.conf" >/dev/null 2>&1; rc=$?
vzt_is "$rc" 1 "missing config: exit 1"
printf 'NUMPROC=a b\n' > "$VZT_TMP/bad.conf"
vzt_fail 1 "bad.conf:1" "syntax error: exit 1 with FILE:LINE" beancounter-check "$VZT_TMP/bad.conf"
vzt_fail 1 "give one of" "no arguments" beancounter-check
vzt_fail 1 "give one of" "-r with --host refused" beancounter-check -r --host

# --host: sums match the configs
rm -f "$conf/103.conf"
cat > "$conf/104.conf" <<'X'
PHYSPAGES="0:1G"
SWAPPAGES="0:512M"
CPUUNITS="500"
CPULIMIT="50"
X
j=$(beancounter-check --host -j); rc=$?
vzt_is "$rc" 0 "--host: exit 0"
vzt_is "$(jq '.containers | length' <<<"$j")" 3 "three containers (samples skipped)"
vzt_is "$(jq .totals.ram <<<"$j")" null "a CT without RAM limit makes the RAM sum unlimited"
rm -f "$conf/102.conf"
j=$(beancounter-check --host -j)
vzt_is "$(jq .totals.ram <<<"$j")" $(( (256 + 1024) << 20 )) "RAM sum = 256M + 1G"
vzt_is "$(jq .totals.commit <<<"$j")" $(( (256 + 1024 + 512) << 20 )) "RAM + swap sum"
vzt_is "$(jq .totals.cpuunits <<<"$j")" 2500 "CPU units sum"
ram=$(( $(awk '/^MemTotal/{print $2}' /proc/meminfo) * 1024 ))
vzt_is "$(jq .host.ram <<<"$j")" "$ram" "host RAM from /proc/meminfo"
vzt_is "$(jq .host.cpus <<<"$j")" "$(getconf _NPROCESSORS_ONLN)" "host CPUs"
out=$(beancounter-check --host)
vzt_like "$out" "RAM commitment: +1280M of" "text shows the RAM commitment"
echo 'PHYSPAGES="0:'$((ram / 1024 / 1024 * 2))'M"' > "$conf/105.conf"
echo 'SWAPPAGES="0:0"' >> "$conf/105.conf"
vzt_like "$(beancounter-check --host)" "Warning: RAM is overcommitted" "overcommit warned"

# --split: the sample passes its own validation
beancounter-check --split 20 > "$conf/ve-split20.conf-sample"; rc=$?
vzt_is "$rc" 0 "--split 20"
vzt_like "$(cat "$conf/ve-split20.conf-sample")" 'PHYSPAGES="0:[0-9]+M"' "sample has RAM"
vzt_ok "split sample passes validation" beancounter-check "$conf/ve-split20.conf-sample"
vzt_is "$(beancounter-check "$conf/ve-split20.conf-sample" | grep -c -E '^(Error|Warning)')" 0 "no errors or warnings in it"
j=$(beancounter-check --split 20 -j)
vzt_is "$(( $(jq .ram <<<"$j") * 20 + $(jq .reserve <<<"$j") <= ram ))" 1 "20 x RAM + reserve fit the host"
vzt_fail 1 "32M" "a split too fine is refused" beancounter-check --split 100000

# the shipped samples pass
for f in "$VZ_SRC"/etc/ve-*.conf-sample; do
	vzt_ok "$(basename "$f") passes" beancounter-check "$f"
done
vzt_done
