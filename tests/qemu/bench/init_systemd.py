"""systemd as a peer of pinit (issue 7): Debian bookworm's systemd, booted
as PID 1 from an initramfs that holds a whole minimal Debian root.

The root is `debootstrap --variant=minbase --include=systemd-sysv`,
built once per arch under target/bench/systemd/ARCH/root and trimmed of
what no boot reads (apt's lists and caches, docs, man pages,
translations). Its own userland runs the guest scripts: dash, mawk,
coreutils, util-linux's dmesg, sysvinit-utils' pidof. Each image adds
the test programs, the workload's files and the unit files below.
"""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import elfdeps
import image
import qemu
from inits import Peer, write_files

CACHE = qemu.ROOT / "target" / "bench" / "systemd"
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"
DEBOOTSTRAP = ["debootstrap", "--variant=minbase", "--include=systemd-sysv"]
# Nothing the boot reads; removed from the root to keep the image small.
TRIM = ["var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man",
        "usr/share/info", "usr/share/locale"]
# Recorded in the stamp file, for describe().
PACKAGES = ("systemd", "libc6")


def mirror(sources=SOURCES):
    """The first URI of the machine's first `deb` stanza, as
    tests/qemu/setup takes it for backports: the machine's own mirror."""
    for stanza in sources.read_text().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.strip() and not line.startswith(("#", " ", "\t")) and ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.split()
        if "deb" in fields.get("types", []) and fields.get("uris"):
            return fields["uris"][0]
    raise RuntimeError("no deb URIs in %s" % sources)


def dpkg_versions(root, names=PACKAGES):
    """{package: version} from the root's dpkg status file."""
    out = {}
    for stanza in (Path(root) / "var/lib/dpkg/status").read_text().split("\n\n"):
        fields = dict(l.split(": ", 1) for l in stanza.splitlines() if ": " in l and l[0] != " ")
        if fields.get("Package") in names and "installed" in fields.get("Status", ""):
            out[fields["Package"]] = fields.get("Version", "?")
    return out


def build_root(arch):
    """debootstrap into CACHE/ARCH/root once; `versions` is written last,
    so its presence means the root is complete."""
    base = CACHE / arch
    root, stamp = base / "root", base / "versions"
    if stamp.exists():
        return root
    if arch != "x86_64":
        raise RuntimeError("systemd is measured on x86_64 only")
    shutil.rmtree(root, ignore_errors=True)
    base.mkdir(parents=True, exist_ok=True)
    subprocess.run(DEBOOTSTRAP + [SUITE, str(root), mirror()], check=True)
    for rel in TRIM:
        shutil.rmtree(root / rel, ignore_errors=True)
    versions = dpkg_versions(root)
    stamp.write_text("".join("%s %s\n" % (p, versions.get(p, "?")) for p in PACKAGES))
    return root


