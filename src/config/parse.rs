//! The parser: statements (DESIGN §3.2) and unit options (§3.3) into a
//! `Table`. Each statement is lexed twice: once to check it and measure
//! it, then to read it; a lexical error skips the statement, every other
//! error is reported and parsing goes on, so one pass reports them all.

use super::check;
use super::diag::{closest, closest_of, Error, Hint, Report};
use super::lex::{self, Lexer, Tokens, Word};
use super::limits::*;
use super::table::*;
use super::value::{self, Bad, CpuList, ListError};
use heapless::Vec;

/// The statements, for hints.
pub const STATEMENTS: [&str; 8] = [
    "hostname",
    "mount",
    "sysctl",
    "env",
    "irq-affinity",
    "service",
    "task",
    "tty",
];

/// Unit options, one per key (`rlimit.NAME` is `Rlimit`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Opt {
    After,
    Needs,
    Restart,
    RestartDelay,
    RestartMax,
    RestartLimit,
    Ready,
    ReadyTimeout,
    StopSignal,
    StopTimeout,
    ReloadSignal,
    If,
    User,
    Group,
    Groups,
    Dir,
    Umask,
    Env,
    NoNewPrivs,
    Log,
    Tty,
    Cpus,
    Cpuset,
    Mems,
    Isolate,
    Numa,
    MemMax,
    MemHigh,
    MemLow,
    SwapMax,
    PidsMax,
    CpuWeight,
    CpuMax,
    IoWeight,
    Nice,
    Sched,
    IoPrio,
    OomScore,
    Rlimit,
}

/// Option keys (without `rlimit.NAME`), in the order of `Opt`.
pub const OPTIONS: [&str; 38] = [
    "after",
    "needs",
    "restart",
    "restart-delay",
    "restart-max",
    "restart-limit",
    "ready",
    "ready-timeout",
    "stop-signal",
    "stop-timeout",
    "reload-signal",
    "if",
    "user",
    "group",
    "groups",
    "dir",
    "umask",
    "env",
    "no-new-privs",
    "log",
    "tty",
    "cpus",
    "cpuset",
    "mems",
    "isolate",
    "numa",
    "mem.max",
    "mem.high",
    "mem.low",
    "swap.max",
    "pids.max",
    "cpu.weight",
    "cpu.max",
    "io.weight",
    "nice",
    "sched",
    "ioprio",
    "oom-score",
];

const OPTS: [Opt; 38] = [
    Opt::After,
    Opt::Needs,
    Opt::Restart,
    Opt::RestartDelay,
    Opt::RestartMax,
    Opt::RestartLimit,
    Opt::Ready,
    Opt::ReadyTimeout,
    Opt::StopSignal,
    Opt::StopTimeout,
    Opt::ReloadSignal,
    Opt::If,
    Opt::User,
    Opt::Group,
    Opt::Groups,
    Opt::Dir,
    Opt::Umask,
    Opt::Env,
    Opt::NoNewPrivs,
    Opt::Log,
    Opt::Tty,
    Opt::Cpus,
    Opt::Cpuset,
    Opt::Mems,
    Opt::Isolate,
    Opt::Numa,
    Opt::MemMax,
    Opt::MemHigh,
    Opt::MemLow,
    Opt::SwapMax,
    Opt::PidsMax,
    Opt::CpuWeight,
    Opt::CpuMax,
    Opt::IoWeight,
    Opt::Nice,
    Opt::Sched,
    Opt::IoPrio,
    Opt::OomScore,
];

/// `rlimit.NAME` keys, in the order of `RLIMITS`.
pub const RLIMIT_KEYS: [&str; 16] = [
    "rlimit.cpu",
    "rlimit.fsize",
    "rlimit.data",
    "rlimit.stack",
    "rlimit.core",
    "rlimit.rss",
    "rlimit.nproc",
    "rlimit.nofile",
    "rlimit.memlock",
    "rlimit.as",
    "rlimit.locks",
    "rlimit.sigpending",
    "rlimit.msgqueue",
    "rlimit.nice",
    "rlimit.rtprio",
    "rlimit.rttime",
];

/// Every option key, for hints.
pub fn option_keys() -> impl Iterator<Item = &'static str> + Clone {
    OPTIONS.iter().chain(RLIMIT_KEYS.iter()).copied()
}

pub const OPT_COUNT: usize = 39;

/// The options of the unit being parsed, as written (`key=value`).
pub type Seen<'a> = [Option<&'a str>; OPT_COUNT];

/// Reads `text` into `table` (cleared first) and checks it; reports
/// every problem through `diag`, up to ERRORS_MAX. Returns the number of
/// errors: the table is usable only when it is 0.
pub fn parse<'a>(
    file: &str,
    text: &'a [u8],
    table: &mut Table<'a>,
    diag: &mut dyn FnMut(&super::Diag<'_>),
) -> usize {
    table.clear();
    let mut rep = Report::new(file, text, diag);
    if text.len() > FILE_MAX {
        rep.at(0, Error::FileTooBig);
        return rep.errors;
    }
    let mut p = Parser { rep, text };
    let mut pos = 0;
    while pos < text.len() && !p.rep.stop {
        pos = p.statement(pos, table).max(pos + 1);
    }
    if !p.rep.stop {
        check::table(&mut p.rep, table);
    }
    p.rep.errors
}

