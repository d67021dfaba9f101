#!/bin/bash
# Runs INSIDE the test guest (tests/ts/guest/cgroup-v2.sh starts it): a
# container on a cgroup v2-only kernel gets every controller in its group,
# the device allow-list is enforced (BPF), and nothing is left at the end.
. "$VZ_SRC/tests/lib.sh"
vzt_init
[ -f /sys/fs/cgroup/cgroup.controllers ] || vzt_skip_all "not a cgroup v2 host"
vzt_ct_up 101 || { vzt_failmsg "CT starts"; exit 1; }
g=/sys/fs/cgroup/$CGROUP_PARENT/101
for c in cpu io memory pids; do
	vzt_like " $(cat "$g/cgroup.controllers") " " $c " "the CT's group has the $c controller"
done
vzt_true "memory.max can be set on the CT's group" sh -c "echo 64M > $g/memory.max"
vzt_is "$(cat "$g/memory.max")" 67108864 "memory.max reads back"
vzt_like "$(vzctl exec 101 cat /proc/self/cgroup)" "^0::/$" "the CT sees its group as the root"
vzt_fail 1 "not permitted" "mknod of /dev/mem refused" vzctl exec 101 mknod /tmp/mem c 1 1
vzt_fail 1 "not permitted" "mknod of a loop device refused by default" vzctl exec 101 mknod /tmp/loop0 b 7 0
vzt_ok "/dev/null usable" vzctl exec 101 sh -c 'echo x > /dev/null'
vzt_is "$(vzctl exec 101 head -c 3 /dev/zero | wc -c)" 3 "/dev/zero readable"
vzt_ok "mknod of an allowed device (c 1:3)" vzctl exec 101 mknod /tmp/null2 c 1 3
vzt_ok "allow the loop device live" vzctl set 101 --devices b:7:0:rw --save
vzt_ok "now mknod of it works" vzctl exec 101 mknod /tmp/loop0 b 7 0
vzt_fail 1 "not permitted" "its neighbour b 7:1 still refused" vzctl exec 101 mknod /tmp/loop1 b 7 1
vzt_ok "deny it again live" vzctl set 101 --devices b:7:0:none --save
vzt_fail 1 "not permitted" "refused again" vzctl exec 101 mknod /tmp/loop0b b 7 0
vzt_ok "restart" vzctl restart 101 --fast
vzt_fail 1 "not permitted" "a denied device stays denied after restart" vzctl exec 101 mknod /tmp/loop0c b 7 0
vzt_ok "stop" vzctl stop 101 --fast
vzt_true "the CT's group is gone" test ! -e "$g"
vzt_done
