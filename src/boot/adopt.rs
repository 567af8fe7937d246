//! After a crash of PID 1 (docs/design.md §13): the panic handler
//! executes /sbin/init again, with no hand-over, and the new PID 1
//! rebuilds its view from the kernel before it starts anything. Each
//! unit of the table whose cgroup (services/NAME, isolated.NAME) is
//! populated is taken back: its state, main PID and restart count come
//! from the record PID 1 keeps on the cgroup directory
//! (`cgroup::RECORD`), the main PID is checked to be in the cgroup still,
//! and its output pipe is opened again from the process
//! (/proc/PID/fd/1). A populated cgroup without a usable record is
//! killed and its unit started again; an empty one's unit is started as
//! at boot, unless its record says it had finished, failed or been
//! stopped. A cgroup no unit of the table owns is killed and removed.
//! So no unit runs twice.

use crate::place::cgroup::{self, Base, Path};
use crate::say;
use crate::supervise::effects::{Effects, System};
use crate::supervise::instance::{Instance, Stop};
use crate::supervise::listen;
use crate::supervise::report::Timeline;
use crate::supervise::supervisor::{Carried, Supervisor, UnitFds};
use crate::supervise::unit::{Failure, Policy, Snapshot, State, Then};
use crate::sys::errno::Name;
use crate::sys::file;
use crate::sys::time::{self, Ms};
use crate::sys::{path, Args, Inherited};
use crate::table::capacity::LISTEN_MAX;
use crate::table::{Addr, SocketKind};
use crate::table::{Log, Ready, Table};
use rustix::fd::OwnedFd;
use rustix::fs::{FileType, Mode, OFlags};
use rustix::process::Pid;

/// `--reexec=N@MS`: how the panic handler starts PID 1 again, the `N`th
/// panic in a row, at MS (CLOCK_BOOTTIME, ms).
pub(crate) const ARG: &str = "--reexec=";
/// Panics in a row after which PID 1 no longer takes the units back: it
/// leaves them running and starts the rescue shell.
pub(crate) const PANICS_MAX: u32 = 3;
/// Panics further apart than this are not in a row.
pub(crate) const PANIC_WINDOW_MS: u64 = 60_000;

/// The panics in a row `args` tells of (`--reexec=N@MS`): (N, MS).
pub(crate) fn panics(args: Args) -> Option<(u32, u64)> {
    (1..args.len()).find_map(|i| parse_panics(args.get(i)?.to_bytes()))
}

pub(crate) fn parse_panics(arg: &[u8]) -> Option<(u32, u64)> {
    let rest = core::str::from_utf8(arg).ok()?.strip_prefix(ARG)?;
    let (n, at) = rest.split_once('@')?;
    Some((n.parse().ok()?, at.parse().ok()?))
}

/// The argument for the next start after a panic at `now_ms`, given the
/// panics `before` (the panicking program's own `--reexec=`).
pub(crate) fn next_panics(before: Option<(u32, u64)>, now_ms: u64) -> (u32, u64) {
    match before {
        Some((n, at)) if now_ms.saturating_sub(at) < PANIC_WINDOW_MS => {
            (n.saturating_add(1), now_ms)
        }
        _ => (1, now_ms),
    }
}

/// What the record on a unit's cgroup says: its state's word, its main
/// pid (0: none), its restarts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Record<'a> {
    pub(crate) state: &'a str,
    pub(crate) pid: i32,
    pub(crate) restarts: u32,
}

impl<'a> Record<'a> {
    /// `STATE PID RESTARTS`, as the supervisor writes it.
    pub(crate) fn parse(text: &'a [u8]) -> Option<Record<'a>> {
        let mut w = core::str::from_utf8(text).ok()?.split(' ');
        let r = Record {
            state: w.next()?,
            pid: w.next()?.parse().ok()?,
            restarts: w.next()?.parse().ok()?,
        };
        w.next().is_none().then_some(r)
    }
}

/// What becomes of a unit whose cgroup a previous PID 1 left.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Decision {
    /// Nothing ran, or nothing is known: started as at boot.
    Start,
    /// Processes without a usable record: killed, then started.
    Kill,
    /// Taken back as it was.
    Resume(Snapshot),
}

