//! What the supervisor tells: the console line of each state change, the
//! boot timeline and its critical chain. The console summary and the
//! control server's `boot` answer both come from here.

use crate::say;
use crate::supervise::unit::{Event, Failure, Outcome, State, Status, Unit};
use crate::sys::errno::Name;
use crate::sys::time::Ms;
use crate::table::Table;

/// A unit's boot timeline: when its dependencies were first met, when it
/// was first started, first ready (a task: done).
#[derive(Clone, Copy, Default)]
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
pub(crate) fn changed(name: &str, before: State, unit: &Unit, now: Ms) {
    let after = unit.state();
    if core::mem::discriminant(&before) == core::mem::discriminant(&after) {
        return;
    }
    match after {
        State::Running { pid } if matches!(before, State::Starting { .. }) => {
            say!(
                "{}: ready (pid {}, {} ms after start)",
                name,
                pid.as_raw_nonzero(),
                now.since(unit.since())
            )
        }
        State::BackingOff { until } => match unit.last_exit() {
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
            unit.last_exit().map_or(Exit(Status::Unknown), Exit)
        ),
        State::Failed { why } => say!("{}: failed: {}", name, Why(why, unit.last_exit())),
        State::Skipped => say!("{}: skipped: an if= condition is unmet", name),
        State::Blocked => say!("{}: blocked: a needs= dependency failed", name),
        State::Stopping { .. } => say!("{}: stopping", name),
        State::Stopped => say!("{}: stopped", name),
        State::Listening => say!("{}: listening", name),
        State::Waiting | State::Spawning | State::Starting { .. } | State::Running { .. } => {}
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
        let _ = core::fmt::Write::write_fmt(
            &mut line,
            format_args!(
                "{}{}",
                if n > 0 { " -> " } else { "" },
                table.units.get(*i).map_or("?", |u| u.name)
            ),
        );
    }
    say!(
        "boot: every unit settled {} ms after kernel start; critical chain: {}",
        last.map_or(now.0, |(t, _)| t.0),
        if line.is_empty() { "-" } else { line.as_str() }
    );
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
            Failure::Sockets => f.write_str("not started: a socket could not be bound"),
            Failure::Limit => f.write_str("restart-limit reached"),
        }
    }
}
