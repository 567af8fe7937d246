"""The boot tool's own contract: a kernel panic (here: PID 1 exits) ends
QEMU with exit code 4, a guest that does not end is killed at --timeout
with 124, and --config FILE becomes /etc/pinit.conf."""

import hashlib
import tempfile

import qemu

# Replaces pinit: the kernel panics when its init exits.
FAKE_INIT = "#!/bin/sh\necho FAKE-INIT-EXITS\nexit 0\n"

# Long enough to boot to the shell under load, short enough to wait for.
# 10 s was too short on a 2-core machine with a load average of 10 (other
# QEMU guests and builds): the kernel had not yet run /init when it was
# killed, on both arches.
TIMEOUT = 30

CONFIG = "# no units: the rescue shell\n"

PROFILE = r"""
echo "CONF $(md5sum < /etc/pinit.conf)"
"""


def run(t):
    g = t.boot(files={"/sbin/init": (FAKE_INIT, 0o755)})
    g.expect(r"FAKE-INIT-EXITS", 60)
    g.expect(r"Kernel panic - not syncing", 30)
    code = g.wait(60)
    t.check(code == qemu.EXIT_PANIC, "panic: boot exited %s, expected %s"
            % (code, qemu.EXIT_PANIC))

    with tempfile.NamedTemporaryFile("w", suffix=".conf", dir=str(qemu.CACHE)) as conf:
        conf.write(CONFIG)
        conf.flush()
        g = t.boot(files={"/etc/profile": PROFILE}, config=conf.name, timeout=TIMEOUT)
        want = hashlib.md5(CONFIG.encode()).hexdigest()
        got = g.expect(r"CONF ([0-9a-f]{32})", 60).group(1)
        t.check(got == want, "/etc/pinit.conf is not the --config file")
        code = g.wait(60)
    t.check(code == qemu.EXIT_TIMEOUT, "timeout: boot exited %s, expected %s"
            % (code, qemu.EXIT_TIMEOUT))
    t.check(g.search(r"boot: timeout after %ds" % TIMEOUT) is not None, "no timeout message")