/// The rule, pure: `record` read from the cgroup, whether its pid is in
/// the cgroup, whether the cgroup holds any process, the unit's policy,
/// when its process started, and now.
pub(crate) fn decide(
    record: Option<Record<'_>>,
    alive: bool,
    populated: bool,
    policy: &Policy,
    since: Ms,
    now: Ms,
) -> Decision {
    let settled = |state, restarts| {
        Decision::Resume(Snapshot {
            restarts,
            ..Snapshot::of(state)
        })
    };
    match record {
        Some(r) if alive => {
            let Some(pid) = Pid::from_raw(r.pid) else {
                return Decision::Kill;
            };
            let state = match r.state {
                "starting" if policy.waits_for_ready() => State::Starting {
                    pid,
                    deadline: policy.ready_timeout_ms.map(|t| now.after(u64::from(t))),
                },
                "stopping" => State::Stopping {
                    pid: Some(pid),
                    deadline: now.after(u64::from(policy.stop_timeout_ms)),
                    killed: false,
                    then: Then::Stop,
                },
                // A task's timeout= counts again from now.
                _ => State::Running {
                    pid,
                    deadline: policy.timeout_ms.map(|t| now.after(u64::from(t))),
                },
            };
            Decision::Resume(Snapshot {
                since,
                restarts: r.restarts,
                ..Snapshot::of(state)
            })
        }
        _ if populated => Decision::Kill,
        Some(r) => match r.state {
            "done" => settled(State::Done, r.restarts),
            "failed" => settled(State::Failed { why: Failure::Exit }, r.restarts),
            "stopped" => settled(State::Stopped, r.restarts),
            _ => Decision::Start,
        },
        None => Decision::Start,
    }
}

/// Whether a previous PID 1 ran units of `table` this boot: a cgroup of
/// one holds a process or a record. Without the base directory, which
/// PID 1 makes before its first unit (`cgroup::setup`), none ran: on a
/// fresh boot that one stat saves a read and a getxattr per unit before
/// the first start.
pub(crate) fn left_running(table: &Table<'_>, base: Option<&Base>) -> bool {
    let Some(base) = base else {
        return false;
    };
    if path::stat(base.dir()).is_err() {
        return false;
    }
    table.units.iter().any(|u| {
        let Ok(dir) = base.path(u.name, u.isolate, None) else {
            return false;
        };
        let mut buf = [0u8; 64];
        let mut any = false;
        each_pid(&dir, |_| any = true);
        any || cgroup::recorded(&dir, &mut buf).is_some()
    })
}

/// Calls `f` with each pid of cgroup `dir`.
fn each_pid(dir: &Path, f: impl FnMut(i32)) {
    let mut procs: heapless::String<{ cgroup::PATH_MAX + 16 }> = heapless::String::new();
    let _ = crate::put!(procs, "{}/cgroup.procs", dir.as_str());
    let _ = cgroup::for_each_pid(procs.as_str(), f);
}

