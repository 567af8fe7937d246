//! The parser: statements (docs/config.md, "Statements") and unit
//! options ("Unit options", declared in options.rs) into a `Table`. Each
//! statement is lexed twice: once to check it and measure it, then to
//! read it; a lexical error skips the statement, every other error is
//! reported and parsing goes on, so one pass reports them all.

use super::capacity::*;
use super::check;
use super::diag::{closest, closest_of, Diag, Hint, ParseError, Report};
use super::lex::{self, same_key, Lexer, Tokens, Word};
use super::listen::{self, Listen};
use super::model::*;
use super::options::{self, Opt, Seen, Spec, Ty, COUNT};
use super::typed::{cpu_list, typed, Bad, Val, DUR_EXPECT};
use super::value::{self, is_unit_name, CpuList};
use heapless::Vec;

/// The statements, for hints.
pub const STATEMENTS: [&str; 13] = [
    "hostname",
    "mount",
    "fstab",
    "sysctl",
    "env",
    "log",
    "accounting",
    "irq-affinity",
    "watchdog",
    "random-seed",
    "service",
    "task",
    "tty",
];

/// Reads `text` into `table` (cleared first) and checks it; reports
/// every problem through `diag`, up to ERRORS_MAX. Returns the number of
/// errors: the table is usable only when it is 0.
pub fn parse<'a>(
    file: &str,
    text: &'a [u8],
    table: &mut Table<'a>,
    diag: &mut dyn FnMut(&Diag<'_>),
) -> usize {
    table.clear();
    let mut rep = Report::new(file, text, diag);
    if text.len() > FILE_MAX {
        rep.at(0, ParseError::FileTooBig);
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
        "hostname" => "hostname NAME, or hostname FILE [NAME]",
        "mount" => "mount SOURCE TARGET FSTYPE [OPTIONS]",
        "fstab" => "fstab [FILE]",
        "log" => "log DESTINATION, one of kmsg syslog console null inherit",
        "accounting" => "accounting WHAT: none, or a comma list of memory and pids",
        "random-seed" => "random-seed FILE",
        "sysctl" => "sysctl KEY VALUE, a VALUE with spaces in quotes",
        "env" => "env KEY=VALUE",
        "irq-affinity" => "irq-affinity CPULIST",
        "watchdog" => "watchdog DEVICE [timeout=DURATION] [shutdown-timeout=DURATION] [wait=DURATION] [magic-close=yes|no]",
        "service" => "service NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]",
        "task" => "task NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]",
        _ => "tty NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]",
    }
}

fn kind_of(kw: &str) -> Option<UnitKind> {
    match kw {
        "service" => Some(UnitKind::Service),
        "task" => Some(UnitKind::Task),
        "tty" => Some(UnitKind::Tty),
        _ => None,
    }
}

const NAME_EXPECT: &str = "expected 1 to 31 of A-Z a-z 0-9 _ . - (not . or ..)";

/// The state of the unit being parsed.
struct UnitState<'a> {
    seen: Seen<'a>,
    env: Vec<&'a str, UNIT_ENV_MAX>,
    run_dirs: Vec<&'a str, RUN_DIRS_MAX>,
    env_files: usize,
    conds: usize,
    deps: usize,
    rlimits: u16,
    listens: usize,
}

impl<'r, 'a> Parser<'r, 'a> {
    fn end_of(&self, tok: &str) -> usize {
        self.rep.offset(tok).unwrap_or(0) + tok.len()
    }

