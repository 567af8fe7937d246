//! The supervisor: it owns the units' slots and applies the effects
//! around the pure unit state machines (unit.rs) and the order scheduler
//! (order.rs). It spawns, signals, kills cgroups and watches fds through
//! `Effects` (effects.rs), captures output and reads readiness; every
//! decision is `Unit::step`'s, every order `order::plan`'s. The control
//! server calls its `start`/`stop`/`restart`/`reload`/`signal` and reads
//! `unit`, `status_text`, `boot_rows`; what it says is report.rs's.

use crate::say;
use crate::supervise::capture::{self, Capture, Record, Syslog};
use crate::supervise::effects::Effects;
use crate::supervise::epoll::token;
use crate::supervise::forked::{self, Forked, NotYet};
use crate::supervise::instance::{Instances, Overdue};
use crate::supervise::launch::{self, Conn, Context, Kept, LaunchError, Launched, Pass};
use crate::supervise::listen::{Listener, Sockets};
use crate::supervise::notify::{self, Field};
use crate::supervise::order::{self, Dep, Graph, Set};
use crate::supervise::ratelimit::Limit;
use crate::supervise::report::{self, Timeline, BOOT_LATE_MS};
use crate::supervise::rows::Rows;
use crate::supervise::tables::Held;
use crate::supervise::unit::{
    Action, Activation, Event, Found, Outcome, Policy, Snapshot, State, Status, Unit,
};
use crate::sys::errno::Name;
use crate::sys::time::Ms;
use crate::table::{self, OnFailure, Ready, Table, UnitKind};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Pid;

/// One unit at run time.
pub(crate) struct Slot {
    sm: Unit,
    /// Its cgroup fd and output pipe, kept across runs (its sockets are
    /// in its row, rows.rs).
    kept: Kept,
    cap: Capture,
    /// Read end of the `ready=fd:N` pipe.
    ready: Option<OwnedFd>,
    /// Read end of the last child's report pipe, until its exec.
    report: Option<OwnedFd>,
    /// A main process that is not our child (MAINPID=, a forked
    /// daemon's), watched through a pidfd; its signals go through it too.
    pidfd: Option<OwnedFd>,
    /// A pidfd for the main process when it is our child (not watched:
    /// its exit is reaped), which its signals go through.
    child_fd: Option<(Pid, OwnedFd)>,
    /// Its cgroup.events, while a `ready=forked` unit has no main process.
    events: Option<OwnedFd>,
    /// Why its main process was not found yet (`ready=forked`).
    not_yet: Option<NotYet>,
    /// Its runtime directories were made by a run and not removed since.
    run_dirs: bool,
    /// The last started process: its output is logged under this pid,
    /// and it leads the unit's session and process group.
    log_pid: i32,
    timeline: Timeline,
    /// Its cgroup is being emptied by SIGKILL sweeps.
    drain: Option<Drain>,
    /// A Spawn waits for the drain: nothing is started into a cgroup
    /// that a later sweep would empty.
    owed: bool,
    /// Its crash-loop lines (`started`, `restarting in`).
    says: Limit,
    /// Its sockets are in the epoll set (listening, room for an instance).
    watching: bool,
    /// accept=yes: no accepting until then, after a failed accept or
    /// spawn (the connections wait in the backlog; no busy loop).
    paused: Option<Ms>,
}

/// The SIGKILL sweeps of a unit's cgroup still to come: at most one per
/// wake-up, when a child was reaped or at `next` (doubling from
/// SWEEP_FIRST_MS to SWEEP_MAX_MS), until one finds the cgroup empty
/// (docs/design.md §7).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Drain {
    next: Ms,
    every: u32,
    sweeps: u32,
    /// The wake-up (its `now`) of the last sweep.
    last: Ms,
}

const SWEEP_FIRST_MS: u32 = 10;
const SWEEP_MAX_MS: u32 = 1_000;
/// Sweeps before the rest is given up (about 10 s: uninterruptible sleep).
const SWEEPS_MAX: u32 = 16;

/// The highest fd number a unit's cgroup.events is kept open at
/// (`Supervisor::emptied`): half of the 1,024 fds the kernel lets PID 1
/// open, so the other half is left for what starts need (pipes, pidfds).
const EVENTS_FD_MAX: i32 = 511;

impl Slot {
    fn new(policy: Policy) -> Slot {
        Slot {
            sm: Unit::new(policy),
            kept: Kept::default(),
            cap: Capture::new(),
            ready: None,
            report: None,
            pidfd: None,
            child_fd: None,
            events: None,
            not_yet: None,
            run_dirs: false,
            log_pid: 0,
            timeline: Timeline::default(),
            drain: None,
            owed: false,
            says: Limit::default(),
            watching: false,
            paused: None,
        }
    }
}

/// How long an `accept=yes` unit stops accepting after a failed accept
/// or instance start.
pub(crate) const ACCEPT_PAUSE_MS: u64 = 1000;
/// SIGKILL sweeps of an instance's cgroup at its exit.
const INSTANCE_SWEEPS: usize = 8;

pub(crate) type Slots = heapless::Vec<Slot, { table::capacity::UNITS_MAX }>;

/// The slots live in .bss: only the ones in use are ever touched.
pub(crate) static SLOTS: crate::sys::Singleton<Slots, { crate::sys::bit::SLOTS }> =
    crate::sys::Singleton::new(heapless::Vec::new());

/// Whether a unit's change from `before` to `after` must be noted on its
/// cgroup (`Supervisor::record`): boot/adopt.rs would read the two
/// differently. For a unit that does not wait for readiness it takes
/// `starting PID` as `running PID`, so its exec (Starting to Running,
/// the same pid) writes nothing: one fsetxattr less per start.
fn worth_recording(before: State, after: State, policy: &Policy) -> bool {
    if after.name() == before.name() && after.pid() == before.pid() {
        return false;
    }
    let exec = matches!(
        (before, after),
        (State::Starting { .. }, State::Running { .. })
    ) && before.pid() == after.pid();
    !exec || policy.waits_for_ready()
}

/// The unit graph as `order` sees it: the parsed table, never copied.
pub(crate) struct Deps<'a, 't>(pub(crate) &'a Table<'t>);

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

/// Unit `i`'s name, or `?`.
fn name_of<'a>(table: &'a Table<'_>, i: usize) -> &'a str {
    table.units.get(i).map_or("?", |u| u.name)
}

/// The unit's lifecycle policy, from its table entry.
pub(crate) fn policy_of(u: &table::Unit<'_>) -> Policy {
    let mut p = Policy::new(u.kind);
    p.activation = match (u.listens().next().is_some(), u.accept, u.start) {
        (false, _, _) | (true, false, table::Start::Boot) => Activation::Boot,
        (true, false, table::Start::OnDemand) => Activation::OnDemand,
        (true, true, _) => Activation::Accept,
    };
    p.restart = u.restart;
    p.restart_delay_ms = u.restart_delay.0;
    p.restart_max_ms = u.restart_max.0;
    p.restart_limit = (u.restart_limit > 0).then_some(u.restart_limit as u32);
    p.ready = u.ready;
    p.ready_timeout_ms = (u.ready_timeout.0 > 0).then_some(u.ready_timeout.0);
    p.watchdog_ms = u.watchdog.0;
    p.guess = u.ready == Ready::Forked && u.pidfile.is_none();
    p.timeout_ms = (u.timeout.0 > 0).then_some(u.timeout.0);
    p.kill = u.kill;
    p.stop_signal = u.stop_signal as u32;
    p.stop_timeout_ms = u.stop_timeout.0;
    p.reload_signal = u.reload_signal as u32;
    p
}

