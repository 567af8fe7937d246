//! The unit options of the language, each declared once: its key, the
//! kind of value (the parser in parse.rs), the unit kinds that refuse it
//! and why, whether it repeats, its line in `pinit check --print` (the
//! order here is the print's), and, for docs/config.md's option list, its
//! default and a one-line summary (test builds only: the binary does not
//! carry them).
//!
//! Adding an option: one entry here, the field in `model::Unit`, its
//! arm in `parse::store` and in `print::val`, then `make docs` (see
//! docs/config.md, "For developers").

use super::model::{UnitKind, RLIMIT_KEYS};

/// The kind of value of an option: which parser reads it.
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    /// One of the words; the value is its index.
    Choice(&'static Words),
    /// A number in a range.
    Int(&'static Range),
    Dur,
    Sig,
    Id,
    Path,
    Tty,
    Umask,
    Ready,
    Cpus,
    Nodes,
    Numa,
    Size,
    Pids,
    CpuMax,
    Sched,
    IoPrio,
    /// `after=`, `needs=`: unit names (resolved by check::table).
    Deps,
    /// `if=`
    Cond,
    /// `groups=`
    Groups,
    /// `env=`
    Env,
    /// `rlimit.NAME=`
    Rlimit,
    /// `listen=`
    Listen,
    /// `runtime-dir=NAME[:MODE]`
    RunDir,
    /// `env-file=[-]PATH`
    EnvFile,
}

/// The words of a `Ty::Choice`, and the message that lists them.
pub(crate) struct Words(pub(crate) &'static [&'static str], pub(crate) &'static str);

/// The bounds of a `Ty::Int` (inclusive), and the message that says them.
pub(crate) struct Range(pub(crate) i32, pub(crate) i32, pub(crate) &'static str);

impl Ty {
    /// Text values may hold quotes; the others may not.
    pub(crate) fn quoted(self) -> bool {
        matches!(self, Ty::Path | Ty::Tty | Ty::Cond | Ty::Env | Ty::EnvFile)
    }
}

/// One option.
pub(crate) struct Spec {
    pub(crate) key: &'static str,
    pub(crate) opt: Opt,
    pub(crate) value: Ty,
    /// Options of one line are printed on one line by `--print`.
    pub(crate) line: Line,
    /// The unit kinds that refuse it, and why: "'tty=/dev/x' does not
    /// apply to a task: only tty units have a terminal".
    pub(crate) refuse: &'static [(UnitKind, &'static str)],
    /// May be given more than once (`rlimit.NAME=`: once per NAME).
    pub(crate) repeats: bool,
    /// Named in `--print`'s `not set:` comment when left out.
    pub(crate) unset: bool,
}

impl Spec {
    const NEW: Spec = Spec {
        key: "",
        opt: Opt::After,
        value: Ty::Dur,
        line: Line::Order,
        refuse: &[],
        repeats: false,
        unset: false,
    };
}

/// The words of documentation of one option (tests only).
#[cfg(test)]
pub(crate) struct Doc {
    pub(crate) default: &'static str,
    /// The lines of its doc comment.
    pub(crate) summary: &'static [&'static str],
}

