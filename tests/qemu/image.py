"""Initramfs images: gen_init_cpio lists in, newc cpio archives out.

The list format is the Linux kernel's usr/gen_init_cpio one:

    # comment
    dir   NAME MODE UID GID
    file  NAME LOCATION MODE UID GID [HARDLINK ...]
    slink NAME TARGET MODE UID GID
    nod   NAME MODE UID GID b|c MAJOR MINOR
    pipe  NAME MODE UID GID
    sock  NAME MODE UID GID

MODE is octal. `${VAR}` in a file's LOCATION is replaced by the
environment variable VAR, as gen_init_cpio does. Later entries for the
same NAME replace earlier ones, and missing parent directories are added
(0755, root), so an overlay can drop a file anywhere.
"""

import gzip
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path


class ListError(Exception):
    """A bad line in a list file: `FILE:LINE: error: MESSAGE`."""


@dataclass
class Entry:
    """One archive member. `source` is a host path (file) or a link target
    (slink); `links` are extra hard-link names of a file."""
    kind: str                      # dir file slink nod pipe sock
    name: str                      # absolute path in the image
    mode: int                      # permission bits only
    uid: int = 0
    gid: int = 0
    source: str = ""
    dev: tuple = (0, 0)            # (major, minor) for nod
    devtype: str = ""              # b or c for nod
    links: list = field(default_factory=list)

    TYPE_BITS = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "slink": stat.S_IFLNK,
                 "pipe": stat.S_IFIFO, "sock": stat.S_IFSOCK}

    def type_bits(self):
        if self.kind == "nod":
            return stat.S_IFBLK if self.devtype == "b" else stat.S_IFCHR
        return self.TYPE_BITS[self.kind]


