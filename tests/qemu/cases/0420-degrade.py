"""Placement that cannot be had (issue 5, "Degrading cleanly"), on a
4-CPU, 2-node guest booted with the io controller disabled: a CPU and a
node that do not exist and a missing controller give one warning each,
naming unit, option and errno, and the unit runs; isolation that cannot
be had (CPUs the root cannot give away, a CPU that does not exist) is an
error for that unit, which is failed and never started, while the rest
of the machine runs."""

import re

import checks

TABLE = """\
service ghost  cpus=7 numa=bind:5 mems=5 io.weight=100 -- /bin/sleep 100001
service all    cpuset=0-3 isolate=yes -- /bin/sleep 100002
service bad5   cpuset=5 isolate=yes -- /bin/sleep 100003
service fine   -- /bin/sleep 100004
tty     console tty=%s stop-signal=HUP after=ghost,all,bad5,fine -- /bin/sh -l
"""

PROFILE = r"""
CG=/sys/fs/cgroup
p=$(head -n1 $CG/services/ghost/cgroup.procs)
echo "GHOST pid=$p cpus=$(grep ^Cpus_allowed_list: /proc/$p/status | cut -f2) mems=$(grep ^Mems_allowed_list: /proc/$p/status | cut -f2) policy=$( (head -n1 /proc/$p/numa_maps 2>/dev/null || echo 0 none) | cut -d' ' -f2)"
for u in all bad5; do
  echo "ISO $u procs=$(wc -l < $CG/isolated.$u/cgroup.procs) partition=$(cat $CG/isolated.$u/cpuset.cpus.partition)"
done
echo "FINE $(wc -l < $CG/services/fine/cgroup.procs)"
echo "CONTROLLERS $(cat $CG/cgroup.controllers)"
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
               progs=True, smp=4, numa=2, mem=512, append="quiet cgroup_disable=io")
    g.expect(r"FINE \d+", 120)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def line(pattern):
        return checks.line(t, text, pattern)

    t.check("io" not in line(r"^CONTROLLERS (.*)$").group(1).split(),
            "cgroup_disable=io left the io controller")

    # One warning per refused option, naming unit, option and errno; the
    # unit runs all the same.
    warnings = [
        r"ghost: warning: io\.weight= needs the io controller, which this kernel or cgroup "
        r"does not offer; ignored",
        r"ghost: warning: unable to set mems=5 \(/sys/fs/cgroup/services/ghost/cpuset\.mems\): "
        r"E[A-Z]+",
        r"ghost: warning: unable to set the CPU affinity \(cpus=7\): EINVAL; it runs without it",
        # A kernel without NUMA (armv7) has no set_mempolicy.
        r"ghost: warning: unable to set the NUMA memory policy \(numa=bind:5\): %s; "
        r"it runs without it" % ("EINVAL" if t.numa else "ENOSYS"),
    ]
    for w in warnings:
        t.check(len(re.findall(r"^pinit: " + w + "$", text, re.M)) == 1,
                "not once on the console: %r" % w)
    t.check(len(re.findall(r"^pinit: ghost: warning", text, re.M)) == len(warnings),
            "more warnings for ghost than refusals")
    m = line(r"^GHOST pid=(\d+) cpus=(\S+) mems=(\S+) policy=(\S+)$")
    line(r"^pinit: ghost: started \(pid %s, " % m.group(1))
    want = ("0-3", "0-1", "default") if t.numa else ("0-3", "0", "none")
    t.check((m.group(2), m.group(3), m.group(4)) == want,
            "ghost runs with cpus %s, mems %s, policy %s" % m.groups()[1:])

    # Isolation that cannot be had: an error naming unit, CPUs and the
    # kernel's answer; failed, never started, not retried.
    line(r"^pinit: warning: CPUs 0-3,5 isolated: none left for the other units, "
         r"which keep them all$")
    line(r"^pinit: all: error: unable to isolate CPUs 0-3 \(isolate=yes\) in "
         r"/sys/fs/cgroup/isolated\.all: cpuset\.cpus\.partition is 'isolated invalid \(.+\)'; "
         r"not started$")
    line(r"^pinit: bad5: error: unable to isolate CPUs 5 \(isolate=yes\) in "
         r"/sys/fs/cgroup/isolated\.bad5: cpuset\.cpus: E[A-Z]+; not started$")
    for u in ("all", "bad5"):
        line(r"^pinit: %s: failed: not started: its CPUs could not be isolated$" % u)
        t.check(len(re.findall(r"^pinit: %s: error" % u, text, re.M)) == 1,
                "%s: tried more than once" % u)
        t.check(re.search(r"^pinit: %s: started" % u, text, re.M) is None, "%s started" % u)
        m = line(r"^ISO %s procs=(\d+) partition=(.*)$" % u)
        t.check(m.group(1) == "0", "%s's cgroup holds %s processes" % (u, m.group(1)))
    line(r"^FINE 1$")
