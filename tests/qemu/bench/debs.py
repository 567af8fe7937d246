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
import tempfile
from pathlib import Path

import elfdeps
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
    """(PT_INTERP or None, [DT_NEEDED, ...]) of an ELF file."""
    try:
        interp, needed, _ = elfdeps.read_elf(Path(path).read_bytes())
    except ValueError as e:
        raise fetch.FetchError("%s: %s" % (path, e))
    return interp, needed


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
