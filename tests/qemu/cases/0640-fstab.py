"""Issue 14 point 5: `fstab` applies /etc/fstab at boot, in file order,
read back from the kernel: an ext4 disk found by UUID= (through the
/dev/disk/by-uuid link an initramfs's udev would make; here /init makes
it) mounted with its flags, a swap file on it in /proc/swaps with its
priority, a read-only bind mount of one of its directories at a path
with an escaped space (\\040), a bind mount of a file, a tmpfs with data
options and `user` (nosuid,nodev,noexec). The root entry on an
initramfs is reported, not silently ignored; a `nofail` entry that fails
is a note, one without nofail an error naming its line; a UUID= without
a link, `noauto`, `_netdev`, an entry already mounted and a malformed
line each get what the docs say, and the units still run. At poweroff
the swap is turned off before the file systems are unmounted, and the
disk is left clean (e2fsck on the host)."""

import re
import subprocess

import checks
import qemu

UUID = "6f6e6520-6669-4c65-8073-797374656d21"
GONE = "00000000-0000-4000-8000-000000000000"

# What an initramfs's udev would have made before handing over.
INIT = """\
#!/bin/sh
mkdir -p /dev
mount -t devtmpfs -o mode=0755 devtmpfs /dev
[ -x %(load)s ] && %(load)s
mkdir -p /dev/disk/by-uuid
ln -s ../../%(dev)s /dev/disk/by-uuid/%(uuid)s
exec /sbin/init
"""

FSTAB = """\
# pinit's fstab case (line numbers matter: the checks name them)
/dev/root            /                  ext4   rw,errors=remount-ro   0 1
UUID=%(uuid)s /mnt/data ext4 rw,noatime,nodev 0 2
/mnt/data/swapfile   none               swap   sw,pri=7               0 0
/mnt/data/shared     /srv/bind\\040dir   none   bind,ro                0 0
/mnt/data/file       /etc/bound-file    none   bind                   0 0
tmpfs                /mnt/t             tmpfs  size=4M,mode=0700,x-systemd.automount,comment=x,user 0 0
/dev/nosuch          /mnt/opt           ext4   defaults,nofail        0 2
/dev/nosuch2         /mnt/bad           ext4   defaults               0 2
UUID=%(gone)s /mnt/gone ext4 nofail 0 0
/dev/sdz1            /mnt/never         ext4   noauto                 0 0
proc                 /proc              proc   defaults               0 0
server:/export       /mnt/nfs           nfs    defaults,_netdev       0 0
/dev/sdz2            /mnt/short
"""

TABLE = """\
fstab
service web -- /bin/sleep 1000
tty     console tty=%s after=web -- /bin/sh -l
"""

PROFILE = r"""
echo "MOUNTS-BEGIN"; grep -E ' /mnt/| /srv/| /etc/bound-file ' /proc/mounts; echo "MOUNTS-END"
echo "SWAPS-BEGIN"; cat /proc/swaps; echo "SWAPS-END"
echo "BIND $(cat '/srv/bind dir/hello') FILE $(cat /etc/bound-file)"
touch '/srv/bind dir/new' 2>/dev/null && echo "BINDRW yes" || echo "BINDRW no"
echo "NEVER $([ -e /mnt/never ] && echo exists || echo absent)"
echo "WEB $(pidof sleep)"
echo FSTAB-DONE
poweroff
"""


