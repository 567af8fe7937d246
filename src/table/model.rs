//! The service table as parsed: what the supervisor, the cgroup code and
//! the placement code read. Text values are slices of the config text
//! (`Word`, `CpuList`, `&str`); variable-length lists that are only read
//! at spawn time (env=, if=, groups=, rlimit.*=) are re-read from the
//! unit's option text by iterators, so a `Unit` has a fixed, small size.

use super::capacity::{DEPS_MAX, ENV_MAX, SETUP_MAX, UNITS_MAX};
use super::lex::{self, same_key, Word};
use super::value::{self, CpuList, Millis};
use crate::put::{Put, Sink};
use core::fmt;
use heapless::Vec;

/// What a unit is (docs/config.md, "Units").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnitKind {
    /// Long-running, supervised.
    Service,
    /// Runs once, to completion.
    Task,
    /// A getty or shell on a terminal.
    Tty,
}

impl UnitKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            UnitKind::Service => "service",
            UnitKind::Task => "task",
            UnitKind::Tty => "tty",
        }
    }
}

/// `restart=`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Restart {
    Always,
    OnFailure,
    Never,
}

impl Restart {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Restart::Always => "always",
            Restart::OnFailure => "on-failure",
            Restart::Never => "never",
        }
    }
}

/// `ready=`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ready {
    /// Ready once exec'd.
    None,
    /// sd_notify: `READY=1` on NOTIFY_SOCKET.
    Notify,
    /// s6: a newline written to this fd.
    Fd(u16),
    /// A daemon that forks: ready when its launcher exits 0, its main
    /// process then named by `pidfile=` or found in its cgroup.
    Forked,
}

/// `start=`: when a unit with sockets runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Start {
    /// At boot, like any unit; its sockets are passed to it.
    Boot,
    /// At the first connection or datagram on its sockets.
    OnDemand,
}

impl Start {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Start::Boot => "boot",
            Start::OnDemand => "on-demand",
        }
    }
}

/// `on-failure=`: what the machine does when the unit reaches `failed`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OnFailure {
    None,
    Reboot,
    Poweroff,
}

impl OnFailure {
    pub(crate) fn name(self) -> &'static str {
        match self {
            OnFailure::None => "none",
            OnFailure::Reboot => "reboot",
            OnFailure::Poweroff => "poweroff",
        }
    }
}

/// `kill=`: what a stop or restart signals.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kill {
    /// Every process of the unit's cgroup.
    Cgroup,
    /// The main process only; the rest stays until shutdown.
    Main,
}

impl Kill {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kill::Cgroup => "cgroup",
            Kill::Main => "main",
        }
    }
}

/// `runtime-dir=NAME[:MODE]`: /run/NAME, made before the unit starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RuntimeDir<'a> {
    /// Relative to /run, checked: components of `[A-Za-z0-9_.-]`, none
    /// `.` or `..`.
    pub name: &'a str,
    pub mode: u16,
}

/// The mode of a runtime directory without `:MODE`.
pub(crate) const RUNTIME_DIR_MODE: u16 = 0o755;

impl<'a> RuntimeDir<'a> {
    /// Reads a checked `runtime-dir=` value.
    pub(crate) fn of(v: &'a str) -> Option<RuntimeDir<'a>> {
        match value::cut(v, b':') {
            Some((name, mode)) => Some(RuntimeDir {
                name,
                mode: value::mode(mode)?,
            }),
            None => Some(RuntimeDir {
                name: v,
                mode: RUNTIME_DIR_MODE,
            }),
        }
    }
}

/// `env-file=[-]PATH`: KEY=VALUE lines read at each start.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EnvFile<'a> {
    pub path: Word<'a>,
    /// Written `-PATH`: a missing file is no error.
    pub optional: bool,
}

impl<'a> EnvFile<'a> {
    pub(crate) fn of(v: &'a str) -> EnvFile<'a> {
        match v.strip_prefix('-') {
            Some(p) => EnvFile {
                path: Word(p),
                optional: true,
            },
            None => EnvFile {
                path: Word(v),
                optional: false,
            },
        }
    }
}

/// `log=`, and the table-wide `log` statement.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Log {
    /// /dev/kmsg (`dmesg`).
    Kmsg,
    /// /dev/log, a syslog daemon; /dev/kmsg while it refuses.
    Syslog,
    Console,
    Null,
    Inherit,
}

