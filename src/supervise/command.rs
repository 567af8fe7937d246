//! What to run, and how: the command that `launch` builds and `spawn`
//! starts (and `frame` copies for a child that shares PID 1's memory).

use crate::place::process::Placement;
use crate::sys::CVec;
use core::ffi::CStr;
use rustix::fd::BorrowedFd;

/// Room in the execve vectors, their NULL included: the program and the
/// arguments the table allows, and the environment entries it allows
/// (the env files' 16 among them) plus PATH, NOTIFY_SOCKET, WATCHDOG_USEC
/// and WATCHDOG_PID.
pub(crate) const ARGV_MAX: usize = crate::table::capacity::ARGS_MAX + 1;
pub(crate) const ENVP_MAX: usize =
    crate::table::capacity::ENV_MAX + 2 * crate::table::capacity::UNIT_ENV_MAX + 5;

/// Where a unit's stdout and stderr go.
#[derive(Clone, Copy)]
pub(crate) enum Output<'a> {
    /// Keep PID 1's (the console).
    Inherit,
    /// A file opened in the child (/dev/null, /dev/console).
    Path(&'a CStr),
    /// The write end of a capture pipe.
    Fd(BorrowedFd<'a>),
}

/// Credentials to switch to, resolved before the fork.
#[derive(Clone, Copy)]
pub(crate) struct Creds<'a> {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) groups: &'a [u32],
}

/// What to run, and how.
pub(crate) struct Command<'a> {
    pub(crate) path: &'a CStr,
    pub(crate) argv: CVec<'a, ARGV_MAX>,
    pub(crate) envp: CVec<'a, ENVP_MAX>,
    /// A terminal to make the controlling one and put on fds 0/1/2.
    pub(crate) tty: Option<&'a CStr>,
    /// stdout/stderr when there is no terminal; stdin is /dev/null then.
    pub(crate) output: Output<'a>,
    /// The unit's cgroup directory.
    pub(crate) cgroup: Option<BorrowedFd<'a>>,
    /// `ready=fd:N`: this pipe end becomes fd N.
    pub(crate) ready_fd: Option<(BorrowedFd<'a>, i32)>,
    /// Sockets (sd_listen_fds(3)): fd 3, 4, ... in this order, with
    /// LISTEN_PID set in the child (LISTEN_FDS and LISTEN_FDNAMES are in
    /// `envp`).
    pub(crate) listen: &'a [BorrowedFd<'a>],
    /// An accepted connection (inetd style): stdin and stdout.
    pub(crate) conn: Option<BorrowedFd<'a>>,
    pub(crate) dir: Option<&'a CStr>,
    pub(crate) umask: Option<u32>,
    pub(crate) creds: Option<Creds<'a>>,
    pub(crate) no_new_privs: bool,
    /// Add `WATCHDOG_PID=<its pid>` to the environment.
    pub(crate) watchdog_pid: bool,
    /// Return the child's pidfd (`Started::pidfd`).
    pub(crate) pidfd: bool,
    /// Affinity, NUMA, scheduling, rlimits: set before privileges drop.
    pub(crate) placement: Placement<'a>,
}

impl<'a> Command<'a> {
    /// A command that runs `path` with nothing else set.
    pub(crate) fn new(path: &'a CStr) -> Command<'a> {
        Command {
            path,
            argv: CVec::new(),
            envp: CVec::new(),
            tty: None,
            output: Output::Inherit,
            cgroup: None,
            ready_fd: None,
            listen: &[],
            conn: None,
            dir: None,
            umask: None,
            creds: None,
            no_new_privs: false,
            watchdog_pid: false,
            pidfd: false,
            placement: Placement {
                cpus: None,
                numa: None,
                nice: None,
                sched: None,
                ioprio: None,
                oom_score: None,
                rlimits: &[],
            },
        }
    }
}
