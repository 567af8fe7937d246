#!/usr/bin/env python3
"""Kernels and busybox for the QEMU tests, from Debian's archive.

Everything lands under target/qemu/ and is fetched once:

    target/qemu/<arch>/vmlinuz        the arch's Debian kernel (KERNEL)
    target/qemu/<arch>/busybox        busybox-static for the arch
    target/qemu/<arch>/watchdog/      the kernel's watchdog modules, as an
                                      overlay (lib/modules/*.ko, order)
    target/qemu/<arch>/versions       what was fetched, for reports
    target/qemu/<arch>/modules/       armv7, riscv64: the disk drivers their
                                      kernels have as modules (DISK_MODULES)
    target/qemu/busybox.applets       `busybox --list-full` (x86_64 binary)
    target/qemu/apt/<suite>-<arch>/   a private apt for armhf and riscv64
    target/musl/<triple>/             musl's crt1.o and libc.a for the
                                      targets rustup has no std for

The kernel metapackage is resolved to the versioned package it depends on
(`apt-get download` + `dpkg-deb -f ... Depends`) and unpacked with
`dpkg-deb -x`. x86_64 and aarch64 use the host's apt (setup adds the
arm64 architecture); armv7 (bookworm armhf) and riscv64 (trixie, the
first release with riscv64) use a private apt configuration under
target/qemu/apt/: its own sources (the host's debian.sources with the
suite replaced), lists, cache and an empty dpkg status, so nothing of
it can reach the host's package state. The applet list is taken from
the amd64 binary and used for every arch (trixie's busybox, 1.37, has
the applets of bookworm's 1.35).

Usage: fetch.py [--arch x86_64|aarch64|armv7|riscv64|all] [--refresh]
       fetch.py --musl TRIPLE
"""

import argparse
import fcntl
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "target" / "qemu"
ARCHES = ["x86_64", "aarch64", "armv7", "riscv64"]
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7": "armhf", "riscv64": "riscv64"}
NATIVE = "amd64"
# The kernel metapackage per arch. armmp-lpae: Cortex-A15 and later (the
# virt machine's cortex-a15 has LPAE); riscv64 has one flavour.
KERNEL = {"x86_64": "linux-image-cloud-amd64", "aarch64": "linux-image-cloud-arm64",
          "armv7": "linux-image-armmp-lpae", "riscv64": "linux-image-riscv64"}
# Arches fetched through a private apt of this suite (None: the host's
# own codename); the others use the host's apt.
PRIVATE_SUITE = {"armv7": None, "riscv64": "trixie"}
# The musl targets whose std rustup may not have: their crt1.o and
# libc.a come from Debian's musl-dev (see tools/cargo-target).
MUSL = {"armv7-unknown-linux-musleabihf": ("armv7", "arm-linux-musleabihf"),
        "riscv64gc-unknown-linux-musl": ("riscv64", "riscv64-linux-musl")}
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
# What `boot --disk` needs where the kernel has it as modules: the
# virtio block driver and ext4 (with the crc32c its checksums use),
# loaded in this order after the modules they depend on (modinfo's
# depends=). x86_64's and aarch64's kernels have NVMe and ext4 built in.
DISK_MODULES = {"armv7": ["virtio_mmio", "virtio_blk", "crc32c_generic", "ext4"],
                "riscv64": ["virtio_blk", "crc32c_generic", "ext4"]}


class FetchError(Exception):
    pass


def run(cmd, cwd=None, env=None):
    """Runs a command, returns its stdout; raises FetchError with its output."""
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise FetchError("%s failed (exit %d):\n%s"
                         % (" ".join(cmd), p.returncode, p.stdout))
    return p.stdout


# Waits between tries of `apt-get download`: a mirror being synced
# answers for minutes with index files of the wrong size ("Mirror sync in
# progress?"); before each new try the index files are updated again.
APT_WAITS = (20, 60, 120)


