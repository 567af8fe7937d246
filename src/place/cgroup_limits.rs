//! A unit's cgroup v2 limits (docs/design.md §7): mem.max, mem.high,
//! mem.low, swap.max, pids.max, cpu.weight, cpu.max, io.weight,
//! cpuset.cpus, cpuset.mems, written to the files of the same meaning before the unit's
//! first process runs. A refusal is a warning naming unit, option and
//! errno; the unit still runs.
//!
//! Isolation (`isolate=yes`) is the exception: its cpuset is written by
//! `isolate`, and a refusal there keeps the unit from starting. `layout`
//! prepares it at boot (cgroup.rs has the picture).

use crate::place::cgroup::{Base, Path};
use crate::say;
use crate::sys::errno::Name;
use crate::sys::file;
use crate::table;

/// Index of each controller in `cgroup::CONTROLLERS`.
const CPU: usize = 0;
const CPUSET: usize = 1;
const MEMORY: usize = 2;
const IO: usize = 3;
const PIDS: usize = 4;

/// One value to write: the cgroup file's text.
type Value = heapless::String<96>;

/// The limits a unit's cgroup gets, in the order they are written: the
/// option, its cgroup file, its controller, and the kernel's default,
/// written back when a reload removes the option (docs/config.md,
/// "Reloading the table"). Every one can be written while the unit runs.
pub(crate) const LIMITS: [(&str, &str, usize, &str); 10] = [
    ("mem.max", "memory.max", MEMORY, "max"),
    ("mem.high", "memory.high", MEMORY, "max"),
    ("mem.low", "memory.low", MEMORY, "0"),
    ("swap.max", "memory.swap.max", MEMORY, "max"),
    ("pids.max", "pids.max", PIDS, "max"),
    ("cpu.weight", "cpu.weight", CPU, "100"),
    ("cpu.max", "cpu.max", CPU, "max 100000"),
    ("io.weight", "io.weight", IO, "default 100"),
    ("cpuset", "cpuset.cpus", CPUSET, ""),
    ("mems", "cpuset.mems", CPUSET, ""),
];

/// The controllers the units of `table` need, in `cgroup::CONTROLLERS`
/// order: memory and pids for every unit (`pinit status` shows each
/// unit's memory, and both count what a unit holds) unless the
/// `accounting` statement says otherwise; each controller also when
/// some unit sets one of its limits (it is then on for every unit:
/// `services` enables it for all its children), cpuset when one
/// isolates CPUs. Each
/// controller on in `services` costs the kernel its state in every unit
/// cgroup made and work at every fork and exit there; cpu's and io's
/// are the largest (docs/design.md §7).
#[inline(never)]
pub(crate) fn wanted(table: &table::Table<'_>) -> [bool; 5] {
    let mut want = [false; 5];
    let mut add = |ctl: usize| {
        if let Some(w) = want.get_mut(ctl) {
            *w = true;
        }
    };
    let all = table.accounting();
    if all.memory {
        add(MEMORY);
    }
    if all.pids {
        add(PIDS);
    }
    for u in table.units.iter() {
        let x = u.extra();
        for (i, &(_, _, ctl, _)) in LIMITS.iter().enumerate() {
            if value(u, &x, i).is_some() {
                add(ctl);
            }
        }
        if u.isolate {
            add(CPUSET);
        }
    }
    want
}

/// Limit `i` of `LIMITS` as the unit sets it, in the cgroup file's
/// syntax; `None` when unset (an isolated unit's cpuset is `isolate`'s).
fn value(u: &table::Unit<'_>, x: &table::Extra<'_>, i: usize) -> Option<Value> {
    let mut v = Value::new();
    let r = match i {
        0 => x.mem_max.is_set().then(|| crate::put!(v, "{}", x.mem_max)),
        1 => x
            .mem_high
            .is_set()
            .then(|| crate::put!(v, "{}", x.mem_high)),
        2 => x.mem_low.is_set().then(|| crate::put!(v, "{}", x.mem_low)),
        3 => x
            .swap_max
            .is_set()
            .then(|| crate::put!(v, "{}", x.swap_max)),
        4 => x
            .pids_max
            .is_set()
            .then(|| crate::put!(v, "{}", x.pids_max)),
        5 => x.cpu_weight.map(|w| crate::put!(v, "{}", w)),
        6 => x.cpu_max.map(|m| crate::put!(v, "{}", m)),
        7 => x.io_weight.map(|w| crate::put!(v, "default {}", w)),
        8 => x
            .cpuset
            .filter(|_| !u.isolate)
            .map(|c| v.push_str(c.as_str()).map_err(|_| crate::put::Full)),
        9 => x
            .mems
            .map(|m| v.push_str(m.as_str()).map_err(|_| crate::put::Full)),
        _ => None,
    };
    match r {
        Some(Ok(())) => Some(v),
        _ => None,
    }
}

