//! A unit's cgroup v2 limits (DESIGN §3.3): mem.max, mem.high, mem.low,
//! swap.max, pids.max, cpu.weight, cpu.max, io.weight, cpuset.cpus,
//! cpuset.mems, written to the files of the same meaning before the unit's
//! first process runs. A refusal is a warning naming unit, option and
//! errno; the unit still runs.

use crate::cgroup::Base;
use crate::config;
use crate::errno::Name;
use crate::fileio;
use crate::say;
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
pub fn write(base: &Base, u: &config::Unit<'_>, on: [bool; 5]) {
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
                crate::cgroup::CONTROLLERS.get(ctl).copied().unwrap_or("?")
            );
            return;
        }
        let path = match base.path(u.name, Some(file)) {
            Ok(p) => p,
            Err(_) => return,
        };
        if let Err(e) = fileio::write_file(path.as_str(), text.as_bytes()) {
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
    if let Some(c) = &u.cpuset {
        put("cpuset=", "cpuset.cpus", CPUSET, &c.as_str());
    }
    if let Some(m) = &u.mems {
        put("mems=", "cpuset.mems", CPUSET, &m.as_str());
    }
}
