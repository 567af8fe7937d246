//! The supervisor: the effects around the pure unit state machines
//! (unit.rs) and the order scheduler (order.rs). It spawns, signals,
//! kills cgroups, captures output and reads readiness; every decision is
//! `Unit::step`'s, every order `order::plan`'s.

use crate::place::cgroup::{self, Base};
use crate::say;
use crate::supervise::capture::{self, Capture};
use crate::supervise::epoll::Loop;
use crate::supervise::launch::Error;
use crate::supervise::notify::{self, Field};
use crate::supervise::order::{self, Dep, Graph, Set};
use crate::supervise::unit::{
    Action, Event, Failure, Outcome, Policy, Readiness, State, Status, Unit,
};
use crate::sys::errno::Name;
use crate::sys::time::Ms;
use crate::table::{self, Table};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Pid;

/// Longest `STATUS=` text kept per unit.
pub const STATUS_MAX: usize = 80;
/// Epoll tokens of per-unit fds: `KIND | index`.
pub const TOKEN_LOG: u64 = 1 << 16;
pub const TOKEN_READY: u64 = 2 << 16;
pub const TOKEN_PIDFD: u64 = 3 << 16;
const TOKEN_KIND: u64 = 0xff << 16;

/// One unit at run time.
pub struct Slot {
    pub sm: Unit,
    /// The cgroup directory, opened once, for CLONE_INTO_CGROUP.
    cgroup: Option<OwnedFd>,
    /// The output pipe (log=kmsg), read end and write end: made once and
    /// shared by every run, so a restart loses no line and adds no fd.
    out: Option<(OwnedFd, OwnedFd)>,
    cap: Capture,
    /// Read end of the `ready=fd:N` pipe.
    ready: Option<OwnedFd>,
    /// A MAINPID= that is not our child, watched through a pidfd.
    pidfd: Option<OwnedFd>,
    /// The last started process: its output is logged under this pid,
    /// and it leads the unit's session and process group.
    log_pid: i32,
    /// The last `STATUS=` line.
    pub status: heapless::Vec<u8, STATUS_MAX>,
    /// The boot timeline: when its dependencies were first met, when it
    /// was first started, first ready (a task: done).
    pub deps_met: Option<Ms>,
    pub first_start: Option<Ms>,
    pub first_ready: Option<Ms>,
}

impl Slot {
    fn new(policy: Policy) -> Slot {
        Slot {
            sm: Unit::new(policy),
            cgroup: None,
            out: None,
            cap: Capture::new(),
            ready: None,
            pidfd: None,
            log_pid: 0,
            status: heapless::Vec::new(),
            deps_met: None,
            first_start: None,
            first_ready: None,
        }
    }

    /// Notes the boot timeline's first times.
    fn timeline(&mut self, event: Event, now: Ms) {
        if event == Event::Start && self.deps_met.is_none() {
            self.deps_met = Some(now);
        }
        match self.sm.state() {
            State::Starting { .. } | State::Running { .. } if self.first_start.is_none() => {
                self.first_start = Some(self.sm.since());
            }
            _ => {}
        }
        if self.first_ready.is_none() && matches!(self.sm.outcome(), Outcome::Ready | Outcome::Done)
        {
            self.first_ready = Some(now);
        }
    }
}

pub type Slots = heapless::Vec<Slot, { table::capacity::UNITS_MAX }>;

/// The slots live in .bss: only the ones in use are ever touched.
pub static SLOTS: crate::sys::Singleton<Slots> = crate::sys::Singleton::new(heapless::Vec::new());

/// The unit graph as `order` sees it: the parsed table, never copied.
pub struct Deps<'a, 't>(pub &'a Table<'t>);

impl Graph for Deps<'_, '_> {
    fn count(&self) -> usize {
        self.0.units.len()
    }

    fn deps(&self, unit: usize) -> impl Iterator<Item = (usize, Dep)> {
        self.0
            .units
            .get(unit)
            .into_iter()
            .flat_map(|u| u.deps())
            .map(|d| (d.unit, if d.needs { Dep::Needs } else { Dep::After }))
    }
}

