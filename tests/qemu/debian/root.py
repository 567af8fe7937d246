"""The Debian root of the system test: bookworm minbase with the daemons
of a real server, its cloud kernel and its own initramfs-tools initrd.

    target/debian/SUITE-KEY/root/      the root (pinit is not in it)
    target/debian/SUITE-KEY/versions   written last: the root is complete

KEY is a hash of the package list and the recipe's version, so a change
of either builds a new root beside the old one. Steps, as root:

1. `debootstrap --variant=minbase SUITE ROOT MIRROR` (debroot.py: the
   machine's own mirror);
2. the machine's own debian.sources as the root's apt source (so the
   kernel and the daemons come from the same suites, security updates
   included, as the kernel tests/qemu/fetch.py downloads), and
   policy-rc.d refusing every start: no daemon runs in the chroot;
3. with /proc, /sys and /dev mounted in the chroot: `apt-get install
   --no-install-recommends PACKAGES`; the kernel's postinst runs
   update-initramfs (MODULES=most, Debian's default);
4. `dpkg-divert --rename /sbin/init`: Debian's own init, if a package
   ever brings one, goes to /sbin/init.debian, and /sbin/init is free for
   pinit (added per image, disk.py);
5. apt's lists and caches, docs, man pages, translations removed.
"""

import fcntl
import hashlib
import json
import os
import subprocess
from pathlib import Path

import debroot
import qemu

CACHE = qemu.ROOT / "target" / "debian"
SUITE = "bookworm"
# What the test needs, and nothing it does not (--no-install-recommends).
# agetty is util-linux (essential); iproute2 configures the network.
PACKAGES = ("openssh-server", "rsyslog", "dbus", "redis-server", "cron", "udev",
            "util-linux", "e2fsprogs", "initramfs-tools", "iproute2",
            "linux-image-cloud-amd64")
# Bump when the steps above change: the key changes, a new root is built.
RECIPE = 1
POLICY_RC_D = "#!/bin/sh\n# debian/root.py: no daemon starts in the chroot.\nexit 101\n"


class RootError(Exception):
    pass


def key(packages=PACKAGES, suite=SUITE, recipe=RECIPE):
    """The cache key: the suite, the sorted package list, the recipe."""
    text = json.dumps({"suite": suite, "packages": sorted(packages), "recipe": recipe})
    return "%s-%s" % (suite, hashlib.sha256(text.encode()).hexdigest()[:12])


def base(packages=PACKAGES):
    return CACHE / key(packages)


def chroot(root, *cmd):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
           "LC_ALL": "C", "HOME": "/root"}
    subprocess.run(["chroot", str(root)] + list(cmd), check=True, env=env)


class Mounted:
    """/proc, /sys and /dev inside the chroot for the packages' scripts."""

    def __init__(self, root):
        self.root = Path(root)
        self.done = []

    def __enter__(self):
        for args, target in ((["-t", "proc", "proc"], "proc"),
                             (["-t", "sysfs", "sysfs"], "sys"),
                             (["--bind", "/dev"], "dev")):
            path = self.root / target
            subprocess.run(["mount"] + args + [str(path)], check=True)
            self.done.append(path)
        return self

    def __exit__(self, *exc):
        for path in reversed(self.done):
            if subprocess.run(["umount", str(path)]).returncode != 0:
                subprocess.run(["umount", "-l", str(path)])


def kernel_release(root):
    """The one kernel release under ROOT/boot (vmlinuz-REL with its initrd)."""
    rels = sorted(p.name[len("vmlinuz-"):] for p in (Path(root) / "boot").glob("vmlinuz-*"))
    if len(rels) != 1:
        raise RootError("%s/boot: expected one vmlinuz-*, found %s" % (root, rels or "none"))
    if not (Path(root) / "boot" / ("initrd.img-" + rels[0])).is_file():
        raise RootError("%s/boot: no initrd.img-%s (update-initramfs failed?)" % (root, rels[0]))
    return rels[0]


def build(root, packages=PACKAGES):
    debroot.debootstrap(root, SUITE, ["--variant=minbase"])
    os.remove(root / "etc/apt/sources.list")
    (root / "etc/apt/sources.list.d/debian.sources").write_text(debroot.SOURCES.read_text())
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)
    with Mounted(root):
        chroot(root, "apt-get", "update", "-q")
        chroot(root, "apt-get", "install", "-y", "-q", "--no-install-recommends",
               *packages)
        chroot(root, "dpkg-divert", "--local", "--rename", "--divert", "/sbin/init.debian",
               "--add", "/sbin/init")
    policy.unlink()
    (root / "etc/hostname").write_text("debian-pinit\n")
    debroot.trim(root)


def ensure(packages=PACKAGES, log=print):
    """The root, built once; returns (root, {versions})."""
    b = base(packages)
    root, stamp = b / "root", b / "versions"
    b.mkdir(parents=True, exist_ok=True)
    with open(b / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file():
            log("debian: building the root in %s (debootstrap, apt-get install)" % root)
            build(root, packages)
            rel = kernel_release(root)
            v = debroot.dpkg_versions(root, None)
            lines = ["suite %s" % SUITE, "kernel %s" % rel]
            lines += ["%s %s" % (p, v.get(p, "?")) for p in sorted(set(packages) | {
                "openssh-server", "rsyslog", "dbus-daemon", "redis-server", "cron",
                "udev", "util-linux", "initramfs-tools", "linux-image-" + rel})]
            lines.append("packages %d" % len(v))
            stamp.write_text("\n".join(lines) + "\n")
    return root, versions(packages)


def versions(packages=PACKAGES):
    out = {}
    for line in (base(packages) / "versions").read_text().splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out
