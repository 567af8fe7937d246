"""cgroup limits under load (issue 5, docs/design.md §9), on a 4-CPU, 2-node
guest: a unit allocating past mem.max is OOM-killed inside its cgroup and
restarted by its policy while PID 1 and the other units go on; a fork
bomb under pids.max=32 stays at 32 and the console still answers; two
CPU-bound units pinned to one CPU with cpu.weight=100 and 400 share it
about 1:4 (cpu.stat usage_usec)."""

import re

import checks

# The hogs spin until /run/stop exists, so they burn CPU only while
# measured.
HOG = '/bin/sh -c "until [ -e /run/stop ]; do :; done; exec sleep 100000"'

TABLE = """\
service oom   mem.max=16M swap.max=0 cpus=0 -- /usr/bin/memhog 64
service bomb  pids.max=32 cpus=1 log=null -- /usr/bin/forkbomb
service w100  cpu.weight=100 cpus=2 -- %(hog)s
service w400  cpu.weight=400 cpus=2 -- %(hog)s
service calm  -- /bin/sleep 100001
tty     console tty=%(tty)s stop-signal=HUP after=oom,bomb,w100,w400,calm -- /bin/sh -l
"""

PROFILE = r"""
CG=/sys/fs/cgroup/services
ev() { grep "^$2 " $CG/$1/$3 | cut -d' ' -f2; }
usage() { ev $1 usage_usec cpu.stat; }
# cpu.weight: both hogs have run since boot; measure 4 s of it.
sleep 1
a=$(usage w100); b=$(usage w400)
sleep 4
echo "WEIGHT $(( $(usage w100) - a )) $(( $(usage w400) - b ))"
touch /run/stop
# mem.max: wait for two OOM kills (the second one is of the restarted
# process).
for i in $(seq 60); do
  [ "$(ev oom oom_kill memory.events)" -ge 2 ] && break
  sleep 0.5
done
# The unit goes on being killed and restarted: read the machine's count
# between two equal reads of the unit's, so no kill falls between them.
for i in $(seq 40); do
  e=$(ev oom oom_kill memory.events)
  v=$(grep '^oom_kill ' /proc/vmstat | cut -d' ' -f2)
  [ "$(ev oom oom_kill memory.events)" = "$e" ] && break
done
echo "OOM events=$e vmstat=$v max=$(cat $CG/oom/memory.max)"
# pids.max: the bomb is held at 32.
echo "PIDS current=$(cat $CG/bomb/pids.current) procs=$(wc -l < $CG/bomb/cgroup.procs) max=$(ev bomb max pids.events)"
echo "STILL calm=$(head -n1 $CG/calm/cgroup.procs) w100=$(head -n1 $CG/w100/cgroup.procs) pid1=$(cut -d' ' -f3 /proc/1/stat)"
echo "ANSWER $((6 * 7))"
poweroff
"""


def run(t):
    table = TABLE % {"hog": HOG, "tty": t.tty}
    g = t.boot(files={"/etc/pinit.conf": table, "/etc/profile": PROFILE},
               progs=True, smp=4, numa=2, mem=512, append="quiet")
    g.expect(r"ANSWER 42", 150)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def line(pattern):
        return checks.line(t, text, pattern)

    # cpu.weight=100 vs 400 on one CPU: about 1:4.
    m = line(r"^WEIGHT (\d+) (\d+)$")
    low, high = int(m.group(1)), int(m.group(2))
    t.check(low > 0 and 2 <= high / low <= 8,
            "usage_usec over 4 s: w100 %d, w400 %d (ratio %.2f)" % (low, high, high / max(low, 1)))
    t.metric("weight_ratio", "%.2f" % (high / low))

    # mem.max: OOM-killed inside its cgroup (every OOM kill of the machine
    # is one of its), restarted by restart=always.
    m = line(r"^OOM events=(\d+) vmstat=(\d+) max=(\d+)$")
    events, total = int(m.group(1)), int(m.group(2))
    t.check(events >= 2, "memory.events oom_kill %d" % events)
    t.check(total == events, "OOM kills outside the unit's cgroup: %d in all, %d in it"
            % (total, events))
    t.check(m.group(3) == str(16 << 20), "memory.max %s" % m.group(3))
    line(r"^pinit: oom: killed by signal 9; restarting in \d+ ms$")
    t.check(len(re.findall(r"^pinit: oom: started", text, re.M)) >= 2, "oom was not restarted")

    # pids.max=32: held there, and the console answered (ANSWER above).
    m = line(r"^PIDS current=(\d+) procs=(\d+) max=(\d+)$")
    current, procs, refused = int(m.group(1)), int(m.group(2)), int(m.group(3))
    t.check(current <= 32 and procs <= 32, "pids.current %d, %d processes" % (current, procs))
    t.check(current >= 30 and refused > 0,
            "the bomb did not reach pids.max: current %d, pids.events max %d" % (current, refused))

    # The other units and PID 1 untouched: started once, same pid.
    m = line(r"^STILL calm=(\d+) w100=(\d+) pid1=(\S+)$")
    for unit, pid in (("calm", m.group(1)), ("w100", m.group(2))):
        starts = re.findall(r"^pinit: %s: started \(pid (\d+)" % unit, text, re.M)
        t.check(starts == [pid], "%s: started %r, now pid %s" % (unit, starts, pid))
    t.check(m.group(3) in ("S", "R"), "PID 1 is %s" % m.group(3))
    t.check(len(re.findall(r"^pinit: bomb: started", text, re.M)) == 1,
            "the bomb's unit was restarted")
