"""Issue 13 point 1: a notify flood cannot stall PID 1. An unprivileged
process in no unit floods /run/pinit/notify for 20 s from two threads on
two CPUs; meanwhile `pinit status` answers, orphans are reaped (no
zombie left while the flood runs), and the console carries at most a few
dozen notify lines (today: one per datagram). The `pinit status` latency
with and without the flood is recorded as a figure, never asserted."""

import re


TABLE = """\
service web -- /bin/sleep 1000
tty     console tty=%s stop-signal=HUP after=web -- /bin/sh -l
"""

# The flooder leaves the console unit's cgroup for the root one: a
# process in no unit, as user nobody (notify-flood drops to 65534).
PROFILE = r"""
zombies() { grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l; }
for i in 1 2 3; do echo "IDLE $(timed pinit status)"; done
sh -c 'echo $$ > /sys/fs/cgroup/cgroup.procs; exec notify-flood 20 2' &
flood=$!
sleep 3
echo "FLOOD-UP $(kill -0 $flood && echo yes)"
for i in 1 2 3; do echo "BUSY $(timed pinit status)"; done
orphans 20 >/dev/null
n=0
while [ "$(zombies)" -gt 0 ] && [ $n -lt 50 ]; do sleep 0.2; n=$((n+1)); done
echo "REAPED zombies=$(zombies) flood-running=$(kill -0 $flood 2>/dev/null && echo yes || echo no)"
wait $flood
echo "FLOOD-DONE"
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
               progs=True, smp=2, timeout=300)
    g.expect(r"FLOOD-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")
    idle = [(int(a), int(b)) for a, b in re.findall(r"IDLE timed (\d+) (-?\d+)", text)]
    busy = [(int(a), int(b)) for a, b in re.findall(r"BUSY timed (\d+) (-?\d+)", text)]
    t.check(re.search(r"FLOOD-UP yes", text) is not None, "the flooder was not running")
    t.check(len(busy) == 3 and all(rc == 0 for _, rc in busy),
            "`pinit status` did not answer during the flood: %r" % busy)
    if idle and busy:
        i_ms = sorted(ms for ms, _ in idle)[len(idle) // 2]
        b_ms = sorted(ms for ms, _ in busy)[len(busy) // 2]
        b_max = max(ms for ms, _ in busy)
        t.metric("status_ms_idle", i_ms)
        t.metric("status_ms_flood", b_ms)
        t.metric("status_ms_flood_max", b_max)
        t.metric("status_flood_ratio", "%.1f" % (b_ms / max(i_ms, 1)))
        t.metric("status_flood_max_ratio", "%.1f" % (b_max / max(i_ms, 1)))
    m = re.search(r"REAPED zombies=(\d+) flood-running=(\w+)", text)
    t.check(m is not None and m.group(1) == "0" and m.group(2) == "yes",
            "orphans were not reaped while the flood ran: %r" % (m and m.group(0)))
    sent = re.search(r"notify-flood: sent (\d+)", text)
    lines = len(re.findall(r"^pinit: notify", text, re.M))
    t.metric("flood_datagrams", sent.group(1) if sent else "?")
    t.metric("notify_console_lines", lines)
    t.check(lines <= 40, "%d notify lines on the console during the flood" % lines)
