"""Host tests of the benchmark's plumbing: parsing the guest's lines,
the figures, pinit's generated config. `make bench` runs them first."""

import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import chart  # noqa: E402
import figures as F  # noqa: E402
import inits as I  # noqa: E402
import report as R  # noqa: E402
import runner  # noqa: E402
import workloads as W  # noqa: E402


def run_of(text, kind, params, icount=True, start=None):
    r = runner.Run("pinit", "x86_64", "w", kind, 1, icount, params, ok=True)
    r.lines = W.parse(text)
    r.start_time = start
    return r


class Parse(unittest.TestCase):
    def test_bench_lines_anywhere_in_a_line(self):
        p = W.parse("junk\r\nBENCH heap no\r\n[ 1.0] x BENCH kmsg [ 1.5] y\nBENCH END\n")
        self.assertEqual(p["heap"], ["no"])
        self.assertEqual(p["kmsg"], ["[ 1.5] y"])
        self.assertEqual(p["END"], [""])

    def test_fields(self):
        self.assertEqual(W.fields(" Rss=244 Pss=240 Anonymous=76"),
                         {"Rss": 244, "Pss": 240, "Anonymous": 76})


class Figures(unittest.TestCase):
    def test_median_and_percentiles(self):
        self.assertEqual(F.median([3, 1, 2]), 2)
        self.assertEqual(F.median([4, 1, 2, 3]), 2.5)
        xs = list(range(1, 101))
        self.assertEqual(F.pct(xs, 10), 10)
        self.assertEqual(F.pct(xs, 90), 90)
        self.assertEqual(F.pct(xs, 100), 100)

    def test_handover_on_boottime(self):
        # The kernel log runs 0.5 s behind CLOCK_BOOTTIME here.
        r = run_of("BENCH kmsg [    1.000000] Run /init as init process\n"
                   "BENCH kmsg [    2.000000] bench-sync 2.500000000\n", "start", {"n": 1})
        self.assertAlmostEqual(F.handover(r), 1.5)

    def test_restart_gaps_and_start(self):
        text = ("BENCH gaps first 400000 500000 450000\nBENCH gaps second 1 2\n"
                "BENCH inrun all 3 10000\n")
        f = F.compute([run_of(text, "restart", {"runs": 3})], I.Pinit(), "x86_64")
        self.assertEqual(f["restart"].value, 450000)
        text = ("BENCH stamp s00 1.002\nBENCH stamp s01 1.010\n"
                "BENCH smaps-pid1  Rss=200 Pss=190 Anonymous=50\nBENCH heap no\n"
                "BENCH smaps-tree 1  Rss=200 Pss=190\n")
        f = F.compute([run_of(text, "start", {"n": 2}, start=1.0)], I.Pinit(), "x86_64")
        self.assertAlmostEqual(f["start-2"].value, 10e6, places=0)
        self.assertEqual(f["rss-2"].value, 200)
        self.assertEqual(f["anonymous-2"].value, 50)
        self.assertEqual(f["tree-pss-2"].value, 190)
        self.assertEqual(f["heap"].text, "none (1 boot)")

    def test_start_from_the_handover_and_shared_libraries(self):
        text = ("BENCH kmsg [    1.000000] Run /init as init process\n"
                "BENCH kmsg [    2.000000] bench-sync 2.000000000\n"
                "BENCH stamp s00 1.010\nBENCH stamp s01 1.020\n"
                "BENCH smaps-pid1  Rss=900 Pss=500 Anonymous=50\n"
                "BENCH libs-pid1 Rss=600 Pss=200\n"
                "BENCH smaps-tree 1  Rss=900 Pss=500\nBENCH libs-tree 1 Rss=600 Pss=200\n"
                "BENCH smaps-tree 7  Rss=800 Pss=300\nBENCH libs-tree 7 Rss=600 Pss=200\n")
        f = F.compute([run_of(text, "start", {"n": 2})], I.Pinit(), "x86_64")
        self.assertAlmostEqual(f["start-2-kernel"].value, 20e6, places=0)
        self.assertNotIn("start-2", f)          # no banner clock: only the hand-over
        self.assertEqual(f["libs-2"].value, 600)
        self.assertEqual(f["tree-pss-2"].value, 800)
        self.assertEqual((f["tree-pss-2"].procs, f["tree-pss-2"].libs), (2, 400))

    def test_orphans_in_the_services_cgroup_and_from_the_root(self):
        text = ("BENCH zombies-first 0\nBENCH orphans-rc 0\nBENCH zombies 0\n"
                "BENCH orphans-root-from /services/bench\n"
                "BENCH clock orphans-start 2.0\nBENCH clock orphans-exit 3.25\n"
                "BENCH clock orphans-root-start 4.0\nBENCH clock orphans-root-exit 4.875\n")
        f = F.compute([run_of(text, "start", {"n": 32, "orphans": 10})], I.Pinit(), "x86_64")
        self.assertAlmostEqual(f["orphans"].value, 1.25e9, places=0)
        self.assertEqual(f["orphans"].zombies, 0)
        self.assertAlmostEqual(f["orphans-root"].value, 0.875e9, places=0)
        self.assertIn("`/services/bench`", f["orphans-root"].detail)
        self.assertEqual(R.orphans_cell(f["orphans"], f["orphans-root"]),
                         "1250 ms (root cgroup: 875.0 ms), 0")
        self.assertEqual(R.orphans_cell(f["orphans"], None), "1250 ms, 0")

    def test_a_stamp_with_kernel_output_after_it(self):
        text = ("BENCH stamp s00 1.002\n"
                "BENCH stamp s01 1.004000000[    2.267222] bench-sync 2.259467200\n")
        f = F.compute([run_of(text, "start", {"n": 2}, start=1.0)], I.Pinit(), "x86_64")
        self.assertAlmostEqual(f["start-2"].value, 4e6, places=0)
        self.assertIsNone(F.stamp_time("s02 ["))

    def test_a_missing_stamp_gives_no_start_figure(self):
        f = F.compute([run_of("BENCH stamp s00 1.002\n", "start", {"n": 2}, start=1.0)],
                      I.Pinit(), "x86_64")
        self.assertNotIn("start-2", f)