def update(conf=None):
    """`apt-get update`; True if every index file came. A failure is
    reported and otherwise left to the downloads that follow: a mirror
    caught mid-sync can serve one index file of the wrong size for hours
    (bookworm-security's armhf Packages did, on two CI runs), and apt
    keeps the others, which are enough for what the tests download."""
    try:
        run(["apt-get", "update", "-q"], env=apt_env(conf))
        return True
    except FetchError as e:
        errors = [l for l in str(e).splitlines() if l.startswith(("E:", "Err:"))]
        print("fetch: apt-get update failed; going on with the index files apt has:\n  %s"
              % "\n  ".join(errors or str(e).splitlines()[-1:]), file=sys.stderr)
        return False


def run_apt(cmd, cwd=None, env=None, waits=APT_WAITS, sleep=None, again=None):
    """`run` for apt-get, tried again after each of `waits` seconds while
    it fails, with `again()` (an index update) before each new try; the
    last failure is raised."""
    sleep = sleep or time.sleep
    for wait in tuple(waits) + (None,):
        try:
            return run(cmd, cwd=cwd, env=env)
        except FetchError as e:
            if wait is None:
                raise
            print("fetch: %s failed; again in %d s:\n%s"
                  % (" ".join(cmd), wait, str(e).splitlines()[-1]), file=sys.stderr)
            sleep(wait)
            if again:
                again()


def qualify(package, deb_arch):
    """apt's name for a package of a foreign architecture (`pkg:arm64`);
    the private apt of armhf and riscv64 has that one architecture only."""
    if deb_arch == NATIVE or arch_of(deb_arch) in PRIVATE_SUITE:
        return package
    return "%s:%s" % (package, deb_arch)


def arch_of(deb_arch):
    return {v: k for k, v in DEB_ARCH.items()}[deb_arch]


def host_codename():
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"') or "bookworm"
    except OSError:
        pass
    return "bookworm"


def private_sources(text, host, suite):
    """The host's deb822 sources with every suite `host[-x]` turned into
    `suite[-x]`; stanzas of other suites (backports) are left out
    (test_tools.py has examples).
    """
    out = []
    for stanza in re.split(r"\n\s*\n", text.strip()):
        lines = stanza.splitlines()
        keep = []
        ok = False
        for line in lines:
            if line.startswith("Suites:"):
                suites = [w for w in line.split()[1:]
                          if w == host or w in (host + "-updates", host + "-security")]
                if not suites:
                    break
                ok = True
                line = "Suites: " + " ".join(suite + w[len(host):] for w in suites)
            keep.append(line)
        if ok:
            out.append("\n".join(keep) + "\n")
    return "\n".join(out)


