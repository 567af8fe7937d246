"""The everyday chores of issue 14 (points 3, 4, 6, 8, 9), checked from
the kernel's side: `pinit start` of a unit does not run the done task it
needs= again, an explicit start of the task does; runtime directories
with their owner and mode from stat(1), gone after a stop (the parent of
a nested one stays), kept with runtime-dir-keep=yes; env-file values in
/proc/PID/environ, over env=; a task past its timeout= stopped and
failed, with its console line; the boot naming what has not settled 30
s after the units began to start; one word per state and no MEM for a
done task in `pinit status`."""

import json
import re

import checks

TABLE = """\
env     G=global
task    once                      -- /bin/sh -c "echo run >> /run/once-stamp"
service user  needs=once          -- /bin/sleep 1000
service dirs  user=app group=staff runtime-dir=dirs:0750 runtime-dir=nest/inner:2770 -- /bin/sleep 1001
service kept  runtime-dir=kept runtime-dir-keep=yes -- /bin/sleep 1002
service envy  env-file=/etc/envy env-file=-/etc/missing env=B=unit -- /bin/sleep 1003
task    stuck timeout=2s          -- /bin/sleep 1004
service never ready=notify        -- /bin/sleep 1005
tty     console tty=%s stop-signal=HUP after=user,dirs,kept,envy -- /bin/sh -l
"""

PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\nstaff:x:1001:app\n"

ENVY = """\
# Defaults for envy, as /etc/default files are written.
A=from-file
export B='file wins'

Q="say \\"hi\\""
"""

PROFILE = r"""
jpid() { pinit status $1 --json | sed 's/.*"pid":\([0-9]*\).*/\1/'; }
jstate() { pinit status $1 --json | sed 's/.*"state":"\([a-z-]*\)".*/\1/'; }
st() { stat -c '%u:%g:%a' $1 2>/dev/null || echo gone; }

echo "STAMP $(wc -l < /run/once-stamp)"
pinit stop user; sleep 1
pinit start user; sleep 2
echo "STAMP2 $(wc -l < /run/once-stamp) user=$(jstate user) once=$(jstate once)"
pinit start once; sleep 2
echo "STAMP3 $(wc -l < /run/once-stamp)"

echo "DIRS $(st /run/dirs) $(st /run/nest/inner) $(st /run/nest) $(st /run/kept)"
pinit stop dirs; pinit stop kept; sleep 2
echo "GONE $(st /run/dirs) $(st /run/nest/inner) $(st /run/nest) $(st /run/kept)"

ep=$(jpid envy)
echo "ENV $(tr '\000' '|' < /proc/$ep/environ)"

for i in $(seq 20); do [ "$(jstate stuck)" = failed ] && break; sleep 1; done
echo "STUCK state=$(jstate stuck) procs=[$(cat /sys/fs/cgroup/services/stuck/cgroup.procs)]"

pinit status
pinit status --json > /run/status.json
echo "JSON $(cat /run/status.json)"
echo LATE-WAIT
sleep 40
echo CHORES-DONE
poweroff
"""


def run(t):
    files = {"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE, "/etc/envy": ENVY,
             "/etc/passwd": PASSWD, "/etc/group": GROUP}
    g = t.boot(files=files, timeout=300)
    g.expect(r"CHORES-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    # Done tasks stay done: the start of a dependent does not run it,
    # its own start does.
    grab(r"^STAMP 1$")
    grab(r"^STAMP2 1 user=running once=done$")
    grab(r"^STAMP3 2$")

    # Runtime directories: owner and mode as asked; the parent of a
    # nested one is root's 0755 and stays; kept stays.
    m = grab(r"^DIRS (\S+) (\S+) (\S+) (\S+)")
    t.check(m.groups() == ("1000:1001:750", "1000:1001:2770", "0:0:755", "0:0:755"),
            "runtime dirs: %r" % (m.groups(),))
    m = grab(r"^GONE (\S+) (\S+) (\S+) (\S+)")
    t.check(m.groups() == ("gone", "gone", "0:0:755", "0:0:755"),
            "after the stop: %r" % (m.groups(),))

    # env-file: its values in the process's environment, over env=.
    env = grab(r"^ENV (.*)").group(1).split("|")
    for want in ("A=from-file", "B=file wins", 'Q=say "hi"', "G=global"):
        t.check(want in env, "%r not in envy's environment %r" % (want, env))
    t.check("B=unit" not in env, "env= won over the env file: %r" % env)

    # A task past its timeout: a console line, stopped, failed.
    grab(r"stuck: still running 2\d{3} ms after start \(timeout=\); stopping it")
    grab(r"stuck: failed: still running at its timeout=")
    grab(r"^STUCK state=failed procs=\[\]")

    # The boot names what is still not settled.
    grab(r"boot: not settled 30 s after the units began to start: .*never \(starting\)")
    late = grab(r"boot: not settled .*").group(0)
    t.check("stuck" not in late and "dirs" not in late, "settled units named: %s" % late)

    # One word per state; no MEM for a done task.
    m = grab(r"^once +task +(\S+) +- +- +\d+ +exit:0 +(\S+)")
    t.check(m.group(1) == "done" and m.group(2) == "-",
            "once in pinit status: state %s MEM %s" % m.groups())
    units = {u["unit"]: u for u in json.loads(grab(r"^JSON (.*)").group(1))}
    t.check(units["once"]["state"] == "done" and units["once"]["memory_bytes"] is None,
            "once in JSON: %s" % units["once"])
    t.check(units["user"]["memory_bytes"] is not None, "a running unit lost its MEM")
    t.check(re.search(r"^pinit: once: done \(exited with status 0\)", text, re.M) is not None,
            "the console's word for once is not done")
