"""From the runs' `BENCH` lines to figures: one Figure per (init, arch,
figure key), each with its value for the table, the per-boot samples,
and the details for the report."""

import re
from dataclasses import dataclass, field

import workloads

KMSG = re.compile(r"^\[\s*([0-9.]+)\]\s+(.*)$")


@dataclass
class Figure:
    value: float = None            # the headline number (None: not measured)
    text: str = "n/a"              # the table cell
    detail: str = ""               # more, for the per-figure section
    samples: list = field(default_factory=list)   # one per boot
    unit: str = ""


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def pct(xs, p):
    """Nearest-rank percentile of a sorted list."""
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def nboots(n):
    return "%d boot%s" % (n, "" if n == 1 else "s")


def spread(samples, fmt):
    """`median (min–max, N boots)`, or the one value."""
    if not samples:
        return "n/a"
    if len(samples) == 1:
        return fmt(samples[0]) + " (1 boot)"
    return "%s (%s–%s, %s)" % (fmt(median(samples)), fmt(min(samples)),
                              fmt(max(samples)), nboots(len(samples)))


def ms(ns):
    return "%.3f ms" % (ns / 1e6)


def kib(v):
    return "%d KiB" % v


def one(run, key):
    v = run.lines.get(key)
    return v[0] if v else None


def handover(run):
    """CLOCK_BOOTTIME (s) of the kernel's `Run /init as init process`,
    from the kernel log's clock matched against a bench-sync line."""
    run_ts = sync_ts = sync_boot = None
    for l in run.lines.get("kmsg", []):
        m = KMSG.match(l.strip())
        if not m:
            continue
        ts, msg = float(m.group(1)), m.group(2)
        if "as init process" in msg and run_ts is None:
            run_ts = ts
        elif msg.startswith("bench-sync "):
            sync_ts, sync_boot = ts, float(msg.split()[1])
    if None in (run_ts, sync_ts):
        return None
    return run_ts + (sync_boot - sync_ts)


def gaps(run, tag):
    out = []
    for l in run.lines.get("gaps", []):
        w = l.split()
        if w and w[0] == tag:
            out += [int(x) for x in w[1:]]
    return out


def stamp_time(line):
    """The time of a `stamp NAME TIME` line; the kernel's console output
    may follow it on the same line (`1.226022400[    2.267222] ...`)."""
    words = line.split()
    m = re.match(r"\d+\.\d+", words[1]) if len(words) > 1 else None
    return float(m.group(0)) if m else None


def smaps(run, key):
    v = one(run, key)
    return workloads.fields(v) if v is not None else {}


def tree_field(line, key):
    """A field of a `PID Rss=... Pss=...` line (smaps-tree, libs-tree)."""
    return workloads.fields(line.split(None, 1)[1] if " " in line else "").get(key, 0)