    /// One statement from `pos`; returns where the next one starts.
    #[inline(never)]
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
                    self.rep.at(at, ParseError::Lex(e));
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
            self.rep.at(start, ParseError::TooLong(len));
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
            "fstab" => self.fstab(kw, toks, table),
            "sysctl" => self.sysctl(kw, toks, table),
            "env" => self.env(kw, toks, table),
            "log" => self.log(kw, toks, table),
            "accounting" => self.accounting(kw, toks, table),
            "irq-affinity" => self.irq_affinity(kw, toks, table),
            "watchdog" => self.watchdog(kw, toks, table),
            "random-seed" => self.random_seed(kw, toks, table),
            _ => match kind_of(kw) {
                Some(kind) => self.unit(kw, kind, toks, table),
                None => {
                    let stray = value::has(kw, b'=') || kw == "--";
                    let hint = closest_of(kw, &STATEMENTS);
                    self.rep.on(
                        kw,
                        ParseError::UnknownStatement {
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
    #[inline(never)]
    fn words(
        &mut self,
        kw: &'a str,
        mut toks: Tokens<'a>,
        what: &[&'static str],
        max: usize,
    ) -> Option<([&'a str; 4], usize)> {
        let mut w = [""; 4];
        let mut n = 0;
        let mut last = kw;
        for t in toks.by_ref() {
            if n == max {
                self.rep.on(
                    t,
                    ParseError::Extra {
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
                ParseError::Missing {
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
                ParseError::TooMany {
                    what: "system statements",
                    limit: SETUP_MAX,
                },
            );
        }
    }

    #[inline(never)]
    fn hostname(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([first, fallback, ..], n)) = self.words(kw, toks, &["NAME"], 2) else {
            return;
        };
        let file = Word(first).bytes().next() == Some(b'/');
        if !file && n == 2 {
            let usage = usage(kw);
            self.rep.on(
                fallback,
                ParseError::Extra {
                    word: fallback,
                    usage,
                },
            );
            return;
        }
        let name = if file { fallback } else { first };
        if (!file || n == 2) && !hostname_ok(name) {
            self.rep.on(
                name,
                ParseError::Invalid {
                    what: "hostname",
                    value: name,
                    expect: "expected 1 to 64 of A-Z a-z 0-9 - . (not first: - .)",
                },
            );
            return;
        }
        let prev = table.setup.iter().find_map(|s| match s {
            Setup::Hostname(h) => Some(*h),
            Setup::HostnameFile(f, _) => Some(f.raw()),
            _ => None,
        });
        if let Some(prev) = prev {
            let line = self.rep.line_of(prev);
            self.rep.on(
                kw,
                ParseError::Twice {
                    what: "hostname",
                    name: "",
                    line,
                },
            );
            return;
        }
        let s = if file {
            Setup::HostnameFile(Word(first), (n == 2).then_some(fallback))
        } else {
            Setup::Hostname(name)
        };
        self.setup(kw, s, table);
    }

    /// A path statement's FILE: absolute, else an error naming `what`.
    fn path(&mut self, what: &'static str, file: &'a str) -> Option<Word<'a>> {
        if Word(file).bytes().next() == Some(b'/') {
            return Some(Word(file));
        }
        self.rep.on(
            file,
            ParseError::Invalid {
                what,
                value: file,
                expect: "expected an absolute path",
            },
        );
        None
    }

    #[inline(never)]
    fn fstab(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([file, ..], n)) = self.words(kw, toks, &[], 1) else {
            return;
        };
        let file = match n {
            0 => FSTAB,
            _ => match self.path("fstab file", file) {
                Some(w) => w,
                None => return,
            },
        };
        let prev = table.setup.iter().find_map(|s| match s {
            Setup::Fstab(f) if f.file.bytes().eq(file.bytes()) => Some(f.kw),
            _ => None,
        });
        if let Some(prev) = prev {
            let line = self.rep.line_of(prev);
            let name = file.raw();
            self.rep.on(
                kw,
                ParseError::Twice {
                    what: "fstab",
                    name,
                    line,
                },
            );
            return;
        }
        self.setup(kw, Setup::Fstab(Fstab { file, kw }), table);
    }

    #[inline(never)]
    fn random_seed(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([file, ..], _)) = self.words(kw, toks, &["FILE"], 1) else {
            return;
        };
        let Some(file) = self.path("random seed file", file) else {
            return;
        };
        let prev = table.setup.iter().find_map(|s| match s {
            Setup::RandomSeed(f) => Some(f.raw()),
            _ => None,
        });
        if let Some(prev) = prev {
            let line = self.rep.line_of(prev);
            let e = ParseError::Twice {
                what: "random-seed",
                name: "",
                line,
            };
            self.rep.on(kw, e);
            return;
        }
        self.setup(kw, Setup::RandomSeed(file), table);
    }

    #[inline(never)]
    fn log(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([mode, ..], _)) = self.words(kw, toks, &["DESTINATION"], 1) else {
            return;
        };
        let Some(spec) = options::find("log") else {
            return;
        };
        match typed(spec.value, mode) {
            Ok(Val::Idx(i)) => {
                if let Some(prev) = table.log_word {
                    let line = self.rep.line_of(prev);
                    let e = ParseError::Twice {
                        what: "log",
                        name: "",
                        line,
                    };
                    self.rep.on(kw, e);
                    return;
                }
                table.log_word = Log::ALL.get(i).map(|_| mode);
            }
            Ok(_) => {}
            Err(Bad { at, expect, .. }) => self.rep.on(
                at,
                ParseError::Invalid {
                    what: "log destination",
                    value: at,
                    expect,
                },
            ),
        }
    }

    #[inline(never)]
    fn accounting(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([what, ..], _)) = self.words(kw, toks, &["WHAT"], 1) else {
            return;
        };
        if Accounting::parse(what).is_none() {
            self.rep.on(
                what,
                ParseError::Invalid {
                    what: "accounting",
                    value: what,
                    expect: "expected none, or a comma list of memory and pids, each at most once",
                },
            );
            return;
        }
        if let Some(prev) = table.accounting_word {
            let line = self.rep.line_of(prev);
            let e = ParseError::Twice {
                what: "accounting",
                name: "",
                line,
            };
            self.rep.on(kw, e);
            return;
        }
        table.accounting_word = Some(what);
    }

    #[inline(never)]
    fn mount(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let what = ["SOURCE", "TARGET", "FSTYPE"];
        let Some(([source, target, fstype, options], _)) = self.words(kw, toks, &what, 4) else {
            return;
        };
        let mut ok = true;
        if Word(source).is_empty() {
            self.rep.on(
                source,
                ParseError::Invalid {
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
                ParseError::Invalid {
                    what: "mount target",
                    value: target,
                    expect: "expected an absolute path",
                },
            );
            ok = false;
        }
        for (what, w) in [("mount source", source), ("mount target", target)] {
            ok &= self.fits(what, w, Word(w).bytes().count(), PATH_MAX);
        }
        let fs_ok = fstype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !fs_ok {
            self.rep.on(
                fstype,
                ParseError::Invalid {
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
                        ParseError::Invalid {
                            what: "mount option",
                            value,
                            expect,
                        },
                    );
                    ok = false;
                }
            }
        }
        let m = Mount {
            source: Word(source),
            target: Word(target),
            fstype,
            options,
            flags,
        };
        if ok && self.fits("mount data options", options, m.data_len(), MOUNT_DATA_MAX) {
            self.setup(kw, Setup::Mount(m), table);
        }
    }

    #[inline(never)]
    fn sysctl(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([key, value, ..], _)) = self.words(kw, toks, &["KEY", "VALUE"], 2) else {
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
                ParseError::Invalid {
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
                ParseError::Twice {
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
        let path = self.fits(
            "sysctl key (as a /proc/sys path)",
            key,
            s.path_bytes().count(),
            SYSCTL_MAX,
        );
        if self.fits("sysctl value", value, s.value.bytes().count(), SYSCTL_MAX) && path {
            self.setup(kw, Setup::Sysctl(s), table);
        }
    }

    #[inline(never)]
    fn env(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([entry, ..], _)) = self.words(kw, toks, &["KEY=VALUE"], 1) else {
            return;
        };
        if !env_ok(entry) {
            self.rep.on(
                entry,
                ParseError::Invalid {
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
                ParseError::Twice {
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
                ParseError::TooMany {
                    what: "env statements",
                    limit: ENV_MAX,
                },
            );
        }
    }

    #[inline(never)]
    fn irq_affinity(&mut self, kw: &'a str, toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(([cpus, ..], _)) = self.words(kw, toks, &["CPULIST"], 1) else {
            return;
        };
        if let Err((at, expect)) = cpu_list(cpus, "CPU") {
            let item = cpus.get(at..).unwrap_or(cpus);
            self.rep.on(
                item,
                ParseError::Invalid {
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
                ParseError::Twice {
                    what: "irq-affinity",
                    name: "",
                    line,
                },
            );
            return;
        }
        self.setup(kw, Setup::IrqAffinity(CpuList(cpus)), table);
    }

    /// `watchdog DEVICE [KEY=VALUE ...]`: at most once.
    #[inline(never)]
    fn watchdog(&mut self, kw: &'a str, mut toks: Tokens<'a>, table: &mut Table<'a>) {
        let Some(device) = toks.next() else {
            let at = self.end_of(kw);
            let usage = usage(kw);
            self.rep.at(
                at,
                ParseError::Missing {
                    what: "DEVICE",
                    usage,
                },
            );
            return;
        };
        let mut ok = Word(device).bytes().next() == Some(b'/');
        if !ok {
            let e = ParseError::Invalid {
                what: "watchdog device",
                value: device,
                expect: "expected a device path like /dev/watchdog0",
            };
            self.rep.on(device, e);
        } else if Word(device).bytes().count() > WATCHDOG_DEVICE_MAX {
            ok = false;
            let e = ParseError::Invalid {
                what: "watchdog device",
                value: device,
                expect: "expected a device path of at most 63 bytes",
            };
            self.rep.on(device, e);
        }
        let mut w = Watchdog {
            device: Word(device),
            timeout: WATCHDOG_TIMEOUT,
            shutdown_timeout: WATCHDOG_SHUTDOWN,
            wait: WATCHDOG_WAIT,
            magic_close: false,
        };
        let mut seen = [false; WATCHDOG_KEYS.len()];
        for tok in toks {
            ok &= self.watchdog_option(kw, tok, &mut w, &mut seen);
        }
        if let Some(prev) = table.watchdog() {
            let line = self.rep.line_of(prev.device.raw());
            let e = ParseError::Twice {
                what: "watchdog",
                name: "",
                line,
            };
            self.rep.on(kw, e);
        } else if ok {
            table.set_watchdog(w);
        }
    }

    /// One `KEY=VALUE` of a `watchdog` statement; false if it is wrong.
    fn watchdog_option(
        &mut self,
        kw: &'a str,
        tok: &'a str,
        w: &mut Watchdog<'a>,
        seen: &mut [bool; WATCHDOG_KEYS.len()],
    ) -> bool {
        let Some((key, v)) = lex::split_key(tok) else {
            let usage = usage(kw);
            self.rep.on(tok, ParseError::Extra { word: tok, usage });
            return false;
        };
        let Some(once) = WATCHDOG_KEYS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| seen.get_mut(i))
        else {
            let hint = closest_of(key, &WATCHDOG_KEYS);
            self.rep.on(key, ParseError::UnknownOption { key, hint });
            return false;
        };
        if *once {
            self.rep.on(key, ParseError::OptionTwice { key });
        } else if v.is_empty() {
            self.rep.on(tok, ParseError::Empty { key });
        } else if value::has(v, b'"') {
            self.rep.on(v, ParseError::Quoted { key });
        } else {
            *once = true;
            match watchdog_value(key, v, w) {
                Ok(()) => return true,
                Err(expect) => self.bad(key, v, expect, Hint::None),
            }
        }
        false
    }

    /// `service|task|tty NAME [KEY=VALUE ...] -- PROGRAM [ARG ...]`
    #[inline(never)]
    fn unit(&mut self, kw: &'a str, kind: UnitKind, mut toks: Tokens<'a>, table: &mut Table<'a>) {
        let name = match toks.next() {
            Some(n) if n != "--" => n,
            _ => {
                let at = self.end_of(kw);
                self.rep.at(
                    at,
                    ParseError::Missing {
                        what: "NAME",
                        usage: usage(kw),
                    },
                );
                return;
            }
        };
        let mut register = true;
        if !is_unit_name(name) {
            let e = ParseError::Invalid {
                what: "unit name",
                value: name,
                expect: NAME_EXPECT,
            };
            self.rep.on(name, e);
            register = false;
        } else if let Some(prev) = table.find(name).and_then(|i| table.units.get(i)) {
            let line = self.rep.line_of(prev.name);
            self.rep.on(name, ParseError::DuplicateUnit { name, line });
            register = false;
        }
        let mut u = Unit::new(name, kind);
        let mut st = UnitState {
            seen: [None; COUNT],
            env: Vec::new(),
            run_dirs: Vec::new(),
            env_files: 0,
            conds: 0,
            deps: 0,
            rlimits: 0,
            listens: 0,
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
        u.note_lists();
        check::unit_rules(&mut self.rep, &u, &st.seen);
        match dashes {
            None => {
                let at = self.end_of(last);
                self.rep.at(at, ParseError::NoDashDash { usage: usage(kw) });
            }
            Some(dashes) => self.args(&mut u, dashes, toks),
        }
        if register && table.units.push(u).is_err() {
            self.rep.on(
                kw,
                ParseError::TooMany {
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

    #[inline(never)]
    fn args(&mut self, u: &mut Unit<'a>, dashes: &'a str, toks: Tokens<'a>) {
        let (mut first, mut last) = (None, None);
        let mut n = 0usize;
        for t in toks {
            n += 1;
            if n == ARGS_MAX + 1 {
                self.rep.on(
                    t,
                    ParseError::TooMany {
                        what: "arguments",
                        limit: ARGS_MAX,
                    },
                );
            }
            first.get_or_insert(t);
            last = Some(t);
        }
        let Some(program) = first else {
            self.rep.on(dashes, ParseError::NoProgram);
            return;
        };
        if Word(program).bytes().next() != Some(b'/') {
            self.rep.on(
                program,
                ParseError::Invalid {
                    what: "program",
                    value: program,
                    expect: "expected an absolute path (pinit runs it with execve, no PATH search)",
                },
            );
        }
        u.args = self.span(first, last);
        u.argc = u8::try_from(n.min(ARGS_MAX)).unwrap_or(u8::MAX);
    }

    /// False (and an error on `value`) if `len`, the decoded length of
    /// `value`, is over `limit`: PID 1 decodes it into a buffer that size.
    fn fits(&mut self, what: &'a str, value: &'a str, len: usize, limit: usize) -> bool {
        if len > limit {
            let e = ParseError::Longer {
                what,
                value,
                len,
                limit,
            };
            self.rep.on(value, e);
        }
        len <= limit
    }

    fn bad(&mut self, key: &'a str, value: &'a str, expect: &'static str, hint: Hint<'a>) {
        self.rep.on(
            value,
            ParseError::BadValue {
                key,
                value,
                expect,
                hint,
            },
        );
    }

    #[inline(never)]
    fn option(&mut self, u: &mut Unit<'a>, st: &mut UnitState<'a>, tok: &'a str) {
        let Some((key, v)) = lex::split_key(tok) else {
            if options::keys().any(|k| k == tok) {
                self.rep.on(tok, ParseError::NeedsValue { key: tok });
            } else {
                let program = tok.starts_with('/');
                self.rep
                    .on(tok, ParseError::NotOption { word: tok, program });
            }
            return;
        };
        let Some(spec) = options::find(key) else {
            let hint = closest(key, &mut options::keys());
            self.rep.on(key, ParseError::UnknownOption { key, hint });
            return;
        };
        if let Ty::Rlimit = spec.value {
            let i = RLIMIT_KEYS.iter().position(|k| *k == key).unwrap_or(0);
            let bit = 1u16 << i;
            if st.rlimits & bit != 0 {
                self.rep.on(key, ParseError::OptionTwice { key });
                return;
            }
            st.rlimits |= bit;
        }
        if let Some((_, why)) = spec.refuse.iter().find(|(k, _)| *k == u.kind) {
            let kind = u.kind.name();
            self.rep.on(
                tok,
                ParseError::NotForKind {
                    opt: tok,
                    kind,
                    why,
                },
            );
            return;
        }
        match st.seen.get_mut(spec.opt as usize) {
            Some(s) if s.is_some() && !spec.repeats => {
                self.rep.on(key, ParseError::OptionTwice { key });
                return;
            }
            Some(s) => *s = Some(tok),
            None => {}
        }
        if v.is_empty() {
            self.rep.on(tok, ParseError::Empty { key });
            return;
        }
        if !spec.value.quoted() && value::has(v, b'"') {
            self.rep.on(v, ParseError::Quoted { key });
            return;
        }
        self.value(u, st, spec, key, v);
    }

    #[inline(never)]
    fn value(
        &mut self,
        u: &mut Unit<'a>,
        st: &mut UnitState<'a>,
        spec: &Spec,
        key: &'a str,
        v: &'a str,
    ) {
        let ty = match spec.value {
            Ty::Deps => return self.deps(st, key, v),
            Ty::Cond => return self.cond(st, key, v),
            Ty::Groups => return self.groups(key, v),
            Ty::Env => return self.unit_env(st, key, v),
            Ty::Rlimit => return self.rlimit(key, v),
            Ty::Listen => return self.listen(st, key, v),
            Ty::RunDir => return self.run_dir(st, key, v),
            Ty::EnvFile => return self.env_file(st, key, v),
            Ty::Path | Ty::Tty if !self.fits(key, v, Word(v).bytes().count(), PATH_MAX) => return,
            ty => ty,
        };
        match typed(ty, v) {
            Ok(val) => store(u, spec.opt, val),
            Err(Bad { at, expect, hint }) => self.rep.on(
                at,
                ParseError::BadValue {
                    key,
                    value: at,
                    expect,
                    hint,
                },
            ),
        }
    }

    #[inline(never)]
    fn listen(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        match Listen::parse(v) {
            Ok(_) => {
                st.listens += 1;
                if st.listens == LISTEN_MAX + 1 {
                    self.rep.on(
                        v,
                        ParseError::TooMany {
                            what: "listen= sockets",
                            limit: LISTEN_MAX,
                        },
                    );
                }
            }
            Err(listen::Bad { at, expect, hint }) => self.bad(key, at, expect, hint),
        }
    }

    #[inline(never)]
    fn rlimit(&mut self, key: &'a str, v: &'a str) {
        match rlim_pair(v) {
            Ok((soft, hard)) if soft > hard => {
                let msg = "has a soft limit above its hard limit";
                self.rep.on(v, ParseError::Conflict { opt: key, msg });
            }
            Ok(_) => {}
            Err(_) => {
                let expect = "expected SOFT[:HARD], each a number (K, M, G, T allowed), infinity or unlimited";
                let e = ParseError::BadValue {
                    key,
                    value: v,
                    expect,
                    hint: Hint::None,
                };
                self.rep.on(v, e);
            }
        }
    }

    /// `runtime-dir=NAME[:MODE]`
    #[inline(never)]
    fn run_dir(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        let (name, mode) = value::cut(v, b':').map_or((v, None), |(n, m)| (n, Some(m)));
        if !value::is_run_dir(name) {
            let expect = "expected NAME[:MODE], NAME relative to /run: up to 64 of A-Z a-z 0-9 _ . - and /, no empty, . or .. component";
            return self.bad(key, v, expect, Hint::None);
        }
        if let Some(m) = mode.filter(|m| value::mode(m).is_none()) {
            return self.bad(
                key,
                m,
                "expected an octal MODE from 0 to 7777 (0750)",
                Hint::None,
            );
        }
        if st.run_dirs.contains(&name) {
            return self
                .rep
                .on(name, ParseError::ListedTwice { key, item: name });
        }
        if st.run_dirs.push(name).is_err() {
            let e = ParseError::TooMany {
                what: "runtime-dir= entries",
                limit: RUN_DIRS_MAX,
            };
            self.rep.on(key, e);
        }
    }

    /// `env-file=[-]PATH`
    #[inline(never)]
    fn env_file(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        let path = EnvFile::of(v).path;
        if path.bytes().next() != Some(b'/') {
            let expect = "expected an absolute path, or -PATH for a file that may be missing";
            return self.bad(key, v, expect, Hint::None);
        }
        if !self.fits(key, v, path.bytes().count(), PATH_MAX) {
            return;
        }
        st.env_files += 1;
        if st.env_files == ENV_FILES_MAX + 1 {
            let e = ParseError::TooMany {
                what: "env-file= entries",
                limit: ENV_FILES_MAX,
            };
            self.rep.on(key, e);
        }
    }

    #[inline(never)]
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
            Some(c) if !self.fits(key, c.arg.raw(), c.arg.bytes().count(), PATH_MAX) => {}
            Some(_) => {
                st.conds += 1;
                if st.conds == CONDS_MAX + 1 {
                    self.rep.on(
                        key,
                        ParseError::TooMany {
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

    #[inline(never)]
    fn unit_env(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        if !env_ok(v) {
            self.bad(key, v, ENV_EXPECT, Hint::None);
            return;
        }
        if st.env.iter().any(|e| same_key(e, v)) {
            self.rep.on(
                v,
                ParseError::ListedTwice {
                    key,
                    item: key_of(v),
                },
            );
            return;
        }
        if st.env.push(v).is_err() {
            self.rep.on(
                key,
                ParseError::TooMany {
                    what: "env= entries",
                    limit: UNIT_ENV_MAX,
                },
            );
        }
    }

    #[inline(never)]
    fn deps(&mut self, st: &mut UnitState<'a>, key: &'a str, v: &'a str) {
        let mut prev: Vec<&str, DEPS_MAX> = Vec::new();
        for item in value::items(v) {
            if !is_unit_name(item) {
                self.rep.on(
                    item,
                    ParseError::BadEntry {
                        key,
                        item,
                        expect: NAME_EXPECT,
                    },
                );
                continue;
            }
            if prev.contains(&item) {
                self.rep.on(item, ParseError::ListedTwice { key, item });
                continue;
            }
            st.deps += 1;
            if st.deps == DEPS_MAX + 1 {
                self.rep.on(
                    item,
                    ParseError::TooMany {
                        what: "units in after= and needs=",
                        limit: DEPS_MAX,
                    },
                );
            }
            let _ = prev.push(item);
        }
    }

    #[inline(never)]
    fn groups(&mut self, key: &'a str, v: &'a str) {
        let mut n = 0;
        for (i, item) in value::items(v).enumerate() {
            if !value::is_id(item) {
                let expect = "expected a group name or number";
                self.rep
                    .on(item, ParseError::BadEntry { key, item, expect });
                continue;
            }
            if value::items(v).take(i).any(|p| p == item) {
                self.rep.on(item, ParseError::ListedTwice { key, item });
                continue;
            }
            n += 1;
            if n == GROUPS_MAX + 1 {
                self.rep.on(
                    item,
                    ParseError::TooMany {
                        what: "groups",
                        limit: GROUPS_MAX,
                    },
                );
            }
        }
    }
}

/// The options of the `watchdog` statement.
const WATCHDOG_KEYS: [&str; 4] = ["timeout", "shutdown-timeout", "wait", "magic-close"];
const WATCHDOG_SECS: &str = "expected whole seconds from 1s to 65535s (the driver counts seconds)";

/// Stores one value of the `watchdog` statement, or says what it expects.
fn watchdog_value(key: &str, v: &str, w: &mut Watchdog<'_>) -> Result<(), &'static str> {
    if key == "magic-close" {
        w.magic_close = match v {
            "yes" => true,
            "no" => false,
            _ => return Err("expected yes or no"),
        };
        return Ok(());
    }
    let d = match typed(Ty::Dur, v) {
        Ok(Val::Millis(d)) => d,
        Ok(_) => return Err(DUR_EXPECT),
        Err(b) => return Err(b.expect),
    };
    match key {
        "wait" => w.wait = d,
        _ if d.0 % 1000 != 0 || !(1..=65535).contains(&(d.0 / 1000)) => return Err(WATCHDOG_SECS),
        "timeout" => w.timeout = d,
        _ => w.shutdown_timeout = d,
    }
    Ok(())
}

/// Stores a typed value in its field.
#[inline(never)]
fn store<'a>(u: &mut Unit<'a>, opt: Opt, val: Val<'a>) {
    const RESTART: [Restart; 3] = [Restart::Always, Restart::OnFailure, Restart::Never];
    const START: [Start; 2] = [Start::Boot, Start::OnDemand];
    const ON_FAILURE: [OnFailure; 3] = [OnFailure::None, OnFailure::Reboot, OnFailure::Poweroff];
    const KILL: [Kill; 2] = [Kill::Cgroup, Kill::Main];
    match (opt, val) {
        (Opt::Kill, Val::Idx(i)) => u.kill = KILL.get(i).copied().unwrap_or(u.kill),
        (Opt::RunDirKeep, Val::Idx(i)) => u.runtime_dir_keep = i == 0,
        (Opt::Timeout, Val::Millis(d)) => u.timeout = d,
        (Opt::Pidfile, Val::Word(w)) => u.pidfile = Some(w),
        (Opt::Restart, Val::Idx(i)) => u.restart = RESTART.get(i).copied().unwrap_or(u.restart),
        (Opt::Log, Val::Idx(i)) => u.log = Log::ALL.get(i).copied().unwrap_or(u.log),
        (Opt::NoNewPrivs, Val::Idx(i)) => u.no_new_privs = i == 0,
        (Opt::Isolate, Val::Idx(i)) => u.isolate = i == 0,
        (Opt::Accept, Val::Idx(i)) => u.accept = i == 0,
        (Opt::Start, Val::Idx(i)) => u.start = START.get(i).copied().unwrap_or(u.start),
        (Opt::MaxInstances, Val::Int(n)) => u.max_instances = n as u16,
        (Opt::RestartDelay, Val::Millis(d)) => u.restart_delay = d,
        (Opt::RestartMax, Val::Millis(d)) => u.restart_max = d,
        (Opt::ReadyTimeout, Val::Millis(d)) => u.ready_timeout = d,
        (Opt::Watchdog, Val::Millis(d)) => u.watchdog = d,
        (Opt::OnFailure, Val::Idx(i)) => {
            u.on_failure = ON_FAILURE.get(i).copied().unwrap_or(u.on_failure)
        }
        (Opt::StopTimeout, Val::Millis(d)) => u.stop_timeout = d,
        (Opt::RestartLimit, Val::Int(n)) => u.restart_limit = n as u16,
        (Opt::StopSignal, Val::Int(n)) => u.stop_signal = n as u8,
        (Opt::ReloadSignal, Val::Int(n)) => u.reload_signal = n as u8,
        (Opt::Ready, Val::Ready(r)) => u.ready = r,
        // The options `Extra` holds: read again when asked (`extra`).
        _ => {}
    }
}

/// A host name: 1 to 64 of `A-Z a-z 0-9 - .`, not starting with `-` or
/// `.` (hostname(7)'s letters).
pub(crate) fn hostname_ok(name: &str) -> bool {
    (1..=HOSTNAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !name.starts_with(['-', '.'])
}

const ENV_EXPECT: &str = "expected KEY=VALUE, KEY of A-Z a-z 0-9 _ and not starting with a digit";

/// `KEY=VALUE` with a valid KEY (decoded: quotes may be anywhere).
fn env_ok(raw: &str) -> bool {
    for (i, b) in Word(raw).bytes().enumerate() {
        let ok = match b {
            b'=' => return i > 0,
            b'_' => true,
            b if b.is_ascii_alphabetic() => true,
            b => i > 0 && b.is_ascii_digit(),
        };
        if !ok {
            return false;
        }
    }
    false
}

/// The KEY of an env entry as written, for messages.
fn key_of(raw: &str) -> &str {
    value::head(raw, b'=')
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
