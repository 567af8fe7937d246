"""A unit's exit during an orphan flood (src/boot/pace.rs): while
orphans keep coming PID 1 reaps them in batches, SIGCHLD left pending
between them; a unit's main process that is killed in the middle of the
flood must still be seen exiting and be restarted while the flood goes
on, and when the flood is over no zombie is left (the kernel's /proc)."""

import re

from checks import ZOMBIES

COUNT = 8000

TABLE = """\
service victim restart-max=0 -- /bin/sleep 1000
tty     console tty=%s after=victim -- /bin/sh -l
"""

PROFILE = ZOMBIES + r"""
procs() { tr '\n' ' ' < /sys/fs/cgroup/services/victim/cgroup.procs; }
old=$(procs)
orphans %d > /dev/null &
flood=$!
# The flood is on once PID 1 has taken orphans from it.
sleep 1
echo "FLOOD-BEFORE $([ -d /proc/$flood ] && echo on || echo over)"
kill $old
new=
i=0
while [ $i -lt 100 ]; do
    new=$(procs)
    [ -n "$new" ] && [ "$new" != "$old" ] && break
    sleep 0.05
    i=$((i + 1))
done
echo "FLOOD-AFTER $([ -d /proc/$flood ] && echo on || echo over)"
echo "VICTIM old=$old new=$new"
wait $flood
echo "ORPHANS-EXIT $?"
settled
poweroff
""" % COUNT


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
               progs=True, smp=2)
    before = g.expect(r"FLOOD-BEFORE (\w+)\r?\n", 120).group(1)
    after = g.expect(r"FLOOD-AFTER (\w+)\r?\n", 60).group(1)
    m = g.expect(r"VICTIM old=([\d ]*) new=([\d ]*)\r?\n", 10)
    old, new = m.group(1).split(), m.group(2).split()
    t.check(before == "on" and after == "on",
            "the flood was %s before the kill and %s at the restart: raise COUNT" % (before, after))
    t.check(len(old) == 1, "victim's cgroup held %r before the kill" % old)
    t.check(len(new) == 1 and new != old,
            "victim was not restarted during the flood: cgroup.procs %r, was %r" % (new, old))
    t.check(g.expect(r"ORPHANS-EXIT (\d+)\r?\n", 240).group(1) == "0", "orphans failed")
    z = g.expect(r"ZOMBIES (\d+)\r?\n", 30).group(1)
    t.check(z == "0", "%s zombies left (see ZOMBIE lines)" % z)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")
    t.check(re.search(r"victim: killed by signal 15; restarting", text) is not None,
            "no console line for victim's exit and restart")
