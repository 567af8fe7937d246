"""Per-service watchdogs (issue 15, sd_notify): wd-ping reports its own
pid, WATCHDOG_PID and WATCHDOG_USEC, sends READY=1 and pings.

- `silent` pings three times then stops: it gets SIGABRT (its handler
  says so, from inside the process) and is started again;
- `trig` sends WATCHDOG=trigger at once, long before its 60 s period:
  SIGABRT at once, and started again;
- `steady` pings forever: never aborted; `pinit status steady` shows the
  period and a ping age below it."""

import re

TABLE = """\
service silent ready=notify watchdog=2s log=console -- /usr/bin/wd-ping 3
service trig   ready=notify watchdog=60s log=console -- /usr/bin/wd-ping 0 --trigger
service steady ready=notify watchdog=3s log=console -- /usr/bin/wd-ping forever
service plain  ready=notify log=console -- /usr/bin/wd-ping 0
tty     console tty=%s -- /bin/sh -l
"""

PROFILE = r"""
PS1='sw# '
echo READY
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE}, progs=True)
    g.expect(r"READY\r?\n", 90)
    # Two runs of silent, each aborted: the period starts anew each time.
    g.expect(r"pinit: silent: started \(pid \d+", 60)
    g.expect(r"pinit: silent: started \(pid \d+", 60)
    status = g.run("pinit status steady")
    text = g.text().replace("\r", "")

    def pid_env(name):
        started = re.findall(r"pinit: %s: started \(pid (\d+)" % name, text)
        t.check(started, "%s never started" % name)
        return started

    # The environment, seen by the program: WATCHDOG_PID is its own pid.
    # trig's crash loop outruns the console's rate limit (5 `started`
    # lines a unit in 10 s): a run whose started line was held back is
    # not attributed, and every unit must have a run that is.
    seen = set()
    for m in re.finditer(r"wd-ping: pid (\d+) WATCHDOG_PID=(\S+) WATCHDOG_USEC=(\S+)", text):
        pid, wpid, usec = m.groups()
        unit = next((u for u in ("silent", "trig", "steady", "plain")
                     if pid in pid_env(u)), None)
        if unit is None:
            t.check(pid not in re.findall(r"started \(pid (\d+)", text),
                    "pid %s started as no known unit" % pid)
            continue
        seen.add(unit)
        want = {"silent": "2000000", "trig": "60000000", "steady": "3000000",
                "plain": "unset"}.get(unit)
        t.check(usec == want, "%s (pid %s): WATCHDOG_USEC=%s" % (unit, pid, usec))
        t.check(wpid == (pid if unit != "plain" else "unset"),
                "%s (pid %s): WATCHDOG_PID=%s" % (unit, pid, wpid))
    t.check(seen == {"silent", "trig", "steady", "plain"},
            "runs seen of %s only" % sorted(seen))

    # silent: three pings, silence, SIGABRT received by that very pid.
    first = pid_env("silent")[0]
    t.check(re.search(r"wd-ping: pid %s stops pinging after 3 pings" % first, text),
            "silent did not ping")
    t.check(re.search(r"pinit: silent: watchdog: no ping within 2000 ms; sending SIGABRT "
                      r"to pid %s" % first, text), "no watchdog line for silent")
    t.check(re.search(r"wd-ping: pid %s got SIGABRT" % first, text),
            "silent (pid %s) never got SIGABRT" % first)
    t.check(re.search(r"pinit: silent: killed by signal 6; restarting", text),
            "silent was not restarted after SIGABRT")

    # trig: WATCHDOG=trigger aborts at once, its 60 s notwithstanding.
    tpid = pid_env("trig")[0]
    t.check(re.search(r"pinit: trig: watchdog: WATCHDOG=trigger; sending SIGABRT to pid %s"
                      % tpid, text), "no trigger line")
    t.check(re.search(r"wd-ping: pid %s got SIGABRT" % tpid, text),
            "trig (pid %s) never got SIGABRT" % tpid)
    t.check(len(pid_env("trig")) >= 2, "trig was not started again")

    # steady: pinging, never aborted; status shows the period and a ping age.
    t.check(len(pid_env("steady")) == 1 and "steady: watchdog" not in text,
            "steady was aborted")
    m = re.search(r"watchdog: 3000 ms period, last ping (\d+) ms ago", status)
    t.check(m is not None, "pinit status steady:\n%s" % status)
    t.check(int(m.group(1)) < 3000, "steady's last ping %s ms ago" % m.group(1))
    plain = g.run("pinit status plain")
    t.check("watchdog" not in plain, "a unit without watchdog= shows one:\n%s" % plain)
    g.send("poweroff\n")
    t.check(g.wait(90) == 0, "the guest did not power off")