struct Parser<'r, 'a> {
    rep: Report<'r, 'a>,
    text: &'a [u8],
}

/// The usage line of each statement.
fn usage(kw: &str) -> &'static str {
    match kw {
        "hostname" => "hostname NAME",
        "mount" => "mount SOURCE TARGET FSTYPE [OPTIONS]",
        "sysctl" => "sysctl KEY VALUE, a VALUE with spaces in quotes",
        "env" => "env KEY=VALUE",
        "irq-affinity" => "irq-affinity CPULIST",
        "service" => "service NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]",
        "task" => "task NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]",
        _ => "tty NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]",
    }
}

fn kind_of(kw: &str) -> Option<Kind> {
    match kw {
        "service" => Some(Kind::Service),
        "task" => Some(Kind::Task),
        "tty" => Some(Kind::Tty),
        _ => None,
    }
}

/// A valid unit name (also the cgroup directory's name).
pub fn is_unit_name(s: &str) -> bool {
    (1..=NAME_MAX).contains(&s.len()) && s.bytes().all(value::is_name_char) && s != "." && s != ".."
}

const NAME_EXPECT: &str = "expected 1 to 31 of A-Z a-z 0-9 _ . - (not . or ..)";

/// The state of the unit being parsed.
struct UnitState<'a> {
    seen: Seen<'a>,
    env: Vec<&'a str, UNIT_ENV_MAX>,
    conds: usize,
    deps: usize,
    rlimits: u16,
}

impl<'r, 'a> Parser<'r, 'a> {
    fn end_of(&self, tok: &str) -> usize {
        self.rep.offset(tok).unwrap_or(0) + tok.len()
    }

    /// One statement from `pos`; returns where the next one starts.
    fn statement(&mut self, pos: usize, table: &mut Table<'a>) -> usize {
        let mut lx = Lexer::at(self.text, pos);
        let (mut first, mut second, mut last) = (None, None, None);
        let mut failed = false;
        loop {
            match lx.token() {
                Ok(Some(t)) => {
                    if first.is_none() {
                        first = Some(t);
                    } else if second.is_none() {
                        second = Some(t);
                    }
                    last = Some(t);
                }
                Ok(None) => break,
                Err((at, e)) => {
                    self.rep.at(at, Error::Lex(e));
                    lx.skip_statement();
                    failed = true;
                    break;
                }
            }
        }
        let next = lx.pos();
        let Some(kw) = first else {
            return next;
        };
        let start = self.rep.offset(kw).unwrap_or(0);
        let len = last.map_or(0, |t| self.end_of(t).saturating_sub(start));
        if !failed && len > LINE_MAX {
            self.rep.at(start, Error::TooLong(len));
            failed = true;
        }
        if failed {
            // Keep the unit's name known, so that others naming it do
            // not get a second error.
            if let (Some(kind), Some(name)) = (kind_of(kw), second) {
                if is_unit_name(name) && table.find(name).is_none() {
                    let _ = table.units.push(Unit::new(name, kind));
                }
            }
            return next;
        }
        let mut toks = lex::tokens_at(self.text, pos);
        toks.next();
        match kw {
            "hostname" => self.hostname(kw, toks, table),
            "mount" => self.mount(kw, toks, table),
            "sysctl" => self.sysctl(kw, toks, table),
            "env" => self.env(kw, toks, table),
            "irq-affinity" => self.irq_affinity(kw, toks, table),
            _ => match kind_of(kw) {
                Some(kind) => self.unit(kw, kind, toks, table),
                None => {
                    let stray = value::has(kw, b'=') || kw == "--";
                    let hint = closest_of(kw, &STATEMENTS);
                    self.rep.on(
                        kw,
                        Error::UnknownStatement {
                            word: kw,
                            hint,
                            stray,
                        },
                    );
                }
            },
        }
        next
    }

