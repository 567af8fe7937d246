"""Issue 13 point 4: PID 1 never blocks on a child. A child that stops
between fork and exec must not stop the other units or `pinit status`.
Made deterministic with the cgroup freezer: the console's shell freezes
the (empty) cgroup of unit `frz` while it backs off, so its next child
is frozen in its cgroup before it can exec or report. Meanwhile `tick`
(a unit restarted every second) must keep being started, and `pinit
status` must answer, showing `frz` as `starting` (forked, not exec'd);
once thawed, its child execs and `frz` runs. PID 1 used to wait in a
blocking read of the child's exec report, so none of this happened until
the cgroup was thawed."""

import re

TABLE = """\
service frz  restart-max=1s -- /bin/sh -c "[ -e /run/frz-go ] && exec /bin/sleep 1000; exit 1"
service tick restart-max=1s -- /bin/sh -c "echo t >> /run/ticks; exit 1"
tty     console tty=%s stop-signal=HUP -- /bin/sh -l
"""

PROFILE = r"""
cg=/sys/fs/cgroup/services/frz
sleep 2
echo 1 > $cg/cgroup.freeze
touch /run/frz-go
n=0
while [ -z "$(cat $cg/cgroup.procs)" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
echo "FROZEN-CHILD $(cat $cg/cgroup.procs | tr '\n' ' ') state=$(grep frozen $cg/cgroup.events)"
t0=$(wc -l < /run/ticks)
sleep 4
t1=$(wc -l < /run/ticks)
timeout 20 pinit status > /tmp/st
echo "STATUS-RC $?"
echo "TICKS $t0 $t1"
echo "FRZ-FROZEN $(awk '$1 == "frz" {print $3}' /tmp/st)"
echo 0 > $cg/cgroup.freeze
n=0
while ! pinit status | grep -q '^frz .* running' && [ $n -lt 50 ]; do sleep 0.2; n=$((n+1)); done
echo "FRZ-THAWED $(pinit status | awk '$1 == "frz" {print $3}') $(cat /proc/$(pinit status | awk '$1 == "frz" {print $4}')/comm)"
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE}, timeout=180)
    fz = g.expect(r"FROZEN-CHILD ([\d ]*)state=(.*)\r?\n", 90)
    t.check(fz.group(1).strip() != "", "no child of frz was frozen in its cgroup")
    rc = int(g.expect(r"STATUS-RC (\d+)\r?\n", 60).group(1))
    m = g.expect(r"TICKS (\d+) (\d+)\r?\n", 10)
    t0, t1 = int(m.group(1)), int(m.group(2))
    t.metric("ticks_while_frozen", t1 - t0)
    t.check(t1 > t0, "tick was not restarted while frz's child was frozen (%d, %d)" % (t0, t1))
    t.check(rc == 0, "`pinit status` did not answer while frz's child was frozen (rc %d)" % rc)
    st = g.expect(r"FRZ-FROZEN (\S*)\r?\n", 10).group(1)
    t.check(st == "starting", "frz is %r while its child is frozen before its exec" % st)
    th = g.expect(r"FRZ-THAWED (\S*) (\S*)\r?\n", 30)
    t.check(th.group(1) == "running" and th.group(2) == "sleep",
            "frz after the thaw: %r (its main process: %r)" % (th.group(1), th.group(2)))
    t.check(g.wait(90) == 0, "the guest did not power off")
