"""The `accounting` statement (issue 20 point 3), from the kernel's side:
the controllers on in `services` are those the table needs. With
`accounting pids` and no limits, only pids is on, the unit's cgroup has
no memory files and `pinit status` shows no memory; with `accounting
none`, a unit that sets mem.max still gets the memory controller (and
its memory.max), and nothing else is on. In both, `services` itself
has pressure (PSI) accounting off while the unit's stays on."""

import json
import re

import checks

PIDS = """\
accounting pids
service plain -- /bin/sleep 100001
tty     console tty=%s stop-signal=HUP after=plain -- /bin/sh -l
"""

NONE = """\
accounting none
service capped mem.max=32M -- /bin/sleep 100002
tty     console tty=%s stop-signal=HUP after=capped -- /bin/sh -l
"""

PROFILE = r"""
cg=/sys/fs/cgroup/services
u=$(ls -d $cg/plain $cg/capped 2>/dev/null | head -n 1)
echo "SUBTREE [$(cat $cg/cgroup.subtree_control)]"
echo "PROCS $(wc -l < $u/cgroup.procs)"
[ -e $u/memory.current ] && echo "MEMCUR present" || echo "MEMCUR absent"
[ -e $u/pids.current ] && echo "PIDSCUR present" || echo "PIDSCUR absent"
[ -e $u/memory.max ] && echo "MEMMAX $(cat $u/memory.max)"
echo "PRESSURE services=$(cat $cg/cgroup.pressure) unit=$(cat $u/cgroup.pressure)"
[ -e $cg/cpu.pressure ] && echo "SVCPSI present" || echo "SVCPSI absent"
echo "UNITPSI $(head -n 1 $u/cpu.pressure)"
echo "STATUS $(pinit status $(basename $u) --json)"
echo ACCOUNTING-DONE
poweroff
"""


def boot(t, table):
    g = t.boot(files={"/etc/pinit.conf": table % t.tty, "/etc/profile": PROFILE})
    g.expect(r"ACCOUNTING-DONE", 120)
    t.check(g.wait(90) == 0, "the guest did not power off")
    return g.text().replace("\r", "")


def pressure(t, text):
    """The kernel's own view: services/cgroup.pressure is 0 and its
    pressure files are hidden; the unit's are there and read."""
    checks.line(t, text, r"^PRESSURE services=0 unit=1$")
    checks.line(t, text, r"^SVCPSI absent$")
    checks.line(t, text, r"^UNITPSI some avg10=\d+\.\d+ ")


def run(t):
    text = boot(t, PIDS)
    checks.line(t, text, r"^SUBTREE \[pids\]$")
    checks.line(t, text, r"^PROCS 1$")
    checks.line(t, text, r"^MEMCUR absent$")
    checks.line(t, text, r"^PIDSCUR present$")
    pressure(t, text)
    status = json.loads(checks.line(t, text, r"^STATUS (\{.*\})$").group(1))
    t.check(status.get("memory_bytes") is None and status.get("state") == "running",
            "pinit status without the memory controller: %r" % status)

    text = boot(t, NONE)
    checks.line(t, text, r"^SUBTREE \[memory\]$")
    checks.line(t, text, r"^PROCS 1$")
    checks.line(t, text, r"^PIDSCUR absent$")
    pressure(t, text)
    checks.line(t, text, r"^MEMMAX %d$" % (32 << 20))
    status = json.loads(checks.line(t, text, r"^STATUS (\{.*\})$").group(1))
    t.check(isinstance(status.get("memory_bytes"), int) and status["memory_bytes"] > 0,
            "pinit status shows no memory for a unit with mem.max: %r" % status)
    t.check(re.search(r"^pinit: .*warning", text, re.M) is None, "a warning from pinit")