    /// The words after a statement's keyword: between `min` and `max` of
    /// them, named by `what` in the "missing" message.
    fn words<const N: usize>(
        &mut self,
        kw: &'a str,
        mut toks: Tokens<'a>,
        what: [&'static str; N],
        max: usize,
    ) -> Option<([&'a str; 4], usize)> {
        let mut w = [""; 4];
        let mut n = 0;
        let mut last = kw;
        for t in toks.by_ref() {
            if n == max {
                self.rep.on(
                    t,
                    Error::Extra {
                        word: t,
                        usage: usage(kw),
                    },
                );
                return None;
            }
            if let Some(slot) = w.get_mut(n) {
                *slot = t;
            }
            n += 1;
            last = t;
        }
        if let Some(missing) = what.get(n) {
            let at = self.end_of(last);
            self.rep.at(
                at,
                Error::Missing {
                    what: missing,
                    usage: usage(kw),
                },
            );
            return None;
        }
        Some((w, n))
    }

    fn setup(&mut self, kw: &str, s: Setup<'a>, table: &mut Table<'a>) {
        if table.setup.push(s).is_err() {
            self.rep.on(
                kw,
                Error::TooMany {
                    what: "hostname, mount, sysctl and irq-affinity statements",
                    limit: SETUP_MAX,
                },
            );
        }
    }

    fn hostname(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([name, ..], _)) = self.words(kw, toks, ["NAME"], 1) else {
            return;
        };
        let ok = (1..=HOSTNAME_MAX).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !name.starts_with(['-', '.']);
        if !ok {
            self.rep.on(
                name,
                Error::Invalid {
                    what: "hostname",
                    value: name,
                    expect: "expected 1 to 64 of A-Z a-z 0-9 - . (not first: - .)",
                },
            );
            return;
        }
        let prev = table.setup.iter().find_map(|s| match s {
            Setup::Hostname(h) => Some(*h),
            _ => None,
        });
        if let Some(prev) = prev {
            let line = self.rep.line_of(prev);
            self.rep.on(
                kw,
                Error::Twice {
                    what: "hostname",
                    name: "",
                    line,
                },
            );
            return;
        }
        self.setup(kw, Setup::Hostname(name), table);
    }

    fn mount(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let what = ["SOURCE", "TARGET", "FSTYPE"];
        let Some(([source, target, fstype, options], _)) = self.words(kw, toks, what, 4) else {
            return;
        };
        let mut ok = true;
        if Word(source).is_empty() {
            self.rep.on(
                source,
                Error::Invalid {
                    what: "mount source",
                    value: source,
                    expect: "expected a device, a path or a name like tmpfs",
                },
            );
            ok = false;
        }
        if Word(target).bytes().next() != Some(b'/') {
            self.rep.on(
                target,
                Error::Invalid {
                    what: "mount target",
                    value: target,
                    expect: "expected an absolute path",
                },
            );
            ok = false;
        }
        let fs_ok = fstype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !fs_ok {
            self.rep.on(
                fstype,
                Error::Invalid {
                    what: "file system type",
                    value: fstype,
                    expect: "expected a name like tmpfs, ext4 or 9p",
                },
            );
            ok = false;
        }
        let mut flags = 0u32;
        if !options.is_empty() {
            match mount_options(options) {
                Ok(f) => flags = f,
                Err((item, expect)) => {
                    let value = if item.is_empty() { options } else { item };
                    self.rep.on(
                        value,
                        Error::Invalid {
                            what: "mount option",
                            value,
                            expect,
                        },
                    );
                    ok = false;
                }
            }
        }
        if ok {
            let m = Mount {
                source: Word(source),
                target: Word(target),
                fstype,
                options,
                flags,
            };
            self.setup(kw, Setup::Mount(m), table);
        }
    }

    fn sysctl(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([key, value, ..], _)) = self.words(kw, toks, ["KEY", "VALUE"], 2) else {
            return;
        };
        let ok = key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b':'))
            && !key.starts_with(['.', '/'])
            && !key.ends_with(['.', '/'])
            && !key
                .as_bytes()
                .windows(2)
                .any(|w| matches!(w, [b'.' | b'/', b'.' | b'/']));
        if !ok {
            self.rep.on(
                key,
                Error::Invalid {
                    what: "sysctl key",
                    value: key,
                    expect: "expected a key like net.ipv4.ip_forward",
                },
            );
            return;
        }
        let prev = table.setup.iter().find_map(|s| match s {
            Setup::Sysctl(s) if s.key == key => Some(s.key),
            _ => None,
        });
        if let Some(prev) = prev {
            let line = self.rep.line_of(prev);
            self.rep.on(
                key,
                Error::Twice {
                    what: "sysctl",
                    name: key,
                    line,
                },
            );
            return;
        }
        let s = Sysctl {
            key,
            value: Word(value),
        };
        self.setup(kw, Setup::Sysctl(s), table);
    }

    fn env(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([entry, ..], _)) = self.words(kw, toks, ["KEY=VALUE"], 1) else {
            return;
        };
        if !env_ok(entry) {
            self.rep.on(
                entry,
                Error::Invalid {
                    what: "env entry",
                    value: entry,
                    expect: ENV_EXPECT,
                },
            );
            return;
        }
        if let Some(prev) = table.env.iter().find(|e| same_key(e.raw(), entry)) {
            let line = self.rep.line_of(prev.raw());
            let name = key_of(entry);
            self.rep.on(
                entry,
                Error::Twice {
                    what: "env",
                    name,
                    line,
                },
            );
            return;
        }
        if table.env.push(Word(entry)).is_err() {
            self.rep.on(
                kw,
                Error::TooMany {
                    what: "env statements",
                    limit: ENV_MAX,
                },
            );
        }
    }

    fn irq_affinity(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([cpus, ..], _)) = self.words(kw, toks, ["CPULIST"], 1) else {
            return;
        };
        if let Err((at, expect)) = cpu_list(cpus, "CPU") {
            let item = cpus.get(at..).unwrap_or(cpus);
            self.rep.on(
                item,
                Error::Invalid {
                    what: "CPU list",
                    value: cpus,
                    expect,
                },
            );
            return;
        }
        let prev = table.setup.iter().find_map(|s| match s {
            Setup::IrqAffinity(c) => Some(c.as_str()),
            _ => None,
        });
        if let Some(prev) = prev {
            let line = self.rep.line_of(prev);
            self.rep.on(
                kw,
                Error::Twice {
                    what: "irq-affinity",
                    name: "",
                    line,
                },
            );
            return;
        }
        self.setup(kw, Setup::IrqAffinity(CpuList(cpus)), table);
    }

    /// `service|task|tty NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]`
    fn unit(&mut self, kw: &'a str, kind: Kind, mut toks: Tokens<'a>, table: &mut Table<'a>) {
        let name = match toks.next() {
            Some(n) if n != "--" => n,
            _ => {
                let at = self.end_of(kw);
                self.rep.at(
                    at,
                    Error::Missing {
                        what: "NAME",
                        usage: usage(kw),
                    },
                );
                return;
            }
        };
        let mut register = true;
        if !is_unit_name(name) {
            let e = Error::Invalid {
                what: "unit name",
                value: name,
                expect: NAME_EXPECT,
            };
            self.rep.on(name, e);
            register = false;
        } else if let Some(prev) = table.find(name).and_then(|i| table.units.get(i)) {
            let line = self.rep.line_of(prev.name);
            self.rep.on(name, Error::DuplicateUnit { name, line });
            register = false;
        }
        let mut u = Unit::new(name, kind);
        let mut st = UnitState {
            seen: [None; OPT_COUNT],
            env: Vec::new(),
            conds: 0,
            deps: 0,
            rlimits: 0,
        };
        let (mut opts_from, mut opts_to) = (None, None);
        let mut dashes = None;
        let mut last = name;
        for tok in toks.by_ref() {
            last = tok;
            if tok == "--" {
                dashes = Some(tok);
                break;
            }
            opts_from.get_or_insert(tok);
            opts_to = Some(tok);
            self.option(&mut u, &mut st, tok);
        }
        u.opts = self.span(opts_from, opts_to);
        check::unit_rules(&mut self.rep, &u, &st.seen);
        match dashes {
            None => {
                let at = self.end_of(last);
                self.rep.at(at, Error::NoDashDash { usage: usage(kw) });
            }
            Some(dashes) => self.args(&mut u, dashes, toks),
        }
        if register && table.units.push(u).is_err() {
            self.rep.on(
                kw,
                Error::TooMany {
                    what: "units",
                    limit: UNITS_MAX,
                },
            );
        }
    }

    /// The text from the start of `from` to the end of `to`.
    fn span(&self, from: Option<&'a str>, to: Option<&'a str>) -> &'a str {
        let (Some(from), Some(to)) = (from, to) else {
            return "";
        };
        let a = self.rep.offset(from).unwrap_or(0);
        let b = self.end_of(to);
        self.text
            .get(a..b)
            .and_then(|s| core::str::from_utf8(s).ok())
            .unwrap_or("")
    }

    fn args(&mut self, u: &mut Unit<'a>, dashes: &'a str, toks: Tokens<'a>) {
        let (mut first, mut last) = (None, None);
        let mut n = 0usize;
        for t in toks {
            n += 1;
            if n == ARGS_MAX + 1 {
                self.rep.on(
                    t,
                    Error::TooMany {
                        what: "arguments",
                        limit: ARGS_MAX,
                    },
                );
            }
            first.get_or_insert(t);
            last = Some(t);
        }
        let Some(program) = first else {
            self.rep.on(dashes, Error::NoProgram);
            return;
        };
        if Word(program).bytes().next() != Some(b'/') {
            self.rep.on(
                program,
                Error::Invalid {
                    what: "program",
                    value: program,
                    expect: "expected an absolute path (pinit runs it with execve, no PATH search)",
                },
            );
        }
        u.args = self.span(first, last);
        u.argc = u8::try_from(n.min(ARGS_MAX)).unwrap_or(u8::MAX);
    }

    fn bad(&mut self, key: &'a str, value: &'a str, expect: &'static str, hint: Hint<'a>) {
        self.rep.on(
            value,
            Error::BadValue {
                key,
                value,
                expect,
                hint,
            },
        );
    }

    fn option(&mut self, u: &mut Unit<'a>, st: &mut UnitState<'a>, tok: &'a str) {
        let Some((key, v)) = lex::split_key(tok) else {
            if option_keys().any(|k| k == tok) {
                self.rep.on(tok, Error::NeedsValue { key: tok });
            } else {
                let program = tok.starts_with('/');
                self.rep.on(tok, Error::NotOption { word: tok, program });
            }
            return;
        };
        let opt = if let Some(i) = OPTIONS.iter().position(|k| *k == key) {
            OPTS.get(i).copied().unwrap_or(Opt::Rlimit)
        } else if let Some(i) = RLIMIT_KEYS.iter().position(|k| *k == key) {
            let bit = 1u16 << i;
            if st.rlimits & bit != 0 {
                self.rep.on(key, Error::OptionTwice { key });
                return;
            }
            st.rlimits |= bit;
            Opt::Rlimit
        } else {
            let hint = closest(key, &mut option_keys());
            self.rep.on(key, Error::UnknownOption { key, hint });
            return;
        };
        if let Some(why) = check::not_for(u.kind, opt) {
            let kind = u.kind.name();
            self.rep.on(
                tok,
                Error::NotForKind {
                    opt: tok,
                    kind,
                    why,
                },
            );
            return;
        }
        let slot = st.seen.get_mut(opt as usize);
        match (opt, slot) {
            (Opt::Env | Opt::If | Opt::Rlimit, Some(s)) => *s = Some(tok),
            (_, Some(s)) if s.is_some() => {
                self.rep.on(key, Error::OptionTwice { key });
                return;
            }
            (_, Some(s)) => *s = Some(tok),
            (_, None) => {}
        }
        if v.is_empty() {
            self.rep.on(tok, Error::Empty { key });
            return;
        }
        let text = matches!(opt, Opt::Dir | Opt::Env | Opt::Tty | Opt::If);
        if !text && value::has(v, b'"') {
            self.rep.on(v, Error::Quoted { key });
            return;
        }
        self.value(u, st, opt, key, v);
    }

    fn value(
        &mut self,
        u: &mut Unit<'a>,
        st: &mut UnitState<'a>,
        opt: Opt,
        key: &'a str,
        v: &'a str,
    ) {
        match opt {
            Opt::After | Opt::Needs => self.deps(st, key, v),
            Opt::Restart => match v {
                "always" => u.restart = Restart::Always,
                "on-failure" => u.restart = Restart::OnFailure,
                "never" => u.restart = Restart::Never,
                _ => {
                    let words = ["always", "on-failure", "never"];
                    let hint = closest_of(v, &words);
                    self.bad(key, v, "expected always, on-failure or never", hint);
                }
            },
            Opt::RestartDelay => self.duration(key, v, &mut u.restart_delay),
            Opt::RestartMax => self.duration(key, v, &mut u.restart_max),
            Opt::ReadyTimeout => self.duration(key, v, &mut u.ready_timeout),
            Opt::StopTimeout => self.duration(key, v, &mut u.stop_timeout),
            Opt::RestartLimit => match value::int_in(v, 1, 65535) {
                Ok(n) => u.restart_limit = n as u16,
                Err(_) => self.bad(key, v, "expected a number from 1 to 65535", Hint::None),
            },
            Opt::Ready => self.ready(u, key, v),
            Opt::StopSignal => self.signal(key, v, &mut u.stop_signal),
            Opt::ReloadSignal => self.signal(key, v, &mut u.reload_signal),
            Opt::If => self.cond(st, key, v),
            Opt::User | Opt::Group => {
                if id_ok(v) {
                    let id = Some(Id::of(v));
                    if opt == Opt::User {
                        u.user = id;
                    } else {
                        u.group = id;
                    }
                } else {
                    self.bad(key, v, "expected a name (A-Z a-z 0-9 _ . - $) or a number", Hint::None);
                }
            }
            Opt::Groups => self.groups(key, v),
            Opt::Dir => {
                if Word(v).bytes().next() == Some(b'/') {
                    u.dir = Some(Word(v));
                } else {
                    self.bad(key, v, "expected an absolute path", Hint::None);
                }
            }
            Opt::Umask => match value::umask(v) {
                Some(m) => u.umask = Some(m),
                None => self.bad(key, v, "expected an octal mode from 0 to 0777", Hint::None),
            },
            Opt::Env => self.unit_env(st, key, v),
            Opt::NoNewPrivs => self.yes_no(key, v, &mut u.no_new_privs),
            Opt::Isolate => self.yes_no(key, v, &mut u.isolate),
            Opt::Log => match v {
                "kmsg" => u.log = Log::Kmsg,
                "console" => u.log = Log::Console,
                "null" => u.log = Log::Null,
                "inherit" => u.log = Log::Inherit,
                _ => {
                    let words = ["kmsg", "console", "null", "inherit"];
                    let hint = closest_of(v, &words);
                    self.bad(key, v, "expected kmsg, console, null or inherit", hint);
                }
            },
            Opt::Tty => {
                if Word(v).bytes().next() == Some(b'/') {
                    u.tty = Some(Word(v));
                } else {
                    let hint = match Word(v).plain() {
                        Some(p) if !value::has(p, b'/') => Hint::Dev(p),
                        _ => Hint::None,
                    };
                    self.bad(key, v, "expected a device path like /dev/ttyS0", hint);
                }
            }
            Opt::Cpus => u.cpus = self.list(key, v, "CPU"),
            Opt::Cpuset => u.cpuset = self.list(key, v, "CPU"),
            Opt::Mems => u.mems = self.list(key, v, "node"),
            Opt::Numa => self.numa(u, key, v),
            Opt::MemMax => u.mem_max = self.size(key, v),
            Opt::MemHigh => u.mem_high = self.size(key, v),
            Opt::MemLow => u.mem_low = self.size(key, v),
            Opt::SwapMax => u.swap_max = self.size(key, v),
            Opt::PidsMax => match (v, value::uint(v)) {
                ("max", _) => u.pids_max = Limit::MAX,
                (_, Some(n)) if n <= u64::from(u32::MAX) => u.pids_max = Limit::of(n),
                _ => self.bad(key, v, "expected a number up to 4294967295 or max", Hint::None),
            },
            Opt::CpuWeight => u.cpu_weight = self.weight(key, v),
            Opt::IoWeight => u.io_weight = self.weight(key, v),
            Opt::CpuMax => match cpu_max(v) {
                Some(m) => u.cpu_max = Some(m),
                None => self.bad(
                    key,
                    v,
                    "expected N% (1 to 102400), QUOTA/PERIOD in microseconds (QUOTA at least 1000 or max, PERIOD 1000 to 1000000) or max",
                    Hint::None,
                ),
            },
            Opt::Nice => match value::int_in(v, -20, 19) {
                Ok(n) => u.nice = Some(n as i8),
                Err(_) => self.bad(key, v, "expected a number from -20 to 19", Hint::None),
            },
            Opt::Sched => match sched(v) {
                Some(s) => u.sched = Some(s),
                None => {
                    let words = ["other", "batch", "idle", "fifo", "rr"];
                    let word = value::head(v, b':');
                    let hint = match closest_of(word, &words) {
                        Hint::Word(w) if w != word => Hint::Word(w),
                        _ => Hint::None,
                    };
                    self.bad(key, v, "expected other, batch, idle, fifo:1-99 or rr:1-99", hint);
                }
            },
            Opt::IoPrio => match ioprio(v) {
                Some(p) => u.ioprio = Some(p),
                None => {
                    let words = ["rt", "be", "idle"];
                    let word = value::head(v, b':');
                    let hint = match closest_of(word, &words) {
                        Hint::Word(w) if w != word => Hint::Word(w),
                        _ => Hint::None,
                    };
                    self.bad(key, v, "expected rt:0-7, be:0-7 or idle", hint);
                }
            },
            Opt::OomScore => match value::int_in(v, -1000, 1000) {
                Ok(n) => u.oom_score = Some(n as i16),
                Err(_) => self.bad(key, v, "expected a number from -1000 to 1000", Hint::None),
            },
            Opt::Rlimit => match rlim_pair(v) {
                Ok((soft, hard)) if soft > hard => self.rep.on(
                    v,
                    Error::Conflict {
                        opt: key,
                        msg: "has a soft limit above its hard limit",
                    },
                ),
                Ok(_) => {}
                Err(_) => self.bad(
                    key,
                    v,
                    "expected SOFT[:HARD], each a number (K, M, G, T allowed), infinity or unlimited",
                    Hint::None,
                ),
            },
        }
    }

    fn duration(&mut self, key: &'a str, v: &'a str, out: &mut value::Ms) {
        match value::duration(v) {
            Ok(d) => *out = d,
            Err(Bad::Syntax) => self.bad(
                key,
                v,
                "expected a duration like 250ms, 5s, 2m or 1h (a bare number is seconds)",
                Hint::None,
            ),
            Err(Bad::Range) => self.bad(key, v, "longer than the limit of 1193h", Hint::None),
        }
    }

    fn signal(&mut self, key: &'a str, v: &'a str, out: &mut u8) {
        match value::signal(v) {
            Some(s) => *out = s,
            None => {
                let name = match v.get(..3) {
                    Some(p) if p.eq_ignore_ascii_case("SIG") => v.get(3..).unwrap_or(v),
                    _ => v,
                };
                let hint = closest_of(name, value::signal_names());
                self.bad(
                    key,
                    v,
                    "expected a signal name like TERM or a number from 1 to 64",
                    hint,
                );
            }
        }
    }

    fn yes_no(&mut self, key: &'a str, v: &'a str, out: &mut bool) {
        match value::yes_no(v) {
            Some(b) => *out = b,
            None => self.bad(key, v, "expected yes or no", Hint::None),
        }
    }

    fn weight(&mut self, key: &'a str, v: &'a str) -> Option<u16> {
        match value::int_in(v, 1, 10000) {
            Ok(n) => Some(n as u16),
            Err(_) => {
                self.bad(key, v, "expected a number from 1 to 10000", Hint::None);
                None
            }
        }
    }

    fn size(&mut self, key: &'a str, v: &'a str) -> Limit {
        if v == "max" {
            return Limit::MAX;
        }
        match value::size(v) {
            Ok(n) => Limit::of(n),
            Err(Bad::Syntax) => {
                self.bad(
                    key,
                    v,
                    "expected a size like 4096, 512K, 64M, 1G or max",
                    Hint::None,
                );
                Limit::UNSET
            }
            Err(Bad::Range) => {
                self.bad(key, v, "larger than the limit of 1048576T", Hint::None);
                Limit::UNSET
            }
        }
    }

    fn list(&mut self, key: &'a str, v: &'a str, what: &'static str) -> Option<CpuList<'a>> {
        match cpu_list(v, what) {
            Ok(l) => Some(l),
            Err((at, expect)) => {
                let item = v.get(at..).unwrap_or(v);
                let value = value::head(item, b',');
                self.rep.on(
                    item,
                    Error::BadValue {
                        key,
                        value,
                        expect,
                        hint: Hint::None,
                    },
                );
                None
            }
        }
    }

    fn ready(&mut self, u: &mut Unit<'a>, key: &'a str, v: &'a str) {
        match v {
            "none" => u.ready = Ready::None,
            "notify" => u.ready = Ready::Notify,
            _ => match v.strip_prefix("fd:").map(|n| value::int_in(n, 3, 1023)) {
                Some(Ok(n)) => u.ready = Ready::Fd(n as u16),
                Some(Err(_)) => self.bad(key, v, "expected fd:N with N from 3 to 1023", Hint::None),
                None => {
                    let words = ["none", "notify"];
                    let hint = closest_of(v, &words);
                    self.bad(key, v, "expected none, notify or fd:N", hint);
                }
            },
        }
    }

    fn numa(&mut self, u: &mut Unit<'a>, key: &'a str, v: &'a str) {
        const EXPECT: &str = "expected bind:NODES, preferred:NODE, interleave:NODES or local";
        let (mode, arg) = value::cut(v, b':').unwrap_or((v, ""));
        match (mode, arg) {
            ("local", "") => u.numa = Some(Numa::Local),
            ("bind" | "interleave", nodes) if !nodes.is_empty() => {
                if let Some(l) = self.list(key, nodes, "node") {
                    u.numa = Some(if mode == "bind" {
                        Numa::Bind(l)
                    } else {
                        Numa::Interleave(l)
                    });
                }
            }
            ("preferred", node) if !node.is_empty() => match value::uint(node) {
                Some(n) if n < CPUS_MAX as u64 => u.numa = Some(Numa::Preferred(n as u32)),
                _ => self.bad(key, node, "expected one node number below 1024", Hint::None),
            },
            _ => {
                let words = ["bind", "preferred", "interleave", "local"];
                let hint = match closest_of(mode, &words) {
                    Hint::Word(w) if w != mode => Hint::Word(w),
                    _ => Hint::None,
                };
                self.bad(key, v, EXPECT, hint);
            }
        }
    }

    fn cond(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        match Cond::of(v) {
            Some(c) if c.test == Test::Path && c.arg.bytes().next() != Some(b'/') => self.bad(
                key,
                v,
                "expected an absolute path after 'path:'",
                Hint::None,
            ),
            Some(c) if c.arg.is_empty() => {
                self.bad(key, v, "expected a word after 'cmdline:'", Hint::None)
            }
            Some(_) => {
                st.conds += 1;
                if st.conds == CONDS_MAX + 1 {
                    self.rep.on(
                        key,
                        Error::TooMany {
                            what: "if= conditions",
                            limit: CONDS_MAX,
                        },
                    );
                }
            }
            None => self.bad(
                key,
                v,
                "expected path:P, !path:P, cmdline:WORD or !cmdline:WORD",
                Hint::None,
            ),
        }
    }

    fn unit_env(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        if !env_ok(v) {
            self.bad(key, v, ENV_EXPECT, Hint::None);
            return;
        }
        if st.env.iter().any(|e| same_key(e, v)) {
            self.rep.on(
                v,
                Error::ListedTwice {
                    key,
                    item: key_of(v),
                },
            );
            return;
        }
        if st.env.push(v).is_err() {
            self.rep.on(
                key,
                Error::TooMany {
                    what: "env= entries",
                    limit: UNIT_ENV_MAX,
                },
            );
        }
    }

    fn deps(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        let mut prev: Vec<&str, DEPS_MAX> = Vec::new();
        for item in value::items(v) {
            if !is_unit_name(item) {
                self.rep.on(
                    item,
                    Error::BadEntry {
                        key,
                        item,
                        expect: NAME_EXPECT,
                    },
                );
                continue;
            }
            if prev.contains(&item) {
                self.rep.on(item, Error::ListedTwice { key, item });
                continue;
            }
            st.deps += 1;
            if st.deps == DEPS_MAX + 1 {
                self.rep.on(
                    item,
                    Error::TooMany {
                        what: "units in after= and needs=",
                        limit: DEPS_MAX,
                    },
                );
            }
            let _ = prev.push(item);
        }
    }

    fn groups(&mut self, key: &'a str, v: &'a str) {
        let mut n = 0;
        for (i, item) in value::items(v).enumerate() {
            if !id_ok(item) {
                let expect = "expected a group name or number";
                self.rep.on(item, Error::BadEntry { key, item, expect });
                continue;
            }
            if value::items(v).take(i).any(|p| p == item) {
                self.rep.on(item, Error::ListedTwice { key, item });
                continue;
            }
            n += 1;
            if n == GROUPS_MAX + 1 {
                self.rep.on(
                    item,
                    Error::TooMany {
                        what: "groups",
                        limit: GROUPS_MAX,
                    },
                );
            }
        }
    }
}

