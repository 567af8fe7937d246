"""The checks of the Debian system test, in the order they run.

A check is a function of a guest.Session, registered with @check. It
fails by raising (s.check(cond, message) raises AssertionError) and
asserts what the kernel and the daemons report: /proc, the cgroup
files, the daemons' own answers over their own protocols. The guest is
up (booted, ssh works) when the first check runs; `poweroff` and
`e2fsck` come last and always run.

    @check("name", "what it shows")
    def name(s):
        out = s.ssh("redis-cli ping")
        s.check(out.strip() == "PONG", "redis answered %r" % out)

A check may add to the guest: `table=` lines appended to the table,
`options=` {unit: "KEY=VALUE ..."} added to a unit of the table,
`files=` {guest path: text or (text, mode)} into the image. A check of a
feature that does not exist yet is registered with `pending="why"`: it
is listed as SKIP with the reason, and none of its additions reach the
guest; `run --pending` runs it anyway. When the feature lands, delete
the `pending=` and the check runs in CI.
"""

import json
import re
import time

import disk
import fetch

CHECKS = []

# The daemons of board-configs/debian-root.conf and their /proc/PID/comm.
SERVICES = {"udevd": "systemd-udevd", "rsyslog": "rsyslogd", "dbus": "dbus-daemon",
            "sshd": "sshd", "redis": "redis-server", "cron": "cron", "console": "agetty"}
# Those that report readiness over sd_notify (ready=notify).
NOTIFY = ("udevd", "rsyslog", "dbus", "sshd", "redis")
TASKS = ("machine-id", "loopback", "udev-trigger", "network")
# The state word of a task that exited 0, the console's too.
DONE = ("done",)
# Each daemon's runtime directory (runtime-dir=): /run/NAME, owner, mode.
RUN_DIRS = {"sshd": ("sshd", "root", "755"), "dbus": ("dbus", "root", "755"),
            "redis": ("redis", "redis", "750")}


class Check:
    def __init__(self, name, doc, fn, pending=None, table="", options=None, files=None,
                 always=False):
        self.name, self.doc, self.fn, self.pending = name, doc, fn, pending
        self.table, self.options, self.files = table, dict(options or {}), dict(files or {})
        self.always = always


def check(name, doc, **kw):
    def register(fn):
        CHECKS.append(Check(name, doc, fn, **kw))
        return fn
    return register


def select(names=(), pending=False):
    """(to run, skipped) in order: those whose name starts with one of
    `names` (all when empty), plus the `always` ones; pending checks are
    skipped unless `pending`."""
    chosen = [c for c in CHECKS if c.always or not names
              or any(c.name.startswith(n) for n in names)]
    run = [c for c in chosen if pending or not c.pending]
    return run, [c for c in chosen if c not in run]


def table(base, checks):
    """The table the guest gets: `base` with each check's `options` put
    after its unit's name and its `table` lines appended."""
    text = base
    for c in checks:
        for unit, opts in c.options.items():
            rx = re.compile(r"^((?:service|task|tty)[ \t]+%s)(?=[ \t])" % re.escape(unit), re.M)
            text, n = rx.subn(lambda m: m.group(1) + " " + opts, text)
            if n != 1:
                raise ValueError("check %s: no unit %s in the table" % (c.name, unit))
        if c.table:
            text += "\n# added by check %s\n%s\n" % (c.name, c.table.strip())
    return text


def files(checks):
    out = {}
    for c in checks:
        out.update(c.files)
    return out


# ---------------------------------------------------------------- helpers

def cgroup(s, pid):
    """The cgroup v2 path of a process, from /proc/PID/cgroup (`0::PATH`)."""
    out = s.ssh("cat /proc/%d/cgroup" % pid).strip()
    s.check(out.startswith("0::"), "/proc/%d/cgroup: %r" % (pid, out))
    return out[3:]


def comm(s, pid):
    return s.ssh("cat /proc/%d/comm" % pid).strip()


def in_own_cgroup(s, name, pid):
    """PID is in /sys/fs/cgroup/services/NAME, and listed there."""
    cg = cgroup(s, pid)
    s.check(cg == "/services/%s" % name, "%s: PID %d is in %s, not /services/%s"
            % (name, pid, cg, name))
    procs = s.ssh("cat /sys/fs/cgroup/services/%s/cgroup.procs" % name).split()
    s.check(str(pid) in procs, "%s: PID %d not in services/%s/cgroup.procs %s"
            % (name, pid, name, procs))


