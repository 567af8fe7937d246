"""Live re-exec into a new binary (issue 19 points 2 and 4), checked from
the kernel's side: 32 units run (two crash-looping, mid back-off; one
waiting for readiness on an fd, one on sd_notify; one restarted once
before); a re-exec whose /sbin/init is not executable is refused and
changes nothing; then /sbin/pinit is replaced by a build with another
version string and `telinit u` (sysvinit's word for `pinit reexec`)
executes it as PID 1. Afterwards
`pinit status` names the new version, every unit's processes are the
same (cgroup.procs), the restart counts are kept, the two waiting units
become ready through the fd and the socket the old PID 1 handed over, a
unit killed after the re-exec is restarted once, and no unit was
started twice (the start lines each writes)."""

import re

import checks
import qemu

STAMPS = ["s%02d" % i for i in range(1, 28)]

TABLE = "".join("service %s -- /usr/bin/stamp /run/starts %s\n" % (s, s) for s in STAMPS) + """\
service crash1 -- /bin/false
service crash2 -- /bin/sh -c "exit 3"
service fdwait ready=fd:3 -- /bin/sh -c "while [ ! -e /run/go ]; do sleep 0.1; done; echo >&3; exec /usr/bin/stamp /run/starts fdwait"
service nwait ready=notify -- /bin/sh -c "while [ ! -e /run/go ]; do sleep 0.1; done; exec /usr/bin/sd-notify 0"
tty     console tty=%s stop-signal=HUP -- /bin/sh -l
"""

PROFILE = r"""
cg=/sys/fs/cgroup/services
units="@UNITS@"
pids() {
  for u in $units; do printf '%s=%s ' $u "$(cat $cg/$u/cgroup.procs | tr '\n' ',' | sed 's/,$//')"; done
  printf 'console=%s' "$(sort -n $cg/console/cgroup.procs | head -n 1)"
}
# The RST column of each unit, from `pinit status`.
rst() { pinit status | awk 'NR > 2 { printf "%s=%s ", $1, $6 }'; }
state() { pinit status | awk -v u=$1 '$1 == u { print $3 }'; }
# The states of the four waiting or crashing units, from one answer.
waits() {
  pinit status | awk '$1 ~ /^(fdwait|nwait|crash1|crash2)$/ { s[$1] = $3 }
    END { printf "fdwait=%s nwait=%s crash1=%s crash2=%s", s["fdwait"], s["nwait"], s["crash1"], s["crash2"] }'
}
main() { pinit status | awk -v u=$1 '$1 == u { print $4 }'; }
restarted() {
  i=0; while [ "$(main $1)" = "$2" ] || [ "$(state $1)" != running ]; do
    sleep 0.2; i=$((i+1)); [ $i -gt 100 ] && break
  done
}
sleep 3
p=$(main s01); kill $p; restarted s01 $p
sleep 2
# The crash loops are mid back-off most of the time, not always: a
# restart may run /bin/false at the very moment of a look. So the four
# states come from one `pinit status`, taken again until both loops are
# backing off in the same answer (a slow guest restarts one between two
# separate looks).
i=0; while :; do
  sb=$(waits); case "$sb" in *crash1=backing-off*crash2=backing-off*) break;; esac
  [ $i -ge 100 ] && break; sleep 0.1; i=$((i+1))
done
echo "VERSION-BEFORE $(pinit status | head -n 1)"
echo "STATE-BEFORE $sb"
echo "BEFORE $(pids)"
echo "RST-BEFORE $(rst)"
echo "RSS-BEFORE $(awk '/^Rss:/ { print $2 }' /proc/1/smaps_rollup)"
# A target that cannot be executed: refused, PID 1 goes on.
cp /sbin/pinit /tmp/pinit
chmod -x /sbin/pinit
/tmp/pinit reexec > /tmp/bad.out 2>&1; echo "BAD rc=$? $(cat /tmp/bad.out)"
chmod +x /sbin/pinit
echo "AFTERBAD $(pids)"
# The new build in place of the old one, then the re-exec.
cp /sbin/pinit.next /sbin/pinit.tmp && mv /sbin/pinit.tmp /sbin/pinit
telinit u > /tmp/re.out 2>&1; echo "REEXEC rc=$? $(cat /tmp/re.out)"
echo "VERSION-AFTER $(pinit status | head -n 1)"
echo "AFTER $(pids)"
echo "RST-AFTER $(rst)"
echo "RSS-AFTER $(awk '/^Rss:/ { print $2 }' /proc/1/smaps_rollup)"
echo "STATE-AFTER $(waits)"
# Readiness through what the old PID 1 handed over.
touch /run/go
i=0; while { [ "$(state fdwait)" != running ] || [ "$(state nwait)" != running ]; } && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
echo "READY fdwait=$(state fdwait) nwait=$(state nwait)"
# Supervision goes on: a unit killed now is restarted, once.
p=$(main s02); kill $p; restarted s02 $p
sleep 2
echo "KILLED s02 was=$p now=$(main s02) rst=$(pinit status | awk '$1 == "s02" { print $6 }')"
for u in $units fdwait; do printf '%s=%s ' $u $(grep -c "^$u " /run/starts); done > /tmp/starts
echo "STARTS $(cat /tmp/starts)"
echo REEXEC-DONE
poweroff
"""


