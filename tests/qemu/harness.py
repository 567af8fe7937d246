"""The test harness behind tests/qemu/run: finds the cases, gives each a
Test to boot guests with, keeps their logs and figures."""

import importlib.util
import re
import time
import traceback
from pathlib import Path

import qemu

CASES = qemu.HERE / "cases"
LOGS = qemu.CACHE / "logs"
RESULTS = qemu.CACHE / "results.txt"
CASE_NAME = re.compile(r"^\d{4}-[A-Za-z0-9_-]+\.py$")


def find_cases(selectors=()):
    """The case files in order; with selectors, those whose name starts
    with one of them."""
    cases = sorted(p for p in CASES.iterdir() if CASE_NAME.match(p.name))
    if selectors:
        cases = [c for c in cases if any(c.stem.startswith(s.removesuffix(".py"))
                                         for s in selectors)]
    return cases


def kernel_has(arch, option):
    """The arch's Debian kernel was built with CONFIG_<option>=y (its
    config, saved by fetch.py beside the kernel)."""
    try:
        text = (qemu.CACHE / arch / "config").read_text()
    except OSError:
        return False
    return ("CONFIG_%s=y" % option) in text.splitlines()


DISKS = qemu.CACHE / "disks"


class Test:
    """What a case gets: `t.arch`, `t.tty` (/dev/ttyS0 or /dev/ttyAMA0),
    `t.numa` (the kernel has NUMA: not armv7's, 32-bit ARM has none),
    `t.modules` (an overlay with the kernel's watchdog modules),
    `t.boot(...)`, `t.disk(...)` and `t.disk_dev(n)`, `t.metric(name,
    value)`, `t.check(cond, message)`."""

    def __init__(self, name, arch, progs):
        self.name = name
        self.arch = arch
        self.tty = qemu.ARCHES[arch].tty()
        self.numa = kernel_has(arch, "NUMA")
        # An overlay with the kernel's watchdog modules
        # (fetch.WATCHDOG_MODULES): /lib/modules/NAME.ko and
        # /lib/modules/order, the order to load them in.
        self.modules = qemu.CACHE / arch / "watchdog"
        self.progs = progs
        self.guests = []
        self.metrics = {}
        self.disks = []

    def boot(self, files=None, progs=False, timeout=120, **kw):
        """Boots a guest with `files` ({path: text or (text, mode)}) added to
        the default image, and the test programs if `progs`. Its console
        goes to target/qemu/logs/<case>-<arch>[-N].log."""
        n = len(self.guests)
        log = LOGS / ("%s-%s%s.log" % (self.name, self.arch, "-%d" % (n + 1) if n else ""))
        overlays = list(kw.pop("overlays", ()))
        if progs:
            overlays.insert(0, self.progs)
        g = qemu.boot(self.arch, files=files, overlays=overlays, timeout=timeout,
                      log_path=log, **kw)
        g.log_path = log
        self.guests.append(g)
        return g

    def disk(self, name, mb=32, files=None, uuid=None, label=None):
        """An ext4 image (qemu.make_disk) for `t.boot(disks=[...])`, kept
        across this case's boots and removed when it ends."""
        path = qemu.make_disk(DISKS / ("%s-%s-%s.img" % (self.name, self.arch, name)), mb,
                              files, uuid, label)
        self.disks.append(path)
        return path

    def disk_dev(self, n=0):
        """The guest's device of the n-th disk (/dev/nvme0n1, /dev/vda)."""
        return qemu.ARCHES[self.arch].disk_dev(n)

    def metric(self, key, value):
        self.metrics[key] = value

    def check(self, cond, message):
        if not cond:
            raise AssertionError(message)

    def finish(self):
        for g in self.guests:
            g.kill()
        for d in self.disks:
            d.unlink(missing_ok=True)


class Result:
    """One case on one arch. `outcome` is PASS, FAIL, XFAIL (a case marked
    `XFAIL = "reason"` failed, as expected) or XPASS (a marked case passed:
    its mark must go, so this counts as a failure). `ok`: not a failure."""

    def __init__(self, name, arch, ok, seconds, error, guests, metrics, xfail=None):
        self.name, self.arch, self.seconds = name, arch, seconds
        self.error, self.guests, self.metrics = error, guests, metrics
        self.xfail = xfail
        if xfail is None:
            self.outcome = "PASS" if ok else "FAIL"
        else:
            self.outcome = "XFAIL" if not ok else "XPASS"
            if ok:
                self.error = "marked XFAIL (%s) but passed: remove the mark" % xfail
        self.ok = self.outcome in ("PASS", "XFAIL")

    def report(self, lines=40):
        out = ["    " + l for l in self.error.rstrip().splitlines()]
        if self.guests:
            g = self.guests[-1]
            tail = g.text().replace("\r", "").splitlines()[-lines:]
            out.append("    --- last %d lines of %s ---" % (len(tail), g.log_path))
            out += ["    | " + l for l in tail]
        return "\n".join(out)


def load(path):
    spec = importlib.util.spec_from_file_location("case_" + path.stem.replace("-", "_"), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_case(path, arch, progs):
    """Runs one case. A module-level `XFAIL = "reason"` marks a case that
    is known to fail until a fix lands (see Result)."""
    t = Test(path.stem, arch, progs)
    start = time.monotonic()
    error = ""
    xfail = None
    try:
        mod = load(path)
        xfail = getattr(mod, "XFAIL", None)
        mod.run(t)
        ok = True
    except AssertionError as e:
        ok = False
        error = "%s" % e
    except Exception:
        ok = False
        error = traceback.format_exc()
    finally:
        t.finish()
    return Result(path.stem, arch, ok, time.monotonic() - start, error, t.guests, t.metrics,
                  xfail)


def write_results(results, arches, seconds):
    lines = ["# tests/qemu/run, %s, %.1fs wall" % (time.strftime("%Y-%m-%d %H:%M:%S"), seconds)]
    for arch in arches:
        try:
            lines += ["%s: %s" % (arch, l) for l in
                      (qemu.CACHE / arch / "versions").read_text().splitlines()]
        except OSError:
            pass
    for r in sorted(results, key=lambda r: (r.name, r.arch)):
        figures = " ".join("%s=%s" % kv for kv in sorted(r.metrics.items()))
        lines.append("%s %s %s %.1fs %s" % (r.outcome, r.name, r.arch, r.seconds, figures))
    RESULTS.write_text("\n".join(lines) + "\n")
