//! An option's value typed: for the parser, which reports a value it
//! refuses, and for `Unit::extra`, which reads the options few units set
//! again at each start of such a unit. Apart from the parser because a
//! start runs it: tools/cold.ld puts the parser's code last in the text,
//! which PID 1 unmaps after the boot, and a start that ran it there would
//! map a window of it back; this file goes with the code that runs now
//! and then (.text.warm, docs/design.md §5).

use super::capacity::CPUS_MAX;
use super::diag::{closest_of, Hint};
use super::lex::Word;
use super::model::*;
use super::options::{Opt, Range, Ty, Words, OPTIONS};
use super::value::{self, CpuList, ListError};

/// A typed value, before it is stored in its field.
pub(super) enum Val<'a> {
    Idx(usize),
    Int(i64),
    Millis(value::Millis),
    Id(Id<'a>),
    Word(Word<'a>),
    List(CpuList<'a>),
    Limit(Limit),
    Ready(Ready),
    Numa(Numa<'a>),
    CpuMax(CpuMax),
    Sched(Sched),
    IoPrio(IoPrio),
}

/// Why a value was refused: the part at fault, what was expected.
pub(super) struct Bad<'a> {
    pub(super) at: &'a str,
    pub(super) expect: &'static str,
    pub(super) hint: Hint<'a>,
}

pub(super) fn bad<'a>(at: &'a str, expect: &'static str) -> Bad<'a> {
    Bad {
        at,
        expect,
        hint: Hint::None,
    }
}

/// A hint from `words` for the part of `v` before `:`, if it is a typo.
fn head_hint<'a>(v: &'a str, words: &[&'a str]) -> Hint<'a> {
    let head = value::head(v, b':');
    match closest_of(head, words) {
        Hint::Word(w) if w != head => Hint::Word(w),
        _ => Hint::None,
    }
}

/// Parses `v` as a value of type `ty`.
#[inline(never)]
pub(super) fn typed(ty: Ty, v: &str) -> Result<Val<'_>, Bad<'_>> {
    Ok(match ty {
        Ty::Choice(&Words(words, expect)) => match words.iter().position(|w| *w == v) {
            Some(i) => Val::Idx(i),
            None => {
                let hint = closest_of(v, words);
                return Err(Bad {
                    at: v,
                    expect,
                    hint,
                });
            }
        },
        Ty::Int(&Range(lo, hi, expect)) => {
            Val::Int(value::int_in(v, lo.into(), hi.into()).map_err(|_| bad(v, expect))?)
        }
        Ty::Dur => match value::duration(v) {
            Ok(d) => Val::Millis(d),
            Err(value::Bad::Syntax) => return Err(bad(v, DUR_EXPECT)),
            Err(value::Bad::Range) => return Err(bad(v, "longer than the limit of 1193h")),
        },
        Ty::Sig => match value::signal(v) {
            Some(s) => Val::Int(s.into()),
            None => {
                let name = match v.get(..3) {
                    Some(p) if p.eq_ignore_ascii_case("SIG") => v.get(3..).unwrap_or(v),
                    _ => v,
                };
                return Err(Bad {
                    at: v,
                    expect: "expected a signal name like TERM or a number from 1 to 64",
                    hint: closest_of(name, value::signal_names()),
                });
            }
        },
        Ty::Id if value::is_id(v) => Val::Id(Id::of(v)),
        Ty::Id => return Err(bad(v, "expected a name (A-Z a-z 0-9 _ . - $) or a number")),
        Ty::Path if Word(v).bytes().next() == Some(b'/') => Val::Word(Word(v)),
        Ty::Path => return Err(bad(v, "expected an absolute path")),
        Ty::Tty if Word(v).bytes().next() == Some(b'/') => Val::Word(Word(v)),
        Ty::Tty => {
            let hint = match Word(v).plain() {
                Some(p) if !value::has(p, b'/') => Hint::Dev(p),
                _ => Hint::None,
            };
            return Err(Bad {
                at: v,
                expect: "expected a device path like /dev/ttyS0",
                hint,
            });
        }
        Ty::Umask => match value::umask(v) {
            Some(m) => Val::Int(m.into()),
            None => return Err(bad(v, "expected an octal mode from 0 to 0777")),
        },
        Ty::Ready => Val::Ready(match v {
            "none" => Ready::None,
            "notify" => Ready::Notify,
            "forked" => Ready::Forked,
            _ => match v.strip_prefix("fd:").map(|n| value::int_in(n, 3, 1023)) {
                Some(Ok(n)) => Ready::Fd(n as u16),
                Some(Err(_)) => return Err(bad(v, "expected fd:N with N from 3 to 1023")),
                None => {
                    return Err(Bad {
                        at: v,
                        expect: "expected none, notify, fd:N or forked",
                        hint: closest_of(v, &["none", "notify", "forked"]),
                    })
                }
            },
        }),
        Ty::Cpus => Val::List(list(v, "CPU")?),
        Ty::Nodes => Val::List(list(v, "node")?),
        Ty::Numa => Val::Numa(numa(v)?),
        Ty::Size if v == "max" => Val::Limit(Limit::MAX),
        Ty::Size => match value::size(v) {
            Ok(n) => Val::Limit(Limit::of(n)),
            Err(value::Bad::Syntax) => {
                return Err(bad(v, "expected a size like 4096, 512K, 64M, 1G or max"))
            }
            Err(value::Bad::Range) => return Err(bad(v, "larger than the limit of 1048576T")),
        },
        Ty::Pids => match (v, value::uint(v)) {
            ("max", _) => Val::Limit(Limit::MAX),
            (_, Some(n)) if n <= u64::from(u32::MAX) => Val::Limit(Limit::of(n)),
            _ => return Err(bad(v, "expected a number up to 4294967295 or max")),
        },
        Ty::CpuMax => Val::CpuMax(cpu_max(v).ok_or_else(|| bad(v, CPU_MAX_EXPECT))?),
        Ty::Sched => match sched(v) {
            Some(s) => Val::Sched(s),
            None => {
                return Err(Bad {
                    at: v,
                    expect: "expected other, batch, idle, fifo:1-99 or rr:1-99",
                    hint: head_hint(v, &["other", "batch", "idle", "fifo", "rr"]),
                })
            }
        },
        Ty::IoPrio => match ioprio(v) {
            Some(p) => Val::IoPrio(p),
            None => {
                return Err(Bad {
                    at: v,
                    expect: "expected rt:0-7, be:0-7 or idle",
                    hint: head_hint(v, &["rt", "be", "idle"]),
                })
            }
        },
        // Read by `Parser::value` itself.
        Ty::Deps
        | Ty::Cond
        | Ty::Groups
        | Ty::Env
        | Ty::Rlimit
        | Ty::Listen
        | Ty::RunDir
        | Ty::EnvFile => return Err(bad(v, "")),
    })
}

pub(super) const DUR_EXPECT: &str =
    "expected a duration like 250ms, 5s, 2m or 1h (a bare number is seconds)";
const CPU_MAX_EXPECT: &str = "expected N% (1 to 102400), QUOTA/PERIOD in microseconds (QUOTA at least 1000 or max, PERIOD 1000 to 1000000) or max";

/// A CPU or node list; the entry at fault if not.
#[inline(never)]
fn list<'a>(v: &'a str, what: &str) -> Result<CpuList<'a>, Bad<'a>> {
    cpu_list(v, what).map_err(|(at, expect)| {
        let item = v.get(at..).unwrap_or(v);
        bad(value::head(item, b','), expect)
    })
}

#[inline(never)]
fn numa(v: &str) -> Result<Numa<'_>, Bad<'_>> {
    let (mode, arg) = value::cut(v, b':').unwrap_or((v, ""));
    Ok(match (mode, arg) {
        ("local", "") => Numa::Local,
        ("bind", nodes) if !nodes.is_empty() => Numa::Bind(list(nodes, "node")?),
        ("interleave", nodes) if !nodes.is_empty() => Numa::Interleave(list(nodes, "node")?),
        ("preferred", node) if !node.is_empty() => match value::uint(node) {
            Some(n) if n < CPUS_MAX as u64 => Numa::Preferred(n as u32),
            _ => return Err(bad(node, "expected one node number below 1024")),
        },
        _ => {
            return Err(Bad {
                at: v,
                expect: "expected bind:NODES, preferred:NODE, interleave:NODES or local",
                hint: head_hint(v, &["bind", "preferred", "interleave", "local"]),
            })
        }
    })
}

/// Checks a CPU or node list: the list, or (offset, what is wrong).
pub(super) fn cpu_list<'a>(v: &'a str, what: &str) -> Result<CpuList<'a>, (usize, &'static str)> {
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

/// The options `Extra` holds (`Lists::EXTRA`).
const EXTRA: [Opt; 21] = [
    Opt::User,
    Opt::Group,
    Opt::Dir,
    Opt::Umask,
    Opt::Tty,
    Opt::Cpus,
    Opt::Cpuset,
    Opt::Mems,
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

/// Whether option `key` is one `Extra` holds.
pub(crate) fn is_extra(key: &str) -> bool {
    OPTIONS
        .iter()
        .any(|s| s.key == key && EXTRA.contains(&s.opt))
}

/// Sets `key=v` in `x` if it is one of `Extra`'s options with a good
/// value (the table was checked: it is, or the key is another's).
#[inline(never)]
pub(crate) fn extra<'a>(x: &mut Extra<'a>, key: &str, v: &'a str) {
    // Not options::find, which is the parser's (rlimit.* is no option of
    // Extra's).
    let Some(spec) = OPTIONS.iter().find(|s| s.key == key) else {
        return;
    };
    let Ok(val) = typed(spec.value, v) else {
        return;
    };
    match (spec.opt, val) {
        (Opt::Umask, Val::Int(n)) => x.umask = Some(n as u16),
        (Opt::CpuWeight, Val::Int(n)) => x.cpu_weight = Some(n as u16),
        (Opt::IoWeight, Val::Int(n)) => x.io_weight = Some(n as u16),
        (Opt::Nice, Val::Int(n)) => x.nice = Some(n as i8),
        (Opt::OomScore, Val::Int(n)) => x.oom_score = Some(n as i16),
        (Opt::User, Val::Id(id)) => x.user = Some(id),
        (Opt::Group, Val::Id(id)) => x.group = Some(id),
        (Opt::Dir, Val::Word(w)) => x.dir = Some(w),
        (Opt::Tty, Val::Word(w)) => x.tty = Some(w),
        (Opt::Cpus, Val::List(l)) => x.cpus = Some(l),
        (Opt::Cpuset, Val::List(l)) => x.cpuset = Some(l),
        (Opt::Mems, Val::List(l)) => x.mems = Some(l),
        (Opt::Numa, Val::Numa(n)) => x.numa = Some(n),
        (Opt::MemMax, Val::Limit(l)) => x.mem_max = l,
        (Opt::MemHigh, Val::Limit(l)) => x.mem_high = l,
        (Opt::MemLow, Val::Limit(l)) => x.mem_low = l,
        (Opt::SwapMax, Val::Limit(l)) => x.swap_max = l,
        (Opt::PidsMax, Val::Limit(l)) => x.pids_max = l,
        (Opt::CpuMax, Val::CpuMax(m)) => x.cpu_max = Some(m),
        (Opt::Sched, Val::Sched(s)) => x.sched = Some(s),
        (Opt::IoPrio, Val::IoPrio(p)) => x.ioprio = Some(p),
        _ => {}
    }
}
