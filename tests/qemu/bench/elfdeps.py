"""The shared libraries a dynamically linked binary loads, found inside a
root directory as its dynamic loader would find them there: for the
bytes-on-disk figure of an init that is not a static binary.

Reads PT_INTERP and the DT_NEEDED and DT_RUNPATH entries of the ELF
files (no readelf, no chroot), resolves symlinks inside the root, and
searches RUNPATH, then /etc/ld.so.conf.d's directories, then /lib and
/usr/lib; a name already loaded is not searched again (the loader's
rule, which lets libsystemd-core find libsystemd-shared by systemd's
RUNPATH). dlopen()ed libraries are not in DT_NEEDED and not counted.
"""

import os
import struct
from pathlib import Path

PT_DYNAMIC, PT_INTERP, PT_LOAD = 2, 3, 1
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RUNPATH = 0, 1, 5, 29


def read_elf(data):
    """(interpreter or None, [DT_NEEDED], [DT_RUNPATH dirs]) of an ELF
    image (bytes)."""
    if data[:4] != b"\x7fELF":
        raise ValueError("not an ELF file")
    wide = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if wide:
        phoff, = struct.unpack_from(end + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
    else:
        phoff, = struct.unpack_from(end + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x2A)
    loads, interp, dynamic = [], None, None
    for i in range(phnum):
        at = phoff + i * phentsize
        if wide:
            ptype, _, off, vaddr, _, filesz = struct.unpack_from(end + "IIQQQQ", data, at)
        else:
            ptype, off, vaddr, _, filesz = struct.unpack_from(end + "IIIII", data, at)
        if ptype == PT_LOAD:
            loads.append((vaddr, off, filesz))
        elif ptype == PT_INTERP:
            interp = data[off:off + filesz].split(b"\0")[0].decode()
        elif ptype == PT_DYNAMIC:
            dynamic = (off, filesz)
    if dynamic is None:
        return interp, [], []
    entry = end + ("qQ" if wide else "iI")
    size = struct.calcsize(entry)
    tags = []
    for at in range(dynamic[0], dynamic[0] + dynamic[1], size):
        tag, val = struct.unpack_from(entry, data, at)
        if tag == DT_NULL:
            break
        tags.append((tag, val))
    strtab = next(v for t, v in tags if t == DT_STRTAB)
    # DT_STRTAB is an address: the file offset is in the PT_LOAD holding it.
    base = next(off + strtab - vaddr for vaddr, off, filesz in loads
                if vaddr <= strtab < vaddr + filesz)

    def string(i):
        return data[base + i:data.index(b"\0", base + i)].decode()

    needed = [string(v) for t, v in tags if t == DT_NEEDED]
    runpath = [d for t, v in tags if t == DT_RUNPATH for d in string(v).split(":") if d]
    return interp, needed, runpath


def resolve(root, path):
    """`path` with every symlink followed as inside `root` (a chroot's
    view): the real guest path, which may not exist."""
    parts = [p for p in path.split("/") if p]
    done, hops = [], 0
    while parts:
        p = parts.pop(0)
        if p == ".":
            continue
        if p == "..":
            done = done[:-1]
            continue
        host = os.path.join(root, *done, p)
        if os.path.islink(host):
            hops += 1
            if hops > 40:
                raise ValueError("symlink loop at %s" % path)
            target = os.readlink(host)
            if target.startswith("/"):
                done = []
            parts = [x for x in target.split("/") if x] + parts
        else:
            done.append(p)
    return "/" + "/".join(done)


def default_dirs(root):
    """The loader's search list inside the root: ld.so.conf.d, then the
    trusted directories."""
    dirs = []
    for conf in sorted((Path(root) / "etc/ld.so.conf.d").glob("*.conf")):
        for line in conf.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("/"):
                dirs.append(line)
    return dirs + ["/lib", "/usr/lib"]


def closure(root, binaries):
    """The guest paths (symlinks resolved) of `binaries` and of every
    library they load, the dynamic loader included, each once, in the
    order found."""
    search = default_dirs(root)
    found, queue = [], [resolve(root, b) for b in binaries]
    loaded = {}                     # DT_NEEDED name -> guest path
    while queue:
        guest = queue.pop(0)
        if guest in found:
            continue
        host = Path(root) / guest.lstrip("/")
        if not host.is_file():
            raise FileNotFoundError("%s is not in %s" % (guest, root))
        found.append(guest)
        interp, needed, runpath = read_elf(host.read_bytes())
        if interp:
            queue.append(resolve(root, interp))
        origin = os.path.dirname(guest)
        dirs = [d.replace("$ORIGIN", origin) for d in runpath] + search
        for name in needed:
            if name in loaded:
                continue
            paths = [resolve(root, d + "/" + name) for d in dirs]
            hit = next((p for p in paths if (Path(root) / p.lstrip("/")).is_file()), None)
            if hit is None:
                raise FileNotFoundError("%s (needed by %s) is not in %s" % (name, guest, root))
            loaded[name] = hit
            queue.append(hit)
    return found
