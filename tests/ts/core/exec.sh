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
vzt_like "$(vzctl exec 101 cat /proc/self/cgroup)" "pids:/$" "exec joins the CT's cgroups"
vzt_is "$(vzctl exec 101 ls -d /proc/[0-9]* | wc -l)" 2 "exec'd process is in the CT's pid namespace"

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
