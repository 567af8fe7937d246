//! One unit's lifecycle as a pure state machine: `step(event, now)` moves
//! the state and answers with the effects to apply. No system calls here:
//! the supervisor spawns, signals and kills, then feeds back what happened
//! (docs/design.md §4; the options are docs/config.md). The full (state × event) table is
//! docs/state-machine.md; `step` is an exhaustive match that mirrors it.

use crate::sys::time::Ms;
use crate::table::{Kill, Ready, Restart, UnitKind};
use linux_raw_sys::general::{SIGABRT, SIGCONT, SIGHUP, SIGKILL, SIGTERM};
use rustix::io::Errno;
use rustix::process::{Pid, WaitStatus};

/// A unit that dies sooner than this after its spawn is a quick failure.
pub(crate) const STABLE_RUN_MS: u64 = 10_000;
/// The first back-off after a quick failure; it doubles up to restart-max.
pub(crate) const BACKOFF_FIRST_MS: u64 = 100;
/// After SIGKILL, how long to wait for the main process before giving it
/// up (uninterruptible sleep): shutdown must not hang on one unit.
pub(crate) const KILL_GRACE_MS: u64 = 2_000;
/// `ready=forked`: how long after its launcher's exit the main process
/// may take to be found (its pidfile written), unless ready-timeout says.
pub(crate) const FIND_WAIT_MS: u64 = 10_000;
/// `ready=forked`: how often to look for it again meanwhile.
pub(crate) const FIND_RETRY_MS: u64 = 50;

/// When a unit's process runs: at boot, or (a unit with `listen=`) at
/// the first connection or datagram, or one per connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Activation {
    /// Started when its dependencies are met (every unit without
    /// sockets, and `start=boot`).
    Boot,
    /// `start=on-demand`: listening until a connection or datagram
    /// arrives (`Activate`); listening again after its process exits,
    /// where another unit would be restarted.
    OnDemand,
    /// `accept=yes`: listening for good; the supervisor starts an
    /// instance per connection, outside this state machine.
    Accept,
}

/// What the state machine needs of a unit's options (docs/config.md).
/// Durations in u32 milliseconds, as the table has them (49 days at
/// most): every unit's slot holds a copy, so its size counts per unit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Policy {
    pub(crate) kind: UnitKind,
    pub(crate) activation: Activation,
    pub(crate) restart: Restart,
    pub(crate) restart_delay_ms: u32,
    /// Cap of the quick-failure back-off; 0 turns back-off off.
    pub(crate) restart_max_ms: u32,
    /// Quick failures in a row before `Failed`; `Some(0)` acts as 1.
    pub(crate) restart_limit: Option<u32>,
    pub(crate) ready: Ready,
    pub(crate) ready_timeout_ms: Option<u32>,
    /// The sd_notify watchdog period once ready; 0: none.
    pub(crate) watchdog_ms: u32,
    /// `ready=forked` without `pidfile=`: the main process is the one
    /// found in the cgroup, and its exit with status 0 hands over to
    /// what it leaves there (a daemon that forks twice).
    pub(crate) guess: bool,
    /// A task's `timeout=`.
    pub(crate) timeout_ms: Option<u32>,
    pub(crate) stop_signal: u32,
    pub(crate) stop_timeout_ms: u32,
    pub(crate) reload_signal: u32,
    pub(crate) kill: Kill,
}

impl Policy {
    /// The defaults of docs/config.md for a kind of unit.
    pub(crate) const fn new(kind: UnitKind) -> Policy {
        Policy {
            kind,
            activation: Activation::Boot,
            restart: match kind {
                UnitKind::Task => Restart::Never,
                UnitKind::Service | UnitKind::Tty => Restart::Always,
            },
            restart_delay_ms: 0,
            restart_max_ms: 30_000,
            restart_limit: None,
            ready: Ready::None,
            ready_timeout_ms: None,
            watchdog_ms: 0,
            guess: false,
            timeout_ms: None,
            stop_signal: SIGTERM,
            stop_timeout_ms: 5_000,
            reload_signal: SIGHUP,
            kill: Kill::Cgroup,
        }
    }

    /// Whether the unit waits in `Starting` for `Ready` after its exec
    /// (or, forked, for its launcher's exit).
    pub(crate) const fn waits_for_ready(&self) -> bool {
        match (self.kind, self.ready) {
            (UnitKind::Task, _) | (_, Ready::None) => false,
            (UnitKind::Service | UnitKind::Tty, Ready::Notify | Ready::Fd(_) | Ready::Forked) => {
                true
            }
        }
    }

    const fn forked(&self) -> bool {
        matches!(self.ready, Ready::Forked) && !matches!(self.kind, UnitKind::Task)
    }
}

/// How a process ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Status {
    Code(i32),
    Signal(i32),
    /// Not our child (a `MAINPID=` watched through a pidfd), or a whole
    /// cgroup that emptied: counts as a failure, since a supervised
    /// process is not meant to go away.
    Unknown,
}

impl Status {
    pub(crate) fn from_wait(w: WaitStatus) -> Status {
        match (w.exit_status(), w.terminating_signal()) {
            (Some(code), _) => Status::Code(code),
            (None, Some(sig)) => Status::Signal(sig),
            (None, None) => Status::Unknown,
        }
    }

    pub(crate) const fn success(self) -> bool {
        matches!(self, Status::Code(0))
    }
}

/// Why a unit is `Failed`; the last exit status is `Unit::last_exit`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Failure {
    /// Non-zero exit code, a signal, or an unknown status.
    Exit,
    /// Exited (even with 0) before it said it was ready.
    NotReady,
    /// Not ready within `ready-timeout`.
    ReadyTimeout,
    /// A task still running at its `timeout=`.
    Timeout,
    /// `ready=forked`: the launcher exited 0 and nothing of it is left.
    Vanished,
    /// `ready=forked`: no usable pidfile in time.
    PidFile,
    /// The program could not be started (fork, cgroup, exec, ...).
    Spawn(Errno),
    /// It must not run as configured: its CPUs could not be isolated
    /// (`isolate=yes`). Never retried on its own.
    Refused,
    /// A socket of its `listen=` could not be bound. Never retried on
    /// its own.
    Sockets,
    /// `restart-limit` quick failures in a row.
    Limit,
    /// No `WATCHDOG=1` within the watchdog period.
    Watchdog,
    /// `WATCHDOG=trigger`: the unit asked for its watchdog to fire.
    Triggered,
}

/// What happens once a stopping unit's main process is gone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Then {
    /// Stay `Stopped`.
    Stop,
    /// Back to `Waiting`: the scheduler starts it again once its
    /// dependencies are met (an explicit restart).
    Restart,
    /// Count it as this failure and let the restart rules decide (a
    /// timeout, the watchdog).
    Fail(Failure),
}

/// What the supervisor found of a `ready=forked` unit (`FindMain`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Found {
    /// Its main process: the one its pidfile names, or the only one in
    /// its cgroup.
    Pid(Pid),
    /// Several processes in its cgroup and no pidfile: the cgroup stands
    /// for the unit.
    Group,
    /// Not yet: the pidfile is missing or names no process of the unit.
    NotYet,
    /// Nothing of the unit runs.
    Nothing,
}

/// A unit's state. Pids live in the states that have a process.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum State {
    /// Waiting for its dependencies; the scheduler sends `Start`.
    Waiting,
    /// On-demand or inetd style: nothing runs; its sockets are watched
    /// for the first connection or datagram (`Activate`).
    Listening,
    /// `Spawn` was asked; the supervisor answers `Spawned` or
    /// `SpawnFailed` before anything else.
    Spawning,
    /// Forked; not exec'd yet (the child's report is pending), or
    /// exec'd and not ready yet (notify, fd; forked: the launcher runs).
    Starting {
        pid: Pid,
        deadline: Option<Ms>,
    },
    /// `ready=forked`: the launcher exited 0; its main process is looked
    /// for again at `retry` (the pidfile), until `deadline`.
    Adopting {
        retry: Ms,
        deadline: Ms,
    },
    /// Ready (a task: running, until its `timeout=` deadline).
    Running {
        pid: Pid,
        deadline: Option<Ms>,
    },
    /// `ready=forked` with several processes and no pidfile: up while
    /// its cgroup has processes; no main process.
    Tracking,
    /// Stop signal sent (or SIGKILL once `killed`); `pid` is `None` when
    /// the stop came before the spawn's answer, or there is no main
    /// process (`Adopting`, `Tracking`: then the cgroup's emptying ends it).
    Stopping {
        pid: Option<Pid>,
        deadline: Ms,
        killed: bool,
        then: Then,
    },
    /// Exited 0 and not restarted.
    Done,
    /// Waiting to be spawned again.
    BackingOff {
        until: Ms,
    },
    Failed {
        why: Failure,
    },
    /// An `if=` condition was unmet.
    Skipped,
    /// A `needs=` dependency failed.
    Blocked,
    /// Stopped on request.
    Stopped,
}

impl State {
    /// The main process of the state, if it has one.
    pub(crate) const fn pid(&self) -> Option<Pid> {
        match *self {
            State::Starting { pid, .. } | State::Running { pid, .. } => Some(pid),
            State::Stopping { pid, .. } => pid,
            State::Waiting
            | State::Listening
            | State::Spawning
            | State::Adopting { .. }
            | State::Tracking
            | State::Done
            | State::BackingOff { .. }
            | State::Failed { .. }
            | State::Skipped
            | State::Blocked
            | State::Stopped => None,
        }
    }

    /// The word for the state, the same on the console, in `pinit
    /// status` and in its JSON (docs/control.md).
    pub(crate) const fn name(&self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Listening => "listening",
            State::Spawning => "spawning",
            State::Starting { .. } | State::Adopting { .. } => "starting",
            State::Running { .. } | State::Tracking => "running",
            State::Stopping { .. } => "stopping",
            State::Done => "done",
            State::BackingOff { .. } => "backing-off",
            State::Failed { .. } => "failed",
            State::Skipped => "skipped",
            State::Blocked => "blocked",
            State::Stopped => "stopped",
        }
    }
}

/// What happened to a unit, as the supervisor tells it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Event {
    /// Scheduler: dependencies and `if=` met.
    Start,
    /// Scheduler: an `if=` condition is unmet.
    ConditionUnmet,
    /// Scheduler: a `needs=` dependency failed or is blocked.
    DepFailed,
    /// A socket of the unit could not be bound: it cannot run.
    Unbound,
    /// A connection or datagram on the sockets of a listening unit.
    Activate,
    /// The answer to `Spawn`: the child is forked; its exec report
    /// follows (`Execd` or `SpawnFailed`).
    Spawned {
        pid: Pid,
    },
    /// The child's report pipe closed: the program is exec'd.
    Execd,
    /// The answer to `Spawn` (fork failed), or the child's report (its
    /// set-up or exec failed): it could not be started.
    SpawnFailed {
        errno: Errno,
    },
    /// The answer to `Spawn`: it must not run as configured (isolation
    /// the kernel refuses); `Failed`, whatever the restart policy.
    SpawnRefused,
    /// `READY=1`, or a newline on the ready fd.
    Ready,
    /// sd_notify `MAINPID=`.
    MainPid {
        pid: Pid,
    },
    /// The answer to `FindMain`; also, for a `Tracking` unit, what is
    /// left in its cgroup after a process of PID 1's exited.
    Found {
        main: Found,
    },
    /// Its cgroup has no process left (cgroup.events `populated 0`).
    Emptied,
    /// A process exited; ignored unless it is the main pid.
    Exited {
        pid: Pid,
        status: Status,
    },
    /// `deadline()` has passed (an early one is ignored).
    Timer,
    /// sd_notify `WATCHDOG=1`: the period starts again.
    WatchdogPing,
    /// sd_notify `WATCHDOG=trigger`: the watchdog fires now.
    WatchdogTrigger,
    /// sd_notify `WATCHDOG_USEC=`: a new period (ms, 0: off) from now on,
    /// until the next start.
    WatchdogPeriod {
        ms: u64,
    },
    StopRequest,
    StartRequest,
    RestartRequest,
    ReloadRequest,
    /// The machine goes down: never spawn again. Waiting and backing-off
    /// units stop now; running ones wait for their `StopRequest`.
    Shutdown,
}

/// An effect for the supervisor, applied in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Action {
    /// Start the program; answer with `Spawned` or `SpawnFailed` at once.
    Spawn,
    /// `kill(pid, sig)`.
    Signal { pid: Pid, sig: u32 },
    /// `sig` to every process of the unit's cgroup, once (without
    /// cgroups: its main process and process group).
    SignalCgroup { sig: u32 },
    /// SIGKILL to every process left in the unit's cgroup (each pid of
    /// cgroup.procs, never cgroup.kill: see place/cgroup.rs); without
    /// cgroups, to its process group.
    KillCgroup,
    /// `ready=forked`: find the main process; answer with `Found` at once.
    FindMain,
}

