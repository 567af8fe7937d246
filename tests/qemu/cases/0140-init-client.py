"""pinit installed as /sbin/init is also its own client: `/sbin/init
poweroff` (argv[0] `init`, not PID 1) asks PID 1 to power off, as `pinit
poweroff` does. Also sysvinit's `init 0` (argv[0] `/sbin/init`).

Booted with `pinit.rescue`: no units to stop, only the rescue shell."""

from checks import shutdown


def run(t):
    shutdown(t, "exec /sbin/init 0", "poweroff", killed=False)
    shutdown(t, "exec /sbin/init poweroff", "poweroff", killed=False)