/// A user or group: a name, or a number below 2^32-1 (-1 means "no
/// change" to setuid).
fn id_ok(s: &str) -> bool {
    match value::uint(s) {
        Some(n) => n < u64::from(u32::MAX),
        None => !s.bytes().all(|b| b.is_ascii_digit()) && value::is_user(s),
    }
}

const ENV_EXPECT: &str = "expected KEY=VALUE, KEY of A-Z a-z 0-9 _ and not starting with a digit";

/// `KEY=VALUE` with a valid KEY (decoded: quotes may be anywhere).
fn env_ok(raw: &str) -> bool {
    let mut key: Vec<u8, 64> = Vec::new();
    for b in Word(raw).bytes() {
        if b == b'=' {
            return value::is_env_key(&key);
        }
        if key.push(b).is_err() {
            return value::is_env_key(&key) && Word(raw).bytes().any(|b| b == b'=');
        }
    }
    false
}

/// True if two env entries set the same KEY.
fn same_key(a: &str, b: &str) -> bool {
    let ka = Word(a).bytes().take_while(|&c| c != b'=');
    let kb = Word(b).bytes().take_while(|&c| c != b'=');
    ka.eq(kb)
}

/// The KEY of an env entry as written, for messages.
fn key_of(raw: &str) -> &str {
    value::head(raw, b'=')
}