impl Log {
    /// In the order of the option's words (options.rs).
    pub(crate) const ALL: [Log; 5] = [
        Log::Kmsg,
        Log::Syslog,
        Log::Console,
        Log::Null,
        Log::Inherit,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Log::Kmsg => "kmsg",
            Log::Syslog => "syslog",
            Log::Console => "console",
            Log::Null => "null",
            Log::Inherit => "inherit",
        }
    }

    /// Lines go through a pipe that PID 1 reads (kmsg, syslog).
    pub fn captured(self) -> bool {
        matches!(self, Log::Kmsg | Log::Syslog)
    }
}

/// A cgroup limit (`mem.max=`, `pids.max=`, ...): unset, a number, or
/// `max`. `Display` gives the cgroup file's text (`max` or the number).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limit(u64);

impl Limit {
    /// Not in the table: leave the cgroup file alone.
    pub const UNSET: Limit = Limit(u64::MAX - 1);
    /// `max`: no limit.
    pub const MAX: Limit = Limit(u64::MAX);

    /// A number (at most `value::SIZE_MAX`).
    pub(crate) fn of(n: u64) -> Limit {
        Limit(n.min(value::SIZE_MAX))
    }

    pub(crate) fn is_set(self) -> bool {
        self != Limit::UNSET
    }

    /// The number; `None` for `max` and unset.
    pub fn value(self) -> Option<u64> {
        (self.0 <= value::SIZE_MAX).then_some(self.0)
    }
}

impl Put for Limit {
    fn put(&self, s: &mut dyn Sink) {
        match self.value() {
            Some(n) => n.put(s),
            None if *self == Limit::MAX => s.str("max"),
            None => {}
        }
    }
}

/// `cpu.max=`: written to the cgroup as `QUOTA PERIOD` (`Display`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CpuMax {
    /// Microseconds per period; 0 means `max` (no quota).
    pub quota_us: u32,
    pub period_us: u32,
    /// The percentage when written as `N%` (0 otherwise), for printing.
    pub percent: u32,
}

impl Put for CpuMax {
    fn put(&self, s: &mut dyn Sink) {
        if self.quota_us == 0 {
            s.str("max");
        } else {
            self.quota_us.put(s);
        }
        s.str(" ");
        self.period_us.put(s);
    }
}

/// `sched=`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sched {
    Other,
    Batch,
    Idle,
    Fifo(u8),
    Rr(u8),
}

/// `ioprio=`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IoPrio {
    Rt(u8),
    Be(u8),
    Idle,
}

/// `numa=`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Numa<'a> {
    Bind(CpuList<'a>),
    Preferred(u32),
    Interleave(CpuList<'a>),
    Local,
}

/// `user=`, `group=`, `groups=` entries: resolved by the supervisor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Id<'a> {
    Num(u32),
    Name(&'a str),
}

impl<'a> Id<'a> {
    /// A checked user or group: digits are a number, anything else a name.
    pub(crate) fn of(s: &'a str) -> Id<'a> {
        match value::uint(s).and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Id::Num(n),
            None => Id::Name(s),
        }
    }
}

impl Put for Id<'_> {
    fn put(&self, s: &mut dyn Sink) {
        match self {
            Id::Num(n) => n.put(s),
            Id::Name(name) => s.str(name),
        }
    }
}

crate::display_by_put!(Limit, CpuMax, Id<'_>);

/// What an `if=` condition tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Test {
    /// `path:P`: P exists.
    Path,
    /// `cmdline:WORD`: WORD is on the kernel command line.
    Cmdline,
}

/// `if=[!]path:P`, `if=[!]cmdline:WORD`: met when the test holds (or,
/// with `!`, when it does not).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Cond<'a> {
    pub negate: bool,
    pub test: Test,
    pub arg: Word<'a>,
}

impl<'a> Cond<'a> {
    /// Reads a checked `if=` value.
    pub(crate) fn of(v: &'a str) -> Option<Cond<'a>> {
        let (negate, rest) = match v.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, v),
        };
        let (test, arg) = if let Some(a) = rest.strip_prefix("path:") {
            (Test::Path, a)
        } else {
            (Test::Cmdline, rest.strip_prefix("cmdline:")?)
        };
        Some(Cond {
            negate,
            test,
            arg: Word(arg),
        })
    }
}

