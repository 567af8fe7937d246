"""Early boot: PID 1 is pinit, installed by `make install` as /sbin/pinit
and reached through /init -> /sbin/init -> pinit; it opened the console itself,
and the API file systems are mounted. Also records the banner time and PID 1's
memory in the idle rescue-shell image.

Booted with `pinit.rescue`: PID 1 runs no units, only the rescue shell."""

# Debian's kernels carry the kernel's default built-in initramfs (dir
# /dev, nod /dev/console, dir /root), unpacked before ours, so the kernel
# would open a console for init after all. An empty directory at
# /dev/console replaces that node: the kernel then cannot open it, init
# starts with fds 0/1/2 closed, and pinit must mount devtmpfs itself.
PROFILE = r"""
echo "CHECK exe $(readlink /proc/1/exe)"
cmp -s /proc/1/exe /sbin/init && echo "CHECK exe-is-sbin-init"
echo "CHECK links $(readlink /init) $(readlink /sbin/init) $(readlink /bin/pinit)"
echo "CHECK cmdline $(tr '\0' ' ' < /proc/1/cmdline)"
while read -r src dir fstype rest; do echo "MOUNT $dir $fstype"; done < /proc/mounts
echo "CHECK fds $(readlink /proc/1/fd/0) $(readlink /proc/1/fd/1) $(readlink /proc/1/fd/2)"
grep -q '\[heap\]' /proc/1/maps && echo "CHECK heap present" || echo "CHECK heap none"
echo "SMAPS $(grep -E '^(Rss|Pss|Anonymous):' /proc/1/smaps_rollup | tr -s ' ' | tr '\n' ' ')"
echo "CHECK done"
"""

MOUNTS = [
    ("/proc", "proc"),
    ("/sys", "sysfs"),
    ("/dev", "devtmpfs"),
    ("/dev/pts", "devpts"),
    ("/dev/shm", "tmpfs"),
    ("/run", "tmpfs"),
    ("/sys/fs/cgroup", "cgroup2"),
]


def run(t):
    g = t.boot(files={"/etc/profile": PROFILE, "/dev/console/.keep": ""},
               append="pinit.rescue")
    g.expect(r"Warning: unable to open an initial console", 60)
    m = g.expect(r"pinit: pinit (\S+) \((\w+)\) is PID 1, ([0-9.]+)s after kernel start", 60)
    t.check(m.group(2) == t.arch, "banner names arch %s" % m.group(2))
    t.metric("banner_s", m.group(3))
    g.expect(r"pinit: rescue: /bin/sh started on %s" % t.tty, 30)
    g.expect(r"CHECK done", 60)
    out = g.text()
    t.check("CHECK exe /sbin/pinit" in out, "/proc/1/exe is not /sbin/pinit")
    t.check("CHECK exe-is-sbin-init" in out, "/proc/1/exe differs from /sbin/init")
    t.check("CHECK links sbin/init pinit ../sbin/pinit" in out,
            "/init, /sbin/init, /bin/pinit are not make install's links")
    t.check("CHECK heap none" in out, "PID 1 has a [heap] mapping")
    # The last mount on each point is the one that counts.
    mounted = {}
    for line in out.splitlines():
        w = line.strip().split()
        if len(w) == 3 and w[0] == "MOUNT":
            mounted[w[1]] = w[2]
    for point, fstype in MOUNTS:
        t.check(mounted.get(point) == fstype, "%s: expected %s, /proc/mounts has %s"
                % (point, fstype, mounted.get(point)))
    smaps = g.search(r"SMAPS Rss: (\d+) kB Pss: (\d+) kB Anonymous: (\d+) kB")
    t.check(smaps, "no Rss/Pss from /proc/1/smaps_rollup")
    t.metric("rss_kib", smaps.group(1))
    t.metric("pss_kib", smaps.group(2))
    t.metric("anon_kib", smaps.group(3))
    g.kill()
