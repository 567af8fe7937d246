"""A unit that floods its output (log=kmsg) cannot stall PID 1 or the
other units: while `yes` writes as fast as it can, a killed unit is
restarted, the console answers, and the flood's lines reach the kernel
log; shutdown still stops everything."""

import re

TABLE = """\
service flood  -- /usr/bin/yes flooding-the-log
service victim -- /bin/sleep 1000
tty     console tty=%s stop-signal=HUP after=flood,victim -- /bin/sh -l
"""

PROFILE = r"""
sleep 2
v1=$(cat /sys/fs/cgroup/services/victim/cgroup.procs)
kill $v1
sleep 1
v2=$(cat /sys/fs/cgroup/services/victim/cgroup.procs)
echo "VICTIM before=$v1 after=$v2"
echo "KMSG $(dmesg | grep -c 'flood\[')"
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE})
    m = g.expect(r"VICTIM before=(\d+) after=(\d*)\r?\n", 120)
    before, after = m.group(1), m.group(2)
    t.check(after != "" and after != before,
            "victim was not restarted during the flood (before %s, after %r)" % (before, after))
    n = int(g.expect(r"KMSG (\d+)\r?\n", 30).group(1))
    t.check(n > 100, "only %d flood lines reached the kernel log" % n)
    t.check(g.wait(60) == 0, "the guest did not power off during the flood")
    text = g.text()
    t.check(re.search(r"flood: stopp", text) is not None, "flood was not stopped")