/// The effects of one step; at most two are ever needed.
pub(crate) type Actions = heapless::Vec<Action, 3>;

/// What the scheduler sees of a unit (crate::supervise::order).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Outcome {
    /// Not started: waiting for `Start`.
    Waiting,
    /// Started, not ready yet (a task: not exited yet); backing off;
    /// stopping.
    Pending,
    /// A service or tty that is ready.
    Ready,
    /// Exited 0 for good.
    Done,
    Failed,
    Skipped,
    Blocked,
    Stopped,
}

/// What a unit is besides its policy: its state and counters, as a
/// re-exec hands them over (boot/handover.rs) and `Unit::resume` takes
/// them back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Snapshot {
    pub(crate) state: State,
    pub(crate) since: Ms,
    pub(crate) restarts: u32,
    pub(crate) streak: u32,
    pub(crate) backoff_ms: u64,
    pub(crate) last_exit: Option<Status>,
    /// The `watchdog=` period in force and the last ping; `None`: not
    /// known (after a crash, or from a writer without it): the policy's
    /// period, counted from the resumption.
    pub(crate) watchdog: Option<(u64, Ms)>,
}

impl Snapshot {
    /// A unit that has not run yet, in `state`.
    pub(crate) const fn of(state: State) -> Snapshot {
        Snapshot {
            state,
            since: Ms(0),
            restarts: 0,
            streak: 0,
            backoff_ms: 0,
            last_exit: None,
            watchdog: None,
        }
    }
}

/// One unit: its policy, state and counters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Unit {
    policy: Policy,
    state: State,
    /// When the current or last process was exec'd.
    since: Ms,
    /// Automatic restarts so far.
    restarts: u32,
    /// Quick failures in a row.
    streak: u32,
    /// The back-off applied last; 0 when none.
    backoff_ms: u64,
    last_exit: Option<Status>,
    /// `Shutdown` seen: never spawn again.
    shutdown: bool,
    /// The watchdog period of this run (policy, or `WATCHDOG_USEC=`); 0: off.
    watchdog_ms: u64,
    /// When the watchdog period last started (ready, a ping, a new period).
    pinged: Ms,
}

/// The earlier of two optional deadlines.
const fn earliest(a: Option<Ms>, b: Option<Ms>) -> Option<Ms> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if x.0 <= y.0 { x } else { y }),
        (Some(x), None) | (None, Some(x)) => Some(x),
        (None, None) => None,
    }
}

fn act(acts: &mut Actions, a: Action) {
    let full = acts.push(a).is_err();
    debug_assert!(!full, "a step never has more than 3 actions");
}

/// The next back-off: 100 ms, then doubling, capped; 0 when `cap` is 0.
const fn next_backoff(prev: u64, cap: u64) -> u64 {
    let next = if prev == 0 {
        BACKOFF_FIRST_MS
    } else {
        prev.saturating_mul(2)
    };
    if next < cap {
        next
    } else {
        cap
    }
}

impl Unit {
    pub(crate) const fn new(policy: Policy) -> Unit {
        Unit {
            policy,
            state: State::Waiting,
            since: Ms(0),
            restarts: 0,
            streak: 0,
            backoff_ms: 0,
            last_exit: None,
            shutdown: false,
            watchdog_ms: 0,
            pinged: Ms(0),
        }
    }

    /// The unit a previous PID 1 ran, as it was (a re-exec's hand-over, or
    /// what the kernel tells after a crash): not a transition, the
    /// machine going on where it stood (docs/state-machine.md, "Re-exec").
    pub(crate) const fn resume(policy: Policy, s: Snapshot, now: Ms) -> Unit {
        let (watchdog_ms, pinged) = match s.watchdog {
            Some(w) => w,
            None => (policy.watchdog_ms as u64, now),
        };
        Unit {
            policy,
            state: s.state,
            since: s.since,
            restarts: s.restarts,
            streak: s.streak,
            backoff_ms: s.backoff_ms,
            last_exit: s.last_exit,
            shutdown: false,
            watchdog_ms,
            pinged,
        }
    }

