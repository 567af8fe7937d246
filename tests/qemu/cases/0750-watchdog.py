"""The hardware watchdog PID 1 keeps (issue 15), on the kernel's softdog:
an early task loads the modules (watchdog core, softdog with
soft_noboot=0, so an expiry resets the guest and `-no-reboot` ends
QEMU), PID 1 opens /dev/watchdog0 when it appears.

- kept: 5 s timeout, the box idle for 30 s: the guest stays up, the
  kernel says the watchdog is `active` with PID 1's timeout;
- re-exec: `pinit reexec` hands the open device over (the kernel never
  sees it closed: no `watchdog did not stop!`), the pings go on;
- reload: a new `timeout=` in the table is set on the open device;
- fires: `pinit wedge` (the test-only feature test-wedge: PID 1 stops
  running its loop) and softdog resets the guest;
- shutdown: a unit that ignores SIGTERM with stop-timeout=60s, and
  shutdown-timeout=8s: the guest resets during the shutdown;
- the end: a clean poweroff with magic-close=yes stops the watchdog;
  a reboot never does the magic close."""

import re
import time

import qemu

# In fetch.py's order (the watchdog core first where it is a module).
MODULES = ('task wdt-modules -- /bin/sh -c "for m in $(cat /lib/modules/order); do '
           'insmod /lib/modules/$m.ko $([ $m != softdog ] || echo soft_noboot=0) || exit 1; '
           'done"\n')

PROFILE = r"""
PS1='wd# '
# 30 samples of the kernel's view, one a second.
sample() {
  W=/sys/class/watchdog/watchdog0
  i=0
  while [ $i -lt 30 ]; do
    echo "WD $(cat $W/state) $(cat $W/timeleft 2>/dev/null || echo none)"
    sleep 1
    i=$((i+1))
  done
  echo SAMPLED
}
echo READY
"""

W = "/sys/class/watchdog/watchdog0"
FIRED = r"softdog: Initiating system reboot"


def boot(t, options, units=""):
    table = ("watchdog /dev/watchdog0 %s\n" % options + MODULES + units
             + "tty console tty=%s after=wdt-modules -- /bin/sh -l\n" % t.tty)
    g = t.boot(files={"/etc/pinit.conf": table, "/etc/profile": PROFILE},
               overlays=[t.modules], progs=bool(units))
    g.expect(r"READY\r?\n", 90)
    return g


def seen(g, line, timeout=60):
    """`line` anywhere on the console, before the last match or after:
    boot lines and the shell's READY come in no fixed order."""
    return g.search(line) or g.expect(line, timeout)


def opened(t, g, timeout):
    # The device is tried every 500 ms until the modules are loaded.
    m = seen(g, r"pinit: watchdog: /dev/watchdog0 opened: timeout (\d+)s asked, (\d+)s "
                r"accepted; a ping every (\d+) ms")
    t.check(m.group(1) == m.group(2) == str(timeout), "softdog took %r" % (m.groups(),))
    t.check(int(m.group(3)) == timeout * 500, "pings every %s ms" % m.group(3))


