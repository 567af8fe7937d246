"""docs/bench/RESULTS.md from the runs: the table, then per figure its
method and details, then every boot. Everything in it is measured in
the run it describes, except the budgets (docs/design.md §12) and the prose."""

import os
import platform
import subprocess
import time

import chart as svgchart
import figures as F
import qemu

KIB = 1024

# `run`'s default parameters; the labels and the method text name the
# ones the run used.
PARAMS = {"boots": 3, "restarts": 1000, "more": 10000, "orphans": 10000}

# (key, label, pinit's budget text, over(value) -> bool or None). The
# budgets are docs/design.md §12's, for pinit; the other inits get no mark.
ROWS = [
    ("restart", "Restart latency, fastest setting: exit of a crashed service → exec of its "
     "replacement (icount)", "< 1 ms (target ≤ 0.3 ms)", lambda ns: ns >= 1e6),
    ("backoff", "Restart gaps with the init's default policy, first 6 (icount)",
     "100 ms doubling (docs/config.md)", None),
    ("start-8-kernel", "Kernel hand-over → 8 services started (icount)", "", None),
    ("start-32-kernel", "Kernel hand-over → 32 services started (icount)", "", None),
    ("start-8", "Init's own start (pinit's banner) → 8 services started (icount)", "", None),
    ("start-32", "Init's own start (pinit's banner) → 32 services started (icount)", "", None),
    ("rss-8", "PID 1 Rss, 8 services", "", None),
    ("pss-8", "PID 1 Pss, 8 services", "", None),
    ("anonymous-8", "PID 1 private (Anonymous), 8 services", "", None),
    ("rss-32", "PID 1 Rss, 32 services", "≤ 128 KiB (target ≤ 64 KiB)", lambda v: v > 128),
    ("pss-32", "PID 1 Pss, 32 services", "", None),
    ("anonymous-32", "PID 1 private (Anonymous), 32 services", "≤ 64 KiB (target ≤ 24 KiB)",
     lambda v: v > 64),
    ("libs-32", "PID 1 Rss in shared libraries, 32 services", "", None),
    ("tree-pss-8", "Pss of the supervision tree, 8 services", "", None),
    ("tree-pss-32", "Pss of the supervision tree, 32 services", "", None),
    ("heap", "`[heap]` in /proc/1/maps", "none", lambda v: v > 0),
    ("anon-restarts", "PID 1 Anonymous before → after {more:,} restarts (fastest setting)",
     "flat", lambda v: v != 0),
    ("orphans", "{orphans:,} orphans: `orphans` start → exit (icount); zombies left",
     "all reaped, no zombie, Rss unchanged", None),
    ("orphans-root", "The same {orphans:,} orphans from the root cgroup, where the init had "
     "put the script in a service cgroup (icount)", "", None),
    ("binary", "On disk: what the init needs (binary, helpers, shared libraries)",
     "≤ 150 KiB x86_64 (target ≤ 64 KiB)", None),
    ("start-32-wall", "Context, wall clock (no icount): hand-over → 32 services started", "",
     None),
    ("restart-wall", "Context, wall clock (no icount): restart latency, fastest setting", "",
     None),
]