/// The rlimit names and their option keys, from one list.
macro_rules! rlimits {
    ($($name:literal)*) => {
        /// The rlimit names, index = RLIMIT_* number (x86_64 and aarch64
        /// agree).
        pub const RLIMITS: [&str; 16] = [$($name),*];
        /// Their option keys, `rlimit.NAME`, in the same order.
        pub(crate) const RLIMIT_KEYS: [&str; 16] = [$(concat!("rlimit.", $name)),*];
    };
}

rlimits!(
    "cpu" "fsize" "data" "stack" "core" "rss" "nproc" "nofile" "memlock" "as" "locks"
    "sigpending" "msgqueue" "nice" "rtprio" "rttime"
);

/// `rlimit.NAME=SOFT[:HARD]`; `INFINITY` for `infinity`/`unlimited`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rlimit {
    /// RLIMIT_* number.
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

impl Rlimit {
    /// RLIM_INFINITY.
    pub const INFINITY: u64 = u64::MAX;

    pub fn name(&self) -> &'static str {
        RLIMITS.get(self.resource as usize).copied().unwrap_or("?")
    }
}

/// One rlimit value: a number (K/M/G/T suffixes allowed) or
/// `infinity`/`unlimited`.
pub(crate) fn rlim(s: &str) -> Result<u64, value::Bad> {
    match s {
        "infinity" | "unlimited" => Ok(Rlimit::INFINITY),
        _ => value::size(s),
    }
}

/// `SOFT[:HARD]` → (soft, hard); HARD defaults to SOFT.
pub(crate) fn rlim_pair(s: &str) -> Result<(u64, u64), value::Bad> {
    match value::cut(s, b':') {
        Some((a, b)) => Ok((rlim(a)?, rlim(b)?)),
        None => rlim(s).map(|v| (v, v)),
    }
}

/// Prints an rlimit value as it would be written.
pub(crate) struct RlimValue(pub(crate) u64);

impl fmt::Display for RlimValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == Rlimit::INFINITY {
            f.write_str("infinity")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// A dependency: start after `unit` (an index into `Table::units`); with
/// `needs`, do not start if it fails and stop when it stops.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Dep {
    pub unit: usize,
    pub needs: bool,
}

pub(crate) const NEEDS_BIT: u16 = 0x8000;

/// A service, task or tty, every option typed and checked (the ones few
/// units set are read again when asked: `Extra`).
#[derive(Clone, Debug)]
pub struct Unit<'a> {
    pub name: &'a str,
    pub kind: UnitKind,
    /// The options as written (between NAME and `--`), re-read by
    /// `env()`, `conds()`, `groups()`, `rlimits()`.
    pub(crate) opts: &'a str,
    /// Which of those lists `opts` holds at all (`Lists`): a start asks
    /// for each of them, and a list the unit does not set is then not
    /// read through. Every bit until the parser has seen the options.
    pub(crate) lists: u8,
    /// PROGRAM and its arguments as written, to the end of the statement.
    pub(crate) args: &'a str,
    /// Number of words in `args` (program included).
    pub argc: u8,
    pub(crate) deps: Vec<u16, DEPS_MAX, u8>,
    pub restart: Restart,
    pub restart_delay: Millis,
    /// Back-off ceiling; 0 turns back-off off.
    pub restart_max: Millis,
    /// Quick failures in a row before `failed`; 0 means no limit.
    pub restart_limit: u16,
    pub ready: Ready,
    /// 0: no timeout.
    pub ready_timeout: Millis,
    /// The sd_notify watchdog period (`watchdog=`); 0: none.
    pub watchdog: Millis,
    /// `ready=forked`: the file naming the main process.
    pub pidfile: Option<Word<'a>>,
    /// A task's time limit; 0: none.
    pub timeout: Millis,
    pub stop_signal: u8,
    pub stop_timeout: Millis,
    pub reload_signal: u8,
    /// `start=`; meaningful with `listen=` only.
    pub start: Start,
    /// `accept=yes`: one instance per connection (inetd style).
    pub accept: bool,
    /// `max-instances=`: instances of an `accept=yes` unit at once.
    pub max_instances: u16,
    pub on_failure: OnFailure,
    pub kill: Kill,
    /// Keep the `runtime-dir=` directories when the unit stops.
    pub runtime_dir_keep: bool,
    pub no_new_privs: bool,
    pub log: Log,
    pub isolate: bool,
}

