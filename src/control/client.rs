//! The control client: `pinit status|start|stop|restart|reload|signal|boot`.
//! It sends one request to the control socket and formats the reply; the
//! figures PID 1 does not keep (memory.current, cpu.stat, OOM kills,
//! pinning) it reads itself from the unit's cgroup and /proc.
//!
//! Exit codes: 0 ok, 1 failed, 2 usage, 3 unknown unit.

use crate::control::protocol::{
    verb, Reply, FAILED, OK, REPLY_LINE_MAX, REQUEST_MAX, SOCKET_PATH, UNKNOWN, USAGE,
};
use crate::sys::console::{write_all, Line};
use crate::sys::file;
use crate::sys::Args;
use crate::{out, say};
use core::fmt::Write;
use rustix::fd::OwnedFd;
use rustix::net::{self, AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

/// How long `start`, `stop` and `restart` wait for the unit's end state
/// unless `--timeout SECS` says otherwise.
const WAIT_DEFAULT_MS: u64 = 90_000;
/// How often the unit's state is asked for while waiting.
const WAIT_POLL_MS: u64 = 50;

/// `pinit [--socket PATH] VERB ...`: `first` is the index of VERB.
pub(crate) fn main(args: Args, socket: &str, first: usize) -> i32 {
    let word = |i: usize| args.get(i).and_then(|a| a.to_str().ok());
    let mut json = false;
    let mut block = true;
    let mut timeout_ms = WAIT_DEFAULT_MS;
    let mut words: heapless::Vec<&str, 4> = heapless::Vec::new();
    let mut i = first;
    while i < args.len() {
        match word(i) {
            Some("--json") => json = true,
            Some("--no-block") => block = false,
            Some("--timeout") => {
                i += 1;
                match word(i).and_then(|w| w.parse::<u64>().ok()) {
                    Some(s) => timeout_ms = s.saturating_mul(1000),
                    None => return usage(),
                }
            }
            Some(w) => {
                if words.push(w).is_err() {
                    return usage();
                }
            }
            None => return usage(),
        }
        i += 1;
    }
    let verb = words.first().copied().unwrap_or("");
    let req_verb = match (verb, words.len()) {
        ("status", 1) => verb::LIST,
        ("status", 2) => verb::SHOW,
        (verb::START | verb::STOP | verb::RESTART | verb::RELOAD, 2) | (verb::SIGNAL, 3) => verb,
        (verb::BOOT | verb::RELOAD_TABLE | verb::REEXEC, 1) => verb,
        #[cfg(feature = "test-wedge")]
        (verb::WEDGE, 1) => verb,
        #[cfg(feature = "test-panic")]
        (verb::PANIC, 1) => verb,
        _ => return usage(),
    };
    let mut req: heapless::String<REQUEST_MAX> = heapless::String::new();
    let _ = req.push_str(req_verb);
    for w in words.iter().skip(1) {
        if req.push(' ').is_err() || req.push_str(w).is_err() {
            say!("request too long");
            return i32::from(USAGE);
        }
    }
    let unit = words.get(1).copied();
    let code = ask(socket, req.as_str(), req_verb, unit, json);
    match (req_verb, unit) {
        (verb::START | verb::STOP | verb::RESTART, Some(unit))
            if block && code == i32::from(OK) =>
        {
            settle(socket, req_verb, unit, timeout_ms)
        }
        _ => code,
    }
}

/// `telinit q` and `telinit u`: one word, the answer's lines as they are.
pub(crate) fn one(verb: &str) -> i32 {
    ask(SOCKET_PATH, verb, verb, None, false)
}

/// Sends `req` and formats the answer; `unit` names the unit an
/// `unknown unit` error is about.
fn ask(socket: &str, req: &str, req_verb: &str, unit: Option<&str>, json: bool) -> i32 {
    let mut fmt = Format::new(req_verb, json);
    let code = exchange(socket, req, unit, |l| fmt.line(l));
    if code == i32::from(OK) {
        fmt.head();
        fmt.end();
    }
    code
}

/// Sends one request and reads its reply: each detail line to `each`,
/// then the code (a refusal said on stderr, naming `unit`).
fn exchange(socket: &str, req: &str, unit: Option<&str>, mut each: impl FnMut(&str)) -> i32 {
    let fd = match connect(socket) {
        Ok(fd) => fd,
        Err(e) => {
            say!(
                "unable to reach PID 1 at {}: {}",
                socket,
                crate::sys::errno::Name(e)
            );
            return i32::from(FAILED);
        }
    };
    // A refusal (busy) may already be waiting: read the answer even if
    // the send fails.
    let _ = net::send(&fd, req.as_bytes(), SendFlags::NOSIGNAL);
    loop {
        let mut buf = [0u8; REPLY_LINE_MAX];
        let n = match net::recv(&fd, &mut buf[..], RecvFlags::empty()) {
            Ok((n, _)) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => 0,
        };
        let line = core::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("");
        if n == 0 {
            say!("PID 1 closed the connection without an answer");
            return i32::from(FAILED);
        }
        match Reply::parse(line) {
            Reply::Ok => return i32::from(OK),
            Reply::Error(code, msg) => {
                match unit {
                    Some(unit) if code == UNKNOWN => say!("{}: {}", unit, msg),
                    _ => say!("{}", msg),
                }
                return i32::from(code);
            }
            Reply::Line(line) => each(line),
        }
    }
}

/// Waits, asking `show UNIT` every WAIT_POLL_MS, until the unit reaches
/// the end state of `verb` (docs/control.md): 0 there, 1 with a message
/// if it ends elsewhere or is still on its way after `timeout_ms`.
fn settle(socket: &str, verb: &str, unit: &str, timeout_ms: u64) -> i32 {
    let t0 = crate::sys::time::now();
    let mut req: heapless::String<REQUEST_MAX> = heapless::String::new();
    if write!(req, "{} {}", verb::SHOW, unit).is_err() {
        return i32::from(USAGE);
    }
    loop {
        let mut state: heapless::String<16> = heapless::String::new();
        let mut task = false;
        let code = exchange(socket, req.as_str(), Some(unit), |l| {
            if let Some(u) = UnitInfo::parse(l) {
                let _ = state.push_str(u.state);
                task = u.kind == "task";
            }
        });
        if code != i32::from(OK) {
            return code;
        }
        match end_of(verb, state.as_str(), task) {
            Some(true) => return i32::from(OK),
            Some(false) => {
                say!("{}: {} instead of {}", unit, state, goal(verb, task));
                return i32::from(FAILED);
            }
            None => {}
        }
        if crate::sys::time::now().since(t0) >= timeout_ms {
            say!(
                "{}: still {} after {} s (not yet {}; --timeout SECS waits longer)",
                unit,
                state,
                timeout_ms / 1000,
                goal(verb, task)
            );
            return i32::from(FAILED);
        }
        let pause = rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: (WAIT_POLL_MS * 1_000_000) as _,
        };
        let _ = rustix::thread::nanosleep(&pause);
    }
}

