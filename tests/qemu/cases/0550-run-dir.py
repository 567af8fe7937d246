"""Issue 13 point 10, as PID 1: an existing /run/pinit that is a symlink,
or a directory another user owns, is refused: pinit never binds its
control or readiness socket through it (what the kernel shows: the
target directory stays empty). An earlier stage (/init, a shell
script) mounts /run and plants it, then execs pinit. Today pinit takes
EEXIST from mkdir as success and binds both sockets inside."""

import re


INIT = """\
#!/bin/sh
mkdir -p /run
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -m 0777 /run/elsewhere
%s
exec /sbin/init
"""

TABLE = """\
service web -- /bin/sleep 1000
tty     console tty=%s stop-signal=HUP -- /bin/sh -l
"""

PROFILE = r"""
echo "PLANTED $(ls -ld /run/pinit | cut -c1) $(stat -c %u /run/pinit/. 2>/dev/null)"
echo "INSIDE [$(ls -A /run/elsewhere | tr '\n' ' ')]"
poweroff
"""

PLANTS = {
    "symlink": "ln -s /run/elsewhere /run/pinit",
    "foreign": "mkdir -m 0777 /run/pinit && chown 1000:1000 /run/pinit && "
               "rmdir /run/elsewhere && ln -s /run/pinit /run/elsewhere",
}


def run(t):
    for name, plant in PLANTS.items():
        g = t.boot(files={"/init": (INIT % plant, 0o755),
                          "/etc/pinit.conf": TABLE % t.tty, "/etc/profile": PROFILE},
                   timeout=180)
        inside = g.expect(r"INSIDE \[(.*)\]\r?\n", 90).group(1).strip()
        t.check(g.wait(90) == 0, "%s: the guest did not power off" % name)
        text = g.text().replace("\r", "")
        t.check(re.search(r"PLANTED [ld] ", text) is not None, "%s: nothing was planted" % name)
        t.check(inside == "", "%s /run/pinit: pinit made %s in it" % (name, inside))
        t.check(re.search(r"pinit: .*/run/pinit.*(symlink|owned)", text) is not None,
                "%s /run/pinit: not reported on the console" % name)