/// The option of the first limit the unit sets (`x`: its `extra()`), if
/// any.
pub(crate) fn first_set(u: &table::Unit<'_>, x: &table::Extra<'_>) -> Option<&'static str> {
    (0..LIMITS.len())
        .find(|&i| value(u, x, i).is_some())
        .and_then(|i| LIMITS.get(i))
        .map(|l| l.0)
}

/// Writes every limit the unit sets (`x`: its `extra()`).
pub(crate) fn write(base: &Base, u: &table::Unit<'_>, x: &table::Extra<'_>, on: [bool; 5]) {
    for i in 0..LIMITS.len() {
        if let Some(v) = value(u, x, i) {
            put(base, u, i, v.as_str(), on);
        }
    }
}

/// Writes the limits of `LIMITS` whose bit is set in `which`, each as
/// the unit now sets it or, if it no longer does, the kernel's default:
/// a reload's in-place change (the unit keeps running).
pub(crate) fn rewrite(base: &Base, u: &table::Unit<'_>, which: u32, on: [bool; 5]) {
    let x = u.extra();
    for (i, (_, _, _, default)) in LIMITS.iter().enumerate() {
        if which & (1 << i) != 0 {
            match value(u, &x, i) {
                Some(v) => put(base, u, i, v.as_str(), on),
                None => put(base, u, i, default, on),
            }
        }
    }
}

/// Limit `i` of `LIMITS` into the unit's cgroup; a refusal is a warning.
fn put(base: &Base, u: &table::Unit<'_>, i: usize, text: &str, on: [bool; 5]) {
    let Some(&(option, file, ctl, _)) = LIMITS.get(i) else {
        return;
    };
    if !on.get(ctl).copied().unwrap_or(false) {
        say!(
            "{}: warning: {}= needs the {} controller, which this kernel or cgroup does not offer; ignored",
            u.name,
            option,
            crate::place::cgroup::CONTROLLERS.get(ctl).copied().unwrap_or("?")
        );
        return;
    }
    let path = match base.path(u.name, u.isolate, Some(file)) {
        Ok(p) => p,
        Err(_) => return,
    };
    if let Err(e) = file::write_file(path.as_str(), text.as_bytes()) {
        say!(
            "{}: warning: unable to set {}={} ({}): {}",
            u.name,
            option,
            text,
            path.as_str(),
            Name(e)
        );
    }
}

/// Makes the unit's cgroup an isolated partition of its `cpuset=` CPUs
/// (before every start); false if it could not be had, and then the unit
/// must not run. The error is said here, naming the unit, its CPUs and
/// the kernel's answer. `x`: the unit's `extra()`.
pub(crate) fn isolate(base: &Base, u: &table::Unit<'_>, x: &table::Extra<'_>) -> bool {
    let cpus = x.cpuset.as_ref().map_or("", |c| c.as_str());
    let dir = match base.path(u.name, true, None) {
        Ok(d) => d,
        Err(_) => return false,
    };
    match crate::place::cgroup::isolate(&dir, cpus) {
        Ok(()) => true,
        Err(r) => {
            say!(
                "{}: error: unable to isolate CPUs {} (isolate=yes) in {}: {}; not started",
                u.name,
                cpus,
                dir.as_str(),
                r
            );
            false
        }
    }
}

