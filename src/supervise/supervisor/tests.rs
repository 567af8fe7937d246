//! Supervisor scenarios on the host: a recording fake stands for the
//! system (`Effects`), and every time is explicit.

use super::*;
use crate::place::cgroup::Base;
use crate::supervise::instance::Instance;
use crate::supervise::rows::Rows;
use crate::supervise::spawn;
use crate::supervise::tables;
use crate::table::OnFailure;
use linux_raw_sys::general::{SIGKILL, SIGTERM};
use rustix::fd::AsRawFd;
extern crate std;
use std::boxed::Box;
use std::format;
use std::string::String;
use std::vec::Vec;

/// Records what the supervisor asks for; pids count up from 100.
#[derive(Default)]
struct Fake {
    next_pid: i32,
    /// `spawn NAME PID`, `kill NAME PID SIG`, `kill-cgroup NAME`.
    log: Vec<String>,
    /// Spawns fail with this while set.
    fail: Option<Errno>,
    /// Which unit's cgroup each pid is in.
    cgroups: Vec<(i32, &'static str)>,
    /// MAINPID= processes that are not our children.
    strangers: Vec<i32>,
    watched: usize,
    /// Units whose sockets cannot be bound.
    unbindable: Vec<&'static str>,
    /// Connections waiting to be accepted.
    pending: usize,
    /// The processes alive in each unit's cgroup (spawns add theirs).
    left: Vec<(i32, &'static str)>,
    /// What each pidfile holds (missing: ENOENT).
    pidfiles: Vec<(&'static str, Result<Option<i32>, Errno>)>,
    /// Watched cgroup.events fds and their units.
    events: Vec<(i32, &'static str)>,
    /// Spawns hand over a report pipe (its write end kept here) instead
    /// of a child known to have exec'd.
    reports: bool,
    writers: Vec<OwnedFd>,
    /// Spawns hand over a pidfd (any fd stands for one); the pid each
    /// such fd number stands for (MAINPID= and forked mains too).
    pidfds: bool,
    pidfd_of: Vec<(i32, i32)>,
    /// Cgroup sweeps that still find processes (then one finds none).
    busy: usize,
    /// Spawns give each unit a stand-in cgroup directory fd (none
    /// otherwise, as where cgroups are not there), with its unit here.
    dirs: bool,
    dir_of: Vec<(i32, &'static str)>,
}

impl Fake {
    /// A stand-in pidfd for `pid`.
    fn pidfd(&mut self, pid: i32) -> Result<OwnedFd, Errno> {
        let (rd, _) = rustix::pipe::pipe()?;
        self.pidfd_of.retain(|&(fd, _)| fd != rd.as_raw_fd());
        self.pidfd_of.push((rd.as_raw_fd(), pid));
        Ok(rd)
    }

    fn name_of(&self, pid: i32) -> &'static str {
        let name = self.cgroups.iter().rev().find(|(p, _)| *p == pid.abs());
        name.map_or("?", |(_, n)| n)
    }
}

impl Effects for Fake {
    fn spawn(
        &mut self,
        _i: usize,
        u: &table::Unit<'_>,
        _table: &Table<'_>,
        _ctx: &Context<'_>,
        kept: &mut Kept,
        pass: Pass<'_>,
    ) -> Result<Launched, LaunchError> {
        if self.dirs && kept.cgroup.is_none() {
            let (rd, _) = rustix::pipe::pipe().map_err(LaunchError::Errno)?;
            let name: &'static str = String::from(u.name).leak();
            self.dir_of.push((rd.as_raw_fd(), name));
            kept.set_cgroup(Some(rd));
        }
        let what = match pass {
            Pass::Conn(c) => format!("{}@{}", u.name, c.num),
            Pass::Sockets(_) => String::from(u.name),
        };
        if let Some(e) = self.fail {
            self.log.push(format!("spawn {} failed", what));
            return Err(LaunchError::Errno(e));
        }
        self.next_pid = self.next_pid.max(99) + 1;
        let name: &'static str = String::from(u.name).leak();
        self.cgroups.push((self.next_pid, name));
        self.left.push((self.next_pid, name));
        let fds = match pass {
            Pass::Conn(_) => String::from(" fds=conn"),
            Pass::Sockets([]) => String::new(),
            Pass::Sockets(s) => format!(" fds={}", s.len()),
        };
        self.log
            .push(format!("spawn {} {}{}", what, self.next_pid, fds));
        let report = match self.reports {
            true => {
                let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK)?;
                self.writers.push(wr);
                Some(rd)
            }
            false => None,
        };
        let pidfd = match self.pidfds && pass.conn().is_none() {
            true => Some(self.pidfd(self.next_pid)?),
            false => None,
        };
        Ok(Launched {
            pid: Pid::from_raw(self.next_pid).unwrap(),
            ready: None,
            report,
            pidfd,
        })
    }
    fn kill(&mut self, pid: i32, sig: u32) -> Result<(), Errno> {
        let name = self.name_of(pid);
        self.log.push(format!("kill {} {} {}", name, pid, sig));
        Ok(())
    }
    fn signal(&mut self, pidfd: rustix::fd::BorrowedFd<'_>, sig: u32) -> Result<(), Errno> {
        let fd = pidfd.as_raw_fd();
        let (_, pid) = *self.pidfd_of.iter().find(|(f, _)| *f == fd).unwrap();
        let name = self.name_of(pid);
        self.log
            .push(format!("pidfd-kill {} {} {}", name, pid, sig));
        Ok(())
    }
    fn kill_cgroup(
        &mut self,
        _: &Base,
        unit: &str,
        _: bool,
        instance: Option<u16>,
    ) -> Result<usize, Errno> {
        match instance {
            Some(n) => self.log.push(format!("kill-cgroup {}@{}", unit, n)),
            None => self.log.push(format!("kill-cgroup {}", unit)),
        }
        let before = self.left.len();
        if instance.is_none() {
            self.left.retain(|(_, n)| *n != unit);
        }
        let n = before - self.left.len();
        if self.busy > 0 {
            self.busy -= 1;
            return Ok(n.max(1));
        }
        Ok(n)
    }
    fn signal_cgroup(
        &mut self,
        _: &Base,
        unit: &str,
        _: bool,
        sig: u32,
        _: Option<(i32, Option<rustix::fd::BorrowedFd<'_>>)>,
    ) -> Result<usize, Errno> {
        self.log.push(format!("signal-cgroup {} {}", unit, sig));
        Ok(self.left.iter().filter(|(_, n)| *n == unit).count())
    }
    fn procs(&self, _: &Base, unit: &str, _: bool) -> Result<(usize, i32), Errno> {
        let mut it = self.left.iter().filter(|(_, n)| *n == unit);
        let first = it.clone().next().map_or(0, |(p, _)| *p);
        Ok((it.by_ref().count(), first))
    }
    fn read_pid(&self, path: &str) -> Result<Option<i32>, Errno> {
        let f = self.pidfiles.iter().find(|(p, _)| *p == path);
        f.map_or(Err(Errno::NOENT), |(_, r)| *r)
    }
    fn is_child(&self, pid: i32) -> bool {
        !self.strangers.contains(&pid)
    }
    fn watch_events(
        &mut self,
        _: &Base,
        unit: &str,
        _: bool,
        _: u64,
    ) -> Result<(OwnedFd, bool), Errno> {
        let (rd, _) = rustix::pipe::pipe()?;
        let name: &'static str = String::from(unit).leak();
        self.events
            .push((rustix::fd::AsRawFd::as_raw_fd(&rd), name));
        self.watched += 1;
        self.log.push(format!("watch-events {}", unit));
        Ok((rd, self.procs_in(unit) > 0))
    }
    fn populated(&mut self, fd: &OwnedFd) -> Result<bool, Errno> {
        let raw = rustix::fd::AsRawFd::as_raw_fd(fd);
        let unit = self.events.iter().find(|(f, _)| *f == raw).map(|(_, u)| *u);
        Ok(unit.is_some_and(|u| self.procs_in(u) > 0))
    }
    fn open_events(&mut self, dir: rustix::fd::BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
        let raw = dir.as_raw_fd();
        let unit = self.dir_of.iter().find(|(f, _)| *f == raw).map(|(_, u)| *u);
        let unit = unit.ok_or(Errno::BADF)?;
        let (rd, _) = rustix::pipe::pipe()?;
        self.events.push((rd.as_raw_fd(), unit));
        self.log.push(format!("open-events {}", unit));
        Ok(rd)
    }
    fn remove_runtime_dirs(&mut self, u: &table::Unit<'_>) {
        self.log.push(format!("rmdir {}", u.name));
    }
    fn bind(&mut self, u: &table::Unit<'_>, l: &table::Listen<'_>) -> Result<OwnedFd, Errno> {
        if self.unbindable.contains(&u.name) {
            self.log.push(format!("unbound {} {}", u.name, l.address()));
            return Err(Errno::ADDRINUSE);
        }
        // Any fd stands for the socket: its readiness is simulated.
        let (rd, _) = rustix::pipe::pipe()?;
        Ok(rd)
    }
    fn accept(&mut self, _: rustix::fd::BorrowedFd<'_>) -> Result<Option<OwnedFd>, Errno> {
        if self.pending == 0 {
            return Ok(None);
        }
        self.pending -= 1;
        let (rd, _) = rustix::pipe::pipe()?;
        Ok(Some(rd))
    }
    fn unbind(&mut self, u: &table::Unit<'_>, l: &table::Listen<'_>, _: OwnedFd) {
        self.log.push(format!("unbind {} {}", u.name, l.address()));
    }
    fn remove_cgroup(&mut self, _: &Base, unit: &str, _: bool, _: u16) -> Result<(), Errno> {
        self.log.push(format!("remove-cgroup {}", unit));
        Ok(())
    }
    fn record(&mut self, _: rustix::fd::BorrowedFd<'_>, _: &[u8]) -> Result<(), Errno> {
        Ok(())
    }
    fn rewrite_limits(&mut self, _: &Base, u: &table::Unit<'_>, which: u32, _: [bool; 5]) {
        self.log.push(format!("limits {} {:b}", u.name, which));
    }
    fn cgroup_of(&self, _: &Base, pid: i32, name: &mut [u8; 64]) -> Option<(usize, bool)> {
        let (_, unit) = self.cgroups.iter().find(|(p, _)| *p == pid)?;
        name[..unit.len()].copy_from_slice(unit.as_bytes());
        Some((unit.len(), false))
    }
    fn adopt(&mut self, pid: Pid) -> Result<(OwnedFd, bool), Errno> {
        let p = pid.as_raw_nonzero().get();
        // Any fd stands for the pidfd: a stranger's exit is simulated.
        Ok((self.pidfd(p)?, !self.strangers.contains(&p)))
    }
    fn watch(&mut self, _: rustix::fd::BorrowedFd<'_>, _: u64) -> Result<(), Errno> {
        self.watched += 1;
        Ok(())
    }
    fn unwatch(&mut self, _: rustix::fd::BorrowedFd<'_>) {
        self.watched -= 1;
    }
}

impl Fake {
    fn procs_in(&self, unit: &str) -> usize {
        self.left.iter().filter(|(_, n)| *n == unit).count()
    }

    /// Process `pid` of `unit`'s cgroup (forked by one of its processes).
    fn fork(&mut self, pid: i32, unit: &'static str) {
        self.cgroups.push((pid, unit));
        self.left.push((pid, unit));
    }

    /// The log since the last call.
    fn take(&mut self) -> Vec<String> {
        core::mem::take(&mut self.log)
    }
}

/// A table buffer holding `conf`, parsed (no errors allowed).
fn loaded(conf: &str) -> Held<'static> {
    let mut held = core::pin::Pin::static_mut(Box::leak(Box::new(tables::empty())));
    let errors = held.as_mut().fill(
        |buf| {
            buf[..conf.len()].copy_from_slice(conf.as_bytes());
            Ok::<usize, ()>(conf.len())
        },
        |text, t| table::parse("t.conf", text, t, &mut |d| panic!("{}", d)),
    );
    assert_eq!(errors, Ok(0));
    held
}

/// A supervisor over `conf`, with cgroups (PID 1's layout on paper) and
/// a spare table buffer.
fn supervisor(conf: &str) -> Supervisor<'static> {
    let slots = Box::leak(Box::new(Slots::new()));
    let instances = Box::leak(Box::new(Instances::new()));
    let rows = Box::leak(Box::new(Rows::new()));
    let plan = Box::leak(Box::new(None));
    let ctx = Context {
        base: Some(Base::new("/sys/fs/cgroup/services").unwrap()),
        notify_env: None,
        cmdline: b"",
        controllers: [false; 5],
    };
    Supervisor::new(
        loaded(conf),
        Some(loaded("")),
        slots,
        instances,
        rows,
        plan,
        ctx,
    )
}

fn state(s: &Supervisor<'_>, name: &str) -> State {
    s.unit(s.find(name).unwrap()).unwrap().1.state()
}

fn pid(n: i32) -> Pid {
    Pid::from_raw(n).unwrap()
}

fn exit(s: &mut Supervisor<'_>, fx: &mut Fake, p: i32, code: i32, t: u64) {
    fx.left.retain(|(q, _)| *q != p);
    assert!(
        s.on_exit(fx, pid(p), Status::Code(code), Ms(t)),
        "pid {}",
        p
    );
    s.schedule(fx, Ms(t));
}

fn killed(s: &mut Supervisor<'_>, fx: &mut Fake, p: i32, t: u64) {
    fx.left.retain(|(q, _)| *q != p);
    assert!(s.on_exit(fx, pid(p), Status::Signal(SIGTERM as i32), Ms(t)));
    s.schedule(fx, Ms(t));
}

/// Each line of `want` (`spawn a 100`, ...) is in the log, in order.
fn saw(fx: &mut Fake, want: &[&str]) {
    assert_eq!(fx.take(), want);
}

#[test]
fn start_follows_the_dependencies() {
    let mut s = supervisor("service a -- /a\nservice b needs=a -- /b\nservice c after=b -- /c\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    saw(&mut fx, &["spawn a 100", "spawn b 101", "spawn c 102"]);
    assert!(matches!(state(&s, "c"), State::Running { .. }));
}

/// An exit that leaves the cgroup empty, as its cgroup.events says (the
/// file opened at the first exit and kept), needs no sweep; a process
/// left behind is still swept.
#[test]
fn an_emptied_cgroup_is_not_swept() {
    let mut s = supervisor("service a -- /a\n");
    let mut fx = Fake {
        dirs: true,
        ..Fake::default()
    };
    s.schedule(&mut fx, Ms(0));
    exit(&mut s, &mut fx, 100, 1, 50);
    saw(&mut fx, &["spawn a 100", "open-events a"]);
    s.on_timer(&mut fx, Ms(150));
    s.schedule(&mut fx, Ms(150));
    fx.fork(500, "a");
    exit(&mut s, &mut fx, 101, 1, 200);
    saw(&mut fx, &["spawn a 101", "kill-cgroup a"]);
    assert_eq!(fx.procs_in("a"), 0);
}

#[test]
fn stop_of_a_backing_off_unit_ends_the_back_off() {
    let mut s = supervisor("service a -- /a\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    exit(&mut s, &mut fx, 100, 1, 50);
    assert_eq!(state(&s, "a"), State::BackingOff { until: Ms(150) });
    assert_eq!(s.deadline(), Some(Ms(150)));
    s.stop(&mut fx, 0, Ms(60));
    assert_eq!(state(&s, "a"), State::Stopped);
    assert_eq!(s.deadline(), None);
    s.on_timer(&mut fx, Ms(150));
    s.schedule(&mut fx, Ms(150));
    saw(&mut fx, &["spawn a 100", "kill-cgroup a"]);
    assert!(s.all_down());
}

#[test]
fn a_unit_is_starting_until_its_child_reports() {
    let mut s = supervisor("service a -- /a\nservice b after=a -- /b\n");
    let mut fx = Fake {
        reports: true,
        ..Fake::default()
    };
    s.schedule(&mut fx, Ms(0));
    // a is forked, not exec'd (a terminal that blocks, a hung mount):
    // b waits, nothing else does.
    assert!(matches!(state(&s, "a"), State::Starting { .. }));
    assert_eq!((state(&s, "b"), fx.watched), (State::Waiting, 1));
    s.on_token(&mut fx, token::REPORT, Ms(3));
    assert!(matches!(state(&s, "a"), State::Starting { .. }));
    // Its exec closes the pipe: running, and b starts.
    drop(fx.writers.remove(0));
    s.on_token(&mut fx, token::REPORT, Ms(5));
    s.schedule(&mut fx, Ms(5));
    assert_eq!(
        state(&s, "a"),
        State::Running {
            pid: pid(100),
            deadline: None
        }
    );
    assert_eq!(s.unit(0).unwrap().1.since(), Ms(5));
    saw(&mut fx, &["spawn a 100", "spawn b 101"]);
    // b's exec fails: its errno, then the back-off; its exit (127) is
    // read after the report, whichever comes first.
    let wr = fx.writers.remove(0);
    spawn::report_failure(&wr, spawn::Step::Exec, Errno::NOENT);
    drop(wr);
    assert!(s.on_exit(&mut fx, pid(101), Status::Code(127), Ms(6)));
    assert_eq!(state(&s, "b"), State::BackingOff { until: Ms(106) });
    assert_eq!(fx.watched, 0);
}

#[test]
fn a_notify_message_is_read_after_the_exec_report_it_proves() {
    // The program exec'd (the pipe's end) and sent READY=1, and epoll
    // lists the notify socket first: the report is read before it, so
    // the unit is running because it exec'd, then ready (the console
    // says `started` before `ready`); the pipe is done with.
    let mut s = supervisor("service d ready=notify -- /d\n");
    let mut fx = Fake {
        reports: true,
        ..Fake::default()
    };
    s.schedule(&mut fx, Ms(0));
    assert_eq!(fx.watched, 1);
    drop(fx.writers.remove(0));
    s.on_notify(&mut fx, 100, b"READY=1\n", Ms(2));
    assert!(matches!(state(&s, "d"), State::Running { .. }));
    assert_eq!(fx.watched, 0);
    // The same for WATCHDOG=trigger, which stops the unit at once.
    let mut s = supervisor("service d ready=notify watchdog=5s -- /d\n");
    let mut fx = Fake {
        reports: true,
        ..Fake::default()
    };
    s.schedule(&mut fx, Ms(0));
    drop(fx.writers.remove(0));
    s.on_notify(&mut fx, 100, b"WATCHDOG=trigger\n", Ms(2));
    assert!(matches!(state(&s, "d"), State::Stopping { .. }));
    assert_eq!(fx.watched, 0);
}

#[test]
fn a_cgroup_is_emptied_by_sweeps_the_event_loop_drives() {
    // restart-max=0: the unit restarts at once, but not into a cgroup
    // that still holds processes a later sweep would kill.
    let mut s = supervisor("service a restart-max=0 -- /a\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.busy = 2;
    assert!(s.on_exit(&mut fx, pid(100), Status::Code(1), Ms(50)));
    assert_eq!(state(&s, "a"), State::Spawning);
    // No sweep in a loop: the next one when a child is reaped or at the
    // sweep's timer, whichever comes first.
    assert_eq!(s.deadline(), Some(Ms(60)));
    s.on_reaped(&mut fx, Ms(52));
    assert_eq!(s.deadline(), Some(Ms(72)));
    s.on_timer(&mut fx, Ms(60));
    assert_eq!(state(&s, "a"), State::Spawning);
    s.on_timer(&mut fx, Ms(72));
    assert!(matches!(state(&s, "a"), State::Running { .. }));
    saw(
        &mut fx,
        &[
            "spawn a 100",
            "kill-cgroup a",
            "kill-cgroup a",
            "kill-cgroup a",
            "spawn a 101",
        ],
    );
    // A stop while the restart waits for the sweeps: no process at all.
    fx.busy = 1;
    assert!(s.on_exit(&mut fx, pid(101), Status::Code(1), Ms(100)));
    s.stop(&mut fx, 0, Ms(101));
    assert!(matches!(state(&s, "a"), State::Stopping { pid: None, .. }));
    s.on_timer(&mut fx, Ms(110));
    assert_eq!(state(&s, "a"), State::Stopped);
    saw(&mut fx, &["kill-cgroup a", "kill-cgroup a"]);
}

#[test]
fn signals_go_through_the_pidfd_of_the_main_process() {
    let mut s = supervisor("service d ready=notify kill=main -- /d\n");
    let mut fx = Fake {
        pidfds: true,
        ..Fake::default()
    };
    s.schedule(&mut fx, Ms(0));
    s.on_notify(&mut fx, 100, b"READY=1\n", Ms(1));
    assert_eq!(s.signal(&mut fx, 0, 10), Ok(()));
    // MAINPID= hands over to 101, not our child: its own pidfd, watched.
    fx.cgroups.push((101, "d"));
    fx.strangers.push(101);
    s.on_notify(&mut fx, 100, b"MAINPID=101\n", Ms(2));
    assert_eq!(fx.watched, 1);
    s.stop(&mut fx, 0, Ms(3));
    saw(
        &mut fx,
        &[
            "spawn d 100",
            "pidfd-kill d 100 10",
            "pidfd-kill d 101 15",
            "pidfd-kill d 101 18",
        ],
    );
    // The launcher (100) exits: a stranger's exit now.
    assert!(!s.on_exit(&mut fx, pid(100), Status::Code(0), Ms(4)));
    s.on_token(&mut fx, token::PIDFD, Ms(5));
    assert_eq!((state(&s, "d"), fx.watched), (State::Stopped, 0));
}

#[test]
fn mainpid_hands_the_unit_over_to_another_process() {
    let mut s = supervisor("service d ready=notify -- /d\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    assert!(matches!(state(&s, "d"), State::Starting { .. }));
    // The daemon forks its real server (101, not our child), names
    // it, and exits: the unit stays up with the new main process.
    fx.cgroups.push((101, "d"));
    fx.strangers.push(101);
    s.on_notify(&mut fx, 100, b"MAINPID=101\nREADY=1\n", Ms(20));
    assert_eq!(
        state(&s, "d"),
        State::Running {
            pid: pid(101),
            deadline: None
        }
    );
    assert_eq!(fx.watched, 1);
    assert!(!s.on_exit(&mut fx, pid(100), Status::Code(0), Ms(30)));
    assert_eq!(
        state(&s, "d"),
        State::Running {
            pid: pid(101),
            deadline: None
        }
    );
    // A MAINPID outside the unit's cgroup is refused.
    s.on_notify(&mut fx, 100, b"MAINPID=4242\n", Ms(31));
    assert_eq!(
        state(&s, "d"),
        State::Running {
            pid: pid(101),
            deadline: None
        }
    );
    // The pidfd says 101 is gone: a failure, restarted at once (it
    // ran less than 10 s: a quick one, after 100 ms).
    s.on_token(&mut fx, token::PIDFD, Ms(40));
    assert_eq!(fx.watched, 0);
    assert_eq!(state(&s, "d"), State::BackingOff { until: Ms(140) });
    saw(&mut fx, &["spawn d 100", "kill-cgroup d"]);
}

#[test]
fn a_notify_message_from_outside_any_unit_is_ignored() {
    let mut s = supervisor("service d ready=notify -- /d\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    s.on_notify(&mut fx, 999, b"READY=1\n", Ms(1));
    assert!(matches!(state(&s, "d"), State::Starting { .. }));
    s.on_notify(&mut fx, 100, b"READY=1\nSTATUS=serving\n", Ms(2));
    assert!(matches!(state(&s, "d"), State::Running { .. }));
    assert_eq!(s.status_text(0), b"serving");
}

#[test]
fn stop_takes_the_dependents_down_first() {
    let mut s = supervisor("service a -- /a\nservice b needs=a -- /b\nservice c after=a -- /c\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.take();
    s.stop(&mut fx, 0, Ms(10));
    // b needs a: it goes first; c only orders itself after a.
    saw(&mut fx, &["signal-cgroup b 15", "signal-cgroup b 18"]);
    assert!(matches!(state(&s, "a"), State::Running { .. }));
    killed(&mut s, &mut fx, 101, 20);
    saw(
        &mut fx,
        &["kill-cgroup b", "signal-cgroup a 15", "signal-cgroup a 18"],
    );
    killed(&mut s, &mut fx, 100, 30);
    saw(&mut fx, &["kill-cgroup a"]);
    assert_eq!(
        (state(&s, "a"), state(&s, "b")),
        (State::Stopped, State::Stopped)
    );
    assert!(matches!(state(&s, "c"), State::Running { .. }));
    // start brings back what the unit needs, in order.
    assert!(s.start(&mut fx, 1, Ms(40)).is_ok());
    saw(&mut fx, &["spawn a 103", "spawn b 104"]);
}

#[test]
fn a_stop_that_times_out_ends_in_sigkill() {
    let mut s = supervisor("service a stop-timeout=1s -- /a\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    s.stop(&mut fx, 0, Ms(10));
    s.on_timer(&mut fx, Ms(500));
    assert_eq!(s.deadline(), Some(Ms(1010)));
    s.on_timer(&mut fx, Ms(1010));
    let sigkill = format!("kill a 100 {}", SIGKILL);
    saw(
        &mut fx,
        &[
            "spawn a 100",
            "signal-cgroup a 15",
            "signal-cgroup a 18",
            "kill-cgroup a",
            &sigkill,
        ],
    );
    s.on_exit(&mut fx, pid(100), Status::Signal(SIGKILL as i32), Ms(1020));
    assert_eq!(state(&s, "a"), State::Stopped);
}

#[test]
fn shutdown_stops_in_reverse_order() {
    let mut s = supervisor(
        "service a -- /a\nservice b needs=a -- /b\nservice c needs=b -- /c\nservice x -- /x\n",
    );
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.take();
    s.shutdown(&mut fx, Ms(10));
    // c and x have no dependents: they go first.
    saw(
        &mut fx,
        &[
            "signal-cgroup c 15",
            "signal-cgroup c 18",
            "signal-cgroup x 15",
            "signal-cgroup x 18",
        ],
    );
    killed(&mut s, &mut fx, 101, 11);
    s.shutdown(&mut fx, Ms(11));
    saw(&mut fx, &["kill-cgroup x"]);
    killed(&mut s, &mut fx, 103, 12);
    s.shutdown(&mut fx, Ms(12));
    saw(
        &mut fx,
        &["kill-cgroup c", "signal-cgroup b 15", "signal-cgroup b 18"],
    );
    killed(&mut s, &mut fx, 102, 13);
    s.shutdown(&mut fx, Ms(13));
    saw(
        &mut fx,
        &["kill-cgroup b", "signal-cgroup a 15", "signal-cgroup a 18"],
    );
    assert!(!s.all_down());
    killed(&mut s, &mut fx, 100, 14);
    s.shutdown(&mut fx, Ms(14));
    assert!(s.all_down());
    // Nothing starts again once the machine goes down.
    let _ = s.start(&mut fx, 0, Ms(15));
    saw(&mut fx, &["kill-cgroup a"]);
    assert!(s.all_down());
}

#[test]
fn restart_limit_ends_a_crash_loop() {
    let mut s = supervisor("service a restart-limit=3 -- /a\nservice b needs=a -- /b\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    let mut t = 0;
    for (p, backoff) in [(100, 100), (102, 200)] {
        exit(&mut s, &mut fx, p, 1, t + 50);
        t += 50 + backoff;
        assert_eq!(s.deadline(), Some(Ms(t)));
        s.on_timer(&mut fx, Ms(t));
    }
    exit(&mut s, &mut fx, 103, 1, t + 50);
    assert_eq!(
        state(&s, "a"),
        State::Failed {
            why: crate::supervise::unit::Failure::Limit
        }
    );
    // b was up (a was ready at first); it stays, and nothing respawns.
    assert_eq!(s.deadline(), None);
    let spawns = fx
        .take()
        .into_iter()
        .filter(|l| l.starts_with("spawn a"))
        .count();
    assert_eq!(spawns, 3);
}

#[test]
fn a_failed_spawn_backs_off_and_blocks_dependents_only_when_failed() {
    let mut s = supervisor("task t restart=never -- /t\nservice b needs=t -- /b\n");
    let mut fx = Fake {
        fail: Some(Errno::NOENT),
        ..Fake::default()
    };
    s.schedule(&mut fx, Ms(0));
    saw(&mut fx, &["spawn t failed"]);
    assert_eq!(state(&s, "b"), State::Blocked);
}

#[test]
fn control_answers_come_from_the_supervisor() {
    let mut s = supervisor("service a -- /a\nservice b after=a -- /b\n");
    let mut fx = Fake::default();
    assert_eq!(s.signal(&mut fx, 0, 1), Err(Refused::NotRunning));
    assert_eq!(s.reload(&mut fx, 0, Ms(0)), Err(Refused::NotRunning));
    s.schedule(&mut fx, Ms(5));
    fx.take();
    assert_eq!(s.signal(&mut fx, 1, 10), Ok(()));
    assert_eq!(s.reload(&mut fx, 0, Ms(6)), Ok(()));
    saw(&mut fx, &["kill b 101 10", "kill a 100 1"]);
    let rows: Vec<_> = s
        .boot_rows()
        .map(|(n, t, w)| (n, t.first_ready, w))
        .collect();
    assert_eq!(
        rows,
        [("a", Some(Ms(5)), None), ("b", Some(Ms(5)), Some("a"))]
    );
    assert_eq!(
        s.cgroup_dir(1).unwrap().as_str(),
        "/sys/fs/cgroup/services/b"
    );
}

/// The epoll token of socket `k` of unit `i`.
fn sock(i: u64, k: u64) -> u64 {
    token::SOCKET | i << 4 | k
}

/// (bound or not, connections accepted) of each socket of unit `i`, and
/// its instances.
fn sockets(s: &Supervisor<'_>, i: usize) -> (Vec<(bool, u32)>, usize) {
    let (socks, instances) = s.sockets(i);
    let socks = socks
        .map(|(_, b)| (b.is_some(), b.map_or(0, |b| b.accepted)))
        .collect();
    (socks, instances)
}

#[test]
fn an_on_demand_unit_listens_and_starts_at_the_first_connection() {
    let mut s = supervisor(
        "service web listen=tcp:8080 listen=unix:/run/web.sock start=on-demand -- /web\n\
         service app after=web -- /app\n",
    );
    let mut fx = Fake::default();
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    // Listening counts as ready: app does not wait for a connection.
    saw(&mut fx, &["spawn app 100"]);
    assert_eq!(state(&s, "web"), State::Listening);
    assert_eq!(fx.watched, 2);
    // The first connection starts it with both sockets; PID 1 stops
    // watching them while it runs.
    s.on_token(&mut fx, sock(0, 1), Ms(10));
    saw(&mut fx, &["spawn web 101 fds=2"]);
    assert_eq!(fx.watched, 0);
    s.on_token(&mut fx, sock(0, 0), Ms(11));
    saw(&mut fx, &[]);
    // It exits after a stable run: listening again, sockets still bound.
    exit(&mut s, &mut fx, 101, 0, 20_010);
    saw(&mut fx, &["kill-cgroup web"]);
    assert_eq!(state(&s, "web"), State::Listening);
    assert_eq!(fx.watched, 2);
    assert_eq!(sockets(&s, 0), (vec![(true, 0), (true, 0)], 0));
    // A stop leaves the sockets bound (and unwatched).
    s.stop(&mut fx, 0, Ms(20_020));
    assert_eq!(state(&s, "web"), State::Stopped);
    assert_eq!(fx.watched, 0);
    assert_eq!(sockets(&s, 0).0, [(true, 0), (true, 0)]);
    let _ = s.start(&mut fx, 0, Ms(20_030));
    assert_eq!((state(&s, "web"), fx.watched), (State::Listening, 2));
}

#[test]
fn a_boot_unit_keeps_its_sockets_across_crashes_and_stops() {
    let mut s = supervisor("service db listen=unix:/run/db.sock -- /db\n");
    let mut fx = Fake::default();
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    killed(&mut s, &mut fx, 100, 50);
    s.on_timer(&mut fx, Ms(150));
    s.stop(&mut fx, 0, Ms(200));
    killed(&mut s, &mut fx, 101, 210);
    saw(
        &mut fx,
        &[
            "spawn db 100 fds=1",
            "kill-cgroup db",
            "spawn db 101 fds=1",
            "signal-cgroup db 15",
            "signal-cgroup db 18",
            "kill-cgroup db",
        ],
    );
    assert_eq!(fx.watched, 0, "a boot unit's sockets are never watched");
    assert_eq!(sockets(&s, 0).0, [(true, 0)]);
}

#[test]
fn a_socket_that_cannot_be_bound_fails_only_its_unit() {
    let mut s = supervisor(
        "service a listen=tcp:80 listen=tcp:81 -- /a\n\
         service b needs=a -- /b\nservice c listen=tcp:82 -- /c\n",
    );
    let mut fx = Fake {
        unbindable: vec!["a"],
        ..Fake::default()
    };
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    saw(&mut fx, &["unbound a tcp:80", "spawn c 100 fds=1"]);
    assert_eq!(
        state(&s, "a"),
        State::Failed {
            why: crate::supervise::unit::Failure::Sockets
        }
    );
    assert_eq!(state(&s, "b"), State::Blocked);
    assert_eq!(sockets(&s, 0).0, [(false, 0), (false, 0)]);
    // `pinit start a` once the address is free binds again.
    fx.unbindable.clear();
    let _ = s.start(&mut fx, 0, Ms(10));
    saw(&mut fx, &["spawn a 101 fds=2"]);
}

#[test]
fn accept_starts_an_instance_per_connection_up_to_max_instances() {
    let mut s = supervisor(
        "service echo accept=yes max-instances=2 stop-timeout=1s listen=tcp:7 -- /echo\n",
    );
    let mut fx = Fake::default();
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    assert_eq!((state(&s, "echo"), fx.watched), (State::Listening, 1));
    // Three connections: two instances; the third waits in the backlog,
    // not accepted, and PID 1 stops watching until one exits.
    fx.pending = 3;
    s.on_token(&mut fx, sock(0, 0), Ms(10));
    saw(
        &mut fx,
        &["spawn echo@0 100 fds=conn", "spawn echo@1 101 fds=conn"],
    );
    assert_eq!((fx.pending, fx.watched), (1, 0));
    assert_eq!(sockets(&s, 0), (vec![(true, 2)], 2));
    // An instance exits: its cgroup goes, never a restart; room again.
    exit(&mut s, &mut fx, 100, 0, 20);
    saw(&mut fx, &["kill-cgroup echo@0"]);
    assert_eq!(fx.watched, 1);
    s.on_token(&mut fx, sock(0, 0), Ms(21));
    saw(&mut fx, &["spawn echo@0 102 fds=conn"]);
    assert_eq!(sockets(&s, 0), (vec![(true, 3)], 2));
    assert_eq!(state(&s, "echo"), State::Listening);
    // A stop: the unit stops listening, its instances get the stop
    // signal, then SIGKILL; it is down once they are gone.
    s.stop(&mut fx, 0, Ms(30));
    assert_eq!(state(&s, "echo"), State::Stopped);
    assert!(!s.all_down());
    s.on_timer(&mut fx, Ms(1030));
    exit(&mut s, &mut fx, 101, 0, 1040);
    exit(&mut s, &mut fx, 102, 0, 1041);
    let sigkill = |p| format!("kill echo {} {}", p, SIGKILL);
    saw(
        &mut fx,
        &[
            "kill echo 101 15",
            "kill echo 101 18",
            "kill echo 102 15",
            "kill echo 102 18",
            "kill-cgroup echo@1",
            &sigkill(101),
            "kill-cgroup echo@0",
            &sigkill(102),
            "kill-cgroup echo@1",
            "kill-cgroup echo@0",
        ],
    );
    assert!(s.all_down());
    assert_eq!(sockets(&s, 0).0, [(true, 3)], "the socket stays bound");
}

#[test]
fn an_instance_whose_exec_fails_pauses_its_units_accepting() {
    // The instance's report comes later (PID 1 never waits for an
    // exec): a failure record pauses the unit's sockets for
    // ACCEPT_PAUSE_MS, so a missing binary does not fork once per
    // connection in a loop; an exec (the pipe's end) pauses nothing.
    let mut s = supervisor("service echo accept=yes max-instances=4 listen=tcp:7 -- /echo\n");
    let mut fx = Fake {
        reports: true,
        ..Fake::default()
    };
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    fx.pending = 2;
    s.on_token(&mut fx, sock(0, 0), Ms(10));
    saw(
        &mut fx,
        &["spawn echo@0 100 fds=conn", "spawn echo@1 101 fds=conn"],
    );
    // The socket and both report pipes.
    assert_eq!(fx.watched, 3);
    drop(fx.writers.remove(0));
    s.on_token(&mut fx, token::INSTANCE_REPORT, Ms(11));
    assert_eq!(fx.watched, 2);
    let wr = fx.writers.remove(0);
    spawn::report_failure(&wr, spawn::Step::Exec, Errno::NOENT);
    drop(wr);
    s.on_token(&mut fx, token::INSTANCE_REPORT | 1, Ms(12));
    assert_eq!(fx.watched, 0, "paused: the socket is not watched");
    assert_eq!(s.deadline(), Some(Ms(12 + ACCEPT_PAUSE_MS)));
    exit(&mut s, &mut fx, 101, 127, 13);
    assert_eq!(fx.watched, 0);
    s.on_timer(&mut fx, Ms(12 + ACCEPT_PAUSE_MS));
    assert_eq!(fx.watched, 1, "accepting again after the pause");
}

/// What a re-exec hands over of unit `i` (boot/reexec.rs): its record
/// and copies of its fds, as the new program inherits them.
fn handed_over(s: &Supervisor<'_>, i: usize) -> (Carried<'static>, UnitFds<OwnedFd>) {
    let (c, fds) = s.carried(i).unwrap();
    let dup = |f: BorrowedFd<'_>| rustix::io::fcntl_dupfd_cloexec(f, 0).unwrap();
    let c = Carried {
        name: String::from(c.name).leak(),
        status: Vec::from(c.status).leak(),
        ..c
    };
    let mut owned = UnitFds::<OwnedFd> {
        cgroup: fds.cgroup.map(dup),
        ..UnitFds::default()
    };
    for (fd, n) in fds.sockets {
        owned.sockets.push((dup(fd), n)).unwrap();
    }
    (c, owned)
}

#[test]
fn a_re_exec_keeps_the_sockets_the_listening_state_and_the_instances() {
    let conf = "service web listen=tcp:8080 listen=unix:/run/web.sock start=on-demand -- /web\n\
                service echo accept=yes max-instances=2 listen=tcp:7 -- /echo\n";
    let mut old = supervisor(conf);
    let mut fx = Fake::default();
    old.bind_all(&mut fx, Ms(0));
    old.schedule(&mut fx, Ms(0));
    fx.pending = 2;
    old.on_token(&mut fx, sock(1, 0), Ms(10));
    saw(
        &mut fx,
        &["spawn echo@0 100 fds=conn", "spawn echo@1 101 fds=conn"],
    );
    // The new program: the same table; nothing may be bound again.
    let mut new = supervisor(conf);
    let mut fx = Fake {
        unbindable: vec!["web", "echo"],
        next_pid: 101,
        ..Fake::default()
    };
    for i in 0..2 {
        let (c, fds) = handed_over(&old, i);
        new.resume(&mut fx, i, &c, fds, Ms(20));
    }
    for inst in old.instances() {
        assert!(new.resume_instance(&mut fx, usize::from(inst.unit), *inst, Ms(20)));
    }
    new.bind_all(&mut fx, Ms(20));
    new.schedule(&mut fx, Ms(20));
    saw(&mut fx, &[]);
    assert_eq!(state(&new, "web"), State::Listening);
    assert_eq!(state(&new, "echo"), State::Listening);
    assert_eq!(sockets(&new, 0), (vec![(true, 0), (true, 0)], 0));
    assert_eq!(sockets(&new, 1), (vec![(true, 2)], 2));
    // web's two sockets are watched; echo's not while it is full.
    assert_eq!(fx.watched, 2);
    // An instance started by the old program ends: reaped, its cgroup
    // goes, and echo accepts again.
    exit(&mut new, &mut fx, 100, 0, 30);
    saw(&mut fx, &["kill-cgroup echo@0"]);
    assert_eq!((sockets(&new, 1).1, fx.watched), (1, 3));
    // The first connection to web starts it, with both sockets.
    new.on_token(&mut fx, sock(0, 1), Ms(40));
    saw(&mut fx, &["spawn web 102 fds=2"]);
    // An instance's number is its own: not taken back twice, nor by a
    // unit without accept=yes.
    let inst = *old.instances().next().unwrap();
    assert!(!new.resume_instance(&mut fx, 1, Instance { num: 1, ..inst }, Ms(50)));
    assert!(!new.resume_instance(&mut fx, 0, inst, Ms(50)));
}

#[test]
fn shutdown_stops_instances_in_dependency_order() {
    let mut s = supervisor(
        "service echo accept=yes listen=unix:/run/e.sock -- /echo\n\
         service front needs=echo -- /front\n",
    );
    let mut fx = Fake::default();
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    fx.pending = 1;
    s.on_token(&mut fx, sock(0, 0), Ms(1));
    fx.take();
    s.shutdown(&mut fx, Ms(10));
    // front first; echo's instance only once front is down.
    saw(
        &mut fx,
        &["signal-cgroup front 15", "signal-cgroup front 18"],
    );
    killed(&mut s, &mut fx, 100, 11);
    s.shutdown(&mut fx, Ms(11));
    saw(
        &mut fx,
        &["kill-cgroup front", "kill echo 101 15", "kill echo 101 18"],
    );
    assert!(!s.all_down());
    killed(&mut s, &mut fx, 101, 12);
    assert!(s.all_down());
}

#[test]
fn a_failed_instance_start_pauses_accepting() {
    let mut s = supervisor("service echo accept=yes listen=tcp:7 -- /echo\n");
    let mut fx = Fake::default();
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    fx.pending = 2;
    fx.fail = Some(Errno::NOENT);
    s.on_token(&mut fx, sock(0, 0), Ms(5));
    saw(&mut fx, &["spawn echo@0 failed"]);
    // The connection was taken (and closed); the next one waits.
    assert_eq!((fx.pending, fx.watched), (1, 0));
    assert_eq!(s.deadline(), Some(Ms(1005)));
    fx.fail = None;
    s.on_timer(&mut fx, Ms(1005));
    assert_eq!((fx.watched, s.deadline()), (1, None));
    s.on_token(&mut fx, sock(0, 0), Ms(1006));
    saw(&mut fx, &["spawn echo@0 100 fds=conn"]);
}

#[test]
fn a_silent_service_gets_sigabrt_and_is_restarted() {
    let mut s = supervisor("service d ready=notify watchdog=2s stop-timeout=1s -- /d\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    // Not armed before READY=1.
    assert_eq!(s.unit(0).unwrap().1.deadline(), None);
    s.on_notify(&mut fx, 100, b"READY=1\nWATCHDOG=1\n", Ms(10));
    assert_eq!(s.deadline(), Some(Ms(2010)));
    s.on_notify(&mut fx, 100, b"WATCHDOG=1\n", Ms(1000));
    assert_eq!(s.deadline(), Some(Ms(3000)));
    assert_eq!(s.unit(0).unwrap().1.watchdog(), (2000, Some(Ms(1000))));
    s.on_timer(&mut fx, Ms(2999));
    saw(&mut fx, &["spawn d 100"]);
    s.on_timer(&mut fx, Ms(3000));
    saw(&mut fx, &["kill d 100 6"]);
    // It dumps core and dies of the SIGABRT: restarted after the back-off.
    assert!(s.on_exit(&mut fx, pid(100), Status::Signal(6), Ms(3100)));
    assert_eq!(state(&s, "d"), State::BackingOff { until: Ms(3200) });
    s.on_timer(&mut fx, Ms(3200));
    // The fake's cgroup still listed 100 at the exit's sweep: one more.
    saw(&mut fx, &["kill-cgroup d", "kill-cgroup d", "spawn d 101"]);
    assert_eq!(s.take_failure_action(), None);
}

#[test]
fn a_service_that_ignores_sigabrt_is_killed_after_stop_timeout() {
    let mut s = supervisor("service d ready=notify watchdog=1s stop-timeout=2s -- /d\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    s.on_notify(&mut fx, 100, b"READY=1\n", Ms(0));
    s.on_timer(&mut fx, Ms(1000));
    s.on_timer(&mut fx, Ms(3000));
    let sigkill = format!("kill d 100 {}", SIGKILL);
    saw(
        &mut fx,
        &["spawn d 100", "kill d 100 6", "kill-cgroup d", &sigkill],
    );
}

#[test]
fn watchdog_trigger_and_a_new_period_from_the_socket() {
    let mut s =
        supervisor("service a ready=notify watchdog=1s -- /a\nservice b ready=notify -- /b\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    s.on_notify(&mut fx, 100, b"READY=1\nWATCHDOG_USEC=4000000\n", Ms(10));
    s.on_notify(&mut fx, 101, b"READY=1\n", Ms(10));
    // b has no watchdog=: nothing due; a's period is 4 s now.
    assert_eq!(s.deadline(), Some(Ms(4010)));
    s.on_timer(&mut fx, Ms(1010));
    // 1 µs rounds up to 1 ms, never to "off".
    s.on_notify(&mut fx, 100, b"WATCHDOG_USEC=1\n", Ms(2000));
    assert_eq!(s.deadline(), Some(Ms(2001)));
    s.on_notify(&mut fx, 100, b"WATCHDOG_USEC=0\n", Ms(2000));
    assert_eq!(s.unit(0).unwrap().1.deadline(), None);
    // trigger works without watchdog= too.
    s.on_notify(&mut fx, 101, b"WATCHDOG=trigger\n", Ms(3000));
    saw(&mut fx, &["spawn a 100", "spawn b 101", "kill b 101 6"]);
}

#[test]
fn on_failure_is_taken_once_and_never_during_shutdown() {
    let mut s = supervisor(
        "task t on-failure=reboot -- /t\n\
         service s restart-limit=2 on-failure=poweroff -- /s\n\
         task quiet -- /q\n",
    );
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    exit(&mut s, &mut fx, 102, 1, 5);
    // A unit without on-failure= fails: nothing to do.
    assert_eq!(s.take_failure_action(), None);
    exit(&mut s, &mut fx, 100, 1, 10);
    assert_eq!(s.take_failure_action(), Some((0, OnFailure::Reboot)));
    assert_eq!(s.unit_name(0), "t");
    assert_eq!(s.take_failure_action(), None);
    // restart-limit reached: failed, so its action.
    exit(&mut s, &mut fx, 101, 1, 20);
    s.on_timer(&mut fx, Ms(120));
    exit(&mut s, &mut fx, 103, 1, 130);
    assert!(matches!(state(&s, "s"), State::Failed { .. }));
    assert_eq!(s.take_failure_action(), Some((1, OnFailure::Poweroff)));
    // Once the machine goes down, a failure changes nothing.
    // (a waits for b to stop first, and crashes meanwhile.)
    let mut s =
        supervisor("service a restart=never on-failure=reboot -- /a\nservice b needs=a -- /b\n");
    s.schedule(&mut fx, Ms(0));
    s.shutdown(&mut fx, Ms(1));
    assert!(s.on_exit(&mut fx, pid(104), Status::Signal(9), Ms(2)));
    assert!(matches!(state(&s, "a"), State::Failed { .. }));
    assert_eq!(s.take_failure_action(), None);
}

#[test]
fn a_forked_daemon_is_found_through_its_pidfile() {
    let mut s =
        supervisor("service d ready=forked pidfile=/run/d.pid -- /d\nservice w needs=d -- /w\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    // The launcher forks the daemon, exits 0; the pidfile comes later.
    fx.fork(101, "d");
    exit(&mut s, &mut fx, 100, 0, 10);
    assert!(matches!(state(&s, "d"), State::Adopting { .. }));
    assert_eq!(s.deadline(), Some(Ms(60)));
    saw(&mut fx, &["spawn d 100", "watch-events d"]);
    // A pidfile naming a process outside the unit is refused.
    fx.cgroups.push((4242, "w"));
    fx.pidfiles.push(("/run/d.pid", Ok(Some(4242))));
    s.on_timer(&mut fx, Ms(60));
    assert!(matches!(state(&s, "d"), State::Adopting { .. }));
    // Then the daemon writes its own PID: the unit is ready, its
    // dependent starts, the cgroup is no longer watched.
    fx.pidfiles[0].1 = Ok(Some(101));
    s.on_timer(&mut fx, Ms(110));
    s.schedule(&mut fx, Ms(110));
    assert_eq!(
        state(&s, "d"),
        State::Running {
            pid: pid(101),
            deadline: None
        }
    );
    saw(&mut fx, &["spawn w 101"]);
    assert_eq!(fx.watched, 0);
    // Killed: restarted, its cgroup killed first.
    killed(&mut s, &mut fx, 101, 200);
    assert!(matches!(state(&s, "d"), State::BackingOff { .. }));
    saw(&mut fx, &["kill-cgroup d"]);
}

#[test]
fn a_forked_daemon_whose_pidfile_never_comes_is_stopped_and_failed() {
    let mut s = supervisor(
        "service d ready=forked pidfile=/run/d.pid ready-timeout=1s restart=never -- /d\n",
    );
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.fork(101, "d");
    exit(&mut s, &mut fx, 100, 0, 10);
    let mut t = 10;
    while let Some(d) = s.deadline().filter(|d| d.0 < 1_000) {
        t = d.0;
        s.on_timer(&mut fx, d);
    }
    assert!(t >= 950, "{}", t);
    s.on_timer(&mut fx, Ms(1_000));
    assert!(matches!(state(&s, "d"), State::Stopping { pid: None, .. }));
    saw(
        &mut fx,
        &[
            "spawn d 100",
            "watch-events d",
            "signal-cgroup d 15",
            "signal-cgroup d 18",
        ],
    );
    // The daemon goes on TERM: cgroup.events says the cgroup is empty.
    fx.left.clear();
    s.on_token(&mut fx, token::EVENTS, Ms(1_010));
    assert_eq!(
        state(&s, "d"),
        State::Failed {
            why: crate::supervise::unit::Failure::PidFile
        }
    );
    assert_eq!(fx.watched, 0);
}

#[test]
fn a_forked_daemon_without_a_pidfile_is_what_its_cgroup_holds() {
    let mut s =
        supervisor("service one ready=forked -- /one\nservice many ready=forked -- /many\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    // one: a single process left is the main process.
    fx.fork(110, "one");
    exit(&mut s, &mut fx, 100, 0, 10);
    assert_eq!(
        state(&s, "one"),
        State::Running {
            pid: pid(110),
            deadline: None
        }
    );
    // many: several, so the cgroup stands for the unit.
    fx.fork(120, "many");
    fx.fork(121, "many");
    exit(&mut s, &mut fx, 101, 0, 20);
    assert_eq!(state(&s, "many"), State::Tracking);
    assert_eq!(s.unit(1).unwrap().1.outcome(), Outcome::Ready);
    assert_eq!(s.reload(&mut fx, 1, Ms(21)), Err(Refused::NoMainProcess));
    assert_eq!(s.signal(&mut fx, 1, 1), Err(Refused::NoMainProcess));
    // One of them goes (an orphan PID 1 reaps): the other is the main
    // process now, and the cgroup is no longer watched.
    fx.left.retain(|(p, _)| *p != 120);
    assert!(!s.on_exit(&mut fx, pid(120), Status::Code(0), Ms(30)));
    assert_eq!(
        state(&s, "many"),
        State::Running {
            pid: pid(121),
            deadline: None
        }
    );
    saw(
        &mut fx,
        &["spawn one 100", "spawn many 101", "watch-events many"],
    );
    assert_eq!(fx.watched, 0);
}

#[test]
fn a_tracked_cgroup_that_empties_is_restarted() {
    let mut s = supervisor("service many ready=forked -- /many\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.fork(120, "many");
    fx.fork(121, "many");
    exit(&mut s, &mut fx, 100, 0, 10);
    assert_eq!(state(&s, "many"), State::Tracking);
    // Not empty yet: nothing happens.
    s.on_token(&mut fx, token::EVENTS, Ms(20));
    assert_eq!(state(&s, "many"), State::Tracking);
    fx.left.clear();
    s.on_token(&mut fx, token::EVENTS, Ms(30));
    assert_eq!(state(&s, "many"), State::BackingOff { until: Ms(130) });
    saw(
        &mut fx,
        &["spawn many 100", "watch-events many", "kill-cgroup many"],
    );
    assert_eq!(fx.watched, 0);
    // `pinit stop` of a tracked unit signals the whole cgroup.
    s.on_timer(&mut fx, Ms(130));
    fx.fork(130, "many");
    fx.fork(131, "many");
    exit(&mut s, &mut fx, 101, 0, 140);
    s.stop(&mut fx, 0, Ms(150));
    saw(
        &mut fx,
        &[
            "spawn many 101",
            "watch-events many",
            "signal-cgroup many 15",
            "signal-cgroup many 18",
        ],
    );
    fx.left.clear();
    s.on_token(&mut fx, token::EVENTS, Ms(160));
    assert_eq!(state(&s, "many"), State::Stopped);
}

#[test]
fn restart_with_kill_main_keeps_the_rest_of_the_cgroup() {
    let mut s = supervisor("service sshd kill=main -- /sshd\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.fork(150, "sshd"); // a session
    assert!(s.restart(&mut fx, 0, Ms(10)).is_ok());
    killed(&mut s, &mut fx, 100, 20);
    // The new sshd runs in the same cgroup, beside the session.
    saw(
        &mut fx,
        &[
            "spawn sshd 100",
            "kill sshd 100 15",
            "kill sshd 100 18",
            "spawn sshd 101",
        ],
    );
    assert_eq!(fx.procs_in("sshd"), 2);
    // A crash keeps the session as well.
    exit(&mut s, &mut fx, 101, 1, 30);
    assert!(fx.take().iter().all(|l| !l.starts_with("kill-cgroup")));
    // At shutdown the whole cgroup goes.
    s.on_timer(&mut fx, Ms(130));
    fx.take();
    s.shutdown(&mut fx, Ms(200));
    killed(&mut s, &mut fx, 102, 210);
    saw(
        &mut fx,
        &[
            "signal-cgroup sshd 15",
            "signal-cgroup sshd 18",
            "kill-cgroup sshd",
        ],
    );
    assert_eq!(fx.procs_in("sshd"), 0);
}

#[test]
fn start_of_a_dependent_does_not_run_a_done_task_again() {
    let mut s = supervisor(
        "task once -- /once\ntask broken -- /broken\nservice u needs=once,broken -- /u\n",
    );
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    exit(&mut s, &mut fx, 100, 0, 10);
    exit(&mut s, &mut fx, 101, 3, 10);
    assert_eq!(state(&s, "u"), State::Blocked);
    saw(
        &mut fx,
        &[
            "spawn once 100",
            "spawn broken 101",
            "kill-cgroup once",
            "kill-cgroup broken",
        ],
    );
    // u needs both: the failed task runs again, the done one does not.
    assert!(s.start(&mut fx, 2, Ms(20)).is_ok());
    saw(&mut fx, &["spawn broken 102"]);
    exit(&mut s, &mut fx, 102, 0, 30);
    saw(&mut fx, &["kill-cgroup broken", "spawn u 103"]);
    assert_eq!(state(&s, "once"), State::Done);
    // Its own start runs it again, and so does its restart.
    assert!(s.start(&mut fx, 0, Ms(40)).is_ok());
    exit(&mut s, &mut fx, 104, 0, 50);
    assert!(s.restart(&mut fx, 0, Ms(60)).is_ok());
    s.schedule(&mut fx, Ms(60));
    saw(
        &mut fx,
        &["spawn once 104", "kill-cgroup once", "spawn once 105"],
    );
}

#[test]
fn runtime_dirs_go_when_the_unit_stops_not_when_it_restarts() {
    let mut s = supervisor(
        "service a runtime-dir=a -- /a\nservice k runtime-dir=k runtime-dir-keep=yes -- /k\ntask t runtime-dir=t -- /t\n",
    );
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    exit(&mut s, &mut fx, 100, 1, 10);
    s.on_timer(&mut fx, Ms(110));
    assert!(s.restart(&mut fx, 0, Ms(120)).is_ok());
    killed(&mut s, &mut fx, 103, 130);
    saw(
        &mut fx,
        &[
            "spawn a 100",
            "spawn k 101",
            "spawn t 102",
            "kill-cgroup a",
            "spawn a 103",
            "signal-cgroup a 15",
            "signal-cgroup a 18",
            "kill-cgroup a",
            "spawn a 104",
        ],
    );
    // A task's end, a stop: gone, unless kept.
    exit(&mut s, &mut fx, 102, 0, 140);
    saw(&mut fx, &["kill-cgroup t", "rmdir t"]);
    s.stop(&mut fx, 0, Ms(150));
    killed(&mut s, &mut fx, 104, 160);
    s.stop(&mut fx, 1, Ms(170));
    killed(&mut s, &mut fx, 101, 180);
    saw(
        &mut fx,
        &[
            "signal-cgroup a 15",
            "signal-cgroup a 18",
            "kill-cgroup a",
            "rmdir a",
            "signal-cgroup k 15",
            "signal-cgroup k 18",
            "kill-cgroup k",
        ],
    );
}

#[test]
fn the_boot_names_what_is_not_settled_after_a_while() {
    let mut s = supervisor("service slow ready=notify -- /slow\nservice w needs=slow -- /w\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(1_000));
    assert_eq!(s.deadline(), Some(Ms(1_000 + report::BOOT_LATE_MS)));
    s.on_timer(&mut fx, Ms(1_000 + report::BOOT_LATE_MS));
    assert_eq!(s.deadline(), None);
    // Said once; the summary still comes when the boot settles.
    s.on_notify(&mut fx, 100, b"READY=1\n", Ms(40_000));
    s.schedule(&mut fx, Ms(40_000));
    assert!(s.booted);
}

/// The pid of unit `name`, if it runs.
fn pid_of(s: &Supervisor<'_>, name: &str) -> Option<i32> {
    let i = s.find(name)?;
    s.unit(i)?.1.main_pid().map(|p| p.as_raw_nonzero().get())
}

/// Parses `conf` into the spare buffer and starts the reload; the plan,
/// one `{:?}` line per unit.
fn reload(s: &mut Supervisor<'_>, fx: &mut Fake, conf: &str, t: u64) -> Vec<String> {
    let errors = s.spare().expect("no reload under way").fill(
        |buf| {
            buf[..conf.len()].copy_from_slice(conf.as_bytes());
            Ok::<usize, ()>(conf.len())
        },
        |text, t| table::parse("new.conf", text, t, &mut |d| panic!("{}", d)),
    );
    assert_eq!(errors, Ok(0));
    let mut plan = Vec::new();
    s.reload_table(fx, Ms(t), &mut |p| plan.push(format!("{:?}", p)))
        .unwrap();
    // As the event loop does after every wake-up.
    s.schedule(fx, Ms(t));
    plan
}

const EIGHT: &str = "service a -- /a\nservice b -- /b\nservice c -- /c\n\
    service d mem.max=64M -- /d\nservice e -- /e\nservice f after=e -- /f\n\
    service g -- /g\nservice h -- /h\n";

#[test]
fn reload_stops_starts_restarts_and_changes_in_place() {
    let mut s = supervisor(EIGHT);
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.take();
    let before: Vec<_> = "abcdefgh"
        .chars()
        .map(|c| pid_of(&s, &c.to_string()))
        .collect();
    // b goes, x comes, c runs another command, d gets another mem.max;
    // the order changes too, so every kept slot moves.
    let new = "service x after=a -- /x\nservice h -- /h\nservice g -- /g\n\
        service f after=e -- /f\nservice e -- /e\nservice d mem.max=32M -- /d\n\
        service c -- /c --new\nservice a -- /a\n";
    let plan = reload(&mut s, &mut fx, new, 10);
    assert_eq!(
        plan,
        [
            "Stop(\"b\")",
            "Start(\"x\")",
            "InPlace(\"d\", 1)",
            "Restart(\"c\")"
        ]
    );
    // The limit is written at once; b and c get their stop signal.
    saw(
        &mut fx,
        &[
            "limits d 1",
            "signal-cgroup b 15",
            "signal-cgroup b 18",
            "signal-cgroup c 15",
            "signal-cgroup c 18",
        ],
    );
    assert!(
        s.spare().is_none(),
        "a second reload while one is under way"
    );
    assert_eq!(s.restart(&mut fx, 2, Ms(11)), Err(Refused::Reloading));
    killed(&mut s, &mut fx, 101, 20);
    saw(&mut fx, &["kill-cgroup b"]);
    assert_eq!(
        s.find("x"),
        None,
        "the old table is in force until c is down"
    );
    killed(&mut s, &mut fx, 102, 30);
    saw(
        &mut fx,
        &[
            "kill-cgroup c",
            "remove-cgroup b",
            "spawn x 108",
            "spawn c 109",
        ],
    );
    assert_eq!(s.len(), 8);
    assert_eq!(s.find("b"), None);
    for (name, was) in "adefgh".chars().zip([0, 3, 4, 5, 6, 7]) {
        assert_eq!(pid_of(&s, &name.to_string()), before[was], "{}", name);
    }
    assert_eq!(pid_of(&s, "c"), Some(109));
    // A kept unit still answers to its own pid after the move.
    exit(&mut s, &mut fx, before[7].unwrap(), 1, 40_000);
    saw(&mut fx, &["kill-cgroup h", "spawn h 110"]);
    assert!(s.spare().is_some());
}

#[test]
fn reload_stops_removed_units_dependents_first() {
    let mut s = supervisor("service db -- /db\nservice app needs=db -- /app\nservice z -- /z\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.take();
    reload(&mut s, &mut fx, "service z -- /z\n", 10);
    saw(&mut fx, &["signal-cgroup app 15", "signal-cgroup app 18"]);
    killed(&mut s, &mut fx, 102, 20);
    saw(
        &mut fx,
        &[
            "kill-cgroup app",
            "signal-cgroup db 15",
            "signal-cgroup db 18",
        ],
    );
    killed(&mut s, &mut fx, 100, 30);
    saw(
        &mut fx,
        &["kill-cgroup db", "remove-cgroup db", "remove-cgroup app"],
    );
    assert_eq!((s.len(), pid_of(&s, "z")), (1, Some(101)));
}

#[test]
fn reload_with_nothing_running_to_stop_takes_over_at_once() {
    let mut s = supervisor("service a -- /a\nservice b restart-max=10s -- /b\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    exit(&mut s, &mut fx, 101, 1, 5);
    assert!(matches!(state(&s, "b"), State::BackingOff { .. }));
    fx.take();
    // b backs off: it is replaced without waiting, and its back-off is
    // not left to spawn the old command.
    let plan = reload(&mut s, &mut fx, "service a -- /a\nservice b -- /b2\n", 10);
    assert_eq!(plan, ["Restart(\"b\")"]);
    saw(&mut fx, &["spawn b 102"]);
    assert_eq!(pid_of(&s, "a"), Some(100));
}

#[test]
fn a_status_text_moves_with_its_unit_in_a_reload() {
    let mut s = supervisor("service a ready=notify -- /a\nservice b ready=notify -- /b\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    s.on_notify(&mut fx, 100, b"READY=1\nSTATUS=serving a\n", Ms(1));
    s.on_notify(&mut fx, 101, b"READY=1\nSTATUS=serving b\n", Ms(1));
    // n comes first: a and b move up one place, n takes a fresh slot.
    let plan = reload(
        &mut s,
        &mut fx,
        "service n -- /n\nservice b ready=notify -- /b\nservice a ready=notify -- /a\n",
        10,
    );
    assert_eq!(plan, ["Start(\"n\")"]);
    let text = |name| s.status_text(s.find(name).unwrap()).to_vec();
    assert_eq!(text("a"), b"serving a");
    assert_eq!(text("b"), b"serving b");
    assert_eq!(text("n"), b"");
    assert_eq!(pid_of(&s, "a"), Some(100));
}

#[test]
fn reload_gives_failed_and_blocked_units_another_chance() {
    let mut s = supervisor("task t restart=never -- /t\nservice b needs=t -- /b\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    exit(&mut s, &mut fx, 100, 1, 5);
    assert_eq!(state(&s, "b"), State::Blocked);
    fx.take();
    let plan = reload(
        &mut s,
        &mut fx,
        "task t -- /t --fixed\nservice b needs=t -- /b\n",
        10,
    );
    assert_eq!(plan, ["Start(\"t\")"]);
    saw(&mut fx, &["spawn t 101"]);
    exit(&mut s, &mut fx, 101, 0, 20);
    saw(&mut fx, &["kill-cgroup t", "spawn b 102"]);
}

#[test]
fn reload_takes_settings_in_place() {
    let mut s = supervisor("service a stop-timeout=5s -- /a\n");
    let mut fx = Fake::default();
    s.schedule(&mut fx, Ms(0));
    fx.take();
    let plan = reload(&mut s, &mut fx, "service a stop-timeout=1s -- /a\n", 10);
    assert_eq!(plan.len(), 1);
    assert!(plan[0].starts_with("InPlace(\"a\""), "{:?}", plan);
    assert!(fx.take().is_empty(), "a setting restarted the unit");
    s.stop(&mut fx, 0, Ms(20));
    assert_eq!(s.deadline(), Some(Ms(1020)));
}

/// The fd numbers of unit `name`'s sockets (-1: not bound).
fn socket_fds(s: &Supervisor<'_>, name: &str) -> Vec<i32> {
    let i = s.find(name).unwrap();
    s.sockets(i)
        .0
        .map(|(_, b)| b.map_or(-1, |b| rustix::fd::AsRawFd::as_raw_fd(&b.fd)))
        .collect()
}

#[test]
fn reload_keeps_unchanged_sockets_and_binds_changed_ones() {
    let mut s = supervisor(
        "service keep listen=tcp:80 -- /keep\n\
         service moved listen=tcp:81 -- /moved\n\
         service gone start=on-demand listen=unix:/run/gone.sock -- /gone\n\
         service echo accept=yes listen=tcp:7 -- /echo\n",
    );
    let mut fx = Fake::default();
    s.bind_all(&mut fx, Ms(0));
    s.schedule(&mut fx, Ms(0));
    fx.pending = 1;
    s.on_token(&mut fx, sock(3, 0), Ms(1));
    saw(
        &mut fx,
        &[
            "spawn keep 100 fds=1",
            "spawn moved 101 fds=1",
            "spawn echo@0 102 fds=conn",
        ],
    );
    let (keep, echo) = (socket_fds(&s, "keep"), socket_fds(&s, "echo"));
    // keep: a new command, the same socket; moved: another port; echo
    // moves to the front; gone goes; new comes.
    let plan = reload(
        &mut s,
        &mut fx,
        "service echo accept=yes listen=tcp:7 -- /echo\n\
         service new start=on-demand listen=tcp:83 -- /new\n\
         service keep listen=tcp:80 -- /keep --v2\n\
         service moved listen=tcp:82 -- /moved\n",
        10,
    );
    assert_eq!(
        plan,
        [
            "Stop(\"gone\")",
            "Start(\"new\")",
            "Restart(\"keep\")",
            "Restart(\"moved\")"
        ]
    );
    killed(&mut s, &mut fx, 100, 20);
    killed(&mut s, &mut fx, 101, 21);
    saw(
        &mut fx,
        &[
            "signal-cgroup keep 15",
            "signal-cgroup keep 18",
            "signal-cgroup moved 15",
            "signal-cgroup moved 18",
            "kill-cgroup keep",
            "kill-cgroup moved",
            "unbind gone unix:/run/gone.sock",
            "remove-cgroup gone",
            "unbind moved tcp:81",
            "spawn keep 103 fds=1",
            "spawn moved 104 fds=1",
        ],
    );
    assert_eq!(socket_fds(&s, "keep"), keep, "keep's socket is the same");
    assert_eq!(socket_fds(&s, "echo"), echo, "echo's socket is the same");
    assert!(socket_fds(&s, "moved")[0] >= 0);
    assert!(
        socket_fds(&s, "new")[0] >= 0,
        "a new unit's socket is bound"
    );
    assert_eq!(state(&s, "new"), State::Listening);
    // Watched: echo's socket (under its new index) and new's.
    assert_eq!(fx.watched, 2);
    fx.pending = 1;
    s.on_token(&mut fx, sock(0, 0), Ms(30));
    exit(&mut s, &mut fx, 102, 0, 31);
    saw(
        &mut fx,
        &["spawn echo@1 105 fds=conn", "kill-cgroup echo@0"],
    );
    assert_eq!(sockets(&s, 0), (vec![(true, 2)], 1));
}

#[test]
fn an_exec_is_noted_on_the_cgroup_only_for_a_unit_that_waits_for_readiness() {
    let service = Policy::new(UnitKind::Service);
    let notify = Policy {
        ready: Ready::Notify,
        ..service
    };
    let task = Policy::new(UnitKind::Task);
    let starting = State::Starting {
        pid: pid(40),
        deadline: None,
    };
    let running = State::Running {
        pid: pid(40),
        deadline: None,
    };
    // boot/adopt.rs reads `starting 40` as `running 40` for these two.
    assert!(!worth_recording(starting, running, &service));
    assert!(!worth_recording(starting, running, &task));
    // Here `starting` means not ready yet: the exec is not the change.
    assert!(worth_recording(starting, running, &notify));
    // Every other change is noted; no change is not.
    assert!(worth_recording(State::Spawning, starting, &service));
    assert!(worth_recording(running, State::Stopped, &service));
    let other = State::Running {
        pid: pid(41),
        deadline: None,
    };
    assert!(worth_recording(starting, other, &service));
    assert!(!worth_recording(running, running, &service));
}
