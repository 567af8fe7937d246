"""The boot tool's own contract: a kernel panic (here: PID 1 exits) ends
QEMU with exit code 4, a guest that does not end is killed at --timeout
with 124, and --config FILE becomes /etc/pinit.conf."""

import hashlib
import tempfile

import qemu

# Replaces pinit: the kernel panics when its init exits.
FAKE_INIT = "#!/bin/sh\necho FAKE-INIT-EXITS\nexit 0\n"

# The boot tool's --timeout, for a guest that never ends. Where the
# guest is when it is killed does not matter (a loaded CI machine took
# over 30 s to bring a riscv64 guest to its shell), so the --config boot
# below runs with the default timeout and powers off instead.
TIMEOUT = 30

# Replaces pinit for the --timeout boot: an init that never ends.
SLEEPY_INIT = "#!/bin/sh\necho SLEEPY-INIT\nexec sleep 100000\n"

CONFIG = "# no units: the rescue shell\n"

PROFILE = r"""
echo "CONF $(md5sum < /etc/pinit.conf)"
"""


def run(t):
    g = t.boot(files={"/sbin/init": (FAKE_INIT, 0o755)})
    g.expect(r"FAKE-INIT-EXITS", 240)
    g.expect(r"Kernel panic - not syncing", 60)
    code = g.wait(60)
    t.check(code == qemu.EXIT_PANIC, "panic: boot exited %s, expected %s"
            % (code, qemu.EXIT_PANIC))

    g = t.boot(files={"/sbin/init": (SLEEPY_INIT, 0o755)}, timeout=TIMEOUT)
    code = g.wait(TIMEOUT + 60)
    t.check(code == qemu.EXIT_TIMEOUT, "timeout: boot exited %s, expected %s"
            % (code, qemu.EXIT_TIMEOUT))
    t.check(g.search(r"boot: timeout after %ds" % TIMEOUT) is not None, "no timeout message")

    with tempfile.NamedTemporaryFile("w", suffix=".conf", dir=str(qemu.CACHE)) as conf:
        conf.write(CONFIG)
        conf.flush()
        g = t.boot(files={"/etc/profile": PROFILE}, config=conf.name)
        want = hashlib.md5(CONFIG.encode()).hexdigest()
        got = g.expect(r"CONF ([0-9a-f]{32})", 240).group(1)
        t.check(got == want, "/etc/pinit.conf is not the --config file")
        g.send("poweroff -f\n")
        code = g.wait(120)
    t.check(code == qemu.EXIT_POWEROFF, "poweroff: boot exited %s, expected %s"
            % (code, qemu.EXIT_POWEROFF))