/// At boot, before any unit runs: restricts `services` to the CPUs no
/// unit isolates, then makes each isolated unit's partition, so that no
/// running unit's CPUs change under it later (on 6.1 a cpuset change
/// resets the affinity of every task in it). Failures are said when the
/// unit starts, where they keep it from running.
#[inline(never)]
pub(crate) fn layout(base: &Base, table: &table::Table<'_>, on: [bool; 5]) {
    let mut isolated = table::Mask::EMPTY;
    for u in table.units.iter().filter(|u| u.isolate) {
        if let Some(c) = &u.extra().cpuset {
            isolated.union(&c.mask());
        }
    }
    if isolated.is_empty() || !on.get(CPUSET).copied().unwrap_or(false) {
        return;
    }
    let mut buf = [0u8; 512];
    let mut all = table::Mask::EMPTY;
    if let Ok(root) = Path::new(base.mount()) {
        let n = root.read("cpuset.cpus.effective", &mut buf).unwrap_or(0);
        let text = buf.get(..n).unwrap_or(&[]);
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        if let Some(m) = core::str::from_utf8(text)
            .ok()
            .and_then(|t| table::value::list(t).ok())
        {
            all = m;
        }
    }
    let mut rest = table::Mask::EMPTY;
    for cpu in all.iter().filter(|&c| !isolated.has(c)) {
        rest.set(cpu);
    }
    let mut text: heapless::String<512> = heapless::String::new();
    let _ = crate::put!(text, "{}", rest);
    if rest.is_empty() {
        say!(
            "warning: CPUs {} isolated: none left for the other units, which keep them all",
            isolated
        );
    } else {
        match Path::new(base.dir()).and_then(|d| d.write("cpuset.cpus", text.as_bytes())) {
            Ok(()) => say!(
                "CPUs {} isolated; the other units run on {}",
                isolated,
                text.as_str()
            ),
            Err(e) => say!(
                "warning: unable to keep the units off the isolated CPUs {} ({}/cpuset.cpus = '{}'): {}",
                isolated,
                base.dir(),
                text.as_str(),
                Name(e)
            ),
        }
    }
    for u in table.units.iter().filter(|u| u.isolate) {
        if let (Ok(dir), Some(c)) = (base.path(u.name, true, None), &u.extra().cpuset) {
            let mode = rustix::fs::Mode::from_raw_mode(0o755);
            let _ = crate::sys::path::mkdir(dir.as_str(), mode);
            let _ = crate::place::cgroup::isolate(&dir, c.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::boxed::Box;

    /// The controllers `wanted` gives for a table of these unit lines.
    fn wanted_by(lines: &str) -> [bool; 5] {
        let mut t = Box::new(table::Table::new());
        let errors = table::parse("t.conf", lines.as_bytes(), &mut t, &mut |d| panic!("{}", d));
        assert_eq!(errors, 0);
        wanted(&t)
    }

    #[test]
    fn units_get_the_controllers_some_unit_needs() {
        // cpu, cpuset, memory, io, pids
        let base = [false, false, true, false, true];
        assert_eq!(wanted_by(""), base);
        assert_eq!(wanted_by("service a -- /bin/a\n"), base);
        assert_eq!(
            wanted_by("service a mem.max=64M pids.max=9 -- /bin/a\n"),
            base
        );
        let mut cpu = base;
        cpu[CPU] = true;
        assert_eq!(wanted_by("service a cpu.weight=50 -- /bin/a\n"), cpu);
        assert_eq!(
            wanted_by("service a -- /bin/a\nservice b cpu.max=50% -- /bin/b\n"),
            cpu
        );
        let mut io = base;
        io[IO] = true;
        assert_eq!(wanted_by("service a io.weight=10 -- /bin/a\n"), io);
        let mut cpuset = base;
        cpuset[CPUSET] = true;
        assert_eq!(wanted_by("service a cpuset=0 -- /bin/a\n"), cpuset);
        assert_eq!(wanted_by("service a mems=0 -- /bin/a\n"), cpuset);
        // Isolation's partition is a cpuset beside `services`.
        assert_eq!(
            wanted_by("service a cpuset=1 isolate=yes -- /bin/a\n"),
            cpuset
        );
        // cpus= and numa= are the process's own (sched_setaffinity,
        // set_mempolicy), not the cgroup's.
        assert_eq!(wanted_by("service a cpus=0 numa=bind:0 -- /bin/a\n"), base);
        // `accounting`: what every unit gets; a unit's limits add theirs.
        let none = [false; 5];
        assert_eq!(wanted_by("accounting none\nservice a -- /bin/a\n"), none);
        let mut pids = none;
        pids[PIDS] = true;
        assert_eq!(wanted_by("accounting pids\nservice a -- /bin/a\n"), pids);
        let mut mem = none;
        mem[MEMORY] = true;
        assert_eq!(
            wanted_by("accounting none\nservice a mem.max=1G -- /bin/a\n"),
            mem
        );
        assert_eq!(wanted_by("accounting memory,pids\n"), base);
    }
}
