"""docs/bench/RESULTS.md from the runs: the table, then per figure its
method and details, then every boot. Everything in it is measured in
the run it describes, except the budgets (DESIGN §7) and the prose."""

import os
import platform
import subprocess
import time

import figures as F
import qemu

KIB = 1024

# (key, label, budget text, over(value) -> bool or None)
ROWS = [
    ("restart", "Restart latency, `restart-max=0`: exit of a crashed unit → exec of its "
     "replacement (icount)", "< 1 ms (target ≤ 0.3 ms)", lambda ns: ns >= 1e6),
    ("backoff", "Restart gaps with the default back-off, first 6 (icount)",
     "100 ms doubling (DESIGN §3.3)", None),
    ("start-8", "pinit start → 8 units started (icount)", "", None),
    ("start-32", "pinit start → 32 units started (icount)", "", None),
    ("rss-8", "PID 1 Rss, 8 services", "", None),
    ("pss-8", "PID 1 Pss, 8 services", "", None),
    ("anonymous-8", "PID 1 private (Anonymous), 8 services", "", None),
    ("rss-32", "PID 1 Rss, 32 services", "≤ 128 KiB (target ≤ 64 KiB)", lambda v: v > 128),
    ("pss-32", "PID 1 Pss, 32 services", "", None),
    ("anonymous-32", "PID 1 private (Anonymous), 32 services", "≤ 64 KiB (target ≤ 24 KiB)",
     lambda v: v > 64),
    ("tree-pss-32", "Pss of the supervision tree, 32 services (pinit: PID 1 alone)", "", None),
    ("heap", "`[heap]` in /proc/1/maps", "none", lambda v: v > 0),
    ("anon-restarts", "PID 1 Anonymous before → after 10,000 restarts (`restart-max=0`)",
     "flat", lambda v: v != 0),
    ("orphans", "10,000 orphans: `orphans` start → exit (icount); zombies left",
     "all reaped, no zombie, Rss unchanged",
     None),
    ("binary", "Binary on disk (stripped, static)", "≤ 150 KiB x86_64 (target ≤ 64 KiB)",
     None),
    ("start-32-wall", "Context, wall clock (no icount): pinit start → 32 units started", "",
     None),
    ("restart-wall", "Context, wall clock (no icount): restart latency, `restart-max=0`", "",
     None),
]

