//! Per-process placement, applied in the child between fork and exec
//! (docs/design.md §7): CPU affinity, NUMA memory
//! policy, nice, scheduling policy, I/O priority, OOM score, rlimits.
//! Each is only system calls, so it is safe after fork. Each is best
//! effort: a refusal is handed to the caller, and the others still apply.

use crate::sys;
use linux_raw_sys::general as k;
use rustix::io::Errno;

// The table's own types: what the parser produced is applied as is.
pub(crate) use crate::table::capacity::{MASK_WORDS, RLIMITS_MAX};
pub(crate) use crate::table::{IoPrio, Mask, Rlimit, Sched};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Numa {
    Bind(Mask),
    Preferred(u32),
    Interleave(Mask),
    Local,
}

/// Everything set on the process before exec.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Placement<'a> {
    pub(crate) cpus: Option<&'a Mask>,
    pub(crate) numa: Option<&'a Numa>,
    pub(crate) nice: Option<i8>,
    pub(crate) sched: Option<Sched>,
    pub(crate) ioprio: Option<IoPrio>,
    pub(crate) oom_score: Option<i16>,
    pub(crate) rlimits: &'a [Rlimit],
}

/// Which part of the placement failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum What {
    Cpus,
    Numa,
    Nice,
    Sched,
    IoPrio,
    OomScore,
    Rlimit,
}

/// Applies `p` to the calling process; `refused(what, rlimit resource,
/// errno)` hears of each setting the kernel refused.
pub(crate) fn apply(p: &Placement<'_>, refused: &mut dyn FnMut(What, u8, Errno)) {
    let mut check = |what: What, r: Result<(), Errno>| {
        if let Err(e) = r {
            refused(what, 0, e);
        }
    };
    if let Some(m) = p.cpus {
        check(What::Cpus, sys::sched_setaffinity(m.words()));
    }
    if let Some(n) = p.numa {
        let r = match n {
            Numa::Bind(m) => sys::set_mempolicy(sys::mpol::BIND, m.words()),
            Numa::Interleave(m) => sys::set_mempolicy(sys::mpol::INTERLEAVE, m.words()),
            Numa::Preferred(node) => {
                let mut m = Mask::EMPTY;
                m.set(*node as usize);
                sys::set_mempolicy(sys::mpol::PREFERRED, m.words())
            }
            Numa::Local => sys::set_mempolicy(sys::mpol::LOCAL, &[]),
        };
        check(What::Numa, r);
    }
    if let Some(n) = p.nice {
        check(
            What::Nice,
            rustix::process::setpriority_process(None, n as i32),
        );
    }
    if let Some(s) = p.sched {
        let (policy, prio) = match s {
            Sched::Other => (k::SCHED_NORMAL, 0),
            Sched::Fifo(p) => (k::SCHED_FIFO, p as i32),
            Sched::Rr(p) => (k::SCHED_RR, p as i32),
            Sched::Batch => (k::SCHED_BATCH, 0),
            Sched::Idle => (k::SCHED_IDLE, 0),
        };
        check(What::Sched, sys::sched_setscheduler(policy, prio));
    }
    if let Some(io) = p.ioprio {
        let (class, level) = match io {
            IoPrio::Rt(l) => (sys::ioprio::CLASS_RT, l as u32),
            IoPrio::Be(l) => (sys::ioprio::CLASS_BE, l as u32),
            IoPrio::Idle => (sys::ioprio::CLASS_IDLE, 0),
        };
        check(What::IoPrio, sys::ioprio_set(class, level));
    }
    if let Some(score) = p.oom_score {
        let mut buf = [0u8; 8];
        let text = fmt_i16(score, &mut buf);
        check(
            What::OomScore,
            crate::sys::file::write_file("/proc/self/oom_score_adj", text),
        );
    }
    // Last: a low rlimit.nofile must not keep oom_score_adj from opening.
    for l in p.rlimits {
        if let Err(e) = sys::setrlimit(l.resource, l.soft, l.hard) {
            refused(What::Rlimit, l.resource as u8, e);
        }
    }
}

fn fmt_i16(v: i16, buf: &mut [u8; 8]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'-';
        }
    }
    buf.get(i..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        let mut m = Mask::EMPTY;
        assert!(m.is_empty());
        assert_eq!(m.words(), &[] as &[u64]);
        assert!(m.set(3) && m.set(70));
        assert!(!m.set(64 * MASK_WORDS));
        assert!(m.has(3) && m.has(70) && !m.has(4));
        assert_eq!(m.words(), &[8, 64]);
    }

    #[test]
    fn oom_numbers() {
        let mut b = [0u8; 8];
        assert_eq!(fmt_i16(-1000, &mut b), b"-1000");
        let mut b = [0u8; 8];
        assert_eq!(fmt_i16(0, &mut b), b"0");
        let mut b = [0u8; 8];
        assert_eq!(fmt_i16(i16::MIN, &mut b), b"-32768");
    }

    #[test]
    fn affinity_is_what_the_kernel_reports() {
        // A thread of its own, so the test process keeps its affinity.
        let t = std::thread::spawn(|| {
            let mut m = Mask::EMPTY;
            m.set(0);
            let p = Placement {
                cpus: Some(&m),
                ..Placement::default()
            };
            let mut refused = std::vec::Vec::new();
            apply(&p, &mut |w, _, e| refused.push((w, e)));
            assert!(refused.is_empty(), "{:?}", refused);
            std::fs::read_to_string("/proc/thread-self/status").unwrap()
        });
        let status = t.join().unwrap();
        assert!(
            status.lines().any(|l| l == "Cpus_allowed_list:\t0"),
            "{}",
            status
        );
    }

    #[test]
    fn refusals_are_reported_and_the_rest_applies() {
        let t = std::thread::spawn(|| {
            let mut none = Mask::EMPTY;
            none.set(1000); // no such CPU: EINVAL
            let limits = [Rlimit {
                resource: 7, // RLIMIT_NOFILE
                soft: 10,
                hard: 5, // soft above hard: EINVAL
            }];
            let p = Placement {
                cpus: Some(&none),
                oom_score: Some(0),
                rlimits: &limits,
                ..Placement::default()
            };
            let mut refused = std::vec::Vec::new();
            apply(&p, &mut |w, d, e| refused.push((w, d, e)));
            refused
        });
        assert_eq!(
            t.join().unwrap(),
            [
                (What::Cpus, 0, Errno::INVAL),
                (What::Rlimit, 7, Errno::INVAL)
            ]
        );
    }
}
