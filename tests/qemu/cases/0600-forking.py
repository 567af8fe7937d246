"""Forking daemons and kill modes (issue 14 points 1 and 2), checked
from the kernel's side: busybox syslogd without -n (its pidfile, written
after the fork, names the unit's main process) and httpd without -f (no
pidfile: the one process left in its cgroup), both supervised and
restarted after kill -9; a launcher that leaves two processes behind
runs while its cgroup does, and the last one left becomes its main
process; `pinit restart` of a kill=main unit keeps the rest of its
cgroup (cgroup.procs), of a kill=cgroup unit leaves nothing of the old
run; a task that leaves a process behind loses it, and the console says
so."""

import re

import checks

TABLE = """\
task    lo      -- /sbin/ip link set lo up
task    varrun  -- /bin/ln -sfn /run /var/run
service syslogd ready=forked pidfile=/var/run/syslogd.pid after=varrun -- /sbin/syslogd -O /run/messages
service httpd   ready=forked after=lo -- /usr/sbin/httpd -p 127.0.0.1:8080 -h /www
service group   ready=forked -- /bin/sh -c "sleep 1001 & sleep 1002 & exit 0"
service keep    kill=main -- /bin/sh -c "sleep 1003 & exec sleep 1004"
service sweep   -- /bin/sh -c "sleep 1005 & exec sleep 1006"
task    leaver  -- /bin/sh -c "sleep 1007 & exit 0"
tty     console tty=%s stop-signal=HUP after=syslogd,httpd,group,keep,sweep,leaver -- /bin/sh -l
"""

PROFILE = r"""
cg() { cat /sys/fs/cgroup/services/$1/cgroup.procs | tr '\n' ' '; }
jpid() { pinit status $1 --json | sed 's/.*"pid":\([0-9]*\).*/\1/'; }
jstate() { pinit status $1 --json | sed 's/.*"state":"\([a-z-]*\)".*/\1/'; }
# A new main pid for unit $1 other than $2, once it runs again.
again() {
  for i in $(seq 60); do
    j=$(pinit status $1 --json)
    p=$(echo "$j" | sed 's/.*"pid":\([0-9]*\).*/\1/')
    case "$j" in *'"state":"running"'*)
      [ "$p" != 0 ] && [ "$p" != "$2" ] && { echo $p; return; } ;;
    esac
    sleep 0.5
  done
  echo none
}
show() { echo "$1 pid=$2 comm=$(cat /proc/$2/comm 2>/dev/null) cg=[$(cg $3)] state=$(jstate $3)"; }

sp=$(jpid syslogd)
show SYSLOGD $sp syslogd; echo "SYSLOGD-FILE $(cat /var/run/syslogd.pid)"
logger -t pinit-test hello-from-the-guest; sleep 1
grep -q hello-from-the-guest /run/messages && echo SYSLOG-OK
kill -9 $sp
sp2=$(again syslogd $sp)
sleep 1
show SYSLOGD2 $sp2 syslogd; echo "SYSLOGD2-FILE $(cat /var/run/syslogd.pid)"

hp=$(jpid httpd)
show HTTPD $hp httpd; echo "HTTPD-PAGE $(wget -qO- http://127.0.0.1:8080/index.html)"
kill -9 $hp
hp2=$(again httpd $hp)
sleep 1
show HTTPD2 $hp2 httpd; echo "HTTPD2-PAGE $(wget -qO- http://127.0.0.1:8080/index.html)"

show GROUP $(jpid group) group
for p in $(cg group); do grep -q 1001 /proc/$p/cmdline && kill $p; done
gp=$(again group 0)
show GROUP2 $gp group; echo "GROUP2-CMD $(tr '\000' ' ' < /proc/$gp/cmdline)"

kb=$(cg keep); km=$(jpid keep)
pinit restart keep; kn=$(again keep $km); sleep 1
echo "KEEP before=[$kb] main=$km after=[$(cg keep)] new=$kn"
sb=$(cg sweep); sm=$(jpid sweep)
pinit restart sweep; sn=$(again sweep $sm); sleep 1
echo "SWEEP before=[$sb] after=[$(cg sweep)] new=$sn"

echo "LEAVER cg=[$(cg leaver)] state=$(jstate leaver)"
pinit status
echo FORKING-DONE
poweroff
"""


