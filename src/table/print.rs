//! `pinit check --print`: the table as pinit understood it, in start
//! order, every option with its value (defaults included). The output is
//! itself a valid config: printing it again gives the same text (the
//! fuzz target checks that). The option table (options.rs) gives the
//! order, the lines and what `not set:` names.

use super::listen::Listen;
use super::model::*;
use super::options::{Opt, Spec, Ty, OPTIONS};
use super::value::{self, Bytes, CpuList, Millis, Sig};
use core::fmt::{self, Display, Write};

/// MS_* flag names (bit N = entry N), for the comment under a `mount`.
const MS_NAMES: [&str; 26] = [
    "RDONLY",
    "NOSUID",
    "NODEV",
    "NOEXEC",
    "SYNCHRONOUS",
    "REMOUNT",
    "MANDLOCK",
    "DIRSYNC",
    "NOSYMFOLLOW",
    "",
    "NOATIME",
    "NODIRATIME",
    "BIND",
    "MOVE",
    "REC",
    "SILENT",
    "",
    "UNBINDABLE",
    "PRIVATE",
    "SLAVE",
    "SHARED",
    "RELATIME",
    "",
    "I_VERSION",
    "STRICTATIME",
    "LAZYTIME",
];

/// A value as printed.
enum Val<'a> {
    Str(&'a str),
    Num(u64),
    Int(i64),
    Millis(Millis),
    Bytes(u64),
    Sig(u8),
    List(CpuList<'a>),
    Octal(u16),
    /// `PREFIX:N` (fd:3, fifo:50, rt:4, preferred:1).
    Pre(&'static str, u64),
    /// `PREFIX:LIST` (bind:0-1).
    PreList(&'static str, CpuList<'a>),
    /// cpu.max as written back.
    CpuMax(CpuMax),
    /// rlimit SOFT[:HARD].
    Rlim(u64, u64),
}

impl Display for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Val::Str(s) => f.write_str(s),
            Val::Num(n) => write!(f, "{}", n),
            Val::Int(n) => write!(f, "{}", n),
            Val::Millis(m) => m.fmt(f),
            Val::Bytes(n) => Bytes(n).fmt(f),
            Val::Sig(s) => Sig(s).fmt(f),
            Val::List(l) => l.mask().fmt(f),
            Val::Octal(m) => write!(f, "{:04o}", m),
            Val::Pre(p, n) => write!(f, "{}:{}", p, n),
            Val::PreList(p, l) => write!(f, "{}:{}", p, l.mask()),
            Val::CpuMax(m) => match (m.percent, m.quota_us, m.period_us) {
                (0, 0, 100_000) => f.write_str("max"),
                (0, 0, p) => write!(f, "max/{}", p),
                (0, q, p) => write!(f, "{}/{}", q, p),
                (pct, _, _) => write!(f, "{}%", pct),
            },
            Val::Rlim(s, h) if s == h => RlimValue(s).fmt(f),
            Val::Rlim(s, h) => write!(f, "{}:{}", RlimValue(s), RlimValue(h)),
        }
    }
}

fn yes(b: bool) -> Val<'static> {
    Val::Str(if b { "yes" } else { "no" })
}

fn limit(l: Limit) -> Option<Val<'static>> {
    match l.value() {
        Some(n) => Some(Val::Bytes(n)),
        None if l == Limit::MAX => Some(Val::Str("max")),
        None => None,
    }
}