/// Takes back what a previous PID 1 left running (see the module's
/// comment); returns how many units it took back.
pub(crate) fn adopt(sup: &mut Supervisor<'_>, fx: &mut System<'_>) -> usize {
    let now = time::now();
    let mut taken = 0;
    for i in 0..sup.len() {
        let Some(dir) = sup.cgroup_dir(i) else {
            return taken;
        };
        if path::stat(dir.as_str()).is_err() {
            continue;
        }
        let Some((u, sm)) = sup.unit(i) else {
            continue;
        };
        let (name, log, ready, policy) = (u.name, u.log, u.ready, *sm.policy());
        let instances = if u.accept { u.max_instances } else { 0 };
        let mut rec = [0u8; 64];
        let record = cgroup::recorded(&dir, &mut rec).and_then(Record::parse);
        let (mut any, mut alive) = (false, false);
        each_pid(&dir, |p| {
            any = true;
            alive |= record.is_some_and(|r| r.pid == p);
        });
        let pid = record.map_or(0, |r| r.pid);
        let since = file::started_ms(pid).map_or(now, |t| Ms(t.min(now.0)));
        let mut name_buf: heapless::String<32> = heapless::String::new();
        let _ = name_buf.push_str(name);
        match decide(record, alive, any, &policy, since, now) {
            Decision::Start => {}
            Decision::Kill => {
                say!(
                    "{}: processes left in {} with no record of them: killing them, then starting it",
                    name_buf.as_str(),
                    dir.as_str()
                );
                sup.kill_unit(fx, i, now);
            }
            Decision::Resume(snap) => {
                let mut fds = UnitFds::<OwnedFd> {
                    cgroup: open_dir(&dir),
                    ..UnitFds::default()
                };
                if snap.state.pid().is_some() {
                    if log == Log::Kmsg {
                        fds.out = reopen(pid, 1).and_then(|rd| Some((rd, reopen_write(pid, 1)?)));
                    }
                    if let (State::Starting { .. }, Ready::Fd(n)) = (snap.state, ready) {
                        fds.ready = reopen(pid, i32::from(n));
                    }
                    if let Some(p) = Pid::from_raw(pid) {
                        // Ours: a pidfd for its signals comes with resume.
                        fds.pidfd = fx
                            .adopt(p)
                            .ok()
                            .and_then(|(fd, ours)| (!ours).then_some(fd));
                    }
                    taken += 1;
                }
                let c = Carried {
                    name: name_buf.as_str(),
                    unit: snap,
                    log_pid: pid,
                    status: b"",
                    timeline: Timeline::default(),
                    stopping: false,
                    // Made by the crashed PID 1: removed at its next stop.
                    run_dirs: true,
                };
                say!(
                    "{}: taken back: {} (pid {}, {} restarts)",
                    c.name,
                    snap.state.name(),
                    pid,
                    snap.restarts
                );
                sup.resume(fx, i, &c, fds, now);
            }
        }
        // Whatever the unit's own cgroup said: a listening unit runs
        // nothing there (its record may be older, its cgroup empty).
        for num in 0..instances {
            instance(sup, fx, i, &dir, name_buf.as_str(), num, now);
        }
    }
    taken
}

/// Instance `num` of `accept=yes` unit `i`, as the crashed PID 1 left it
/// in cgroup `DIR/NAME@num`: its process is still PID 1's child (PID 1
/// never changed), so it is taken back into the instance table, to be
/// reaped and swept as before; what else is in that cgroup without that
/// child is killed (nothing would ever reap or sweep it).
fn instance(
    sup: &mut Supervisor<'_>,
    fx: &mut System<'_>,
    i: usize,
    dir: &Path,
    name: &str,
    num: u16,
    now: Ms,
) {
    let mut buf: heapless::String<{ cgroup::PATH_MAX }> = heapless::String::new();
    if crate::put!(buf, "{}/{}", dir.as_str(), cgroup::instance_dir(name, num)).is_err() {
        return;
    }
    let Ok(sub) = Path::new(buf.as_str()) else {
        return;
    };
    let mut child = None;
    let mut any = false;
    each_pid(&sub, |p| {
        any = true;
        if child.is_none() && file::parent_of(p) == Some(1) {
            child = Pid::from_raw(p);
        }
    });
    let Some(pid) = child else {
        if any {
            say!(
                "{}: processes left in {} with no instance of it: killing them",
                name,
                sub.as_str()
            );
            kill_all(&sub);
        }
        return;
    };
    let inst = Instance {
        unit: i as u16,
        num,
        pid,
        stop: Stop::No,
    };
    if sup.resume_instance(fx, i, inst, now) {
        say!(
            "{}: instance {} taken back (pid {})",
            name,
            num,
            pid.as_raw_nonzero()
        );
    } else {
        // No room in the table PID 1 reads now (max-instances= lower):
        // not left running untracked.
        say!(
            "{}: instance {} (pid {}) does not fit the table's max-instances=: killing it",
            name,
            num,
            pid.as_raw_nonzero()
        );
        kill_all(&sub);
    }
}

/// SIGKILL to every process of cgroup `dir`.
fn kill_all(dir: &Path) {
    each_pid(dir, |p| {
        let _ = crate::sys::kill(p, linux_raw_sys::general::SIGKILL);
    });
}

