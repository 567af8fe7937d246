# Shared by the guest scripts of tests/qemu/bench (busybox sh). Output
# goes to the console as `BENCH KEY VALUE...` lines, which the host
# parses; nothing here depends on which init is PID 1.

exec >/dev/console 2>&1 </dev/null
say() { echo "BENCH $*"; }

# The fields of /proc/PID/smaps_rollup that the report uses, in kB.
rollup() {
    out=""
    while read -r k v u; do
        case "$k" in
        Rss:|Pss:|Pss_Anon:|Pss_File:|Pss_Shmem:|Anonymous:|Private_Dirty:|Private_Clean:|Shared_Clean:|Shared_Dirty:)
            out="$out ${k%:}=$v";;
        esac
    done < "/proc/$1/smaps_rollup"
    echo "$out"
}

# Of a process's memory, the part in shared libraries (mappings of a
# file named *.so*): glibc and friends for dynamically linked inits.
libshare() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { lib = ($6 ~ /\.so/); next }
         lib && $1 == "Rss:" { r += $2 }
         lib && $1 == "Pss:" { p += $2 }
         END { printf "Rss=%d Pss=%d\n", r, p }' "/proc/$1/smaps"
}

# Rss and Anonymous of each of a process's mappings (text, rodata, data,
# bss, stack), in kB: where its memory is.
mappings() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { m = $1 " " $2 " " ($6 == "" ? "-" : $6); next }
         $1 == "Rss:" { r = $2 }
         $1 == "Anonymous:" { if (r > 0) print m, "Rss=" r, "Anonymous=" $2 }' "/proc/$1/smaps"
}

# Processes in state Z (zombies), anywhere.
zombies() {
    n=0
    for f in /proc/[0-9]*/stat; do
        { read -r l < "$f"; } 2>/dev/null || continue
        s=${l##*)}; s=${s# }
        case "$s" in Z*) n=$((n + 1));; esac
    done
    echo "$n"
}

# Matches CLOCK_BOOTTIME with the kernel log's clock: a line written to
# /dev/kmsg carries both, so `Run /init as init process` (the kernel's
# hand-over to PID 1) can be placed on CLOCK_BOOTTIME for any init.
kernel_clock() {
    stamp -x /dev/kmsg bench-sync
    dmesg | grep -E 'Run .* as init process|bench-sync' | while read -r l; do say "kmsg $l"; done
}

# Memory of PID 1 and of the whole supervision tree ($TREE: the command
# that lists its pids, from the init's description), and PID 1's maps.
footprint() {
    say "uname $(uname -r)"
    say "smaps-pid1 $(rollup 1)"
    say "libs-pid1 $(libshare 1)"
    for p in $($TREE); do
        say "smaps-tree $p $(rollup "$p")"
        say "libs-tree $p $(libshare "$p")"
    done
    grep -q '\[heap\]' /proc/1/maps && say "heap yes" || say "heap no"
    while read -r l; do say "maps $l"; done < /proc/1/maps
    mappings 1 | while read -r l; do say "map-pid1 $l"; done
    say "procs $(ls -d /proc/[0-9]* | wc -l)"
}

# The gaps between a crashloop log's records: EXIT of one run to START
# of the next, in ns, 16 to a line, for the runs FIRST..LAST (1-based);
# a hook's record (EXIT 0) ends no gap.
gaps() {
    awk -v first="$2" -v last="$3" -v tag="$4" '
        NR > first && NR <= last + 1 && pe > 0 { g[n++] = sprintf("%.0f", $1 - pe) }
        NR > first - 1 { pe = $2 }
        END {
            for (i = 0; i < n; i += 16) {
                line = "BENCH gaps " tag
                for (j = i; j < i + 16 && j < n; j++) line = line " " g[j]
                print line
            }
        }' "$1"
}

# How long each run lived, START to EXIT, in ns (the probe's own work).
runs() {
    awk -v tag="$2" '$2 > 0 { s += $2 - $1; n++ } END { printf "BENCH inrun %s %d %.0f\n", tag, n, s / n }' "$1"
}
