"""Booting pinit under QEMU: the machinery of tests/qemu/boot and the
library the test cases use.

For the cases:

    g = qemu.boot("x86_64", files={"/etc/profile": "echo hi\\n"})
    g.expect(r"hi")
    g.send("poweroff\\n")
    assert g.wait(60) == qemu.EXIT_POWEROFF

`boot()` runs tests/qemu/boot as a subprocess (so the cases test the real
tool, exit codes included); a Guest reads its console incrementally,
keeps all of it in `g.log` and, when given `log_path`, in a file.
"""

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = ROOT / "target" / "qemu"

# Exit codes of tests/qemu/boot.
EXIT_POWEROFF = 0
EXIT_OTHER = 1
EXIT_USAGE = 2
EXIT_REBOOT = 3
EXIT_PANIC = 4
EXIT_TIMEOUT = 124

# What the kernel prints at the end (pr_emerg, so `quiet` keeps them).
MARKERS = [
    (re.compile(rb"Kernel panic - not syncing"), EXIT_PANIC),
    (re.compile(rb"reboot: Power down"), EXIT_POWEROFF),
    (re.compile(rb"reboot: Restarting system"), EXIT_REBOOT),
]
HALTED = re.compile(rb"reboot: System halted")


class Arch:
    def __init__(self, name, triple, qemu, console, machine, disk):
        self.name = name
        self.triple = triple
        self.qemu = qemu
        self.console = console
        self.machine = machine
        # How `--disk` attaches an image: the QEMU device (with %d for its
        # number) and the guest's name for disk N.
        self.disk = disk

    def tty(self):
        return "/dev/" + self.console

    def disk_dev(self, n=0):
        """The guest's device of the n-th `--disk`."""
        if self.disk == DISK_NVME:
            return "/dev/nvme%dn1" % n
        return "/dev/vd" + "abcdefgh"[n]


# NVMe is built into the x86_64 and aarch64 kernels; armv7's and
# riscv64's have virtio-blk as a module (fetch.DISK_MODULES), loaded by
# the image's /init before pinit (disk_overlay).
DISK_NVME = "nvme,serial=pinit%d,drive=disk%d"
DISK_VIRTIO_MMIO = "virtio-blk-device,drive=disk%d"
DISK_VIRTIO_PCI = "virtio-blk-pci,drive=disk%d"


ARCHES = {
    # Measured under TCG: `-cpu max` and q35 boot no faster than the defaults.
    "x86_64": Arch("x86_64", "x86_64-unknown-linux-musl", "qemu-system-x86_64",
                   "ttyS0", ["-machine", "pc"], DISK_NVME),
    # Measured under TCG (kernel start to pinit's banner, 4 boots each):
    # cortex-a72 1.0-1.2 s, cortex-a57 1.1-1.2 s, max 1.6-1.8 s,
    # max,pauth-impdef=on 1.6-2.5 s.
    "aarch64": Arch("aarch64", "aarch64-unknown-linux-musl", "qemu-system-aarch64",
                    "ttyAMA0", ["-machine", "virt", "-cpu", "cortex-a72"], DISK_NVME),
    # 32-bit ARM: Debian's armmp-lpae kernel needs LPAE, which the
    # Cortex-A15 has. highmem=off: the 32-bit kernel cannot reach the
    # devices virt puts above 4 GiB.
    "armv7": Arch("armv7", "armv7-unknown-linux-musleabihf", "qemu-system-arm",
                  "ttyAMA0", ["-machine", "virt,highmem=off", "-cpu", "cortex-a15"],
                  DISK_VIRTIO_MMIO),
    # RV64GC on the virt machine; its console is an NS16550A UART
    # (ttyS0). -bios default: the OpenSBI firmware QEMU ships.
    "riscv64": Arch("riscv64", "riscv64gc-unknown-linux-musl", "qemu-system-riscv64",
                    "ttyS0", ["-machine", "virt", "-bios", "default"], DISK_VIRTIO_PCI),
}


class BootError(Exception):
    pass


# ---------------------------------------------------------------- building

def cargo(triple, args, env=None, cwd=ROOT, std=False):
    """`cargo ARGS --target TRIPLE` through tools/cargo-target (which adds
    what armv7 and riscv64 need)."""
    cmd = [str(ROOT / "tools" / "cargo-target"), triple] + (["--std"] if std else []) + args
    p = subprocess.run(cmd, cwd=cwd, env=env)
    if p.returncode != 0:
        raise BootError("%s failed (exit %d)" % (" ".join(cmd), p.returncode))