/// The unit's lifecycle policy, from its table entry.
pub fn policy_of(u: &table::Unit<'_>) -> Policy {
    use crate::supervise::unit::{Kind, Restart};
    let mut p = Policy::new(match u.kind {
        table::UnitKind::Service => Kind::Service,
        table::UnitKind::Task => Kind::Task,
        table::UnitKind::Tty => Kind::Tty,
    });
    p.restart = match u.restart {
        table::Restart::Always => Restart::Always,
        table::Restart::OnFailure => Restart::OnFailure,
        table::Restart::Never => Restart::Never,
    };
    p.restart_delay_ms = u.restart_delay.0 as u64;
    p.restart_max_ms = u.restart_max.0 as u64;
    p.restart_limit = (u.restart_limit > 0).then_some(u.restart_limit as u32);
    p.ready = match u.ready {
        table::Ready::None => Readiness::None,
        table::Ready::Notify => Readiness::Notify,
        table::Ready::Fd(n) => Readiness::Fd(n),
    };
    p.ready_timeout_ms = (u.ready_timeout.0 > 0).then_some(u.ready_timeout.0 as u64);
    p.stop_signal = u.stop_signal as u32;
    p.stop_timeout_ms = u.stop_timeout.0 as u64;
    p.reload_signal = u.reload_signal as u32;
    p
}

/// Where things are, per mode (PID 1 or `--config`).
pub struct Context<'t> {
    /// Where unit cgroups go; `None`: no usable cgroup (not delegated).
    pub base: Option<Base>,
    /// `NOTIFY_SOCKET=...` for units with `ready=notify`.
    pub notify_env: Option<&'t core::ffi::CStr>,
    /// /dev/kmsg, for `log=kmsg`; `None` sends those lines to the console.
    pub kmsg: Option<OwnedFd>,
    /// The kernel command line, for `if=cmdline:WORD`.
    pub cmdline: &'t [u8],
    /// Which controllers are on for the units (cgroup::CONTROLLERS order).
    pub controllers: [bool; 5],
}

pub struct Supervisor<'t> {
    pub table: &'t Table<'t>,
    pub slots: &'t mut Slots,
    pub ctx: Context<'t>,
    shutting_down: bool,
    /// Units being stopped on request (`pinit stop`), dependents first.
    stopping: Set,
    /// The boot summary was printed.
    booted: bool,
}