def run(t):
    dev = t.disk_dev(0)
    disk = t.disk("data", 32, files={"/swapfile": (qemu.swap_file(8), 0o600),
                                     "/shared/hello": "hello\n", "/file": "f\n"},
                  uuid=UUID)
    init = INIT % {"load": qemu.DISK_LOAD, "dev": dev[len("/dev/"):], "uuid": UUID}
    g = t.boot(files={"/init": (init, 0o755), "/etc/fstab": FSTAB % {"uuid": UUID, "gone": GONE},
                      "/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
               disks=[disk], timeout=240)
    g.expect(r"FSTAB-DONE", 180)
    code = g.wait(90)
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    def between(a, b):
        m = re.search(r"^%s\n(.*?)^%s$" % (a, b), text, re.M | re.S)
        t.check(m is not None, "no %s ... %s in the console" % (a, b))
        return m.group(1)

    mounts = {l.split()[1]: l.split() for l in between("MOUNTS-BEGIN", "MOUNTS-END").splitlines()
              if len(l.split()) >= 4}
    # The disk by UUID=: the device's own name, as mount(8) shows it.
    t.check("/mnt/data" in mounts, "/mnt/data not mounted: %r" % sorted(mounts))
    data = mounts["/mnt/data"]
    t.check(data[0] == dev and data[2] == "ext4", "/mnt/data: %r" % data)
    flags = data[3].split(",")
    t.check("rw" in flags and "noatime" in flags and "nodev" in flags, "/mnt/data flags %r" % flags)
    # The bind mounts: read-only, at the decoded path (\040 in /proc/mounts too).
    bind = mounts.get("/srv/bind\\040dir")
    t.check(bind is not None and "ro" in bind[3].split(","), "the ro bind mount: %r" % bind)
    grab(r"^BIND hello FILE f$")
    grab(r"^BINDRW no$")
    t.check("/etc/bound-file" in mounts, "the file bind mount is missing")
    # tmpfs: data passed, x-* and comment= not, user = nosuid,nodev,noexec.
    tmp = mounts.get("/mnt/t")
    t.check(tmp is not None, "/mnt/t not mounted")
    topts = tmp[3].split(",")
    for want in ("nosuid", "nodev", "noexec", "size=4096k", "mode=700"):
        t.check(want in topts, "/mnt/t lacks %s: %r" % (want, topts))
    t.check(not any(o.startswith(("x-", "comment")) for o in topts), "/mnt/t: %r" % topts)
    # The swap file, with its priority.
    swaps = between("SWAPS-BEGIN", "SWAPS-END")
    m = re.search(r"^/mnt/data/swapfile\s+file\s+\d+\s+\d+\s+(-?\d+)$", swaps, re.M)
    t.check(m is not None and m.group(1) == "7", "/proc/swaps: %r" % swaps)
    # What was not mounted, and why, each with its line.
    for p in ("/mnt/opt", "/mnt/bad", "/mnt/gone", "/mnt/never", "/mnt/nfs"):
        t.check(p not in mounts, "%s is mounted" % p)
    grab(r"^NEVER absent$")
    grab(r"^pinit: /etc/fstab:2: / is an initramfs, not /dev/root: not remounted")
    grab(r"^pinit: /etc/fstab:8: unable to mount /dev/nosuch on /mnt/opt \(ext4\): ENOENT \(nofail: going on\)$")
    grab(r"^pinit: /etc/fstab:9: unable to mount /dev/nosuch2 on /mnt/bad \(ext4\): ENOENT$")
    grab(r"^pinit: /etc/fstab:10: unable to find UUID=%s \(/dev/disk/by-uuid/%s: no such link\): ENOENT \(nofail: going on\)$"
         % (GONE, GONE))
    grab(r"^pinit: /etc/fstab:13: server:/export on /mnt/nfs needs the network: not mounted at boot")
    grab(r"^pinit: /etc/fstab:14: expected SPEC FILE TYPE \[OPTIONS \[DUMP \[PASS\]\]\]; line skipped$")
    grab(r"^pinit: fstab /etc/fstab: 4 mounted, 1 swaps on, 1 already mounted, 2 skipped, 2 failed, 2 failed with nofail$")
    t.check(text.count("/etc/fstab:11") == 0, "the noauto entry got a line")
    # Boot went on: the unit runs.
    t.check(re.search(r"^WEB \d+$", text, re.M) is not None, "the unit web is not running")
    # Shutdown: the swap off before the file systems are unmounted, the
    # disk unmounted (not left busy).
    off = text.find("pinit: shutdown: swap /mnt/data/swapfile off")
    t.check(off >= 0, "no swapoff line")
    t.check(off < text.find("pinit: shutdown: unmounting file systems"), "swapoff after unmounting")
    t.check("/mnt/data stays mounted" not in text, "/mnt/data was busy at shutdown")
    t.check(code == 0, "the guest did not power off (%s)" % code)
    p = subprocess.run(["e2fsck", "-fn", str(disk)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    t.check(p.returncode == 0, "e2fsck -fn: %s\n%s" % (p.returncode, p.stdout))
