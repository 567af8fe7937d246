"""What the guests run, independent of the init: services, a one-shot
measurement script, and the files they need.

An init turns a Workload into its own configuration (inits.py); the
measurement itself happens inside the guest, in busybox sh scripts
(guest/*.sh) that print `BENCH KEY VALUE...` lines on the console and
`BENCH END` when they are done. `parse()` turns those lines into a dict.

The programs come from tests/qemu/progs (installed as /usr/bin/NAME):
`stamp` (a service that appends its first CLOCK_BOOTTIME reading to a
file, then sleeps), `crashloop` (a service that records its start and
exit times and crashes at once; hooks run a script at chosen runs) and
`orphans`.
"""

from dataclasses import dataclass, field
from pathlib import Path

GUEST = Path(__file__).resolve().parent / "guest"
OUT = "/bench/out"           # in the image's root (ramfs): every init has it
RECORD = 42                  # bytes per crashloop record


@dataclass
class Service:
    """A long-running service. `fast_restart`: restart at once after a
    crash, without the init's back-off, where the init can do that
    (pinit: restart-max=0)."""
    name: str
    argv: list
    fast_restart: bool = False


@dataclass
class Workload:
    """One boot's worth of work.

    services: started by the init at boot, supervised, restarted;
    oneshot: a guest path run once after the services were started (the
        init's "run once" mechanism: a pinit task, an inittab `once`...),
        or None when a service's hook does the measuring;
    files: {guest path: (text, mode)} added to the image;
    icount: boot with `-icount shift=0` (guest time counts instructions);
    timeout: seconds of wall clock for the whole boot."""
    name: str
    kind: str                       # start | restart | backoff
    services: list
    oneshot: str = None
    files: dict = field(default_factory=dict)
    icount: bool = True
    timeout: float = 300
    params: dict = field(default_factory=dict)


def script(body, **env):
    """A guest script: variables, then guest/lib.sh, then guest/BODY."""
    head = ["#!/bin/sh"]
    for k, v in env.items():
        head.append("%s='%s'" % (k, str(v).replace("'", "'\\''")))
    head.append(". /bench/lib.sh")
    return ("\n".join(head) + "\n" + (GUEST / body).read_text(), 0o755)


def common_files(tree):
    return {"/bench/lib.sh": ((GUEST / "lib.sh").read_text(), 0o644),
            OUT + "/.keep": ("", 0o644)}


def start(n, tree, orphans=0, icount=True):
    """`n` stamp services; the one-shot waits for their stamps, then reads
    PID 1's memory and, with `orphans`, times that many orphans."""
    services = [Service("s%02d" % i, ["/usr/bin/stamp", OUT + "/stamps", "s%02d" % i])
                for i in range(n)]
    files = common_files(tree)
    files["/bench/start.sh"] = script("start.sh", N=n, ORPHANS=orphans, TREE=tree)
    name = "start-%d%s" % (n, "" if icount else "-wall")
    return Workload(name, "start", services, oneshot="/bench/start.sh", files=files,
                    icount=icount, timeout=240, params={"n": n, "orphans": orphans})


def restart(tree, runs=1000, more=0, fast=True, icount=True):
    """One service that crashes at once, `runs` times, its restart gaps
    recorded; with `more`, a hook then reads PID 1's memory and the loop
    goes on for `more` restarts before the last reading. Without `fast`,
    the init's default restart policy (back-off)."""
    mid = runs + 1 if more else 0
    end = runs + 1 + (more + 1 if more else 0)
    argv = ["/usr/bin/crashloop", OUT + "/crash.log", "%d:/bench/end.sh" % end]
    if mid:
        argv.append("%d:/bench/mid.sh" % mid)
    files = common_files(tree)
    files["/bench/end.sh"] = script("restart-end.sh", MID=mid, END=end, TREE=tree)
    files["/bench/mid.sh"] = script("restart-mid.sh", MID=mid, END=end, TREE=tree)
    kind = "restart" if fast else "backoff"
    name = "%s-%d%s%s" % (kind, runs, "+%d" % more if more else "", "" if icount else "-wall")
    # Wall-clock budget: a TCG restart costs 5-15 ms of host time with
    # pinit, about 40-50 ms with runit, s6 and systemd (a dynamic exec or
    # more). Without icount an init's built-in restart delay is real time
    # too: busybox init, runsv and s6-supervise wait 1 s every time.
    timeout = 240 + (runs + more) * (0.1 if icount else 1.1)
    return Workload(name, kind, [Service("crash", argv, fast_restart=fast)],
                    files=files, icount=icount, timeout=timeout,
                    params={"runs": runs, "more": more, "mid": mid, "end": end})


def parse(text):
    """The `BENCH` lines of a console log: {key: [rest of line, ...]}."""
    out = {}
    for line in text.replace("\r", "").splitlines():
        i = line.find("BENCH ")
        if i < 0:
            continue
        words = line[i + 6:].split(None, 1)
        if not words:
            continue
        out.setdefault(words[0], []).append(words[1] if len(words) > 1 else "")
    return out


def fields(text):
    """`Rss=244 Pss=240 ...` to {"Rss": 244, ...}."""
    out = {}
    for w in text.split():
        k, _, v = w.partition("=")
        if v.isdigit():
            out[k] = int(v)
    return out
