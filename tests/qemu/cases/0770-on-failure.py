"""Failure actions (issue 15): `on-failure=reboot` on a task that fails
reboots the machine (the kernel's `reboot: Restarting system`, QEMU
exits 3), through the whole shutdown; `on-failure=poweroff` on a service
that reaches its restart-limit powers it off; a failed unit without
on-failure= changes nothing."""

import qemu
from checks import steps

REBOOT = """\
task    harmless              -- /bin/false
service keep                  -- /bin/sleep 1000
task    doomed on-failure=reboot -- /bin/sh -c "sleep 2; exit 3"
"""

POWEROFF = """\
service app restart-limit=3 restart-max=200ms on-failure=poweroff -- /bin/sh -c "exit 7"
service keep -- /bin/sleep 1000
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": REBOOT})
    g.expect(r"pinit: harmless: failed: exited with status 1", 60)
    g.expect(r"pinit: doomed: failed: exited with status 3", 60)
    g.expect(r"pinit: doomed: on-failure=reboot: rebooting the machine", 30)
    for line in steps("reboot", None):
        g.expect(line, 30)
    g.expect(r"reboot: Restarting system", 30)
    code = g.wait(60)
    t.check(code == qemu.EXIT_REBOOT, "boot exited %s" % code)
    t.check(g.search(r"harmless: on-failure") is None, "harmless took an action")
    t.check(g.search(r"keep: stopped") is not None, "keep was not stopped first")

    g = t.boot(files={"/etc/pinit.conf": POWEROFF})
    g.expect(r"pinit: app: failed: restart-limit reached", 60)
    g.expect(r"pinit: app: on-failure=poweroff: powering off the machine", 30)
    g.expect(r"reboot: Power down", 60)
    code = g.wait(60)
    t.check(code == qemu.EXIT_POWEROFF, "boot exited %s" % code)
