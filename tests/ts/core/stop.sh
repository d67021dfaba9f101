#!/bin/bash
# Graceful stop runs the CT's own shutdown; --timeout then kill; --fast.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
priv=$VZT_TMP/private/101
cat > "$priv/etc/rc.d/S50mark" <<'X'
#!/bin/sh
[ "$1" = stop ] && echo stopped > /root/mark
exit 0
X
chmod 755 "$priv/etc/rc.d/S50mark"
vzt_ok "graceful stop" vzctl stop 101
vzt_is "$(cat "$priv/root/mark" 2>/dev/null)" stopped "the CT's shutdown scripts ran"
rm -f "$priv/root/mark"

vzt_ok "start" vzctl start 101
t0=$(date +%s%N)
vzt_ok "stop --fast" vzctl stop 101 --fast
t1=$(date +%s%N)
# no halt inside, no wait for it: well under any STOP_TIMEOUT (a bound,
# not a speed check -- bench/start-stop measures speed -- with room for
# the TCG guest on a busy host, which once took over 1 s here)
ms=$(( (t1 - t0) / 1000000 ))
vzt_true "--fast does not wait for a halt ($ms ms < 5 s)" test "$ms" -lt 5000
vzt_true "--fast skips the shutdown scripts" test ! -e "$priv/root/mark"

# an init that ignores halt: the timeout, then a kill
vzt_ok "start" vzctl start 101
mv "$priv/bin/busybox" "$priv/bin/busybox.real"
printf '#!/bin/busybox.real sh\ncase "$0" in *halt) exit 0 ;; esac\nexec /bin/busybox.real "$(basename "$0")" "$@"\n' > "$priv/sbin/halt.stub"
rm "$priv/sbin/halt"; cp "$priv/sbin/halt.stub" "$priv/sbin/halt"; chmod 755 "$priv/sbin/halt"
mv "$priv/bin/busybox.real" "$priv/bin/busybox"
sed -i 's|^#!/bin/busybox.real sh|#!/bin/sh|; s|/bin/busybox.real|/bin/busybox|' "$priv/sbin/halt"
t0=$(date +%s%N)
vzt_ok "stop --timeout 1 of a CT that ignores halt" vzctl stop 101 --timeout 1
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
vzt_true "it waited the timeout, then killed ($ms ms)" test "$ms" -ge 1000 -a "$ms" -lt 5000
vzt_is "$(vzctl status 101)" "CTID 101 exist unmounted down" "down after the kill"
ps_left=$(ps -eo args | grep -c "^/sbin/init$")
vzt_done
