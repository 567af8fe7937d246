//! What the supervisor tells: the console line of each state change, the
//! boot timeline and its critical chain. The console summary and the
//! control server's `boot` answer both come from here.

use crate::put::{Put, Sink};
use crate::say;
use crate::supervise::ratelimit::Limit;
use crate::supervise::unit::{Event, Failure, Outcome, State, Status, Then, Unit};
use crate::sys::errno::Name;
use crate::sys::time::Ms;
use crate::table::Table;

/// When the units are not all settled this long after they began to
/// start, the console names those still starting (once).
pub(crate) const BOOT_LATE_MS: u64 = 30_000;

/// A unit's boot timeline: when its dependencies were first met, when it
/// was first started, first ready (a task: done).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Timeline {
    pub(crate) deps_met: Option<Ms>,
    pub(crate) first_start: Option<Ms>,
    pub(crate) first_ready: Option<Ms>,
}

impl Timeline {
    /// Notes the first times, after `event` moved `unit`.
    pub(crate) fn note(&mut self, unit: &Unit, event: Event, now: Ms) {
        if event == Event::Start && self.deps_met.is_none() {
            self.deps_met = Some(now);
        }
        match unit.state() {
            State::Starting { .. } | State::Running { .. } if self.first_start.is_none() => {
                self.first_start = Some(unit.since());
            }
            _ => {}
        }
        if self.first_ready.is_none() && matches!(unit.outcome(), Outcome::Ready | Outcome::Done) {
            self.first_ready = Some(now);
        }
    }
}

/// Says on the console what changed when `unit` left `before`.
/// The crash-loop lines (`restarting in`, `restarting now`) go through
/// `says`.
pub(crate) fn changed(name: &str, before: State, unit: &Unit, says: &mut Limit, now: Ms) {
    let after = unit.state();
    let ran = now.since(unit.since());
    match (before, after) {
        (State::Running { pid: old, .. }, State::Running { pid, .. }) if old != pid => say!(
            "{}: main process is now pid {} (was {})",
            name,
            pid.as_raw_nonzero(),
            old.as_raw_nonzero()
        ),
        (State::Tracking, State::Running { pid, .. }) => say!(
            "{}: main process is now pid {}, the only one left in its cgroup",
            name,
            pid.as_raw_nonzero()
        ),
        _ => {}
    }
    if core::mem::discriminant(&before) == core::mem::discriminant(&after) {
        return;
    }
    match after {
        State::Running { pid, .. }
            if matches!(before, State::Starting { .. } | State::Adopting { .. })
                && unit.policy().waits_for_ready() =>
        {
            say!(
                "{}: ready (pid {}, {} ms after start)",
                name,
                pid.as_raw_nonzero(),
                ran
            )
        }
        State::BackingOff { .. } if !says.pass(now, name) => {}
        State::Tracking => say!(
            "{}: {} several processes and no pidfile=: running while its cgroup has processes",
            name,
            if matches!(before, State::Adopting { .. }) {
                "ready;"
            } else {
                "main process exited 0 and left"
            }
        ),
        State::BackingOff { until } => match unit.last_exit() {
            Some(st) => say!(
                "{}: {}; restarting in {} ms",
                name,
                Exit(st),
                until.since(now)
            ),
            None => say!("{}: restarting in {} ms", name, until.since(now)),
        },
        State::Done => say!(
            "{}: done ({})",
            name,
            unit.last_exit().map_or(Exit(Status::Unknown), Exit)
        ),
        State::Failed { why } => say!("{}: failed: {}", name, Why(why, unit.last_exit())),
        State::Skipped => say!("{}: skipped: an if= condition is unmet", name),
        State::Blocked => say!("{}: blocked: a needs= dependency failed", name),
        State::Stopping {
            pid,
            then: Then::Fail(why),
            ..
        } => match why {
            Failure::ReadyTimeout => say!(
                "{}: not ready {} ms after start (ready-timeout=); stopping it",
                name,
                ran
            ),
            Failure::Timeout => say!(
                "{}: still running {} ms after start (timeout=); stopping it",
                name,
                ran
            ),
            Failure::PidFile => say!(
                "{}: no main process {} ms after start (ready=forked); stopping it",
                name,
                ran
            ),
            Failure::Watchdog => say!(
                "{}: watchdog: no ping within {} ms; sending SIGABRT to pid {}",
                name,
                unit.watchdog().0,
                Pid0(pid)
            ),
            Failure::Triggered => say!(
                "{}: watchdog: WATCHDOG=trigger; sending SIGABRT to pid {}",
                name,
                Pid0(pid)
            ),
            Failure::Exit
            | Failure::NotReady
            | Failure::Vanished
            | Failure::Spawn(_)
            | Failure::Refused
            | Failure::Sockets
            | Failure::Limit => say!("{}: stopping", name),
        },
        State::Stopping { .. } => say!("{}: stopping", name),
        State::Stopped => say!("{}: stopped", name),
        State::Listening => say!("{}: listening", name),
        // An exit after a stable run: started again with no back-off.
        State::Spawning
            if matches!(
                before,
                State::Starting { .. }
                    | State::Running { .. }
                    | State::Adopting { .. }
                    | State::Tracking
            ) =>
        {
            if says.pass(now, name) {
                say!(
                    "{}: {}; restarting now",
                    name,
                    unit.last_exit().map_or(Exit(Status::Unknown), Exit)
                )
            }
        }
        State::Waiting
        | State::Spawning
        | State::Starting { .. }
        | State::Adopting { .. }
        | State::Running { .. } => {}
    }
}

