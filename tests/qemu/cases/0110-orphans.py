"""Reaping: 10,000 orphans re-parented to PID 1 leave no zombie, and PID
1's Rss (smaps_rollup) is the same before and after, within 4 KiB.

Booted with `pinit.rescue`: PID 1 runs no units, only the rescue shell.
A warm-up of 10 orphans first maps the reaping code's pages of the
binary (fault-around maps text in 64 KiB windows on first use), so the
before/after figures compare PID 1's steady state; Anonymous (private)
memory is checked too."""

from checks import ZOMBIES

COUNT = 10000

PROFILE = ZOMBIES + r"""
rss() { while read -r k v u; do [ "$k" = Rss: ] && echo "$v"; done < /proc/1/smaps_rollup; }
anon() { while read -r k v u; do [ "$k" = Anonymous: ] && echo "$v"; done < /proc/1/smaps_rollup; }
orphans 10 > /dev/null
sleep 0.5
echo "ANON-BEFORE $(anon)"
echo "RSS-BEFORE $(rss)"
start=$(cut -d' ' -f1 /proc/uptime)
orphans %d
echo "ORPHANS-EXIT $? $start $(cut -d' ' -f1 /proc/uptime)"
settled
echo "RSS-AFTER $(rss)"
echo "ANON-AFTER $(anon)"
""" % COUNT


def run(t):
    g = t.boot(files={"/etc/profile": PROFILE}, progs=True, append="pinit.rescue")
    anon_before = int(g.expect(r"ANON-BEFORE (\d+)\r?\n", 60).group(1))
    before = int(g.expect(r"RSS-BEFORE (\d+)\r?\n", 60).group(1))
    g.expect(r"orphans: made %d" % COUNT, 120)
    m = g.expect(r"ORPHANS-EXIT (\d+) ([0-9.]+) ([0-9.]+)\r?\n", 10)
    t.check(m.group(1) == "0", "orphans exited %s" % m.group(1))
    t.metric("orphans_s", "%.1f" % (float(m.group(3)) - float(m.group(2))))
    z = g.expect(r"ZOMBIES (\d+)\r?\n", 30).group(1)
    t.check(z == "0", "%s zombies left (see ZOMBIE lines)" % z)
    after = int(g.expect(r"RSS-AFTER (\d+)\r?\n", 10).group(1))
    anon_after = int(g.expect(r"ANON-AFTER (\d+)\r?\n", 10).group(1))
    t.metric("anon_before_kib", anon_before)
    t.metric("anon_after_kib", anon_after)
    t.check(abs(anon_after - anon_before) <= 4,
            "PID 1 Anonymous %d kB before, %d kB after" % (anon_before, anon_after))
    t.metric("rss_before_kib", before)
    t.metric("rss_after_kib", after)
    t.check(abs(after - before) <= 4, "PID 1 Rss %d kB before, %d kB after" % (before, after))
    g.kill()