impl<'t> Supervisor<'t> {
    /// One slot per unit of `table`, all waiting.
    pub fn new(table: &'t Table<'t>, slots: &'t mut Slots, ctx: Context<'t>) -> Supervisor<'t> {
        slots.clear();
        for u in table.units.iter() {
            // Same capacity as the table: cannot fail.
            let _ = slots.push(Slot::new(policy_of(u)));
        }
        Supervisor {
            table,
            slots,
            ctx,
            shutting_down: false,
            stopping: Set::new(),
            booted: false,
        }
    }

    fn name(&self, i: usize) -> &'t str {
        self.table.units.get(i).map_or("?", |u| u.name)
    }

    /// The nearest time any unit wants a Timer event.
    pub fn deadline(&self) -> Option<Ms> {
        self.slots.iter().filter_map(|s| s.sm.deadline()).min()
    }

    /// Starts whatever the dependency graph allows, until nothing changes.
    pub fn schedule(&mut self, ev: &Loop, now: Ms) {
        if self.shutting_down {
            return;
        }
        if !self.stopping.is_empty() {
            self.continue_stop(ev, now);
        }
        if !self.booted {
            self.boot_summary(now);
        }
        for _ in 0..=self.slots.len() {
            let plan = {
                let slots = &*self.slots;
                order::plan(&Deps(self.table), |u| {
                    slots.get(u).map_or(Outcome::Failed, |s| s.sm.outcome())
                })
            };
            if plan.start.is_empty() && plan.block.is_empty() {
                return;
            }
            for i in plan.block.iter() {
                self.step(ev, i, Event::DepFailed, now);
            }
            for i in plan.start.iter() {
                let e = if self.conditions_hold(i) {
                    Event::Start
                } else {
                    Event::ConditionUnmet
                };
                self.step(ev, i, e, now);
            }
        }
    }

    fn conditions_hold(&self, i: usize) -> bool {
        let u = match self.table.units.get(i) {
            Some(u) => u,
            None => return false,
        };
        u.conds().all(|c| {
            let mut buf = [0u8; 256];
            let holds = match c.test {
                table::Test::Path => match c.arg.to_cstr(&mut buf) {
                    Some(p) => rustix::fs::access(p, rustix::fs::Access::EXISTS).is_ok(),
                    None => false,
                },
                table::Test::Cmdline => match c.arg.decode(&mut buf) {
                    Some(w) => crate::sys::cmdline::Cmdline::new(self.ctx.cmdline)
                        .words()
                        .any(|x| x == w),
                    None => false,
                },
            };
            holds != c.negate
        })
    }

    /// Feeds `event` to unit `i` and carries out its actions; a Spawn is
    /// answered at once with Spawned or SpawnFailed.
    pub fn step(&mut self, ev: &Loop, i: usize, event: Event, now: Ms) {
        let mut next = Some(event);
        while let Some(e) = next.take() {
            let slot = match self.slots.get_mut(i) {
                Some(s) => s,
                None => return,
            };
            let before = slot.sm.state();
            let actions = slot.sm.step(e, now);
            slot.timeline(e, now);
            self.report(i, before, now);
            for a in actions {
                match a {
                    Action::Spawn => {
                        next = Some(match self.spawn(ev, i) {
                            Ok(pid) => Event::Spawned { pid },
                            Err(Error::Errno(errno)) => Event::SpawnFailed { errno },
                            Err(Error::Refused) => Event::SpawnRefused,
                        })
                    }
                    Action::Signal { pid, sig } => self.signal(i, pid, sig),
                    Action::KillCgroup => self.kill_cgroup(i),
                }
            }
        }
    }

    fn signal(&self, i: usize, pid: Pid, sig: u32) {
        match crate::sys::kill(pid.as_raw_nonzero().get(), sig) {
            Ok(()) | Err(Errno::SRCH) => {}
            Err(e) => say!(
                "{}: unable to send signal {} to pid {}: {}",
                self.name(i),
                sig,
                pid.as_raw_nonzero(),
                Name(e)
            ),
        }
    }

    /// Everything left in the unit's cgroup; without cgroups, the unit's
    /// process group (it runs in its own session).
    fn kill_cgroup(&self, i: usize) {
        let name = self.name(i);
        let isolated = self.table.units.get(i).is_some_and(|u| u.isolate);
        match &self.ctx.base {
            Some(base) => {
                if let Err(e) = cgroup::kill(base, name, isolated) {
                    if e != Errno::NOENT {
                        say!("{}: unable to kill its cgroup: {}", name, Name(e));
                    }
                }
            }
            None => {
                // The last started process leads its own session and
                // process group: kill the group.
                if let Some(pgid) = self.slots.get(i).map(|s| s.log_pid).filter(|&p| p > 0) {
                    let _ = crate::sys::kill(-pgid, linux_raw_sys::general::SIGKILL);
                }
            }
        }
    }

    /// Says on the console what changed.
    fn report(&self, i: usize, before: State, now: Ms) {
        let slot = match self.slots.get(i) {
            Some(s) => s,
            None => return,
        };
        let after = slot.sm.state();
        if core::mem::discriminant(&before) == core::mem::discriminant(&after) {
            return;
        }
        let name = self.name(i);
        match after {
            State::Running { pid } if matches!(before, State::Starting { .. }) => {
                say!(
                    "{}: ready (pid {}, {} ms after start)",
                    name,
                    pid.as_raw_nonzero(),
                    now.since(slot.sm.since())
                )
            }
            State::BackingOff { until } => match slot.sm.last_exit() {
                Some(st) => say!(
                    "{}: {}; restarting in {} ms",
                    name,
                    Exit(st),
                    until.since(now)
                ),
                None => say!("{}: restarting in {} ms", name, until.since(now)),
            },
            State::Exited => say!(
                "{}: done ({})",
                name,
                slot.sm.last_exit().map_or(Exit(Status::Unknown), Exit)
            ),
            State::Failed { why } => say!("{}: failed: {}", name, Why(why, slot.sm.last_exit())),
            State::Skipped => say!("{}: skipped: an if= condition is unmet", name),
            State::Blocked => say!("{}: blocked: a needs= dependency failed", name),
            State::Stopping { .. } => say!("{}: stopping", name),
            State::Stopped => say!("{}: stopped", name),
            State::Waiting | State::Spawning | State::Starting { .. } | State::Running { .. } => {}
        }
    }

    /// A child exited: hand it to the unit whose main process it was.
    pub fn on_exit(&mut self, ev: &Loop, pid: Pid, status: Status, now: Ms) -> bool {
        let i = match self.slots.iter().position(|s| s.sm.main_pid() == Some(pid)) {
            Some(i) => i,
            None => return false,
        };
        self.step(ev, i, Event::Exited { pid, status }, now);
        true
    }

    /// Timer events to every unit whose deadline has passed.
    pub fn on_timer(&mut self, ev: &Loop, now: Ms) {
        for i in 0..self.slots.len() {
            let due = self
                .slots
                .get(i)
                .and_then(|s| s.sm.deadline())
                .is_some_and(|d| d <= now);
            if due {
                self.step(ev, i, Event::Timer, now);
            }
        }
    }

    /// A datagram on the notify socket from `pid`.
    pub fn on_notify(&mut self, ev: &Loop, pid: i32, msg: &[u8], now: Ms) {
        let i = match self.unit_of_pid(pid) {
            Some(i) => i,
            None => {
                say!(
                    "notify: ignored a message from pid {}, which is in no unit",
                    pid
                );
                return;
            }
        };
        if self
            .slots
            .get(i)
            .is_some_and(|s| s.sm.policy().ready != Readiness::Notify)
        {
            say!(
                "{}: notify message ignored: the unit is not ready=notify",
                self.name(i)
            );
            return;
        }
        notify::fields(msg, |f| match f {
            Field::Ready => self.step(ev, i, Event::Ready, now),
            Field::Status(s) => {
                if let Some(slot) = self.slots.get_mut(i) {
                    notify::fit_status(s, &mut slot.status);
                }
            }
            Field::MainPid(p) => self.main_pid(ev, i, p, now),
            Field::Stopping | Field::Reloading | Field::Watchdog | Field::Other(_) => {}
        });
    }

    /// MAINPID=: accepted only for a process in the unit's own cgroup; one
    /// that is not our child is watched through a pidfd (no pid reuse).
    fn main_pid(&mut self, ev: &Loop, i: usize, p: i32, now: Ms) {
        if self.unit_of_pid(p) != Some(i) {
            say!(
                "{}: MAINPID={} ignored: not a process of this unit",
                self.name(i),
                p
            );
            return;
        }
        let pid = match Pid::from_raw(p) {
            Some(pid) => pid,
            None => return,
        };
        let ours = crate::sys::file::parent_of(p)
            == Some(rustix::process::getpid().as_raw_nonzero().get());
        if !ours {
            match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
                Ok(fd) => {
                    if let Err(e) = ev.add(&fd, TOKEN_PIDFD | i as u64) {
                        say!(
                            "{}: unable to watch MAINPID {}: {}",
                            self.name(i),
                            p,
                            Name(e)
                        );
                        return;
                    }
                    if let Some(slot) = self.slots.get_mut(i) {
                        if let Some(old) = slot.pidfd.replace(fd) {
                            let _ = ev.remove(&old);
                        }
                    }
                }
                Err(e) => {
                    say!(
                        "{}: unable to watch MAINPID {}: {}",
                        self.name(i),
                        p,
                        Name(e)
                    );
                    return;
                }
            }
        }
        self.step(ev, i, Event::MainPid { pid }, now);
    }

    /// Which unit a process is in: its cgroup, or (without cgroups) the
    /// unit whose main process it is.
    fn unit_of_pid(&self, pid: i32) -> Option<usize> {
        match &self.ctx.base {
            Some(base) => {
                let mut name = [0u8; 64];
                let (n, beside) = cgroup::unit_of(base, pid, &mut name)?;
                let name = core::str::from_utf8(name.get(..n)?).ok()?;
                // isolated.NAME is NAME's only if NAME isolates, and the
                // other way round.
                self.table.find(name).filter(|&u| {
                    self.table
                        .units
                        .get(u)
                        .is_some_and(|u| base.beside(u.isolate) == beside)
                })
            }
            None => self.slots.iter().position(|s| {
                s.sm.main_pid()
                    .is_some_and(|m| m.as_raw_nonzero().get() == pid)
            }),
        }
    }

    /// A per-unit fd is readable.
    pub fn on_token(&mut self, ev: &Loop, token: u64, now: Ms) {
        let i = (token & 0xffff) as usize;
        match token & TOKEN_KIND {
            TOKEN_LOG => self.on_output(ev, i),
            TOKEN_READY => self.on_ready_fd(ev, i, now),
            TOKEN_PIDFD => {
                let pid = self.slots.get_mut(i).and_then(|s| {
                    let fd = s.pidfd.take()?;
                    let _ = ev.remove(&fd);
                    s.sm.main_pid()
                });
                if let Some(pid) = pid {
                    self.step(
                        ev,
                        i,
                        Event::Exited {
                            pid,
                            status: Status::Unknown,
                        },
                        now,
                    );
                }
            }
            _ => {}
        }
    }

    fn on_output(&mut self, ev: &Loop, i: usize) {
        let name = self.name(i);
        let kmsg = self.ctx.kmsg.as_ref().map(|f| f.as_fd());
        let slot = match self.slots.get_mut(i) {
            Some(s) => s,
            None => return,
        };
        let pid = slot.log_pid;
        let open = match &slot.out {
            Some((rd, _)) => capture::pump(rd.as_fd(), &mut slot.cap, |line| match kmsg {
                Some(k) => capture::to_kmsg(k, name, pid, line),
                None => capture::to_console(name, pid, line),
            }),
            None => return,
        };
        if !open {
            if let Some((rd, _)) = slot.out.take() {
                let _ = ev.remove(&rd);
            }
        }
    }

    fn on_ready_fd(&mut self, ev: &Loop, i: usize, now: Ms) {
        let mut buf = [0u8; 64];
        let (ready, closed) = match self.slots.get(i).and_then(|s| s.ready.as_ref()) {
            Some(fd) => match rustix::io::read(fd, &mut buf) {
                Ok(0) => (false, true),
                Ok(n) => (buf.get(..n).is_some_and(|b| b.contains(&b'\n')), false),
                Err(Errno::AGAIN) | Err(Errno::INTR) => (false, false),
                Err(_) => (false, true),
            },
            None => return,
        };
        if ready || closed {
            if let Some(fd) = self.slots.get_mut(i).and_then(|s| s.ready.take()) {
                let _ = ev.remove(&fd);
            }
        }
        if ready {
            self.step(ev, i, Event::Ready, now);
        }
    }

    /// Shutdown: nothing starts again; units stop in reverse dependency
    /// order. Call on every wake-up until `all_down()`.
    pub fn shutdown(&mut self, ev: &Loop, now: Ms) {
        if !self.shutting_down {
            self.shutting_down = true;
            for i in 0..self.slots.len() {
                self.step(ev, i, Event::Shutdown, now);
            }
        }
        let all = Set::first(self.slots.len());
        let now_set = {
            let slots = &*self.slots;
            order::stop_now(&Deps(self.table), &all, |u| {
                slots.get(u).is_none_or(|s| s.sm.is_down())
            })
        };
        for i in now_set.iter() {
            self.step(ev, i, Event::StopRequest, now);
        }
    }

    /// Once every unit has settled or become ready: one console line with
    /// the boot's length and its critical chain (`pinit boot` has it all).
    fn boot_summary(&mut self, now: Ms) {
        let settled = self.slots.iter().all(|s| {
            !matches!(s.sm.outcome(), Outcome::Waiting | Outcome::Pending)
                || s.first_ready.is_some()
        });
        if !settled {
            return;
        }
        self.booted = true;
        let last = (0..self.slots.len())
            .filter_map(|i| Some((self.slots.get(i)?.first_ready?, i)))
            .max();
        let mut chain: heapless::Vec<usize, 16> = heapless::Vec::new();
        let mut at = last.map(|(_, i)| i);
        while let Some(i) = at {
            if chain.push(i).is_err() {
                break;
            }
            at = self.table.units.get(i).and_then(|u| {
                u.deps()
                    .filter_map(|d| Some((self.slots.get(d.unit)?.first_ready?, d.unit)))
                    .max()
                    .map(|(_, d)| d)
            });
        }
        let mut line: heapless::String<200> = heapless::String::new();
        for (n, i) in chain.iter().rev().enumerate() {
            let _ = core::fmt::Write::write_fmt(
                &mut line,
                format_args!("{}{}", if n > 0 { " -> " } else { "" }, self.name(*i)),
            );
        }
        say!(
            "boot: every unit settled {} ms after kernel start; critical chain: {}",
            last.map_or(now.0, |(t, _)| t.0),
            if line.is_empty() { "-" } else { line.as_str() }
        );
    }

    /// `pinit stop`: stop `set` (a unit and what needs it), dependents
    /// first, over as many wake-ups as it takes.
    pub fn pending_stop(&mut self, set: Set) {
        for u in set.iter() {
            self.stopping.insert(u);
        }
    }

    fn continue_stop(&mut self, ev: &Loop, now: Ms) {
        let release = {
            let slots = &*self.slots;
            order::stop_now(&Deps(self.table), &self.stopping, |u| {
                slots.get(u).is_none_or(|s| s.sm.is_down())
            })
        };
        for i in release.iter() {
            self.step(ev, i, Event::StopRequest, now);
        }
        let slots = &*self.slots;
        let done: Set = self
            .stopping
            .iter()
            .filter(|&u| slots.get(u).is_none_or(|s| s.sm.is_down()))
            .collect();
        for u in done.iter() {
            self.stopping.remove(u);
        }
    }

    pub fn all_down(&self) -> bool {
        self.slots.iter().all(|s| s.sm.is_down())
    }

    /// Starts unit `i`'s process.
    fn spawn(&mut self, ev: &Loop, i: usize) -> Result<Pid, Error> {
        let (u, slot) = match (self.table.units.get(i), self.slots.get_mut(i)) {
            (Some(u), Some(s)) => (u, s),
            _ => return Err(Error::Errno(Errno::INVAL)),
        };
        crate::supervise::launch::launch(u, self.table, &self.ctx, slot, ev, i)
    }
}