/// Whether `state` ends a `verb`: reached (true), missed (false), or not
/// yet (None). A stop ends in any state without a process; a start (or
/// restart) when a service runs or a task has exited 0, or an unmet
/// `if=` skipped it.
fn end_of(verb: &str, state: &str, task: bool) -> Option<bool> {
    match (verb, state) {
        (verb::STOP, "stopped" | "failed" | "done" | "skipped" | "blocked") => Some(true),
        (verb::STOP, _) => None,
        (_, "done" | "skipped") => Some(true),
        (_, "running") => (!task).then_some(true),
        (_, "failed" | "blocked" | "stopped" | "backing-off") => Some(false),
        _ => None,
    }
}

/// The end state `verb` waits for, as said in a message.
fn goal(verb: &str, task: bool) -> &'static str {
    match (verb, task) {
        (verb::STOP, _) => "stopped",
        (_, true) => "done",
        (_, false) => "running",
    }
}

fn usage() -> i32 {
    say!("usage: pinit status [NAME] [--json] | start|stop|restart [--no-block] [--timeout SECS] NAME | reload NAME | signal NAME SIG | boot | reload-table | reexec");
    i32::from(USAGE)
}

fn connect(path: &str) -> Result<OwnedFd, rustix::io::Errno> {
    let fd = net::socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?;
    let addr = crate::sys::path::unix_addr(path)?;
    net::connect(&fd, &addr)?;
    Ok(fd)
}