def private_apt(arch, refresh=False):
    """The APT_CONFIG file of the arch's private apt, made and updated
    (`apt-get update`) once; `refresh` updates it again."""
    host = host_codename()
    suite = PRIVATE_SUITE[arch] or host
    deb_arch = DEB_ARCH[arch]
    d = CACHE / "apt" / ("%s-%s" % (suite, deb_arch))
    conf = d / "apt.conf"
    # The marker names the directory apt.conf was written for: apt.conf
    # holds absolute paths, so a cache copied or moved from another
    # checkout is made again rather than pointing at the old one.
    try:
        made_for = (d / "updated").read_text()
    except OSError:
        made_for = None
    if made_for == str(d) and not refresh:
        return conf
    try:
        text = SOURCES.read_text()
    except OSError as e:
        raise FetchError("%s: %s (the private apt for %s copies its URIs)"
                         % (SOURCES, e.strerror, arch))
    sources = private_sources(text, host, suite)
    if not sources:
        raise FetchError("%s has no stanza for %s to derive a %s source from"
                         % (SOURCES, host, suite))
    for sub in ("lists/partial", "cache/archives/partial", "sources.list.d",
                "preferences.d"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    (d / "sources.list.d" / "debian.sources").write_text(sources)
    (d / "status").write_text("")
    conf.write_text("".join('%s "%s";\n' % kv for kv in [
        ("Dir::Etc::SourceList", d / "sources.list"),
        ("Dir::Etc::SourceParts", d / "sources.list.d"),
        ("Dir::Etc::Preferences", d / "preferences"),
        ("Dir::Etc::PreferencesParts", d / "preferences.d"),
        ("Dir::State::Lists", d / "lists"),
        ("Dir::State::status", d / "status"),
        ("Dir::Cache", d / "cache"),
        ("APT::Architecture", deb_arch),
        ("Acquire::Languages", "none"),
        ("Acquire::IndexTargets::deb::DEP-11::DefaultEnabled", "false"),
        ("Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled", "false"),
    ]) + 'APT::Architectures { "%s"; };\n' % deb_arch)
    print("fetch: apt-get update (%s %s, private: %s)" % (suite, deb_arch, d), file=sys.stderr)
    # Marked done only if every index file came, so the next fetch
    # tries the missing ones again.
    if update(conf):
        (d / "updated").write_text(str(d))
    return conf


def apt_env(conf):
    return dict(os.environ, APT_CONFIG=str(conf)) if conf else None


def download(spec, workdir, conf=None):
    """`apt-get download SPEC` into workdir (with the private apt `conf`
    if given); returns the .deb's path."""
    before = set(workdir.glob("*.deb"))
    run_apt(["apt-get", "download", "-q", spec], cwd=workdir, env=apt_env(conf),
            again=lambda: update(conf))
    new = sorted(set(workdir.glob("*.deb")) - before)
    if len(new) != 1:
        raise FetchError("apt-get download %s gave %d files" % (spec, len(new)))
    return new[0]


def field(deb, name):
    return run(["dpkg-deb", "-f", str(deb), name]).strip()


def parse_depends(depends):
    """The first dependency of a metapackage: (package, version or None).

    >>> parse_depends("linux-image-6.1.0-56-cloud-arm64 (= 6.1.192-2)")
    ('linux-image-6.1.0-56-cloud-arm64', '6.1.192-2')
    """
    first = depends.split(",")[0].split("|")[0].strip()
    m = re.match(r"^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9]+)?\s*(?:\(\s*=\s*([^)\s]+)\s*\))?",
                 first)
    if not m:
        raise FetchError("cannot parse Depends: %r" % depends)
    return m.group(1), m.group(2)


def fetch_kernel(arch, workdir, conf=None):
    """Downloads and unpacks the arch's kernel; returns version lines."""
    deb_arch = DEB_ARCH[arch]
    meta = download(qualify(KERNEL[arch], deb_arch), workdir, conf)
    pkg, ver = parse_depends(field(meta, "Depends"))
    spec = qualify(pkg, deb_arch) + ("=" + ver if ver else "")
    deb = download(spec, workdir, conf)
    unpacked = workdir / "kernel"
    run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    # riscv64's is boot/vmlinux-* (an uncompressed Image), the others vmlinuz-*.
    images = sorted((unpacked / "boot").glob("vmlinu[xz]-*"))
    if len(images) != 1:
        raise FetchError("%s: expected one boot/vmlinu[xz]-*, found %d"
                         % (deb.name, len(images)))
    release = images[0].name[len("vmlinuz-"):]
    dest = CACHE / arch / "vmlinuz"
    shutil.copyfile(images[0], dest.with_suffix(".tmp"))
    os.replace(dest.with_suffix(".tmp"), dest)
    config = unpacked / "boot" / ("config-" + release)
    if config.is_file():
        shutil.copyfile(config, CACHE / arch / "config")
    if arch in DISK_MODULES:
        copy_modules(unpacked, DISK_MODULES[arch], CACHE / arch / "modules")
    copy_modules(unpacked, WATCHDOG_MODULES, CACHE / arch / "watchdog" / "lib" / "modules")
    return ["kernel %s %s (via %s %s) release %s"
            % (field(deb, "Package"), field(deb, "Version"),
               field(meta, "Package"), field(meta, "Version"), release)]


# The modules the watchdog cases load (busybox insmod, in the order of
# watchdog/lib/modules/order): softdog, the software watchdog, after what
# it depends on (the watchdog core, except on armmp-lpae, which has it
# built in).
WATCHDOG_MODULES = ["softdog"]


def module_files(root):
    """{name: path} of every module under root's lib/modules or
    usr/lib/modules (`-` in a name counts as `_`, as for modprobe)."""
    out = {}
    for base in (root / "lib" / "modules", root / "usr" / "lib" / "modules"):
        for p in sorted(base.glob("*/kernel/**/*.ko*")):
            name = p.name.split(".ko")[0].replace("-", "_")
            out.setdefault(name, p)
    return out


def module_bytes(path):
    """A module's ELF, decompressed (trixie's are .ko.xz)."""
    data = Path(path).read_bytes()
    return lzma.decompress(data) if str(path).endswith(".xz") else data


def modinfo_depends(elf):
    """The modules a module needs first: its .modinfo `depends=` entry.

    >>> modinfo_depends(b"\\0license=GPL\\0depends=jbd2,mbcache\\0")
    ['jbd2', 'mbcache']
    """
    i = elf.find(b"\0depends=")
    if i < 0:
        return []
    value = elf[i + len(b"\0depends="):].split(b"\0", 1)[0].decode()
    return [d.replace("-", "_") for d in value.split(",") if d]


def load_order(wanted, depends):
    """`wanted` and what they depend on (`depends(name)` -> names), each
    after its dependencies, each once."""
    order = []

    def visit(name, path):
        if name in order:
            return
        if name in path:
            raise FetchError("module dependency cycle: %s" % " -> ".join(path + [name]))
        for d in depends(name):
            visit(d, path + [name])
        order.append(name)

    for w in wanted:
        visit(w, [])
    return order


def copy_modules(unpacked, wanted, dest):
    """Copies `wanted` and their dependencies, decompressed, to dest/NAME.ko
    and writes dest/order: one name a line, in load order."""
    files = module_files(unpacked)
    elves = {}

    def depends(name):
        if name not in files:
            raise FetchError("the kernel package has no module %s" % name)
        elves[name] = module_bytes(files[name])
        return modinfo_depends(elves[name])

    order = load_order(wanted, depends)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in order:
        (dest / (name + ".ko")).write_bytes(elves[name])
    (dest / "order").write_text("".join(n + "\n" for n in order))


def fetch_busybox(arch, workdir, version=None, conf=None):
    """Downloads busybox-static (at `version` if given); returns
    (path of the binary, version, version lines)."""
    deb_arch = DEB_ARCH[arch]
    spec = qualify("busybox-static", deb_arch) + ("=" + version if version else "")
    deb = download(spec, workdir, conf)
    unpacked = workdir / "busybox"
    run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    # bin/busybox up to bookworm, usr/bin/busybox from trixie on (merged /usr).
    binary = next((b for b in (unpacked / "bin" / "busybox", unpacked / "usr" / "bin" / "busybox")
                   if b.is_file()), None)
    if binary is None:
        raise FetchError("%s has no bin/busybox or usr/bin/busybox" % deb.name)
    dest = CACHE / arch / "busybox"
    shutil.copyfile(binary, dest.with_suffix(".tmp"))
    os.chmod(dest.with_suffix(".tmp"), 0o755)
    os.replace(dest.with_suffix(".tmp"), dest)
    ver = field(deb, "Version")
    return dest, ver, ["busybox %s %s %s" % (field(deb, "Package"), ver, deb_arch)]


def applets_file():
    return CACHE / "busybox.applets"


def busybox_version(arch):
    """The Debian version recorded for an arch's busybox, or None."""
    try:
        for line in (CACHE / arch / "versions").read_text().splitlines():
            w = line.split()
            if len(w) >= 3 and w[0] == "busybox":
                return w[2]
    except OSError:
        pass
    return None


def complete(arch):
    d = CACHE / arch
    files = ["vmlinuz", "busybox", "versions", "watchdog/lib/modules/order"]
    files += ["modules/order"] if arch in DISK_MODULES else []
    return all((d / f).is_file() for f in files) and applets_file().is_file()


def fetch_arch(arch, refresh=False):
    """Makes sure the arch's kernel and busybox are in the cache."""
    if complete(arch) and not refresh:
        return
    (CACHE / arch).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="fetch-") as tmp:
        work = Path(tmp)
        # apt drops privileges to _apt for downloads when it can write here.
        os.chmod(work, 0o777)
        lines = []
        # The applet list comes from the x86_64 binary (it runs on the host);
        # every arch uses the same Debian version of busybox.
        if arch != "x86_64" and not (complete("x86_64") and not refresh):
            fetch_arch("x86_64", refresh)
        conf = private_apt(arch, refresh) if arch in PRIVATE_SUITE else None
        # The same busybox as x86_64's where the suite is the same.
        want = None
        if arch != "x86_64" and PRIVATE_SUITE.get(arch) is None:
            want = busybox_version("x86_64")
        lines += fetch_kernel(arch, work, conf)
        binary, _, bb_lines = fetch_busybox(arch, work, want, conf)
        lines += bb_lines
        if arch == "x86_64":
            listing = run([str(binary), "--list-full"])
            applets_file().write_text(listing)
        (CACHE / arch / "versions").write_text("\n".join(lines) + "\n")
        print("fetch: %s: %s" % (arch, "; ".join(lines)), file=sys.stderr)