class Report(unittest.TestCase):
    def test_readme_splice_keeps_the_rest(self):
        text = "a\n%s\nold\n%s\nb\n" % (R.README_BEGIN, R.README_END)
        self.assertEqual(R.splice(text, ["new"]),
                         "a\n%s\nnew\n%s\nb\n" % (R.README_BEGIN, R.README_END))
        self.assertEqual(R.splice("no markers\n", ["new"]), "no markers\n")

    def test_headline_row(self):
        p = I.Pinit()
        figs = {("pinit", "x86_64"): {"rss-32": F.Figure(256), "pss-32": F.Figure(252),
                                      "restart": F.Figure(367000)}}
        row = R.headline(figs, [(p, "x86_64")])[2]
        self.assertTrue(row.startswith("| pinit (x86_64) | n/a | 256 / 252 KiB | n/a |"), row)
        self.assertIn("| 0.367 ms / n/a |", row)

    def test_labels_name_the_runs_parameters(self):
        p = I.Pinit()
        figs = {("pinit", "x86_64"): {"tree-pss-32": F.Figure(250)}}
        figs[("pinit", "x86_64")]["tree-pss-32"].procs = 1.0
        row = R.headline(figs, [(p, "x86_64")], dict(R.PARAMS, orphans=500))
        self.assertIn("| 500 orphans: time, zombies left |", row[0])
        self.assertIn("| 250 KiB (1) |", row[2])
        params = dict(R.PARAMS, boots=2, more=2000)
        text = R.METHOD.format(**params)
        self.assertIn("gaps of each of 2 boots; the long boot then runs 2,000 more", text)
        labels = {k: label.format(**params) for k, label, _, _ in R.ROWS}
        self.assertIn("after 2,000 restarts", labels["anon-restarts"])

    def test_chart_log_scale(self):
        p = I.Pinit()
        figs = {("pinit", "x86_64"): {"pss-32": F.Figure(250), "tree-pss-32": F.Figure(250)},
                ("pinit", "aarch64"): {"pss-32": F.Figure(9000), "tree-pss-32": F.Figure(20000)}}
        rows = chart.bars(figs, [(p, "x86_64"), (p, "aarch64")])
        self.assertEqual(rows, [("pinit (x86_64)", 250, 250), ("pinit (aarch64)", 9000, 20000)])
        self.assertEqual(chart.ticks(20000), [64, 256, 1024, 4096, 16384, 65536])
        svg = chart.svg(rows, "now")
        self.assertTrue(svg.startswith("<svg") and svg.rstrip().endswith("</svg>"))
        self.assertIn("19.5 MiB", svg)
        self.assertIn("250 KiB", svg)


class PinitConfig(unittest.TestCase):
    def test_services_and_oneshot(self):
        w = W.start(2, "echo 1")
        conf = I.Pinit().config(w)
        self.assertIn("service s00 -- /usr/bin/stamp /bench/out/stamps s00\n", conf)
        self.assertIn("task bench after=s01 log=inherit -- /bin/sh /bench/start.sh\n", conf)

    def test_fast_restart_and_hooks(self):
        w = W.restart("echo 1", runs=1000, more=10000)
        conf = I.Pinit().config(w)
        self.assertIn("service crash restart-max=0 -- /usr/bin/crashloop "
                      "/bench/out/crash.log 11002:/bench/end.sh 1001:/bench/mid.sh", conf)
        self.assertEqual((w.params["mid"], w.params["end"]), (1001, 11002))
        w = W.restart("echo 1", runs=6, fast=False)
        self.assertNotIn("restart-max", I.Pinit().config(w))
        self.assertEqual(w.params["end"], 7)

    def test_quote(self):
        self.assertEqual(I.quote("a"), "a")
        self.assertEqual(I.quote('a b"'), '"a b\\""')


if __name__ == "__main__":
    unittest.main()