def restarted(s, name, old):
    """Waits until unit NAME runs again with a PID other than `old`; the new PID."""
    def new_pid():
        u = s.units().get(name, {})
        return u.get("pid") if u.get("state") == "running" and u.get("pid") not in (0, old) \
            else None
    return s.poll(new_pid, 60, "%s to run again with a new PID" % name)


# ---------------------------------------------------------------- today

@check("ssh-login", "ssh from the host logs in as root and runs `pinit status`, "
       "which lists every unit of the table")
def ssh_login(s):
    out = s.ssh("pinit status")
    s.save("status.txt", out)
    for name in list(SERVICES) + list(TASKS):
        s.check(re.search(r"^%s\s" % re.escape(name), out, re.M),
                "`pinit status` has no line for %s:\n%s" % (name, out))


@check("pid1", "PID 1 is pinit from /sbin/init, reached through initramfs-tools; "
       "/ is the ext4 disk, read-write; records PID 1's Rss")
def pid1(s):
    s.ssh("cmp /proc/1/exe /sbin/init")
    s.check(s.run("test -e /sbin/init.debian && cmp -s /sbin/init.debian /sbin/init")
            .returncode != 0, "/sbin/init is Debian's own init")
    c = s.console.text()
    ramfs = c.find("Begin: Mounting root file system")
    banner = c.find("pinit: ")
    s.check(ramfs >= 0, "initramfs-tools' 'Begin: Mounting root file system' not on the console")
    s.check(banner > ramfs, "pinit's first line does not follow initramfs-tools' lines")
    mounts = s.ssh("cat /proc/mounts")
    s.save("mounts.txt", mounts)
    s.check(re.search(r"^/dev/vda / ext4 rw[, ]", mounts, re.M),
            "/ is not /dev/vda ext4 rw:\n%s" % mounts)
    m = re.search(r"^Rss:\s+(\d+) kB", s.ssh("cat /proc/1/smaps_rollup"), re.M)
    s.check(m, "no Rss in /proc/1/smaps_rollup")
    s.metric("pid1_rss_kib", int(m.group(1)))


@check("kernel", "the guest runs the root's cloud kernel, of the release tests/qemu "
       "boots for x86_64 (fetch.py)")
def kernel(s):
    running = s.ssh("uname -r").strip()
    m = re.search(r"release (\S+)", fetch.ensure("x86_64")["versions"].read_text())
    s.check(m, "no kernel release in tests/qemu's versions file")
    s.check(running == m.group(1), "the guest runs %s, tests/qemu boots %s"
            % (running, m.group(1)))


@check("ready", "every daemon running (the sd_notify ones after READY=1: `pinit boot` "
       "has their ready time), every task exited 0")
def ready(s):
    units = s.units()
    for name in SERVICES:
        u = units.get(name, {})
        s.check(u.get("state") == "running" and u.get("pid", 0) > 0,
                "%s is not running: %s" % (name, u))
    for name in TASKS:
        u = units.get(name, {})
        s.check(u.get("state") in DONE and u.get("last") == "exit:0",
                "task %s did not exit 0: %s" % (name, u))
        s.check(u.get("memory_bytes") is None,
                "task %s is done, yet shows memory %s" % (name, u.get("memory_bytes")))
    boot = {b["unit"]: b for b in json.loads(s.ssh("pinit boot --json"))}
    for name in NOTIFY:
        b = boot.get(name, {})
        s.check(b.get("ready_ms") is not None and b.get("started_ms") is not None,
                "%s: no ready time in `pinit boot`: %s" % (name, b))


@check("cgroups", "each daemon's main process is the daemon (/proc/PID/comm) and "
       "lives in /sys/fs/cgroup/services/NAME (/proc/PID/cgroup, cgroup.procs)")
def cgroups(s):
    units = s.units()
    for name, want in SERVICES.items():
        pid = units[name]["pid"]
        got = comm(s, pid)
        s.check(got == want, "%s: PID %d is %r, not %r" % (name, pid, got, want))
        in_own_cgroup(s, name, pid)


@check("run-dirs", "each daemon's runtime-dir= is /run/NAME with its owner and mode "
       "(stat); cron's environment has /etc/default/cron's READ_ENV (env-file=; not "
       "sshd's: its proctitle overwrites the block /proc/PID/environ reads)")
