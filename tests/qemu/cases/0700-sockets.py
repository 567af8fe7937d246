"""Socket activation (listen=, issue 18), checked from the kernel's and
the clients' side: busybox httpd -i and nc (a relay to it) as accept=yes
services; cat as an echo service held to max-instances=2, a third
connection waiting in the backlog until one ends, each instance in its
own cgroup below the unit's and reaped; a server written to
sd_listen_fds(3) (progs listen-fds: it checks LISTEN_PID, LISTEN_FDS and
LISTEN_FDNAMES itself) answering on a TCP and a Unix socket; the same
server frozen while a client connects, then killed with SIGKILL: the
connection waits in PID 1's socket and the restarted server answers it;
an on-demand server that does not run until its first connection, which
it answers."""

import re

import checks

TABLE = """\
task    lo -- /sbin/ip link set lo up
service web   accept=yes listen=tcp:80 -- /usr/sbin/httpd -i -h /www
service relay accept=yes listen=tcp:8080 -- /usr/bin/nc 127.0.0.1 80
service echo  accept=yes max-instances=2 listen=tcp:7 -- /bin/cat
service sl    listen=tcp:9000,name=web listen=unix:/run/sl.sock,name=ctl -- /usr/bin/listen-fds
service od    start=on-demand listen=tcp:9100,name=odweb listen=unix:/run/od.sock,name=odctl \\
              -- /usr/bin/listen-fds
tty     console tty=%s after=lo,sl -- /bin/sh -l
"""

PAGE = "hello from busybox httpd\n"

