"""The service table's sources (docs/config.md): a broken /etc/pinit.conf is
reported error by error (FILE:LINE:COL) and the compiled-in board runs
instead; `pinit.conf=PATH` on the kernel command line wins over
/etc/pinit.conf. Checked from inside the guest: which units' cgroups hold
processes."""

import re

# Run by the login shell of the table's console tty unit.
PROFILE = r"""
for d in /sys/fs/cgroup/services/*/; do
  n=$(basename $d); p=$(cat $d/cgroup.procs | wc -l)
  echo "UNIT $n $p"
done
echo "HOSTNAME $(hostname)"
poweroff
"""

BROKEN = """\
# two mistakes, both must be reported
service web cpu=1 -- /bin/sleep 100
bogus line
"""


def other(tty):
    return """\
hostname other-table
service sleeper -- /bin/sleep 1000
tty     console tty=%s stop-signal=HUP -- /bin/sh -l
""" % tty


def units(g):
    text = g.text().replace("\r", "")
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"UNIT (\S+) (\d+)", text)}


def run(t):
    # 1. A broken /etc/pinit.conf: every error, then the board.
    g = t.boot(files={"/etc/pinit.conf": BROKEN, "/etc/profile": PROFILE})
    g.expect(r"/etc/pinit.conf:2:13: error: unknown option 'cpu' — did you mean 'cpus'\?", 60)
    g.expect(r"/etc/pinit.conf:3:1: error: unknown statement 'bogus'", 10)
    g.expect(r"using the compiled-in table 'qemu-%s' instead" % t.arch, 10)
    g.expect(r"service table: compiled-in board 'qemu-%s' \(\d+ units\)" % t.arch, 10)
    g.expect(r"HOSTNAME pinit-qemu", 60)
    t.check(g.wait(90) == 0, "the guest did not power off")
    u = units(g)
    t.check(u.get("syslogd", 0) >= 1, "the board's syslogd is not running: %r" % u)
    t.check("web" not in u, "a unit of the broken table got a cgroup: %r" % u)

    # 2. pinit.conf= wins over a valid /etc/pinit.conf.
    etc = "service frometc -- /bin/sleep 1000\ntty console tty=%s -- /bin/sh -l\n" % t.tty
    g = t.boot(files={"/etc/pinit.conf": etc, "/etc/other.conf": other(t.tty),
                      "/etc/profile": PROFILE},
               append="pinit.conf=/etc/other.conf")
    g.expect(r"service table: /etc/other.conf \(2 units\)", 60)
    g.expect(r"HOSTNAME other-table", 60)
    t.check(g.wait(90) == 0, "the guest did not power off")
    u = units(g)
    t.check(u.get("sleeper", 0) == 1, "sleeper is not running in its cgroup: %r" % u)
    t.check("frometc" not in u and "syslogd" not in u, "another table ran: %r" % u)