/// What `launch` keeps in a slot.
impl Slot {
    pub(crate) fn cgroup_fd(&mut self) -> &mut Option<OwnedFd> {
        &mut self.cgroup
    }

    pub(crate) fn cgroup(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        self.cgroup.as_ref().map(|f| f.as_fd())
    }

    /// Makes (and watches) the unit's output pipe on first use.
    pub(crate) fn ensure_output(&mut self, ev: &Loop, i: usize) -> Result<(), Errno> {
        if self.out.is_none() {
            let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
            rustix::io::ioctl_fionbio(&rd, true)?;
            ev.add(&rd, TOKEN_LOG | i as u64)?;
            self.out = Some((rd, wr));
        }
        Ok(())
    }

    /// The write end of the output pipe, once made.
    pub(crate) fn output(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        self.out.as_ref().map(|(_, wr)| wr.as_fd())
    }

    /// A new run started: its readiness pipe and pid; the previous run's
    /// readiness pipe and pidfd are dropped.
    pub(crate) fn started(&mut self, ev: &Loop, i: usize, ready: Option<OwnedFd>, pid: i32) {
        if let Some(old) = self.ready.take() {
            let _ = ev.remove(&old);
        }
        if let Some(old) = self.pidfd.take() {
            let _ = ev.remove(&old);
        }
        if let Some(fd) = ready {
            if ev.add(&fd, TOKEN_READY | i as u64).is_ok() {
                self.ready = Some(fd);
            }
        }
        self.log_pid = pid;
        self.status.clear();
    }
}

/// `exited with status 1`, `killed by signal 9`.
struct Exit(Status);

impl core::fmt::Display for Exit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Status::Code(c) => write!(f, "exited with status {}", c),
            Status::Signal(s) => write!(f, "killed by signal {}", s),
            Status::Unknown => f.write_str("exited"),
        }
    }
}

struct Why(Failure, Option<Status>);

impl core::fmt::Display for Why {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Failure::Exit => match self.1 {
                Some(st) => Exit(st).fmt(f),
                None => f.write_str("exited"),
            },
            Failure::NotReady => f.write_str("exited before it was ready"),
            Failure::ReadyTimeout => f.write_str("not ready within ready-timeout"),
            Failure::Spawn(e) => write!(f, "could not be started: {}", Name(e)),
            Failure::Refused => f.write_str("not started: its CPUs could not be isolated"),
            Failure::Limit => f.write_str("restart-limit reached"),
        }
    }
}