def default_board(arch):
    """`qemu-<arch>` when board-configs has it (the compiled-in table must
    name the arch's console), else None (build.rs's default)."""
    name = "qemu-" + arch
    return name if (ROOT / "board-configs" / (name + ".conf")).is_file() else None


# The cargo features of test images (the boot tool and run build with
# them; the benchmarks and every release build do not): `test-wedge`, the
# `pinit wedge` command the watchdog cases use to stop PID 1's loop.
TEST_FEATURES = ["test-wedge"]


def build_pinit(arch, board=None, quiet=True, features=()):
    """`cargo build --release --target ...` with PINIT_BOARD=board (default:
    default_board(arch)) and `features`; returns the binary's path."""
    env = dict(os.environ)
    board = board or default_board(arch)
    if board:
        env["PINIT_BOARD"] = board
    a = ARCHES[arch]
    feats = ["--features", ",".join(features)] if features else []
    cargo(a.triple, ["build", "--release"] + feats + (["-q"] if quiet else []), env)
    return ROOT / "target" / a.triple / "release" / "pinit"


def build_variant(arch, name, env=None, features=()):
    """A second build of pinit, beside the one the image gets, in its own
    target directory (target/qemu/variants/NAME): `env` set at build time
    (e.g. PINIT_VERSION, which the banner and `pinit status` say), cargo
    `features` (e.g. test-panic, which release binaries never have).
    Returns the binary's path."""
    e = dict(os.environ)
    board = default_board(arch)
    if board:
        e["PINIT_BOARD"] = board
    e.update(env or {})
    e["CARGO_TARGET_DIR"] = str(CACHE / "variants" / name)
    a = ARCHES[arch]
    args = ["build", "--release", "-q"] + (["--features", ",".join(features)] if features else [])
    cargo(a.triple, args, e)
    return CACHE / "variants" / name / a.triple / "release" / "pinit"


# How an initramfs wants pinit: /init -> /sbin/init -> /sbin/pinit,
# /bin/pinit is the client; busybox keeps its poweroff, reboot and halt
# applets; no man pages, and no /etc/pinit.conf (each test picks its
# table).
INSTALL_VARS = ["LINK_ROOT_INIT=yes", "LINK_POWEROFF=no", "LINK_REBOOT=no", "LINK_HALT=no",
                "INSTALL_MAN=no", "CONF="]


def install_pinit(pinit, dest):
    """`make install DESTDIR=dest BIN=pinit` (the image's staging root), so
    every image is made by the install step users run."""
    cmd = ["make", "-s", "--no-print-directory", "-C", str(ROOT), "install",
           "DESTDIR=" + str(dest), "BIN=" + str(pinit)] + INSTALL_VARS
    # A make above us (make test) must not pass its own variables down.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise BootError("make install failed (exit %d):\n%s" % (p.returncode, p.stdout))
    return Path(dest)


def prog_names():
    """The test programs: one per tests/qemu/progs/src/bin/NAME.rs."""
    return sorted(p.stem for p in (HERE / "progs" / "src" / "bin").glob("*.rs"))


def build_progs(arch, quiet=True):
    """Builds tests/qemu/progs for the arch and lays the binaries out as an
    overlay (usr/bin/...); returns the overlay directory."""
    a = ARCHES[arch]
    manifest = HERE / "progs" / "Cargo.toml"
    cargo(a.triple, ["build", "--release", "--manifest-path", str(manifest)]
          + (["-q"] if quiet else []), std=True)
    out = CACHE / arch / "progs"
    bindir = out / "usr" / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for p in prog_names():
        src = HERE / "progs" / "target" / a.triple / "release" / p
        tmp = bindir / (p + ".tmp")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, bindir / p)
    return out


# ---------------------------------------------------------------- QEMU