def run_dirs(s):
    for unit, (name, owner, mode) in RUN_DIRS.items():
        got = s.ssh("stat -c '%%U %%a' /run/%s" % name).split()
        s.check(got == [owner, mode], "%s: /run/%s is %r, not %s %s"
                % (unit, name, got, owner, mode))
    env = s.ssh("tr '\\0' '\\n' < /proc/%d/environ" % s.unit("cron")["pid"]).split("\n")
    # Debian's file says READ_ENV="yes": the quotes are the file's, not the value's.
    s.check(s.run("grep -qx 'READ_ENV=\"yes\"' /etc/default/cron").returncode == 0,
            "/etc/default/cron does not say READ_ENV=\"yes\"")
    s.check("READ_ENV=yes" in env, "cron's environment has no READ_ENV=yes: %r" % env)


@check("redis", "redis answers `redis-cli ping` with PONG")
def redis(s):
    out = s.ssh("redis-cli ping").strip()
    s.check(out == "PONG", "redis-cli ping: %r" % out)


@check("dbus", "the system bus answers ListNames (dbus-send --system)")
def dbus(s):
    out = s.ssh("dbus-send --system --print-reply --dest=org.freedesktop.DBus / "
                "org.freedesktop.DBus.ListNames")
    s.check('string "org.freedesktop.DBus"' in out, "ListNames:\n%s" % out)


@check("dbus-socket", "dbus-daemon takes /run/dbus/system_bus_socket from PID 1 "
       "(listen=, --address=systemd:): the listening socket is among PID 1's fds and is "
       "dbus-daemon's fd 3, with LISTEN_PID and LISTEN_FDS; after `kill -9` of dbus-daemon "
       "a `dbus-send --system` made at once is answered by the restarted daemon, on the "
       "same socket")
def dbus_socket(s):
    path = "/run/dbus/system_bus_socket"

    def listening():
        # /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path;
        # flags 00010000 (__SO_ACCEPTCON) is the listening one (accepted
        # connections show the path too).
        inos = s.ssh("awk '$4 == \"00010000\" && $8 == \"%s\" {print $7}' /proc/net/unix"
                     % path).split()
        s.check(len(inos) == 1, "listening sockets at %s: %r" % (path, inos))
        return "socket:[%s]" % inos[0]

    sock = listening()
    held = s.ssh("for f in /proc/1/fd/*; do readlink $f; done").split()
    s.check(sock in held, "PID 1 does not hold %s (%s)" % (path, sock))
    old = s.units()["dbus"]["pid"]
    fd3 = s.ssh("readlink /proc/%d/fd/3" % old).strip()
    s.check(fd3 == sock, "dbus-daemon's fd 3 is %r, not %s" % (fd3, sock))
    env = s.ssh("tr '\\0' '\\n' < /proc/%d/environ" % old).split()
    for want in ("LISTEN_PID=%d" % old, "LISTEN_FDS=1"):
        s.check(want in env, "dbus-daemon's environment has no %s" % want)
    # Killed: the next client waits in PID 1's socket for the new daemon.
    out = s.ssh("kill -9 %d && dbus-send --system --print-reply --dest=org.freedesktop.DBus "
                "/ org.freedesktop.DBus.ListNames" % old)
    s.check('string "org.freedesktop.DBus"' in out, "ListNames after kill -9:\n%s" % out)
    new = restarted(s, "dbus", old)
    s.check(listening() == sock, "the socket changed with the restart")
    s.check(s.ssh("readlink /proc/%d/fd/3" % new).strip() == sock,
            "the restarted dbus-daemon's fd 3 is not %s" % sock)


@check("syslog", "`logger` reaches rsyslog's /var/log/syslog through /dev/log")
def syslog(s):
    token = "pinit-debian-test-%d" % time.monotonic_ns()
    s.ssh("logger -t pinit-test %s" % token)
    s.poll(lambda: s.run("grep -q %s /var/log/syslog" % token).returncode == 0, 30,
           "%s in /var/log/syslog" % token)


@check("redis-kill", "`kill -9` of redis' main process: pinit restarts it with a new "
       "PID, in services/redis, answering PONG")
def redis_kill(s):
    old = s.unit("redis")["pid"]
    s.ssh("kill -9 %d" % old)
    new = restarted(s, "redis", old)
    s.check(s.run("test -d /proc/%d" % old).returncode != 0, "PID %d still exists" % old)
    s.check(comm(s, new) == "redis-server", "PID %d is not redis-server" % new)
    in_own_cgroup(s, "redis", new)
    s.poll(lambda: s.run("redis-cli ping").stdout.strip() == "PONG", 30,
           "the restarted redis to answer PONG")


@check("cron-job", "cron runs a job of /etc/cron.d, and the job's process is in "
       "cron's cgroup, services/cron",
       files={"/etc/cron.d/pinit-test":
              "* * * * * root cat /proc/self/cgroup > /run/cron-stamp.tmp && "
              "mv /run/cron-stamp.tmp /run/cron-stamp\n"})