def fields(t, text, tag):
    m = re.search(r"^%s (.*)$" % tag, text, re.M)
    t.check(m is not None, "no %s line" % tag)
    return dict(kv.split("=", 1) for kv in m.group(1).split())


def run(t):
    version = "0.1.0-next"
    nxt = qemu.build_variant(t.arch, "next", env={"PINIT_VERSION": version})
    table = TABLE % t.tty
    profile = PROFILE.replace("@UNITS@", " ".join(STAMPS))
    g = t.boot(files={"/etc/pinit.conf": table, "/etc/profile": profile,
                      "/sbin/pinit.next": (nxt.read_bytes(), 0o755)},
               progs=True, smp=2, timeout=300)
    g.expect(r"REEXEC-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    for tag in ("BEFORE", "AFTER"):
        m = re.search(r"^RSS-%s (\d+)$" % tag, text, re.M)
        if m:
            t.metric("pid1_rss_kib_%s_reexec" % tag.lower(), int(m.group(1)))
    checks.line(t, text, r"^VERSION-BEFORE PID 1: pinit 0\.1\.0 \(%s\)$" % t.arch)
    before = fields(t, text, "BEFORE")
    for u in STAMPS + ["console"]:
        t.check(before.get(u, "").isdigit(), "unit %s has no single process: %r" % (u, before))
    sb = fields(t, text, "STATE-BEFORE")
    t.check(sb == {"fdwait": "starting", "nwait": "starting", "crash1": "backing-off",
                   "crash2": "backing-off"}, "before the re-exec: %r" % sb)
    rst_before = fields(t, text, "RST-BEFORE")
    t.check(rst_before.get("s01") == "1", "s01 was not restarted once: %r" % rst_before)

    # The guard: a /sbin/init that cannot be executed.
    checks.line(t, text, r"^BAD rc=1 .*not executable; nothing changed")
    checks.line(t, text, r"pinit: reexec: /sbin/init cannot be executed: EACCES")
    t.check(fields(t, text, "AFTERBAD") == before, "the refused re-exec changed something")

    # The re-exec: the new program answers, with every unit.
    checks.line(t, text, r"^REEXEC rc=0 pinit %s \(%s\) is PID 1 again: 32 units handed over by pinit 0\.1\.0$"
                % (re.escape(version), t.arch))
    checks.line(t, text, r"pinit %s \(%s\) is PID 1 again, executed by pinit 0\.1\.0 with a hand-over"
                % (re.escape(version), t.arch))
    checks.line(t, text, r"^VERSION-AFTER PID 1: pinit %s \(%s\)$" % (re.escape(version), t.arch))
    after = fields(t, text, "AFTER")
    t.check(after == before, "PIDs changed across the re-exec: %r -> %r" % (before, after))
    rst_after = fields(t, text, "RST-AFTER")
    for u, n in rst_before.items():
        if u.startswith("crash"):
            t.check(int(rst_after.get(u, "0")) >= int(n), "%s lost its restarts: %s -> %s"
                    % (u, n, rst_after.get(u)))
            t.check(int(n) >= 3, "%s did not crash-loop: %s" % (u, n))
        else:
            t.check(rst_after.get(u) == n, "%s restarts %s -> %s" % (u, n, rst_after.get(u)))
    sa = fields(t, text, "STATE-AFTER")
    t.check(sa["fdwait"] == "starting" and sa["nwait"] == "starting",
            "the waiting units changed across the re-exec: %r" % sa)
    checks.line(t, text, r"^READY fdwait=running nwait=running$")

    m = re.search(r"^KILLED s02 was=(\d+) now=(\d+) rst=(\d+)$", text, re.M)
    t.check(m is not None and m.group(1) != m.group(2) and m.group(3) == "1",
            "s02 was not restarted once after the re-exec: %r" % (m and m.group(0)))
    starts = fields(t, text, "STARTS")
    for u in STAMPS + ["fdwait"]:
        want = "2" if u in ("s01", "s02") else "1"
        t.check(starts.get(u) == want, "%s started %s times, not %s" % (u, starts.get(u), want))