/// Checks a CPU or node list: the list, or (offset, what is wrong).
fn cpu_list<'a>(v: &'a str, what: &str) -> Result<CpuList<'a>, (usize, &'static str)> {
    match value::list(v) {
        Ok(_) => Ok(CpuList(v)),
        Err((at, ListError::Syntax)) => Err((at, "expected a list like 0-3,6,8-9")),
        Err((at, ListError::TooBig(_))) if what == "node" => {
            Err((at, "node numbers must be below 1024"))
        }
        Err((at, ListError::TooBig(_))) => Err((at, "CPU numbers must be below 1024")),
        Err((at, ListError::Backwards)) => Err((at, "a range must go from low to high")),
    }
}

/// The flags of a mount's OPTIONS; or (the bad item, why).
fn mount_options(options: &str) -> Result<u32, (&str, &'static str)> {
    const FSTAB: [&str; 10] = [
        "auto", "noauto", "nofail", "user", "users", "nouser", "owner", "group", "_netdev",
        "comment",
    ];
    if value::has(options, b'"') {
        return Err((options, "quotes are not allowed in mount options"));
    }
    let mut flags = 0u32;
    for item in value::items(options) {
        if item.is_empty() {
            return Err(("", "empty entry in the comma list"));
        }
        let word = value::head(item, b'=');
        if FSTAB.contains(&word) || word.starts_with("x-") {
            return Err((item, "it is for mount(8) and fstab, not for the kernel"));
        }
        if let Some((bits, set)) = mount_flag(item) {
            if set {
                flags |= bits;
            } else {
                flags &= !bits;
            }
        }
    }
    Ok(flags)
}