/// Finds each unit's `listen=` sockets again among the fds the crashed
/// PID 1 left open (`inherited`), by what the kernel says of each
/// (type, SO_ACCEPTCONN, bound address, a FIFO's inode): the same
/// sockets, so no address is ever unbound and the connections queued
/// meanwhile are served. A unit gets all of its sockets back or none;
/// what is not found is bound again (`Supervisor::bind_all`). Returns
/// how many sockets were found.
pub(crate) fn sockets(
    sup: &mut Supervisor<'_>,
    fx: &mut System<'_>,
    inherited: &mut Inherited,
) -> usize {
    let now = time::now();
    let mut found = 0;
    for i in 0..sup.len() {
        let mut fds: heapless::Vec<OwnedFd, LISTEN_MAX> = heapless::Vec::new();
        let Some((u, _)) = sup.unit(i) else {
            continue;
        };
        let all = u.listens().all(|l| {
            let fifo = match l.addr {
                Addr::Path(p) if l.kind == SocketKind::Fifo => listen::fifo_id(p),
                _ => None,
            };
            let n = inherited.find(|fd| {
                let mut path = [0u8; 108];
                listen::probe(fd, &mut path).is_some_and(|seen| listen::is(&l, &seen, fifo))
            });
            n.and_then(|n| inherited.take(n))
                .is_some_and(|fd| fds.push(fd).is_ok())
        });
        if all && !fds.is_empty() {
            say!("{}: {} sockets taken back", u.name, fds.len());
            found += fds.len();
            sup.take_sockets(fx, i, fds, now);
        }
    }
    found
}

/// Kills and removes the cgroups under `base` (and its isolated ones)
/// that no unit of `table` owns: what a previous PID 1 ran from a table
/// that has changed since.
pub(crate) fn sweep(table: &Table<'_>, base: &Base) {
    for (dir, beside) in [(base.dir(), false), (base.mount(), true)] {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let Ok(fd) = path::open(dir, flags, Mode::empty()) else {
            continue;
        };
        let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); 1024];
        let mut entries = rustix::fs::RawDir::new(fd, &mut buf);
        while let Some(Ok(e)) = entries.next() {
            if e.file_type() != FileType::Directory {
                continue;
            }
            let Ok(n) = core::str::from_utf8(e.file_name().to_bytes()) else {
                continue;
            };
            let name = if beside {
                match n.strip_prefix(cgroup::ISOLATED) {
                    Some(name) => name,
                    None => continue,
                }
            } else {
                n
            };
            if name.starts_with('.') {
                continue;
            }
            let owned = table
                .units
                .iter()
                .any(|u| u.name == name && base.beside(u.isolate) == beside);
            if owned {
                continue;
            }
            let isolated = beside;
            if let Err(e) = cgroup::kill(base, name, isolated, None) {
                say!("{}: unable to kill what is left of it: {}", n, Name(e));
            }
            match cgroup::remove(base, name, isolated, 0) {
                Ok(()) => say!("{}: no such unit in the table: what was left of it is killed and its cgroup removed", n),
                Err(e) => say!("{}: no such unit in the table; unable to remove its cgroup: {}", n, Name(e)),
            }
        }
    }
}

/// A unit's cgroup directory, for CLONE_INTO_CGROUP.
fn open_dir(dir: &Path) -> Option<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    path::open(dir.as_str(), flags, Mode::empty()).ok()
}

/// `/proc/PID/fd/N`.
fn fd_path(pid: i32, n: i32) -> heapless::String<40> {
    let mut p = heapless::String::new();
    let _ = crate::put!(p, "/proc/{}/fd/{}", pid, n);
    p
}

/// The read end of the pipe on fd `n` of process `pid`, opened again
/// (non-blocking); `None` if that fd is not a pipe.
fn reopen(pid: i32, n: i32) -> Option<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = path::open(fd_path(pid, n).as_str(), flags, Mode::empty()).ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    (FileType::from_raw_mode(st.st_mode) == FileType::Fifo).then_some(fd)
}