PROFILE = r"""
# The processes of a unit's cgroup and of every cgroup below it.
cgp() {
  for f in $(find /sys/fs/cgroup/services/$1 -name cgroup.procs 2>/dev/null); do cat $f; done | tr '\n' ' '
}
# The PIDs holding the listening TCP socket of port $1 (hex in /proc/net).
holders() {
  hex=$(printf '%04X' $1)
  for ino in $(awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6); do
    for f in /proc/[0-9]*/fd/*; do
      [ "$(readlink $f)" = "socket:[$ino]" ] && echo $f | cut -d/ -f3
    done
  done | sort -un | tr '\n' ' '
}
# Connections waiting in the accept queue of port $1 (rx_queue of LISTEN).
queued() {
  hex=$(printf '%04X' $1)
  awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {split($5, q, ":"); print q[2] + 0}' /proc/net/tcp /proc/net/tcp6
}
zombies() {
  for s in /proc/[0-9]*/stat; do read a b c rest < $s; [ "$c" = Z ] && echo $a; done | tr '\n' ' '
}

echo "HOLD80 $(holders 80)"
echo "HTTP $(wget -q -O - http://127.0.0.1/index.html)"
echo "RELAY $(wget -q -O - http://127.0.0.1:8080/index.html)"

(echo one; sleep 60) | nc 127.0.0.1 7 > /tmp/e1 & c1=$!
(echo two; sleep 60) | nc 127.0.0.1 7 > /tmp/e2 & c2=$!
sleep 2
(echo three; sleep 60) | nc 127.0.0.1 7 > /tmp/e3 & c3=$!
sleep 3
echo "ECHO [$(cat /tmp/e1)] [$(cat /tmp/e2)] [$(cat /tmp/e3)]"
echo "ECHOQ $(queued 7)"
pinit status echo
for d in /sys/fs/cgroup/services/echo/*/; do
  for p in $(cat $d/cgroup.procs); do echo "INST $(basename $d) $p $(cat /proc/$p/comm)"; done
done
kill $c1
sleep 3
echo "ECHO3 [$(cat /tmp/e3)]"
echo "ECHOPROCS $(cgp echo)"
kill $c2 $c3
sleep 3
echo "ECHOLEFT [$(cgp echo)] [$(cgp web)] [$(cgp relay)]"

echo "SLCG $(cgp sl)"
echo "SLTCP $(connect tcp:127.0.0.1:9000 x)"
echo "SLUNIX $(connect unix:/run/sl.sock x)"
echo "SLHOLD $(holders 9000)"
old=$(cgp sl)
kill -STOP $old
connect tcp:127.0.0.1:9000 x > /tmp/k & kp=$!
sleep 2
echo "KILLQ $(queued 9000)"
kill -KILL $old
wait $kp
echo "KILLED $old $(cat /tmp/k)"
echo "SLCG2 $(cgp sl)"

echo "ODBEFORE [$(cgp od)] $(holders 9100)"
pinit status od
echo "ODUNIX $(connect unix:/run/od.sock x)"
echo "ODTCP $(connect tcp:127.0.0.1:9100 x)"
echo "ODCG $(cgp od)"
echo "ZOMBIES [$(zombies)]"
echo SOCKETS-DONE
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE,
                      "/www/index.html": PAGE},
               progs=True)
    g.expect(r"SOCKETS-DONE", 240)
    t.check(g.wait(90) == 0, "the guest did not power off")
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    t.check("listen-fds: bad" not in text, "listen-fds refused what it was passed")

    # accept=yes: the port is PID 1's alone; httpd -i answers, and through
    # nc relaying to it.
    t.check(grab(r"HOLD80 ([\d ]*)").group(1).split() == ["1"],
            "port 80 is not held by PID 1 alone")
    t.check(grab(r"HTTP (.*)").group(1) == PAGE.strip(), "httpd -i did not serve the page")
    t.check(grab(r"RELAY (.*)").group(1) == PAGE.strip(), "nc did not relay to httpd")

    # max-instances=2: two served, the third waits in the backlog.
    m = grab(r"ECHO \[(.*)\] \[(.*)\] \[(.*)\]")
    t.check(m.groups() == ("one", "two", ""),
            "with max-instances=2 the echoes were %r" % (m.groups(),))
    t.check(grab(r"ECHOQ (\d+)").group(1) == "1", "the third connection is not in the backlog")
    inst = re.findall(r"^INST (\S+) (\d+) (\S+)$", text, re.M)
    t.check(len(inst) == 2, "instances: %r" % inst)
    t.check(len({i[0] for i in inst}) == 2 and all(re.fullmatch(r"echo@\d+", i[0]) for i in inst),
            "each instance in its own cgroup echo/echo@N: %r" % inst)
    t.check(all(i[2] == "cat" for i in inst), "instances: %r" % inst)
    t.check(grab(r"ECHO3 \[(.*)\]").group(1) == "three",
            "the waiting connection was not served once an instance ended")
    t.check(len(grab(r"ECHOPROCS ([\d ]*)").group(1).split()) == 2, "not two instances after one ended")
    t.check(grab(r"ECHOLEFT (.*)").group(1) == "[] [] []", "instances left behind")

    # sd_listen_fds(3): fds 3 and 4, names in order, LISTEN_PID its own.
    sl = grab(r"SLCG (\d+) ?\n").group(1)
    t.check(grab(r"SLTCP (.*)").group(1) == "reply tcp:127.0.0.1:9000: web %s 2 web:ctl" % sl,
            "the TCP socket's answer")
    t.check(grab(r"SLUNIX (.*)").group(1) == "reply unix:/run/sl.sock: ctl %s 2 web:ctl" % sl,
            "the Unix socket's answer")
    t.check(sorted(grab(r"SLHOLD ([\d ]*)").group(1).split(), key=int) == ["1", sl],
            "port 9000 is held by other than PID 1 and the server")

    # Frozen, then killed with a client connecting: the connection waits
    # in PID 1's socket and the restarted server answers it.
    t.check(grab(r"KILLQ (\d+)").group(1) == "1", "the connection is not queued")
    m = grab(r"KILLED (\d+) +(.*)")
    new = grab(r"SLCG2 (\d+) ?\n").group(1)
    t.check(new != sl, "sl was not restarted")
    t.check(m.group(2) == "reply tcp:127.0.0.1:9000: web %s 2 web:ctl" % new,
            "the connection made while sl was killed: %r" % m.group(2))

    # On demand: nothing runs, PID 1 holds the socket; the first
    # connection starts the server, which answers it.
    t.check(grab(r"ODBEFORE (.*)").group(1).split() == ["[]", "1"],
            "the on-demand server ran before its first connection")
    m = grab(r"ODUNIX reply unix:/run/od.sock: odctl (\d+) 2 odweb:odctl")
    t.check(grab(r"ODTCP (.*)").group(1) == "reply tcp:127.0.0.1:9100: odweb %s 2 odweb:odctl"
            % m.group(1), "the TCP socket of the on-demand server")
    t.check(grab(r"ODCG ([\d ]*)").group(1).split() == [m.group(1)],
            "the on-demand server is not in its cgroup")
    t.check(grab(r"ZOMBIES \[(.*)\]").group(1) == "", "zombies left")
