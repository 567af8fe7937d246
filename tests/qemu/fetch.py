#!/usr/bin/env python3
"""Kernels and busybox for the QEMU tests, from Debian's archive.

Everything lands under target/qemu/ and is fetched once:

    target/qemu/<arch>/vmlinuz        linux-image-cloud-{amd64,arm64}
    target/qemu/<arch>/busybox        busybox-static for the arch
    target/qemu/<arch>/versions       what was fetched, for reports
    target/qemu/busybox.applets       `busybox --list-full` (x86_64 binary)

The kernel metapackage is resolved to the versioned package it depends on
(`apt-get download` + `dpkg-deb -f ... Depends`) and unpacked with
`dpkg-deb -x`. The arm64 busybox is the same Debian version as the amd64
one, so the applet list taken from the amd64 binary fits both.

Usage: fetch.py [--arch x86_64|aarch64|all] [--refresh]
"""

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "target" / "qemu"
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
NATIVE = "amd64"


class FetchError(Exception):
    pass


def run(cmd, cwd=None):
    """Runs a command, returns its stdout; raises FetchError with its output."""
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise FetchError("%s failed (exit %d):\n%s"
                         % (" ".join(cmd), p.returncode, p.stdout))
    return p.stdout


def qualify(package, deb_arch):
    """apt's name for a package of a foreign architecture (`pkg:arm64`)."""
    return package if deb_arch == NATIVE else "%s:%s" % (package, deb_arch)


def download(spec, workdir):
    """`apt-get download SPEC` into workdir; returns the .deb's path."""
    before = set(workdir.glob("*.deb"))
    run(["apt-get", "download", "-q", spec], cwd=workdir)
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


def fetch_kernel(arch, workdir):
    """Downloads and unpacks the cloud kernel; returns version lines."""
    deb_arch = DEB_ARCH[arch]
    meta = download(qualify("linux-image-cloud-" + deb_arch, deb_arch), workdir)
    pkg, ver = parse_depends(field(meta, "Depends"))
    spec = qualify(pkg, deb_arch) + ("=" + ver if ver else "")
    deb = download(spec, workdir)
    unpacked = workdir / "kernel"
    run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    images = sorted((unpacked / "boot").glob("vmlinuz-*"))
    if len(images) != 1:
        raise FetchError("%s: expected one boot/vmlinuz-*, found %d"
                         % (deb.name, len(images)))
    release = images[0].name[len("vmlinuz-"):]
    dest = CACHE / arch / "vmlinuz"
    shutil.copyfile(images[0], dest.with_suffix(".tmp"))
    os.replace(dest.with_suffix(".tmp"), dest)
    return ["kernel %s %s (via %s %s) release %s"
            % (field(deb, "Package"), field(deb, "Version"),
               field(meta, "Package"), field(meta, "Version"), release)]


def fetch_busybox(arch, workdir, version=None):
    """Downloads busybox-static (at `version` if given); returns
    (path of the binary, version, version lines)."""
    deb_arch = DEB_ARCH[arch]
    spec = qualify("busybox-static", deb_arch) + ("=" + version if version else "")
    deb = download(spec, workdir)
    unpacked = workdir / "busybox"
    run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    binary = unpacked / "bin" / "busybox"
    if not binary.is_file():
        raise FetchError("%s has no bin/busybox" % deb.name)
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
    return all((d / f).is_file() for f in ("vmlinuz", "busybox", "versions")) \
        and applets_file().is_file()


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
        want = busybox_version("x86_64") if arch != "x86_64" else None
        lines += fetch_kernel(arch, work)
        binary, _, bb_lines = fetch_busybox(arch, work, want)
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
        "busybox": CACHE / arch / "busybox",
        "applets": applets_file(),
        "versions": CACHE / arch / "versions",
    }


def applets():
    """The busybox applet paths (`bin/ls`, `sbin/init`, `linuxrc`, ...)."""
    return [a.strip() for a in applets_file().read_text().splitlines() if a.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=["x86_64", "aarch64", "all"], default="all")
    ap.add_argument("--refresh", action="store_true",
                    help="resolve and download again even when cached")
    args = ap.parse_args(argv)
    arches = ["x86_64", "aarch64"] if args.arch == "all" else [args.arch]
    try:
        for arch in arches:
            paths = ensure(arch, args.refresh)
            print(paths["versions"].read_text(), end="")
    except FetchError as e:
        print("fetch: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
