"""Listening sockets across a crash of PID 1 (issues 18 and 19), with a
`--features test-panic` build as /sbin/pinit: `pinit panic` makes PID 1
panic with a sd_listen_fds(3) server (progs listen-fds) frozen and a
client queued in its socket. The new PID 1 has no hand-over: it finds
each unit's sockets again among the fds the old one left open. Checked
from the kernel's side: every listening socket is the same inode in
/proc/1/fd before and after, the queued client is answered by the server
restarted after SIGKILL, an on-demand server still starts at its first
connection, an accept=yes service still accepts, and its instance
serving a client across the panic is taken back, then reaped and its
cgroup removed."""

import checks
import qemu

TABLE = """\
task    lo -- /sbin/ip link set lo up
service sl    listen=tcp:9000,name=web listen=unix:/run/sl.sock,name=ctl -- /usr/bin/listen-fds
service od    start=on-demand listen=tcp:9100,name=odweb listen=unix:/run/od.sock,name=odctl \\
              -- /usr/bin/listen-fds
service echo  accept=yes max-instances=2 listen=tcp:7 -- /bin/cat
tty     console tty=%s stop-signal=HUP after=lo,sl -- /bin/sh -l
"""

PROFILE = r"""
cg=/sys/fs/cgroup/services
cgp() {
  for f in $(find $cg/$1 -name cgroup.procs 2>/dev/null); do cat $f; done | tr '\n' ' '
}
# The inode of the listening TCP socket of port $1, of Unix socket $1.
ino() {
  hex=$(printf '%04X' $1)
  awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 | head -n 1
}
uino() { awk -v p=$1 '$8 == p && $6 == "01" {print $7}' /proc/net/unix | head -n 1; }
# How many of PID 1's fds are socket inode $1.
pid1() { for f in /proc/1/fd/*; do readlink $f; done | grep -c "^socket:\[$1\]$"; }
inodes() {
  for i in $(ino 9000) $(uino /run/sl.sock) $(ino 9100) $(uino /run/od.sock) $(ino 7); do
    printf '%s:%s ' $i $(pid1 $i)
  done
}
queued() {
  hex=$(printf '%04X' $1)
  awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {split($5, q, ":"); print q[2] + 0}' /proc/net/tcp /proc/net/tcp6
}
zombies() {
  for s in /proc/[0-9]*/stat; do read a b c rest < $s; [ "$c" = Z ] && echo $a; done | tr '\n' ' '
}

answers() { i=0; while ! pinit status > /dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; }

sleep 2
echo "INO-BEFORE $(inodes)"
# An echo instance serving a client across the panic: its stdin a FIFO
# held open here until after it.
mkfifo /tmp/in
nc 127.0.0.1 7 < /tmp/in > /tmp/e1 & e1=$!
exec 3> /tmp/in
echo one >&3
sleep 1
echo "ECHOBEFORE $(cgp echo)"
old=$(cgp sl)
kill -STOP $old
connect tcp:127.0.0.1:9000 x > /tmp/k1 & k1=$!
sleep 2
pinit panic > /tmp/panic.out 2>&1; echo "PANIC rc=$?"
answers
sleep 1
echo "INO-AFTER $(inodes)"
echo "QUEUED $(queued 9000)"
echo "SLOLD $(cgp sl)"
echo "ODSTATE $(pinit status od | awk '/state:/ {print $2}') [$(cgp od)]"
kill -KILL $old
wait $k1
echo "SLNEW $(cgp sl)"
echo "K1 $(cat /tmp/k1)"
echo "ECHOINST $(pinit status echo | awk '/instances:/ {print $2, $3, $4}') [$(echo $(cgp echo))]"
exec 3>&-
wait $e1
sleep 1
echo "ECHO1 [$(cat /tmp/e1)]"
echo "ECHOLEFT [$(cgp echo)] [$(ls -d $cg/echo/echo@* 2>/dev/null)]"
echo "ODUNIX $(connect unix:/run/od.sock x)"
echo "ODCG $(cgp od)"
(echo two; sleep 1) | nc 127.0.0.1 7 > /tmp/e2
echo "ECHO2 [$(cat /tmp/e2)]"
echo "ZOMBIES [$(zombies)]"
echo SOCKETS-PANIC-DONE
poweroff
"""


def run(t):
    bomb = qemu.build_variant(t.arch, "test-panic", features=["test-panic"])
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE,
                      "/sbin/pinit": (bomb.read_bytes(), 0o755)},
               progs=True, timeout=300)
    g.expect(r"SOCKETS-PANIC-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    t.check("listen-fds: bad" not in text, "listen-fds refused what it was passed")
    grab(r"^a test build was asked to panic$")
    for unit, n in (("sl", 2), ("od", 2), ("echo", 1)):
        grab(r"pinit: %s: %d sockets taken back" % (unit, n))
    t.check("EADDRINUSE" not in text, "a socket was bound again")

    before = grab(r"INO-BEFORE (.*)").group(1).split()
    after = grab(r"INO-AFTER (.*)").group(1).split()
    t.check(len(before) == 5 and all(i.endswith(":1") for i in before),
            "PID 1's listening sockets before the panic: %r" % before)
    t.check(after == before, "the sockets after the panic %r are not those before %r"
            % (after, before))

    # The frozen server was taken back; killed, it is restarted by the
    # new PID 1 with the same socket, and answers the queued client.
    t.check(grab(r"QUEUED (\d+)").group(1) == "1", "the client is not queued")
    old = grab(r"SLOLD (\d+) ?$").group(1)
    new = grab(r"SLNEW (\d+) ?$").group(1)
    t.check(new != old, "sl was not restarted")
    t.check(grab(r"K1 (.*)").group(1) == "reply tcp:127.0.0.1:9000: web %s 2 web:ctl" % new,
            "the client queued across the panic")

    t.check(grab(r"ODSTATE (.*)").group(1) == "listening []", "od after the panic")

    # The echo instance running at the panic: taken back into the
    # instance table (status counts it), served its client to the end,
    # then reaped and its cgroup swept and removed.
    inst = grab(r"ECHOBEFORE (\d+) ?$").group(1)
    grab(r"pinit: echo: instance 0 taken back \(pid %s\)" % inst)
    t.check(grab(r"ECHOINST (.*)").group(1).strip() == "1 of 2 [%s]" % inst,
            "the instance after the panic")
    t.check(grab(r"ECHO1 \[(.*)\]").group(1) == "one", "the instance's client")
    t.check(grab(r"ECHOLEFT (.*)").group(1) == "[] []",
            "the instance's cgroup after its exit")
    m = grab(r"ODUNIX reply unix:/run/od.sock: odctl (\d+) 2 odweb:odctl")
    t.check(grab(r"ODCG ([\d ]*)").group(1).split() == [m.group(1)],
            "the on-demand server is not in its cgroup")
    t.check(grab(r"ECHO2 \[(.*)\]").group(1) == "two", "echo does not accept after the panic")
    t.check(grab(r"ZOMBIES \[(.*)\]").group(1) == "", "zombies left")
