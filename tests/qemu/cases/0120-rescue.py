"""The rescue shell: with a table that has no units it answers on the
console, has the console as its controlling terminal, leads its own
session, comes back after `exit`; `pinit.rescue` and `single` on the
kernel command line give it instead of the board's units."""

# Runs at every shell start (a login shell reads /etc/profile).
PROFILE = r"""
PS1='rescue# '
echo "PROFILE pid=$$"
"""

# Fields of /proc/PID/stat after "(comm)": state ppid pgrp session tty_nr tpgid.
STAT = r"""read -r l < /proc/$$/stat; set -- ${l##*)}; echo "STAT-$2-$3-$4-$5-$6-$$-"; : < /dev/tty && echo CTTY-OK"""


# Waits are long: a loaded CI machine once kept a riscv64 guest (TCG)
# from printing its prompt within 30 s.


def answer(t, g):
    """Types into the shell and checks that it computes."""
    g.send("echo $((6*7))\n")
    g.expect(r"^42\r?\n", 90)


def run(t):
    g = t.boot(files={"/etc/profile": PROFILE, "/etc/pinit.conf": "# no units\n"})
    g.expect(r"pinit: the table has no units: starting the rescue shell", 60)
    first = g.expect(r"pinit: rescue: /bin/sh started on %s \(pid (\d+)\)" % t.tty, 60).group(1)
    pid = g.expect(r"PROFILE pid=(\d+)\r?\n", 90).group(1)
    t.check(pid == first, "the shell's $$ is %s, pinit started pid %s" % (pid, first))
    g.expect(r"rescue# ", 90)
    answer(t, g)

    g.send("tty\n")
    m = g.expect(r"^(/dev/\S+|not a tty)\r?\n", 90)
    t.check(m.group(1) == t.tty, "tty says %s, expected %s" % (m.group(1), t.tty))

    g.send(STAT + "\n")
    m = g.expect(r"^STAT-(-?\d+)-(-?\d+)-(-?\d+)-(-?\d+)-(-?\d+)-(\d+)-\r?\n", 90)
    ppid, pgrp, session, tty_nr, tpgid, me = (int(x) for x in m.groups())
    t.check(ppid == 1, "the shell's parent is %d, not PID 1" % ppid)
    t.check(session == me, "session %d is not the shell's own (%d)" % (session, me))
    t.check(pgrp == me, "process group %d is not the shell's own (%d)" % (pgrp, me))
    t.check(tty_nr != 0, "the shell has no controlling terminal (tty_nr 0)")
    t.check(tpgid == me, "the terminal's foreground group is %d, not the shell" % tpgid)
    g.expect(r"^CTTY-OK\r?\n", 10)

    # `exit`: pinit starts a new shell, which works.
    g.send("exit\n")
    second = g.expect(r"pinit: rescue: /bin/sh started on %s \(pid (\d+)\)" % t.tty, 90).group(1)
    t.check(second != first, "the new shell has the old pid %s" % first)
    g.expect(r"PROFILE pid=%s\r?\n" % second, 90)
    g.expect(r"rescue# ", 90)
    answer(t, g)
    g.kill()

    for word in ("pinit.rescue", "single"):
        g = t.boot(files={"/etc/profile": PROFILE}, append=word)
        g.expect(r"pinit: rescue mode requested on the kernel command line", 60)
        g.expect(r"pinit: rescue: /bin/sh started on %s" % t.tty, 90)
        g.expect(r"rescue# ", 90)
        answer(t, g)
        g.kill()