def numa_args(nodes, cpus, mem_mb):
    """-object/-numa options splitting `cpus` and `mem_mb` into `nodes`."""
    if nodes < 1:
        raise BootError("--numa needs at least 1 node")
    if mem_mb < 2 * nodes:
        raise BootError("--mem %d is too small for %d NUMA nodes" % (mem_mb, nodes))
    args = []
    per_mem = (mem_mb // nodes) & ~1  # 2 MiB steps
    cpu = 0
    for n in range(nodes):
        size = per_mem if n < nodes - 1 else mem_mb - per_mem * (nodes - 1)
        count = cpus // nodes + (1 if n < cpus % nodes else 0)
        node = "node,nodeid=%d,memdev=m%d" % (n, n)
        if count:
            node += ",cpus=%d-%d" % (cpu, cpu + count - 1)
            cpu += count
        args += ["-object", "memory-backend-ram,id=m%d,size=%dM" % (n, size),
                 "-numa", node]
    return args


def disk_args(arch, disks):
    """-drive and -device options attaching each raw image of `disks`."""
    a = ARCHES[arch]
    args = []
    for n, path in enumerate(disks):
        # A comma in a -drive value is written twice.
        args += ["-drive", "file=%s,format=raw,if=none,id=disk%d" % (str(path).replace(",", ",,"), n),
                 "-device", a.disk % ((n, n) if a.disk == DISK_NVME else (n,))]
    return args


DISK_MODULE_DIR = "/lib/modules/pinit-disk"
# Loads the disk drivers (where the kernel has them as modules) and waits
# for the disks' device nodes, as an initramfs waits for its root disk:
# NVMe finds its namespaces in a workqueue, after init may have started.
DISK_LOAD = "/usr/lib/pinit-test/disks"
DISK_INIT = """#!/bin/sh
# An initramfs's first stage (tests/qemu/boot --disk): devtmpfs, the
# disks' drivers and device nodes, then pinit (which keeps this /dev).
mkdir -p /dev
mount -t devtmpfs -o mode=0755 devtmpfs /dev
%s
exec /sbin/init "$@"
""" % DISK_LOAD


def disk_overlay(arch, disks, modules, dest):
    """The overlay of a boot with `disks` (how many): the modules fetch.py
    extracted for the arch (`modules`: their directory, with `order`; None
    where the kernel has the drivers built in), the script DISK_LOAD that
    loads them and waits for each disk's node, and an /init that mounts
    devtmpfs, runs it and execs /sbin/init. Returns `dest`."""
    dest = Path(dest)
    lines = ["#!/bin/sh", "# The disk drivers, dependencies first (fetch.DISK_MODULES)."]
    if modules:
        mdir = dest / DISK_MODULE_DIR.lstrip("/")
        mdir.mkdir(parents=True, exist_ok=True)
        for name in (Path(modules) / "order").read_text().split():
            shutil.copyfile(Path(modules) / (name + ".ko"), mdir / (name + ".ko"))
            lines.append('insmod %s/%s.ko || echo "disks: insmod %s failed"'
                         % (DISK_MODULE_DIR, name, name))
    lines.append("# Each disk's node, within 10 s.")
    for n in range(disks):
        dev = ARCHES[arch].disk_dev(n)
        lines.append('i=0; while [ ! -b %s ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; '
                     '[ -b %s ] || echo "disks: no %s"' % (dev, dev, dev))
    load = dest / DISK_LOAD.lstrip("/")
    load.parent.mkdir(parents=True, exist_ok=True)
    load.write_text("\n".join(lines) + "\n")
    os.chmod(load, 0o755)
    init = dest / "init"
    init.write_text(DISK_INIT)
    os.chmod(init, 0o755)
    return dest


def make_disk(path, mb, files=None, uuid=None, label=None):
    """An ext4 image of `mb` MiB at `path` holding `files` ({path: text,
    bytes or (content, mode)}, owned by root), by `mkfs.ext4 -d`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    with tempfile.TemporaryDirectory(prefix="disk-", dir=str(path.parent)) as d:
        for name, content in (files or {}).items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            dest = Path(d) / name.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content.encode() if isinstance(content, str) else content)
            os.chmod(dest, mode)
        # 4 KiB blocks: a swap file is swapped on in pages, and with 1 KiB
        # blocks a page of zeros (its first) would become a hole.
        cmd = ["mkfs.ext4", "-q", "-F", "-b", "4096", "-E", "root_owner=0:0", "-d", d]
        cmd += ["-U", uuid] if uuid else []
        cmd += ["-L", label] if label else []
        p = subprocess.run(cmd + [str(path), "%dM" % mb], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise BootError("mkfs.ext4 %s failed (exit %d):\n%s" % (path, p.returncode, p.stdout))
    return path


def swap_file(mb):
    """A swap file's bytes: `mkswap` over random data (random, so that
    mkfs.ext4 -d keeps every block: swapon refuses a file with holes)."""
    with tempfile.NamedTemporaryFile(dir=str(CACHE)) as f:
        f.write(os.urandom(mb << 20))
        f.flush()
        p = subprocess.run(["mkswap", f.name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if p.returncode != 0:
            raise BootError("mkswap failed (exit %d):\n%s" % (p.returncode, p.stdout))
        f.seek(0)
        return f.read()


def qemu_command(arch, kernel, initrd, append="", smp=1, mem=256, numa=0, icount=None,
                 extra=(), disks=(), rng_seed=True):
    """The QEMU command line; the serial console is on stdio, multiplexed
    with the monitor (Ctrl-A X quits, Ctrl-A C switches). `icount=SHIFT`
    adds `-icount shift=SHIFT,sleep=off`: guest time counts instructions
    (2^SHIFT ns each), so timings do not depend on host load; sleep=off
    jumps guest time over idle periods to the next timer (with sleep=on
    and -smp 2 the kernel hangs at CPU bring-up). `extra`: more QEMU
    arguments, last. `rng_seed=False`: the virt machines' device tree
    carries no random seed (dtb-randomness=off), so the kernel's random
    number generator starts uninitialized, as on a board without an RNG
    (x86_64's pc passes none anyway; riscv64's virt cannot leave it out)."""
    a = ARCHES[arch]
    machine = list(a.machine)
    # riscv64's virt machine has no dtb-randomness property (QEMU 10): its
    # seed cannot be left out, and the kernel credits it before it reads
    # its command line (random.trust_bootloader=off comes too late).
    if not rng_seed and machine[1].startswith("virt") and arch != "riscv64":
        machine[1] += ",dtb-randomness=off"
    # no_timer_check: on a loaded host, TCG can fail the kernel's IO-APIC
    # timer check and panic the x86_64 guest at boot.
    quirks = "no_timer_check" if arch == "x86_64" else ""
    cmdline = " ".join(w for w in ["console=" + a.console, "panic=-1", quirks, append] if w)
    cmd = [a.qemu, "-accel", "tcg"] + machine + [
        "-m", "%dM" % mem, "-smp", str(smp),
        "-nodefaults", "-display", "none", "-no-reboot",
        "-chardev", "stdio,id=con0,mux=on,signal=off",
        "-serial", "chardev:con0", "-mon", "chardev=con0,mode=readline",
        "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", cmdline,
    ]
    if numa:
        cmd += numa_args(numa, smp, mem)
    if icount is not None:
        cmd += ["-icount", "shift=%d,sleep=off" % icount]
    return cmd + disk_args(arch, disks) + list(extra)


class Scanner:
    """Watches console output for the kernel's last words."""

    def __init__(self):
        self.tail = b""
        self.result = None
        self.halted = False

    def feed(self, data):
        text = self.tail + data
        for pattern, code in MARKERS:
            if self.result is None and pattern.search(text):
                self.result = code
        if HALTED.search(text):
            self.halted = True
        self.tail = text[-64:]


