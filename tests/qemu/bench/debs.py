"""Debian binary packages for the inits measured beside pinit, and the
shared libraries their binaries load.

    target/bench/debs/<arch>/<package>/          its files (`dpkg-deb -x`)
    target/bench/debs/<arch>/<package>.version   its Debian version

A package is downloaded once (`apt-get download`, as fetch.py does for
the kernels). The libraries of a set of ELF binaries (DT_NEEDED,
recursively, and the PT_INTERP loader) are looked up in the extracted
packages only, Debian's libc6 among them, never on the host: an image
gets exactly Debian's glibc for its arch, whatever the host runs.
"""

import fcntl
import os
import shutil
import struct
import tempfile
from pathlib import Path

import fetch

CACHE = fetch.ROOT / "target" / "bench" / "debs"
TRIPLET = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}


def package(arch, name):
    """The extracted tree of Debian package `name` for `arch`, fetched once."""
    base = CACHE / arch
    tree = base / name
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        # Parallel runs share the cache.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (base / (name + ".version")).is_file():
            return tree
        with tempfile.TemporaryDirectory(dir=base, prefix="fetch-") as tmp:
            work = Path(tmp)
            # apt drops privileges to _apt for downloads when it can write here.
            os.chmod(work, 0o777)
            deb = fetch.download(fetch.qualify(name, fetch.DEB_ARCH[arch]), work)
            shutil.rmtree(tree, ignore_errors=True)
            fetch.run(["dpkg-deb", "-x", str(deb), str(tree)])
            (base / (name + ".version")).write_text(fetch.field(deb, "Version") + "\n")
    return tree


def version(arch, name):
    return (CACHE / arch / (name + ".version")).read_text().strip()


def elf(path):
    """(PT_INTERP or None, [DT_NEEDED, ...]) of a 64-bit little-endian ELF
    file, both arches of the bench."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4:6] != b"\x02\x01":
        raise fetch.FetchError("%s: not a 64-bit little-endian ELF file" % path)
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, interp, dynamic = [], None, None
    for i in range(phnum):
        kind, _, offset, vaddr, _, size = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if kind == 1:       # PT_LOAD
            loads.append((vaddr, offset, size))
        elif kind == 2:     # PT_DYNAMIC
            dynamic = (offset, size)
        elif kind == 3:     # PT_INTERP
            interp = data[offset:offset + size].split(b"\0")[0].decode()
    if dynamic is None:     # static
        return interp, []
    needed, strtab = [], None
    for at in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag == 0:        # DT_NULL
            break
        if tag == 1:        # DT_NEEDED: an offset into DT_STRTAB
            needed.append(value)
        elif tag == 5:      # DT_STRTAB: an address, mapped by a PT_LOAD
            strtab = value
    if not needed:
        return interp, []
    base = next(o + strtab - v for v, o, n in loads if v <= strtab < v + n)
    return interp, [data[base + n:data.index(b"\0", base + n)].decode() for n in needed]


def inside(tree, guest):
    """The regular file that guest path `guest` is in an extracted tree,
    following symlinks as the guest would (an absolute target is relative
    to the tree's root); None if there is none."""
    for _ in range(16):
        host = Path(tree) / guest.lstrip("/")
        if not host.is_symlink():
            return host if host.is_file() else None
        target = os.readlink(host)
        guest = os.path.normpath(os.path.join(os.path.dirname(guest), target))
    raise fetch.FetchError("%s: too many symlinks under %s" % (guest, tree))


def closure(arch, binaries, trees):
    """{guest path: host file}: `binaries` ({guest path: host file}), plus
    every shared library they load, recursively, and the dynamic loader,
    each at the path the loader finds it (its default directories: there
    is no ld.so.cache in the images), looked up in `trees` in order."""
    dirs = ["/lib/" + TRIPLET[arch], "/usr/lib/" + TRIPLET[arch], "/lib", "/usr/lib"]
    out = dict(binaries)
    todo = list(binaries.values())
    while todo:
        interp, needed = elf(todo.pop())
        wanted = [[interp]] if interp else []
        wanted += [[d + "/" + lib for d in dirs] for lib in needed]
        for paths in wanted:
            found = next(((p, inside(t, p)) for t in trees for p in paths if inside(t, p)), None)
            if found is None:
                raise fetch.FetchError("%s not found in %s" % (paths[-1].rsplit("/", 1)[-1],
                                                              ", ".join(map(str, trees))))
            # libc's DT_NEEDED names the loader, which is already there.
            if found[1].resolve() not in {Path(h).resolve() for h in out.values()}:
                out[found[0]] = found[1]
                todo.append(found[1])
    return out


def install(root, files, links=()):
    """A fresh overlay directory: `files` ({guest path: host file}) copied
    in with their modes, and `links` ({guest path: target}) as symlinks."""
    shutil.rmtree(root, ignore_errors=True)
    for guest, host in files.items():
        dest = Path(root) / guest.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(host, dest)
    for guest, target in dict(links).items():
        dest = Path(root) / guest.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, dest)
    return Path(root)
