"""Issue 14 point 7: logging without holes. With `log syslog` a unit's
lines reach busybox syslogd through /dev/log, tagged with the unit's
name and PID, and so do pinit's own lines (`pinit[1]:`); while syslogd
is stopped they go to the kernel log instead and back to syslogd once it
runs again, one console line at each change. pinit's own lines are in the
kernel log (dmesg) and on the console once, not twice. A `log=kmsg`
line of 700 bytes is one record, whole (it was cut at 240); one of 2000
bytes is split into marked pieces that add up to it. `pinit log nosuch`
exits 3."""

import re

import checks

TABLE = r"""
log syslog
service syslogd log=kmsg -- /sbin/syslogd -n -O /run/messages
service talker after=syslogd -- /bin/sh -c "while [ ! -S /dev/log ]; do sleep 0.1; done; echo hello-syslog; while :; do if [ -f /run/say ]; then cat /run/say; rm /run/say; fi; sleep 0.2; done"
service longline log=kmsg -- /bin/sh -c "printf '%%0700d\n' 7; printf '%%02000d\n' 2; exec sleep 1000"
tty     console tty=%s after=talker,longline -- /bin/sh -l
"""

PROFILE = r"""
wait_for() { i=0; while ! grep -q "$1" "$2" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; }
pidof_unit() { pinit status $1 --json | sed 's/.*"pid":\([0-9]*\).*/\1/'; }
say() { echo "$1" > /run/say; }
wait_for hello-syslog /run/messages
echo "TALKER $(pidof_unit talker)"
echo "SYSLOG-HELLO $(grep -c 'daemon.info talker\['$(pidof_unit talker)'\]: hello-syslog$' /run/messages)"
echo "KMSG-HELLO $(dmesg | grep -c 'hello-syslog')"
pinit restart talker; wait_for hello-syslog.*hello-syslog /run/messages
wait_for 'pinit\[1\]: talker: started' /run/messages
echo "SYSLOG-OWN $(grep -c 'pinit\[1\]: talker: started' /run/messages)"
echo "KMSG-OWN $(dmesg | grep -c 'pinit: talker: started')"
pinit stop syslogd; sleep 1
say fallback-line; sleep 2
echo "KMSG-FALLBACK $(dmesg | grep -c 'talker\['$(pidof_unit talker)'\]: fallback-line$')"
pinit start syslogd; i=0; while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; sleep 1
say back-line; wait_for back-line /run/messages
echo "SYSLOG-BACK $(grep -c 'talker\['$(pidof_unit talker)'\]: back-line$' /run/messages)"
echo "LOG-BEGIN"; pinit log longline; echo "LOG-END"
pinit log nosuch; echo "NOSUCH rc=$?"
echo SYSLOG-DONE
poweroff
"""


def run(t):
    g = t.boot(files={"/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE}, timeout=240)
    g.expect(r"SYSLOG-DONE", 200)
    code = g.wait(90)
    text = g.text().replace("\r", "")

    def grab(pattern):
        return checks.line(t, text, pattern)

    grab(r"^TALKER \d+$")
    first = grab(r"^pinit: log: /dev/log takes unit output$").start()
    refused = grab(r"^pinit: log: /dev/log refuses unit output").start()
    t.check(first < refused, "a refusal was announced before /dev/log took a line")
    grab(r"^SYSLOG-HELLO 1$")
    grab(r"^KMSG-HELLO 0$")
    grab(r"^SYSLOG-OWN [1-9]")
    grab(r"^KMSG-OWN [1-9]")
    grab(r"^pinit: log: /dev/log refuses unit output \((ECONNREFUSED|ENOENT)\): it goes to the kernel log")
    grab(r"^KMSG-FALLBACK 1$")
    grab(r"^pinit: log: /dev/log takes unit output again$")
    grab(r"^SYSLOG-BACK 1$")
    grab(r"^pinit: nosuch: no such unit$")
    grab(r"^NOSUCH rc=3$")
    # On the console once each, never echoed by the kernel with a stamp.
    t.check(len(re.findall(r"^pinit: talker: started", text, re.M)) == 2,
            "pinit: talker: started should be on the console twice (boot, restart)")
    t.check(re.search(r"^\[ *\d+\.\d+\] pinit: ", text, re.M) is None,
            "the kernel printed pinit's own lines on the console again")
    # The long lines: whole up to the record's limit, split and marked beyond.
    log = re.search(r"^LOG-BEGIN\n(.*?)^LOG-END$", text, re.M | re.S).group(1)
    lines = [l.split(": ", 1)[1] for l in log.splitlines() if "longline[" in l]
    t.check("0" * 699 + "7" in lines, "the 700-byte line is not whole: %r" % [len(l) for l in lines])
    pieces = [l for l in lines if l.endswith("...") or l.startswith("...")]
    t.check(len(pieces) == 3, "the 2000-byte line: %r" % [len(l) for l in lines])
    t.check(pieces[0].endswith("...") and not pieces[0].startswith("..."), "first piece %r" % pieces[0][:20])
    t.check(pieces[1].startswith("...") and pieces[1].endswith("..."), "middle piece")
    t.check(pieces[2].startswith("...") and not pieces[2].endswith("..."), "last piece")
    whole = pieces[0][:-3] + pieces[1][3:-3] + pieces[2][3:]
    t.check(whole == "0" * 1999 + "2", "the pieces do not add up: %d bytes" % len(whole))
    t.check(code == 0, "the guest did not power off (%s)" % code)