def classify(scanner, qemu_status):
    """The boot tool's exit code once QEMU has exited on its own."""
    if scanner.result is not None:
        return scanner.result
    return EXIT_OTHER


# ---------------------------------------------------------------- the library

class Guest:
    """A running `tests/qemu/boot`, its console read incrementally."""

    def __init__(self, proc, log_path=None, tmpdir=None):
        self.proc = proc
        self.log = b""
        self.pos = 0            # expect() searches from here
        self.logf = open(log_path, "wb") if log_path else None
        self.tmpdir = tmpdir
        self.code = None
        self.started = time.monotonic()

    # Reading -------------------------------------------------------------

    def _read(self, timeout):
        """Reads what is available within `timeout`; False at EOF."""
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], max(0.0, timeout))
        if not r:
            return True
        data = os.read(fd, 65536)
        if not data:
            return False
        self.log += data
        if self.logf:
            self.logf.write(data)
            self.logf.flush()
        return True

    def text(self):
        return self.log.decode("utf-8", "replace")

    def expect(self, pattern, timeout=60):
        """Waits for `pattern` (a regex, str or bytes) after the previous
        match; returns the match (groups decoded via .group())."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log, self.pos)
            if m:
                self.pos = m.end()
                return Match(m)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out after %ss waiting for %r"
                                     % (timeout, pattern.decode(errors="replace")))
            if not self._read(left):
                m = rx.search(self.log, self.pos)
                if m:
                    self.pos = m.end()
                    return Match(m)
                raise AssertionError("console closed (boot exited %s) waiting for %r"
                                     % (self.proc.poll(), pattern.decode(errors="replace")))

    def search(self, pattern):
        """Searches all of the console read so far; a Match or None."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        m = re.compile(pattern, re.M).search(self.log)
        return Match(m) if m else None

    def send(self, text):
        """Types `text` on the guest's console."""
        if isinstance(text, str):
            text = text.encode()
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def run(self, command, timeout=60):
        """Types a shell command and returns its output, delimited by
        markers the command cannot print by accident."""
        tag = "%08x" % (int(time.monotonic() * 1e6) & 0xffffffff)
        self.send("echo B-%s; %s; echo E-%s\n" % (tag, command, tag))
        # The shell echoes the line: the markers count only at a line start.
        m = self.expect(r"(?s)^B-%s\r?\n(.*?)^E-%s\r?$" % (tag, tag), timeout)
        return m.group(1).replace("\r\n", "\n")

    # Ending --------------------------------------------------------------

    def wait(self, timeout=120):
        """Reads the console until the boot tool exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self._read(deadline - time.monotonic()):
            if time.monotonic() >= deadline:
                raise AssertionError("boot did not exit within %ss" % timeout)
        self.code = self.proc.wait()
        self._close()
        return self.code

    def kill(self):
        """Ends the boot tool (which ends QEMU); safe to call twice."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        while self._read(0):
            pass
        self._close()

    def _close(self):
        if self.logf:
            self.logf.close()
            self.logf = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


