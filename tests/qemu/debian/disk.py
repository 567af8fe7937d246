"""The disk image of the Debian system test: the cached root plus pinit,
its table and an ssh key, as an ext4 file system made by `mkfs.ext4 -d`
(no loop mount, no root privileges needed for this step).

Added to a copy of the root (the cache stays as debootstrap and apt left
it):

    /sbin/init                      pinit (Debian's own is diverted to
                                    /sbin/init.debian, root.py)
    /usr/local/bin/pinit            -> /sbin/init: the control client
    /usr/local/sbin/poweroff, reboot, halt   -> /sbin/init
    /etc/pinit.conf                 the table
    /root/.ssh/authorized_keys      the test's public key
"""

import os
import shutil
import subprocess
from pathlib import Path

import qemu

CLIENT_LINKS = {"/usr/local/bin/pinit": "/sbin/init",
                "/usr/local/sbin/poweroff": "/sbin/init",
                "/usr/local/sbin/reboot": "/sbin/init",
                "/usr/local/sbin/halt": "/sbin/init"}
# Free space beyond the root's files: logs, redis dumps, a test's files.
SLACK = 256 << 20


def ssh_key(directory):
    """An ed25519 key pair for the test, made once; its private key's path."""
    key = Path(directory) / "id_ed25519"
    if not key.is_file():
        key.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pinit-debian-test",
                        "-f", str(key)], check=True)
    return key


def put(root, guest, data, mode, uid=0, gid=0):
    """Writes a file into the copy; replaces a symlink or file there
    instead of writing through it. Guest paths resolve the root's own
    directory links (/sbin -> usr/sbin)."""
    parent = Path(root) / os.path.dirname(guest).lstrip("/")
    parent.mkdir(parents=True, exist_ok=True)
    dest = parent / os.path.basename(guest)
    tmp = dest.with_name(dest.name + ".pinit-tmp")
    tmp.write_bytes(data if isinstance(data, bytes) else data.encode())
    os.chown(tmp, uid, gid)
    os.chmod(tmp, mode)
    os.replace(tmp, dest)


def tree_bytes(root):
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            total += os.lstat(os.path.join(dirpath, n)).st_size
    return total


def build(root, out, pinit, table, pubkey, files=None):
    """Writes the ext4 image `out`. `table`: the text of /etc/pinit.conf;
    `pubkey`: the authorized key's text; `files`: more {guest path:
    text or (text, mode)}."""
    out = Path(out)
    staging = out.with_name(out.name + ".tree")
    shutil.rmtree(staging, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", "--reflink=auto", str(root), str(staging)], check=True)
    try:
        put(staging, "/sbin/init", Path(pinit).read_bytes(), 0o755)
        for link, target in CLIENT_LINKS.items():
            dest = staging / link.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_symlink() or dest.exists():
                dest.unlink()
            os.symlink(target, dest)
        put(staging, "/etc/pinit.conf", table, 0o644)
        (staging / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
        put(staging, "/root/.ssh/authorized_keys", pubkey, 0o600)
        for guest, content in (files or {}).items():
            text, mode = content if isinstance(content, tuple) else (content, 0o644)
            put(staging, guest, text, mode)
        size = tree_bytes(staging) + SLACK
        out.unlink(missing_ok=True)
        with open(out, "wb") as f:
            f.truncate(size)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "debian-root", "-d", str(staging),
                        str(out)], check=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def e2fsck(image):
    """`e2fsck -fn IMAGE`: (exit code, output). 0 means clean."""
    p = subprocess.run(["e2fsck", "-fn", str(image)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def superblock(image):
    """`dumpe2fs -h IMAGE` as {field: value} ("Filesystem state",
    "Filesystem features", ...)."""
    p = subprocess.run(["dumpe2fs", "-h", str(image)], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True, check=True)
    return {k.strip(): v.strip() for k, _, v in
            (l.partition(":") for l in p.stdout.splitlines()) if v}


def default_table():
    return (qemu.ROOT / "board-configs" / "debian-root.conf").read_text()
