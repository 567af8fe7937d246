"""Issue 13 point 3: no file pinit opens can hang it. /etc/pinit.conf as
a FIFO (no writer ever comes), and `pinit.conf=` naming a symlink to a
tty, are refused as not regular files, and the compiled-in board runs,
as with any other bad table. Before the fix PID 1 blocked for ever in
open(2) of the FIFO."""

import re

# An earlier stage (or a careless integrator) leaves a FIFO and a
# symlink to a tty where pinit looks for its table.
INIT = """\
#!/bin/sh
rm -f /etc/pinit.conf
mkfifo /etc/pinit.conf
ln -s /dev/%s /etc/tty.conf
exec /sbin/init
"""

PROFILE = r"""
n=0
while [ -z "$(cat /sys/fs/cgroup/services/syslogd/cgroup.procs 2>/dev/null)" ] && [ $n -lt 100 ]; do
  sleep 0.1; n=$((n+1))
done
for d in /sys/fs/cgroup/services/*/; do
  echo "UNIT $(basename $d) $(cat $d/cgroup.procs | wc -l)"
done
echo "HOSTNAME $(hostname)"
poweroff
"""


def board_runs(t, g, path):
    m = g.expect(r"HOSTNAME (\S+)\r?\n", 90)
    t.check(m.group(1) == "pinit-qemu", "hostname %s: not the board's table" % m.group(1))
    text = g.text().replace("\r", "")
    t.check(re.search(r"UNIT syslogd [1-9]", text) is not None,
            "the board's syslogd is not running")
    t.check(re.search(r"%s: not a regular file" % re.escape(path), text) is not None,
            "no console line says %s is not a regular file" % path)
    t.check(g.wait(90) == 0, "the guest did not power off")


def run(t):
    init = INIT % t.tty.removeprefix("/dev/")
    g = t.boot(files={"/init": (init, 0o755), "/etc/profile": PROFILE}, timeout=180)
    board_runs(t, g, "/etc/pinit.conf")
    g = t.boot(files={"/init": (init, 0o755), "/etc/profile": PROFILE}, timeout=180,
               append="pinit.conf=/etc/tty.conf")
    board_runs(t, g, "/etc/tty.conf")