class Match:
    """A regex match whose groups come back as str."""

    def __init__(self, m):
        self.m = m

    def group(self, *g):
        v = self.m.group(*g)
        if isinstance(v, tuple):
            return tuple(x.decode("utf-8", "replace") if x is not None else None for x in v)
        return v.decode("utf-8", "replace") if v is not None else None

    def groups(self):
        return tuple(x.decode("utf-8", "replace") if x is not None else None
                     for x in self.m.groups())


def boot(arch, files=None, overlays=(), append="", smp=1, mem=256, numa=0,
         board=None, config=None, timeout=300, log_path=None, icount=None, disks=(),
         rng_seed=True):
    """Boots a guest with `files` ({guest path: text or (text, mode)}) and
    `overlays` (host dirs) added to the default image, and `disks` (raw
    images, see make_disk) attached; returns a Guest."""
    tmpdir = tempfile.mkdtemp(prefix="guest-", dir=str(CACHE))
    cmd = [str(HERE / "boot"), "--arch", arch, "--smp", str(smp), "--mem", str(mem),
           "--timeout", str(timeout)]
    if files:
        fdir = Path(tmpdir) / "files"
        for path, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            dest = fdir / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content.encode() if isinstance(content, str) else content)
            os.chmod(dest, mode)
        overlays = list(overlays) + [fdir]
    for o in overlays:
        cmd += ["--overlay", str(o)]
    if append:
        cmd += ["--append", append]
    if numa:
        cmd += ["--numa", str(numa)]
    if board:
        cmd += ["--board", board]
    if config:
        cmd += ["--config", str(config)]
    if icount is not None:
        cmd += ["--icount", str(icount)]
    for d in disks:
        cmd += ["--disk", str(d)]
    if not rng_seed:
        cmd += ["--no-rng-seed"]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=str(ROOT))
    return Guest(proc, log_path, tmpdir)


# ---------------------------------------------------------------- the tool

def forward_stdin(dst):
    """Copies our stdin to QEMU's until either side closes."""
    try:
        while True:
            data = os.read(0, 4096)
            if not data:
                break
            dst.write(data)
            dst.flush()
    except (OSError, ValueError):
        pass
    try:
        dst.close()
    except (OSError, ValueError):
        pass


def run_qemu(cmd, timeout=None, interactive=False, out=None):
    """Runs QEMU, copying its console to `out`; returns the exit code of
    tests/qemu/boot (see EXIT_*)."""
    out = out or sys.stdout.buffer
    stdin = None if interactive else subprocess.PIPE
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ended_by = []

    def stop(signum, frame):
        ended_by.append(signum)
        terminate(proc)

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)
           + (() if interactive else (signal.SIGINT,))}
    if not interactive:
        threading.Thread(target=forward_stdin, args=(proc.stdin,), daemon=True).start()
    scanner = Scanner()
    deadline = time.monotonic() + timeout if timeout else None
    fd = proc.stdout.fileno()
    timed_out = False
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                r, _, _ = select.select([fd], [], [], wait)
            except InterruptedError:
                continue
            if not r:
                timed_out = True
                out.write(b"\r\nboot: timeout after %ds, killing QEMU\r\n" % timeout)
                out.flush()
                terminate(proc)
                break
            data = os.read(fd, 65536)
            if not data:
                break
            out.write(data)
            out.flush()
            scanner.feed(data)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    status = proc.wait()
    if timed_out:
        return EXIT_TIMEOUT
    if ended_by:
        return 128 + ended_by[0]
    code = classify(scanner, status)
    if code == EXIT_OTHER and status != 0:
        out.write(b"\r\nboot: QEMU exited with status %d\r\n" % status)
    return code


def terminate(proc):
    """SIGTERM to QEMU (it restores the terminal), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