/// `N%`, `QUOTA/PERIOD`, `max/PERIOD` or `max`.
fn cpu_max(v: &str) -> Option<CpuMax> {
    const PERIOD: u32 = 100_000;
    if v == "max" {
        return Some(CpuMax {
            quota_us: 0,
            period_us: PERIOD,
            percent: 0,
        });
    }
    if let Some(p) = v.strip_suffix('%') {
        let p = value::uint(p).filter(|p| (1..=102_400).contains(p))? as u32;
        return Some(CpuMax {
            quota_us: p * (PERIOD / 100),
            period_us: PERIOD,
            percent: p,
        });
    }
    let (q, p) = value::cut(v, b'/')?;
    let period = value::uint(p).filter(|p| (1000..=1_000_000).contains(p))? as u32;
    let quota = match q {
        "max" => 0,
        q => value::uint(q).filter(|q| (1000..=u64::from(u32::MAX)).contains(q))? as u32,
    };
    Some(CpuMax {
        quota_us: quota,
        period_us: period,
        percent: 0,
    })
}

fn sched(v: &str) -> Option<Sched> {
    let prio = |p: &str| {
        value::uint(p)
            .filter(|p| (1..=99).contains(p))
            .map(|p| p as u8)
    };
    match value::cut(v, b':') {
        None => match v {
            "other" => Some(Sched::Other),
            "batch" => Some(Sched::Batch),
            "idle" => Some(Sched::Idle),
            _ => None,
        },
        Some(("fifo", p)) => prio(p).map(Sched::Fifo),
        Some(("rr", p)) => prio(p).map(Sched::Rr),
        Some(_) => None,
    }
}

fn ioprio(v: &str) -> Option<IoPrio> {
    let level = |p: &str| value::uint(p).filter(|p| *p <= 7).map(|p| p as u8);
    match value::cut(v, b':') {
        None if v == "idle" => Some(IoPrio::Idle),
        None => None,
        Some(("rt", p)) => level(p).map(IoPrio::Rt),
        Some(("be", p)) => level(p).map(IoPrio::Be),
        Some(_) => None,
    }
}