/// Turns reply lines into the table, the detail or JSON.
struct Format<'v> {
    verb: &'v str,
    json: bool,
    count: usize,
    /// Socket lines of `show` so far (JSON: the open list).
    sockets: usize,
    /// `show` had a watchdog line.
    watchdog_seen: bool,
    /// `list`'s column names are out.
    headed: bool,
}

impl<'v> Format<'v> {
    fn new(verb: &'v str, json: bool) -> Format<'v> {
        if json {
            write_all(
                crate::sys::stdio(1),
                if verb == verb::SHOW { b"" } else { b"[" },
            );
        } else if verb == verb::BOOT {
            out!(
                "{:<14} {:>9} {:>9} {:>9}  {}",
                "UNIT",
                "DEPS-MET",
                "STARTED",
                "READY",
                "WAITED FOR"
            );
        }
        Format {
            verb,
            json,
            count: 0,
            sockets: 0,
            watchdog_seen: false,
            headed: false,
        }
    }

    /// `list`'s column names, once, before its first unit.
    fn head(&mut self) {
        if self.verb != verb::LIST || self.json || self.headed {
            return;
        }
        self.headed = true;
        out!(
            "{:<14} {:<4} {:<11} {:>6} {:>7} {:>3} {:<10} {:>7} {:>7} {}",
            "UNIT",
            "KIND",
            "STATE",
            "PID",
            "UPTIME",
            "RST",
            "LAST",
            "MEM",
            "CPU",
            "CPUS"
        );
    }

    fn line(&mut self, line: &str) {
        match self.verb {
            // `pinit VERSION ARCH`: what PID 1 is, above the table.
            verb::LIST if line.starts_with("pinit ") => {
                let mut w = line.split(' ').skip(1);
                let (v, a) = (w.next().unwrap_or("?"), w.next().unwrap_or("?"));
                if !self.json {
                    out!("PID 1: pinit {} ({})", v, a);
                }
                self.head();
                return;
            }
            verb::LIST | verb::SHOW => {
                self.head();
                if let Some(u) = UnitInfo::parse(line) {
                    self.unit(&u);
                } else if let Some(status) = line.strip_prefix("status ") {
                    if self.json {
                        let mut l = Line::new();
                        let _ = write!(l, ",\"status\":{}", Json(status));
                        write_all(crate::sys::stdio(1), l.as_bytes());
                    } else {
                        out!("  status:   {}", status);
                    }
                } else if let Some(sock) = line.strip_prefix("socket ") {
                    self.socket(sock);
                } else if let Some(n) = line.strip_prefix("instances ") {
                    self.instances(n);
                } else if let Some(w) = line.strip_prefix("watchdog ") {
                    self.watchdog(w);
                }
            }
            verb::BOOT => self.boot(line),
            // reload-table, reexec: what PID 1 did, as it says it.
            _ => out!("{}", line),
        }
        self.count += 1;
    }

    fn unit(&mut self, u: &UnitInfo<'_>) {
        let f = Figures::read(u);
        if self.json {
            let mut l = Line::new();
            let sep = if self.count > 0 && self.verb == verb::LIST {
                ","
            } else {
                ""
            };
            let _ = write!(
                l,
                "{}{{\"unit\":{},\"kind\":{},\"state\":{},\"pid\":{},\"uptime_ms\":{},\"restarts\":{},\"last\":{},\"oom_kills\":{},\"memory_bytes\":{},\"cpu_usec\":{},\"cpus\":{},\"cgroup\":{}",
                sep, Json(u.name), Json(u.kind), Json(u.state), u.pid, u.up_ms, u.restarts, Json(f.last(u)), f.oom, Num(f.mem), Num(f.cpu_us), Json(f.cpus()), Json(u.cgroup)
            );
            if self.verb == verb::LIST {
                let _ = l.write_str("}");
            }
            write_all(crate::sys::stdio(1), l.as_bytes());
            return;
        }
        if self.verb == verb::LIST {
            out!(
                "{:<14} {:<4} {:<11} {:>6} {:>7} {:>3} {:<10} {:>7} {:>7} {}",
                u.name,
                kind4(u.kind),
                u.state,
                Pid(u.pid),
                Dur(u.up_ms, u.pid > 0 || u.up_ms > 0),
                u.restarts,
                f.last(u),
                Bytes(f.mem),
                Cpu(f.cpu_us),
                f.cpus()
            );
        } else {
            out!("{} ({})", u.name, u.kind);
            out!("  state:    {}", u.state);
            out!("  pid:      {}", Pid(u.pid));
            out!("  uptime:   {}", Dur(u.up_ms, u.pid > 0 || u.up_ms > 0));
            out!("  restarts: {}", u.restarts);
            out!("  last:     {}", f.last(u));
            out!("  cgroup:   {}", u.cgroup);
            out!("  memory:   {}", Bytes(f.mem));
            out!("  cpu:      {}", Cpu(f.cpu_us));
            out!("  cpus:     {}", f.cpus());
            out!("  oom kills:{:>2}", f.oom);
        }
    }

    /// `FD ADDRESS NAME ACCEPTED` of `show`.
    fn socket(&mut self, line: &str) {
        let mut w = line.split(' ');
        let (fd, addr, name, accepted) = (
            w.next().unwrap_or("-"),
            w.next().unwrap_or("?"),
            w.next().unwrap_or("?"),
            w.next().unwrap_or("-"),
        );
        if self.json {
            let mut l = Line::new();
            let _ = write!(
                l,
                "{}{{\"address\":{},\"name\":{},\"fd\":{},\"accepted\":{}}}",
                if self.sockets == 0 {
                    ",\"sockets\":["
                } else {
                    ","
                },
                Json(addr),
                Json(name),
                Num(fd.parse().ok()),
                Num(accepted.parse().ok())
            );
            write_all(crate::sys::stdio(1), l.as_bytes());
        } else if fd == "-" {
            out!("  socket:   {} (name {}, not bound)", addr, name);
        } else if accepted == "-" {
            out!("  socket:   {} (fd {}, name {})", addr, fd, name);
        } else {
            out!(
                "  socket:   {} (fd {}, name {}, accepted {})",
                addr,
                fd,
                name,
                accepted
            );
        }
        self.sockets += 1;
    }

    /// `N MAX` of `show`, for an accept=yes unit.
    fn instances(&mut self, line: &str) {
        let (n, max) = line.split_once(' ').unwrap_or((line, "?"));
        if self.json {
            self.close_sockets();
            let mut l = Line::new();
            let _ = write!(
                l,
                ",\"instances\":{},\"max_instances\":{}",
                Num(n.parse().ok()),
                Num(max.parse().ok())
            );
            write_all(crate::sys::stdio(1), l.as_bytes());
        } else {
            out!("  instances: {} of {}", n, max);
        }
    }

    /// Ends the JSON list of sockets, if one is open.
    fn close_sockets(&mut self) {
        if self.json && self.sockets > 0 {
            write_all(crate::sys::stdio(1), b"]");
            self.sockets = 0;
        }
    }

    /// `watchdog PERIOD_MS AGE_MS|-` of `show`.
    fn watchdog(&mut self, w: &str) {
        let (period, age) = w.split_once(' ').unwrap_or((w, "-"));
        let (period, age) = (period.parse().ok(), age.parse().ok());
        self.watchdog_seen = true;
        self.close_sockets();
        if self.json {
            let mut l = Line::new();
            let _ = write!(
                l,
                ",\"watchdog_ms\":{},\"watchdog_ping_age_ms\":{}",
                Num(period),
                Num(age)
            );
            write_all(crate::sys::stdio(1), l.as_bytes());
        } else {
            match age {
                Some(a) => out!(
                    "  watchdog: {} ms period, last ping {} ms ago",
                    Num(period),
                    a
                ),
                None => out!("  watchdog: {} ms period (not running)", Num(period)),
            }
        }
    }

    fn boot(&mut self, line: &str) {
        let mut w = line.split(' ');
        let (name, met, started, ready, blocker) = (
            w.next().unwrap_or("?"),
            w.next().unwrap_or("-"),
            w.next().unwrap_or("-"),
            w.next().unwrap_or("-"),
            w.next().unwrap_or("-"),
        );
        if self.json {
            let mut l = Line::new();
            let sep = if self.count > 0 { "," } else { "" };
            let _ = write!(
                l,
                "{}{{\"unit\":{},\"deps_met_ms\":{},\"started_ms\":{},\"ready_ms\":{},\"waited_for\":{}}}",
                sep,
                Json(name),
                Num(met.parse().ok()),
                Num(started.parse().ok()),
                Num(ready.parse().ok()),
                Json(blocker)
            );
            write_all(crate::sys::stdio(1), l.as_bytes());
        } else {
            out!(
                "{:<14} {:>9} {:>9} {:>9}  {}",
                name,
                Sec(met),
                Sec(started),
                Sec(ready),
                blocker
            );
        }
    }

    fn end(&mut self) {
        self.close_sockets();
        if self.json && self.verb == verb::SHOW && !self.watchdog_seen {
            write_all(
                crate::sys::stdio(1),
                b",\"watchdog_ms\":null,\"watchdog_ping_age_ms\":null",
            );
        }
        if self.json {
            write_all(
                crate::sys::stdio(1),
                if self.verb == verb::SHOW {
                    b"}\n"
                } else {
                    b"]\n"
                },
            );
        }
    }
}

/// One `list` line: `NAME KIND STATE PID UP_MS RESTARTS LAST CGROUP`.
struct UnitInfo<'a> {
    name: &'a str,
    kind: &'a str,
    state: &'a str,
    pid: i32,
    up_ms: u64,
    restarts: u32,
    last: &'a str,
    cgroup: &'a str,
}

