"""Supervision as PID 1 (issue 4), checked from inside the guest: every
process of a unit in its cgroup, order and readiness (sd_notify from a
real client, s6-style fd), a failed task blocking its needs= dependents,
if= skipping, restart with the rest of the cgroup killed first, a missing
binary retried while the others run, and stop in reverse order leaving
nothing behind. Also: PID 1's text, as the kernel maps it once the boot
is over, leaves the code only the boot runs unmapped (src/sys/text.rs),
and its read-only data that only that code reads too (tools/ldsplit)."""

import re

TABLE = """\
task    prep                      -- /bin/sh -c "echo prepared > /run/prep"
service forker  after=prep        -- /bin/sh -c "sleep 1001 & sleep 1002 & exec sleep 1000"
service db      ready=notify      -- /usr/bin/sd-notify 500
service fdready ready=fd:3 after=db -- /bin/sh -c "sleep 0.3; echo >&3; exec sleep 1003"
service web     needs=fdready,forker -- /bin/sleep 1004
service forking ready=notify      -- /usr/bin/sd-notify 100 --fork
task    broken                    -- /bin/false
service needy   needs=broken      -- /bin/sleep 1005
service maybe   if=path:/nonexistent -- /bin/sleep 1006
service ghost   restart-max=2s    -- /nonexistent/daemon
tty     console tty=%s after=web stop-signal=HUP -- /bin/sh -l
"""

# Run by the console unit's login shell: the kernel's view of the units.
PROFILE = r"""
awk '$2 == "r-xp" && $NF == "/sbin/pinit" {r = $1; t = 1; next}
     t && $1 == "Rss:" {print "TEXT " r " " $2; t = 0}' /proc/1/smaps
awk '$2 == "r--p" && $NF == "/sbin/pinit" {r = $1; d = 1; next}
     d && $1 == "Rss:" {c = r " " $2; d = 0} END {print "COLD " c}' /proc/1/smaps
cg() { cat /sys/fs/cgroup/services/$1/cgroup.procs | tr '\n' ' '; }
for u in forker db fdready web forking needy maybe ghost console; do
  echo "PROCS $u: $(cg $u)"
done
for p in $(cg forker); do echo "CG $p $(cat /proc/$p/cgroup)"; done
echo "PREP $(cat /run/prep)"
old=$(pidof 'sleep' | tr ' ' '\n' | while read p; do grep -q 1001 /proc/$p/cmdline && echo $p; done)
main=$(cg forker | tr ' ' '\n' | while read p; do [ -n "$p" ] && grep -q 1000 /proc/$p/cmdline && echo $p; done)
echo "KILL main=$main child=$old"
kill $main
sleep 1
echo "AFTER $(cg forker)"
[ -d /proc/$old ] && echo "LEFTOVER $old" || echo "CHILD-GONE"
poweroff
"""


