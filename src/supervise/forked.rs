//! `ready=forked`: finding a daemon's main process once its launcher has
//! exited 0 (docs/config.md, "Forking daemons"). With `pidfile=`, the PID
//! the daemon wrote there, accepted only for a process of the unit (its
//! cgroup; without cgroups, a child of pinit's that no other unit
//! claims); else the only process left in the unit's cgroup, or, with
//! several, the cgroup itself stands for the unit.

use crate::place::cgroup::Base;
use crate::say;
use crate::supervise::effects::Effects;
use crate::supervise::unit::Found;
use crate::sys::file::Why as FileWhy;
use crate::table;
use rustix::io::Errno;
use rustix::process::Pid;

/// Why the main process is not found yet (said when the wait ends).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NotYet {
    /// The pidfile could not be read.
    Read(Errno),
    /// It does not hold a PID.
    Bad,
    /// It names a process that is not the unit's.
    Stranger(i32),
}

/// The unit as `find` needs it.
pub(crate) struct Forked<'a, 'u> {
    pub(crate) unit: &'a table::Unit<'u>,
    /// Where its cgroup is; `None` without cgroups.
    pub(crate) base: Option<&'a Base>,
}

/// The main process of a forked unit, or why not yet.
pub(crate) fn find(
    fx: &impl Effects,
    f: &Forked<'_, '_>,
    ours: impl Fn(i32) -> bool,
) -> (Found, Option<NotYet>) {
    let u = f.unit;
    let procs = f.base.map(|b| fx.procs(b, u.name, u.isolate));
    if let Some(Ok((0, _))) = procs {
        return (Found::Nothing, None);
    }
    if let Some(w) = u.pidfile {
        let mut buf = [0u8; 256];
        let read = match w
            .decode(&mut buf)
            .and_then(|b| core::str::from_utf8(b).ok())
        {
            Some(path) => fx.read_pid(path),
            None => Err(Errno::NAMETOOLONG),
        };
        return match read {
            Ok(Some(p)) if ours(p) => match Pid::from_raw(p) {
                Some(pid) => (Found::Pid(pid), None),
                None => (Found::NotYet, Some(NotYet::Bad)),
            },
            Ok(Some(p)) => (Found::NotYet, Some(NotYet::Stranger(p))),
            Ok(None) => (Found::NotYet, Some(NotYet::Bad)),
            Err(e) => (Found::NotYet, Some(NotYet::Read(e))),
        };
    }
    match procs {
        Some(Ok((1, p))) => match Pid::from_raw(p) {
            Some(pid) => (Found::Pid(pid), None),
            None => (Found::Nothing, None),
        },
        Some(Ok(_)) => (Found::Group, None),
        Some(Err(e)) => {
            say!(
                "{}: unable to read its cgroup's cgroup.procs: {}",
                u.name,
                FileWhy(e)
            );
            (Found::Nothing, None)
        }
        None => {
            say!(
                "{}: ready=forked without pidfile= finds its process in its cgroup, and there is none",
                u.name
            );
            (Found::Nothing, None)
        }
    }
}

/// Says why no main process was found when the wait ends.
pub(crate) fn say_why(u: &table::Unit<'_>, why: NotYet) {
    let path = u.pidfile.map_or("?", |w| w.raw());
    match why {
        NotYet::Read(e) => say!("{}: pidfile {}: {}", u.name, path, FileWhy(e)),
        NotYet::Bad => say!("{}: pidfile {} does not hold a PID", u.name, path),
        NotYet::Stranger(p) => say!(
            "{}: pidfile {} names pid {}, which is not a process of this unit",
            u.name,
            path,
            p
        ),
    }
}
