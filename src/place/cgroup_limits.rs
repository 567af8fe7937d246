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
use core::fmt::Write;

/// Index of each controller in `cgroup::CONTROLLERS`.
const CPU: usize = 0;
const CPUSET: usize = 1;
const MEMORY: usize = 2;
const IO: usize = 3;
const PIDS: usize = 4;

/// One value to write: option name, cgroup file, controller, text.
type Value = heapless::String<96>;

/// Writes every limit the unit sets.
pub(crate) fn write(base: &Base, u: &table::Unit<'_>, on: [bool; 5]) {
    let put = |option: &str, file: &str, ctl: usize, v: &dyn core::fmt::Display| {
        let mut text = Value::new();
        if write!(text, "{}", v).is_err() {
            return;
        }
        if !on.get(ctl).copied().unwrap_or(false) {
            say!(
                "{}: warning: {} needs the {} controller, which this kernel or cgroup does not offer; ignored",
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
                "{}: warning: unable to set {}{} ({}): {}",
                u.name,
                option,
                text.as_str(),
                path.as_str(),
                Name(e)
            );
        }
    };
    let limits = [
        ("mem.max=", "memory.max", u.mem_max),
        ("mem.high=", "memory.high", u.mem_high),
        ("mem.low=", "memory.low", u.mem_low),
        ("swap.max=", "memory.swap.max", u.swap_max),
    ];
    for (opt, file, l) in limits {
        if l.is_set() {
            put(opt, file, MEMORY, &l);
        }
    }
    if u.pids_max.is_set() {
        put("pids.max=", "pids.max", PIDS, &u.pids_max);
    }
    if let Some(w) = u.cpu_weight {
        put("cpu.weight=", "cpu.weight", CPU, &w);
    }
    if let Some(m) = u.cpu_max {
        put("cpu.max=", "cpu.max", CPU, &m);
    }
    if let Some(w) = u.io_weight {
        let mut v: heapless::String<24> = heapless::String::new();
        let _ = write!(v, "default {}", w);
        put("io.weight=", "io.weight", IO, &v.as_str());
    }
    if let Some(c) = u.cpuset.as_ref().filter(|_| !u.isolate) {
        put("cpuset=", "cpuset.cpus", CPUSET, &c.as_str());
    }
    if let Some(m) = &u.mems {
        put("mems=", "cpuset.mems", CPUSET, &m.as_str());
    }
}

/// Makes the unit's cgroup an isolated partition of its `cpuset=` CPUs
/// (before every start); false if it could not be had, and then the unit
/// must not run. The error is said here, naming the unit, its CPUs and
/// the kernel's answer.
pub(crate) fn isolate(base: &Base, u: &table::Unit<'_>) -> bool {
    let cpus = u.cpuset.as_ref().map_or("", |c| c.as_str());
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
        if let Some(c) = &u.cpuset {
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
    let _ = write!(text, "{}", rest);
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
        if let (Ok(dir), Some(c)) = (base.path(u.name, true, None), &u.cpuset) {
            let _ = rustix::fs::mkdir(dir.as_str(), rustix::fs::Mode::from_raw_mode(0o755));
            let _ = crate::place::cgroup::isolate(&dir, c.as_str());
        }
    }
}
