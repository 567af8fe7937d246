"""s6 as PID 1 (issue 7): Debian's s6 package, dynamically linked with
skalibs (libskarnet) and glibc.

The kernel runs /init, a small sh stage 1: it mounts the API file
systems, copies the service directories to the scan directory on tmpfs
(/run/service: s6-svscan and s6-supervise keep their fifos and state
files there), starts the one-shot in the background and execs
s6-svscan, which stays PID 1: it starts an s6-supervise per service
directory, which runs the directory's ./run and restarts it, and reaps
every other process.
"""

import debs
import inits

# s6's Depends also name libs6 and libexecline: s6-svscan and
# s6-supervise load neither (see debs.closure), so they are not fetched.
PACKAGES = ("s6", "libskarnet2.13")
BINARIES = ("/usr/bin/s6-svscan", "/usr/bin/s6-supervise")
SOURCE = "/etc/s6/service"
SCAN = "/run/service"


class S6(inits.Peer):
    name = "s6"
    # One command: the guest scripts split $TREE into words, no `;`.
    wall_restarts = 30          # 1 s each in real time
    tree = "pidof s6-svscan s6-supervise"

    def __init__(self):
        super().__init__()
        self.binaries = {}
        self.root = {}

    def prepare(self, arch):
        super().prepare(arch)
        trees = [debs.package(arch, p) for p in PACKAGES + ("libc6",)]
        self.binaries[arch] = debs.closure(
            arch, {b: trees[0] / b.lstrip("/") for b in BINARIES}, trees)
        self.root[arch] = debs.install(debs.CACHE / arch / "root-s6", self.binaries[arch])

    def describe(self, arch):
        return "s6 %s, libskarnet2.13 %s: Debian's dynamically linked build, glibc (libc6 %s)" % (
            debs.version(arch, "s6"), debs.version(arch, "libskarnet2.13"),
            debs.version(arch, "libc6"))

    def disk(self, arch):
        return sorted(self.binaries[arch].items())

    def files(self, workload):
        """/init (stage 1) and a service directory per service."""
        init = ("#!/bin/sh\n# s6 stage 1, PID 1 until it execs s6-svscan.\n"
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH\n" + self.MOUNTS +
                "cp -a %s %s\n" % (SOURCE, SCAN))
        if workload.oneshot:
            init += "/bin/sh %s &\n" % inits.command([workload.oneshot])
        init += "exec s6-svscan %s\n" % SCAN
        out = {"/init": (init, 0o755)}
        for s in workload.services:
            out["%s/%s/run" % (SOURCE, s.name)] = (
                "#!/bin/sh\nexec %s\n" % inits.command(s.argv), 0o755)
        return out

    def image(self, arch, workload, out, workdir):
        self.base_image(arch, workload, out, workdir, self.files(workload), [self.root[arch]])

    def restart_policy(self, fast):
        if fast:
            return ("no immediate restart: when a service dies, s6-supervise schedules its "
                    "next start 1 s later (no setting for it)")
        return "the same 1 s every time, no back-off and no give-up"
