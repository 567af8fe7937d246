"""Control commands driven from a shell inside the guest, checked
against the kernel: pinit status shows PIDs that exist and sit in the
unit's cgroup; stop leaves no process in the cgroup; restart changes the
PID; signal and reload (the reload signal, HUP) are delivered; log reads the unit's lines back from the
kernel log; boot prints the timeline."""

import re

import checks

TABLE = """\
service web -- /bin/sh -c "echo web says hello; exec sleep 1000"
service trap -- /bin/sh -c "trap 'echo got-usr1 > /run/usr1' USR1; trap 'echo got-hup > /run/hup' HUP; while :; do sleep 1; done"
service db  -- /bin/sleep 1001
service app needs=db -- /bin/sleep 1002
tty     console tty=%s stop-signal=HUP after=web,trap,app -- /bin/sh -l
"""

PROFILE = r"""
cgprocs() { cat /sys/fs/cgroup/services/$1/cgroup.procs | tr '\n' ' '; }
pinit status
st=$(pinit status --json)
wpid=$(pinit status web --json | sed 's/.*"pid":\([0-9]*\).*/\1/')
echo "WEB pid=$wpid cg=$(cgprocs web) alive=$([ -d /proc/$wpid ] && echo yes)"
pinit stop db; echo "STOP rc=$?"
sleep 1
echo "AFTERSTOP db=[$(cgprocs db)] app=[$(cgprocs app)]"
pinit status db | grep state
pinit start app; echo "START rc=$?"
sleep 1
echo "AFTERSTART db=[$(cgprocs db)] app=[$(cgprocs app)]"
pinit restart web; sleep 1
wpid2=$(pinit status web --json | sed 's/.*"pid":\([0-9]*\).*/\1/')
echo "RESTART old=$wpid new=$wpid2 cg=$(cgprocs web)"
pinit signal trap USR1; echo "SIGNAL rc=$?"
sleep 2
echo "USR1 $(cat /run/usr1 2>/dev/null)"
pinit reload trap; echo "RELOAD rc=$?"
sleep 2
echo "HUP $(cat /run/hup 2>/dev/null)"
pinit status nosuch; echo "UNKNOWN rc=$?"
pinit log web | grep -q 'web says hello' && echo LOG-OK
pinit boot
echo CONTROL-DONE
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE}, smp=2)
    g.expect(r"CONTROL-DONE", 120)
    t.check(g.wait(60) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    t.check(re.search(r"^UNIT +KIND +STATE", text, re.M) is not None, "no status table")
    m = grab(r"WEB pid=(\d+) cg=([\d ]*) alive=(\w*)")
    t.check(m.group(3) == "yes", "status's web pid %s does not exist" % m.group(1))
    t.check(m.group(1) in m.group(2).split(), "web pid %s not in its cgroup %r" % (m.group(1), m.group(2)))
    grab(r"STOP rc=0")
    m = grab(r"AFTERSTOP db=\[([\d ]*)\] app=\[([\d ]*)\]")
    t.check(m.group(1).strip() == "" and m.group(2).strip() == "",
            "stop db left processes: db %r app %r (app needs db)" % (m.group(1), m.group(2)))
    grab(r"state:\s+stopped")
    grab(r"START rc=0")
    m = grab(r"AFTERSTART db=\[([\d ]*)\] app=\[([\d ]*)\]")
    t.check(len(m.group(1).split()) == 1 and len(m.group(2).split()) == 1,
            "start app did not bring up app and db: %r %r" % (m.group(1), m.group(2)))
    m = grab(r"RESTART old=(\d+) new=(\d+) cg=([\d ]*)")
    t.check(m.group(1) != m.group(2) and m.group(2) in m.group(3).split(),
            "restart: old %s new %s cgroup %r" % m.groups())
    grab(r"SIGNAL rc=0")
    grab(r"USR1 got-usr1")
    grab(r"RELOAD rc=0")
    grab(r"HUP got-hup")
    grab(r"UNKNOWN rc=3")
    grab(r"LOG-OK")
    grab(r"^UNIT +DEPS-MET +STARTED +READY")
    grab(r"boot: every unit settled \d+ ms after kernel start; critical chain: ")