def ensure(arch, refresh=False):
    """Fetches what is missing, under a lock (parallel runs share the cache)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fetch_arch(arch, refresh)
    return {
        "kernel": CACHE / arch / "vmlinuz",
        "modules": CACHE / arch / "modules" if arch in DISK_MODULES else None,
        "busybox": CACHE / arch / "busybox",
        "applets": applets_file(),
        "versions": CACHE / arch / "versions",
        "watchdog": CACHE / arch / "watchdog",
    }


def ensure_musl(triple, refresh=False):
    """target/musl/TRIPLE/: crt1.o, libc.a (Debian's musl-dev for the arch)
    and an empty libunwind.a (std's musl build links -lunwind; nothing in
    a panic=immediate-abort build calls it). Returns the directory."""
    arch, multiarch = MUSL[triple]
    dest = ROOT / "target" / "musl" / triple
    if (dest / "version").is_file() and not refresh:
        return dest
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conf = private_apt(arch)
        with tempfile.TemporaryDirectory(dir=CACHE, prefix="fetch-") as tmp:
            work = Path(tmp)
            os.chmod(work, 0o777)
            deb = download("musl-dev", work, conf)
            run(["dpkg-deb", "-x", str(deb), str(work / "x")])
            lib = work / "x" / "usr" / "lib" / multiarch
            dest.mkdir(parents=True, exist_ok=True)
            for f in ("crt1.o", "libc.a"):
                if not (lib / f).is_file():
                    raise FetchError("%s has no usr/lib/%s/%s" % (deb.name, multiarch, f))
                shutil.copyfile(lib / f, dest / f)
            (dest / "libunwind.a").write_bytes(b"!<arch>\n")
            (dest / "version").write_text("musl-dev %s %s\n" % (field(deb, "Version"),
                                                                DEB_ARCH[arch]))
    return dest


def applets():
    """The busybox applet paths (`bin/ls`, `sbin/init`, `linuxrc`, ...)."""
    return [a.strip() for a in applets_file().read_text().splitlines() if a.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=ARCHES + ["all"], default="all")
    ap.add_argument("--refresh", action="store_true",
                    help="resolve and download again even when cached")
    ap.add_argument("--musl", metavar="TRIPLE", choices=sorted(MUSL),
                    help="fetch musl's crt1.o and libc.a for TRIPLE, print the directory")
    args = ap.parse_args(argv)
    arches = ARCHES if args.arch == "all" else [args.arch]
    try:
        if args.musl:
            print(ensure_musl(args.musl, args.refresh))
            return 0
        for arch in arches:
            paths = ensure(arch, args.refresh)
            print(paths["versions"].read_text(), end="")
    except FetchError as e:
        print("fetch: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
