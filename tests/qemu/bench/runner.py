"""Boots one (init, arch, workload) and collects what the guest printed.

QEMU runs directly (not through tests/qemu/boot, which always boots
pinit): the init builds the image, qemu.qemu_command gives the machine
(TCG, -smp 2, 1 GiB for every init: systemd's root is in its
initramfs), plus `-icount shift=0,sleep=off` for the timed workloads. The run ends at `BENCH END`; QEMU is then
killed (a clean shutdown measures nothing here).
"""

import shutil
import subprocess
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import fetch
import qemu
import workloads

MEM_MB = 1024
SMP = 2
# Per arch where it differs: the 32-bit ARM guest hangs at secondary CPU
# bring-up under -icount with -smp 2 (QEMU 10.0; with -smp 1 it boots).
SMP_ARCH = {"armv7": 1}
# Wall-clock guards per boot are the workload's times this: TCG runs
# armv7 and riscv64 guests slower (10,000 orphans under icount took
# over 240 s on riscv64 on a loaded 2-core host).
SLOWER = {"armv7": 3, "riscv64": 3}

# The kernel's random number generator must be initialised before the
# measuring starts, or every interrupt pays for the pre-init mixing
# (about 0.1 ms per restart on x86_64 until `random: crng init done`,
# 2 s into the loop). aarch64's virt machine hands the kernel an
# rng-seed; on x86_64 RDRAND does it, as on real hardware (Debian trusts
# the CPU's RNG).
EXTRA = {"x86_64": ["-cpu", "qemu64,+rdrand"]}


@dataclass
class Run:
    init: str
    arch: str
    workload: str
    kind: str
    boot: int                     # 1, 2, ... per (init, arch, workload name)
    icount: bool
    params: dict
    ok: bool = False
    error: str = ""
    wall_s: float = 0.0
    start_time: float = None      # the init's own start (CLOCK_BOOTTIME s), if it says
    lines: dict = field(default_factory=dict)
    log: str = ""


def boot(init, arch, workload, n, logdir):
    """One boot; returns a Run (ok=False with the reason on failure)."""
    run = Run(init.name, arch, workload.name, workload.kind, n, workload.icount,
              dict(workload.params))
    log = Path(logdir) / ("%s-%s-%s-%d.log" % (init.name, arch, workload.name, n))
    run.log = str(log)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=str(qemu.CACHE)))
    started = time.monotonic()
    g = None
    try:
        initrd = work / "initramfs.cpio"
        init.image(arch, workload, initrd, work)
        assets = fetch.ensure(arch)
        cmd = qemu.qemu_command(arch, assets["kernel"], initrd, mem=MEM_MB,
                                smp=SMP_ARCH.get(arch, SMP),
                                icount=0 if workload.icount else None,
                                extra=EXTRA.get(arch, ()))
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        g = qemu.Guest(proc, log)
        g.expect(r"BENCH END", workload.timeout * SLOWER.get(arch, 1))
        run.ok = True
    except AssertionError as e:
        run.error = str(e)
    except Exception:
        run.error = traceback.format_exc()
    finally:
        if g:
            g.kill()
        run.wall_s = time.monotonic() - started
        shutil.rmtree(work, ignore_errors=True)
    text = g.text() if g else ""
    run.lines = workloads.parse(text)
    run.start_time = init.start_time(text)
    return run


def run_all(jobs, parallel, logdir, progress):
    """jobs: [(init, arch, workload, n)], longest first; runs them
    `parallel` at a time. Guest timings use icount, so parallel boots
    do not disturb them (the wall-clock context figures are another
    matter: they are measured while the other boots run)."""
    Path(logdir).mkdir(parents=True, exist_ok=True)
    results = []
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as ex:
        futures = [ex.submit(boot, i, a, w, n, logdir) for i, a, w, n in jobs]
        for f in as_completed(futures):
            r = f.result()
            progress(r)
            results.append(r)
    return results