/// The options few units set: identity, paths, placement, limits and
/// priorities. A unit does not keep them: `Unit::extra` reads them again
/// from its options text (parsed and checked with the table), so a table
/// entry is 144 bytes on 64-bit, not 376, and 32 entries take two pages
/// less of PID 1's memory (docs/design.md §5).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Extra<'a> {
    pub user: Option<Id<'a>>,
    pub group: Option<Id<'a>>,
    pub dir: Option<Word<'a>>,
    pub umask: Option<u16>,
    /// The terminal of a tty unit (default /dev/console); `None` for the
    /// other kinds.
    pub tty: Option<Word<'a>>,
    pub cpus: Option<CpuList<'a>>,
    pub cpuset: Option<CpuList<'a>>,
    pub mems: Option<CpuList<'a>>,
    pub numa: Option<Numa<'a>>,
    pub mem_max: Limit,
    pub mem_high: Limit,
    pub mem_low: Limit,
    pub swap_max: Limit,
    pub pids_max: Limit,
    pub cpu_weight: Option<u16>,
    pub cpu_max: Option<CpuMax>,
    pub io_weight: Option<u16>,
    pub nice: Option<i8>,
    pub sched: Option<Sched>,
    pub ioprio: Option<IoPrio>,
    pub oom_score: Option<i16>,
}

impl<'a> Extra<'a> {
    /// Every default, for a unit of `kind`.
    pub fn new(kind: UnitKind) -> Extra<'a> {
        Extra {
            user: None,
            group: None,
            dir: None,
            umask: None,
            tty: (kind == UnitKind::Tty).then_some(CONSOLE),
            cpus: None,
            cpuset: None,
            mems: None,
            numa: None,
            mem_max: Limit::UNSET,
            mem_high: Limit::UNSET,
            mem_low: Limit::UNSET,
            swap_max: Limit::UNSET,
            pids_max: Limit::UNSET,
            cpu_weight: None,
            cpu_max: None,
            io_weight: None,
            nice: None,
            sched: None,
            ioprio: None,
            oom_score: None,
        }
    }
}

/// Defaults (docs/config.md, "Unit options").
/// The `accounting` statement: the cgroup controllers every unit gets,
/// for `pinit status` (memory) and to count what it holds, whether or not
/// it sets a limit of theirs (docs/config.md, "Accounting").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Accounting {
    pub memory: bool,
    pub pids: bool,
}

impl Accounting {
    /// Without the statement.
    pub const ALL: Accounting = Accounting {
        memory: true,
        pids: true,
    };

    /// `none`, or a comma list of `memory` and `pids`, each at most once.
    pub fn parse(word: &str) -> Option<Accounting> {
        let mut a = Accounting {
            memory: false,
            pids: false,
        };
        if word == "none" {
            return Some(a);
        }
        for w in word.split(',') {
            let seen = match w {
                "memory" => core::mem::replace(&mut a.memory, true),
                "pids" => core::mem::replace(&mut a.pids, true),
                _ => return None,
            };
            if seen {
                return None;
            }
        }
        Some(a)
    }

    /// As the statement writes it.
    pub fn name(&self) -> &'static str {
        match (self.memory, self.pids) {
            (true, true) => "memory,pids",
            (true, false) => "memory",
            (false, true) => "pids",
            (false, false) => "none",
        }
    }
}

/// The options a unit may give more than once (or, `groups=`, with a
/// list in it), one bit each in `Unit::lists`.
pub(crate) struct Lists;

impl Lists {
    pub(crate) const ENV: u8 = 1;
    pub(crate) const ENV_FILE: u8 = 2;
    pub(crate) const RUNTIME_DIR: u8 = 4;
    pub(crate) const IF: u8 = 8;
    pub(crate) const GROUPS: u8 = 16;
    pub(crate) const RLIMIT: u8 = 32;
    pub(crate) const LISTEN: u8 = 64;
    /// Any of the options `Extra` holds.
    pub(crate) const EXTRA: u8 = 128;
    pub(crate) const ALL: u8 = 255;