impl<'a> UnitInfo<'a> {
    fn parse(line: &'a str) -> Option<UnitInfo<'a>> {
        let mut w = line.split(' ');
        let u = UnitInfo {
            name: w.next()?,
            kind: w.next()?,
            state: w.next()?,
            pid: w.next()?.parse().ok()?,
            up_ms: w.next()?.parse().ok()?,
            restarts: w.next()?.parse().ok()?,
            last: w.next()?,
            cgroup: w.next()?,
        };
        w.next().is_none().then_some(u)
    }
}

/// What the client reads itself: cgroup figures and the pinning.
struct Figures {
    mem: Option<u64>,
    cpu_us: Option<u64>,
    oom: u64,
    cpus: heapless::String<32>,
}

impl Figures {
    fn read(u: &UnitInfo<'_>) -> Figures {
        let mut f = Figures {
            mem: None,
            cpu_us: None,
            oom: 0,
            cpus: heapless::String::new(),
        };
        if u.cgroup != "-" {
            // An empty cgroup's memory.current is page cache charged to
            // it: no process uses it, so no MEM (a done task's).
            let populated = number_in(u.cgroup, "cgroup.events", Some("populated"));
            if populated != Some(0) {
                f.mem = number_in(u.cgroup, "memory.current", None);
            }
            f.cpu_us = number_in(u.cgroup, "cpu.stat", Some("usage_usec"));
            f.oom = number_in(u.cgroup, "memory.events", Some("oom_kill")).unwrap_or(0);
        }
        if u.pid > 0 {
            let mut p: heapless::String<32> = heapless::String::new();
            let _ = write!(p, "/proc/{}/status", u.pid);
            let mut buf = [0u8; 2048];
            if let Ok(n) = file::read_file(p.as_str(), &mut buf).or_else(|e| {
                if e == rustix::io::Errno::FBIG {
                    Ok(buf.len())
                } else {
                    Err(e)
                }
            }) {
                let text = core::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("");
                if let Some(v) = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                {
                    let _ = f.cpus.push_str(v.trim());
                }
            }
        }
        f
    }

