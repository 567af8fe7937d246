"""Listening sockets across a live re-exec (issues 18 and 19), checked
from the kernel's side: a server written to sd_listen_fds(3) (progs
listen-fds) frozen with a client connecting, then `pinit reexec` with a
second client connecting meanwhile; an on-demand server that has not
run yet; cat as an accept=yes echo service with one instance running.
Afterwards every listening socket is the same inode in /proc/1/fd (never
closed, never bound again), both clients wait in its accept queue and
are answered by the server restarted after a SIGKILL, the echo instance
is the same process in the same echo/echo@N cgroup, still serves its
connection and is reaped when it ends, the on-demand server starts at
its first connection and answers it, and `pinit status` keeps the
counts."""

import checks

TABLE = """\
task    lo -- /sbin/ip link set lo up
service sl    listen=tcp:9000,name=web listen=unix:/run/sl.sock,name=ctl -- /usr/bin/listen-fds
service od    start=on-demand listen=tcp:9100,name=odweb listen=unix:/run/od.sock,name=odctl \\
              -- /usr/bin/listen-fds
service echo  accept=yes max-instances=2 listen=tcp:7 -- /bin/cat
tty     console tty=%s after=lo,sl -- /bin/sh -l
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

sleep 2
(echo one; sleep 30; echo later) | nc 127.0.0.1 7 > /tmp/e1 & c1=$!
sleep 2
echo "INST-BEFORE $(for d in $cg/echo/echo@*; do echo "$(basename $d)=$(cat $d/cgroup.procs)"; done)"
echo "INO-BEFORE $(inodes)"
old=$(cgp sl)
kill -STOP $old
connect tcp:127.0.0.1:9000 x > /tmp/k1 & k1=$!
sleep 2
(sleep 0.2; connect tcp:127.0.0.1:9000 y > /tmp/k2) & k2=$!
pinit reexec > /tmp/re.out 2>&1; echo "REEXEC rc=$? $(cat /tmp/re.out)"
sleep 2
echo "INO-AFTER $(inodes)"
echo "QUEUED $(queued 9000)"
echo "INST-AFTER $(for d in $cg/echo/echo@*; do echo "$(basename $d)=$(cat $d/cgroup.procs)"; done)"
pinit status echo
echo "ODSTATE $(pinit status od | awk '/state:/ {print $2}')"
echo "ODBEFORE [$(cgp od)]"
kill -KILL $old
wait $k1; wait $k2
echo "SLNEW $(cgp sl)"
echo "K1 $(cat /tmp/k1)"
echo "K2 $(cat /tmp/k2)"
echo "ODUNIX $(connect unix:/run/od.sock x)"
echo "ODCG $(cgp od)"
wait $c1
echo "ECHO1 [$(cat /tmp/e1 | tr '\n' ' ')]"
sleep 1
echo "ECHOLEFT [$(cgp echo)] $(ls -d $cg/echo/echo@* 2>/dev/null | wc -l)"
(echo two; sleep 1) | nc 127.0.0.1 7 > /tmp/e2
echo "ECHO2 [$(cat /tmp/e2)]"
echo "ZOMBIES [$(zombies)]"
echo SOCKETS-REEXEC-DONE
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
               progs=True)
    g.expect(r"SOCKETS-REEXEC-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    t.check("listen-fds: bad" not in text, "listen-fds refused what it was passed")
    checks.line(t, text, r"^REEXEC rc=0 pinit \S+ \(\S+\) is PID 1 again: 5 units handed over")

    # The same five sockets, each open in PID 1 (once) before and after.
    before = grab(r"INO-BEFORE (.*)").group(1).split()
    after = grab(r"INO-AFTER (.*)").group(1).split()
    t.check(len(before) == 5 and all(i.endswith(":1") for i in before),
            "PID 1's listening sockets before the re-exec: %r" % before)
    t.check(after == before, "the sockets after the re-exec %r are not those before %r"
            % (after, before))

    # Two clients wait in the frozen server's queue across the exec; the
    # server restarted after SIGKILL (by the new PID 1) answers both.
    t.check(grab(r"QUEUED (\d+)").group(1) == "2", "the two clients are not queued")
    new = grab(r"SLNEW (\d+) ?$").group(1)
    for k, word in (("K1", "x"), ("K2", "y")):
        t.check(grab(r"%s (.*)" % k).group(1) == "reply tcp:127.0.0.1:9000: web %s 2 web:ctl"
                % new, "the client made %s the re-exec" % ("before" if k == "K1" else "during"))

    # The echo instance: the same process in the same cgroup; served,
    # reaped, and the unit accepts again.
    inst = grab(r"INST-BEFORE (echo@\d+=\d+)$").group(1)
    t.check(grab(r"INST-AFTER (.*)").group(1) == inst, "the echo instance changed")
    grab(r"^  socket: +tcp:7 \(fd \d+, name echo, accepted 1\)$")
    grab(r"^  instances: 1 of 2$")
    t.check(grab(r"ECHO1 \[(.*)\]").group(1).split() == ["one", "later"],
            "the instance did not serve its connection across the re-exec")
    t.check(grab(r"ECHOLEFT (.*)").group(1) == "[] 0", "the instance was not reaped")
    t.check(grab(r"ECHO2 \[(.*)\]").group(1) == "two", "no instance after the re-exec")

    # On demand: still listening, nothing ran; the first connection
    # starts it.
    t.check(grab(r"ODBEFORE \[(.*)\]").group(1) == "", "od ran before its first connection")
    t.check(grab(r"ODSTATE (.*)").group(1) == "listening", "od is not listening")
    m = grab(r"ODUNIX reply unix:/run/od.sock: odctl (\d+) 2 odweb:odctl")
    t.check(grab(r"ODCG ([\d ]*)").group(1).split() == [m.group(1)],
            "the on-demand server is not in its cgroup")
    t.check(grab(r"ZOMBIES \[(.*)\]").group(1) == "", "zombies left")