/// Why a control request was not carried out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Refused {
    /// The unit has no running main process.
    NotRunning,
    /// It runs, with no main process (`ready=forked`, several processes
    /// and no pidfile).
    NoMainProcess,
    /// kill(2) failed.
    Signal(Errno),
    /// A reload is under way (and the unit is one it stops or replaces).
    Reloading,
    /// The machine is going down.
    ShuttingDown,
}

pub(crate) struct Supervisor<'t> {
    /// The table in force.
    table: Held<'t>,
    /// The other buffer: a reload parses the new table into it.
    spare: Option<Held<'t>>,
    slots: &'t mut Slots,
    /// The running instances of `accept=yes` units.
    instances: &'t mut Instances,
    /// Each unit's open output line, `STATUS=` text and sockets (rows.rs).
    rows: &'t mut Rows,
    ctx: Context<'t>,
    /// Whether /dev/log takes `log=syslog` lines (capture::deliver).
    syslog: Syslog,
    shutting_down: bool,
    /// Units being stopped on request (`pinit stop`), dependents first.
    stopping: Set,
    /// The boot summary was printed.
    booted: bool,
    /// A unit with `on-failure=` reached `failed`: the first one, for
    /// the event loop to act on (`take_failure_action`).
    failure_action: Option<(usize, OnFailure)>,
    /// A reload under way (supervisor/reload.rs), kept in `reload::PLAN`.
    reload: &'t mut Option<reload::Reload>,
    /// A unit's state could not be noted on its cgroup (said once).
    unrecorded: bool,
    /// When to name the units still not settled (BOOT_LATE_MS after the
    /// first schedule), until the boot summary or that line is said.
    late_at: Option<Ms>,
    /// Notify warnings: a flood of datagrams says a few lines only.
    notify_says: Limit,
}