def root_list(root):
    """The root as a gen_init_cpio list (image.py's input): owners,
    modes with setuid bits, hard links as one `file` line with its other
    names, device nodes. Names with blanks cannot be listed and fail."""
    lines, inodes = [], {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in [""] + sorted(filenames) + [d for d in dirnames
                                            if os.path.islink(os.path.join(dirpath, d))]:
            host = os.path.join(dirpath, n) if n else dirpath
            guest = "/" + os.path.relpath(host, root)
            if guest == "/.":
                continue
            st = os.lstat(host)
            target = os.readlink(host) if stat.S_ISLNK(st.st_mode) else ""
            if any(c.isspace() for c in guest + host + target):
                raise ValueError("%s: a name with blanks" % guest)
            own = "%o %d %d" % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            if stat.S_ISDIR(st.st_mode):
                lines.append("dir %s %s" % (guest, own))
            elif stat.S_ISLNK(st.st_mode):
                lines.append("slink %s %s %s" % (guest, target, own))
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                lines.append("nod %s %s %s %d %d" % (
                    guest, own, "c" if stat.S_ISCHR(st.st_mode) else "b",
                    os.major(st.st_rdev), os.minor(st.st_rdev)))
            elif stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                inodes.setdefault((st.st_dev, st.st_ino), []).append((guest, host, own))
            elif stat.S_ISREG(st.st_mode):
                lines.append("file %s %s %s" % (guest, host, own))
            else:
                raise ValueError("%s: not a file, dir, link or device" % guest)
    for names in inodes.values():
        guest, host, own = names[0]
        lines.append("file %s %s %s %s" % (guest, host, own, " ".join(g for g, _, _ in names[1:])))
    return "\n".join(lines) + "\n"


def tree_bytes(root):
    """The sizes of the regular files under `root` (hard links once)."""
    seen = {}
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            st = os.lstat(os.path.join(dirpath, n))
            if stat.S_ISREG(st.st_mode):
                seen[(st.st_dev, st.st_ino)] = st.st_size
    return sum(seen.values())


def exec_word(word):
    """One word of an Exec*= line: double-quoted, with the C escapes
    systemd undoes for \\ and " (and control characters), `%%` for a
    literal % (specifiers are expanded after unquoting) and `$$` for a
    literal $ (environment variables are expanded at exec time)."""
    out = []
    for c in word:
        if c in "\\\"":
            out.append("\\" + c)
        elif c == "%":
            out.append("%%")
        elif c == "$":
            out.append("$$")
        elif ord(c) < 32 or ord(c) == 127:
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    return '"%s"' % "".join(out)


def exec_line(argv):
    return " ".join(exec_word(a) for a in argv)


UNIT_DIR = "/etc/systemd/system"


def units(workload):
    """{guest path: text}: a NAME.service per service, bench.service
    for the one-shot script, and bench.target wanting them all."""
    out = {}
    head = "# %s: generated by tests/qemu/bench\n" % workload.name
    for s in workload.services:
        lines = [head + "[Unit]",
                 "Description=bench: %s" % s.name,
                 # The default limit (5 starts in 10 s) would stop a crash loop.
                 "StartLimitIntervalSec=0",
                 "",
                 "[Service]",
                 # Started once exec'd, as pinit's services are.
                 "Type=exec",
                 "ExecStart=%s" % exec_line(s.argv),
                 "Restart=always"]
        if s.fast_restart:
            lines.append("RestartSec=0")
        out["%s/%s.service" % (UNIT_DIR, s.name)] = "\n".join(lines) + "\n"
    names = ["%s.service" % s.name for s in workload.services]
    if workload.oneshot:
        deps = " ".join(names)
        lines = [head + "[Unit]",
                 "Description=bench: the measuring script",
                 "Wants=%s" % deps,
                 "After=%s" % deps,
                 "",
                 "[Service]",
                 "Type=simple",
                 "ExecStart=%s" % exec_line(["/bin/sh", workload.oneshot]),
                 # The scripts write to /dev/console themselves.
                 "StandardOutput=journal+console",
                 "StandardError=journal+console"]
        out[UNIT_DIR + "/bench.service"] = "\n".join(lines) + "\n"
        names.append("bench.service")
    out[UNIT_DIR + "/bench.target"] = "%s[Unit]\nDescription=bench: %s\nWants=%s\n" % (
        head, workload.name, " ".join(names))
    return out


# Masked: the login prompts (getty.target: getty-static's VT gettys and
# the generator's serial getty). Nobody logs in; the serial getty waits
# 90 s for dev-ttyS0.device, which never appears without udev, keeping
# the boot unfinished; the VT gettys' forks wait in Type=idle.
MASK = ("getty.target",)


def links():
    """{guest path: symlink target}: /init (the kernel runs it from an
    initramfs; dracut's images do the same), bench.target in
    multi-user.target.wants, which default.target (graphical.target)
    pulls in, and the masks."""
    out = {"/init": "/lib/systemd/systemd",
           UNIT_DIR + "/multi-user.target.wants/bench.target": UNIT_DIR + "/bench.target"}
    out.update({"%s/%s" % (UNIT_DIR, m): "/dev/null" for m in MASK})
    return out


class Systemd(Peer):
    name = "systemd"
    default = False
    # The daemons of a minimal root: PID 1 and journald (no udev in
    # minbase; logind needs D-Bus). pidof matches argv[0], and PID 1's is
    # /init, the symlink the kernel ran.
    tree = "pidof init systemd-journald"
    # What the bytes-on-disk figure counts, with their libraries (252
    # has no systemd-executor: PID 1's forks set up the services).
    binaries = ("/lib/systemd/systemd", "/lib/systemd/systemd-journald")

    def __init__(self):
        super().__init__()
        self.lists = {}

    def prepare(self, arch):
        super().prepare(arch)
        root = build_root(arch)
        self.lists[arch] = CACHE / arch / "root.list"
        self.lists[arch].write_text(root_list(root))

    def describe(self, arch):
        v = dict(l.split(None, 1) for l in (CACHE / arch / "versions").read_text().splitlines())
        return ("systemd %s, libc6 %s (Debian %s): `%s %s`, trimmed to %.0f MiB, "
                "from an initramfs (`/init` → /lib/systemd/systemd)"
                % (v["systemd"], v["libc6"], SUITE, " ".join(DEBOOTSTRAP), SUITE,
                   tree_bytes(CACHE / arch / "root") / 2**20))

    def disk(self, arch):
        root = CACHE / arch / "root"
        return [(g, root / g.lstrip("/")) for g in elfdeps.closure(root, self.binaries)]

    def image(self, arch, workload, out, workdir):
        files = dict(workload.files)
        files.update({p: (text, 0o644) for p, text in units(workload).items()})
        overlay = Path(workdir) / "files"
        write_files(overlay, files)
        for path, target in links().items():
            dest = overlay / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, dest)
        image.build(out, self.lists[arch], {}, overlays=[self.progs[arch], overlay])

    def restart_policy(self, fast):
        if fast:
            return "`RestartSec=0`: at once"
        return ("defaults: `RestartSec=100ms`, fixed (no back-off in 252), on a timer with "
                "sd-event's default accuracy of 250 ms (the restart comes 100-350 ms after the "
                "exit); the default start limit (`StartLimitBurst=5` in "
                "`StartLimitIntervalSec=10s`) would stop the unit at its 6th start, so every "
                "unit has `StartLimitIntervalSec=0`")
