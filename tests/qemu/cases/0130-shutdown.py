"""Shutdown: busybox's poweroff, reboot and halt against pinit, pinit's
own client (as `pinit poweroff`, `-f`, a `poweroff` symlink, `telinit
6`), and a process that ignores SIGTERM. Checks the boot tool's exit
code and the order of pinit's shutdown lines.

Booted with `pinit.rescue`: no units to stop, only the rescue shell."""

from checks import shutdown


def run(t):
    # busybox's applets signal PID 1 (USR2, TERM, USR1).
    shutdown(t, "poweroff", "poweroff")
    shutdown(t, "reboot", "reboot")
    shutdown(t, "halt", "halt")
    # pinit's client, by its names. With `exec` the shell is gone when
    # pinit looks, so nothing outlives SIGTERM: no grace period, no SIGKILL.
    link = "ln -s /sbin/init /tmp/%s && echo LINKED"
    shutdown(t, "exec /tmp/poweroff", "poweroff", killed=False,
             prepare=[(link % "poweroff", r"^LINKED\r?\n")])
    shutdown(t, "/tmp/pinit poweroff -f", "poweroff", forced=True,
             prepare=[(link % "pinit", r"^LINKED\r?\n")])
    shutdown(t, "exec /tmp/telinit 6", "reboot", killed=False,
             prepare=[(link % "telinit", r"^LINKED\r?\n")])
    # A process that ignores SIGTERM is killed after the grace period.
    # The shell is gone (exec), so the SIGKILL is for ignore-term alone.
    shutdown(t, "exec poweroff", "poweroff", killed=True, progs=True,
             prepare=[("ignore-term &", r"ignore-term: pid \d+ ignores SIGTERM")])