def procs(text, unit):
    m = re.search(r"PROCS %s: ([\d ]*)" % unit, text)
    return m.group(1).split() if m else None


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
               progs=True, smp=2)
    g.expect(r"CHILD-GONE|LEFTOVER", 120)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def at(pattern):
        m = re.search(pattern, text)
        t.check(m is not None, "no console line %r" % pattern)
        return m.start()

    # Order and readiness, from the console's timeline.
    t.check(at(r"prep: done") < at(r"forker: started"), "forker started before prep was done")
    t.check(at(r"db: ready") < at(r"fdready: started"), "fdready did not wait for db's READY=1")
    t.check(at(r"fdready: ready") < at(r"web: started"), "web did not wait for fdready's fd 3")
    t.check(at(r"forking: ready") > 0, "a forking daemon's MAINPID + READY=1 was not taken")
    # A failed task blocks needs=, an unmet if= skips.
    at(r"broken: failed: exited with status 1")
    at(r"needy: blocked")
    at(r"maybe: skipped")
    t.check(procs(text, "needy") == [] and procs(text, "maybe") == [],
            "blocked or skipped units have processes")
    # A missing binary: errno on the console, retried with back-off.
    at(r"ghost: unable to execute /nonexistent/daemon: ENOENT")
    t.check(len(re.findall(r"ghost: unable to execute", text)) >= 2, "ghost was not retried")

    # PID 1 unmapped its text after the boot; what its loop ran since
    # came back in fault-around windows (64 KiB), the boot-only code
    # (tools/cold.ld: over 100 KiB on every arch) did not. The text is two
    # mappings: the loop's steady-state code (.text.hot, at most 64 KiB
    # and a page), set apart so that fault-around stops at its end
    # (src/sys/text.rs), and the rest right after it.
    texts = [(int(a, 16), int(b, 16), int(r))
             for a, b, r in re.findall(r"TEXT ([0-9a-f]+)-([0-9a-f]+) (\d+)", text)]
    t.check(len(texts) == 2, "PID 1's text mappings: %r, not the hot code and the rest" % texts)
    if texts:
        size = sum(b - a for a, b, _ in texts) // 1024
        rss = sum(r for _, _, r in texts)
        t.metric("text_rss_kib", rss)
        t.check(rss <= size - 64, "PID 1's text: %d of %d KiB resident, the boot's code "
                "was not unmapped" % (rss, size))
    if len(texts) == 2:
        (a, b, _), (c, d, _) = texts
        t.check(b == c and (b - a) // 1024 <= 68 and (d - c) // 1024 >= 100,
                "PID 1's text mappings %x-%x and %x-%x: not the hot code (at most 68 KiB) "
                "and the rest after it" % (a, b, c, d))

    # The last read-only mapping of the binary is .rodata.cold, the data
    # only the boot's and the client's code reads (tools/ldsplit: 12 KiB
    # or more on every arch): none of it came back.
    m = re.search(r"COLD ([0-9a-f]+)-([0-9a-f]+) (\d+)", text)
    t.check(m is not None, "no PID 1 read-only data mapping in /proc/1/smaps")
    if m:
        size, rss = (int(m.group(2), 16) - int(m.group(1), 16)) // 1024, int(m.group(3))
        t.metric("cold_data_rss_kib", rss)
        t.check(size >= 8 and rss == 0, "PID 1's last read-only mapping (.rodata.cold): "
                "%d of %d KiB resident, the cold data is not apart or was read" % (rss, size))

    # Every process of forker (main and its two children) in its cgroup.
    fp = procs(text, "forker")
    t.check(fp is not None and len(fp) == 3, "forker's cgroup holds %r" % fp)
    for m in re.finditer(r"CG (\d+) (\S+)", text):
        t.check(m.group(2) == "0::/services/forker",
                "pid %s of forker is in %s" % (m.group(1), m.group(2)))
    t.check("PREP prepared" in text, "the task's output file is missing")
    t.check(len(procs(text, "db") or []) == 1, "db's cgroup: %r" % procs(text, "db"))
    t.check(len(procs(text, "forking") or []) == 1,
            "the forking daemon's cgroup: %r" % procs(text, "forking"))

    # Killing forker's main process: the rest of its cgroup dies first,
    # then it is restarted.
    t.check("CHILD-GONE" in text, "forker's child outlived its main process")
    after = re.search(r"AFTER ([\d ]*)", text).group(1).split()
    t.check(len(after) == 3 and not set(after) & set(fp),
            "after the restart forker's cgroup holds %r (before: %r)" % (after, fp))

    # Shutdown: reverse dependency order.
    t.check(at(r"web: stopping") < at(r"fdready: stopping") < at(r"db: stopping"),
            "units did not stop in reverse dependency order")
    t.check(at(r"web: stopped") < at(r"forker: stopping"), "forker stopped before web")
    t.check(at(r"db: stopped") < at(r"shutdown: sending SIGTERM to all processes"),
            "the global sweep came before the units were stopped")
