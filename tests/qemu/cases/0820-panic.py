"""Re-adoption after a crash of PID 1 (issue 19 points 3 and 4), with a
`--features test-panic` build (never a release binary) as /sbin/pinit:
`pinit panic` makes PID 1 panic; the panic handler executes /sbin/init
again, which takes the units back from their cgroups. Afterwards every
unit has the same processes (cgroup.procs), none was started twice (the
start lines each writes), restart counts are kept, a unit waiting for
readiness on an fd becomes ready, and a unit killed afterwards is
restarted once. Then a re-exec whose new program panics while it takes
the hand-over: it falls back to the same re-adoption, never to a second
start of every unit."""

import re

import checks
import qemu

STAMPS = ["s%02d" % i for i in range(1, 7)]

TABLE = "".join("service %s -- /usr/bin/stamp /run/starts %s\n" % (s, s) for s in STAMPS) + """\
service crash1 -- /bin/false
service fdwait ready=fd:3 -- /bin/sh -c "echo fdwait 0 >> /run/starts; while [ ! -e /run/go ]; do sleep 0.1; done; echo >&3; exec sleep 1000"
tty     console tty=%s stop-signal=HUP -- /bin/sh -l
"""

PROFILE = r"""
cg=/sys/fs/cgroup/services
units="@UNITS@"
pids() {
  for u in $units; do printf '%s=%s ' $u "$(cat $cg/$u/cgroup.procs | tr '\n' ',' | sed 's/,$//')"; done
  printf 'console=%s' "$(sort -n $cg/console/cgroup.procs | head -n 1)"
}
rst() { pinit status | awk 'NR > 2 && $1 != "crash1" { printf "%s=%s ", $1, $6 }'; }
state() { pinit status | awk -v u=$1 '$1 == u { print $3 }'; }
main() { pinit status | awk -v u=$1 '$1 == u { print $4 }'; }
restarted() {
  i=0; while [ "$(main $1)" = "$2" ] || [ "$(state $1)" != running ]; do
    sleep 0.2; i=$((i+1)); [ $i -gt 100 ] && break
  done
}
# Until PID 1 answers again.
answers() { i=0; while ! pinit status > /dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; }
sleep 3
p=$(main s01); kill $p; restarted s01 $p
sleep 1
echo "BEFORE $(pids)"
echo "RST-BEFORE $(rst)"
pinit panic > /tmp/panic.out 2>&1; echo "PANIC rc=$?"
answers
sleep 1
echo "AFTER $(pids)"
echo "RST-AFTER $(rst)"
echo "STATE fdwait=$(state fdwait) crash1=$(state crash1)"
touch /run/go
i=0; while [ "$(state fdwait)" != running ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
echo "READY fdwait=$(state fdwait)"
p=$(main s02); kill $p; restarted s02 $p
sleep 1
echo "KILLED s02 was=$p now=$(main s02) rst=$(pinit status | awk '$1 == "s02" { print $6 }')"
echo "MID $(pids)"
# A new program that panics while it takes the hand-over.
touch /run/pinit-test-panic-in-handover
pinit reexec > /tmp/re.out 2>&1; echo "REEXEC rc=$?"
answers
sleep 1
echo "FINAL $(pids)"
for u in $units fdwait; do printf '%s=%s ' $u $(grep -c "^$u " /run/starts); done > /tmp/starts
echo "STARTS $(cat /tmp/starts)"
echo PANIC-DONE
poweroff
"""


def fields(t, text, tag):
    m = re.search(r"^%s (.*)$" % tag, text, re.M)
    t.check(m is not None, "no %s line" % tag)
    return dict(kv.split("=", 1) for kv in m.group(1).split())


def run(t):
    bomb = qemu.build_variant(t.arch, "test-panic", features=["test-panic"])
    profile = PROFILE.replace("@UNITS@", " ".join(STAMPS))
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": profile,
                      "/sbin/pinit": (bomb.read_bytes(), 0o755)},
               progs=True, smp=2, timeout=300)
    g.expect(r"PANIC-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    before = fields(t, text, "BEFORE")
    for u in STAMPS + ["console"]:
        t.check(before.get(u, "").isdigit(), "unit %s has no single process: %r" % (u, before))

    # The panic, and the new PID 1 taking the units back.
    checks.line(t, text, r"^a test build was asked to panic$")
    checks.line(t, text, r"is PID 1 again after a panic \(1 in a row\): taking the units back from the kernel")
    checks.line(t, text, r"pinit: s03: taken back: running \(pid %s, 0 restarts\)" % before["s03"])
    checks.line(t, text, r"pinit: fdwait: taken back: starting")
    after = fields(t, text, "AFTER")
    t.check(after == before, "PIDs changed across the panic: %r -> %r" % (before, after))
    rb, ra = fields(t, text, "RST-BEFORE"), fields(t, text, "RST-AFTER")
    t.check(rb.get("s01") == "1" and ra == rb, "restart counts: %r -> %r" % (rb, ra))
    # crash1 (/bin/false) was backing off at the panic, so the new PID 1
    # starts it afresh and it cycles every 100-800 ms: any state of that
    # cycle may be read (spawning and stopping last a few ms, longer under
    # TCG), never one that leaves it down.
    state = fields(t, text, "STATE")
    t.check(state.get("fdwait") == "starting"
            and state.get("crash1") in ("spawning", "running", "stopping", "backing-off"),
            "states after the panic: %r" % state)
    back = checks.line(t, text, r"taking the units back from the kernel$").end()
    t.check("pinit: crash1: started " in text[back:], "crash1 was not started again after the panic")
    checks.line(t, text, r"^READY fdwait=running$")
    m = re.search(r"^KILLED s02 was=(\d+) now=(\d+) rst=(\d+)$", text, re.M)
    t.check(m is not None and m.group(1) != m.group(2) and m.group(3) == "1",
            "s02 was not restarted once after the panic: %r" % (m and m.group(0)))

    # The hand-over whose reader panics: re-adoption, not a second start.
    checks.line(t, text, r"^a test build was asked to panic while it takes the hand-over$")
    mid, final = fields(t, text, "MID"), fields(t, text, "FINAL")
    t.check(final == mid, "PIDs changed across the failed hand-over: %r -> %r" % (mid, final))
    starts = fields(t, text, "STARTS")
    for u in STAMPS + ["fdwait"]:
        want = "2" if u in ("s01", "s02") else "1"
        t.check(starts.get(u) == want, "%s started %s times, not %s" % (u, starts.get(u), want))