METHOD = """\
## Method

Every init boots the same way: the Debian cloud kernel from an
initramfs, QEMU TCG, `-smp 2 -m 1024M` (1 GiB so that systemd's
Debian root fits in its initramfs; the others use a few MiB), serial
console, kernel command line `console=<tty> panic=-1`; x86_64 `-machine
pc -cpu qemu64,+rdrand`, aarch64 `-machine virt -cpu cortex-a72`, armv7
`-machine virt,highmem=off -cpu cortex-a15` (Debian 12's armmp-lpae
kernel; `-smp 1`: under icount its second CPU hangs at bring-up),
riscv64 `-machine virt -bios default` (Debian 13's kernel).
RDRAND lets the x86_64 kernel's random number generator start at boot,
as it does on real x86 hardware and on aarch64 (the virt machine passes
an rng-seed); without it, every interrupt pays for pre-init entropy
mixing until `random: crng init done` seconds into the boot. pinit is
measured on all four arches, the other inits on x86_64. busybox is the
userland of every image but systemd's (a Debian root); the measuring
programs are the same everywhere.

Every timed figure boots with `-icount shift=0,sleep=off`: guest time
counts instructions (1 ns each), so host load and parallel boots do
not change it and boots agree within a few µs; `sleep=off` skips the
time in which both CPUs are idle, so a 1 s restart delay costs no wall
time. icount time is not hardware time: every instruction costs the
same (cache misses, TLB refills and emulated devices cost nothing
extra), so read the time figures as instruction counts, comparable
between inits and commits, not as what a board would show. The
wall-clock rows boot without icount, one boot each, after the others,
for context only (under TCG wall clock varies up to 3.6x between
boots).

The measuring is done inside the guest by shell scripts
(`tests/qemu/bench/guest/`) and two small static programs from
`tests/qemu/progs`, no_std Rust on musl whose `main` musl's start-up
calls directly: `stamp` appends its first CLOCK_BOOTTIME reading to a
file and sleeps; `crashloop` appends `START EXIT` (CLOCK_BOOTTIME, ns)
for each run and exits 1 at once. The scripts print `BENCH` lines on the
console; the host computes every figure from them. Each init runs them
its own way (a pinit task, an inittab `once` line, a runit stage-2
command, a command of s6's stage 1, a systemd oneshot service).

**Restart latency.** One service, `crashloop`, restarted at once where
the init can be told so (pinit `restart-max=0`, systemd `RestartSec=0`
and no start limit) and otherwise with the init's fixed delay (named
under Versions: busybox init, runsv and s6-supervise wait about a
second by design; the figure then is mostly that second). A gap runs
from the EXIT time of one run (read just before its 42-byte write(2)
to the ramfs root and `_exit(1)`) to the START time of the next (read
first thing in `main`). For pinit it includes: that write and the
process exit; SIGCHLD through its signalfd, the epoll wake-up, reaping;
the unit's state machine; the sweep of the unit's cgroup.procs; the
capture pipe for `log=kmsg` (the default); clone3 into the unit's
cgroup, the child's set-up and execve (pinit waits until the exec
closes its report pipe); pinit's console line `crash: started (pid N,
cgroup ...)` (a write to the emulated 16550 UART, which drains at once
in QEMU; a real 115200-baud console takes 6 ms for those 70 bytes); the
kernel loading the 7-17 KB static probe; musl's start-up. The first
{restarts:,} gaps of each of {boots} boots; the long boot then runs {more:,} more
restarts (for the memory figure), reported in the details. The median
is the typical restart; the mean also carries the restarts that a timer
tick lands in. The default policy is one more boot with the init's
defaults: its first 6 gaps (pinit: 100, 200, ... ms of back-off, plus
the cycle).

**Start-up.** 8 or 32 services, each `stamp`, no dependencies, ready
once exec'd. The figure is the latest of the services' own timestamps
minus the kernel's hand-over to the init (`Run /init as init process` in
the kernel log, placed on CLOCK_BOOTTIME by a line the script writes to
/dev/kmsg with a CLOCK_BOOTTIME reading): the same start for every init,
and it includes each init's own set-up (mounts, reading its
configuration). For pinit the table also gives the time from its own
start (the CLOCK_BOOTTIME reading in its banner, taken once fds 0-2 are
open, before the mounts). The measuring script sleeps 1 s before
anything else, so it does not compete with the services' start.

**Memory.** `/proc/PID/smaps_rollup`, read by the script (another
process) once all services run: Rss, Pss and Anonymous (private
anonymous memory: data, bss, heap, stack). The tree is PID 1 plus the
init's per-service supervisors or helper daemons (runsvdir and runsv,
s6-supervise, systemd-journald: the `tree` command under Versions); its
figure is the sum of their Pss, so pages they share (one binary, one
libc) count once. "In shared libraries" sums the Rss (PID 1) or Pss
(tree) of mappings of files named `*.so*` from /proc/PID/smaps: the
part of a dynamically linked init's memory that a static build would
mostly not carry. A static binary from an initramfs lives in the page
cache and fault-around maps its text in 64 KiB windows, so Rss is about
the binary's size plus Anonymous, unless the init unmaps the code it no
longer runs (pinit does after its boot: docs/design.md §1). `[heap]` is
looked for in
/proc/1/maps in every start-up boot.

**Anonymous memory across restarts.** In the long restart boot a
crashloop hook reads PID 1's smaps_rollup after {restarts:,} restarts; the loop
goes on for {more:,} more, and its last run reads it again.

**Reaping.** In the 32-service boots, after the memory readings:
`orphans {orphans}` ({orphans:,} double forks: each grandchild is re-parented to
PID 1 and exits at once), timed with `stamp -x` (CLOCK_BOOTTIME, icount)
from before its start to after its exit. Then the zombies (state Z) in
/proc are counted, again up to 20 times 0.1 s apart while any is left.
pinit and systemd start the script in a service cgroup with the memory
and pids controllers on, which charge every fork and exit to it; busybox
init, runit and s6 leave everything in the root cgroup. So where the
script is not in the root cgroup, it moves itself there and times the
same {orphans:,} orphans again (the headline table gives that time in
brackets). Then PID 1's smaps_rollup is read again.

**On disk.** The sizes of the files the init needs, as the images carry
them: pinit's stripped static binary (built by the run with the
qemu-ARCH board compiled in); busybox's whole static binary (it is the
userland too); for runit, s6 and systemd the binaries of the tree and
every shared library they load, the dynamic loader included (listed per
init in the details).

Medians are over boots ({boots} in this run) unless a row says otherwise;
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
    if len(rows) > 1:
        fig.detail = "files: " + ", ".join("`%s` {:,} B".format(os.path.getsize(p)) % g
                                           for g, p in rows)
    return fig


def all_figures(runs, cols):
    """{(init name, arch): {key: Figure}}, the bytes on disk included."""
    figs = {}
    for i, a in cols:
        figs[(i.name, a)] = F.compute(runs, i, a)
        try:
            figs[(i.name, a)]["binary"] = binary_figure(i, a)
        except (OSError, KeyError):
            pass
    return figs


def short_kib(fig):
    return "%d KiB" % fig.value if fig is not None and fig.value is not None else "n/a"


def pair_kib(rss, pss):
    """`Rss / Pss KiB`."""
    if rss is None or pss is None:
        return "n/a"
    return "%d / %d KiB" % (rss.value, pss.value)


def short_ms(fig):
    if fig is None or fig.value is None:
        return "n/a"
    v = fig.value / 1e6
    return "%.3f ms" % v if v < 10 else "%.1f ms" % v if v < 1000 else "%.0f ms" % v


def orphans_cell(orph, root):
    """`time, zombies`, the time from the root cgroup in brackets."""
    if orph is None:
        return "n/a"
    t = short_ms(orph) + (" (root cgroup: %s)" % short_ms(root) if root else "")
    return "%s, %s" % (t, getattr(orph, "zombies", "?"))


def headline(figs, cols, params=PARAMS):
    """The comparison table: a row per init and arch, medians only (the
    spreads are in the table of all figures)."""
    out = ["| init | PID 1 Rss / Pss, 8 services | PID 1 Rss / Pss, 32 services "
           "| of PID 1's Rss in shared libraries | tree Pss, 32 services (processes) "
           "| on disk | hand-over → 32 services started | restart gap, fastest / default "
           "| {:,} orphans: time, zombies left |".format(params["orphans"]),
           "|" + " --- |" * 9]
    for i, a in cols:
        f = figs[(i.name, a)]
        tree = f.get("tree-pss-32")
        disk = f.get("binary")
        orph = f.get("orphans")
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |" % (
            "%s (%s)" % (i.name, a),
            pair_kib(f.get("rss-8"), f.get("pss-8")),
            pair_kib(f.get("rss-32"), f.get("pss-32")),
            short_kib(f.get("libs-32")),
            "%s (%s)" % (short_kib(tree), "%g" % tree.procs if hasattr(tree, "procs") else "?")
            if tree else "n/a",
            "%.0f KiB" % (disk.value / KIB) if disk else "n/a",
            short_ms(f.get("start-32-kernel")),
            short_ms(f.get("restart")), short_ms(f.get("backoff")),
            orphans_cell(orph, f.get("orphans-root"))))
    return out


README_BEGIN = "<!-- bench: begin (generated by make bench from docs/bench/RESULTS.md) -->"
README_END = "<!-- bench: end -->"


def splice(text, block):
    """`text` with the lines between the README markers replaced by
    `block`; unchanged when the markers are missing."""
    a, b = text.find(README_BEGIN), text.find(README_END)
    if a < 0 or b < a:
        return text
    return text[:a + len(README_BEGIN)] + "\n" + "\n".join(block) + "\n" + text[b:]


def write(path, runs, inits, arches, seconds, command, readme=None, chart=None, params=None):
    params = dict(PARAMS, **(params or {}))
    cols = [(i, a) for i in inits for a in arches if a in i.arches]
    figs = all_figures(runs, cols)
    over_binary = {"x86_64": lambda v: v > 150 * KIB}
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    lines = ["# pinit benchmarks", "",
             "Generated by %s on %s in %dm%02ds (wall clock, %d boots). Do not edit: "
             "every figure below was measured in that run; rerun to update. "
             "How to run it: [README.md](README.md)." % (
                 command, when, seconds // 60, seconds % 60, len(runs)), ""]
    failed = [r for r in runs if not r.ok]
    if failed:
        lines += ["**%d boot(s) failed**; their figures are missing (see the log):" % len(failed), ""]
        lines += ["- %s %s %s #%d: %s (`%s`)" % (r.init, r.arch, r.workload, r.boot,
                                                 r.error.strip().splitlines()[-1] if r.error else "?",
                                                 os.path.relpath(r.log, qemu.ROOT)) for r in failed]
        lines.append("")
    top = headline(figs, cols, params)
    lines += ["## Comparison", "",
              "Medians; memory in KiB; times in guest instructions (icount, 1 ns each). "
              "Restart gaps of about 1 s are the init's built-in delay (see Versions).", ""]
    lines += top + [""]
    if chart:
        lines += ["![PID 1 and supervision tree Pss per init, 32 services](%s)"
                  % os.path.relpath(chart, path.parent), ""]
    head = "| figure | " + " | ".join("%s %s" % (i.name, a) for i, a in cols) + \
           " | pinit's budget (docs/design.md §12) |"
    lines += ["## All figures", "", head, "|" + " --- |" * (len(cols) + 2)]
    for key, label, budget, over in ROWS:
        cells = []
        for i, a in cols:
            fig = figs[(i.name, a)].get(key)
            o = over if i.name == "pinit" else None
            if key == "binary" and i.name == "pinit":
                o = over_binary.get(a)
            if key == "orphans" and fig is not None:
                bad = (fig.zombies or 0) > 0 or (i.name == "pinit" and (fig.rss_delta or 0) > 4)
                cells.append(fig.text + (" **over**" if bad else ""))
                continue
            cells.append(cell(fig, o))
        if all(c == "n/a" for c in cells):
            continue
        lines.append("| %s | %s | %s |" % (label.format(**params), " | ".join(cells),
                                           budget or ""))
    lines += ["", "Versions:", ""] + versions(arches, runs) + [""]
    for i, a in cols:
        lines.append("- %s %s: %s" % (i.name, a, i.describe(a)))
        lines.append("- %s %s restarts: %s; %s" % (i.name, a, i.restart_policy(True),
                                                   i.restart_policy(False)))
        lines.append("- %s %s tree: `%s`" % (i.name, a, i.tree))
    lines += ["", METHOD.format(**params), "## Details", ""]
    for i, a in cols:
        lines += ["### %s %s" % (i.name, a), ""]
        for key, label, _, _ in ROWS:
            fig = figs[(i.name, a)].get(key)
            if fig is None:
                continue
            lines.append("- %s: %s%s" % (label.format(**params), fig.text,
                                          ("; " + fig.detail) if fig.detail else ""))
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
    if chart:
        chart.write_text(svgchart.svg(svgchart.bars(figs, cols), when))
    if readme and readme.exists():
        block = ["", "From [docs/bench/RESULTS.md](docs/bench/RESULTS.md) (%s, %s):" % (
            when, "all boots ok" if not failed else "%d boots failed" % len(failed)), ""]
        block += top + [""]
        if chart:
            block += ["![PID 1 and supervision tree Pss per init](%s)"
                      % os.path.relpath(chart, readme.parent), ""]
        readme.write_text(splice(readme.read_text(), block))
    return figs
