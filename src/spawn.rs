//! Starting a process. Everything the child needs is prepared before the
//! fork; between fork and exec the child only makes system calls, in this
//! order, and reports `{step, errno}` over a CLOEXEC pipe if one fails:
//!
//! 1. unblock every signal (PID 1 blocks them for its signalfd; it never
//!    installs handlers, so dispositions are already the defaults);
//! 2. `setsid()`: its own session;
//! 3. for a terminal: open it, make it the controlling terminal, put it on
//!    fds 0/1/2;
//! 4. `execve()`.
//!
//! The parent reads the pipe until EOF (exec closed it) to learn whether
//! the program runs, so "missing binary" is reported by PID 1 with errno.

use crate::sys::{self, CVec, Forked, SigSet};
use core::ffi::CStr;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::Pid;

/// Most arguments (and environment entries) one exec carries.
pub const ARGV_MAX: usize = 64;

/// What to run.
pub struct Plan<'a> {
    pub path: &'a CStr,
    pub argv: CVec<'a, ARGV_MAX>,
    pub envp: CVec<'a, ARGV_MAX>,
    /// A terminal to make the controlling one and put on fds 0/1/2.
    pub tty: Option<&'a CStr>,
}

/// The step of the child's set-up that failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    SignalMask = 1,
    Session = 2,
    OpenTty = 3,
    ControllingTty = 4,
    StdioTty = 5,
    Exec = 6,
}

impl Step {
    fn from_u8(b: u8) -> Step {
        match b {
            1 => Step::SignalMask,
            2 => Step::Session,
            3 => Step::OpenTty,
            4 => Step::ControllingTty,
            5 => Step::StdioTty,
            _ => Step::Exec,
        }
    }

    /// The verb and object for `unable to ...`.
    pub fn what(self) -> &'static str {
        match self {
            Step::SignalMask => "reset the signal mask",
            Step::Session => "start a session",
            Step::OpenTty => "open the terminal",
            Step::ControllingTty => "take the terminal as controlling terminal",
            Step::StdioTty => "put the terminal on fds 0-2",
            Step::Exec => "execute",
        }
    }
}

/// Why a spawn failed: in the parent (fork, pipe) or in the child.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    Fork(Errno),
    Child(Option<Pid>, Step, Errno),
}

/// Starts `plan`; returns the child's pid once it has exec'd.
pub fn spawn(plan: &Plan<'_>) -> Result<Pid, Error> {
    let (rd, wr) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(Error::Fork)?;
    match sys::fork(None).map_err(Error::Fork)? {
        Forked::Child => {
            drop(rd);
            let (step, e) = child(plan);
            let mut msg = [0u8; 5];
            msg[0] = step as u8;
            msg[1..].copy_from_slice(&e.raw_os_error().to_ne_bytes());
            let _ = rustix::io::write(&wr, &msg);
            sys::exit(127);
        }
        Forked::Parent(pid) => {
            drop(wr);
            match read_report(&rd) {
                None => Ok(pid),
                Some((step, e)) => Err(Error::Child(Some(pid), step, e)),
            }
        }
    }
}

fn read_report(rd: &OwnedFd) -> Option<(Step, Errno)> {
    let mut msg = [0u8; 5];
    let mut got = 0;
    while got < msg.len() {
        match rustix::io::read(rd, msg.get_mut(got..)?) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(_) => break,
        }
    }
    if got != msg.len() {
        return None;
    }
    let e = i32::from_ne_bytes([msg[1], msg[2], msg[3], msg[4]]);
    Some((Step::from_u8(msg[0]), Errno::from_raw_os_error(e)))
}

/// The child's side: returns only on failure.
fn child(plan: &Plan<'_>) -> (Step, Errno) {
    if let Err(e) = sys::set_signal_mask(SigSet::EMPTY) {
        return (Step::SignalMask, e);
    }
    if let Err(e) = rustix::process::setsid() {
        return (Step::Session, e);
    }
    if let Some(tty) = plan.tty {
        if let Err(r) = take_tty(tty) {
            return r;
        }
    }
    (Step::Exec, sys::execve(plan.path, &plan.argv, &plan.envp))
}

fn take_tty(path: &CStr) -> Result<(), (Step, Errno)> {
    let fd = fs::open(
        path,
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| (Step::OpenTty, e))?;
    rustix::process::ioctl_tiocsctty(&fd).map_err(|e| (Step::ControllingTty, e))?;
    let f = fd.as_fd();
    rustix::stdio::dup2_stdin(f)
        .and_then(|_| rustix::stdio::dup2_stdout(f))
        .and_then(|_| rustix::stdio::dup2_stderr(f))
        .map_err(|e| (Step::StdioTty, e))?;
    Ok(())
}