ARITY = {"dir": 4, "file": 5, "slink": 5, "nod": 7, "pipe": 4, "sock": 4}
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def normalize(name):
    """`/a//b/` and `a/b` both become `/a/b`; `/` stays `/`."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("'..' in %r" % name)
    return "/" + "/".join(parts)


def expand(text, env):
    def sub(m):
        if m.group(1) not in env:
            raise KeyError(m.group(1))
        return env[m.group(1)]
    return ENV_REF.sub(sub, text)


def parse_line(words, env):
    """One list line, already split into words, to an Entry."""
    kind = words[0]
    if kind not in ARITY:
        raise ValueError("unknown entry type '%s' (expected one of %s)"
                         % (kind, ", ".join(sorted(ARITY))))
    need = ARITY[kind]
    if len(words) < need + 1 or (kind != "file" and len(words) > need + 1):
        raise ValueError("'%s' takes %d fields, got %d" % (kind, need, len(words) - 1))
    name = normalize(words[1])

    def octal(w):
        try:
            v = int(w, 8)
        except ValueError:
            raise ValueError("mode '%s' is not octal" % w)
        if v > 0o7777:
            raise ValueError("mode '%s' is out of range" % w)
        return v

    def number(w, what):
        if not w.isdigit():
            raise ValueError("%s '%s' is not a number" % (what, w))
        return int(w)

    if kind == "file":
        try:
            src = expand(words[2], env)
        except KeyError as e:
            raise ValueError("${%s} is not set" % e.args[0])
        return Entry("file", name, octal(words[3]), number(words[4], "uid"),
                     number(words[5], "gid"), source=src,
                     links=[normalize(w) for w in words[6:]])
    if kind == "slink":
        return Entry("slink", name, octal(words[3]), number(words[4], "uid"),
                     number(words[5], "gid"), source=words[2])
    if kind == "nod":
        if words[5] not in ("b", "c"):
            raise ValueError("device type '%s' is not b or c" % words[5])
        return Entry("nod", name, octal(words[2]), number(words[3], "uid"),
                     number(words[4], "gid"), devtype=words[5],
                     dev=(number(words[6], "major"), number(words[7], "minor")))
    return Entry(kind, name, octal(words[2]), number(words[3], "uid"),
                 number(words[4], "gid"))


def parse_list(text, env=None, filename="<list>"):
    """Parses a whole list file; raises ListError naming file and line."""
    env = os.environ if env is None else env
    entries = []
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        try:
            entries.append(parse_line(words, env))
        except ValueError as e:
            raise ListError("%s:%d: error: %s" % (filename, lineno, e))
    return entries


class Image:
    """An ordered set of entries keyed by path; later ones win."""

    def __init__(self):
        self.entries = {}

    def add(self, entry):
        self._parents(entry.name)
        for link in entry.links:
            self._parents(link)
        self.entries[entry.name] = entry

    def has(self, name):
        return normalize(name) in self.entries

    def _parents(self, name):
        parts = name.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in self.entries:
                self.entries[d] = Entry("dir", d, 0o755)

    def add_list(self, entries):
        for e in entries:
            self.add(e)

    def add_busybox_links(self, applets, busybox="/bin/busybox", protect=("/sbin/init",)):
        """A symlink to busybox per applet path (`usr/bin/ls`), except on
        `protect`ed paths and paths the image already has."""
        for a in applets:
            name = normalize(a)
            if name in protect or name in self.entries or name == busybox:
                continue
            self.add(Entry("slink", name, 0o777, source=busybox))

    def add_file(self, name, source, mode=None):
        mode = stat.S_IMODE(os.stat(source).st_mode) if mode is None else mode
        self.add(Entry("file", normalize(name), mode, source=str(source)))

    def add_tree(self, root):
        """Copies a host directory in: dirs, files and symlinks keep their
        modes, owner is root."""
        root = Path(root)
        if not root.is_dir():
            raise ListError("overlay %s is not a directory" % root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = Path(dirpath).relative_to(root)
            if str(rel) != ".":
                self.add(Entry("dir", normalize(str(rel)),
                               stat.S_IMODE(os.lstat(dirpath).st_mode)))
            for n in sorted(filenames) + [d for d in dirnames
                                          if os.path.islink(os.path.join(dirpath, d))]:
                path = os.path.join(dirpath, n)
                name = normalize(str(rel / n))
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    self.add(Entry("slink", name, 0o777, source=os.readlink(path)))
                elif stat.S_ISREG(st.st_mode):
                    self.add(Entry("file", name, stat.S_IMODE(st.st_mode), source=path))
                else:
                    raise ListError("overlay %s: %s is not a file, dir or symlink"
                                    % (root, path))

    def write(self, out):
        """Writes a newc archive to the binary stream `out`."""
        w = NewcWriter(out)
        for e in self.entries.values():
            w.entry(e)
        w.trailer()


class NewcWriter:
    """The `070701` (newc) cpio format that the kernel unpacks."""

    def __init__(self, out):
        self.out = out
        self.ino = 721  # gen_init_cpio's first inode number
        self.mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))

    def _header(self, name, mode, uid, gid, nlink, size, rdev=(0, 0), ino=None):
        if ino is None:
            ino = self.ino
            self.ino += 1
        raw = name.lstrip("/") or "."
        namebytes = raw.encode() + b"\0"
        fields = [ino, mode, uid, gid, nlink, self.mtime, size, 0, 0,
                  rdev[0], rdev[1], len(namebytes), 0]
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out.write(hdr + namebytes)
        self._pad(len(hdr) + len(namebytes))

    def _pad(self, n):
        self.out.write(b"\0" * (-n % 4))

    def entry(self, e):
        mode = e.type_bits() | e.mode
        if e.kind == "file":
            with open(e.source, "rb") as f:
                data = f.read()
            names = [e.name] + e.links
            ino = self.ino
            self.ino += 1
            for i, n in enumerate(names):
                last = i == len(names) - 1
                # Like gen_init_cpio: the data goes with the last link.
                self._header(n, mode, e.uid, e.gid, len(names),
                             len(data) if last else 0, ino=ino)
            self.out.write(data)
            self._pad(len(data))
        elif e.kind == "slink":
            target = e.source.encode()
            self._header(e.name, mode, e.uid, e.gid, 1, len(target))
            self.out.write(target)
            self._pad(len(target))
        elif e.kind == "dir":
            self._header(e.name, mode, e.uid, e.gid, 2, 0)
        elif e.kind == "nod":
            self._header(e.name, mode, e.uid, e.gid, 1, 0, rdev=e.dev)
        else:
            self._header(e.name, mode, e.uid, e.gid, 1, 0)

    def trailer(self):
        self._header("TRAILER!!!", 0, 0, 0, 1, 0, ino=0)
        # Round the archive up to 512 bytes, as cpio(1) does.
        pos = self.out.tell() if hasattr(self.out, "tell") else 0
        self.out.write(b"\0" * (-pos % 512))


def build(out_path, list_path, env, applets=(), config=None, overlays=(), compress=False,
          root=None):
    """Assembles an image: the list, the staged `root` (what `make install
    DESTDIR=root` put there), busybox applet links, the config as
    /etc/pinit.conf, then each overlay. Returns the Image."""
    img = Image()
    list_path = Path(list_path)
    img.add_list(parse_list(list_path.read_text(), env, str(list_path)))
    if root:
        img.add_tree(root)
    if applets:
        img.add_busybox_links(applets)
    if config:
        img.add_file("/etc/pinit.conf", config, 0o644)
    for o in overlays:
        img.add_tree(o)
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".tmp")
    try:
        with open(tmp, "wb") as raw:
            if compress:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                    img.write(gz)
            else:
                img.write(raw)
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return img