    /// The last exit, with an OOM kill named as such.
    fn last<'a>(&self, u: &UnitInfo<'a>) -> &'a str {
        if self.oom > 0 && u.last == "signal:9" {
            "oom-killed"
        } else {
            u.last
        }
    }

    fn cpus(&self) -> &str {
        if self.cpus.is_empty() {
            "-"
        } else {
            self.cpus.as_str()
        }
    }
}

/// A number from a cgroup file: the whole file, or the value of `key`.
fn number_in(dir: &str, file: &str, key: Option<&str>) -> Option<u64> {
    let mut p: heapless::String<256> = heapless::String::new();
    write!(p, "{}/{}", dir, file).ok()?;
    let mut buf = [0u8; 1024];
    let n = file::read_file(p.as_str(), &mut buf).ok()?;
    let text = core::str::from_utf8(buf.get(..n)?).ok()?;
    let v = match key {
        None => text.trim(),
        Some(k) => text
            .lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix(' '))?,
    };
    v.trim().parse().ok()
}

fn kind4(k: &str) -> &str {
    match k {
        "service" => "svc",
        other => other,
    }
}

struct Pid(i32);
impl core::fmt::Display for Pid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s: heapless::String<12> = heapless::String::new();
        if self.0 > 0 {
            let _ = write!(s, "{}", self.0);
        } else {
            let _ = s.push('-');
        }
        f.pad(s.as_str())
    }
}