def run(t):
    files = {"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE,
             "/www/index.html": "pinit-says-hello\n"}
    g = t.boot(files=files, smp=2, timeout=300)
    g.expect(r"FORKING-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    def show(tag):
        m = grab(r"^%s pid=(\d+) comm=(\S*) cg=\[([\d ]*)\] state=(\S+)" % tag)
        return int(m.group(1)), m.group(2), m.group(3).split(), m.group(4)

    # syslogd: the PID its pidfile names (written after the fork) is the
    # unit's, the daemon itself, in its cgroup; it logs; after kill -9 a
    # new one is found the same way.
    for tag in ("SYSLOGD", "SYSLOGD2"):
        pid, comm, procs, state = show(tag)
        filed = int(grab(r"^%s-FILE (\d+)" % tag).group(1))
        t.check(state == "running" and pid == filed,
                "%s: pinit says pid %d (%s), the pidfile %d" % (tag, pid, state, filed))
        t.check(comm == "syslogd" and procs == [str(pid)],
                "%s: pid %d is %r, its cgroup holds %r" % (tag, pid, comm, procs))
    t.check(show("SYSLOGD")[0] != show("SYSLOGD2")[0], "syslogd was not restarted")
    grab(r"^SYSLOG-OK")
    grab(r"syslogd: killed by signal 9; restarting in \d+ ms")

    # httpd: no pidfile, the one process left in its cgroup.
    for tag in ("HTTPD", "HTTPD2"):
        pid, comm, procs, state = show(tag)
        t.check(state == "running" and comm == "httpd" and procs == [str(pid)],
                "%s: pid %d is %r (%s), cgroup %r" % (tag, pid, comm, state, procs))
        grab(r"^%s-PAGE pinit-says-hello" % tag)
    t.check(show("HTTPD")[0] != show("HTTPD2")[0], "httpd was not restarted")

    # group: two processes and no pidfile: running with no main process;
    # one of them killed, the other is the main process.
    pid, _, procs, state = show("GROUP")
    t.check(pid == 0 and state == "running" and len(procs) == 2,
            "group: pid %d state %s cgroup %r" % (pid, state, procs))
    grab(r"group: ready; several processes and no pidfile=: running while its cgroup has processes")
    pid, comm, procs, state = show("GROUP2")
    t.check(state == "running" and procs == [str(pid)] and comm == "sleep",
            "group after a kill: pid %d (%s) cgroup %r" % (pid, comm, procs))
    grab(r"^GROUP2-CMD sleep 1002")
    grab(r"group: main process is now pid %d, the only one left in its cgroup" % pid)

    # kill=main: the restart signals the main process only; the child of
    # the old run stays in the cgroup beside the new run.
    m = grab(r"^KEEP before=\[([\d ]*)\] main=(\d+) after=\[([\d ]*)\] new=(\d+)")
    before, main, after, new = m.group(1).split(), m.group(2), m.group(3).split(), m.group(4)
    old_child = [p for p in before if p != main]
    t.check(len(before) == 2 and len(old_child) == 1, "keep before the restart: %r" % before)
    t.check(old_child[0] in after and main not in after and new in after and len(after) == 3,
            "kill=main restart: before %r (main %s), after %r (new %s)" % (before, main, after, new))
    # kill=cgroup: nothing of the old run is left.
    m = grab(r"^SWEEP before=\[([\d ]*)\] after=\[([\d ]*)\] new=(\d+)")
    before, after = m.group(1).split(), m.group(2).split()
    t.check(len(before) == 2 and len(after) == 2 and not set(before) & set(after),
            "kill=cgroup restart: before %r, after %r" % (before, after))

    # A task that leaves a process behind: killed, and said.
    grab(r"leaver: done \(exited with status 0\)")
    grab(r"leaver: killed 1 process it left behind in its cgroup")
    grab(r"^LEAVER cg=\[\] state=done")