/// The value of a single-valued option, if it applies and is set (or
/// has a default).
fn val<'a>(u: &Unit<'a>, x: &Extra<'a>, o: Opt) -> Option<Val<'a>> {
    let service = u.kind == UnitKind::Service && !u.accept;
    let restarts = u.restart != Restart::Never && !u.accept;
    let sockets = u.listens().next().is_some();
    Some(match o {
        Opt::Restart if !u.accept => Val::Str(u.restart.name()),
        Opt::RestartDelay if restarts => Val::Millis(u.restart_delay),
        Opt::RestartMax if restarts => Val::Millis(u.restart_max),
        Opt::RestartLimit if restarts && u.restart_limit != 0 => Val::Num(u.restart_limit.into()),
        Opt::OnFailure if u.on_failure != OnFailure::None => Val::Str(u.on_failure.name()),
        Opt::Ready if service => match u.ready {
            Ready::None => Val::Str("none"),
            Ready::Notify => Val::Str("notify"),
            Ready::Fd(n) => Val::Pre("fd", n.into()),
            Ready::Forked => Val::Str("forked"),
        },
        Opt::ReadyTimeout if service && u.ready != Ready::None => Val::Millis(u.ready_timeout),
        Opt::Start if sockets && !u.accept => Val::Str(u.start.name()),
        Opt::Accept if sockets => yes(u.accept),
        Opt::MaxInstances if u.accept => Val::Num(u.max_instances.into()),
        Opt::Watchdog if service && u.watchdog.0 > 0 => Val::Millis(u.watchdog),
        Opt::Pidfile => Val::Str(u.pidfile?.raw()),
        Opt::Timeout if u.timeout.0 > 0 => Val::Millis(u.timeout),
        Opt::StopSignal => Val::Sig(u.stop_signal),
        Opt::StopTimeout => Val::Millis(u.stop_timeout),
        Opt::ReloadSignal => Val::Sig(u.reload_signal),
        Opt::Kill => Val::Str(u.kill.name()),
        Opt::RunDirKeep if u.runtime_dirs().next().is_some() => yes(u.runtime_dir_keep),
        Opt::User => id(x.user?),
        Opt::Group => id(x.group?),
        Opt::Dir => Val::Str(x.dir?.raw()),
        Opt::Umask => Val::Octal(x.umask?),
        Opt::NoNewPrivs => yes(u.no_new_privs),
        Opt::Log if u.kind != UnitKind::Tty => Val::Str(u.log.name()),
        Opt::Tty => Val::Str(x.tty?.raw()),
        Opt::Cpus => Val::List(x.cpus?),
        Opt::Cpuset => Val::List(x.cpuset?),
        Opt::Isolate if x.cpuset.is_some() => yes(u.isolate),
        Opt::Mems => Val::List(x.mems?),
        Opt::Numa => match x.numa? {
            Numa::Bind(l) => Val::PreList("bind", l),
            Numa::Interleave(l) => Val::PreList("interleave", l),
            Numa::Preferred(n) => Val::Pre("preferred", n.into()),
            Numa::Local => Val::Str("local"),
        },
        Opt::MemMax => limit(x.mem_max)?,
        Opt::MemHigh => limit(x.mem_high)?,
        Opt::MemLow => limit(x.mem_low)?,
        Opt::SwapMax => limit(x.swap_max)?,
        Opt::PidsMax => match x.pids_max.value() {
            Some(n) => Val::Num(n),
            None => limit(x.pids_max)?,
        },
        Opt::CpuWeight => Val::Num(x.cpu_weight?.into()),
        Opt::CpuMax => Val::CpuMax(x.cpu_max?),
        Opt::IoWeight => Val::Num(x.io_weight?.into()),
        Opt::Nice => Val::Int(x.nice?.into()),
        Opt::Sched => match x.sched? {
            Sched::Other => Val::Str("other"),
            Sched::Batch => Val::Str("batch"),
            Sched::Idle => Val::Str("idle"),
            Sched::Fifo(p) => Val::Pre("fifo", p.into()),
            Sched::Rr(p) => Val::Pre("rr", p.into()),
        },
        Opt::IoPrio => match x.ioprio? {
            IoPrio::Rt(n) => Val::Pre("rt", n.into()),
            IoPrio::Be(n) => Val::Pre("be", n.into()),
            IoPrio::Idle => Val::Str("idle"),
        },
        Opt::OomScore => Val::Int(x.oom_score?.into()),
        _ => return None,
    })
}