/// `4s`, `3m12s`, `2h05m`; `-` when nothing runs.
struct Dur(u64, bool);
impl core::fmt::Display for Dur {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s: heapless::String<16> = heapless::String::new();
        let secs = self.0 / 1000;
        let _ = if !self.1 {
            s.push_str("-").map_err(|_| core::fmt::Error)
        } else if secs < 60 {
            write!(s, "{}s", secs)
        } else if secs < 3600 {
            write!(s, "{}m{:02}s", secs / 60, secs % 60)
        } else {
            write!(s, "{}h{:02}m", secs / 3600, secs % 3600 / 60)
        };
        f.pad(s.as_str())
    }
}

struct Bytes(Option<u64>);
impl core::fmt::Display for Bytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s: heapless::String<16> = heapless::String::new();
        let _ = match self.0 {
            None => s.push_str("-").map_err(|_| core::fmt::Error),
            Some(b) if b < 1 << 20 => write!(s, "{}K", b >> 10),
            Some(b) => write!(s, "{}.{}M", b >> 20, ((b & 0xfffff) * 10) >> 20),
        };
        f.pad(s.as_str())
    }
}

struct Cpu(Option<u64>);
impl core::fmt::Display for Cpu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s: heapless::String<16> = heapless::String::new();
        let _ = match self.0 {
            None => s.push_str("-").map_err(|_| core::fmt::Error),
            Some(us) => write!(s, "{}.{:02}s", us / 1_000_000, us % 1_000_000 / 10_000),
        };
        f.pad(s.as_str())
    }
}

/// Milliseconds since boot as seconds, or `-`.
struct Sec<'a>(&'a str);
impl core::fmt::Display for Sec<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s: heapless::String<16> = heapless::String::new();
        let _ = match self.0.parse::<u64>() {
            Ok(ms) => write!(s, "{}.{:03}s", ms / 1000, ms % 1000),
            Err(_) => s.push_str("-").map_err(|_| core::fmt::Error),
        };
        f.pad(s.as_str())
    }
}

struct Num(Option<u64>);
impl core::fmt::Display for Num {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{}", n),
            None => f.write_str("null"),
        }
    }
}

/// A JSON string.
struct Json<'a>(&'a str);
impl core::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// A /dev/kmsg record read whole: the kernel's CONSOLE_EXT_LOG_MAX (a
/// shorter read of a longer record is EINVAL).
const KMSG_READ_MAX: usize = 8192;

