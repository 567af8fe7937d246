"""runit as PID 1 (issue 7): Debian's runit and runit-init packages,
dynamically linked with glibc.

The kernel runs /init -> /sbin/init -> /lib/runit/runit-init (the
runit-init package's link), which, being PID 1, execs /sbin/runit.
runit stays PID 1: it runs /etc/runit/1 and waits for it, then
/etc/runit/2, which execs runsvdir on /etc/service; runsvdir starts a
runsv per service directory, and runsv runs the directory's ./run and
restarts it. The three stages are written here: Debian's run its sysv
scripts (initscripts, insserv) and gettys, none of which the images have.
"""

import os

import debs
import inits

PACKAGES = ("runit", "runit-init")
# Everything of runit's that runs: PID 1 (and runit-init before it), the
# scanner and one runsv per service.
BINARIES = ("/lib/runit/runit-init", "/sbin/runit", "/usr/bin/runsvdir", "/usr/bin/runsv")
SERVICES = "/etc/service"
PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH\n"


class Runit(inits.Peer):
    name = "runit"
    # One command: the guest scripts split $TREE into words, no `;`.
    wall_restarts = 30          # 1 s each in real time
    tree = "pidof runit runsvdir runsv"

    def __init__(self):
        super().__init__()
        self.binaries = {}
        self.root = {}

    def prepare(self, arch):
        super().prepare(arch)
        runit, runit_init = (debs.package(arch, p) for p in PACKAGES)
        self.binaries[arch] = debs.closure(
            arch, {b: runit / b.lstrip("/") for b in BINARIES}, [runit, debs.package(arch, "libc6")])
        links = {"/sbin/init": os.readlink(runit_init / "sbin" / "init"), "/init": "/sbin/init"}
        self.root[arch] = debs.install(debs.CACHE / arch / "root-runit", self.binaries[arch], links)

    def describe(self, arch):
        return "runit %s, runit-init %s: Debian's dynamically linked build, glibc (libc6 %s)" % (
            debs.version(arch, "runit"), debs.version(arch, "runit-init"),
            debs.version(arch, "libc6"))

    def disk(self, arch):
        return sorted(self.binaries[arch].items())

    def files(self, workload):
        """The stages and a service directory per service."""
        one = "#!/bin/sh\n# runit stage 1: the API file systems.\n" + self.MOUNTS
        two = "#!/bin/sh\n# runit stage 2: the supervision tree.\n" + PATH
        if workload.oneshot:
            two += "/bin/sh %s &\n" % inits.command([workload.oneshot])
        two += "exec runsvdir -P %s\n" % SERVICES
        # Reached only when stage 2 ends (a shutdown; not in the bench):
        # runsv stops its service on SIGTERM, then exits.
        three = ("#!/bin/sh\n# runit stage 3: stop the services.\n" + PATH +
                 "killall -TERM runsv\nwhile pidof runsv >/dev/null; do sleep 0.1; done\n")
        out = {"/etc/runit/1": (one, 0o755), "/etc/runit/2": (two, 0o755),
               "/etc/runit/3": (three, 0o755)}
        for s in workload.services:
            out["%s/%s/run" % (SERVICES, s.name)] = (
                "#!/bin/sh\nexec %s\n" % inits.command(s.argv), 0o755)
        return out

    def image(self, arch, workload, out, workdir):
        self.base_image(arch, workload, out, workdir, self.files(workload), [self.root[arch]])

    def restart_policy(self, fast):
        if fast:
            return ("no immediate restart: runsv sleeps 1 s (`sleep(1)` in runsv.c) before "
                    "restarting a service that ran for less than 1 s")
        return "the same: 1 s after a run shorter than 1 s, at once after a longer one"