def kept_then_wedged(t):
    g = boot(t, "timeout=5s")
    opened(t, g, 5)
    info = g.run("echo $(cat %s/identity %s/timeout %s/state)" % (W, W, W))
    t.check(info.split() == ["Software", "Watchdog", "5", "active"],
            "the kernel's watchdog0: %r" % info)
    # 30 s idle, sampled every second; the softdog offers no timeleft
    # (no get_timeleft op), so the sample says so and the guest being up
    # after six timeouts is what shows the pings.
    g.send("sample\n")
    out = g.expect(r"(?s)^WD .*?^SAMPLED\r?$", 120).group(0).replace("\r", "")
    samples = re.findall(r"^WD (\S+) (\S+)$", out, re.M)
    t.check(len(samples) == 30, "%d samples:\n%s" % (len(samples), out))
    for state, left in samples:
        t.check(state == "active", "watchdog0 went %s" % state)
        t.check(left == "none" or int(left) >= 2, "timeleft %s of 5 s" % left)
    t.check(g.search(FIRED) is None, "the watchdog fired while PID 1 ran")
    rss = g.run("grep ^Rss: /proc/1/smaps_rollup")
    m = re.search(r"Rss:\s+(\d+) kB", rss)
    t.check(m is not None, "no Rss in /proc/1/smaps_rollup: %r" % rss)
    t.metric("pid1_rss_kib", m.group(1))
    # A re-exec: the new program pings the device it was handed.
    g.send("pinit reexec\n")
    g.expect(r"pinit: watchdog: /dev/watchdog0 kept open across the re-exec; "
             r"a ping every 2500 ms", 60)
    g.expect(r"wd# ", 30)
    idle = g.run("sleep 12; echo $(cat %s/state) $(dmesg | grep -c 'did not stop')" % W, 60)
    t.check(idle.split() == ["active", "0"], "after the re-exec: %r" % idle)
    t.check(g.search(FIRED) is None, "the watchdog fired across the re-exec")
    # A reload with a new timeout: set on the open device.
    g.run("sed -i 's/timeout=5s/timeout=7s/' /etc/pinit.conf; pinit reload-table >/dev/null")
    seen(g, r"pinit: watchdog: /dev/watchdog0: timeout 7s asked, 7s accepted; "
            r"a ping every 3500 ms", 30)
    took = g.run("cat %s/timeout" % W)
    t.check(took.strip() == "7", "watchdog0's timeout after the reload: %r" % took)
    # A wedged PID 1: nothing pings; softdog resets the guest.
    g.send("pinit wedge\n")
    g.expect(r"pinit: wedge: PID 1 stops running its event loop", 30)
    start = time.monotonic()
    g.expect(FIRED, 60)
    waited = time.monotonic() - start
    t.metric("wedge_to_reset_s", "%.1f" % waited)
    code = g.wait(60)
    t.check(code == qemu.EXIT_OTHER and g.search(r"reboot: |Kernel panic") is None,
            "after the watchdog fired: boot exited %s" % code)
    # At most one timeout after the last ping, plus TCG's slack.
    t.check(waited < 7 + 20, "softdog fired %.1f s after the wedge" % waited)


def shutdown_hangs(t):
    g = boot(t, "timeout=5s shutdown-timeout=8s",
             "service stubborn stop-timeout=60s log=console -- /usr/bin/ignore-term\n")
    opened(t, g, 5)
    seen(g, r"ignore-term: pid \d+ ignores SIGTERM")
    g.send("poweroff\n")
    g.expect(r"pinit: watchdog: shutdown: timeout 8s asked, 8s accepted", 30)
    g.expect(FIRED, 60)
    code = g.wait(60)
    text = g.text()
    t.check("reboot: Power down" not in text, "the shutdown finished before the reset")
    t.check("stubborn: stopped" not in text and "SIGKILL" not in text,
            "the stubborn unit was killed before the reset")
    t.check(code == qemu.EXIT_OTHER, "boot exited %s" % code)


def clean_end(t, command, kind, magic):
    g = boot(t, "timeout=5s magic-close=yes")
    opened(t, g, 5)
    g.send(command + "\n")
    g.expect(r"pinit: shutdown: %s\r?\n" % kind, 60)
    code = g.wait(60)
    stopped = g.search(r"pinit: watchdog: /dev/watchdog0 stopped \(magic close") is not None
    t.check(stopped == magic, "%s: magic close %s" % (command, "missing" if magic else "done"))
    t.check(g.search(FIRED) is None, "%s: the watchdog fired" % command)
    t.check(code == {"poweroff": 0, "reboot": 3}[kind], "%s: boot exited %s" % (command, code))


def run(t):
    kept_then_wedged(t)
    shutdown_hangs(t)
    clean_end(t, "poweroff", "poweroff", True)
    clean_end(t, "reboot", "reboot", False)
