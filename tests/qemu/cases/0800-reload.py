"""Table reload without a reboot (issue 19 point 1), checked from the
kernel's side: 8 units run; a table with a syntax error is refused
(FILE:LINE:COL) and changes nothing; then a table that removes one unit,
adds one, changes one's command and another's mem.max and cpu.weight:
the removed unit's cgroup is empty and gone, the new one runs in its
cgroup, the changed one has a new PID, the limited one the same PID,
the new memory.max and, the cpu controller enabled by the reload (no
unit needed it before), cpu.weight 50; every other unit the same PID. The changed hostname is set
again and the tmpfs with a new size= is remounted (its size in
/proc/mounts), not mounted over. `telinit q` and SIGHUP then read the same table: no
unit moves."""

import re

import checks

TABLE = """\
hostname before-reload
mount tmpfs /run/scratch tmpfs size=1M
service a                 -- /bin/sleep 1001
service b                 -- /bin/sleep 1002
service old               -- /bin/sleep 1003
service cmd               -- /bin/sleep 1004
service lim mem.max=64M   -- /bin/sleep 1005
service f after=a         -- /bin/sleep 1006
service g needs=b         -- /bin/sleep 1007
tty     console tty=%s after=a stop-signal=HUP -- /bin/sh -l
"""

# The new table: old gone, new added, cmd's command and lim's mem.max
# changed; the console unit is the same line (it runs this script).
NEW = """\
hostname after-reload
mount tmpfs /run/scratch tmpfs size=2M
service new               -- /bin/sleep 1008
service lim mem.max=32M cpu.weight=50 -- /bin/sleep 1005
service a                 -- /bin/sleep 1001
service b                 -- /bin/sleep 1002
service cmd               -- /bin/sleep 1014
service f after=a         -- /bin/sleep 1006
service g needs=b         -- /bin/sleep 1007
tty     console tty=%s after=a stop-signal=HUP -- /bin/sh -l
"""

BROKEN = """\
service a -- /bin/sleep 1001
service b bogus=1 -- /bin/sleep 1002
"""

PROFILE = r"""
cg=/sys/fs/cgroup/services
# Each unit's processes (the console's: the shell, its oldest).
pids() {
  for u in a b old cmd lim f g new; do
    printf '%s=%s ' $u "$(cat $cg/$u/cgroup.procs 2>/dev/null | tr '\n' ',' | sed 's/,$//')"
  done
  printf 'console=%s' "$(sort -n $cg/console/cgroup.procs | head -n 1)"
}
echo "BEFORE $(pids)"
# No unit sets a cpu option yet: services has no cpu controller.
echo "SUBTREE-BEFORE $(cat $cg/cgroup.subtree_control)"
[ -e $cg/lim/cpu.weight ] && echo "CPUW-BEFORE present" || echo "CPUW-BEFORE absent"
cp /etc/pinit.conf /etc/pinit.good
cat > /etc/pinit.conf <<'EOF'
@BROKEN@EOF
pinit reload-table > /tmp/bad.out 2>&1; echo "BAD rc=$?"
sed 's/^/BADOUT /' /tmp/bad.out
sleep 1
echo "AFTERBAD $(pids)"
cat > /etc/pinit.conf <<'EOF'
@NEW@EOF
pinit reload-table > /tmp/good.out 2>&1; echo "GOOD rc=$?"
sed 's/^/PLAN /' /tmp/good.out
i=0; while [ -d $cg/old ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
sleep 1
echo "AFTER $(pids)"
echo "MEMMAX $(cat $cg/lim/memory.max)"
echo "SUBTREE-AFTER $(cat $cg/cgroup.subtree_control)"
echo "CPUW-AFTER $(cat $cg/lim/cpu.weight)"
[ -d $cg/old ] && echo "OLDDIR present" || echo "OLDDIR gone"
echo "HOST $(hostname)"
echo "SCRATCH $(grep ' /run/scratch ' /proc/mounts | wc -l) $(grep ' /run/scratch ' /proc/mounts)"
for u in cmd new; do p=$(cat $cg/$u/cgroup.procs | head -n 1); echo "CMDLINE $u $(tr '\0' ' ' < /proc/$p/cmdline)"; done
# The same table again, by sysvinit's word and by SIGHUP: nothing moves.
telinit q > /tmp/q.out 2>&1; echo "TELINIT rc=$? $(cat /tmp/q.out)"
# (Were it still pending at poweroff, SIGHUP is the lower number: it
# is taken first, and its console line is there all the same.)
kill -HUP 1
sleep 1
echo "AGAIN $(pids)"
echo RELOAD-DONE
poweroff
"""