METHOD = """\
## Method

All guests: the Debian cloud kernel, busybox as the userland, pinit as
/sbin/init from an initramfs, QEMU TCG, `-smp 1 -m 256M`, serial console,
kernel command line `console=<tty> panic=-1`; x86_64 `-machine pc -cpu
qemu64,+rdrand`, aarch64 `-machine virt -cpu cortex-a72`. RDRAND lets the
x86_64 kernel's random number generator start at boot, as it does on
real x86 hardware and on aarch64 (the virt machine passes an rng-seed);
without it, every interrupt pays for pre-init entropy mixing until
`random: crng init done` about 3.4 s after boot, which made x86_64
restarts 0.09 ms slower in the first seconds.

Every timed figure boots with `-icount shift=0`: guest time counts
instructions (1 ns each), so host load and parallel boots do not change
it, and boots agree within a few µs. icount time is not hardware time:
every instruction costs the same (cache misses, TLB refills and emulated
devices cost nothing extra), so read the time figures as instruction
counts, comparable between inits and commits, not as what a board would
show. The wall-clock rows boot without icount, one boot each, after the
others, for context only (under TCG wall clock varies up to 3.6x
between boots).

The measuring is done inside the guest by busybox sh scripts
(`tests/qemu/bench/guest/`) and two small static programs from
`tests/qemu/progs`, no_std Rust on musl whose `main` musl's start-up
calls directly: `stamp` appends its first CLOCK_BOOTTIME reading to a
file and sleeps; `crashloop` appends `START EXIT` (CLOCK_BOOTTIME, ns)
for each run and exits 1 at once. The scripts print `BENCH` lines on the
console; the host computes every figure from them.

**Restart latency.** One service, `crashloop`, with `restart-max=0`. A
gap runs from the EXIT time of one run (read just before its 42-byte
write(2) to the ramfs root and `_exit(1)`) to the START time of the
next (read first thing in `main`). It includes: that write and the
process exit; SIGCHLD to pinit through its signalfd, the epoll wake-up,
reaping; the unit's state machine; the sweep of the unit's
cgroup.procs; the capture pipe for `log=kmsg` (the default); clone3 into
the unit's cgroup, the child's set-up and execve (pinit waits until the
exec closes its report pipe); pinit's console line `crash: started (pid
N, cgroup ...)` (a write to the emulated 16550 UART, which drains at
once in QEMU; a real 115200-baud console takes 6 ms for those 70 bytes,
so a tight crash loop would fill the tty buffer there); the kernel
loading the 7-17 KB static probe; musl's start-up. The first 1,000
gaps of each of 3 boots; the long boot then runs 10,000 more restarts
(for the memory figure), reported in the details. The median is the
typical restart; the mean also carries the restarts that a timer tick
(every 4 ms, so about one in ten) lands in, which are 0.1-0.25 ms slower:
work the kernel does from the tick. The default back-off is one more
boot with the unit's defaults: its first 6 gaps (100, 200, ... ms of
back-off, plus the cycle).

**Start-up.** 8 or 32 services, each `stamp`, in file order, no
dependencies, `ready=none` (ready once exec'd). The figure is the latest
of the services' own timestamps minus pinit's start: the CLOCK_BOOTTIME
reading in pinit's banner (`pinit: pinit ... is PID 1, S s after kernel
start`, taken once fds 0-2 are open, before the mounts). A task `bench`
after the last service runs the measuring script, which sleeps 1 s
before anything else; the services' timestamps come one per spawn, the
last one before the task's spawn. The details also give the time from
the kernel's hand-over (`Run /init as init process` in the kernel log,
placed on CLOCK_BOOTTIME by a line the script writes to /dev/kmsg with
a CLOCK_BOOTTIME reading), which works for any init.

**Memory.** `/proc/1/smaps_rollup`, read by the script (another
process) once all services run: Rss, Pss and Anonymous (PID 1's private
anonymous memory: data, bss, stack). PID 1 is the only process mapping
its binary, so Rss and Pss nearly agree; the binary lives in the
initramfs's page cache and fault-around maps its text in 64 KiB windows,
so Rss is about the binary's size plus Anonymous. `[heap]` is looked for
in /proc/1/maps in every start-up boot.

**Anonymous memory across restarts.** In the long restart boot a
crashloop hook reads PID 1's smaps_rollup after 1,000 restarts; the loop
goes on for 10,000 more, and its last run reads it again.

**Reaping.** In the 32-service boots, after the memory readings:
`orphans 10000` (10,000 double forks: each grandchild is re-parented to
PID 1 and exits at once), timed with `stamp -x` (CLOCK_BOOTTIME, icount)
from before its start to after its exit. Then the zombies (state Z) in
/proc are counted, again up to 20 times 0.1 s apart while any is left,
and PID 1's smaps_rollup is read again.

**Binary.** The size of the stripped static binary that goes into the
images (`target/<triple>/release/pinit`, built by the run with the
qemu-ARCH board compiled in).

Medians are over boots (3 by default) unless a row says otherwise;
`min–max` is the spread over boots; percentiles are nearest-rank.
"""


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def versions(arches, runs):
    out = []
    for arch in arches:
        try:
            v = (qemu.CACHE / arch / "versions").read_text().strip().splitlines()
        except OSError:
            v = ["?"]
        unames = sorted({F.one(r, "uname") for r in runs if r.arch == arch and F.one(r, "uname")})
        out.append("- %s: %s; guest `uname -r`: %s" % (arch, "; ".join(v), ", ".join(unames) or "?"))
        out.append("- %s QEMU: %s" % (arch, sh([qemu.ARCHES[arch].qemu, "--version"]).splitlines()[0]
                                     if sh([qemu.ARCHES[arch].qemu, "--version"]) else "?"))
    out.append("- rustc: %s" % sh(["rustc", "--version"]))
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    out.append("- host: %s, %d CPUs, Linux %s" % (cpu, os.cpu_count() or 0, platform.release()))
    return out