/// The dependency unit `i` waited for longest (the one ready last): the
/// critical chain runs back through these.
pub(crate) fn waited_for(
    table: &Table<'_>,
    i: usize,
    ready: &impl Fn(usize) -> Option<Ms>,
) -> Option<usize> {
    table.units.get(i).and_then(|u| {
        u.deps()
            .filter_map(|d| Some((ready(d.unit)?, d.unit)))
            .max()
            .map(|(_, d)| d)
    })
}

/// Once every unit has settled or become ready: one console line with
/// the boot's length and its critical chain (`pinit boot` has it all).
pub(crate) fn booted(table: &Table<'_>, ready: impl Fn(usize) -> Option<Ms>, now: Ms) {
    let last = (0..table.units.len())
        .filter_map(|i| Some((ready(i)?, i)))
        .max();
    let mut chain: heapless::Vec<usize, 16> = heapless::Vec::new();
    let mut at = last.map(|(_, i)| i);
    while let Some(i) = at {
        if chain.push(i).is_err() {
            break;
        }
        at = waited_for(table, i, &ready);
    }
    let mut line: heapless::String<200> = heapless::String::new();
    for (n, i) in chain.iter().rev().enumerate() {
        let _ = crate::put!(
            line,
            "{}{}",
            if n > 0 { " -> " } else { "" },
            table.units.get(*i).map_or("?", |u| u.name)
        );
    }
    say!(
        "boot: every unit settled {} ms after kernel start; critical chain: {}",
        last.map_or(now.0, |(t, _)| t.0),
        if line.is_empty() { "-" } else { line.as_str() }
    );
}

/// A task ended and left processes in its cgroup: `killed` by the end of
/// its run, or `kept` there by `kill=main`.
pub(crate) fn task_leftovers(name: &str, killed: Option<usize>, kept: Option<usize>) {
    match (killed, kept) {
        (Some(n), _) if n > 0 => say!(
            "{}: killed {} it left behind in its cgroup (a daemon belongs in a service with ready=forked; kill=main keeps them)",
            name,
            Procs(n)
        ),
        (_, Some(n)) if n > 0 => say!(
            "{}: {} it started keep running in its cgroup (kill=main; they are killed at shutdown)",
            name,
            Procs(n)
        ),
        _ => {}
    }
}

/// `1 process`, `3 processes`.
struct Procs(usize);

impl Put for Procs {
    fn put(&self, s: &mut dyn Sink) {
        let es = if self.0 == 1 { "" } else { "es" };
        crate::fill!(s, "{} process{}", self.0, es);
    }
}

/// BOOT_LATE_MS after the units began to start, some have not settled:
/// one console line naming each with its state, and for a waiting one
/// what it waits for. `at(i)`: its state and that dependency, if it has
/// not settled.
pub(crate) fn unsettled(table: &Table<'_>, at: impl Fn(usize) -> Option<(State, Option<usize>)>) {
    let late = Late { table, at };
    say!(
        "boot: not settled {} s after the units began to start: {}",
        BOOT_LATE_MS / 1000,
        late
    );
}

struct Late<'t, F> {
    table: &'t Table<'t>,
    at: F,
}

impl<F: Fn(usize) -> Option<(State, Option<usize>)>> Put for Late<'_, F> {
    fn put(&self, s: &mut dyn Sink) {
        let name = |i: usize| self.table.units.get(i).map_or("?", |u| u.name);
        let mut sep = "";
        for &i in self.table.order.iter() {
            let i = usize::from(i);
            if let Some((state, dep)) = (self.at)(i) {
                crate::fill!(s, "{}{} ({}", sep, name(i), state.name());
                if let Some(d) = dep {
                    crate::fill!(s, " for {}", name(d));
                }
                s.str(")");
                sep = ", ";
            }
        }
    }
}

/// `exited with status 1`, `killed by signal 9`.
struct Exit(Status);

impl Put for Exit {
    fn put(&self, s: &mut dyn Sink) {
        match self.0 {
            Status::Code(c) => crate::fill!(s, "exited with status {}", c),
            Status::Signal(n) => crate::fill!(s, "killed by signal {}", n),
            Status::Unknown => s.str("exited"),
        }
    }
}

struct Why(Failure, Option<Status>);

impl Put for Why {
    fn put(&self, s: &mut dyn Sink) {
        let text = match self.0 {
            Failure::Exit => match self.1 {
                Some(st) => return Exit(st).put(s),
                None => "exited",
            },
            Failure::NotReady => "exited before it was ready",
            Failure::ReadyTimeout => "not ready within ready-timeout",
            Failure::Timeout => "still running at its timeout=",
            Failure::Vanished => "its launcher exited 0 and left no process running",
            Failure::PidFile => "its main process was not found in time",
            Failure::Spawn(e) => return crate::fill!(s, "could not be started: {}", Name(e)),
            Failure::Refused => "not started: its CPUs could not be isolated",
            Failure::Sockets => "not started: a socket could not be bound",
            Failure::Limit => "restart-limit reached",
            Failure::Watchdog => "watchdog timeout",
            Failure::Triggered => "watchdog triggered (WATCHDOG=trigger)",
        };
        s.str(text);
    }
}

/// A stopping unit's main pid, for the console (0: none left).
struct Pid0(Option<rustix::process::Pid>);

impl Put for Pid0 {
    fn put(&self, s: &mut dyn Sink) {
        crate::put::signed(s, self.0.map_or(0, |p| i64::from(p.as_raw_nonzero().get())))
    }
}
