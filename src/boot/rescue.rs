//! The rescue shell: `/bin/sh` as a login shell on the console, in its own
//! session with the console as controlling terminal, started again when it
//! exits. Used when there is no service table, or with `pinit.rescue`
//! (`single`, `S`, `1`) on the kernel command line.

use crate::say;
use crate::supervise::spawn::{self, Command, Report, Started};
use crate::sys::errno::Name;
use crate::sys::time::Ms;
use core::ffi::CStr;
use rustix::fd::{AsFd, OwnedFd};
use rustix::process::Pid;

/// A shell that dies sooner than this after its start waits this long
/// before the next one, so a missing /bin/sh cannot spin PID 1.
pub(crate) const RESPAWN_GUARD_MS: u64 = 1000;

/// The rescue shell's lifecycle, free of effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rescue {
    /// Not running; start it at this time.
    Due(Ms),
    Running {
        pid: Pid,
        since: Ms,
    },
    /// Shutting down: never start again.
    Off,
}

impl Rescue {
    pub(crate) fn new(now: Ms) -> Rescue {
        Rescue::Due(now)
    }

    /// When the loop must wake up for it.
    pub(crate) fn deadline(&self) -> Option<Ms> {
        match *self {
            Rescue::Due(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn is_due(&self, now: Ms) -> bool {
        matches!(*self, Rescue::Due(t) if t <= now)
    }

    pub(crate) fn started(&mut self, pid: Pid, now: Ms) {
        *self = Rescue::Running { pid, since: now };
    }

    /// The start failed: try again after the guard time.
    pub(crate) fn failed(&mut self, now: Ms) {
        *self = Rescue::Due(now.after(RESPAWN_GUARD_MS));
    }

    /// A child exited; returns true if it was the shell.
    pub(crate) fn exited(&mut self, pid: Pid, now: Ms) -> bool {
        match *self {
            Rescue::Running { pid: p, since } if p == pid => {
                let quick = now.since(since) < RESPAWN_GUARD_MS;
                *self = Rescue::Due(if quick {
                    now.after(RESPAWN_GUARD_MS)
                } else {
                    now
                });
                true
            }
            _ => false,
        }
    }

    /// Stops respawning; returns the running shell's pid, which should
    /// get SIGHUP: an interactive shell ignores SIGTERM, a hangup ends it.
    pub(crate) fn off(&mut self) -> Option<Pid> {
        let pid = match *self {
            Rescue::Running { pid, .. } => Some(pid),
            _ => None,
        };
        *self = Rescue::Off;
        pid
    }
}

/// Where /dev/console really goes: the last entry of
/// /sys/class/tty/console/active (`ttyS0` → `/dev/ttyS0`). /dev/console
/// itself can never be a controlling terminal.
pub(crate) fn console_tty(buf: &mut [u8; 64]) -> &CStr {
    const FALLBACK: &CStr = c"/dev/console";
    let mut raw = [0u8; 128];
    let n = match crate::sys::file::read_file("/sys/class/tty/console/active", &mut raw) {
        Ok(n) => n,
        Err(_) => return FALLBACK,
    };
    let text = raw.get(..n).unwrap_or(&[]);
    let name = match text
        .split(|b| b.is_ascii_whitespace())
        .rfind(|w| !w.is_empty())
    {
        Some(w) => w,
        None => return FALLBACK,
    };
    let prefix = b"/dev/";
    let total = prefix.len() + name.len();
    let path = prefix.iter().chain(name).chain(&[0u8]);
    match buf.get_mut(..=total) {
        Some(dst) => dst.iter_mut().zip(path).for_each(|(d, s)| *d = *s),
        None => return FALLBACK,
    }
    CStr::from_bytes_with_nul(buf.get(..=total).unwrap_or(&[])).unwrap_or(FALLBACK)
}

/// Starts the shell on `tty`.
pub(crate) fn start(tty: &CStr) -> Option<Started> {
    let mut cmd = Command::new(c"/bin/sh");
    cmd.tty = Some(tty);
    // A leading `-` makes it a login shell: it reads /etc/profile.
    let _ = cmd.argv.push(c"-sh");
    for e in [
        c"HOME=/",
        c"TERM=linux",
        c"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ] {
        let _ = cmd.envp.push(e);
    }
    match spawn::spawn(&cmd) {
        Ok(started) => {
            say!(
                "rescue: /bin/sh started on {} (pid {})",
                tty.to_str().unwrap_or("?"),
                started.pid.as_raw_nonzero()
            );
            Some(started)
        }
        Err(e) => {
            say!("rescue: unable to fork: {}", Name(e));
            None
        }
    }
}

/// After the shell's exit: what its report says, if it never ran (no
/// placement is asked, so there are no warnings). Never blocks.
pub(crate) fn why(report: &OwnedFd, tty: &CStr) {
    if let Report::Failed(step, e) = spawn::read_report(report.as_fd()) {
        say!(
            "rescue: unable to {} (/bin/sh on {}): {}",
            step.what(),
            tty.to_str().unwrap_or("?"),
            Name(e)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(n: i32) -> Pid {
        Pid::from_raw(n).unwrap()
    }

    #[test]
    fn starts_at_once() {
        let r = Rescue::new(Ms(5));
        assert!(r.is_due(Ms(5)));
        assert_eq!(r.deadline(), Some(Ms(5)));
    }

    #[test]
    fn long_run_restarts_at_once_quick_death_waits() {
        let mut r = Rescue::new(Ms(0));
        r.started(pid(10), Ms(0));
        assert_eq!(r.deadline(), None);
        assert!(
            !r.exited(pid(11), Ms(100)),
            "another child is not the shell"
        );
        assert!(r.exited(pid(10), Ms(100)));
        assert_eq!(r.deadline(), Some(Ms(1100)));
        r.started(pid(12), Ms(1100));
        assert!(r.exited(pid(12), Ms(9000)));
        assert_eq!(r.deadline(), Some(Ms(9000)));
    }

    #[test]
    fn off_hands_back_the_running_shell() {
        let mut r = Rescue::new(Ms(0));
        r.started(pid(7), Ms(0));
        assert_eq!(r.off(), Some(pid(7)));
        assert_eq!(r, Rescue::Off);
    }

    #[test]
    fn failed_start_waits_and_off_stays_off() {
        let mut r = Rescue::new(Ms(0));
        r.failed(Ms(0));
        assert!(!r.is_due(Ms(999)));
        assert!(r.is_due(Ms(1000)));
        assert_eq!(r.off(), None);
        assert!(!r.is_due(Ms(u64::MAX)));
        assert!(!r.exited(pid(1), Ms(1)));
    }
}