/// A `listen=` value in full: the address, then every option that
/// applies to its kind, defaults included (`name=` the unit's name).
struct Socket<'a>(Listen<'a>, &'a str);

impl Display for Socket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.0;
        write!(f, "{},name={}", l.address(), self.1)?;
        if l.kind.is_stream() {
            write!(f, ",backlog={}", l.backlog)?;
        }
        if !l.kind.is_inet() {
            write!(f, ",mode={:04o}", l.mode)?;
        }
        for (key, id) in [("owner", l.owner), ("group", l.group)] {
            if let Some(id) = id {
                write!(f, ",{}={}", key, id)?;
            }
        }
        for (flag, on) in [
            ("reuseport", l.reuseport),
            ("freebind", l.freebind),
            ("v6only", l.v6only),
        ] {
            if on {
                write!(f, ",{}", flag)?;
            }
        }
        Ok(())
    }
}

fn id(i: Id<'_>) -> Val<'_> {
    match i {
        Id::Name(n) => Val::Str(n),
        Id::Num(n) => Val::Num(n.into()),
    }
}

/// Writes the whole table; `file` names it in the first line.
pub fn print(file: &str, t: &Table<'_>, w: &mut dyn Write) -> fmt::Result {
    write!(w, "# {}: {} units; start order:", file, t.units.len())?;
    for (_, u) in t.in_order() {
        write!(w, " {}", u.name)?;
    }
    w.write_str("\n")?;
    for s in t.setup.iter() {
        setup(s, w)?;
    }
    if let Some(d) = t.watchdog() {
        writeln!(
            w,
            "watchdog {} timeout={} shutdown-timeout={} wait={} magic-close={}",
            d.device.raw(),
            d.timeout,
            d.shutdown_timeout,
            d.wait,
            yes(d.magic_close)
        )?;
    }
    for e in t.env.iter() {
        writeln!(w, "env {}", e.raw())?;
    }
    if let Some(l) = t.log() {
        writeln!(w, "log {}", l.name())?;
    }
    if t.accounting_word.is_some() {
        writeln!(w, "accounting {}", t.accounting().name())?;
    }
    for (n, (_, u)) in t.in_order().enumerate() {
        unit(t, u, n + 1, w)?;
    }
    Ok(())
}

#[inline(never)]
fn setup(s: &Setup<'_>, w: &mut dyn Write) -> fmt::Result {
    match s {
        Setup::Hostname(h) => writeln!(w, "hostname {}", h),
        Setup::HostnameFile(f, None) => writeln!(w, "hostname {}", f.raw()),
        Setup::HostnameFile(f, Some(n)) => writeln!(w, "hostname {} {}", f.raw(), n),
        Setup::Fstab(f) => writeln!(w, "fstab {}", f.file.raw()),
        Setup::RandomSeed(f) => writeln!(w, "random-seed {}", f.raw()),
        Setup::IrqAffinity(l) => writeln!(w, "irq-affinity {}", l.mask()),
        Setup::Sysctl(s) => {
            write!(w, "sysctl {} {}\n#   writes ", s.key, s.value.raw())?;
            for b in s.path_bytes() {
                w.write_char(char::from(b))?;
            }
            w.write_str("\n")
        }
        Setup::Mount(m) => {
            write!(
                w,
                "mount {} {} {}",
                m.source.raw(),
                m.target.raw(),
                m.fstype
            )?;
            if !m.options.is_empty() {
                write!(w, " {}", m.options)?;
            }
            w.write_str("\n#   flags:")?;
            let mut sep = " MS_";
            for (bit, name) in MS_NAMES.iter().enumerate() {
                if m.flags & (1 << bit) != 0 {
                    write!(w, "{}{}", sep, name)?;
                    sep = "|MS_";
                }
            }
            w.write_str(" data: ")?;
            let mut sep = "";
            for o in value::items(m.options).filter(|o| !o.is_empty() && mount_flag(o).is_none()) {
                write!(w, "{}{}", sep, o)?;
                sep = ",";
            }
            w.write_str("\n")
        }
    }
}

/// Options on continuation lines: `    a=1 b=2 \`.
struct Block<'w> {
    w: &'w mut dyn Write,
    open: bool,
}