def cron_job(s):
    # cron starts jobs at the top of a minute.
    out = s.poll(lambda: s.run("cat /run/cron-stamp").stdout.strip()
                 if s.run("test -s /run/cron-stamp").returncode == 0 else None, 130,
                 "cron's job to write /run/cron-stamp")
    s.check(out == "0::/services/cron", "the job ran in %r" % out)


# ---------------------------------------------------------------- issue 14

# Issue 14 point 1: Debian's stock redis.conf as it is (`daemonize yes`,
# a pidfile), on another port, its pidfile in a runtime directory of its
# own that redis owns.
REDIS_FORKED = """
service redis-forked needs=network ready=forked \\
                 pidfile=/run/redis-forked/redis-server.pid user=redis group=redis \\
                 runtime-dir=redis-forked:0750 \\
                 -- /usr/bin/redis-server /etc/redis/redis.conf --port 6380 \\
                    --daemonize yes --supervised no \\
                    --pidfile /run/redis-forked/redis-server.pid \\
                    --logfile /var/log/redis/forked.log --dbfilename forked.rdb
"""


@check("redis-forked", "redis with `daemonize yes` and its pidfile: the PID in the "
       "pidfile is the unit's, in services/redis-forked, restarted after kill -9",
       table=REDIS_FORKED)
def redis_forked(s):
    s.check(s.run("grep -q '^daemonize yes' /etc/redis/redis.conf").returncode == 0,
            "Debian's redis.conf does not say `daemonize yes`")
    u = s.unit("redis-forked")
    s.check(u["state"] == "running", "redis-forked: %s" % u)
    pid = int(s.ssh("cat /run/redis-forked/redis-server.pid"))
    s.check(u["pid"] == pid, "pinit says PID %d, the pidfile %d" % (u["pid"], pid))
    s.check(comm(s, pid) == "redis-server", "PID %d is not redis-server" % pid)
    in_own_cgroup(s, "redis-forked", pid)
    s.check(s.ssh("redis-cli -p 6380 ping").strip() == "PONG", "no PONG on 6380")
    s.ssh("kill -9 %d" % pid)
    new = restarted(s, "redis-forked", pid)
    in_own_cgroup(s, "redis-forked", new)
    s.poll(lambda: s.run("cat /run/redis-forked/redis-server.pid").stdout.strip() == str(new),
           30, "the pidfile to name the new PID %d" % new)
    s.poll(lambda: s.run("redis-cli -p 6380 ping").stdout.strip() == "PONG", 30,
           "the restarted redis-forked to answer PONG")


# Issue 14 points 5, 7, 8: the root's /etc/fstab (the disk by its
# label, through the /dev/disk links initramfs-tools' udev made), its
# /etc/hostname, the random seed and `log syslog` (the table has them).
FSTAB = """# <file system>      <mount point> <type> <options>                 <dump> <pass>
LABEL=debian-root      /             ext4   defaults,errors=remount-ro 0      1
tmpfs                  /srv/scratch  tmpfs  nosuid,nodev,size=16m,mode=1777 0 0
/dev/nosuch            /mnt/absent   ext4   defaults,nofail           0      2
"""


@check("root-chores", "fstab: / remounted rw from its LABEL= line, a tmpfs with its "
       "flags in /proc/mounts, a nofail entry reported and skipped; the host name "
       "from /etc/hostname; the random seed file (0600, 512 bytes); pinit's own "
       "lines and a unit's output in rsyslog's /var/log/syslog",
       files={"/etc/fstab": FSTAB, "/etc/hostname": "debian-pinit\n"})
def root_chores(s):
    mounts = s.ssh("cat /proc/mounts")
    s.check(re.search(r"^/dev/vda / ext4 rw[, ]", mounts, re.M), "/ not rw:\n%s" % mounts)
    m = re.search(r"^tmpfs /srv/scratch tmpfs (\S+)", mounts, re.M)
    s.check(m and {"nosuid", "nodev", "size=16384k"} <= set(m.group(1).split(",")),
            "/srv/scratch in /proc/mounts: %s" % (m and m.group(0)))
    mode = s.ssh("stat -c %a /srv/scratch").strip()
    s.check(mode == "1777", "/srv/scratch has mode %s, not 1777" % mode)
    c = s.console.text()
    s.check(re.search(r"pinit: /etc/fstab:4: .*/dev/nosuch.*nofail", c),
            "no console line for the nofail entry of /etc/fstab line 4")
    s.check(s.ssh("uname -n").strip() == "debian-pinit", "host name %r" % s.ssh("uname -n"))
    st = s.ssh("stat -c '%a %s' /var/lib/pinit/random-seed").split()
    s.check(st == ["600", "512"], "the random seed file: %r" % st)
    s.poll(lambda: s.run("grep -q 'pinit\\[1\\]:' /var/log/syslog").returncode == 0, 30,
           "pinit's own lines (pinit[1]:) in /var/log/syslog")
    s.poll(lambda: s.run("grep -Eq 'sshd\\[[0-9]+\\]: Server listening' /var/log/syslog")
           .returncode == 0, 30, "sshd's output (sshd[PID]: Server listening) in /var/log/syslog")


