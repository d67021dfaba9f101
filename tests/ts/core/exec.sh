#!/bin/bash
# exec and enter: exit codes, stdio, pipelines, commands from stdin, ptys.
. "$VZ_SRC/tests/lib.sh"
vzt_init
vzt_need_prog script
vzt_ct_up 101 --hostname ex1 || { vzt_failmsg "CT starts"; exit 1; }

vzctl exec 101 sh -c 'exit 7'; rc=$?
vzt_is "$rc" 7 "exit status of the command"
vzctl exec 101 true; vzt_is "$?" 0 "true is 0"
vzctl exec 101 sh -c 'kill -9 $$'; vzt_is "$?" 137 "killed command: 128+signal"
vzt_fail 127 "no-such-cmd" "missing command: 127 and its name" vzctl exec 101 no-such-cmd
vzt_is "$(echo hi | vzctl exec 101 cat)" hi "stdin and stdout pass through"
vzt_is "$(seq 1 1000 | vzctl exec 101 wc -l | tr -d ' ')" 1000 "works inside a pipeline"
vzt_is "$(vzctl exec 101 sh -c 'echo err >&2' 2>&1 >/dev/null)" err "stderr passes through"
vzt_is "$(printf 'echo a\necho b\nexit 5\n' | vzctl exec 101; echo "rc=$?")" "a
b
rc=5" "commands from stdin without a command"
vzt_is "$(echo 'echo x' | vzctl exec 101 -)" x "commands from stdin with -"
vzt_is "$(vzctl exec 101 sh -c 'echo $container:$PATH')" \
	"vz:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "clean environment"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then ctl_re="^0::/$"; else ctl_re="pids:/$"; fi
vzt_like "$(vzctl exec 101 cat /proc/self/cgroup)" "$ctl_re" "exec joins the CT's cgroups"
# in every hierarchy: the CT's cgroup namespace shows its own group as /
cgs=$(vzctl exec 101 cat /proc/self/cgroup)
vzt_is "$cgs" "$(vzctl exec 101 cat /proc/1/cgroup)" "exec is in the same groups as init"
vzt_is "$(printf '%s\n' "$cgs" | grep -vc ':/$')" 0 "in the CT's own group in every hierarchy"
# A group file under no cgroup mount vzctl knows (the record names each
# through /proc/self/root here) is probed for its kind, v1 or cgroup2.
run=$VZT_TMP/lock/101.run
cp "$run" "$VZT_TMP/run.saved"
vzt_on_exit "cp '$VZT_TMP/run.saved' '$run'"
sed -i 's|^\(CGROUP_PROCS="\)|\1/proc/self/root|; /^CGROUP_PROCS=/s| /| /proc/self/root/|g' "$run"
vzt_like "$(grep ^CGROUP_PROCS= "$run")" '^CGROUP_PROCS="/proc/self/root/[^ ]*( /proc/self/root/[^ ]*)*"$' \
	"record rewritten to paths outside the mount table"
vzt_is "$(vzctl exec 101 cat /proc/self/cgroup)" "$cgs" "exec probes such paths and joins the same groups"
cp "$VZT_TMP/run.saved" "$run"
# (counting /proc entries would race with the CT's own start scripts)
init_pid=$(sed -n 's/^INIT_PID=//p' "$VZT_TMP/lock/101.run")
vzt_is "$(vzctl exec 101 readlink /proc/self/ns/pid)" "$(readlink /proc/$init_pid/ns/pid)" \
	"exec'd process is in the CT's pid namespace"
vzt_is "$(vzctl exec 101 cat /proc/1/comm)" init "and sees the CT's init as PID 1"

vzt_is "$(vzctl exec 101 sh -c 'test -e /proc/$$/fd/7 && echo leaked || echo clean' 7</etc/hostname)" clean \
	"the caller's fds above 2 do not enter the CT"
vzctl exec 101 sleep 30 </dev/null & ex=$!
sleep 0.5
kill -INT $ex
t0=$(date +%s); wait $ex; rc=$?; t1=$(date +%s)
vzt_true "^C (SIGINT) reaches a command without a terminal (exit $rc, $((t1 - t0)) s)" test $rc -eq 130 -a $((t1 - t0)) -lt 5
vzt_is "$(vzctl exec 101 ps -o comm= | grep -c '^sleep$')" 0 "and it is gone"

printf 'echo "script in $(hostname)"\nexit 3\n' > "$VZT_TMP/s.sh"
out=$(vzctl runscript 101 "$VZT_TMP/s.sh"); rc=$?
vzt_is "$out:$rc" "script in ex1:3" "runscript runs a host script inside"

out=$(printf 'hostname\nexit 4\n' | script -qec "vzctl enter 101" /dev/null | tr -d '\r')
vzt_like "$out" "ex1" "enter: a shell inside on a pty"
out=$(printf 'tty\nexit\n' | script -qec "vzctl enter 101" /dev/null | tr -d '\r')
vzt_like "$out" "/dev/pts/[0-9]+" "enter: the shell's terminal is a pty of the CT's devpts"
printf 'exit 4\n' | script -qec "vzctl enter 101" /dev/null >/dev/null
vzt_is "$?" 4 "enter returns the shell's exit status"
out=$(printf 'sleep 30 &\njobs\nkill %%1\nexit\n' | script -qec "vzctl enter 101" /dev/null | tr -d '\r')
vzt_like "$out" "Running|\\+ " "enter: job control (jobs lists a background job)"
out=$(printf 'stty size\nexit\n' | script -qec "stty rows 33 cols 101; vzctl enter 101" /dev/null | tr -d '\r')
vzt_like "$out" "33 101" "enter: window size passed to the pty"

vzctl stop 101 --fast
vzt_fail 255 "not running" "exec in a stopped CT: 255 and why" vzctl exec 101 true
vzt_fail 255 "not running" "enter in a stopped CT" vzctl enter 101
vzt_fail 255 "does not exist" "exec in a CT that does not exist" vzctl exec 555 true
vzt_done
