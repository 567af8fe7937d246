# Start-up and footprint: run once, after the init started the $N stamp
# services (each appends `NAME SECONDS` to /bench/out/stamps first thing).

# Sleep first, so this script's own processes do not compete with the
# services' start (the figure is the services' own timestamps).
sleep 1
i=0
while [ "$(grep -c . /bench/out/stamps 2>/dev/null)" -lt "$N" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
while read -r name t; do say "stamp $name $t"; done < /bench/out/stamps
kernel_clock
footprint

# Reaping: $ORPHANS orphans re-parented to PID 1, timed on CLOCK_BOOTTIME.
if [ "$ORPHANS" -gt 0 ]; then
    say "orphans-before $(rollup 1)"
    stamp -x /bench/out/clock orphans-start
    orphans "$ORPHANS" >/dev/null
    rc=$?
    stamp -x /bench/out/clock orphans-exit
    z=$(zombies)
    stamp -x /bench/out/clock zombies-counted
    say "zombies-first $z"
    # The last orphans may still be on their way to PID 1: retry briefly.
    i=0
    while [ "$z" != 0 ] && [ $i -lt 20 ]; do
        sleep 0.1
        z=$(zombies)
        i=$((i + 1))
    done
    stamp -x /bench/out/clock zombies-settled
    say "orphans-rc $rc"
    say "zombies $z"
    # An init that runs services in cgroups (pinit, systemd) started this
    # script in one with the memory and pids controllers on, which charge
    # every fork and exit; the other inits leave everything in the root
    # cgroup. Time the same from the root cgroup, for the difference.
    cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
    if [ -n "$cg" ] && [ "$cg" != / ] && echo $$ >/sys/fs/cgroup/cgroup.procs; then
        say "orphans-root-from $cg"
        stamp -x /bench/out/clock orphans-root-start
        orphans "$ORPHANS" >/dev/null
        stamp -x /bench/out/clock orphans-root-exit
    fi
    while read -r name t; do say "clock $name $t"; done < /bench/out/clock
    say "orphans-after $(rollup 1)"
fi
say END
