"""Issue 13 point 11, as PID 1: a `pinit.conf=` value longer than pinit's
limit is reported on the console, not ignored (before the fix it was
dropped silently and /etc/pinit.conf ran as if nothing had been asked);
/etc/pinit.conf is used then, and says so."""

import re

TABLE = """\
hostname from-etc
tty console tty=%s stop-signal=HUP -- /bin/sh -l
"""

PROFILE = r"""
echo "HOSTNAME $(hostname)"
poweroff
"""


def run(t):
    path = "/etc/" + "x" * 300 + ".conf"
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
               append="pinit.conf=" + path, timeout=180)
    host = g.expect(r"HOSTNAME (\S+)\r?\n", 90).group(1)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")
    t.check(re.search(r"pinit: pinit\.conf=.*(longer than|too long)", text) is not None,
            "the too-long pinit.conf= is not reported on the console")
    t.check(host == "from-etc", "the table in force is not /etc/pinit.conf: %s" % host)