/// /dev/kmsg's `\xNN` escapes (of bytes below 32, above 126 and `\`)
/// decoded into `out`.
fn unescape_kmsg<'b>(msg: &[u8], out: &'b mut [u8; KMSG_READ_MAX]) -> &'b [u8] {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let (mut i, mut n) = (0, 0);
    while let (Some(&b), Some(slot)) = (msg.get(i), out.get_mut(n)) {
        let esc = match (b, msg.get(i + 1), msg.get(i + 2), msg.get(i + 3)) {
            (b'\\', Some(b'x'), Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        *slot = esc.unwrap_or(b);
        i += if esc.is_some() { 4 } else { 1 };
        n += 1;
    }
    out.get(..n).unwrap_or(&[])
}

/// Asks PID 1 whether `name` is a unit (`show NAME`): `None` when it
/// cannot say (not reachable, no table).
fn known(socket: &str, name: &str) -> Option<bool> {
    let fd = connect(socket).ok()?;
    let mut req: heapless::String<REQUEST_MAX> = heapless::String::new();
    write!(req, "{} {}", verb::SHOW, name).ok()?;
    net::send(&fd, req.as_bytes(), SendFlags::NOSIGNAL).ok()?;
    loop {
        let mut buf = [0u8; REPLY_LINE_MAX];
        let n = match net::recv(&fd, &mut buf[..], RecvFlags::empty()) {
            Ok((n, _)) if n > 0 => n,
            Err(rustix::io::Errno::INTR) => continue,
            _ => return None,
        };
        match Reply::parse(core::str::from_utf8(buf.get(..n)?).ok()?) {
            Reply::Ok => return Some(true),
            Reply::Error(UNKNOWN, _) => return Some(false),
            Reply::Error(..) => return None,
            Reply::Line(_) => {}
        }
    }
}

/// `pinit log NAME [-f]`: the unit's lines from the kernel ring buffer
/// (tagged `NAME[PID]:` by pinit), oldest first; `-f` follows. A name
/// PID 1 does not know is exit 3; when PID 1 cannot be asked, the log is
/// read all the same.
pub(crate) fn log(args: Args) -> i32 {
    let mut name = None;
    let mut follow = false;
    for i in 2..args.len() {
        match args.get(i).and_then(|a| a.to_str().ok()) {
            Some("-f") | Some("--follow") => follow = true,
            Some(n) if name.is_none() && !n.starts_with('-') => name = Some(n),
            _ => {
                say!("usage: pinit log NAME [-f]");
                return 2;
            }
        }
    }
    let name = match name {
        Some(n) => n,
        None => {
            say!("usage: pinit log NAME [-f]");
            return 2;
        }
    };
    if known(crate::control::protocol::SOCKET_PATH, name) == Some(false) {
        say!("{}: no such unit", name);
        return i32::from(UNKNOWN);
    }
    let mut flags = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC;
    if !follow {
        flags |= rustix::fs::OFlags::NONBLOCK;
    }
    let fd = match rustix::fs::open(c"/dev/kmsg", flags, rustix::fs::Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => {
            say!("unable to open /dev/kmsg: {}", crate::sys::errno::Name(e));
            return 1;
        }
    };
    let mut tag: heapless::String<40> = heapless::String::new();
    let _ = write!(tag, "{}[", name);
    loop {
        let mut rec = [0u8; KMSG_READ_MAX];
        match rustix::io::read(&fd, &mut rec) {
            Ok(0) => return 0,
            Ok(n) => {
                let rec = rec.get(..n).unwrap_or(&[]);
                let semi = rec.iter().position(|&b| b == b';').unwrap_or(n);
                let head = core::str::from_utf8(rec.get(..semi).unwrap_or(&[])).unwrap_or("");
                let msg = rec.get(semi + 1..).unwrap_or(&[]);
                let msg = msg.split(|&b| b == b'\n').next().unwrap_or(&[]);
                if msg.starts_with(tag.as_bytes()) {
                    let us: u64 = head
                        .split(',')
                        .nth(2)
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    let mut stamp = Line::new();
                    let _ = write!(stamp, "[{:>5}.{:06}] ", us / 1_000_000, us % 1_000_000);
                    let mut text = [0u8; KMSG_READ_MAX];
                    let text = unescape_kmsg(msg, &mut text);
                    for part in [stamp.as_bytes(), text, b"\n"] {
                        write_all(crate::sys::stdio(1), part);
                    }
                }
            }
            // EPIPE: a record was overwritten before we read it; go on.
            Err(rustix::io::Errno::PIPE) | Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => return 0,
            Err(e) => {
                say!("unable to read /dev/kmsg: {}", crate::sys::errno::Name(e));
                return 1;
            }
        }
    }
}