    /// Its state and counters, for a re-exec.
    pub(crate) const fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            since: self.since,
            restarts: self.restarts,
            streak: self.streak,
            backoff_ms: self.backoff_ms,
            last_exit: self.last_exit,
            watchdog: Some((self.watchdog_ms, self.pinged)),
        }
    }

    pub(crate) const fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A reload's in-place change (`restart=`, `stop-timeout=`, ...): the
    /// new policy counts from the next event on; the state, its
    /// deadlines and the counters stay (docs/state-machine.md, "Reload").
    pub(crate) fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    pub(crate) const fn state(&self) -> State {
        self.state
    }

    /// The process signals go to (`pinit signal`), if there is one.
    pub(crate) const fn main_pid(&self) -> Option<Pid> {
        self.state.pid()
    }

    /// When the current or last process was exec'd.
    pub(crate) const fn since(&self) -> Ms {
        self.since
    }

    pub(crate) const fn restarts(&self) -> u32 {
        self.restarts
    }

    /// Quick failures in a row.
    #[cfg(test)]
    pub(crate) const fn streak(&self) -> u32 {
        self.streak
    }

    /// The current back-off in ms (0: none).
    #[cfg(test)]
    pub(crate) const fn backoff_ms(&self) -> u64 {
        self.backoff_ms
    }

    pub(crate) const fn last_exit(&self) -> Option<Status> {
        self.last_exit
    }

    /// The watchdog period of this run (0: none) and, while it runs
    /// (`Running`), when the period last started.
    pub(crate) const fn watchdog(&self) -> (u64, Option<Ms>) {
        match self.state {
            State::Running { .. } => (self.watchdog_ms, Some(self.pinged)),
            _ => (self.watchdog_ms, None),
        }
    }

    /// When the watchdog fires, if it is armed (`Running` only).
    const fn watchdog_due(&self) -> Option<Ms> {
        match (self.state, self.watchdog_ms) {
            (_, 0) => None,
            (State::Running { .. }, ms) => Some(self.pinged.after(ms)),
            _ => None,
        }
    }

    /// When the unit wants a `Timer` event (smoltcp's `poll_at`).
    pub(crate) const fn deadline(&self) -> Option<Ms> {
        match self.state {
            State::Starting { deadline, .. } => deadline,
            State::Running { deadline, .. } => earliest(deadline, self.watchdog_due()),
            State::Adopting { retry, .. } => Some(retry),
            State::Stopping { deadline, .. } => Some(deadline),
            State::BackingOff { until } => Some(until),
            State::Waiting
            | State::Listening
            | State::Spawning
            | State::Tracking
            | State::Done
            | State::Failed { .. }
            | State::Skipped
            | State::Blocked
            | State::Stopped => None,
        }
    }

    /// No process of the unit is known to run (shutdown order).
    pub(crate) const fn is_down(&self) -> bool {
        match self.state {
            State::Spawning
            | State::Starting { .. }
            | State::Adopting { .. }
            | State::Running { .. }
            | State::Tracking
            | State::Stopping { .. } => false,
            State::Waiting
            | State::Listening
            | State::Done
            | State::BackingOff { .. }
            | State::Failed { .. }
            | State::Skipped
            | State::Blocked
            | State::Stopped => true,
        }
    }

    /// What the scheduler sees. A task is ready for its dependents only
    /// when it has exited 0 (`Done`); a listening unit is, since its
    /// clients can connect.
    pub(crate) const fn outcome(&self) -> Outcome {
        match self.state {
            State::Waiting => Outcome::Waiting,
            State::Listening => Outcome::Ready,
            State::Running { .. } | State::Tracking => match self.policy.kind {
                UnitKind::Task => Outcome::Pending,
                UnitKind::Service | UnitKind::Tty => Outcome::Ready,
            },
            State::Spawning
            | State::Starting { .. }
            | State::Adopting { .. }
            | State::Stopping { .. }
            | State::BackingOff { .. } => Outcome::Pending,
            State::Done => Outcome::Done,
            State::Failed { .. } => Outcome::Failed,
            State::Skipped => Outcome::Skipped,
            State::Blocked => Outcome::Blocked,
            State::Stopped => Outcome::Stopped,
        }
    }

    /// One transition. Every (state, event) pair is written down; the
    /// table with the reasons is docs/state-machine.md.
    pub(crate) fn step(&mut self, ev: Event, now: Ms) -> Actions {
        use Event as E;
        use State as S;
        let mut acts = Actions::new();
        let a = &mut acts;
        if ev == E::Shutdown {
            self.shutdown = true;
        }
        match (self.state, ev) {
            // Waiting: the scheduler decides.
            (S::Waiting, E::Start) => self.go(a),
            (S::Waiting, E::ConditionUnmet) => self.state = S::Skipped,
            (S::Waiting, E::DepFailed) => self.state = S::Blocked,
            (S::Waiting, E::Unbound) => {
                self.state = S::Failed {
                    why: Failure::Sockets,
                }
            }
            (S::Waiting, E::StopRequest | E::Shutdown) => self.state = S::Stopped,
            (
                S::Waiting,
                E::Activate
                | E::Spawned { .. }
                | E::Execd
                | E::SpawnFailed { .. }
                | E::SpawnRefused
                | E::Ready
                | E::MainPid { .. }
                | E::Found { .. }
                | E::Emptied
                | E::Exited { .. }
                | E::Timer
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::WatchdogPeriod { .. }
                | E::StartRequest
                | E::RestartRequest
                | E::ReloadRequest,
            ) => {}

            // Listening: nothing runs; a connection starts an on-demand
            // unit (an accept=yes unit's instances are the supervisor's).
            (S::Listening, E::Activate | E::StartRequest) if self.on_demand() => self.spawn(a),
            (S::Listening, E::Activate | E::StartRequest) => {}
            (S::Listening, E::StopRequest | E::Shutdown) => self.state = S::Stopped,
            (S::Listening, E::RestartRequest) => self.again(),
            (
                S::Listening,
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::WatchdogPeriod { .. }
                | E::Unbound
                | E::Spawned { .. }
                | E::Execd
                | E::SpawnFailed { .. }
                | E::SpawnRefused
                | E::Ready
                | E::MainPid { .. }
                | E::Exited { .. }
                | E::Found { .. }
                | E::Emptied
                | E::Timer
                | E::ReloadRequest,
            ) => {}

            // Spawning: the supervisor answers before any other event.
            (S::Spawning, E::Spawned { pid }) => self.spawned(pid, now),
            (S::Spawning, E::SpawnFailed { errno }) => {
                self.recover(true, true, Failure::Spawn(errno), now, a)
            }
            (S::Spawning, E::SpawnRefused) => {
                self.state = S::Failed {
                    why: Failure::Refused,
                }
            }
            (S::Spawning, E::StopRequest) => self.stop(None, false, Then::Stop, now, a),
            (S::Spawning, E::RestartRequest) => self.stop(None, false, Then::Restart, now, a),
            (
                S::Spawning,
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Execd
                | E::Unbound
                | E::Activate
                | E::Ready
                | E::MainPid { .. }
                | E::Found { .. }
                | E::Emptied
                | E::Exited { .. }
                | E::Timer
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::WatchdogPeriod { .. }
                | E::StartRequest
                | E::ReloadRequest
                | E::Shutdown,
            ) => {}

            // Starting: forked, waiting for the exec, then for READY=1,
            // the ready fd, or (forked) the launcher's exit.
            (S::Starting { pid, .. }, E::Execd) => self.execd(pid, now),
            (S::Starting { .. }, E::SpawnFailed { errno }) => {
                self.recover(true, true, Failure::Spawn(errno), now, a)
            }
            (S::Starting { pid, .. }, E::Ready) => self.ready(pid, now),
            (S::Starting { deadline, .. }, E::MainPid { pid }) => {
                self.state = S::Starting { pid, deadline }
            }
            (S::Starting { pid, deadline }, E::Exited { pid: p, status }) if p == pid => {
                if self.policy.forked() && status.success() {
                    self.last_exit = Some(status);
                    self.adopt(deadline, now, a)
                } else {
                    self.exit(status, false, now, a)
                }
            }
            (S::Starting { .. }, E::Exited { .. }) => {}
            (S::Starting { pid, deadline }, E::Timer) if deadline.is_some_and(|d| now >= d) => {
                let then = Then::Fail(Failure::ReadyTimeout);
                self.stop(Some(pid), false, then, now, a)
            }
            (S::Starting { .. }, E::Timer) => {}
            (S::Starting { pid, .. }, E::WatchdogTrigger) => {
                self.abort(pid, Failure::Triggered, now, a)
            }
            (S::Starting { .. }, E::WatchdogPeriod { ms }) => self.watchdog_ms = ms,
            (S::Starting { pid, .. }, E::StopRequest) => {
                self.stop(Some(pid), false, Then::Stop, now, a)
            }
            (S::Starting { pid, .. }, E::RestartRequest) => {
                self.stop(Some(pid), false, Then::Restart, now, a)
            }
            (
                S::Starting { .. },
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Unbound
                | E::Activate
                | E::Spawned { .. }
                | E::SpawnRefused
                | E::WatchdogPing
                | E::Found { .. }
                | E::Emptied
                | E::StartRequest
                | E::ReloadRequest
                | E::Shutdown,
            ) => {}

            // Adopting: forked, looking for the main process.
            (S::Adopting { deadline, .. }, E::Found { main }) => self.found(main, deadline, now, a),
            (S::Adopting { .. }, E::Emptied) => self.found(Found::Nothing, now, now, a),
            (S::Adopting { deadline, .. }, E::Timer) if now >= deadline => {
                self.stop(None, true, Then::Fail(Failure::PidFile), now, a)
            }
            (S::Adopting { retry, .. }, E::Timer) if now >= retry => act(a, Action::FindMain),
            (S::Adopting { .. }, E::Timer) => {}
            (S::Adopting { .. }, E::StopRequest) => self.stop(None, true, Then::Stop, now, a),
            (S::Adopting { .. }, E::RestartRequest) => self.stop(None, true, Then::Restart, now, a),
            (
                S::Adopting { .. },
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Unbound
                | E::Activate
                | E::Spawned { .. }
                | E::Execd
                | E::SpawnFailed { .. }
                | E::SpawnRefused
                | E::Ready
                | E::MainPid { .. }
                | E::Exited { .. }
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::WatchdogPeriod { .. }
                | E::StartRequest
                | E::ReloadRequest
                | E::Shutdown,
            ) => {}

            // Running: ready (a task: running); the watchdog is armed.
            (S::Running { deadline, .. }, E::MainPid { pid }) => {
                self.state = S::Running { pid, deadline }
            }
            (S::Running { pid, .. }, E::Timer) if self.watchdog_due().is_some_and(|d| now >= d) => {
                self.abort(pid, Failure::Watchdog, now, a)
            }
            (S::Running { .. }, E::WatchdogPing) => self.pinged = now,
            (S::Running { pid, .. }, E::WatchdogTrigger) => {
                self.abort(pid, Failure::Triggered, now, a)
            }
            (S::Running { .. }, E::WatchdogPeriod { ms }) => {
                self.watchdog_ms = ms;
                self.pinged = now;
            }
            (S::Running { pid, .. }, E::Exited { pid: p, status }) if p == pid => {
                if self.policy.guess && status.success() {
                    // A guessed main process that exits 0 may hand over
                    // to what it forked (the middle of a double fork).
                    act(a, Action::FindMain)
                } else {
                    self.exit(status, true, now, a)
                }
            }
            (S::Running { .. }, E::Exited { .. }) => {}
            (
                S::Running { deadline, .. },
                E::Found {
                    main: Found::Pid(pid),
                },
            ) => self.state = S::Running { pid, deadline },
            (S::Running { .. }, E::Found { main: Found::Group }) => self.state = S::Tracking,
            (
                S::Running { .. },
                E::Found {
                    main: Found::NotYet | Found::Nothing,
                },
            ) => self.exit(Status::Code(0), true, now, a),
            (S::Running { pid, deadline }, E::Timer) if deadline.is_some_and(|d| now >= d) => {
                self.stop(Some(pid), false, Then::Fail(Failure::Timeout), now, a)
            }
            (S::Running { .. }, E::Timer) => {}
            (S::Running { pid, .. }, E::StopRequest) => {
                self.stop(Some(pid), false, Then::Stop, now, a)
            }
            (S::Running { pid, .. }, E::RestartRequest) => {
                self.stop(Some(pid), false, Then::Restart, now, a)
            }
            (S::Running { pid, .. }, E::ReloadRequest) => act(
                a,
                Action::Signal {
                    pid,
                    sig: self.policy.reload_signal,
                },
            ),
            (
                S::Running { .. },
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Unbound
                | E::Activate
                | E::Spawned { .. }
                | E::Execd
                | E::SpawnFailed { .. }
                | E::SpawnRefused
                | E::Ready
                | E::Emptied
                | E::StartRequest
                | E::Shutdown,
            ) => {}

            // Tracking: forked, no main process; up while the cgroup is.
            (
                S::Tracking,
                E::Found {
                    main: Found::Pid(pid),
                },
            ) => {
                self.state = S::Running {
                    pid,
                    deadline: None,
                }
            }
            (
                S::Tracking,
                E::Found {
                    main: Found::Nothing,
                }
                | E::Emptied,
            ) => self.exit(Status::Unknown, true, now, a),
            (
                S::Tracking,
                E::Found {
                    main: Found::Group | Found::NotYet,
                },
            ) => {}
            (S::Tracking, E::StopRequest) => self.stop(None, true, Then::Stop, now, a),
            (S::Tracking, E::RestartRequest) => self.stop(None, true, Then::Restart, now, a),
            (
                S::Tracking,
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Unbound
                | E::Activate
                | E::Spawned { .. }
                | E::Execd
                | E::SpawnFailed { .. }
                | E::SpawnRefused
                | E::Ready
                | E::MainPid { .. }
                | E::Exited { .. }
                | E::Timer
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::WatchdogPeriod { .. }
                | E::StartRequest
                | E::ReloadRequest
                | E::Shutdown,
            ) => {}

            // Stopping: signalled, waiting for the main process (or, with
            // none, for the cgroup to empty).
            (S::Stopping { pid: None, .. }, E::Spawned { pid }) => self.late_spawn(pid, a),
            (
                S::Stopping {
                    pid: None, then, ..
                },
                E::SpawnFailed { .. } | E::SpawnRefused | E::Emptied,
            ) => self.finish(then, now, a),
            (
                S::Stopping { pid: Some(_), .. },
                E::Spawned { .. } | E::SpawnFailed { .. } | E::SpawnRefused | E::Emptied,
            ) => {}
            (S::Stopping { .. }, E::Execd) => {}
            (
                S::Stopping {
                    deadline,
                    killed,
                    then,
                    ..
                },
                E::MainPid { pid },
            ) => {
                self.state = S::Stopping {
                    pid: Some(pid),
                    deadline,
                    killed,
                    then,
                }
            }
            (S::Stopping { pid, then, .. }, E::Exited { pid: p, status }) if pid == Some(p) => {
                self.last_exit = Some(status);
                self.leftovers(a);
                self.finish(then, now, a)
            }
            (S::Stopping { .. }, E::Exited { .. }) => {}
            (
                S::Stopping {
                    pid,
                    deadline,
                    killed: false,
                    then,
                },
                E::Timer,
            ) if now >= deadline => self.kill(pid, then, now, a),
            (
                S::Stopping {
                    deadline,
                    killed: true,
                    then,
                    ..
                },
                E::Timer,
            ) if now >= deadline => self.finish(then, now, a),
            (S::Stopping { .. }, E::Timer) => {}
            (S::Stopping { .. }, E::StopRequest) => self.then(Then::Stop),
            (S::Stopping { .. }, E::WatchdogPeriod { ms }) => self.watchdog_ms = ms,
            (S::Stopping { .. }, E::StartRequest | E::RestartRequest) => self.then(Then::Restart),
            (
                S::Stopping { .. },
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Unbound
                | E::Activate
                | E::Ready
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::Found { .. }
                | E::ReloadRequest
                | E::Shutdown,
            ) => {}

            // BackingOff: nothing runs; spawn again at `until`.
            (S::BackingOff { until }, E::Timer) if now >= until => self.go(a),
            (S::BackingOff { .. }, E::Timer) => {}
            (S::BackingOff { .. }, E::StopRequest | E::Shutdown) => self.state = S::Stopped,
            (S::BackingOff { .. }, E::StartRequest | E::RestartRequest) => self.again(),
            (
                S::BackingOff { .. },
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Unbound
                | E::Activate
                | E::Spawned { .. }
                | E::Execd
                | E::SpawnFailed { .. }
                | E::SpawnRefused
                | E::Ready
                | E::MainPid { .. }
                | E::Found { .. }
                | E::Emptied
                | E::Exited { .. }
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::WatchdogPeriod { .. }
                | E::ReloadRequest,
            ) => {}

            // Settled: nothing runs; only an explicit start moves them.
            (
                S::Done | S::Failed { .. } | S::Skipped | S::Blocked | S::Stopped,
                E::StartRequest | E::RestartRequest,
            ) => self.again(),
            (
                S::Done | S::Failed { .. } | S::Skipped | S::Blocked | S::Stopped,
                E::Start
                | E::ConditionUnmet
                | E::DepFailed
                | E::Unbound
                | E::Activate
                | E::Spawned { .. }
                | E::Execd
                | E::SpawnFailed { .. }
                | E::SpawnRefused
                | E::Ready
                | E::MainPid { .. }
                | E::Found { .. }
                | E::Emptied
                | E::Exited { .. }
                | E::Timer
                | E::WatchdogPing
                | E::WatchdogTrigger
                | E::WatchdogPeriod { .. }
                | E::ReloadRequest
                | E::Shutdown,
            ) => {}
            // A stop acknowledges a failure: the unit is stopped.
            (S::Failed { .. }, E::StopRequest) => self.state = S::Stopped,
            (S::Done | S::Skipped | S::Blocked | S::Stopped, E::StopRequest) => {}
        }
        acts
    }

    fn spawn(&mut self, a: &mut Actions) {
        self.state = State::Spawning;
        act(a, Action::Spawn);
    }

    const fn on_demand(&self) -> bool {
        matches!(self.policy.activation, Activation::OnDemand)
    }

    /// Start, or start again: spawn it, or listen for what starts it.
    fn go(&mut self, a: &mut Actions) {
        match self.policy.activation {
            Activation::Boot => self.spawn(a),
            Activation::OnDemand | Activation::Accept => self.state = State::Listening,
        }
    }

    /// Forked: `Starting` until the exec (and readiness, if it waits).
    fn spawned(&mut self, pid: Pid, now: Ms) {
        self.since = now;
        self.watchdog_ms = u64::from(self.policy.watchdog_ms);
        let deadline = match self.policy.waits_for_ready() {
            true => self
                .policy
                .ready_timeout_ms
                .map(|ms| now.after(u64::from(ms))),
            false => None,
        };
        self.state = State::Starting { pid, deadline };
    }

    /// The program runs: ready now unless it waits for readiness (a
    /// task's `timeout=` counts from here).
    fn execd(&mut self, pid: Pid, now: Ms) {
        self.since = now;
        if !self.policy.waits_for_ready() {
            let deadline = match self.policy.kind {
                UnitKind::Task => self.policy.timeout_ms.map(|ms| now.after(u64::from(ms))),
                UnitKind::Service | UnitKind::Tty => None,
            };
            self.state = State::Running { pid, deadline };
            self.pinged = now;
        }
    }

    /// Ready: the watchdog period starts.
    fn ready(&mut self, pid: Pid, now: Ms) {
        self.pinged = now;
        self.state = State::Running {
            pid,
            deadline: None,
        };
    }

    /// The watchdog fired: SIGABRT to the main process (a core dump shows
    /// where it hung), then as a stop: SIGKILL to the cgroup after
    /// stop-timeout, then the restart rules with `why`.
    fn abort(&mut self, pid: Pid, why: Failure, now: Ms, a: &mut Actions) {
        act(a, Action::Signal { pid, sig: SIGABRT });
        self.state = State::Stopping {
            pid: Some(pid),
            deadline: now.after(u64::from(self.policy.stop_timeout_ms)),
            killed: false,
            then: Then::Fail(why),
        };
    }

    /// Forked: the launcher exited 0; find the main process, waiting for
    /// it up to the ready deadline or FIND_WAIT_MS.
    fn adopt(&mut self, deadline: Option<Ms>, now: Ms, a: &mut Actions) {
        let deadline = deadline.unwrap_or(now.after(FIND_WAIT_MS));
        self.state = State::Adopting {
            retry: now,
            deadline,
        };
        act(a, Action::FindMain);
    }

    /// The answer to FindMain while adopting.
    fn found(&mut self, main: Found, deadline: Ms, now: Ms, a: &mut Actions) {
        match main {
            Found::Pid(pid) => self.ready(pid, now),
            Found::Group => self.state = State::Tracking,
            Found::NotYet => {
                let retry = now.after(FIND_RETRY_MS);
                let retry = if retry < deadline { retry } else { deadline };
                self.state = State::Adopting { retry, deadline };
            }
            Found::Nothing => self.recover(true, true, Failure::Vanished, now, a),
        }
    }

    /// Sends the stop signal and waits up to stop-timeout: to the main
    /// process with `kill=main` (to all at shutdown), else to the whole
    /// cgroup; `group`: no main process, the cgroup is the unit.
    fn stop(&mut self, pid: Option<Pid>, group: bool, then: Then, now: Ms, a: &mut Actions) {
        match pid {
            Some(pid) if self.policy.kill == Kill::Main && !self.shutdown => {
                self.stop_signal(Some(pid), a)
            }
            Some(_) => self.stop_signal(None, a),
            None if group => self.stop_signal(None, a),
            None => {}
        }
        self.state = State::Stopping {
            pid,
            deadline: now.after(u64::from(self.policy.stop_timeout_ms)),
            killed: false,
            then,
        };
    }

    /// The stop signal to `pid` (`None`: to the cgroup), then SIGCONT: a
    /// stopped process (SIGSTOP, a debugger let go) must run to act on it.
    fn stop_signal(&self, pid: Option<Pid>, a: &mut Actions) {
        let sig = self.policy.stop_signal;
        let with = |sig| match pid {
            Some(pid) => Action::Signal { pid, sig },
            None => Action::SignalCgroup { sig },
        };
        act(a, with(sig));
        if sig != SIGKILL && sig != SIGCONT {
            act(a, with(SIGCONT));
        }
    }

    /// The spawn answered after a stop was asked: signal the new process.
    fn late_spawn(&mut self, pid: Pid, a: &mut Actions) {
        if let State::Stopping {
            deadline,
            killed,
            then,
            ..
        } = self.state
        {
            if killed {
                act(a, Action::Signal { pid, sig: SIGKILL });
            } else {
                self.stop_signal(Some(pid), a);
            }
            self.state = State::Stopping {
                pid: Some(pid),
                deadline,
                killed,
                then,
            };
        }
    }

    /// stop-timeout passed: SIGKILL to the main process and, unless
    /// `kill=main` keeps them, to the rest of the cgroup; then wait
    /// KILL_GRACE_MS more.
    fn kill(&mut self, pid: Option<Pid>, then: Then, now: Ms, a: &mut Actions) {
        if pid.is_none() {
            act(a, Action::KillCgroup);
        } else {
            self.leftovers(a);
        }
        if let Some(pid) = pid {
            act(a, Action::Signal { pid, sig: SIGKILL });
        }
        self.state = State::Stopping {
            pid,
            deadline: now.after(KILL_GRACE_MS),
            killed: true,
            then,
        };
    }

    /// The rest of the cgroup once the main process is gone: killed,
    /// unless `kill=main` keeps it (until shutdown).
    fn leftovers(&self, a: &mut Actions) {
        if self.policy.kill == Kill::Cgroup || self.shutdown {
            act(a, Action::KillCgroup);
        }
    }

    fn then(&mut self, then: Then) {
        if let State::Stopping {
            pid,
            deadline,
            killed,
            ..
        } = self.state
        {
            self.state = State::Stopping {
                pid,
                deadline,
                killed,
                then,
            };
        }
    }

    /// The stop is over (the main process exited or was given up).
    fn finish(&mut self, then: Then, now: Ms, a: &mut Actions) {
        match then {
            Then::Stop => self.state = State::Stopped,
            Then::Restart if self.shutdown => self.state = State::Stopped,
            Then::Restart => self.again(),
            // A timeout is quick; a watchdog is quick by the usual rule.
            Then::Fail(why) => {
                let watchdog = matches!(why, Failure::Watchdog | Failure::Triggered);
                let quick = !watchdog || now.since(self.since) < STABLE_RUN_MS;
                self.recover(true, quick, why, now, a)
            }
        }
    }

    /// An explicit start: counters reset, then the scheduler decides.
    fn again(&mut self) {
        if self.shutdown {
            return;
        }
        self.streak = 0;
        self.backoff_ms = 0;
        self.state = State::Waiting;
    }

    /// The main process exited on its own: the rest of the cgroup goes
    /// (unless `kill=main`), then the restart rules.
    fn exit(&mut self, status: Status, was_ready: bool, now: Ms, a: &mut Actions) {
        self.last_exit = Some(status);
        self.leftovers(a);
        let why = if status.success() {
            Failure::NotReady
        } else {
            Failure::Exit
        };
        let failed = !status.success() || !was_ready;
        let quick = !was_ready || now.since(self.since) < STABLE_RUN_MS;
        self.recover(failed, quick, why, now, a);
    }

    /// The restart rules (docs/config.md, `restart=`).
    fn recover(&mut self, failed: bool, quick: bool, why: Failure, now: Ms, a: &mut Actions) {
        let restart = !self.shutdown
            && match self.policy.restart {
                Restart::Always => true,
                Restart::OnFailure => failed,
                Restart::Never => false,
            };
        if !restart {
            self.state = if failed {
                State::Failed { why }
            } else {
                State::Done
            };
            return;
        }
        let mut delay = u64::from(self.policy.restart_delay_ms);
        if quick {
            self.streak = self.streak.saturating_add(1);
            if self.policy.restart_limit.is_some_and(|n| self.streak >= n) {
                self.state = State::Failed {
                    why: Failure::Limit,
                };
                return;
            }
            // A spawn failure never retries in a tight loop inside PID 1.
            let max = u64::from(self.policy.restart_max_ms);
            let cap = match why {
                Failure::Spawn(_) => max.max(BACKOFF_FIRST_MS),
                Failure::Exit
                | Failure::NotReady
                | Failure::ReadyTimeout
                | Failure::Timeout
                | Failure::Vanished
                | Failure::PidFile
                | Failure::Limit
                | Failure::Refused
                | Failure::Sockets
                | Failure::Watchdog
                | Failure::Triggered => max,
            };
            self.backoff_ms = next_backoff(self.backoff_ms, cap);
            delay = delay.max(self.backoff_ms);
        } else {
            self.streak = 0;
            self.backoff_ms = 0;
        }
        self.restarts = self.restarts.saturating_add(1);
        if delay == 0 {
            self.go(a);
        } else {
            self.state = State::BackingOff {
                until: now.after(delay),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Event as E;
    use State as S;
    extern crate std;
    use std::vec::Vec;

    fn pid(n: i32) -> Pid {
        Pid::from_raw(n).unwrap()
    }
    fn spawned(n: i32) -> Event {
        E::Spawned { pid: pid(n) }
    }
    fn exit(n: i32, code: i32) -> Event {
        E::Exited {
            pid: pid(n),
            status: Status::Code(code),
        }
    }
    fn killed(n: i32, sig: u32) -> Event {
        E::Exited {
            pid: pid(n),
            status: Status::Signal(sig as i32),
        }
    }
    fn sig(n: i32, sig: u32) -> Action {
        A::Signal { pid: pid(n), sig }
    }
    fn found(n: i32) -> Event {
        E::Found {
            main: Found::Pid(pid(n)),
        }
    }
    const GROUP: Event = E::Found { main: Found::Group };
    const NOT_YET: Event = E::Found {
        main: Found::NotYet,
    };
    const NOTHING: Event = E::Found {
        main: Found::Nothing,
    };
    fn all(sig: u32) -> Action {
        A::SignalCgroup { sig }
    }
    fn main_pid(n: i32) -> Event {
        E::MainPid { pid: pid(n) }
    }
    const NOENT: Event = E::SpawnFailed {
        errno: Errno::NOENT,
    };

    fn service() -> Policy {
        Policy::new(UnitKind::Service)
    }
    fn task() -> Policy {
        Policy::new(UnitKind::Task)
    }
    fn notify(timeout: Option<u32>) -> Policy {
        Policy {
            ready: Ready::Notify,
            ready_timeout_ms: timeout,
            ..service()
        }
    }

    /// One line per step: `MS: EVENT => [ACTIONS], STATE-PATTERN,`.
    macro_rules! trace {
        ($u:ident; $($t:literal: $ev:expr => [$($a:expr),* $(,)?], $st:pat),* $(,)?) => {$(
            let got = $u.step($ev, Ms($t));
            let want: &[Action] = &[$($a),*];
            assert_eq!(&got[..], want, "actions at {} ms on {:?}", $t, $ev);
            assert!(
                matches!($u.state(), $st),
                "state at {} ms on {:?}: {:?}", $t, $ev, $u.state()
            );
        )*};
    }

    /// Starts `u` at `t` as pid `n`.
    fn up(u: &mut Unit, t: u64, n: i32) {
        assert_eq!(&u.step(E::Start, Ms(t))[..], &[A::Spawn]);
        assert!(u.step(spawned(n), Ms(t)).is_empty());
        assert!(u.step(E::Execd, Ms(t)).is_empty());
    }

    /// Crashes the running pid `n` at `t` and returns the back-off chosen.
    fn crash(u: &mut Unit, t: u64, n: i32) -> Option<u64> {
        let acts = u.step(exit(n, 1), Ms(t));
        assert_eq!(acts.first(), Some(&A::KillCgroup));
        match u.state() {
            S::BackingOff { until } => Some(until.since(Ms(t))),
            S::Spawning => Some(0),
            _ => None,
        }
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = service();
        assert_eq!(s.restart, Restart::Always);
        assert_eq!(Policy::new(UnitKind::Tty).restart, Restart::Always);
        assert_eq!(task().restart, Restart::Never);
        assert_eq!((s.stop_signal, s.stop_timeout_ms), (15, 5_000));
        assert_eq!((s.restart_max_ms, s.restart_delay_ms), (30_000, 0));
        assert_eq!((s.restart_limit, s.ready), (None, Ready::None));
        assert_eq!(s.reload_signal, 1);
    }

    #[test]
    fn ready_none_is_ready_once_execd() {
        let mut u = Unit::new(service());
        assert_eq!(u.outcome(), Outcome::Waiting);
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            3: spawned(10) => [], S::Starting { .. },
            3: E::Execd => [], S::Running { .. },
        );
        assert_eq!(u.outcome(), Outcome::Ready);
        assert_eq!(u.main_pid(), Some(pid(10)));
        assert_eq!(u.since(), Ms(3));
        assert_eq!(u.deadline(), None);
        assert!(!u.is_down());
    }

    #[test]
    fn starting_until_the_exec_report() {
        let mut u = Unit::new(service());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: spawned(10) => [], S::Starting { deadline: None, .. },
        );
        assert_eq!(u.outcome(), Outcome::Pending);
        trace!(u; 5: E::Execd => [], S::Running { .. });
        assert_eq!(u.since(), Ms(5));
        // The child's set-up or exec failed: the restart rules, as for a
        // failed fork; its own exit is a stranger's then.
        let mut u = Unit::new(service());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: spawned(10) => [], S::Starting { .. },
            1: NOENT => [], S::BackingOff { until: Ms(101) },
            2: exit(10, 127) => [], S::BackingOff { .. },
        );
        // ready=notify: the exec, then READY=1 (which may come first).
        let mut u = Unit::new(notify(Some(500)));
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: spawned(10) => [], S::Starting { deadline: Some(Ms(500)), .. },
            3: E::Execd => [], S::Starting { deadline: Some(Ms(500)), .. },
            4: E::Ready => [], S::Running { .. },
            5: E::Execd => [], S::Running { .. },
        );
    }

    /// Crashes `u` `n` times, 50 ms after each start; the back-offs.
    fn crash_loop(u: &mut Unit, n: i32) -> Vec<u64> {
        let mut seen = Vec::new();
        up(u, 0, 1);
        for p in 1..=n {
            let t = u.since().0 + 50;
            seen.push(crash(u, t, p).unwrap());
            let until = u.deadline().unwrap_or(Ms(t));
            if p < n {
                assert_eq!(&u.step(E::Timer, until)[..], &[A::Spawn]);
                assert!(u.step(spawned(p + 1), until).is_empty());
                assert!(u.step(E::Execd, until).is_empty());
            }
        }
        seen
    }

    #[test]
    fn backoff_doubles_up_to_restart_max() {
        let mut u = Unit::new(Policy {
            restart_max_ms: 1_000,
            ..service()
        });
        let seen = crash_loop(&mut u, 7);
        assert_eq!(seen, [100, 200, 400, 800, 1_000, 1_000, 1_000]);
        assert_eq!((u.streak(), u.restarts()), (7, 7));
    }

    #[test]
    fn a_resumed_unit_goes_on_where_it_stood() {
        let policy = Policy {
            restart_max_ms: 10_000,
            ..service()
        };
        let mut u = Unit::new(policy);
        crash_loop(&mut u, 3);
        let snap = u.snapshot();
        assert!(matches!(snap.state, S::BackingOff { .. }));
        // A re-exec: the same unit in a new process, mid back-off.
        let mut v = Unit::resume(policy, snap, Ms(0));
        assert_eq!(v, u);
        let until = v.deadline().unwrap();
        assert_eq!(&v.step(E::Timer, until)[..], &[A::Spawn]);
        assert!(v.step(spawned(9), until).is_empty());
        // The back-off doubles on from 400 ms, the restarts count on.
        assert_eq!(crash(&mut v, until.0 + 50, 9), Some(800));
        assert_eq!((v.streak(), v.restarts()), (4, 4));
        // A policy changed in place counts from the next event on.
        v.set_policy(Policy {
            restart_max_ms: 0,
            ..policy
        });
        let until = v.deadline().unwrap();
        v.step(E::Timer, until);
        v.step(spawned(10), until);
        assert_eq!(crash(&mut v, until.0 + 50, 10), Some(0));
    }

    #[test]
    fn default_backoff_caps_at_30s() {
        let mut u = Unit::new(service());
        let seen = crash_loop(&mut u, 11);
        let want = [
            100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30_000, 30_000,
        ];
        assert_eq!(seen, want);
    }

    #[test]
    fn early_timer_is_ignored_in_backoff() {
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        trace!(u;
            10: exit(10, 1) => [A::KillCgroup], S::BackingOff { until: Ms(110) },
            109: E::Timer => [], S::BackingOff { .. },
            110: E::Timer => [A::Spawn], S::Spawning,
            111: spawned(11) => [], S::Starting { .. },
            111: E::Execd => [], S::Running { .. },
        );
    }

    #[test]
    fn a_stable_run_resets_the_backoff() {
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        assert_eq!(crash(&mut u, 10, 10), Some(100));
        u.step(E::Timer, Ms(110));
        u.step(spawned(11), Ms(110));
        u.step(E::Execd, Ms(110));
        assert_eq!(crash(&mut u, 200, 11), Some(200));
        u.step(E::Timer, Ms(400));
        u.step(spawned(12), Ms(400));
        u.step(E::Execd, Ms(400));
        // Ran exactly 10 s: restarts at once (restart-delay 0).
        trace!(u;
            10_400: exit(12, 1) => [A::KillCgroup, A::Spawn], S::Spawning,
            10_400: spawned(13) => [], S::Starting { .. },
            10_400: E::Execd => [], S::Running { .. },
        );
        assert_eq!((u.streak(), u.backoff_ms()), (0, 0));
        assert_eq!(crash(&mut u, 10_500, 13), Some(100));
        assert_eq!(u.restarts(), 4);
    }

    #[test]
    fn restart_delay_after_a_stable_run_and_as_a_floor() {
        let mut u = Unit::new(Policy {
            restart_delay_ms: 500,
            ..service()
        });
        up(&mut u, 0, 10);
        assert_eq!(crash(&mut u, 20_000, 10), Some(500));
        u.step(E::Timer, Ms(20_500));
        u.step(spawned(11), Ms(20_500));
        u.step(E::Execd, Ms(20_500));
        // Quick: back-off 100 is below the delay, the delay wins.
        assert_eq!(crash(&mut u, 20_600, 11), Some(500));
        assert_eq!(u.backoff_ms(), 100);
    }

    #[test]
    fn restart_max_zero_restarts_at_once() {
        let mut u = Unit::new(Policy {
            restart_max_ms: 0,
            ..service()
        });
        up(&mut u, 0, 10);
        trace!(u;
            1: exit(10, 1) => [A::KillCgroup, A::Spawn], S::Spawning,
            1: spawned(11) => [], S::Starting { .. },
            1: E::Execd => [], S::Running { .. },
            2: killed(11, 9) => [A::KillCgroup, A::Spawn], S::Spawning,
        );
        assert_eq!(u.streak(), 2);
    }

    #[test]
    fn restart_limit_fails_after_n_quick_failures_in_a_row() {
        let mut u = Unit::new(Policy {
            restart_limit: Some(3),
            ..service()
        });
        up(&mut u, 0, 10);
        crash(&mut u, 1, 10);
        u.step(E::Timer, Ms(101));
        u.step(spawned(11), Ms(101));
        u.step(E::Execd, Ms(101));
        crash(&mut u, 102, 11);
        u.step(E::Timer, Ms(302));
        u.step(spawned(12), Ms(302));
        u.step(E::Execd, Ms(302));
        trace!(u;
            303: exit(12, 1) => [A::KillCgroup], S::Failed { why: Failure::Limit },
        );
        assert_eq!(u.outcome(), Outcome::Failed);
        assert_eq!(u.deadline(), None);
        assert_eq!(u.last_exit(), Some(Status::Code(1)));
    }

    #[test]
    fn restart_limit_counts_only_failures_in_a_row() {
        let mut u = Unit::new(Policy {
            restart_limit: Some(2),
            ..service()
        });
        up(&mut u, 0, 10);
        crash(&mut u, 1, 10);
        u.step(E::Timer, Ms(101));
        u.step(spawned(11), Ms(101));
        u.step(E::Execd, Ms(101));
        // A stable run in between resets the streak.
        assert_eq!(crash(&mut u, 20_000, 11), Some(0));
        u.step(spawned(12), Ms(20_000));
        u.step(E::Execd, Ms(20_000));
        assert_eq!(crash(&mut u, 20_001, 12), Some(100));
        assert_eq!(u.streak(), 1);
    }

    #[test]
    fn on_failure_restarts_only_on_failure() {
        let p = Policy {
            restart: Restart::OnFailure,
            ..service()
        };
        let mut u = Unit::new(p);
        up(&mut u, 0, 10);
        trace!(u;
            20_000: exit(10, 3) => [A::KillCgroup, A::Spawn], S::Spawning,
            20_000: spawned(11) => [], S::Starting { .. },
            20_000: E::Execd => [], S::Running { .. },
            40_000: killed(11, 11) => [A::KillCgroup, A::Spawn], S::Spawning,
            40_000: spawned(12) => [], S::Starting { .. },
            40_000: E::Execd => [], S::Running { .. },
            60_000: exit(12, 0) => [A::KillCgroup], S::Done,
        );
        assert_eq!(u.outcome(), Outcome::Done);
        assert!(u.is_down());
    }

    #[test]
    fn never_does_not_restart() {
        let p = Policy {
            restart: Restart::Never,
            ..service()
        };
        let mut u = Unit::new(p);
        up(&mut u, 0, 10);
        trace!(u;
            5: exit(10, 0) => [A::KillCgroup], S::Done,
        );
        let mut u = Unit::new(p);
        up(&mut u, 0, 10);
        trace!(u;
            5: killed(10, 15) => [A::KillCgroup], S::Failed { why: Failure::Exit },
        );
        assert_eq!(u.last_exit(), Some(Status::Signal(15)));
    }

    #[test]
    fn always_restarts_a_clean_exit_too() {
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        trace!(u;
            5: exit(10, 0) => [A::KillCgroup], S::BackingOff { until: Ms(105) },
        );
        assert_eq!(u.outcome(), Outcome::Pending);
    }

    #[test]
    fn task_success_is_done() {
        let mut u = Unit::new(task());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: spawned(10) => [], S::Starting { .. },
            0: E::Execd => [], S::Running { .. },
        );
        // Dependents of a task wait for its exit, not its exec.
        assert_eq!(u.outcome(), Outcome::Pending);
        trace!(u;
            700: exit(10, 0) => [A::KillCgroup], S::Done,
        );
        assert_eq!(u.outcome(), Outcome::Done);
    }

    #[test]
    fn task_failure_fails_unless_restart_says_otherwise() {
        let mut u = Unit::new(task());
        up(&mut u, 0, 10);
        trace!(u;
            7: exit(10, 2) => [A::KillCgroup], S::Failed { why: Failure::Exit },
        );
        assert_eq!(u.outcome(), Outcome::Failed);
        let mut u = Unit::new(Policy {
            restart: Restart::OnFailure,
            ..task()
        });
        up(&mut u, 0, 10);
        trace!(u;
            7: exit(10, 2) => [A::KillCgroup], S::BackingOff { until: Ms(107) },
            107: E::Timer => [A::Spawn], S::Spawning,
            107: spawned(11) => [], S::Starting { .. },
            107: E::Execd => [], S::Running { .. },
            300: exit(11, 0) => [A::KillCgroup], S::Done,
        );
    }

    #[test]
    fn a_task_ignores_readiness() {
        let mut u = Unit::new(Policy {
            ready: Ready::Notify,
            ready_timeout_ms: Some(10),
            ..task()
        });
        up(&mut u, 0, 10);
        assert!(matches!(u.state(), S::Running { .. }));
        assert_eq!(u.deadline(), None);
    }

    #[test]
    fn notify_waits_for_ready() {
        let mut u = Unit::new(notify(None));
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: spawned(10) => [], S::Starting { deadline: None, .. },
        );
        assert_eq!(u.outcome(), Outcome::Pending);
        trace!(u;
            40: E::Ready => [], S::Running { .. },
            50: E::Ready => [], S::Running { .. },
        );
        assert_eq!(u.outcome(), Outcome::Ready);
        let mut u = Unit::new(Policy {
            ready: Ready::Fd(3),
            ..service()
        });
        up(&mut u, 0, 10);
        trace!(u; 1: E::Ready => [], S::Running { .. });
    }

    #[test]
    fn ready_timeout_stops_and_counts_as_a_failure() {
        let mut u = Unit::new(notify(Some(1_000)));
        up(&mut u, 0, 10);
        assert_eq!(u.deadline(), Some(Ms(1_000)));
        trace!(u;
            999: E::Timer => [], S::Starting { .. },
            1_000: E::Timer => [all(15), all(18)], S::Stopping { then: Then::Fail(Failure::ReadyTimeout), .. },
        );
        assert_eq!(u.deadline(), Some(Ms(6_000)));
        // Exiting 0 on TERM does not make it a success.
        trace!(u;
            1_010: exit(10, 0) => [A::KillCgroup], S::BackingOff { until: Ms(1_110) },
        );
        assert_eq!(u.streak(), 1);

        let mut u = Unit::new(Policy {
            restart: Restart::Never,
            ..notify(Some(1_000))
        });
        up(&mut u, 0, 10);
        trace!(u;
            1_000: E::Timer => [all(15), all(18)], S::Stopping { .. },
            1_001: killed(10, 15) => [A::KillCgroup], S::Failed { why: Failure::ReadyTimeout },
        );
    }

    #[test]
    fn a_long_ready_timeout_is_still_a_quick_failure() {
        let mut u = Unit::new(Policy {
            restart_limit: Some(1),
            ..notify(Some(60_000))
        });
        up(&mut u, 0, 10);
        trace!(u;
            60_000: E::Timer => [all(15), all(18)], S::Stopping { .. },
            60_001: killed(10, 15) => [A::KillCgroup], S::Failed { why: Failure::Limit },
        );
    }

    #[test]
    fn exiting_before_ready_is_a_failure() {
        let mut u = Unit::new(Policy {
            restart: Restart::OnFailure,
            ..notify(None)
        });
        up(&mut u, 0, 10);
        trace!(u;
            20_000: exit(10, 0) => [A::KillCgroup], S::BackingOff { until: Ms(20_100) },
        );
        let mut u = Unit::new(Policy {
            restart: Restart::Never,
            ..notify(None)
        });
        up(&mut u, 0, 10);
        trace!(u;
            5: exit(10, 0) => [A::KillCgroup], S::Failed { why: Failure::NotReady },
        );
    }

    #[test]
    fn stop_waits_for_the_exit_then_takes_the_cgroup() {
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        trace!(u;
            100: E::StopRequest => [all(15), all(18)], S::Stopping { then: Then::Stop, killed: false, .. },
            200: exit(10, 0) => [A::KillCgroup], S::Stopped,
        );
        assert_eq!(u.outcome(), Outcome::Stopped);
        assert!(u.is_down());
        assert_eq!(u.deadline(), None);
    }

    #[test]
    fn the_stop_signal_is_followed_by_sigcont() {
        // A stopped process acts on its stop signal only once continued.
        let mut u = Unit::new(Policy {
            stop_signal: SIGHUP,
            kill: Kill::Main,
            ..service()
        });
        up(&mut u, 0, 10);
        trace!(u; 1: E::StopRequest => [sig(10, 1), sig(10, 18)], S::Stopping { .. });
        let mut u = Unit::new(Policy {
            stop_signal: SIGHUP,
            ..service()
        });
        up(&mut u, 0, 10);
        trace!(u; 1: E::StopRequest => [all(1), all(18)], S::Stopping { .. });
        let mut u = Unit::new(Policy {
            stop_signal: SIGKILL,
            ..service()
        });
        up(&mut u, 0, 10);
        trace!(u; 1: E::StopRequest => [all(9)], S::Stopping { .. });
    }

    #[test]
    fn stop_timeout_escalates_to_kill_then_gives_up() {
        let mut u = Unit::new(Policy {
            stop_signal: 2,
            stop_timeout_ms: 3_000,
            ..service()
        });
        up(&mut u, 0, 10);
        trace!(u;
            100: E::StopRequest => [all(2), all(18)], S::Stopping { deadline: Ms(3_100), .. },
            3_099: E::Timer => [], S::Stopping { killed: false, .. },
            3_100: E::Timer => [A::KillCgroup, sig(10, 9)], S::Stopping { killed: true, .. },
        );
        assert_eq!(u.deadline(), Some(Ms(3_100 + KILL_GRACE_MS)));
        let mut v = u;
        trace!(v;
            3_150: killed(10, 9) => [A::KillCgroup], S::Stopped,
        );
        trace!(u;
            5_100: E::Timer => [], S::Stopped,
            // Its late exit is stale.
            9_000: killed(10, 9) => [], S::Stopped,
        );
    }

    #[test]
    fn stop_in_backoff_stops_at_once() {
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        crash(&mut u, 5, 10);
        trace!(u;
            50: E::StopRequest => [], S::Stopped,
            105: E::Timer => [], S::Stopped,
        );
        assert_eq!(u.deadline(), None);
    }

    #[test]
    fn stop_of_a_waiting_or_settled_unit() {
        let mut u = Unit::new(service());
        trace!(u; 0: E::StopRequest => [], S::Stopped);
        let mut u = Unit::new(task());
        up(&mut u, 0, 10);
        u.step(exit(10, 0), Ms(1));
        trace!(u; 2: E::StopRequest => [], S::Done);
    }

    #[test]
    fn restart_request_goes_back_to_waiting() {
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        crash(&mut u, 1, 10);
        u.step(E::Timer, Ms(101));
        u.step(spawned(11), Ms(101));
        u.step(E::Execd, Ms(101));
        assert_eq!(u.streak(), 1);
        trace!(u;
            200: E::RestartRequest => [all(15), all(18)], S::Stopping { then: Then::Restart, .. },
            210: killed(11, 15) => [A::KillCgroup], S::Waiting,
            210: E::Start => [A::Spawn], S::Spawning,
        );
        assert_eq!((u.streak(), u.backoff_ms()), (0, 0));
    }

    #[test]
    fn requests_while_stopping_change_what_follows() {
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        trace!(u;
            1: E::RestartRequest => [all(15), all(18)], S::Stopping { then: Then::Restart, .. },
            2: E::StopRequest => [], S::Stopping { then: Then::Stop, .. },
            3: E::StartRequest => [], S::Stopping { then: Then::Restart, .. },
            4: E::RestartRequest => [], S::Stopping { then: Then::Restart, .. },
            5: exit(10, 0) => [A::KillCgroup], S::Waiting,
        );
    }

    /// A unit that failed (its restart limit of 1 reached).
    fn failed_once() -> Unit {
        let mut u = Unit::new(Policy {
            restart_limit: Some(1),
            ..service()
        });
        up(&mut u, 0, 10);
        crash(&mut u, 1, 10);
        assert!(matches!(u.state(), S::Failed { .. }));
        u
    }

    #[test]
    fn start_request_from_settled_states() {
        for settle in [E::ConditionUnmet, E::DepFailed, E::StopRequest] {
            let mut u = Unit::new(service());
            u.step(settle, Ms(0));
            assert!(u.is_down());
            trace!(u; 1: E::StartRequest => [], S::Waiting);
        }
        let mut u = failed_once();
        trace!(u; 2: E::RestartRequest => [], S::Waiting);
        assert_eq!(u.streak(), 0);
        // From back-off, too: the scheduler starts it now.
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        crash(&mut u, 1, 10);
        trace!(u; 2: E::StartRequest => [], S::Waiting);
    }

    #[test]
    fn stop_leaves_a_unit_without_a_process_stopped() {
        // Backing off: its restart timer is gone with the state.
        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        crash(&mut u, 1, 10);
        assert!(u.deadline().is_some());
        trace!(u; 2: E::StopRequest => [], S::Stopped);
        assert_eq!(u.deadline(), None);
        // Failed: the stop acknowledges it.
        let mut u = failed_once();
        trace!(u; 2: E::StopRequest => [], S::Stopped);
        assert_eq!(u.outcome(), Outcome::Stopped);
    }

    #[test]
    fn main_pid_handover() {
        let mut u = Unit::new(notify(Some(500)));
        up(&mut u, 0, 10);
        trace!(u;
            10: main_pid(20) => [], S::Starting { deadline: Some(Ms(500)), .. },
            // The launcher's exit is not the service's.
            11: exit(10, 0) => [], S::Starting { .. },
            12: E::Ready => [], S::Running { .. },
        );
        assert_eq!(u.main_pid(), Some(pid(20)));
        trace!(u;
            13: main_pid(30) => [], S::Running { .. },
            14: exit(20, 0) => [], S::Running { .. },
            15: E::StopRequest => [all(15), all(18)], S::Stopping { .. },
            16: main_pid(40) => [], S::Stopping { pid: Some(_), .. },
            17: exit(30, 0) => [], S::Stopping { .. },
            18: E::Exited { pid: pid(40), status: Status::Unknown } => [A::KillCgroup], S::Stopped,
        );
    }

    #[test]
    fn unknown_status_is_a_failure() {
        let mut u = Unit::new(Policy {
            restart: Restart::OnFailure,
            ..service()
        });
        up(&mut u, 0, 10);
        u.step(main_pid(20), Ms(1));
        trace!(u;
            20_000: E::Exited { pid: pid(20), status: Status::Unknown }
                => [A::KillCgroup, A::Spawn], S::Spawning,
        );
    }

    #[test]
    fn stale_exits_are_ignored() {
        let mut u = Unit::new(service());
        trace!(u; 0: exit(10, 1) => [], S::Waiting);
        up(&mut u, 0, 10);
        trace!(u; 1: exit(9, 1) => [], S::Running { .. });
        crash(&mut u, 2, 10);
        trace!(u; 3: exit(10, 1) => [], S::BackingOff { .. });
    }

    #[test]
    fn spawn_failure_backs_off_like_a_quick_failure() {
        let mut u = Unit::new(service());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: NOENT => [], S::BackingOff { until: Ms(100) },
            100: E::Timer => [A::Spawn], S::Spawning,
            100: NOENT => [], S::BackingOff { until: Ms(300) },
        );
        assert_eq!(u.streak(), 2);
        // Even with back-off off, PID 1 never retries in a tight loop.
        let mut u = Unit::new(Policy {
            restart_max_ms: 0,
            ..service()
        });
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: NOENT => [], S::BackingOff { until: Ms(100) },
            100: E::Timer => [A::Spawn], S::Spawning,
            100: NOENT => [], S::BackingOff { until: Ms(200) },
        );
        let mut u = Unit::new(task());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: NOENT => [], S::Failed { why: Failure::Spawn(Errno::NOENT) },
        );
        let mut u = Unit::new(Policy {
            restart_limit: Some(1),
            ..service()
        });
        u.step(E::Start, Ms(0));
        trace!(u; 0: NOENT => [], S::Failed { why: Failure::Limit });
    }

    #[test]
    fn a_refused_spawn_fails_without_retry() {
        // isolate=yes the kernel refuses: failed at once, even with
        // restart=always; an explicit start tries again.
        let mut u = Unit::new(service());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: E::SpawnRefused => [], S::Failed { why: Failure::Refused },
            5: E::Timer => [], S::Failed { .. },
            9: E::StartRequest => [], S::Waiting,
            9: E::Start => [A::Spawn], S::Spawning,
            9: spawned(10) => [], S::Starting { .. },
            9: E::Execd => [], S::Running { .. },
        );
        assert_eq!(u.outcome(), Outcome::Ready);
        // A stop that came first ends there.
        let mut u = Unit::new(service());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: E::StopRequest => [], S::Stopping { pid: None, .. },
            0: E::SpawnRefused => [], S::Stopped,
        );
    }

    #[test]
    fn stop_before_the_spawn_answers() {
        let mut u = Unit::new(service());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: E::StopRequest => [], S::Stopping { pid: None, .. },
            0: spawned(10) => [sig(10, 15), sig(10, 18)], S::Stopping { pid: Some(_), .. },
            1: exit(10, 0) => [A::KillCgroup], S::Stopped,
        );
        let mut u = Unit::new(service());
        trace!(u;
            0: E::Start => [A::Spawn], S::Spawning,
            0: E::RestartRequest => [], S::Stopping { pid: None, then: Then::Restart, .. },
            0: NOENT => [], S::Waiting,
        );
        let mut u = Unit::new(service());
        u.step(E::Start, Ms(0));
        trace!(u;
            0: E::StopRequest => [], S::Stopping { pid: None, .. },
            5_000: E::Timer => [A::KillCgroup], S::Stopping { killed: true, .. },
            5_001: spawned(10) => [sig(10, 9)], S::Stopping { pid: Some(_), .. },
        );
    }

    #[test]
    fn reload_signals_a_running_unit_only() {
        let mut u = Unit::new(notify(None));
        up(&mut u, 0, 10);
        trace!(u;
            1: E::ReloadRequest => [], S::Starting { .. },
            2: E::Ready => [], S::Running { .. },
            3: E::ReloadRequest => [sig(10, 1)], S::Running { .. },
        );
    }

    #[test]
    fn shutdown_never_spawns_again() {
        let mut w = Unit::new(service());
        trace!(w; 0: E::Shutdown => [], S::Stopped);
        trace!(w; 1: E::StartRequest => [], S::Stopped);

        let mut u = Unit::new(service());
        up(&mut u, 0, 10);
        let mut b = u;
        crash(&mut b, 1, 10);
        trace!(b; 2: E::Shutdown => [], S::Stopped);

        // A running unit keeps running until its turn to stop; if it dies
        // meanwhile it is not restarted.
        let mut c = u;
        trace!(c;
            0: E::Shutdown => [], S::Running { .. },
            1: exit(10, 1) => [A::KillCgroup], S::Failed { why: Failure::Exit },
        );
        let mut c = u;
        trace!(c;
            0: E::Shutdown => [], S::Running { .. },
            1: exit(10, 0) => [A::KillCgroup], S::Done,
            2: E::RestartRequest => [], S::Done,
        );
        trace!(u;
            0: E::RestartRequest => [all(15), all(18)], S::Stopping { then: Then::Restart, .. },
            1: E::Shutdown => [], S::Stopping { .. },
            2: exit(10, 0) => [A::KillCgroup], S::Stopped,
        );
    }

    #[test]
    fn waiting_settles_on_scheduler_verdicts() {
        let mut u = Unit::new(service());
        trace!(u; 0: E::ConditionUnmet => [], S::Skipped);
        assert_eq!(u.outcome(), Outcome::Skipped);
        let mut u = Unit::new(service());
        trace!(u; 0: E::DepFailed => [], S::Blocked);
        assert_eq!(u.outcome(), Outcome::Blocked);
    }

    /// Every pair the table marks "·": nothing changes, nothing is done.
    #[test]
    fn ignored_pairs_change_nothing() {
        let p10 = pid(10);
        let all = [
            E::Start,
            E::ConditionUnmet,
            E::DepFailed,
            E::Unbound,
            E::Activate,
            spawned(99),
            E::Execd,
            NOENT,
            E::SpawnRefused,
            E::Ready,
            main_pid(99),
            found(99),
            GROUP,
            NOT_YET,
            NOTHING,
            E::Emptied,
            exit(99, 0),
            E::Timer,
            E::StopRequest,
            E::StartRequest,
            E::RestartRequest,
            E::ReloadRequest,
            E::Shutdown,
            E::WatchdogPing,
            E::WatchdogTrigger,
            E::WatchdogPeriod { ms: 5_000 },
        ];
        let with = |state: State| {
            let mut u = Unit::new(notify(Some(1_000)));
            u.state = state;
            u.pinged = Ms(1);
            u
        };
        // (state, events that act on it); every other event is ignored.
        // Timers are early (t=0) and exits are for a stranger (pid 99).
        // A listening unit of this (boot) policy ignores Activate and
        // StartRequest: on-demand ones act on them (`on_demand_...`).
        let cases: [(State, &[Event]); 15] = [
            (
                S::Waiting,
                &[
                    E::Start,
                    E::ConditionUnmet,
                    E::DepFailed,
                    E::Unbound,
                    E::StopRequest,
                    E::Shutdown,
                ],
            ),
            (
                S::Listening,
                &[E::StopRequest, E::RestartRequest, E::Shutdown],
            ),
            (
                S::Spawning,
                &[
                    spawned(99),
                    NOENT,
                    E::SpawnRefused,
                    E::StopRequest,
                    E::RestartRequest,
                ],
            ),
            (
                S::Starting {
                    pid: p10,
                    deadline: Some(Ms(1_000)),
                },
                &[
                    NOENT,
                    E::Ready,
                    main_pid(99),
                    E::StopRequest,
                    E::RestartRequest,
                    E::WatchdogTrigger,
                    E::WatchdogPeriod { ms: 5_000 },
                ],
            ),
            (
                S::Adopting {
                    retry: Ms(1_000),
                    deadline: Ms(1_000),
                },
                &[
                    found(99),
                    GROUP,
                    NOT_YET,
                    NOTHING,
                    E::Emptied,
                    E::StopRequest,
                    E::RestartRequest,
                ],
            ),
            (
                S::Tracking,
                &[
                    found(99),
                    NOTHING,
                    E::Emptied,
                    E::StopRequest,
                    E::RestartRequest,
                ],
            ),
            (
                S::Stopping {
                    pid: None,
                    deadline: Ms(1_000),
                    killed: false,
                    then: Then::Fail(Failure::PidFile),
                },
                &[
                    spawned(99),
                    NOENT,
                    E::SpawnRefused,
                    main_pid(99),
                    E::Emptied,
                    E::StopRequest,
                    E::StartRequest,
                    E::RestartRequest,
                    E::WatchdogPeriod { ms: 5_000 },
                ],
            ),
            (
                S::Running {
                    pid: p10,
                    deadline: None,
                },
                &[
                    main_pid(99),
                    found(99),
                    GROUP,
                    NOT_YET,
                    NOTHING,
                    E::StopRequest,
                    E::RestartRequest,
                    E::ReloadRequest,
                    E::WatchdogPing,
                    E::WatchdogTrigger,
                    E::WatchdogPeriod { ms: 5_000 },
                ],
            ),
            (
                S::Stopping {
                    pid: Some(p10),
                    deadline: Ms(1_000),
                    killed: false,
                    then: Then::Fail(Failure::ReadyTimeout),
                },
                &[
                    main_pid(99),
                    E::StopRequest,
                    E::StartRequest,
                    E::RestartRequest,
                    E::WatchdogPeriod { ms: 5_000 },
                ],
            ),
            (S::Done, &[E::StartRequest, E::RestartRequest]),
            (
                S::BackingOff { until: Ms(1_000) },
                &[
                    E::StopRequest,
                    E::StartRequest,
                    E::RestartRequest,
                    E::Shutdown,
                ],
            ),
            (
                S::Failed { why: Failure::Exit },
                &[E::StartRequest, E::RestartRequest, E::StopRequest],
            ),
            (S::Skipped, &[E::StartRequest, E::RestartRequest]),
            (S::Blocked, &[E::StartRequest, E::RestartRequest]),
            (S::Stopped, &[E::StartRequest, E::RestartRequest]),
        ];
        let mut acting = 0;
        for (state, acts_on) in cases {
            for ev in all {
                let mut u = with(state);
                let before = u;
                let out = u.step(ev, Ms(0));
                let same = out.is_empty()
                    && u.state() == before.state()
                    && u.watchdog() == before.watchdog();
                if acts_on.contains(&ev) {
                    acting += 1;
                    assert!(!same, "{state:?} should act on {ev:?}");
                } else {
                    assert!(same, "{state:?} should ignore {ev:?}, got {out:?} {u:?}");
                }
            }
        }
        assert_eq!(acting, 73);
    }

    fn watchdog(ms: u32) -> Policy {
        Policy {
            watchdog_ms: ms,
            stop_timeout_ms: 3_000,
            ..notify(None)
        }
    }
    const ABRT: u32 = SIGABRT;

    #[test]
    fn the_watchdog_is_armed_once_ready_and_reset_by_pings() {
        let mut u = Unit::new(watchdog(2_000));
        up(&mut u, 0, 10);
        // Not armed while starting: a ping changes nothing, nothing is due.
        assert_eq!(u.deadline(), None);
        trace!(u;
            500: E::WatchdogPing => [], S::Starting { .. },
            1_000: E::Ready => [], S::Running { .. },
        );
        assert_eq!(u.watchdog(), (2_000, Some(Ms(1_000))));
        assert_eq!(u.deadline(), Some(Ms(3_000)));
        trace!(u;
            2_500: E::WatchdogPing => [], S::Running { .. },
            // The old deadline is early now.
            3_000: E::Timer => [], S::Running { .. },
        );
        assert_eq!(u.deadline(), Some(Ms(4_500)));
        assert_eq!(u.watchdog(), (2_000, Some(Ms(2_500))));
    }

    #[test]
    fn a_missed_ping_aborts_then_kills_then_restarts() {
        let mut u = Unit::new(watchdog(2_000));
        up(&mut u, 0, 10);
        u.step(E::Ready, Ms(100));
        trace!(u;
            2_099: E::Timer => [], S::Running { .. },
            2_100: E::Timer => [sig(10, ABRT)],
                S::Stopping { pid: Some(_), killed: false, then: Then::Fail(Failure::Watchdog), .. },
        );
        // stop-timeout (3 s) later: the cgroup and the process get SIGKILL.
        assert_eq!(u.deadline(), Some(Ms(5_100)));
        let mut dumped = u;
        trace!(u;
            5_100: E::Timer => [A::KillCgroup, sig(10, 9)], S::Stopping { killed: true, .. },
            5_200: killed(10, 9) => [A::KillCgroup], S::BackingOff { until: Ms(5_300) },
        );
        assert_eq!(u.last_exit(), Some(Status::Signal(9)));
        // It died of the SIGABRT (core dumped): the restart rules at once.
        trace!(dumped;
            2_200: killed(10, ABRT) => [A::KillCgroup], S::BackingOff { until: Ms(2_300) },
        );
        assert_eq!(dumped.last_exit(), Some(Status::Signal(ABRT as i32)));
        // The next run gets the configured period again, armed at ready.
        trace!(dumped;
            2_300: E::Timer => [A::Spawn], S::Spawning,
            2_300: spawned(11) => [], S::Starting { .. },
            2_400: E::Ready => [], S::Running { .. },
        );
        assert_eq!(dumped.deadline(), Some(Ms(4_400)));
        assert_eq!(dumped.restarts(), 1);
    }

    #[test]
    fn a_watchdog_failure_follows_the_restart_policy() {
        // restart=never: failed, naming the watchdog; a long run is not
        // quick, so with restart=always the back-off is not used.
        let mut u = Unit::new(Policy {
            restart: Restart::Never,
            ..watchdog(1_000)
        });
        up(&mut u, 0, 10);
        u.step(E::Ready, Ms(0));
        u.step(E::Timer, Ms(1_000));
        trace!(u; 1_010: killed(10, ABRT) => [A::KillCgroup], S::Failed { why: Failure::Watchdog });
        let mut u = Unit::new(watchdog(1_000));
        up(&mut u, 0, 10);
        u.step(E::Ready, Ms(0));
        u.step(E::WatchdogPing, Ms(59_000));
        u.step(E::Timer, Ms(60_000));
        trace!(u; 60_010: killed(10, ABRT) => [A::KillCgroup, A::Spawn], S::Spawning);
        assert_eq!(u.streak(), 0);
    }

    #[test]
    fn watchdog_trigger_fires_at_once() {
        let mut u = Unit::new(watchdog(10_000));
        up(&mut u, 0, 10);
        u.step(E::Ready, Ms(0));
        trace!(u;
            100: E::WatchdogTrigger => [sig(10, ABRT)],
                S::Stopping { then: Then::Fail(Failure::Triggered), .. },
            // Further pings change nothing now.
            150: E::WatchdogPing => [], S::Stopping { .. },
            200: killed(10, ABRT) => [A::KillCgroup], S::BackingOff { .. },
        );
        // Also without watchdog=, and before the unit is ready.
        let mut u = Unit::new(notify(None));
        up(&mut u, 0, 10);
        trace!(u; 5: E::WatchdogTrigger => [sig(10, ABRT)], S::Stopping { .. });
        let mut u = Unit::new(notify(None));
        trace!(u; 5: E::WatchdogTrigger => [], S::Waiting);
    }

    #[test]
    fn watchdog_usec_changes_the_period_until_the_next_start() {
        let mut u = Unit::new(watchdog(1_000));
        up(&mut u, 0, 10);
        // Set while starting: takes effect when ready.
        u.step(E::WatchdogPeriod { ms: 4_000 }, Ms(10));
        u.step(E::Ready, Ms(20));
        assert_eq!(u.deadline(), Some(Ms(4_020)));
        // Set while running: a new period from now.
        u.step(E::WatchdogPeriod { ms: 500 }, Ms(3_000));
        assert_eq!(u.watchdog(), (500, Some(Ms(3_000))));
        assert_eq!(u.deadline(), Some(Ms(3_500)));
        // 0 turns it off; a later one turns it on again.
        u.step(E::WatchdogPeriod { ms: 0 }, Ms(3_100));
        assert_eq!(u.deadline(), None);
        trace!(u; 9_000: E::Timer => [], S::Running { .. });
        u.step(E::WatchdogPeriod { ms: 2_000 }, Ms(9_000));
        trace!(u; 11_000: E::Timer => [sig(10, ABRT)], S::Stopping { .. });
        // The next start has the configured period.
        u.step(killed(10, ABRT), Ms(11_100));
        u.step(E::Timer, Ms(11_200));
        u.step(spawned(11), Ms(11_200));
        u.step(E::Ready, Ms(11_300));
        assert_eq!(u.watchdog(), (1_000, Some(Ms(11_300))));
    }

    #[test]
    fn a_stop_while_the_watchdog_fires_wins() {
        let mut u = Unit::new(watchdog(1_000));
        up(&mut u, 0, 10);
        u.step(E::Ready, Ms(0));
        trace!(u;
            1_000: E::Timer => [sig(10, ABRT)], S::Stopping { .. },
            1_001: E::StopRequest => [], S::Stopping { then: Then::Stop, .. },
            1_002: killed(10, ABRT) => [A::KillCgroup], S::Stopped,
        );
        // A stopping unit's watchdog is not armed.
        let mut u = Unit::new(watchdog(1_000));
        up(&mut u, 0, 10);
        u.step(E::Ready, Ms(0));
        trace!(u; 500: E::StopRequest => [all(15), all(18)], S::Stopping { .. });
        assert_eq!(u.deadline(), Some(Ms(3_500)));
        assert_eq!(u.watchdog(), (1_000, None));
    }

    fn on_demand() -> Policy {
        Policy {
            activation: Activation::OnDemand,
            ..service()
        }
    }

    #[test]
    fn on_demand_listens_until_a_connection_and_again_after_an_exit() {
        let mut u = Unit::new(on_demand());
        trace!(u;
            0: E::Start => [], S::Listening,
            5: E::Timer => [], S::Listening,
            10: E::Activate => [A::Spawn], S::Spawning,
            10: spawned(10) => [], S::Starting { .. },
            10: E::Execd => [], S::Running { .. },
            // A stray wake-up on its sockets while it runs: nothing.
            11: E::Activate => [], S::Running { .. },
            // A clean exit after a stable run: listening again, at once.
            20_010: exit(10, 0) => [A::KillCgroup], S::Listening,
            20_020: E::Activate => [A::Spawn], S::Spawning,
            20_020: spawned(11) => [], S::Starting { .. },
            20_020: E::Execd => [], S::Running { .. },
            // A quick crash backs off, then listens (does not spawn).
            20_050: exit(11, 1) => [A::KillCgroup], S::BackingOff { .. },
            20_150: E::Timer => [], S::Listening,
        );
        assert_eq!(u.restarts(), 2);
        assert_eq!(u.outcome(), Outcome::Ready);
        assert!(u.is_down());
        assert_eq!((u.deadline(), u.main_pid()), (None, None));
        // `pinit start` runs it now; stop and start bring it back to
        // listening; restart=never leaves it exited after its exit.
        trace!(u;
            30_000: E::StartRequest => [A::Spawn], S::Spawning,
            30_000: spawned(12) => [], S::Starting { .. },
            30_000: E::Execd => [], S::Running { .. },
            30_001: E::StopRequest => [all(SIGTERM), all(SIGCONT)], S::Stopping { .. },
            30_002: exit(12, 0) => [A::KillCgroup], S::Stopped,
            30_003: E::StartRequest => [], S::Waiting,
            30_003: E::Start => [], S::Listening,
            30_004: E::StopRequest => [], S::Stopped,
        );
        let mut u = Unit::new(Policy {
            restart: Restart::Never,
            ..on_demand()
        });
        trace!(u;
            0: E::Start => [], S::Listening,
            1: E::Activate => [A::Spawn], S::Spawning,
            1: spawned(10) => [], S::Starting { .. },
            1: E::Execd => [], S::Running { .. },
            20_000: exit(10, 0) => [A::KillCgroup], S::Done,
            20_001: E::Activate => [], S::Done,
        );
    }

    #[test]
    fn accept_units_listen_for_good() {
        let mut u = Unit::new(Policy {
            activation: Activation::Accept,
            ..service()
        });
        trace!(u;
            0: E::Start => [], S::Listening,
            1: E::Activate => [], S::Listening,
            2: E::StartRequest => [], S::Listening,
            3: E::RestartRequest => [], S::Waiting,
            3: E::Start => [], S::Listening,
            4: E::Shutdown => [], S::Stopped,
        );
    }

    #[test]
    fn a_unit_whose_socket_was_not_bound_fails_without_retry() {
        let mut u = Unit::new(on_demand());
        trace!(u;
            0: E::Unbound => [], S::Failed { why: Failure::Sockets },
            1: E::Start => [], S::Failed { .. },
            2: E::StartRequest => [], S::Waiting,
            2: E::Unbound => [], S::Failed { why: Failure::Sockets },
        );
        assert_eq!(u.outcome(), Outcome::Failed);
    }

    #[test]
    fn deadlines_by_state() {
        let mut u = Unit::new(notify(Some(300)));
        assert_eq!(u.deadline(), None);
        u.step(E::Start, Ms(0));
        assert_eq!(u.deadline(), None);
        u.step(spawned(10), Ms(10));
        u.step(E::Execd, Ms(10));
        assert_eq!(u.deadline(), Some(Ms(310)));
        u.step(E::Ready, Ms(20));
        assert_eq!(u.deadline(), None);
        u.step(E::StopRequest, Ms(30));
        assert_eq!(u.deadline(), Some(Ms(5_030)));
    }

    #[test]
    fn state_names() {
        assert_eq!(S::BackingOff { until: Ms(0) }.name(), "backing-off");
        assert_eq!(S::Waiting.name(), "waiting");
        assert_eq!(S::Listening.name(), "listening");
        // One word per state: the console's `done` is status's too.
        assert_eq!(S::Done.name(), "done");
        let adopting = S::Adopting {
            retry: Ms(0),
            deadline: Ms(0),
        };
        assert_eq!(adopting.name(), "starting");
        assert_eq!(S::Tracking.name(), "running");
    }

    fn forked(pidfile: bool) -> Policy {
        Policy {
            ready: Ready::Forked,
            guess: !pidfile,
            ..service()
        }
    }

    #[test]
    fn forked_launcher_exit_0_is_ready_and_the_main_process_is_watched() {
        let mut u = Unit::new(forked(true));
        up(&mut u, 0, 10);
        assert_eq!(u.outcome(), Outcome::Pending);
        trace!(u;
            // The launcher's exit: no cgroup kill, look for the daemon.
            30: exit(10, 0) => [A::FindMain], S::Adopting { retry: Ms(30), deadline: Ms(10_030) },
            30: found(20) => [], S::Running { deadline: None, .. },
        );
        assert_eq!((u.main_pid(), u.outcome()), (Some(pid(20)), Outcome::Ready));
        // The daemon dies: the usual restart rules, the cgroup killed.
        trace!(u;
            40: killed(20, 9) => [A::KillCgroup], S::BackingOff { until: Ms(140) },
            140: E::Timer => [A::Spawn], S::Spawning,
        );
        // A launcher that fails is a failure, its leftovers killed.
        let mut u = Unit::new(forked(true));
        up(&mut u, 0, 10);
        trace!(u; 5: exit(10, 1) => [A::KillCgroup], S::BackingOff { .. });
        assert_eq!(u.last_exit(), Some(Status::Code(1)));
    }

    #[test]
    fn forked_waits_for_its_pidfile_up_to_a_deadline() {
        let mut u = Unit::new(forked(true));
        up(&mut u, 0, 10);
        trace!(u;
            10: exit(10, 0) => [A::FindMain], S::Adopting { .. },
            10: NOT_YET => [], S::Adopting { retry: Ms(60), deadline: Ms(10_010) },
            59: E::Timer => [], S::Adopting { .. },
            60: E::Timer => [A::FindMain], S::Adopting { .. },
            60: NOT_YET => [], S::Adopting { retry: Ms(110), .. },
        );
        assert_eq!(u.deadline(), Some(Ms(110)));
        trace!(u;
            9_990: E::Timer => [A::FindMain], S::Adopting { .. },
            9_990: NOT_YET => [], S::Adopting { retry: Ms(10_010), .. },
            // Given up: the cgroup is stopped, a quick failure.
            10_010: E::Timer => [all(15), all(18)], S::Stopping { pid: None, then: Then::Fail(Failure::PidFile), .. },
            10_020: E::Emptied => [], S::BackingOff { .. },
        );
        assert_eq!(u.streak(), 1);
        // ready-timeout bounds the whole start, the pidfile wait too.
        let mut u = Unit::new(Policy {
            restart: Restart::Never,
            ready_timeout_ms: Some(500),
            ..forked(true)
        });
        up(&mut u, 0, 10);
        trace!(u;
            100: exit(10, 0) => [A::FindMain], S::Adopting { deadline: Ms(500), .. },
            100: NOT_YET => [], S::Adopting { .. },
            480: E::Timer => [A::FindMain], S::Adopting { .. },
            480: NOT_YET => [], S::Adopting { retry: Ms(500), .. },
            500: E::Timer => [all(15), all(18)], S::Stopping { pid: None, .. },
            // Stop timeout: what is left is killed, then it is given up.
            5_500: E::Timer => [A::KillCgroup], S::Stopping { killed: true, .. },
            7_500: E::Timer => [], S::Failed { why: Failure::PidFile },
        );
    }

    #[test]
    fn forked_with_nothing_left_has_vanished() {
        for gone in [NOTHING, E::Emptied] {
            let mut u = Unit::new(Policy {
                restart: Restart::Never,
                ..forked(true)
            });
            up(&mut u, 0, 10);
            u.step(exit(10, 0), Ms(1));
            if gone == E::Emptied {
                u.step(NOT_YET, Ms(1));
            }
            trace!(u; 2: gone => [], S::Failed { why: Failure::Vanished });
        }
    }

    #[test]
    fn forked_with_several_processes_runs_while_its_cgroup_does() {
        let mut u = Unit::new(forked(false));
        up(&mut u, 0, 10);
        trace!(u;
            10: exit(10, 0) => [A::FindMain], S::Adopting { .. },
            10: GROUP => [], S::Tracking,
        );
        assert_eq!(
            (u.outcome(), u.main_pid(), u.deadline()),
            (Outcome::Ready, None, None)
        );
        assert!(!u.is_down());
        trace!(u;
            // Processes come and go: only the cgroup's end counts.
            20: exit(11, 1) => [], S::Tracking,
            30: E::ReloadRequest => [], S::Tracking,
            // Down to one: it becomes the main process.
            40: found(12) => [], S::Running { .. },
        );
        assert_eq!(u.main_pid(), Some(pid(12)));
        // Stopped as a whole; the cgroup's end ends the stop.
        let mut u = Unit::new(forked(false));
        up(&mut u, 0, 10);
        u.step(exit(10, 0), Ms(10));
        u.step(GROUP, Ms(10));
        trace!(u;
            50: E::RestartRequest => [all(15), all(18)], S::Stopping { pid: None, then: Then::Restart, .. },
            60: E::Emptied => [], S::Waiting,
        );
        // Emptied on its own: a failure (the statuses are unknown).
        let mut u = Unit::new(forked(false));
        up(&mut u, 0, 10);
        u.step(exit(10, 0), Ms(10));
        u.step(GROUP, Ms(10));
        trace!(u; 30_000: E::Emptied => [A::KillCgroup, A::Spawn], S::Spawning);
        assert_eq!(u.last_exit(), Some(Status::Unknown));
    }

    #[test]
    fn a_guessed_main_process_that_exits_0_hands_over() {
        // Double fork: the middle process was the only one at first.
        let mut u = Unit::new(forked(false));
        up(&mut u, 0, 10);
        u.step(exit(10, 0), Ms(10));
        trace!(u;
            10: found(11) => [], S::Running { .. },
            12: exit(11, 0) => [A::FindMain], S::Running { .. },
            12: found(12) => [], S::Running { .. },
        );
        assert_eq!(u.main_pid(), Some(pid(12)));
        // A clean exit with nothing left: done, like any exit 0.
        let mut v = Unit::new(Policy {
            restart: Restart::OnFailure,
            ..forked(false)
        });
        up(&mut v, 0, 10);
        v.step(exit(10, 0), Ms(10));
        v.step(found(11), Ms(10));
        trace!(v;
            20_000: exit(11, 0) => [A::FindMain], S::Running { .. },
            20_000: NOTHING => [A::KillCgroup], S::Done,
        );
        // A crash is a crash, whatever is left.
        trace!(u; 13: exit(12, 1) => [A::KillCgroup], S::BackingOff { .. });
        // With a pidfile the main process is the daemon's word: its exit 0
        // is the service's exit.
        let mut w = Unit::new(forked(true));
        up(&mut w, 0, 10);
        w.step(exit(10, 0), Ms(10));
        w.step(found(11), Ms(10));
        trace!(w; 12: exit(11, 0) => [A::KillCgroup], S::BackingOff { .. });
    }

    #[test]
    fn kill_main_signals_the_main_process_and_leaves_the_rest() {
        let main = Policy {
            kill: Kill::Main,
            ..service()
        };
        let mut u = Unit::new(main);
        up(&mut u, 0, 10);
        trace!(u;
            100: E::RestartRequest => [sig(10, 15), sig(10, 18)], S::Stopping { .. },
            // The sessions stay; the new main process joins them.
            110: killed(10, 15) => [], S::Waiting,
            110: E::Start => [A::Spawn], S::Spawning,
            110: spawned(11) => [], S::Starting { .. },
            110: E::Execd => [], S::Running { .. },
            // A crash leaves them too.
            200: exit(11, 1) => [], S::BackingOff { .. },
        );
        // A stop that times out kills the main process only.
        let mut u = Unit::new(main);
        up(&mut u, 0, 10);
        trace!(u;
            1: E::StopRequest => [sig(10, 15), sig(10, 18)], S::Stopping { .. },
            5_001: E::Timer => [sig(10, 9)], S::Stopping { killed: true, .. },
            5_002: killed(10, 9) => [], S::Stopped,
        );
        // At shutdown the whole cgroup goes, in order with the others.
        let mut u = Unit::new(main);
        up(&mut u, 0, 10);
        trace!(u;
            1: E::Shutdown => [], S::Running { .. },
            2: E::StopRequest => [all(15), all(18)], S::Stopping { .. },
            3: killed(10, 15) => [A::KillCgroup], S::Stopped,
        );
        let mut u = Unit::new(main);
        up(&mut u, 0, 10);
        u.step(E::Shutdown, Ms(1));
        trace!(u; 2: exit(10, 1) => [A::KillCgroup], S::Failed { .. });
    }

    #[test]
    fn a_task_timeout_stops_it_and_fails_it() {
        let mut u = Unit::new(Policy {
            timeout_ms: Some(3_000),
            ..task()
        });
        up(&mut u, 100, 10);
        assert_eq!(u.deadline(), Some(Ms(3_100)));
        assert_eq!(u.outcome(), Outcome::Pending);
        trace!(u;
            3_099: E::Timer => [], S::Running { .. },
            3_100: E::Timer => [all(15), all(18)], S::Stopping { then: Then::Fail(Failure::Timeout), .. },
            // Exiting 0 on TERM does not make it done.
            3_200: exit(10, 0) => [A::KillCgroup], S::Failed { why: Failure::Timeout },
        );
        // restart=on-failure tries again after the back-off.
        let mut u = Unit::new(Policy {
            timeout_ms: Some(3_000),
            restart: Restart::OnFailure,
            ..task()
        });
        up(&mut u, 0, 10);
        u.step(E::Timer, Ms(3_000));
        trace!(u; 3_001: killed(10, 15) => [A::KillCgroup], S::BackingOff { until: Ms(3_101) });
        // A service has no such deadline.
        let mut s = Unit::new(Policy {
            timeout_ms: Some(3_000),
            ..service()
        });
        up(&mut s, 0, 10);
        assert_eq!(s.deadline(), None);
    }
}