def cell(fig, over):
    if fig is None:
        return "n/a"
    text = fig.text
    if over and fig.value is not None and over(fig.value):
        text += " **over**"
    return text


def binary_figure(init, arch):
    rows = init.disk(arch)
    total = sum(os.path.getsize(p) for _, p in rows)
    fig = F.Figure(total, unit="B", samples=[total])
    fig.text = "{:,} B ({:.1f} KiB)".format(total, total / KIB)
    return fig


def write(path, runs, inits, arches, seconds, command):
    cols = [(i, a) for i in inits for a in arches if a in i.arches]
    figs = {}
    for i, a in cols:
        figs[(i.name, a)] = F.compute(runs, i, a)
        try:
            figs[(i.name, a)]["binary"] = binary_figure(i, a)
        except (OSError, KeyError):
            pass
    over_binary = {("x86_64"): lambda v: v > 150 * KIB}
    lines = ["# pinit benchmarks", "",
             "Generated by %s on %s in %dm%02ds (wall clock, %d boots). Do not edit: "
             "every figure below was measured in that run; rerun to update. "
             "How to run it: [README.md](README.md)." % (
                 command, time.strftime("%Y-%m-%d %H:%M %Z"), seconds // 60, seconds % 60,
                 len(runs)), ""]
    failed = [r for r in runs if not r.ok]
    if failed:
        lines += ["**%d boot(s) failed**; their figures are missing (see the log):" % len(failed), ""]
        lines += ["- %s %s %s #%d: %s (`%s`)" % (r.init, r.arch, r.workload, r.boot,
                                                 r.error.strip().splitlines()[-1] if r.error else "?",
                                                 os.path.relpath(r.log, qemu.ROOT)) for r in failed]
        lines.append("")
    head = "| figure | " + " | ".join("%s %s" % c for c in [(i.name, a) for i, a in cols]) + \
           " | budget (DESIGN §7) |"
    lines += [head, "|" + " --- |" * (len(cols) + 2)]
    for key, label, budget, over in ROWS:
        cells = []
        for i, a in cols:
            fig = figs[(i.name, a)].get(key)
            o = over
            if key == "binary":
                o = over_binary.get(a)
            if key == "orphans" and fig is not None:
                bad = (fig.zombies or 0) > 0 or (fig.rss_delta or 0) > 4
                cells.append(fig.text + (" **over**" if bad else ""))
                continue
            cells.append(cell(fig, o))
        if all(c == "n/a" for c in cells):
            continue
        lines.append("| %s | %s | %s |" % (label, " | ".join(cells), budget or ""))
    lines += ["", "Versions:", ""] + versions(arches, runs) + [""]
    for i, a in cols:
        lines.append("- %s %s: %s" % (i.name, a, i.describe(a)))
        lines.append("- %s %s restarts: %s; %s" % (i.name, a, i.restart_policy(True),
                                                   i.restart_policy(False)))
    lines += ["", METHOD, "## Details", ""]
    for i, a in cols:
        lines += ["### %s %s" % (i.name, a), ""]
        for key, label, _, _ in ROWS:
            fig = figs[(i.name, a)].get(key)
            if fig is None:
                continue
            lines.append("- %s: %s%s" % (label, fig.text, ("; " + fig.detail) if fig.detail else ""))
        lines.append("")
    lines += ["## Boots", "", "| init | arch | workload | boot | icount | wall | result | log |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in sorted(runs, key=lambda r: (r.init, r.arch, r.workload, r.boot)):
        lines.append("| %s | %s | %s | %d | %s | %.1f s | %s | `%s` |" % (
            r.init, r.arch, r.workload, r.boot, "yes" if r.icount else "no", r.wall_s,
            "ok" if r.ok else "FAILED", os.path.relpath(r.log, qemu.ROOT)))
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