    /// The bit of option `key`; 0 for the others.
    fn of(key: &str) -> u8 {
        match key {
            "env" => Self::ENV,
            "env-file" => Self::ENV_FILE,
            "runtime-dir" => Self::RUNTIME_DIR,
            "if" => Self::IF,
            "groups" => Self::GROUPS,
            "listen" => Self::LISTEN,
            k if k.starts_with("rlimit.") => Self::RLIMIT,
            k if super::typed::is_extra(k) => Self::EXTRA,
            _ => 0,
        }
    }
}

pub(crate) const STOP_TIMEOUT: Millis = Millis(5000);
pub(crate) const RESTART_MAX: Millis = Millis(30_000);
pub(crate) const STOP_SIGNAL: u8 = 15;
pub(crate) const RELOAD_SIGNAL: u8 = 1;
pub(crate) const MAX_INSTANCES: u16 = 64;
pub(crate) const CONSOLE: Word<'static> = Word::lit("/dev/console");

impl<'a> Unit<'a> {
    /// A unit with every default for its kind.
    #[inline(never)]
    pub(crate) fn new(name: &'a str, kind: UnitKind) -> Unit<'a> {
        Unit {
            name,
            kind,
            opts: "",
            lists: Lists::ALL,
            args: "",
            argc: 0,
            deps: Vec::new(),
            restart: match kind {
                UnitKind::Task => Restart::Never,
                UnitKind::Service | UnitKind::Tty => Restart::Always,
            },
            restart_delay: Millis(0),
            restart_max: RESTART_MAX,
            restart_limit: 0,
            ready: Ready::None,
            ready_timeout: Millis(0),
            watchdog: Millis(0),
            pidfile: None,
            timeout: Millis(0),
            stop_signal: STOP_SIGNAL,
            stop_timeout: STOP_TIMEOUT,
            reload_signal: RELOAD_SIGNAL,
            start: Start::Boot,
            accept: false,
            max_instances: MAX_INSTANCES,
            on_failure: OnFailure::None,
            kill: Kill::Cgroup,
            runtime_dir_keep: false,
            no_new_privs: false,
            log: Log::Kmsg,
            isolate: false,
        }
    }

    /// PROGRAM then its arguments, as written; decode each (or all at
    /// once with `lex::decode_all`) into a buffer at exec time.
    pub fn argv(&self) -> impl Iterator<Item = Word<'a>> + Clone {
        lex::tokens(self.args).map(Word)
    }

    /// The program (the first word of `argv`).
    pub fn program(&self) -> Word<'a> {
        self.argv().next().unwrap_or(Word(""))
    }

    /// The options as written, `(key, value)`, in order.
    pub(crate) fn options(&self) -> impl Iterator<Item = (&'a str, &'a str)> + Clone {
        lex::tokens(self.opts).filter_map(lex::split_key)
    }

    /// The options, or none when the unit sets no option of `list`.
    pub(super) fn options_of(&self, list: u8) -> impl Iterator<Item = (&'a str, &'a str)> + Clone {
        let opts = if self.lists & list != 0 {
            self.opts
        } else {
            ""
        };
        lex::tokens(opts).filter_map(lex::split_key)
    }

    /// Notes which lists the options hold, once they are all parsed.
    pub(crate) fn note_lists(&mut self) {
        self.lists = self.options().fold(0, |m, (k, _)| m | Lists::of(k));
    }

    /// `env=KEY=VALUE` entries, in order (decode each to `KEY=VALUE`).
    pub fn env(&self) -> impl Iterator<Item = Word<'a>> + Clone {
        self.options_of(Lists::ENV)
            .filter(|(k, _)| *k == "env")
            .map(|(_, v)| Word(v))
    }

    /// `env-file=` files, in order (a later one wins).
    pub fn env_files(&self) -> impl Iterator<Item = EnvFile<'a>> + Clone {
        self.options_of(Lists::ENV_FILE)
            .filter(|(k, _)| *k == "env-file")
            .map(|(_, v)| EnvFile::of(v))
    }

    /// `runtime-dir=` directories, in order.
    pub fn runtime_dirs(&self) -> impl Iterator<Item = RuntimeDir<'a>> + Clone {
        self.options_of(Lists::RUNTIME_DIR)
            .filter(|(k, _)| *k == "runtime-dir")
            .filter_map(|(_, v)| RuntimeDir::of(v))
    }

    /// `if=` conditions; all must hold for the unit to start.
    pub fn conds(&self) -> impl Iterator<Item = Cond<'a>> + Clone {
        self.options_of(Lists::IF)
            .filter(|(k, _)| *k == "if")
            .filter_map(|(_, v)| Cond::of(v))
    }

    /// `groups=` entries.
    pub fn groups(&self) -> impl Iterator<Item = Id<'a>> + Clone {
        self.options_of(Lists::GROUPS)
            .filter(|(k, _)| *k == "groups")
            .flat_map(|(_, v)| value::items(v))
            .map(Id::of)
    }

    /// `rlimit.NAME=` settings, in order.
    pub fn rlimits(&self) -> impl Iterator<Item = Rlimit> + Clone + 'a {
        self.options_of(Lists::RLIMIT).filter_map(|(k, v)| {
            let resource = RLIMIT_KEYS.iter().position(|r| *r == k)?;
            let (soft, hard) = rlim_pair(v).ok()?;
            Some(Rlimit {
                resource: resource as u32,
                soft,
                hard,
            })
        })
    }

    /// The options `Extra` holds, read again from the options text (it
    /// was checked with the table, so every value is good); the defaults
    /// alone, at once, for a unit that sets none of them.
    pub fn extra(&self) -> Extra<'a> {
        let mut x = Extra::new(self.kind);
        for (k, v) in self.options_of(Lists::EXTRA) {
            super::typed::extra(&mut x, k, v);
        }
        x
    }

    /// `after=` and `needs=` units, as indices into `Table::units`.
    pub fn deps(&self) -> impl Iterator<Item = Dep> + '_ {
        self.deps.iter().map(|&d| Dep {
            unit: usize::from(d & !NEEDS_BIT),
            needs: d & NEEDS_BIT != 0,
        })
    }
}