/// A write end of the same pipe, for the unit's next runs (blocking, as
/// a process's stdout is; it opens at once, the read end being open).
fn reopen_write(pid: i32, n: i32) -> Option<OwnedFd> {
    let flags = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    path::open(fd_path(pid, n).as_str(), flags, Mode::empty()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::UnitKind;

    fn pid(n: i32) -> Pid {
        Pid::from_raw(n).unwrap()
    }

    #[test]
    fn records_read_as_written() {
        assert_eq!(
            Record::parse(b"running 312 2"),
            Some(Record {
                state: "running",
                pid: 312,
                restarts: 2
            })
        );
        for bad in [
            &b""[..],
            b"running",
            b"running x 2",
            b"running 1 2 3",
            b"\xff 1 2",
        ] {
            assert_eq!(Record::parse(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn a_live_main_process_is_taken_back_as_it_was() {
        let service = Policy::new(UnitKind::Service);
        let notify = Policy {
            ready: Ready::Notify,
            ready_timeout_ms: Some(5000),
            ..service
        };
        let rec = |state| {
            Some(Record {
                state,
                pid: 40,
                restarts: 3,
            })
        };
        let (since, now) = (Ms(100), Ms(1000));
        let got = |r, p: &Policy| match decide(r, true, true, p, since, now) {
            Decision::Resume(s) => (s.state, s.restarts, s.since),
            d => panic!("{:?}", d),
        };
        assert_eq!(
            got(rec("running"), &service),
            (
                State::Running {
                    pid: pid(40),
                    deadline: None
                },
                3,
                since
            )
        );
        assert_eq!(
            got(rec("starting"), &notify).0,
            State::Starting {
                pid: pid(40),
                deadline: Some(Ms(6000))
            }
        );
        assert!(matches!(
            got(rec("stopping"), &service).0,
            State::Stopping {
                then: Then::Stop,
                ..
            }
        ));
    }

    #[test]
    fn starting_is_running_for_a_unit_that_does_not_wait_for_readiness() {
        // supervisor.rs `worth_recording` skips the exec's record on this.
        let (since, now) = (Ms(100), Ms(1000));
        for kind in [UnitKind::Service, UnitKind::Task, UnitKind::Tty] {
            let p = Policy {
                timeout_ms: Some(500),
                ..Policy::new(kind)
            };
            let rec = |state| {
                Some(Record {
                    state,
                    pid: 40,
                    restarts: 3,
                })
            };
            assert_eq!(
                decide(rec("starting"), true, true, &p, since, now),
                decide(rec("running"), true, true, &p, since, now)
            );
        }
    }

    #[test]
    fn nothing_starts_twice() {
        let p = Policy::new(UnitKind::Service);
        let (since, now) = (Ms(0), Ms(1));
        let rec = |state, pid| {
            Some(Record {
                state,
                pid,
                restarts: 1,
            })
        };
        // Processes, but not the recorded one (it died in the crash), or
        // no record at all: killed before the unit starts again.
        assert_eq!(
            decide(rec("running", 40), false, true, &p, since, now),
            Decision::Kill
        );
        assert_eq!(decide(None, false, true, &p, since, now), Decision::Kill);
        // An empty cgroup: as at boot, unless the unit had settled.
        assert_eq!(decide(None, false, false, &p, since, now), Decision::Start);
        assert_eq!(
            decide(rec("running", 40), false, false, &p, since, now),
            Decision::Start
        );
        assert_eq!(
            decide(rec("backing-off", 0), false, false, &p, since, now),
            Decision::Start
        );
        for (word, state) in [
            ("done", State::Done),
            ("stopped", State::Stopped),
            ("failed", State::Failed { why: Failure::Exit }),
        ] {
            assert_eq!(
                decide(rec(word, 0), false, false, &p, since, now),
                Decision::Resume(Snapshot {
                    restarts: 1,
                    ..Snapshot::of(state)
                })
            );
        }
    }

    #[test]
    fn panics_in_a_row() {
        assert_eq!(parse_panics(b"--reexec=2@5000"), Some((2, 5000)));
        assert_eq!(parse_panics(b"--reexec=2"), None);
        assert_eq!(parse_panics(b"--handover=4"), None);
        assert_eq!(next_panics(None, 7), (1, 7));
        assert_eq!(next_panics(Some((2, 1000)), 30_000), (3, 30_000));
        assert_eq!(
            next_panics(Some((2, 1000)), 1000 + PANIC_WINDOW_MS),
            (1, 61_000)
        );
    }
}