/// Expands to the `Opt` enum, the `Line` enum and `OPTIONS` (and `DOCS`
/// in tests), one list for all: enum order = table order.
macro_rules! options {
    ($(
        line $line:ident {$(
            $(#[doc = $summary:literal])+
            $name:ident $key:literal $ty:expr, default $default:literal
                $(, $field:ident: $fv:expr)* ;
        )*}
    )*) => {
        /// A unit option; `OPTIONS[opt as usize]` describes it.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub(crate) enum Opt { $($($(#[doc = $summary])+ $name,)*)* }

        /// The lines of a unit block in `--print`.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub(crate) enum Line { $($line,)* }

        /// Every option, in `--print` order. (An option that sets every
        /// field leaves `..Spec::NEW` with nothing to do.)
        #[allow(clippy::needless_update)]
        pub(crate) const OPTIONS: &[Spec] = &[$($(Spec {
            key: $key,
            opt: Opt::$name,
            value: $ty,
            line: Line::$line,
            $($field: $fv,)*
            ..Spec::NEW
        },)*)*];

        /// Default and summary of each option, in the order of `OPTIONS`.
        #[cfg(test)]
        pub(crate) const DOCS: &[Doc] = &[$($(Doc {
            default: $default,
            summary: &[$($summary),+],
        },)*)*];
    };
}

const YES_NO: Ty = Ty::Choice(&Words(&["yes", "no"], "expected yes or no"));
const WEIGHT: Ty = Ty::Int(&Range(1, 10000, "expected a number from 1 to 10000"));
const NO_TERMINAL: &str = "only tty units have a terminal";
const SOCKETS: &[(UnitKind, &str)] = &[
    (UnitKind::Task, "only services listen on sockets"),
    (UnitKind::Tty, "only services listen on sockets"),
];
const NO_PINGS: &str = "only a ready=notify service sends watchdog pings";
const TASK_DONE: &str = "a task is done when it exits 0";
const TTY_READY: &str = "a tty unit is ready once started";

options! {
    line Order {
        /// Start once each named unit is ready (a service) or has exited 0 (a task).
        After "after" Ty::Deps, default "none";
        /// As `after=`, and the unit is not started if one of them fails; stopping one stops it.
        Needs "needs" Ty::Deps, default "none";
    }
    line Restart {
        /// When to start it again after it exits (a task: not `always`).
        Restart "restart" Ty::Choice(&Words(
            &["always", "on-failure", "never"],
            "expected always, on-failure or never",
        )), default "service, tty: **always**; task: **never**";
        /// The wait before a restart, for a unit that ran 10 s or more (not with restart=never).
        RestartDelay "restart-delay" Ty::Dur, default "**0**";
        /// The ceiling of the back-off (100 ms doubling) for a unit that dies
        /// within 10 s; `0` turns it off (not with restart=never).
        RestartMax "restart-max" Ty::Dur, default "**30s**";
        /// Quick failures in a row before the unit is `failed` (not with restart=never).
        RestartLimit "restart-limit" Ty::Int(&Range(1, 65535, "expected a number from 1 to 65535")),
            default "**no limit**", unset: true;
        /// What the machine does when the unit reaches `failed` (its
        /// restart-limit is reached, a task fails): reboot, power off, or
        /// nothing.
        OnFailure "on-failure" Ty::Choice(&Words(
            &["none", "reboot", "poweroff"],
            "expected none, reboot or poweroff",
        )), default "**none**", unset: true;
    }
    line Ready {
        /// When the unit is ready: once started, on sd_notify `READY=1`
        /// (NOTIFY_SOCKET), or on a newline written to fd N (s6).
        Ready "ready" Ty::Ready, default "**none**", refuse: &[
            (UnitKind::Task, TASK_DONE),
            (UnitKind::Tty, TTY_READY),
        ];
        /// How long to wait for `ready=notify`, `ready=fd:N` or `ready=forked`
        /// (its launcher's exit and its pidfile); `0` = no limit.
        ReadyTimeout "ready-timeout" Ty::Dur, default "none", refuse: &[
            (UnitKind::Task, TASK_DONE),
            (UnitKind::Tty, TTY_READY),
        ];
        /// With `ready=forked`: the file where the daemon writes its main
        /// process's PID (read after its launcher exits; a process outside the
        /// unit's cgroup is refused).
        Pidfile "pidfile" Ty::Path, default "none", unset: true, refuse: &[
            (UnitKind::Task, TASK_DONE),
            (UnitKind::Tty, TTY_READY),
        ];
        /// How long a task may run; then it is stopped and `failed`. `0` = no limit.
        Timeout "timeout" Ty::Dur, default "none", unset: true, refuse: &[
            (UnitKind::Service, "a service's start is bounded by ready-timeout="),
            (UnitKind::Tty, "a tty unit runs until it exits"),
        ];
        /// Once ready, the unit must send sd_notify `WATCHDOG=1` within every
        /// DURATION, or it gets SIGABRT (SIGKILL after stop-timeout) and the
        /// restart rules; `0` = off. Needs `ready=notify`.
        Watchdog "watchdog" Ty::Dur, default "none", unset: true, refuse: &[
            (UnitKind::Task, NO_PINGS),
            (UnitKind::Tty, NO_PINGS),
        ];
    }
    line Listen {
        /// A socket (or FIFO) PID 1 binds at boot, before any unit starts, and
        /// passes to the unit as fd 3, 4, ... (sd_listen_fds(3)); see "Sockets".
        Listen "listen" Ty::Listen, default "none", repeats: true, unset: true, refuse: SOCKETS;
        /// With `listen=`: `boot` starts it like any unit; `on-demand` at the
        /// first connection or datagram on its sockets.
        Start "start" Ty::Choice(&Words(&["boot", "on-demand"], "expected boot or on-demand")),
            default "**boot**", refuse: SOCKETS;
        /// inetd style: PID 1 accepts each connection and starts one instance
        /// with it as fds 0, 1 and 3 (stream sockets only).
        Accept "accept" YES_NO, default "**no**", refuse: SOCKETS;
        /// With `accept=yes`: instances at once; more connections wait in the backlog.
        MaxInstances "max-instances" Ty::Int(&Range(1, 256, "expected a number from 1 to 256")),
            default "64 (with accept=yes)", refuse: SOCKETS;
    }
    line Stop {
        /// The signal that stops it.
        StopSignal "stop-signal" Ty::Sig, default "**TERM**";
        /// How long a stop waits before SIGKILL.
        StopTimeout "stop-timeout" Ty::Dur, default "**5s**";
        /// The signal of `pinit reload`.
        ReloadSignal "reload-signal" Ty::Sig, default "**HUP**";
        /// What a stop or restart signals: every process of its cgroup, or the
        /// main process only (the rest stays until shutdown).
        Kill "kill" Ty::Choice(&Words(&["cgroup", "main"], "expected cgroup or main")),
            default "**cgroup**";
    }
    line If {
        /// A condition checked when the unit would start; all must hold, else it is `skipped`.
        If "if" Ty::Cond, default "none", repeats: true, unset: true;
    }
    line Process {
        /// The user it runs as (a name is looked up in /etc/passwd when it starts).
        User "user" Ty::Id, default "pinit's (root)", unset: true;
        /// Its group (a name is looked up in /etc/group).
        Group "group" Ty::Id, default "the user's", unset: true;
        /// Its supplementary groups.
        Groups "groups" Ty::Groups, default "none", unset: true;
        /// Its working directory.
        Dir "dir" Ty::Path, default "`/`", unset: true;
        /// Its file mode creation mask.
        Umask "umask" Ty::Umask, default "pinit's", unset: true;
        /// PR_SET_NO_NEW_PRIVS before exec.
        NoNewPrivs "no-new-privs" YES_NO, default "**no**";
        /// Where its output goes: the kernel log, a syslog daemon (/dev/log; the
        /// kernel log while none takes the lines), the console, nowhere, or pinit's
        /// fds. The `log` statement changes the default.
        Log "log" Ty::Choice(&Words(
            &["kmsg", "syslog", "console", "null", "inherit"],
            "expected kmsg, syslog, console, null or inherit",
        )), default "**kmsg**", refuse: &[
            (UnitKind::Tty, "a tty unit's output goes to its terminal"),
        ];
        /// Its terminal.
        Tty "tty" Ty::Tty, default "**/dev/console**", refuse: &[
            (UnitKind::Service, NO_TERMINAL),
            (UnitKind::Task, NO_TERMINAL),
        ];
    }
    line RunDir {
        /// /run/NAME, made (mode MODE, default 0755) and owned by its `user=`
        /// and `group=` before it starts, removed once it stops.
        RunDir "runtime-dir" Ty::RunDir, default "none", repeats: true, unset: true;
        /// Keep its `runtime-dir=` directories when it stops.
        RunDirKeep "runtime-dir-keep" YES_NO, default "**no**";
    }
    line Env {
        /// In its environment (up to 16, each KEY once), over the global `env`.
        Env "env" Ty::Env, default "none", repeats: true, unset: true;
        /// KEY=VALUE lines read at each start, over `env=`; `-PATH`: may be missing.
        EnvFile "env-file" Ty::EnvFile, default "none", repeats: true, unset: true;
    }
    line Cpus {
        /// The CPUs it may run on (sched_setaffinity before exec).
        Cpus "cpus" Ty::Cpus, default "the kernel's", unset: true;
        /// Its cgroup's `cpuset.cpus`.
        Cpuset "cpuset" Ty::Cpus, default "the kernel's", unset: true;
        /// Its `cpuset=` CPUs as an isolated partition (`cpuset.cpus.partition`); needs `cpuset=`.
        Isolate "isolate" YES_NO, default "**no**";
        /// Its cgroup's `cpuset.mems`.
        Mems "mems" Ty::Nodes, default "the kernel's", unset: true;
        /// Its memory policy (set_mempolicy before exec).
        Numa "numa" Ty::Numa, default "the kernel's", unset: true;
    }
    line Cgroup {
        /// Its cgroup's `memory.max`.
        MemMax "mem.max" Ty::Size, default "the kernel's", unset: true;
        /// Its cgroup's `memory.high`.
        MemHigh "mem.high" Ty::Size, default "the kernel's", unset: true;
        /// Its cgroup's `memory.low`.
        MemLow "mem.low" Ty::Size, default "the kernel's", unset: true;
        /// Its cgroup's `memory.swap.max`.
        SwapMax "swap.max" Ty::Size, default "the kernel's", unset: true;
        /// Its cgroup's `pids.max`.
        PidsMax "pids.max" Ty::Pids, default "the kernel's", unset: true;
        /// Its cgroup's `cpu.weight`.
        CpuWeight "cpu.weight" WEIGHT, default "the kernel's", unset: true;
        /// Its cgroup's `cpu.max`, written as `QUOTA PERIOD` (`50%` → `50000 100000`).
        CpuMax "cpu.max" Ty::CpuMax, default "the kernel's", unset: true;
        /// Its cgroup's `io.weight`.
        IoWeight "io.weight" WEIGHT, default "the kernel's", unset: true;
    }
    line Sched {
        /// Its nice value (setpriority).
        Nice "nice" Ty::Int(&Range(-20, 19, "expected a number from -20 to 19")),
            default "the kernel's", unset: true;
        /// Its scheduling policy (sched_setscheduler).
        Sched "sched" Ty::Sched, default "the kernel's", unset: true;
        /// Its I/O priority (ioprio_set).
        IoPrio "ioprio" Ty::IoPrio, default "the kernel's", unset: true;
        /// Its /proc/self/oom_score_adj.
        OomScore "oom-score" Ty::Int(&Range(-1000, 1000, "expected a number from -1000 to 1000")),
            default "the kernel's", unset: true;
    }
    line Rlimit {
        /// setrlimit of resource NAME.
        Rlimit "rlimit.NAME" Ty::Rlimit, default "the kernel's", repeats: true, unset: true;
    }
}

/// The number of options.
pub(crate) const COUNT: usize = OPTIONS.len();

/// The options a unit set, as written (`key=value`), by `Opt`.
pub(crate) type Seen<'a> = [Option<&'a str>; COUNT];

/// The option `key` names (every key of `RLIMIT_KEYS` is `Rlimit`).
pub(crate) fn find(key: &str) -> Option<&'static Spec> {
    let rlimit = RLIMIT_KEYS.contains(&key);
    OPTIONS.iter().find(|s| match s.value {
        Ty::Rlimit => rlimit,
        _ => s.key == key,
    })
}

/// Every option key, `rlimit.NAME` spelled out, for hints.
pub(crate) fn keys() -> impl Iterator<Item = &'static str> + Clone {
    OPTIONS
        .iter()
        .filter(|s| !matches!(s.value, Ty::Rlimit))
        .map(|s| s.key)
        .chain(RLIMIT_KEYS.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enum_indexes_the_table() {
        for (i, s) in OPTIONS.iter().enumerate() {
            assert_eq!(s.opt as usize, i, "{}", s.key);
        }
        assert_eq!(DOCS.len(), OPTIONS.len());
    }
}