def compute(runs, init, arch):
    """{figure key: Figure} for one init on one arch."""
    mine = [r for r in runs if r.ok and r.init == init.name and r.arch == arch]
    f = {}

    # 1. Restart latency.
    fast = [r for r in mine if r.kind == "restart" and r.icount]
    per_boot = [median(gaps(r, "first")) for r in fast if gaps(r, "first")]
    pooled = sorted(g for r in fast for g in gaps(r, "first"))
    if pooled:
        fig = Figure(median(pooled), unit="ns", samples=per_boot)
        fig.text = "%s (mean %s; p10–p90 %s–%s; boot medians %s–%s; %d restarts, %s)" % (
            ms(median(pooled)), ms(mean(pooled)), ms(pct(pooled, 10)), ms(pct(pooled, 90)),
            ms(min(per_boot)), ms(max(per_boot)), len(pooled), nboots(len(per_boot)))
        second = sorted(g for r in fast for g in gaps(r, "second"))
        inrun = [int(one(r, "inrun").split()[2]) for r in fast if one(r, "inrun")]
        fig.detail = "all %d gaps: min %s, p10 %s, median %s, p90 %s, p99 %s, max %s" % (
            len(pooled), ms(pooled[0]), ms(pct(pooled, 10)), ms(median(pooled)),
            ms(pct(pooled, 90)), ms(pct(pooled, 99)), ms(pooled[-1]))
        if second:
            fig.detail += "; the %d further restarts of the long boot: median %s, mean %s, " \
                          "p90 %s, max %s" % (len(second), ms(median(second)), ms(mean(second)),
                                              ms(pct(second, 90)), ms(second[-1]))
        if inrun:
            fig.detail += "; the probe's own run (start to exit): median %s, so a full cycle " \
                          "(start to start) is about %s" % (ms(median(inrun)),
                                                            ms(median(pooled) + median(inrun)))
        f["restart"] = fig
    wall = [r for r in mine if r.kind == "restart" and not r.icount]
    wall_gaps = sorted(g for r in wall for g in gaps(r, "first"))
    if wall_gaps:
        f["restart-wall"] = Figure(median(wall_gaps), unit="ns", samples=[median(wall_gaps)],
                                   text="%s (mean %s; p10–p90 %s–%s; %d restarts, 1 boot)" % (
                                       ms(median(wall_gaps)), ms(mean(wall_gaps)),
                                       ms(pct(wall_gaps, 10)),
                                       ms(pct(wall_gaps, 90)), len(wall_gaps)))
    back = [r for r in mine if r.kind == "backoff"]
    if back and gaps(back[0], "first"):
        g = gaps(back[0], "first")
        f["backoff"] = Figure(g[0], unit="ns", samples=[g[0]],
                              text=", ".join("%.1f" % (x / 1e6) for x in g) + " ms")

    # 2. Start-up, 3. footprint, 5. reaping.
    for n in sorted({r.params.get("n") for r in mine if r.kind == "start"}):
        boots = [r for r in mine if r.kind == "start" and r.params.get("n") == n]
        timed = [r for r in boots if r.icount]
        ready, from_kernel, exec_ms = [], [], []
        for r in timed:
            stamps = [t for t in map(stamp_time, r.lines.get("stamp", [])) if t is not None]
            if len(stamps) != n:
                continue
            last = max(stamps)
            k = handover(r)
            if k is not None:
                from_kernel.append((last - k) * 1e9)
            if r.start_time is not None:      # the init's own clock (pinit's banner)
                ready.append((last - r.start_time) * 1e9)
                if k is not None:
                    exec_ms.append((r.start_time - k) * 1e9)
        if ready:
            fig = Figure(median(ready), unit="ns", samples=ready, text=spread(ready, ms))
            if exec_ms:
                fig.detail = "hand-over to the init's first clock reading: %s" % spread(exec_ms, ms)
            f["start-%d" % n] = fig
        if from_kernel:
            f["start-%d-kernel" % n] = Figure(median(from_kernel), unit="ns",
                                              samples=from_kernel, text=spread(from_kernel, ms))
        for r in boots:
            if r.icount:
                continue
            stamps = [float(l.split()[1]) for l in r.lines.get("stamp", [])]
            t0 = handover(r)      # the same start for every init
            if len(stamps) == n and t0 is not None:
                v = (max(stamps) - t0) * 1e9
                f["start-%d-wall" % n] = Figure(v, unit="ns", samples=[v], text=ms(v) + " (1 boot)")
        # Memory from the timed boots only, so every figure has the same boots.
        mem = [smaps(r, "smaps-pid1") for r in timed if smaps(r, "smaps-pid1")]
        for key in ("Rss", "Pss", "Anonymous"):
            xs = [m[key] for m in mem if key in m]
            if xs:
                f["%s-%d" % (key.lower(), n)] = Figure(median(xs), unit="KiB", samples=xs,
                                                       text=spread(xs, kib))
        libs = [smaps(r, "libs-pid1") for r in timed if smaps(r, "libs-pid1")]
        xs = [m["Rss"] for m in libs if "Rss" in m]
        if xs:
            f["libs-%d" % n] = Figure(median(xs), unit="KiB", samples=xs, text=spread(xs, kib))
        tree, tree_libs, procs = [], [], []
        for r in timed:
            pss = [tree_field(l, "Pss") for l in r.lines.get("smaps-tree", [])]
            if pss:
                tree.append(sum(pss))
                procs.append(len(pss))
                tree_libs.append(sum(tree_field(l, "Pss") for l in r.lines.get("libs-tree", [])))
        if tree:
            fig = Figure(median(tree), unit="KiB", samples=tree, text=spread(tree, kib))
            fig.procs = median(procs)
            fig.libs = median(tree_libs)
            fig.detail = "processes in the tree: %s; of the Pss, in shared libraries: %s" % (
                "/".join(str(p) for p in sorted(set(procs))), spread(tree_libs, kib))
            f["tree-pss-%d" % n] = fig
        heaps = [one(r, "heap") for r in timed if one(r, "heap")]
        if heaps:
            f["heap"] = Figure(heaps.count("yes"), text="yes" if "yes" in heaps else
                               "none (%s)" % nboots(len(heaps)))
        orph = [r for r in timed if one(r, "zombies") is not None]
        if orph:
            t, z, drss, root, cgs = [], [], [], [], set()
            for r in orph:
                clock = {l.split()[0]: float(l.split()[1]) for l in r.lines.get("clock", [])}
                if "orphans-start" in clock and "orphans-exit" in clock:
                    t.append((clock["orphans-exit"] - clock["orphans-start"]) * 1e9)
                if "orphans-root-start" in clock and "orphans-root-exit" in clock:
                    root.append((clock["orphans-root-exit"] - clock["orphans-root-start"]) * 1e9)
                    cgs.add(one(r, "orphans-root-from") or "?")
                z.append(int(one(r, "zombies")))
                b, a = smaps(r, "orphans-before"), smaps(r, "orphans-after")
                if "Rss" in b and "Rss" in a:
                    drss.append((b["Rss"], a["Rss"], b.get("Anonymous"), a.get("Anonymous")))
            rc = {one(r, "orphans-rc") for r in orph}
            count = orph[0].params.get("orphans")
            fig = Figure(median(t) if t else None, unit="ns", samples=t)
            fig.text = "%s; zombies left: %s" % (spread(t, ms), ", ".join(map(str, z)))
            first = [one(r, "zombies-first") or "?" for r in orph]
            fig.detail = "%d orphans per boot (program exit status %s); zombies at the first " \
                         "count, right after the program's exit: %s; PID 1 Rss before → " \
                         "after: %s; Anonymous: %s" % (
                             count, "/".join(sorted(x or "?" for x in rc)), ", ".join(first),
                             ", ".join("%d → %d KiB" % (b, a) for b, a, _, _ in drss),
                             ", ".join("%s → %s KiB" % (ab, aa) for _, _, ab, aa in drss))
            fig.zombies = max(z) if z else None
            fig.rss_delta = max((abs(a - b) for b, a, _, _ in drss), default=None)
            f["orphans"] = fig
            if root:
                fig = Figure(median(root), unit="ns", samples=root)
                fig.text = spread(root, ms)
                fig.detail = "the measuring script moved from %s to the root cgroup" % (
                    ", ".join("`%s`" % c for c in sorted(cgs)))
                f["orphans-root"] = fig

    # 4. Anonymous memory across 10,000 restarts.
    for r in mine:
        if r.kind == "restart" and r.params.get("more"):
            b, a = smaps(r, "mid-smaps"), smaps(r, "end-smaps")
            if "Anonymous" in b and "Anonymous" in a:
                fig = Figure(a["Anonymous"] - b["Anonymous"], unit="KiB",
                             samples=[a["Anonymous"] - b["Anonymous"]])
                fig.text = "%d → %d KiB (Rss %d → %d KiB)" % (b["Anonymous"], a["Anonymous"],
                                                               b.get("Rss", 0), a.get("Rss", 0))
                fig.detail = "after %d restarts, then after %d more" % (
                    r.params["runs"], r.params["more"])
                f["anon-restarts"] = fig
    return f