impl Block<'_> {
    /// ` KEY=VALUE`, `sep` (`,`) instead of a new option if `more`.
    #[inline(never)]
    fn opt(&mut self, key: &str, v: &dyn Display, more: bool) -> fmt::Result {
        if more {
            return write!(self.w, ",{}", v);
        }
        self.w.write_str(if self.open { " " } else { "    " })?;
        self.open = true;
        write!(self.w, "{}={}", key, v)
    }

    fn end(&mut self) -> fmt::Result {
        if self.open {
            self.open = false;
            self.w.write_str(" \\\n")?;
        }
        Ok(())
    }
}

#[inline(never)]
fn unit(t: &Table<'_>, u: &Unit<'_>, n: usize, w: &mut dyn Write) -> fmt::Result {
    writeln!(w, "\n# {}. {}", n, u.name)?;
    writeln!(w, "{} {} \\", u.kind.name(), u.name)?;
    let mut b = Block { w, open: false };
    let x = u.extra();
    let mut line = None;
    for s in OPTIONS {
        if line != Some(s.line) {
            b.end()?;
            line = Some(s.line);
        }
        let key = s.key;
        match s.value {
            Ty::Deps => {
                let needs = s.opt == Opt::Needs;
                for (k, d) in u.deps().filter(|d| d.needs == needs).enumerate() {
                    let name = t.unit(d.unit).map_or("?", |x| x.name);
                    b.opt(key, &name, k > 0)?;
                }
            }
            Ty::Groups => {
                for (k, g) in u.groups().enumerate() {
                    b.opt(key, &g, k > 0)?;
                }
            }
            Ty::Cond | Ty::Env | Ty::EnvFile => {
                for (_, v) in u.options().filter(|(k, _)| *k == key) {
                    b.opt(key, &v, false)?;
                }
            }
            Ty::Listen => {
                for l in u.listens() {
                    b.opt(key, &Socket(l, u.fd_name(&l)), false)?;
                }
            }
            Ty::RunDir => {
                for d in u.runtime_dirs() {
                    b.opt(key, &format_args!("{}:{:04o}", d.name, d.mode), false)?;
                }
            }
            Ty::Rlimit => {
                for r in u.rlimits() {
                    let key = RLIMIT_KEYS.get(r.resource as usize).copied().unwrap_or("");
                    b.opt(key, &Val::Rlim(r.soft, r.hard), false)?;
                }
            }
            _ => {
                if let Some(v) = val(u, &x, s.opt) {
                    b.opt(key, &v, false)?;
                }
            }
        }
    }
    b.end()?;
    b.w.write_str("    --")?;
    for a in u.argv() {
        write!(b.w, " {}", a.raw())?;
    }
    b.w.write_str("\n#   not set:")?;
    let applies = |s: &&Spec| s.refuse.iter().all(|(k, _)| *k != u.kind);
    for s in OPTIONS.iter().filter(|s| s.unset).filter(applies) {
        let (key, set) = match s.value {
            Ty::Cond | Ty::Env | Ty::EnvFile | Ty::RunDir | Ty::Groups | Ty::Listen => {
                (s.key, u.options().any(|(k, _)| k == s.key))
            }
            Ty::Rlimit => ("rlimit.*", u.rlimits().next().is_some()),
            _ => (s.key, val(u, &x, s.opt).is_some()),
        };
        if !set {
            write!(b.w, " {}", key)?;
        }
    }
    b.w.write_str("\n")
}
