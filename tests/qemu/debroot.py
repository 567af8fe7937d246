"""Debian roots made with debootstrap, shared by the systemd bench peer
(bench/init_systemd.py) and the Debian system test (debian/root.py).

debootstrap comes from Debian's archive (tests/qemu/bench/setup and
tests/qemu/debian/setup install it); it downloads from the machine's own
mirror, the first `deb` URI of /etc/apt/sources.list.d/debian.sources.
"""

import shutil
import subprocess
from pathlib import Path

SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
# Nothing a boot reads; removed from a root to keep its image small.
TRIM = ["var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man",
        "usr/share/info", "usr/share/locale"]


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


def dpkg_versions(root, names):
    """{package: version} from the root's dpkg status file, for `names`
    (None: every installed package)."""
    out = {}
    for stanza in (Path(root) / "var/lib/dpkg/status").read_text().split("\n\n"):
        fields = dict(l.split(": ", 1) for l in stanza.splitlines() if ": " in l and l[0] != " ")
        name = fields.get("Package")
        if (names is None or name in names) and "installed" in fields.get("Status", ""):
            out[name] = fields.get("Version", "?")
    return out


def debootstrap(root, suite, args=()):
    """`debootstrap ARGS SUITE ROOT MIRROR` into a fresh `root`."""
    shutil.rmtree(root, ignore_errors=True)
    Path(root).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["debootstrap"] + list(args) + [suite, str(root), mirror()], check=True)


def trim(root):
    for rel in TRIM:
        shutil.rmtree(Path(root) / rel, ignore_errors=True)