/// The options of a `mount` statement that are flags, and the MS_* bit
/// each sets (`true`) or clears (`false`); the others are data.
pub(crate) const MOUNT_FLAGS: [(&str, u32, bool); 41] = [
    ("ro", 1, true),
    ("rw", 1, false),
    ("nosuid", 2, true),
    ("suid", 2, false),
    ("nodev", 4, true),
    ("dev", 4, false),
    ("noexec", 8, true),
    ("exec", 8, false),
    ("sync", 16, true),
    ("async", 16, false),
    ("remount", 32, true),
    ("mand", 64, true),
    ("nomand", 64, false),
    ("dirsync", 128, true),
    ("nosymfollow", 256, true),
    ("symfollow", 256, false),
    ("noatime", 1024, true),
    ("atime", 1024, false),
    ("nodiratime", 2048, true),
    ("diratime", 2048, false),
    ("bind", 4096, true),
    ("rbind", 4096 | 16384, true),
    ("move", 8192, true),
    ("silent", 32768, true),
    ("loud", 32768, false),
    ("unbindable", 1 << 17, true),
    ("runbindable", (1 << 17) | 16384, true),
    ("private", 1 << 18, true),
    ("rprivate", (1 << 18) | 16384, true),
    ("slave", 1 << 19, true),
    ("rslave", (1 << 19) | 16384, true),
    ("shared", 1 << 20, true),
    ("rshared", (1 << 20) | 16384, true),
    ("relatime", 1 << 21, true),
    ("norelatime", 1 << 21, false),
    ("iversion", 1 << 23, true),
    ("noiversion", 1 << 23, false),
    ("strictatime", 1 << 24, true),
    ("nostrictatime", 1 << 24, false),
    ("lazytime", 1 << 25, true),
    ("nolazytime", 1 << 25, false),
];

/// The mount option word `w` as a flag: (bits, set or clear).
pub(crate) fn mount_flag(w: &str) -> Option<(u32, bool)> {
    if w == "defaults" {
        return Some((0, true));
    }
    MOUNT_FLAGS
        .iter()
        .find(|(n, _, _)| *n == w)
        .map(|&(_, bits, set)| (bits, set))
}

/// `mount SOURCE TARGET FSTYPE [OPTIONS]`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mount<'a> {
    pub source: Word<'a>,
    pub target: Word<'a>,
    pub fstype: &'a str,
    /// OPTIONS as written (comma list), empty if none.
    pub options: &'a str,
    /// MS_* flags from OPTIONS.
    pub flags: u32,
}