impl<'t> Supervisor<'t> {
    /// One slot per unit of `table`, all waiting.
    pub(crate) fn new(
        table: Held<'t>,
        spare: Option<Held<'t>>,
        slots: &'t mut Slots,
        instances: &'t mut Instances,
        rows: &'t mut Rows,
        plan: &'t mut Option<Reload>,
        ctx: Context<'t>,
    ) -> Supervisor<'t> {
        slots.clear();
        for u in table.get().units.iter() {
            // Same capacity as the table: cannot fail.
            let _ = slots.push(Slot::new(policy_of(u)));
        }
        Supervisor {
            table,
            spare,
            slots,
            instances,
            rows,
            ctx,
            syslog: Syslog::Unseen,
            shutting_down: false,
            stopping: Set::new(),
            booted: false,
            failure_action: None,
            reload: plan,
            unrecorded: false,
            late_at: None,
            notify_says: Limit::default(),
        }
    }

    /// The table in force.
    pub(crate) fn table(&self) -> &Table<'_> {
        self.table.get()
    }

    fn name(&self, i: usize) -> &str {
        name_of(self.table.get(), i)
    }

    /// The unit named `name`.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.table.get().find(name)
    }

    /// How many units there are (`0..len()`).
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Unit `i`: its table entry and its state machine.
    pub(crate) fn unit(&self, i: usize) -> Option<(&table::Unit<'_>, &Unit)> {
        Some((self.table.get().units.get(i)?, &self.slots.get(i)?.sm))
    }

    /// Unit `i`'s state as the control socket reports it: a unit without
    /// a process whose cgroup is still being emptied is `stopping`, so a
    /// client that waits for `stopped` finds its processes gone.
    pub(crate) fn state_name(&self, i: usize) -> &'static str {
        match self.slots.get(i) {
            Some(s) if s.drain.is_some() && s.sm.is_down() => "stopping",
            Some(s) => s.sm.state().name(),
            None => "?",
        }
    }

    /// Unit `i`'s last `STATUS=` text.
    pub(crate) fn status_text(&self, i: usize) -> &[u8] {
        self.rows.status_of(i)
    }

    /// Unit `i`'s cgroup directory, if units have cgroups.
    pub(crate) fn cgroup_dir(&self, i: usize) -> Option<crate::place::cgroup::Path> {
        let u = self.table.get().units.get(i)?;
        self.ctx.base.as_ref()?.path(u.name, u.isolate, None).ok()
    }

    /// The units in start order, with their boot timeline and the unit
    /// each waited for longest (`pinit boot`).
    pub(crate) fn boot_rows(&self) -> impl Iterator<Item = (&str, Timeline, Option<&str>)> + '_ {
        let ready = |u: usize| self.slots.get(u)?.timeline.first_ready;
        self.table.get().order.iter().filter_map(move |&i| {
            let i = usize::from(i);
            let t = self.slots.get(i)?.timeline;
            let waited = report::waited_for(self.table.get(), i, &ready).map(|d| self.name(d));
            Some((self.name(i), t, waited))
        })
    }

    /// Unit `i`'s sockets, in order, each with PID 1's socket when it is
    /// bound; and its running instances (`accept=yes`).
    pub(crate) fn sockets(
        &self,
        i: usize,
    ) -> (
        impl Iterator<Item = (table::Listen<'_>, Option<&Listener>)> + '_,
        usize,
    ) {
        let u = self.table.get().units.get(i);
        let bound = self.rows.sockets.get(i);
        let listens = u.into_iter().flat_map(|u| u.listens());
        let mut socks = bound.into_iter().flat_map(|b| b.iter());
        (
            listens.map(move |l| (l, socks.next())),
            self.instances.count(i),
        )
    }

    /// The nearest time any unit or instance (or the late-boot line)
    /// wants a Timer event, a sweep, or a count of suppressed lines is
    /// due.
    pub(crate) fn deadline(&self) -> Option<Ms> {
        let sweeps = self.slots.iter().filter_map(|s| s.drain.map(|d| d.next));
        let says = self.slots.iter().filter_map(|s| s.says.deadline());
        let paused = self.slots.iter().filter_map(|s| s.paused);
        self.slots
            .iter()
            .filter_map(|s| s.sm.deadline())
            .chain(sweeps)
            .chain(says)
            .chain(paused)
            .chain(self.instances.deadline())
            .chain(self.notify_says.deadline())
            .chain(self.late_at)
            .min()
    }

    /// Binds every unit's `listen=` sockets, before any unit starts: from
    /// now on clients can connect, and wait. A unit whose socket cannot
    /// be bound fails (never started); the others run.
    pub(crate) fn bind_all(&mut self, fx: &mut impl Effects, now: Ms) {
        for i in 0..self.slots.len() {
            if !self.bind(fx, i) {
                self.step(fx, i, Event::Unbound, now);
            }
        }
    }

    /// Unit `i`'s sockets, bound now unless they are: false if one
    /// cannot be (each failure said on the console; none is kept).
    fn bind(&mut self, fx: &mut impl Effects, i: usize) -> bool {
        let (Some(u), Some(bound)) = (self.table.get().units.get(i), self.rows.sockets.get_mut(i))
        else {
            return false;
        };
        // A unit without sockets does not even read its row.
        if u.listens().next().is_none() || !bound.is_empty() {
            return true;
        }
        bind_listeners(fx, u, bound)
    }

    /// Starts whatever the dependency graph allows, until nothing changes.
    pub(crate) fn schedule(&mut self, fx: &mut impl Effects, now: Ms) {
        if self.shutting_down {
            return;
        }
        if !self.booted && self.late_at.is_none() {
            self.late_at = Some(now.after(BOOT_LATE_MS));
        }
        if !self.stopping.is_empty() {
            self.continue_stop(fx, now);
        }
        if self.reloading_table() {
            // Out of line and laid out with the reload's code (tools/cold.ld).
            self.continue_reload(fx, now);
        }
        for _ in 0..=self.slots.len() {
            let plan = {
                let slots = &*self.slots;
                order::plan(&Deps(self.table.get()), |u| {
                    slots.get(u).map_or(Outcome::Failed, |s| s.sm.outcome())
                })
            };
            if plan.start.is_empty() && plan.block.is_empty() {
                break;
            }
            for i in plan.block.iter() {
                self.step(fx, i, Event::DepFailed, now);
            }
            for i in plan.start.iter() {
                let e = if !self.conditions_hold(i) {
                    Event::ConditionUnmet
                } else if !self.bind(fx, i) {
                    Event::Unbound
                } else {
                    Event::Start
                };
                self.step(fx, i, e, now);
            }
        }
        // After the starts: a unit ready at spawn (a tty, a service
        // without ready=) may be the last one the boot waited for.
        if !self.booted {
            self.boot_summary(now);
        }
    }

    fn conditions_hold(&self, i: usize) -> bool {
        let u = match self.table.get().units.get(i) {
            Some(u) => u,
            None => return false,
        };
        u.conds().all(|c| {
            let mut buf = [0u8; table::capacity::PATH_MAX + 1];
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
    /// answered at once with Spawned or SpawnFailed (and Execd when the
    /// exec is known to be done), a FindMain with Found, and a cgroup
    /// found empty when it is first watched with Emptied.
    fn step(&mut self, fx: &mut impl Effects, i: usize, event: Event, now: Ms) {
        let mut next = Some(event);
        while let Some(e) = next.take() {
            let name = name_of(self.table.get(), i);
            let slot = match self.slots.get_mut(i) {
                Some(s) => s,
                None => return,
            };
            let before = slot.sm.state();
            let actions = slot.sm.step(e, now);
            slot.timeline.note(&slot.sm, e, now);
            if let (State::Adopting { .. }, State::Stopping { .. }) = (before, slot.sm.state()) {
                if let (Some(why), Some(u)) = (slot.not_yet, self.table.get().units.get(i)) {
                    forked::say_why(u, why);
                }
            }
            report::changed(name, before, &slot.sm, &mut slot.says, now);
            match (e, before) {
                (Event::Spawned { .. }, _) if slot.report.is_none() => next = Some(Event::Execd),
                (Event::Execd, State::Starting { pid, .. }) => {
                    if let Some(u) = self
                        .table
                        .get()
                        .units
                        .get(i)
                        .filter(|_| slot.says.pass(now, name))
                    {
                        launch::started_line(name, pid.as_raw_nonzero().get(), &self.ctx, u);
                    }
                }
                _ => {}
            }
            let after = slot.sm.state();
            if worth_recording(before, after, slot.sm.policy()) {
                self.record(fx, i);
            }
            let failed = |s: State| matches!(s, State::Failed { .. });
            if failed(after) && !failed(before) {
                self.failed(i);
            }
            let mut killed = None;
            for a in actions {
                match a {
                    Action::Spawn => next = self.spawn_or_owe(fx, i),
                    Action::Signal { pid, sig } => self.signal_pid(fx, i, pid, sig),
                    Action::SignalCgroup { sig } => self.signal_cgroup(fx, i, sig),
                    Action::KillCgroup => killed = self.kill_cgroup(fx, i, now),
                    Action::FindMain => {
                        next = Some(Event::Found {
                            main: self.find_main(fx, i),
                        })
                    }
                }
            }
            self.ended(fx, i, before, killed);
            if next.is_none() {
                next = self.watch_cgroup(fx, i);
            }
            if next.is_none() {
                next = self.owed_answer(fx, i);
            }
        }
        self.sync_watch(fx, i, now);
    }

    /// The answer to a Spawn: now, unless the unit's cgroup is still
    /// being emptied (then once it is: `owed_answer`).
    fn spawn_or_owe(&mut self, fx: &mut impl Effects, i: usize) -> Option<Event> {
        let slot = self.slots.get_mut(i)?;
        if slot.drain.is_some() {
            slot.owed = true;
            return None;
        }
        Some(match self.spawn(fx, i) {
            Ok(pid) => Event::Spawned { pid },
            Err(LaunchError::Errno(errno)) => Event::SpawnFailed { errno },
            Err(LaunchError::Refused) => Event::SpawnRefused,
        })
    }

    /// The Spawn owed since its cgroup drained: made now if the unit
    /// still wants it, given up (ECANCELED) if a stop came meanwhile.
    fn owed_answer(&mut self, fx: &mut impl Effects, i: usize) -> Option<Event> {
        let slot = self.slots.get_mut(i)?;
        if !slot.owed || slot.drain.is_some() {
            return None;
        }
        slot.owed = false;
        match slot.sm.state() {
            State::Spawning => self.spawn_or_owe(fx, i),
            State::Stopping { pid: None, .. } => Some(Event::SpawnFailed {
                errno: Errno::CANCELED,
            }),
            _ => None,
        }
    }

    /// After a step: a task's leftovers said, runtime directories removed
    /// once the unit has settled.
    fn ended(&mut self, fx: &mut impl Effects, i: usize, before: State, killed: Option<usize>) {
        let (Some(u), Some(slot)) = (self.table.get().units.get(i), self.slots.get_mut(i)) else {
            return;
        };
        let after = slot.sm.state();
        let gone = matches!(before, State::Running { .. } | State::Stopping { .. })
            && (slot.sm.is_down() || after == State::Spawning);
        if u.kind == UnitKind::Task && gone {
            let kept = match (killed, &self.ctx.base) {
                (Some(_), _) | (None, None) => None,
                (None, Some(b)) => fx.procs(b, u.name, u.isolate).ok().map(|(n, _)| n),
            };
            report::task_leftovers(u.name, killed, kept);
        }
        // Listening again (on demand) is a restart, not a stop.
        let settled = slot.sm.is_down()
            && !matches!(
                after,
                State::BackingOff { .. } | State::Waiting | State::Listening
            );
        if slot.run_dirs && settled && !u.runtime_dir_keep {
            fx.remove_runtime_dirs(u);
            slot.run_dirs = false;
        }
    }

    /// Watches the cgroup.events of a forked unit that has no main
    /// process (so it learns when the cgroup empties), and stops watching
    /// once it has one or is down. `Emptied` if it is empty already.
    fn watch_cgroup(&mut self, fx: &mut impl Effects, i: usize) -> Option<Event> {
        let u = self.table.get().units.get(i)?;
        let slot = self.slots.get_mut(i)?;
        let want = match slot.sm.state() {
            State::Adopting { .. } | State::Tracking => true,
            State::Stopping { pid: None, .. } => slot.events.is_some(),
            _ => false,
        };
        match (want, slot.events.take(), &self.ctx.base) {
            (true, Some(fd), _) => slot.events = Some(fd),
            (true, None, Some(base)) => {
                let tok = token::EVENTS | i as u64;
                match fx.watch_events(base, u.name, u.isolate, tok) {
                    Ok((fd, populated)) => {
                        slot.events = Some(fd);
                        if !populated {
                            return Some(Event::Emptied);
                        }
                    }
                    Err(e) => say!("{}: unable to watch its cgroup.events: {}", u.name, Name(e)),
                }
            }
            (true, None, None) => {}
            (false, Some(fd), _) => fx.unwatch(fd.as_fd()),
            (false, None, _) => {}
        }
        None
    }

    /// FindMain: the main process of a forked unit (watched through a
    /// pidfd if it is not our child), or why not.
    fn find_main(&mut self, fx: &mut impl Effects, i: usize) -> Found {
        let Some(u) = self.table.get().units.get(i) else {
            return Found::Nothing;
        };
        let f = Forked {
            unit: u,
            base: self.ctx.base.as_ref(),
        };
        let (found, why) = {
            let fxr = &*fx;
            let ours = |p: i32| match &self.ctx.base {
                Some(_) => self.unit_of_pid(fxr, p) == Some(i),
                // No cgroup: a daemon re-parented to pinit that no other
                // unit has as its main process.
                None => {
                    fxr.is_child(p)
                        && !self.slots.iter().any(|s| {
                            s.sm.main_pid()
                                .is_some_and(|m| m.as_raw_nonzero().get() == p)
                        })
                }
            };
            forked::find(fxr, &f, ours)
        };
        if let Some(slot) = self.slots.get_mut(i) {
            slot.not_yet = why;
        }
        match found {
            Found::Pid(pid) => {
                let fd = fx.adopt(pid);
                match self.watch_main(fx, i, pid, fd) {
                    Ok(()) => found,
                    Err(_) => Found::NotYet,
                }
            }
            Found::Group | Found::NotYet | Found::Nothing => found,
        }
    }

    /// Watches unit `i`'s sockets while it listens (an `accept=yes` one:
    /// while it has room for an instance and is not paused), and only
    /// then: a running on-demand unit's connections are its own.
    fn sync_watch(&mut self, fx: &mut impl Effects, i: usize, now: Ms) {
        let Some(u) = self.table.get().units.get(i) else {
            return;
        };
        let room = !u.accept || self.instances.free_num(i, u.max_instances).is_some();
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if slot.paused.is_some_and(|t| t <= now) {
            slot.paused = None;
        }
        let want = slot.sm.state() == State::Listening && room && slot.paused.is_none();
        if want == slot.watching {
            return;
        }
        for (k, s) in self.rows.sockets_of(i).iter().enumerate() {
            if want {
                if let Err(e) = fx.watch(s.fd(), token::SOCKET | (i << 4 | k) as u64) {
                    say!("{}: unable to watch its sockets: {}", u.name, Name(e));
                }
            } else {
                fx.unwatch(s.fd());
            }
        }
        slot.watching = want;
    }

    /// Unit `i` reached `failed`: its `on-failure=` action, unless the
    /// machine is going down already or another unit's action is pending.
    fn failed(&mut self, i: usize) {
        let action = self
            .table
            .get()
            .units
            .get(i)
            .map_or(OnFailure::None, |u| u.on_failure);
        if action != OnFailure::None && !self.shutting_down && self.failure_action.is_none() {
            self.failure_action = Some((i, action));
        }
    }

    /// The `on-failure=` action a failed unit asks for, once: the unit's
    /// index and the action.
    pub(crate) fn take_failure_action(&mut self) -> Option<(usize, OnFailure)> {
        self.failure_action.take()
    }

    /// Unit `i`'s name.
    pub(crate) fn unit_name(&self, i: usize) -> &str {
        self.name(i)
    }

    /// Notes unit `i`'s state on its cgroup (`cgroup::RECORD`), where a
    /// PID 1 that starts again after a crash finds it (boot/adopt.rs). A
    /// kernel that refuses is said once; such units are restarted after
    /// a crash instead of taken back.
    fn record(&mut self, fx: &mut impl Effects, i: usize) {
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        let (Some(dir), state) = (slot.kept.cgroup.as_ref(), slot.sm.state()) else {
            return;
        };
        if state == State::Spawning {
            return;
        }
        let mut text: heapless::String<48> = heapless::String::new();
        let pid = slot.sm.main_pid().map_or(0, |p| p.as_raw_nonzero().get());
        let _ = crate::put!(text, "{} {} {}", state.name(), pid, slot.sm.restarts());
        if let Err(e) = fx.record(dir.as_fd(), text.as_bytes()) {
            if !self.unrecorded {
                self.unrecorded = true;
                say!(
                    "{}: unable to note its state on its cgroup ({}): {}; after a crash of PID 1 such units are restarted",
                    name_of(self.table.get(), i),
                    (const { crate::sys::path::text(crate::place::cgroup::RECORD) }),
                    Name(e)
                );
            }
        }
    }

    /// `sig` to process `pid` of unit `i`: through the pidfd PID 1 holds
    /// for its main process (a reused number is never hit), else by number.
    fn send(&self, fx: &mut impl Effects, i: usize, pid: Pid, sig: u32) -> Result<(), Errno> {
        match self.pidfd_of(i, pid) {
            Some(fd) => fx.signal(fd, sig),
            None => fx.kill(pid.as_raw_nonzero().get(), sig),
        }
    }

    /// The pidfd PID 1 holds for unit `i`'s main process `pid`, if any.
    fn pidfd_of(&self, i: usize, pid: Pid) -> Option<BorrowedFd<'_>> {
        let slot = self.slots.get(i)?;
        match &slot.child_fd {
            Some((p, fd)) if *p == pid => Some(fd.as_fd()),
            _ => slot
                .pidfd
                .as_ref()
                .filter(|_| slot.sm.main_pid() == Some(pid))
                .map(|fd| fd.as_fd()),
        }
    }

    fn signal_pid(&self, fx: &mut impl Effects, i: usize, pid: Pid, sig: u32) {
        match self.send(fx, i, pid, sig) {
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

    /// `sig` to every process of the unit's cgroup (the main process
    /// through its pidfd); without one, to its main process and the
    /// process group it leads (its own session).
    fn signal_cgroup(&self, fx: &mut impl Effects, i: usize, sig: u32) {
        let name = self.name(i);
        let isolated = self.table.get().units.get(i).is_some_and(|u| u.isolate);
        let slot = self.slots.get(i);
        let main = slot.and_then(|s| s.sm.main_pid());
        let r = match &self.ctx.base {
            Some(base) => fx.signal_cgroup(
                base,
                name,
                isolated,
                sig,
                main.map(|p| (p.as_raw_nonzero().get(), self.pidfd_of(i, p))),
            ),
            None => Err(Errno::NOENT),
        };
        match r {
            Ok(_) => {}
            Err(Errno::NOENT) => {
                if let Some(pgid) = slot.map(|s| s.log_pid).filter(|&p| p > 0) {
                    let _ = fx.kill(-pgid, sig);
                }
                if let Some(pid) =
                    main.filter(|p| Some(p.as_raw_nonzero().get()) != slot.map(|s| s.log_pid))
                {
                    self.signal_pid(fx, i, pid, sig);
                }
            }
            Err(e) => say!("{}: unable to signal its cgroup: {}", name, Name(e)),
        }
    }

    /// Everything left in the unit's cgroup: one SIGKILL sweep now, more
    /// from the event loop while it finds processes (`sweep`); without
    /// cgroups, the unit's process group (it runs in its own session).
    /// How many the cgroup held, if known.
    fn kill_cgroup(&mut self, fx: &mut impl Effects, i: usize, now: Ms) -> Option<usize> {
        // Swept in this wake-up already (a stop timer, then the main
        // process's exit): the next sweep is the drain's.
        if self
            .slots
            .get(i)
            .and_then(|s| s.drain)
            .is_some_and(|d| d.last == now)
        {
            return None;
        }
        // Without cgroups: the last started process leads its own
        // session and process group.
        let pgid = self.slots.get(i).map_or(0, |s| s.log_pid);
        let found = match self.emptied(fx, i) {
            true => Some(0),
            false => kill_in(self.table.get(), self.ctx.base.as_ref(), fx, i, None, pgid),
        };
        if let Some(slot) = self.slots.get_mut(i) {
            slot.drain = match (found.unwrap_or(0) > 0, slot.drain) {
                (false, _) => None,
                (true, Some(d)) => Some(Drain { last: now, ..d }),
                (true, None) => Some(Drain {
                    next: now.after(u64::from(SWEEP_FIRST_MS)),
                    every: SWEEP_FIRST_MS,
                    sweeps: 1,
                    last: now,
                }),
            };
        }
        found
    }

    /// Whether unit `i`'s cgroup (and every cgroup below it) is empty, as
    /// its cgroup.events says: then it needs no sweep, which would open
    /// and read cgroup.procs (about 5% of a restart). A process leaves its
    /// cgroup in the kernel's do_exit before its parent can reap it
    /// (cgroup_exit comes before exit_notify), so after a reap the file
    /// is up to date. The file stays open from the first exit on, unless
    /// its number is above `EVENTS_FD_MAX`: then it is closed again and
    /// this unit is swept as before, so that these fds never take the
    /// ones a start needs. False when unknown.
    fn emptied(&mut self, fx: &mut impl Effects, i: usize) -> bool {
        let Some(kept) = self.slots.get_mut(i).map(|s| &mut s.kept) else {
            return false;
        };
        let Some(dir) = kept.cgroup.as_ref() else {
            return false;
        };
        if kept.events.is_none() && !kept.no_events {
            match fx.open_events(dir.as_fd()) {
                Ok(fd) if fd.as_raw_fd() <= EVENTS_FD_MAX => kept.events = Some(fd),
                _ => kept.no_events = true,
            }
        }
        kept.events
            .as_ref()
            .is_some_and(|fd| fx.populated(fd) == Ok(false))
    }

    /// The next sweep of each cgroup being emptied: all of them after a
    /// child was reaped (`reaped`), else those due at `now`. A cgroup
    /// found empty lets an owed Spawn go.
    fn sweep(&mut self, fx: &mut impl Effects, reaped: bool, now: Ms) {
        for i in 0..self.slots.len() {
            let d = match self.slots.get(i).and_then(|s| s.drain) {
                Some(d) if d.last != now && (reaped || d.next <= now) => d,
                _ => continue,
            };
            self.kill_cgroup(fx, i, now);
            let name = name_of(self.table.get(), i);
            if let Some(slot) = self.slots.get_mut(i) {
                if slot.drain.is_some() {
                    let every = (d.every * 2).min(SWEEP_MAX_MS);
                    slot.drain = Some(Drain {
                        next: now.after(u64::from(every)),
                        every,
                        sweeps: d.sweeps + 1,
                        last: now,
                    });
                    if d.sweeps + 1 >= SWEEPS_MAX {
                        say!(
                            "{}: processes of its cgroup outlive {} SIGKILL sweeps (uninterruptible sleep?); left behind",
                            name,
                            SWEEPS_MAX
                        );
                        slot.drain = None;
                    }
                }
            }
            if let Some(e) = self.owed_answer(fx, i) {
                self.step(fx, i, e, now);
            }
        }
    }

    /// Children were reaped: the cgroups being emptied are swept again.
    pub(crate) fn on_reaped(&mut self, fx: &mut impl Effects, now: Ms) {
        self.sweep(fx, true, now);
    }

    /// A child exited: hand it to the unit whose main process it was,
    /// after what its report says (a failed exec names its errno there).
    pub(crate) fn on_exit(
        &mut self,
        fx: &mut impl Effects,
        pid: Pid,
        status: Status,
        now: Ms,
    ) -> bool {
        let i = match self.slots.iter().position(|s| s.sm.main_pid() == Some(pid)) {
            Some(i) => i,
            None => {
                if self.instance_exited(fx, pid, now) {
                    return true;
                }
                self.recount(fx, now);
                return false;
            }
        };
        self.on_report(fx, i, now);
        self.step(fx, i, Event::Exited { pid, status }, now);
        true
    }

    /// An instance's process exited: what it left in its cgroup goes, and
    /// its unit may accept again. Never restarted.
    fn instance_exited(&mut self, fx: &mut impl Effects, pid: Pid, now: Ms) -> bool {
        let Some(inst) = self.instances.exited(pid) else {
            return false;
        };
        let i = usize::from(inst.unit);
        if let Some(k) = self.instances.report_of(pid) {
            self.on_instance_report(fx, k, i, now);
            if let Some(fd) = self.instances.take_report(k) {
                fx.unwatch(fd.as_fd());
            }
        }
        // A few sweeps at once (an instance is short-lived, and what it
        // left is rare); a leftover outliving them is swept again when
        // the next instance with its number exits.
        let pgid = pid.as_raw_nonzero().get();
        for _ in 0..INSTANCE_SWEEPS {
            let found = kill_in(
                self.table.get(),
                self.ctx.base.as_ref(),
                fx,
                i,
                Some(inst.num),
                pgid,
            );
            if found.unwrap_or(0) == 0 {
                break;
            }
        }
        self.sync_watch(fx, i, now);
        true
    }

    /// What the child of instance report slot `k` (of unit `i`) reports
    /// (`launch::report_end`); a step that failed pauses the unit's
    /// accepting (a missing binary must not fork once per connection in
    /// a loop).
    fn on_instance_report(&mut self, fx: &mut impl Effects, k: usize, i: usize, now: Ms) {
        let (Some(u), Some((_, fd))) = (self.table.get().units.get(i), self.instances.report(k))
        else {
            return;
        };
        let Some(end) = launch::report_end(u, fd) else {
            return;
        };
        if let Some(fd) = self.instances.take_report(k) {
            fx.unwatch(fd.as_fd());
        }
        if end.is_err() {
            if let Some(slot) = self.slots.get_mut(i) {
                slot.paused = Some(now.after(ACCEPT_PAUSE_MS));
            }
            self.sync_watch(fx, i, now);
        }
    }

    /// Another process of PID 1's exited (the middle of a double fork, a
    /// daemon's helper): a forked unit with no main process may be down
    /// to one, which becomes its main process.
    fn recount(&mut self, fx: &mut impl Effects, now: Ms) {
        for i in 0..self.slots.len() {
            if self.slots.get(i).map(|s| s.sm.state()) == Some(State::Tracking) {
                let main = self.find_main(fx, i);
                if matches!(main, Found::Pid(_) | Found::Nothing) {
                    self.step(fx, i, Event::Found { main }, now);
                }
            }
        }
    }

    /// Unit `i`'s child reports (`launch::report_end`): its exec, or the
    /// step that failed.
    fn on_report(&mut self, fx: &mut impl Effects, i: usize, now: Ms) {
        let fd = self.slots.get(i).and_then(|s| s.report.as_ref());
        let (Some(u), Some(fd)) = (self.table.get().units.get(i), fd) else {
            return;
        };
        let Some(end) = launch::report_end(u, fd.as_fd()) else {
            return;
        };
        if let Some(fd) = self.slots.get_mut(i).and_then(|s| s.report.take()) {
            fx.unwatch(fd.as_fd());
        }
        let event = match end {
            Ok(()) => Event::Execd,
            Err(errno) => Event::SpawnFailed { errno },
        };
        self.step(fx, i, event, now);
    }

    /// Timer events to every unit whose deadline has passed; instances
    /// past their stop timeout; accepting again after a pause.
    pub(crate) fn on_timer(&mut self, fx: &mut impl Effects, now: Ms) {
        self.sweep(fx, false, now);
        self.notify_says.expire(now, "notify");
        for (i, slot) in self.slots.iter_mut().enumerate() {
            slot.says.expire(now, name_of(self.table.get(), i));
        }
        if self.late_at.is_some_and(|t| t <= now) {
            self.late_at = None;
            if !self.booted {
                let slots = &*self.slots;
                let outcome = |u: usize| slots.get(u).map_or(Outcome::Failed, |s| s.sm.outcome());
                report::unsettled(self.table.get(), |u| {
                    let s = slots.get(u)?;
                    match s.sm.outcome() {
                        Outcome::Waiting => Some((
                            s.sm.state(),
                            order::waits_for(&Deps(self.table.get()), u, outcome),
                        )),
                        Outcome::Pending if s.timeline.first_ready.is_none() => {
                            Some((s.sm.state(), None))
                        }
                        _ => None,
                    }
                });
            }
        }
        for i in 0..self.slots.len() {
            let (due, resume) = self.slots.get(i).map_or((false, false), |s| {
                let due = |t: Option<Ms>| t.is_some_and(|d| d <= now);
                (due(s.sm.deadline()), due(s.paused))
            });
            if due {
                self.step(fx, i, Event::Timer, now);
            }
            if resume {
                self.sync_watch(fx, i, now);
            }
        }
        let (table, base) = (self.table.get(), self.ctx.base.as_ref());
        self.instances.timer(now, |o| match o {
            Overdue::Kill(inst) => {
                let pid = inst.pid.as_raw_nonzero().get();
                kill_in(table, base, fx, usize::from(inst.unit), Some(inst.num), pid);
                let _ = fx.kill(pid, linux_raw_sys::general::SIGKILL);
            }
            Overdue::GiveUp(inst) => say!(
                "{}: instance {} (pid {}) did not exit after SIGKILL; given up",
                table
                    .units
                    .get(usize::from(inst.unit))
                    .map_or("?", |u| u.name),
                inst.num,
                inst.pid.as_raw_nonzero()
            ),
        });
    }

    /// A datagram of `len` bytes from `pid`, too long: dropped, said (at
    /// a limited rate).
    pub(crate) fn on_notify_long(&mut self, pid: i32, len: usize, now: Ms) {
        if self.notify_says.pass(now, "notify") {
            say!(
                "notify: dropped a {}-byte datagram from pid {} (limit {})",
                len,
                pid,
                notify::DATAGRAM_MAX
            );
        }
    }

    /// A datagram on the notify socket from `pid`. What is dropped costs
    /// a /proc/PID/cgroup read at most, and its console lines are
    /// rate-limited.
    pub(crate) fn on_notify(&mut self, fx: &mut impl Effects, pid: i32, msg: &[u8], now: Ms) {
        let i = match self.unit_of_pid(fx, pid) {
            Some(i) => i,
            None => {
                if self.notify_says.pass(now, "notify") {
                    say!(
                        "notify: ignored a message from pid {}, which is in no unit",
                        pid
                    );
                }
                return;
            }
        };
        if self
            .slots
            .get(i)
            .is_some_and(|s| s.sm.policy().ready != Ready::Notify)
        {
            if self.notify_says.pass(now, "notify") {
                say!(
                    "{}: notify message ignored: the unit is not ready=notify",
                    self.name(i)
                );
            }
            return;
        }
        self.report_first(fx, i, now);
        notify::fields(msg, |f| match f {
            Field::Ready => self.step(fx, i, Event::Ready, now),
            Field::Status(s) => {
                if let Some(row) = self.rows.status.get_mut(i) {
                    notify::fit_status(s, row);
                }
            }
            Field::MainPid(p) => self.main_pid(fx, i, p, now),
            Field::Watchdog => self.step(fx, i, Event::WatchdogPing, now),
            Field::WatchdogTrigger => self.step(fx, i, Event::WatchdogTrigger, now),
            // µs to ms, rounded up: a period below 1 ms is not "off".
            Field::WatchdogUsec(us) => {
                let ms = us.div_ceil(1000);
                self.step(fx, i, Event::WatchdogPeriod { ms }, now)
            }
            Field::Stopping | Field::Reloading | Field::Other(_) => {}
        });
    }

    /// MAINPID=: accepted only for a process in the unit's own cgroup
    /// (checked after its pidfd is open, so the pidfd is that process's);
    /// one that is not our child is watched through its pidfd.
    fn main_pid(&mut self, fx: &mut impl Effects, i: usize, p: i32, now: Ms) {
        let fd = Pid::from_raw(p).map(|pid| fx.adopt(pid));
        if self.unit_of_pid(fx, p) != Some(i) {
            say!(
                "{}: MAINPID={} ignored: not a process of this unit",
                self.name(i),
                p
            );
            return;
        }
        let (Some(pid), Some(fd)) = (Pid::from_raw(p), fd) else {
            return;
        };
        if self.watch_main(fx, i, pid, fd).is_ok() {
            self.step(fx, i, Event::MainPid { pid }, now);
        }
    }

    /// A new main process and its pidfd (`Effects::adopt`): one that is
    /// not our child is watched through it (ours are reaped as usual);
    /// its signals go through it either way.
    fn watch_main(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        pid: Pid,
        adopted: Result<(OwnedFd, bool), Errno>,
    ) -> Result<(), Errno> {
        let watched = adopted.and_then(|(fd, ours)| match ours {
            true => Ok((fd, true)),
            false => fx
                .watch(fd.as_fd(), token::PIDFD | i as u64)
                .map(|()| (fd, false)),
        });
        match watched {
            Ok((fd, ours)) => {
                if let Some(slot) = self.slots.get_mut(i) {
                    let (watch, child) = match ours {
                        true => (None, Some((pid, fd))),
                        false => (Some(fd), None),
                    };
                    slot.child_fd = child;
                    if let Some(old) = core::mem::replace(&mut slot.pidfd, watch) {
                        fx.unwatch(old.as_fd());
                    }
                }
                Ok(())
            }
            Err(e) => {
                say!(
                    "{}: unable to watch pid {}: {}",
                    self.name(i),
                    pid.as_raw_nonzero(),
                    Name(e)
                );
                Err(e)
            }
        }
    }

    /// Which unit a process is in: its cgroup, or (without cgroups) the
    /// unit whose main process it is.
    fn unit_of_pid(&self, fx: &impl Effects, pid: i32) -> Option<usize> {
        match &self.ctx.base {
            Some(base) => {
                let mut name = [0u8; 64];
                let (n, beside) = fx.cgroup_of(base, pid, &mut name)?;
                let name = core::str::from_utf8(name.get(..n)?).ok()?;
                // isolated.NAME is NAME's only if NAME isolates, and the
                // other way round.
                self.table.get().find(name).filter(|&u| {
                    self.table
                        .get()
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
    pub(crate) fn on_token(&mut self, fx: &mut impl Effects, token: u64, now: Ms) {
        let i = token::index(token);
        match token::kind(token) {
            token::SOCKET => self.on_socket(fx, i >> 4, i & 0xf, now),
            token::LOG => self.on_output(fx, i),
            token::READY => self.on_ready_fd(fx, i, now),
            token::EVENTS => {
                let populated = self
                    .slots
                    .get(i)
                    .and_then(|s| s.events.as_ref())
                    .map(|fd| fx.populated(fd));
                match populated {
                    Some(Ok(false)) => self.step(fx, i, Event::Emptied, now),
                    Some(Ok(true)) | None => {}
                    Some(Err(e)) => {
                        say!(
                            "{}: unable to read its cgroup.events: {}",
                            self.name(i),
                            Name(e)
                        );
                        if let Some(fd) = self.slots.get_mut(i).and_then(|s| s.events.take()) {
                            fx.unwatch(fd.as_fd());
                        }
                    }
                }
            }
            token::REPORT => self.on_report(fx, i, now),
            token::INSTANCE_REPORT => {
                let pid = self.instances.report(i).map(|(p, _)| p);
                let unit = pid.and_then(|p| self.instances.all().find(|x| x.pid == p));
                match unit.map(|x| usize::from(x.unit)) {
                    Some(u) => self.on_instance_report(fx, i, u, now),
                    None => {
                        if let Some(fd) = self.instances.take_report(i) {
                            fx.unwatch(fd.as_fd());
                        }
                    }
                }
            }
            token::PIDFD => {
                let pid = self.slots.get_mut(i).and_then(|s| {
                    let fd = s.pidfd.take()?;
                    fx.unwatch(fd.as_fd());
                    s.sm.main_pid()
                });
                if let Some(pid) = pid {
                    self.step(
                        fx,
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

    /// A connection or datagram on socket `k` of unit `i`: an on-demand
    /// unit starts; an `accept=yes` one starts an instance per waiting
    /// connection, as long as it has room (the others wait in the
    /// backlog: PID 1 does not accept what it cannot serve).
    fn on_socket(&mut self, fx: &mut impl Effects, i: usize, k: usize, now: Ms) {
        let Some(u) = self.table.get().units.get(i) else {
            return;
        };
        if !u.accept {
            return self.step(fx, i, Event::Activate, now);
        }
        let addr = u.listens().nth(k).map(|l| l.address());
        let mut pause = false;
        while let (Some(slot), Some(num)) = (
            self.slots.get_mut(i),
            self.instances.free_num(i, u.max_instances),
        ) {
            if slot.sm.state() != State::Listening {
                break;
            }
            let Some(listener) = self.rows.sockets.get_mut(i).and_then(|b| b.get_mut(k)) else {
                break;
            };
            let conn = match fx.accept(listener.fd()) {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    say!(
                        "{}: unable to accept a connection on {}: {}",
                        u.name,
                        addr.as_ref().map_or(&"?" as &dyn crate::put::Put, |a| a),
                        Name(e)
                    );
                    pause = true;
                    break;
                }
            };
            listener.accepted = listener.accepted.saturating_add(1);
            let c = Conn {
                num,
                fd: conn.as_fd(),
            };
            let pass = Pass::Conn(c);
            match fx.spawn(i, u, self.table.get(), &self.ctx, &mut slot.kept, pass) {
                Ok(Launched { pid, report, .. }) => {
                    slot.log_pid = pid.as_raw_nonzero().get();
                    self.instances.add(i, num, pid);
                    if let Some(fd) = report {
                        // Every slot taken cannot be (one per instance):
                        // then the pipe closes, and its exit tells.
                        if let Ok(k) = self.instances.hold_report(pid, fd) {
                            if let Some((_, fd)) = self.instances.report(k) {
                                let _ = fx.watch(fd, token::INSTANCE_REPORT | k as u64);
                            }
                        }
                    }
                }
                // Said by launch; the client sees its connection closed.
                Err(_) => {
                    pause = true;
                    break;
                }
            }
        }
        if let (true, Some(slot)) = (pause, self.slots.get_mut(i)) {
            slot.paused = Some(now.after(ACCEPT_PAUSE_MS));
        }
        self.sync_watch(fx, i, now);
    }

    fn on_output(&mut self, fx: &mut impl Effects, i: usize) {
        let Some(u) = self.table.get().units.get(i) else {
            return;
        };
        let (name, log) = (u.name, u.log);
        let (Some(slot), Some(row)) = (self.slots.get_mut(i), self.rows.lines.get_mut(i)) else {
            return;
        };
        let pid = slot.log_pid;
        let syslog = &mut self.syslog;
        let open = match &slot.kept.out {
            Some((rd, _)) => capture::pump(rd.as_fd(), &mut slot.cap, row, |line, piece| {
                capture::deliver(&Record::new(name, pid, line, piece), log, syslog)
            }),
            None => return,
        };
        if !open {
            if let Some((rd, _)) = slot.kept.out.take() {
                fx.unwatch(rd.as_fd());
            }
        }
    }

    fn on_ready_fd(&mut self, fx: &mut impl Effects, i: usize, now: Ms) {
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
                fx.unwatch(fd.as_fd());
            }
        }
        if ready {
            self.report_first(fx, i, now);
            self.step(fx, i, Event::Ready, now);
        }
    }

    /// A message from unit `i`'s program proves its exec, and the exec
    /// report (warnings, then the pipe's end) is in already: read before
    /// the message, so `started` is said before what the message does
    /// (READY=1, WATCHDOG=trigger) whichever fd epoll listed first.
    fn report_first(&mut self, fx: &mut impl Effects, i: usize, now: Ms) {
        if self.slots.get(i).is_some_and(|s| s.report.is_some()) {
            self.on_report(fx, i, now);
        }
    }

    /// Shutdown: nothing starts again; units stop in reverse dependency
    /// order. Call on every wake-up until `all_down()`.
    pub(crate) fn shutdown(&mut self, fx: &mut impl Effects, now: Ms) {
        if !self.shutting_down {
            self.shutting_down = true;
            // The old table stays; what a reload would have started does not.
            *self.reload = None;
            for i in 0..self.slots.len() {
                self.step(fx, i, Event::Shutdown, now);
            }
        }
        let all = Set::first(self.slots.len());
        self.release(fx, &all, now);
    }

    /// Tells the units of `set` that nothing in `set` still needs to stop
    /// (`order::stop_now`): dependents stop before what they depend on.
    fn release(&mut self, fx: &mut impl Effects, set: &Set, now: Ms) {
        let now_set = order::stop_now(&Deps(self.table.get()), set, |u| self.is_down(u));
        for i in now_set.iter() {
            self.step(fx, i, Event::StopRequest, now);
            self.stop_instances(fx, i, now);
        }
    }

    /// Nothing of unit `i` runs: neither its process nor an instance.
    fn is_down(&self, i: usize) -> bool {
        self.slots.get(i).is_none_or(|s| s.sm.is_down()) && self.instances.count(i) == 0
    }

    /// The stop signal to each of unit `i`'s instances, SIGKILL after its
    /// stop-timeout (`on_timer`).
    fn stop_instances(&mut self, fx: &mut impl Effects, i: usize, now: Ms) {
        let Some(p) = self.slots.get(i).map(|s| *s.sm.policy()) else {
            return;
        };
        // Our children, not reaped yet: their numbers are not reused. A
        // stopped (SIGSTOP) instance acts on its stop signal once
        // continued.
        self.instances
            .stop(i, now, u64::from(p.stop_timeout_ms), |pid| {
                let _ = fx.kill(pid.as_raw_nonzero().get(), p.stop_signal);
                let _ = fx.kill(pid.as_raw_nonzero().get(), linux_raw_sys::general::SIGCONT);
            });
    }

    fn boot_summary(&mut self, now: Ms) {
        let settled = self.slots.iter().all(|s| {
            !matches!(s.sm.outcome(), Outcome::Waiting | Outcome::Pending)
                || s.timeline.first_ready.is_some()
        });
        if !settled {
            return;
        }
        self.booted = true;
        self.late_at = None;
        let slots = &*self.slots;
        report::booted(
            self.table.get(),
            |i| slots.get(i)?.timeline.first_ready,
            now,
        );
    }

    /// `pinit start`: unit `i` and what it needs come up. A task it
    /// needs that is done stays done: only its own start runs it again.
    pub(crate) fn start(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        now: Ms,
    ) -> Result<(), Refused> {
        let mut set = order::needs_of(&Deps(self.table.get()), i);
        let slots = &*self.slots;
        set = set
            .iter()
            .filter(|&u| {
                slots
                    .get(u)
                    .is_some_and(|s| s.sm.outcome() != Outcome::Done)
            })
            .collect();
        set.insert(i);
        if set.iter().any(|u| self.reloading(u)) {
            return Err(Refused::Reloading);
        }
        for u in set.iter() {
            self.step(fx, u, Event::StartRequest, now);
        }
        self.schedule(fx, now);
        Ok(())
    }

    /// `pinit stop`: unit `i` and what needs it, dependents first, over
    /// as many wake-ups as it takes.
    pub(crate) fn stop(&mut self, fx: &mut impl Effects, i: usize, now: Ms) {
        let mut set = order::needed_by(&Deps(self.table.get()), i);
        set.insert(i);
        for u in set.iter() {
            // A unit with no process (waiting, backing off) holds nothing
            // up and would start again: it stops at once.
            if self.slots.get(u).is_some_and(|s| s.sm.is_down()) {
                self.step(fx, u, Event::StopRequest, now);
            }
            self.stopping.insert(u);
        }
        self.continue_stop(fx, now);
    }

    /// `pinit restart`.
    pub(crate) fn restart(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        now: Ms,
    ) -> Result<(), Refused> {
        if self.reloading(i) {
            return Err(Refused::Reloading);
        }
        self.step(fx, i, Event::RestartRequest, now);
        Ok(())
    }

    /// `pinit reload`: the reload signal, to a running unit only.
    pub(crate) fn reload(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        now: Ms,
    ) -> Result<(), Refused> {
        match self.slots.get(i).map(|s| s.sm.state()) {
            Some(State::Running { .. }) => {
                self.step(fx, i, Event::ReloadRequest, now);
                Ok(())
            }
            Some(State::Tracking) => Err(Refused::NoMainProcess),
            _ => Err(Refused::NotRunning),
        }
    }

    /// `pinit signal`: `sig` to the unit's main process.
    pub(crate) fn signal(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        sig: u32,
    ) -> Result<(), Refused> {
        let slot = self.slots.get(i).ok_or(Refused::NotRunning)?;
        let pid = match (slot.sm.main_pid(), slot.sm.state()) {
            (Some(pid), _) => pid,
            (None, State::Tracking) => return Err(Refused::NoMainProcess),
            (None, _) => return Err(Refused::NotRunning),
        };
        self.send(fx, i, pid, sig).map_err(Refused::Signal)
    }

    fn continue_stop(&mut self, fx: &mut impl Effects, now: Ms) {
        let set = self.stopping;
        self.release(fx, &set, now);
        let done: Set = self.stopping.iter().filter(|&u| self.is_down(u)).collect();
        for u in done.iter() {
            self.stopping.remove(u);
        }
    }

    pub(crate) fn all_down(&self) -> bool {
        (0..self.slots.len()).all(|i| self.is_down(i))
    }

    /// Forks unit `i`'s process; a new run's readiness and report pipes
    /// are watched, the previous run's pipes and pidfd are dropped.
    fn spawn(&mut self, fx: &mut impl Effects, i: usize) -> Result<Pid, LaunchError> {
        let table = self.table.get();
        let (u, slot) = match (table.units.get(i), self.slots.get_mut(i)) {
            (Some(u), Some(s)) => (u, s),
            _ => return Err(LaunchError::Errno(Errno::INVAL)),
        };
        let sockets = self.rows.sockets_of(i);
        let Launched {
            pid,
            ready,
            report,
            pidfd,
        } = fx.spawn(
            i,
            u,
            table,
            &self.ctx,
            &mut slot.kept,
            Pass::Sockets(sockets),
        )?;
        slot.child_fd = pidfd.map(|fd| (pid, fd));
        let old = [slot.ready.take(), slot.report.take(), slot.pidfd.take()];
        for fd in old.into_iter().flatten() {
            fx.unwatch(fd.as_fd());
        }
        for (fd, kind, keep) in [
            (ready, token::READY, &mut slot.ready),
            (report, token::REPORT, &mut slot.report),
        ] {
            if let Some(fd) = fd {
                if fx.watch(fd.as_fd(), kind | i as u64).is_ok() {
                    *keep = Some(fd);
                }
            }
        }
        slot.log_pid = pid.as_raw_nonzero().get();
        slot.not_yet = None;
        slot.run_dirs |= u.runtime_dirs().next().is_some();
        self.rows.clear_status(i);
        Ok(pid)
    }
}

/// One SIGKILL sweep of the cgroup of unit `i` or of its instance
/// `instance` (how many it found); without cgroups, SIGKILL to process
/// group `pgid` (the unit's last process, or the instance, leads its own
/// session).
fn kill_in(
    table: &Table<'_>,
    base: Option<&crate::place::cgroup::Base>,
    fx: &mut impl Effects,
    i: usize,
    instance: Option<u16>,
    pgid: i32,
) -> Option<usize> {
    let u = table.units.get(i)?;
    match base {
        Some(base) => match fx.kill_cgroup(base, u.name, u.isolate, instance) {
            Ok(n) => Some(n),
            Err(e) => {
                if e != Errno::NOENT {
                    say!("{}: unable to kill its cgroup: {}", u.name, Name(e));
                }
                None
            }
        },
        None => {
            if pgid > 0 {
                let _ = fx.kill(-pgid, linux_raw_sys::general::SIGKILL);
            }
            None
        }
    }
}

mod reload;
mod resume;
pub(crate) use reload::{Planned, Reload, PLAN};
pub(crate) use resume::{Carried, UnitFds};

/// Binds each of `u`'s `listen=` sockets into `bound`: false, and none
/// kept, if one cannot be. Out of line and cold: most units have no
/// socket, and the binding code then stays out of the pages PID 1's loop
/// runs from (tools/cold.ld places what the compiler marks cold).
#[cold]
#[inline(never)]
fn bind_listeners(fx: &mut impl Effects, u: &table::Unit<'_>, bound: &mut Sockets) -> bool {
    for l in u.listens() {
        match fx.bind(u, &l) {
            Ok(fd) => {
                let _ = bound.push(Listener { fd, accepted: 0 });
            }
            Err(_) => {
                bound.clear();
                return false;
            }
        }
    }
    true
}

/// Supervisor scenarios on the host (supervisor/tests.rs).
#[cfg(test)]
mod tests;
