//! The seam between the supervisor and the system: every effect the
//! supervisor has on processes, cgroups and the event loop goes through
//! `Effects`. `System` is the one implementation in the binary (the
//! supervisor is generic over it, so the seam costs nothing); the
//! supervisor's tests put a recording fake in its place.

use crate::place::cgroup::{self, Base};
use crate::supervise::epoll::Loop;
use crate::supervise::launch::{self, Conn, Context, Kept, LaunchError, Launched};
use crate::supervise::listen;
use crate::table::{self, Listen, Table};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Pid;

pub(crate) trait Effects {
    /// Starts unit `i`'s process, or with `conn` an instance of it
    /// (launch.rs); a new output pipe is watched with `token::LOG | i`.
    fn spawn(
        &mut self,
        i: usize,
        u: &table::Unit<'_>,
        table: &Table<'_>,
        ctx: &Context<'_>,
        kept: &mut Kept,
        conn: Option<Conn<'_>>,
    ) -> Result<Launched, LaunchError>;
    /// `kill(pid, sig)`; a negative pid is a process group.
    fn kill(&mut self, pid: i32, sig: u32) -> Result<(), Errno>;
    /// Kills every process left in a unit's cgroup, or in one of its
    /// instances' (then removed).
    fn kill_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        instance: Option<u16>,
    ) -> Result<(), Errno>;
    /// Binds a `listen=` socket of unit `u` (listen.rs); a failure is
    /// said on the console.
    fn bind(&mut self, u: &table::Unit<'_>, l: &Listen<'_>) -> Result<OwnedFd, Errno>;
    /// A connection waiting on a listening socket; `None`: none.
    fn accept(&mut self, fd: BorrowedFd<'_>) -> Result<Option<OwnedFd>, Errno>;
    /// The unit cgroup `pid` is in (`cgroup::unit_of`).
    fn cgroup_of(&self, base: &Base, pid: i32, name: &mut [u8; 64]) -> Option<(usize, bool)>;
    /// A MAINPID= process: `None` if it is our child (reaped as usual),
    /// else a pidfd that becomes readable when it exits.
    fn adopt(&mut self, pid: Pid) -> Result<Option<OwnedFd>, Errno>;
    /// Watches `fd` for input; its events come back with `token`.
    fn watch(&mut self, fd: BorrowedFd<'_>, token: u64) -> Result<(), Errno>;
    fn unwatch(&mut self, fd: BorrowedFd<'_>);
}

/// The real effects: system calls and the epoll loop.
pub(crate) struct System<'l> {
    ev: &'l Loop,
}

impl<'l> System<'l> {
    pub(crate) fn new(ev: &'l Loop) -> System<'l> {
        System { ev }
    }
}

impl Effects for System<'_> {
    fn spawn(
        &mut self,
        i: usize,
        u: &table::Unit<'_>,
        table: &Table<'_>,
        ctx: &Context<'_>,
        kept: &mut Kept,
        conn: Option<Conn<'_>>,
    ) -> Result<Launched, LaunchError> {
        let ev = self.ev;
        launch::launch(u, table, ctx, kept, conn, |fd| {
            ev.add(fd, crate::supervise::epoll::token::LOG | i as u64)
        })
    }

    fn kill(&mut self, pid: i32, sig: u32) -> Result<(), Errno> {
        crate::sys::kill(pid, sig)
    }

    fn kill_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        instance: Option<u16>,
    ) -> Result<(), Errno> {
        cgroup::kill(base, unit, isolated, instance)
    }

    fn bind(&mut self, u: &table::Unit<'_>, l: &Listen<'_>) -> Result<OwnedFd, Errno> {
        listen::bind(u.name, l, u.accept)
    }

    fn accept(&mut self, fd: BorrowedFd<'_>) -> Result<Option<OwnedFd>, Errno> {
        listen::accept(fd)
    }

    fn cgroup_of(&self, base: &Base, pid: i32, name: &mut [u8; 64]) -> Option<(usize, bool)> {
        cgroup::unit_of(base, pid, name)
    }

    fn adopt(&mut self, pid: Pid) -> Result<Option<OwnedFd>, Errno> {
        let p = pid.as_raw_nonzero().get();
        let ours = crate::sys::file::parent_of(p)
            == Some(rustix::process::getpid().as_raw_nonzero().get());
        if ours {
            return Ok(None);
        }
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).map(Some)
    }

    fn watch(&mut self, fd: BorrowedFd<'_>, token: u64) -> Result<(), Errno> {
        self.ev.add(fd, token)
    }

    fn unwatch(&mut self, fd: BorrowedFd<'_>) {
        let _ = self.ev.remove(fd);
    }
}