def pids(t, text, tag):
    m = re.search(r"^%s (.*)$" % tag, text, re.M)
    t.check(m is not None, "no %s line" % tag)
    return dict(kv.split("=", 1) for kv in m.group(1).split())


def run(t):
    profile = PROFILE.replace("@BROKEN@", BROKEN).replace("@NEW@", NEW % t.tty)
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": profile}, smp=2)
    g.expect(r"RELOAD-DONE", 180)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    before = pids(t, text, "BEFORE")
    for u in ("a", "b", "old", "cmd", "lim", "f", "g", "console"):
        t.check(before.get(u, "").isdigit(), "unit %s has no single process: %r" % (u, before))
    t.check(before.get("new", "") == "", "new runs before the reload: %r" % before)

    # The broken table: refused with FILE:LINE:COL, nothing changed.
    checks.line(t, text, r"BAD rc=1")
    checks.line(t, text, r"BADOUT /etc/pinit.conf:2:11: error: unknown option 'bogus'")
    checks.line(t, text, r"pinit: /etc/pinit.conf:2:11: error: unknown option 'bogus'")
    checks.line(t, text, r"nothing changed")
    t.check(pids(t, text, "AFTERBAD") == before,
            "a broken table changed something: %r -> %r" % (before, pids(t, text, "AFTERBAD")))

    # The good one: its plan, then the kernel's view.
    checks.line(t, text, r"GOOD rc=0")
    for line in ("stop old", "start new", "restart cmd", "change lim mem.max,cpu.weight"):
        checks.line(t, text, r"^PLAN %s$" % line)
    after = pids(t, text, "AFTER")
    checks.line(t, text, r"OLDDIR gone")
    t.check(after.get("old", "") == "", "old still has processes: %r" % after)
    t.check(after.get("new", "").isdigit(), "new does not run: %r" % after)
    t.check(after.get("cmd", "").isdigit() and after["cmd"] != before["cmd"],
            "cmd was not restarted: %s -> %s" % (before["cmd"], after.get("cmd")))
    checks.line(t, text, r"CMDLINE cmd /bin/sleep 1014")
    checks.line(t, text, r"CMDLINE new /bin/sleep 1008")
    t.check(after.get("lim") == before["lim"], "lim was restarted: %s -> %s"
            % (before["lim"], after.get("lim")))
    checks.line(t, text, r"MEMMAX %d" % (32 << 20))
    # Controllers: memory and pids for every unit; cpu only once a unit
    # asks for a cpu option, here by the reload, which enables it and
    # writes lim's weight while lim runs on.
    checks.line(t, text, r"^SUBTREE-BEFORE memory pids$")
    checks.line(t, text, r"^CPUW-BEFORE absent$")
    t.check("cpu" in checks.line(t, text, r"^SUBTREE-AFTER (.*)$").group(1).split(),
            "the reload did not enable the cpu controller for lim's cpu.weight")
    checks.line(t, text, r"^CPUW-AFTER 50$")
    for u in ("a", "b", "f", "g", "console"):
        t.check(after.get(u) == before[u], "%s changed PID: %s -> %s" % (u, before[u], after.get(u)))

    # The system statements: hostname set again, the tmpfs remounted.
    checks.line(t, text, r"HOST after-reload")
    checks.line(t, text, r"SCRATCH 1 tmpfs /run/scratch tmpfs \S*size=2048k")
    checks.line(t, text, r"pinit: reload: the new table is in force \(8 units\)")

    # telinit q and SIGHUP read the same table again: no unit moves.
    checks.line(t, text, r"TELINIT rc=0 no unit changed")
    t.check(len(re.findall(r"^pinit: reload: no unit changed", text, re.M)) == 2,
            "telinit q and SIGHUP did not both reload")
    t.check(pids(t, text, "AGAIN") == after,
            "an unchanged table moved units: %r -> %r" % (after, pids(t, text, "AGAIN")))