impl Mount<'_> {
    /// The options that are not flags, comma-separated (the `data`
    /// argument of mount(2)); at most `options.len()` bytes.
    pub fn data<'b>(&self, out: &'b mut [u8]) -> Option<&'b [u8]> {
        let mut n = 0;
        for w in self.data_items() {
            if n > 0 {
                *out.get_mut(n)? = b',';
                n += 1;
            }
            out.get_mut(n..n + w.len())?.copy_from_slice(w.as_bytes());
            n += w.len();
        }
        out.get(..n)
    }

    /// The length of `data`.
    pub(crate) fn data_len(&self) -> usize {
        self.data_items()
            .map(|w| w.len() + 1)
            .sum::<usize>()
            .saturating_sub(1)
    }

    fn data_items(&self) -> impl Iterator<Item = &str> + '_ {
        value::items(self.options).filter(|w| mount_flag(w).is_none())
    }
}

/// `sysctl KEY VALUE`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sysctl<'a> {
    pub key: &'a str,
    pub value: Word<'a>,
}

impl Sysctl<'_> {
    /// `/proc/sys/...` for the key, as sysctl(8) maps it: in the dotted
    /// form dots separate and slashes stand for dots (`eth0/100`); a key
    /// whose first separator is `/` is a path already.
    pub fn path<'b>(&self, out: &'b mut [u8]) -> Option<&'b str> {
        let mut n = 0;
        for b in self.path_bytes() {
            *out.get_mut(n)? = b;
            n += 1;
        }
        core::str::from_utf8(out.get(..n)?).ok()
    }

    /// The bytes of `path`, one by one.
    pub(crate) fn path_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let dotted = self.key.bytes().find(|&b| b == b'.' || b == b'/') == Some(b'.');
        let key = self.key.bytes().map(move |b| match b {
            b'.' if dotted => b'/',
            b'/' if dotted => b'.',
            b => b,
        });
        b"/proc/sys/".iter().copied().chain(key)
    }
}

/// `fstab [FILE]`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fstab<'a> {
    /// FILE, or `FSTAB` when left out.
    pub file: Word<'a>,
    /// The statement's keyword, for messages.
    pub(crate) kw: &'a str,
}

/// The file of `fstab` without FILE.
pub const FSTAB: Word<'static> = Word::lit("/etc/fstab");

