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
kernel command line `console=<tty> panic=-1`. Every timed figure boots
with `-icount shift=0`: guest time counts instructions (1 ns each), so
host load and parallel boots do not change it and boots agree closely.
icount guest time is not real hardware time: it prices every instruction
the same (a cache miss, a TLB refill or an emulated device access cost
nothing extra), so read the time figures as instruction counts in ns,
comparable between inits and commits, not as what a board would show.
The wall-clock rows boot without icount, one boot, alone, for context
only: under TCG wall clock varies up to 3.6x between boots.

The measuring is done inside the guest by busybox sh scripts
(`tests/qemu/bench/guest/`) and two small static programs from
`tests/qemu/progs` (no_std Rust on musl, started without any runtime,
so their first instruction is close to their exec):
`stamp` appends its first CLOCK_BOOTTIME reading to a file and sleeps;
`crashloop` appends `START EXIT` (CLOCK_BOOTTIME ns) per run and exits 1
at once. The scripts print `BENCH` lines on the console; the host
computes every figure from them.

**Restart latency.** One service, `crashloop`, `restart-max=0`. A
gap is the EXIT time of one run (read just before its 42-byte
write(2) to tmpfs and `_exit(1)`) to the START time of the next (read
first thing in `main`). It includes: the write and the process exit;
SIGCHLD to pinit through its signalfd, epoll wake-up, reaping; the
unit's state machine; the sweep of the unit's cgroup.procs; pinit's
console line `crash: started (pid N, cgroup ...)` (a write to the
emulated 16550 UART, which drains instantly in QEMU; a real 115200-baud
console would be slower); the capture pipe for `log=kmsg`; clone3 into
the cgroup, the child's set-up and execve (pinit waits until the exec
closed its report pipe); the kernel loading the 7-17 KB static probe;
musl's start-up. Per boot the first 1,000 gaps after boot; 3 boots.
The long boot then runs 10,000 more restarts (for the memory figure)
and their gaps are reported too. The default back-off is one more boot
with the unit's defaults: its first 6 gaps (100, 200, ... ms of back-off
plus the cycle).

**Start-up.** 8 or 32 services, each `stamp`, in file order with no
dependencies (`ready=none`: ready once exec'd). The figure is the
latest of the services' own timestamps minus pinit's start: the
CLOCK_BOOTTIME reading in pinit's banner (`pinit: pinit ... is PID 1,
S s after kernel start`, taken after fds 0-2 are set up, before the
mounts). A task `bench` (after the last service, so it is spawned once
all services were spawned) runs the measuring script, which sleeps 1 s
before it does anything. Also given: the same from the kernel's
hand-over (`Run /init as init process` in the kernel log, placed on
CLOCK_BOOTTIME through a line the script writes to /dev/kmsg together
with a CLOCK_BOOTTIME reading), which works for any init.

**Memory.** `/proc/1/smaps_rollup` read by the script (another process)
once all services run: Rss, Pss, and Anonymous (PID 1's private
anonymous memory: data, bss, stack). PID 1 is the only process mapping
its binary, so its Rss and Pss nearly agree; an initramfs binary lives
in the page cache (ramfs), and fault-around maps its text in 64 KiB
windows, so Rss is about the binary's size plus Anonymous. `[heap]` is
looked up in /proc/1/maps in every boot of the start-up workloads.

**Anonymous memory across restarts.** In the long restart boot, a
crashloop hook reads PID 1's smaps_rollup after 1,000 restarts, the loop
goes on for 10,000 more, and the last run reads it again.

**Reaping.** In the 32-service boots, after the memory readings:
`orphans 10000` (10,000 double forks; each grandchild is re-parented to
PID 1 and exits at once), timed from before its start to after its exit
with `stamp -x` (CLOCK_BOOTTIME, icount). Then the zombies (state Z)
are counted in /proc, again up to 20 times 0.1 s apart while any is
left, and PID 1's Rss is read again.

**Binary.** The size of the stripped static binary that goes into the
image (`target/<triple>/release/pinit`, built by the run).

Medians are over boots (3 by default) unless the row says otherwise;
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
    cols = [(i, a) for i in inits for a in arches]
    figs = {}
    for i, a in cols:
        figs[(i.name, a)] = F.compute(runs, i, a)
        try:
            figs[(i.name, a)]["binary"] = binary_figure(i, a)
        except (OSError, KeyError):
            pass
    over_binary = {("x86_64"): lambda v: v > 150 * KIB}
    lines = ["# pinit benchmarks", "",
             "Generated by `%s` on %s in %dm%02ds (wall clock, %d boots). Do not edit: "
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
    for i in inits:
        for a in arches:
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