@check("sshd-restart-keeps-sessions", "`pinit restart sshd` gives sshd a new PID and "
       "keeps another open ssh session alive (kill=main, in the table)")
def sshd_restart(s):
    session = s.popen("echo SESSION $$; exec sleep 600")
    try:
        line = session.stdout.readline()
        m = re.match(r"SESSION (\d+)", line)
        s.check(m, "the session did not start: %r" % line)
        shell = int(m.group(1))
        s.check(cgroup(s, shell) == "/services/sshd",
                "the session's shell %d is in %s" % (shell, cgroup(s, shell)))
        old = s.unit("sshd")["pid"]
        s.ssh("pinit restart sshd")
        new = restarted(s, "sshd", old)
        in_own_cgroup(s, "sshd", new)
        s.check(s.run("kill -0 %d" % shell).returncode == 0,
                "the session's process %d died with the restart" % shell)
        procs = s.ssh("cat /sys/fs/cgroup/services/sshd/cgroup.procs").split()
        s.check(str(shell) in procs and str(new) in procs,
                "services/sshd holds %r: not the old session %d beside the new sshd %d"
                % (procs, shell, new))
        s.check(session.poll() is None, "the host's ssh session ended (exit %s)"
                % session.returncode)
        s.ssh("true")  # and new logins work
    finally:
        session.kill()
        session.wait()


ONCE = """
task    once-stamp -- /bin/sh -c "echo run >> /run/once-stamp"
service once-user needs=once-stamp -- /bin/sleep infinity
"""


@check("start-keeps-done-tasks", "`pinit start` of a unit does not re-run the task it "
       "needs= that already exited 0", table=ONCE)
def start_keeps_done(s):
    runs = lambda: s.ssh("cat /run/once-stamp").split()  # noqa: E731
    s.check(runs() == ["run"], "once-stamp ran %d times at boot" % len(runs()))
    s.ssh("pinit stop once-user")
    s.poll(lambda: s.unit("once-user")["state"] == "stopped", 30, "once-user to stop")
    s.ssh("pinit start once-user")
    s.poll(lambda: s.unit("once-user")["state"] == "running", 30, "once-user to run")
    s.check(runs() == ["run"], "pinit start once-user re-ran once-stamp (%d runs)"
            % len(runs()))


# ---------------------------------------------------------------- the end

SHUTDOWN = [r"pinit: shutdown: poweroff requested",
            r"pinit: shutdown: sending SIGTERM to all processes",
            r"pinit: shutdown: syncing file systems",
            r"pinit: shutdown: unmounting file systems",
            r"pinit: shutdown: \d+ unmounted, \d+ remounted read-only, \d+ left as they were",
            r"pinit: shutdown: poweroff\r?\n",
            r"reboot: Power down"]


@check("poweroff", "`poweroff` over ssh: pinit's shutdown lines in order on the console, "
       "QEMU exits with the guest powered off", always=True)
def poweroff(s):
    s.run("poweroff", timeout=60)   # the session may die with sshd: any exit
    for line in SHUTDOWN:
        s.console.expect(line, 120)
    code = s.console.wait(60)
    s.check(code == 0, "the boot tool exited %s, not 0 (powered off)" % code)


@check("e2fsck", "after the poweroff the disk image's ext4 is clean: no journal left to "
       "recover (/ was unmounted or remounted read-only), `e2fsck -fn` finds nothing",
       always=True)
def e2fsck(s):
    s.check(s.console.proc.poll() is not None, "QEMU is still running")
    sb = disk.superblock(s.disk)
    s.check(sb.get("Filesystem state") == "clean", "Filesystem state: %s"
            % sb.get("Filesystem state"))
    s.check("needs_recovery" not in sb.get("Filesystem features", "").split(),
            "the journal needs recovery: / was not remounted read-only")
    code, out = disk.e2fsck(s.disk)
    s.check(code == 0, "e2fsck -fn exit %d:\n%s" % (code, out))
