"""Checks shared by the cases: a shutdown driven from the rescue shell,
finding a console line, counting zombies."""

import re

import qemu

PROFILE = r"""
PS1='rescue# '
echo READY
"""


# The end of a line of pinit's: its newline, or a kernel line's
# timestamp, which the console may print into the middle of it (the
# kernel's `tsc: Refined TSC` line once split `pinit: shutdown: poweroff`
# from its newline on x86_64).
END = r"(?=\r?\n|\[ *\d+\.\d+\])"


def steps(kind, killed):
    """pinit's shutdown lines in order (docs/design.md §2)."""
    s = [r"pinit: shutdown: %s requested" % kind,
         r"pinit: shutdown: sending SIGTERM to all processes"]
    if killed:
        s.append(r"pinit: shutdown: sending SIGKILL to all processes")
    return s + [r"pinit: shutdown: syncing file systems",
                r"pinit: shutdown: unmounting file systems",
                r"pinit: shutdown: \d+ unmounted, \d+ remounted read-only, \d+ left as they were",
                r"pinit: shutdown: %s%s" % (kind, END)]


# For a guest's shell profile. `zombies`: a line `ZOMBIE <stat>` per
# process in state Z (the kernel's /proc/PID/stat), then their number.
# `settled`: the same once none is left, or after 2 s (the last orphans
# may still be on their way to PID 1), and `ZOMBIES N`.
ZOMBIES = r"""
zombies() {
    n=0
    for f in /proc/[0-9]*/stat; do
        { read -r l < "$f"; } 2>/dev/null || continue
        s=${l##*)}; s=${s# }
        case "$s" in Z*) n=$((n + 1)); echo "ZOMBIE $l";; esac
    done
    echo "$n"
}
settled() {
    for i in 1 2 3 4 5 6 7 8 9 10; do
        z=$(zombies | tail -n 1)
        [ "$z" = 0 ] && break
        sleep 0.2
    done
    zombies | grep ZOMBIE
    echo "ZOMBIES $z"
}
"""

KERNEL = {"poweroff": r"reboot: Power down", "reboot": r"reboot: Restarting system",
          "halt": r"reboot: System halted"}
EXIT = {"poweroff": qemu.EXIT_POWEROFF, "reboot": qemu.EXIT_REBOOT}


def shutdown(t, command, kind, killed=None, prepare=(), forced=False, progs=False):
    """Boots, types `prepare` lines and `command`, checks the lines and
    the exit code. `killed`: True/False if the SIGKILL line must/must not
    appear, None if either is fine (the rescue shell ignores SIGTERM, as
    interactive shells do, so it may take the grace period)."""
    g = t.boot(files={"/etc/profile": PROFILE}, progs=progs, append="pinit.rescue")
    g.expect(r"READY\r?\n", 60)
    g.expect(r"rescue# ", 30)
    for line, answer in prepare:
        g.send(line + "\n")
        g.expect(answer, 30)
    g.send(command + "\n")
    if forced:
        g.expect(r"pinit: shutdown: %s%s" % (kind, END), 60)
    else:
        lines = steps(kind, killed is True)
        # A client that fails says so at once: report that, not a timeout.
        m = g.expect(r"%s|pinit: (?:usage|unknown|unable)[^\n]*\n" % lines[0], 60)
        t.check("requested" in m.group(0), "%s: %s" % (command, m.group(0).strip()))
        for line in lines[1:]:
            g.expect(line, 30)  # the grace period is 5 s
        if killed is False:
            t.check(g.search(r"sending SIGKILL") is None,
                    "%s: SIGKILL sent though nothing was left" % command)
    g.expect(KERNEL[kind], 30)
    if forced:
        t.check(g.search(r"pinit: shutdown: sending SIGTERM") is None,
                "%s: -f went through the SIGTERM steps" % command)
    if kind == "halt":
        # The machine stays up, halted: end QEMU ourselves.
        t.check(g.proc.poll() is None, "QEMU exited after halt")
        g.kill()
        return
    code = g.wait(60)
    t.check(code == EXIT[kind], "%s: boot exited %s, expected %s" % (command, code, EXIT[kind]))


def line(t, text, pattern):
    """The first console line matching `pattern` (re.M); the case fails
    naming the pattern when there is none."""
    m = re.search(pattern, text, re.M)
    t.check(m is not None, "no console line %r" % pattern)
    return m
