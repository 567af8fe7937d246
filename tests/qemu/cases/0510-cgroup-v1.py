"""Issue 13 point 2: an earlier boot stage left a cgroup v1 hierarchy on
/sys/fs/cgroup (here /init, a shell script, mounts one and execs pinit).
pinit must not take it for cgroup2: every unit still runs (without
cgroups, or with a cgroup2 mounted elsewhere). Today pinit skips its
mount, never checks the type, and every fork fails with EBADF."""

import re


# What an initramfs of another distribution might do before handing over.
INIT = """\
#!/bin/sh
mkdir -p /proc /sys
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup -o none,name=legacy cgroup /sys/fs/cgroup
exec /sbin/init
"""

TABLE = """\
service web  -- /bin/sleep 1001
service db   -- /bin/sleep 1002
task    prep -- /bin/sh -c "echo prepared > /run/prep"
tty     console tty=%s stop-signal=HUP after=web,db,prep -- /bin/sh -l
"""

PROFILE = r"""
echo "CGFS $(awk '$2 == "/sys/fs/cgroup" {print $3}' /proc/mounts | tr '\n' ' ')"
for n in 1001 1002; do
  p=$(for q in $(pidof sleep); do grep -q $n /proc/$q/cmdline && echo $q; done)
  echo "UNIT sleep-$n pid=${p:-none}"
done
echo "PREP $(cat /run/prep 2>/dev/null || echo none)"
echo "PID1 $(cat /proc/1/comm)"
poweroff
"""


def run(t):
    g = t.boot(files={"/init": (INIT, 0o755), "/etc/pinit.conf": TABLE % t.tty,
                      "/etc/profile": PROFILE}, timeout=180)
    # Today the first fork fails at once: no need to wait for the profile.
    m = g.expect(r"PID1 \S+\r?\n|: unable to fork: [A-Z]+", 120)
    t.check(m.group(0).startswith("PID1"), "a unit could not start: %s" % m.group(0))
    text = g.text().replace("\r", "")
    fs = re.search(r"CGFS (.*)", text)
    t.check(fs is not None and "cgroup " in fs.group(1) + " ",
            "the test did not get a cgroup v1 /sys/fs/cgroup: %r" % (fs and fs.group(0)))
    for n in ("1001", "1002"):
        u = re.search(r"UNIT sleep-%s pid=(\S+)" % n, text)
        t.check(u is not None and u.group(1) != "none",
                "the unit running sleep %s is not running" % n)
    t.check(re.search(r"PREP prepared", text) is not None, "the task prep did not run")
    t.check(re.search(r"PID1 init", text) is not None, "PID 1 is not pinit")
    t.check(g.wait(60) == 0, "the guest did not power off")