/// A system statement, applied at boot in file order (docs/config.md,
/// "Statements"); `random-seed` waits for the others (it needs its
/// file system writable).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Setup<'a> {
    Hostname(&'a str),
    /// `hostname FILE [NAME]`: the name in FILE, else NAME.
    HostnameFile(Word<'a>, Option<&'a str>),
    Mount(Mount<'a>),
    Fstab(Fstab<'a>),
    Sysctl(Sysctl<'a>),
    IrqAffinity(CpuList<'a>),
    /// `random-seed FILE`
    RandomSeed(Word<'a>),
}

/// `watchdog DEVICE [timeout=] [shutdown-timeout=] [wait=] [magic-close=]`:
/// the hardware watchdog PID 1 keeps (docs/config.md, "The hardware
/// watchdog").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Watchdog<'a> {
    pub device: Word<'a>,
    /// Whole seconds (WDIOC_SETTIMEOUT counts seconds).
    pub timeout: Millis,
    /// The budget of a whole shutdown; whole seconds.
    pub shutdown_timeout: Millis,
    /// How long to wait for the device to appear.
    pub wait: Millis,
    /// Stop it with the magic close on a clean poweroff or halt.
    pub magic_close: bool,
}

/// The defaults of the `watchdog` statement.
pub(crate) const WATCHDOG_TIMEOUT: Millis = Millis(30_000);
pub(crate) const WATCHDOG_SHUTDOWN: Millis = Millis(600_000);
pub(crate) const WATCHDOG_WAIT: Millis = Millis(60_000);

/// The whole table. Keep it in a static (`Table::new()` is const): only
/// the unit slots in use are ever written. In this order (`repr(C)`): the
/// small fields and the head of `units` share pages, `env`'s and
/// `setup`'s heads (Vecs empty in many tables) share one at the end; the
/// compiler's order put three pages between them, and `env` before
/// `units` (520 bytes) made 33 units' entries cross a third page on
/// aarch64.
#[repr(C)]
pub struct Table<'a> {
    /// The `log` statement's DESTINATION as written (`log()` reads it).
    /// A `&str` in an Option, not an `Option<Log>`: `Table::new()` must be
    /// all zeros, or a static table moves from .bss to .data (94 KiB of
    /// the binary).
    pub(crate) log_word: Option<&'a str>,
    /// The `accounting` statement's WHAT as written (`accounting()`
    /// reads it); a word for the same reason as `log_word`.
    pub(crate) accounting_word: Option<&'a str>,
    /// The `watchdog` statement, if any (`watchdog()`). A Vec of one, not
    /// an Option: `Option<Watchdog>` would mark None in `magic_close`'s
    /// niche, a non-zero byte that moves the whole static table from
    /// .bss to .data (96 KB more binary).
    watchdog: Vec<Watchdog<'a>, 1>,
    /// Start order: every unit after the ones it depends on, file order
    /// otherwise. Stop in reverse.
    pub order: Vec<u16, UNITS_MAX>,
    /// In file order; `Dep::unit` and `order` index this.
    pub units: Vec<Unit<'a>, UNITS_MAX>,
    /// Global `env KEY=VALUE`, for every unit (a unit's env= wins).
    pub env: Vec<Word<'a>, ENV_MAX>,
    /// hostname, mount, fstab, sysctl, irq-affinity, random-seed, in
    /// file order.
    pub setup: Vec<Setup<'a>, SETUP_MAX>,
}

impl Default for Table<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Table<'a> {
    pub const fn new() -> Table<'a> {
        Table {
            units: Vec::new(),
            order: Vec::new(),
            setup: Vec::new(),
            env: Vec::new(),
            watchdog: Vec::new(),
            log_word: None,
            accounting_word: None,
        }
    }

    /// Empties it, writing only what is not empty already: an empty
    /// static table's pages stay untouched.
    pub(crate) fn clear(&mut self) {
        fn empty<T, const N: usize>(v: &mut Vec<T, N>) {
            if !v.is_empty() {
                v.clear();
            }
        }
        empty(&mut self.units);
        empty(&mut self.order);
        empty(&mut self.setup);
        empty(&mut self.env);
        empty(&mut self.watchdog);
        if self.log_word.is_some() {
            self.log_word = None;
        }
        if self.accounting_word.is_some() {
            self.accounting_word = None;
        }
    }

    /// The `watchdog` statement, if any.
    pub fn watchdog(&self) -> Option<Watchdog<'a>> {
        self.watchdog.first().copied()
    }

    /// Sets the `watchdog` statement (the parser allows one).
    pub(crate) fn set_watchdog(&mut self, w: Watchdog<'a>) {
        self.watchdog.clear();
        let _ = self.watchdog.push(w);
    }

    /// The `log` statement: the `log=` of services and tasks that set
    /// none (already applied to them), and where pinit's own lines go
    /// besides the console and /dev/kmsg (`syslog`).
    pub fn log(&self) -> Option<Log> {
        let w = self.log_word?;
        Log::ALL.iter().copied().find(|l| l.name() == w)
    }

    /// The `accounting` statement: the controllers every unit's cgroup
    /// gets whether or not it sets one of their limits; both without it.
    pub fn accounting(&self) -> Accounting {
        self.accounting_word
            .and_then(Accounting::parse)
            .unwrap_or(Accounting::ALL)
    }

    /// The index of unit `name`.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.units.iter().position(|u| u.name == name)
    }

    pub(crate) fn unit(&self, i: usize) -> Option<&Unit<'a>> {
        self.units.get(i)
    }

    /// The environment unit `u` gets from the table, in the order exec
    /// gets it: its `env=` entries, then the global `env` entries it does
    /// not override (getenv takes the first match).
    pub fn env_of<'s>(&'s self, u: &'s Unit<'a>) -> impl Iterator<Item = Word<'a>> + Clone + 's {
        let overridden = move |g: &Word<'a>| u.env().any(|w| same_key(w.raw(), g.raw()));
        u.env()
            .chain(self.env.iter().copied().filter(move |g| !overridden(g)))
    }

    /// The units in start order, with their indices.
    pub fn in_order(&self) -> impl Iterator<Item = (usize, &Unit<'a>)> + '_ {
        self.order
            .iter()
            .filter_map(|&i| Some((usize::from(i), self.units.get(usize::from(i))?)))
    }
}
