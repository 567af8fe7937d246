//! The seam between the supervisor and the system: every effect the
//! supervisor has on processes, cgroups and the event loop goes through
//! `Effects`. `System` is the one implementation in the binary (the
//! supervisor is generic over it, so the seam costs nothing); the
//! supervisor's tests put a recording fake in its place.

use crate::place::cgroup::{self, Base};
use crate::supervise::epoll::Loop;
use crate::supervise::launch::{self, Context, Kept, LaunchError, Launched, Pass};
use crate::supervise::{listen, rundir};
use crate::table::{self, Listen, Table};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Pid;

pub(crate) trait Effects {
    /// Starts unit `i`'s process with its sockets, or an instance of it
    /// with its connection (launch.rs); a new output pipe is watched with
    /// `token::LOG | i`.
    fn spawn(
        &mut self,
        i: usize,
        u: &table::Unit<'_>,
        table: &Table<'_>,
        ctx: &Context<'_>,
        kept: &mut Kept,
        pass: Pass<'_>,
    ) -> Result<Launched, LaunchError>;
    /// `kill(pid, sig)`; a negative pid is a process group.
    fn kill(&mut self, pid: i32, sig: u32) -> Result<(), Errno>;
    /// `sig` through a pidfd: to that process, never to one that got its
    /// number later.
    fn signal(&mut self, pidfd: BorrowedFd<'_>, sig: u32) -> Result<(), Errno>;
    /// One SIGKILL sweep of a unit's cgroup, or of one of its instances'
    /// (removed once a sweep finds it empty); how many processes it found
    /// (any: another sweep follows, later, until one finds none).
    fn kill_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        instance: Option<u16>,
    ) -> Result<usize, Errno>;
    /// Binds a `listen=` socket of unit `u` (listen.rs); a failure is
    /// said on the console.
    fn bind(&mut self, u: &table::Unit<'_>, l: &Listen<'_>) -> Result<OwnedFd, Errno>;
    /// A connection waiting on a listening socket; `None`: none.
    fn accept(&mut self, fd: BorrowedFd<'_>) -> Result<Option<OwnedFd>, Errno>;
    /// Closes socket `l` of unit `u` for good (a reload removed or
    /// changed it) and removes its Unix socket file.
    fn unbind(&mut self, u: &table::Unit<'_>, l: &Listen<'_>, fd: OwnedFd);
    /// Removes a unit's (empty) cgroup and its first `instances`
    /// instances': a reload removed the unit.
    fn remove_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        instances: u16,
    ) -> Result<(), Errno>;
    /// Writes the cgroup limits of `which` (`cgroup_limits::rewrite`)
    /// while the unit runs: a reload changed them.
    fn rewrite_limits(&mut self, base: &Base, u: &table::Unit<'_>, which: u32, on: [bool; 5]);
    /// Notes a unit's state on its cgroup directory (`cgroup::record`).
    fn record(&mut self, cgroup: BorrowedFd<'_>, text: &[u8]) -> Result<(), Errno>;
    /// `sig` to every process of a unit's cgroup, and to `main` (through
    /// its pidfd, if PID 1 holds one) whether it is among them or not.
    fn signal_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        sig: u32,
        main: Option<(i32, Option<BorrowedFd<'_>>)>,
    ) -> Result<usize, Errno>;
    /// How many processes a unit's cgroup holds, and the first of them.
    fn procs(&self, base: &Base, unit: &str, isolated: bool) -> Result<(usize, i32), Errno>;
    /// The PID in a pidfile; `None` if it holds none.
    fn read_pid(&self, path: &str) -> Result<Option<i32>, Errno>;
    /// Whether `pid` is a child of this process (a daemon re-parented to
    /// it).
    fn is_child(&self, pid: i32) -> bool;
    /// Opens a unit's cgroup.events and watches it for changes with
    /// `token`; with whether the cgroup has processes.
    fn watch_events(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        token: u64,
    ) -> Result<(OwnedFd, bool), Errno>;
    /// Whether the cgroup of a watched cgroup.events has processes.
    fn populated(&mut self, fd: &OwnedFd) -> Result<bool, Errno>;
    /// Opens the cgroup.events of the cgroup whose directory is `dir`,
    /// unwatched, for `populated`.
    fn open_events(&mut self, dir: BorrowedFd<'_>) -> Result<OwnedFd, Errno>;
    /// Removes a unit's `runtime-dir=` directories.
    fn remove_runtime_dirs(&mut self, u: &table::Unit<'_>);
    /// The unit cgroup `pid` is in (`cgroup::unit_of`).
    fn cgroup_of(&self, base: &Base, pid: i32, name: &mut [u8; 64]) -> Option<(usize, bool)>;
    /// A main process: a pidfd for it, and whether it is our child
    /// (reaped as usual) rather than one to watch (its pidfd becomes
    /// readable when it exits).
    fn adopt(&mut self, pid: Pid) -> Result<(OwnedFd, bool), Errno>;
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
        pass: Pass<'_>,
    ) -> Result<Launched, LaunchError> {
        let ev = self.ev;
        launch::launch(u, table, ctx, kept, pass, |fd| {
            ev.add(fd, crate::supervise::epoll::token::LOG | i as u64)
        })
    }

    fn kill(&mut self, pid: i32, sig: u32) -> Result<(), Errno> {
        crate::sys::kill(pid, sig)
    }

    fn signal(&mut self, pidfd: BorrowedFd<'_>, sig: u32) -> Result<(), Errno> {
        crate::sys::pidfd_send_signal(pidfd, sig)
    }

    fn kill_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        instance: Option<u16>,
    ) -> Result<usize, Errno> {
        cgroup::kill(base, unit, isolated, instance)
    }

    fn bind(&mut self, u: &table::Unit<'_>, l: &Listen<'_>) -> Result<OwnedFd, Errno> {
        listen::bind(u.name, l, u.accept)
    }

    fn accept(&mut self, fd: BorrowedFd<'_>) -> Result<Option<OwnedFd>, Errno> {
        listen::accept(fd)
    }

    fn unbind(&mut self, _: &table::Unit<'_>, l: &Listen<'_>, fd: OwnedFd) {
        listen::unbind(l, fd)
    }

    fn remove_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        instances: u16,
    ) -> Result<(), Errno> {
        cgroup::remove(base, unit, isolated, instances)
    }

    fn rewrite_limits(&mut self, base: &Base, u: &table::Unit<'_>, which: u32, on: [bool; 5]) {
        crate::place::cgroup_limits::rewrite(base, u, which, on)
    }

    fn record(&mut self, cgroup: BorrowedFd<'_>, text: &[u8]) -> Result<(), Errno> {
        cgroup::record(cgroup, text)
    }

    fn signal_cgroup(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        sig: u32,
        main: Option<(i32, Option<BorrowedFd<'_>>)>,
    ) -> Result<usize, Errno> {
        cgroup::signal(base, unit, isolated, sig, main)
    }

    fn procs(&self, base: &Base, unit: &str, isolated: bool) -> Result<(usize, i32), Errno> {
        cgroup::procs(base, unit, isolated)
    }

    fn read_pid(&self, path: &str) -> Result<Option<i32>, Errno> {
        crate::sys::file::read_pid(path)
    }

    fn is_child(&self, pid: i32) -> bool {
        crate::sys::file::parent_of(pid) == Some(rustix::process::getpid().as_raw_nonzero().get())
    }

    fn watch_events(
        &mut self,
        base: &Base,
        unit: &str,
        isolated: bool,
        token: u64,
    ) -> Result<(OwnedFd, bool), Errno> {
        let (fd, populated) = cgroup::events(base, unit, isolated)?;
        self.ev.add_pri(&fd, token)?;
        Ok((fd, populated))
    }

    fn populated(&mut self, fd: &OwnedFd) -> Result<bool, Errno> {
        cgroup::populated(fd)
    }

    fn open_events(&mut self, dir: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
        cgroup::events_in(dir)
    }

    fn remove_runtime_dirs(&mut self, u: &table::Unit<'_>) {
        rundir::remove(u)
    }

    fn cgroup_of(&self, base: &Base, pid: i32, name: &mut [u8; 64]) -> Option<(usize, bool)> {
        cgroup::unit_of(base, pid, name)
    }

    fn adopt(&mut self, pid: Pid) -> Result<(OwnedFd, bool), Errno> {
        let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())?;
        Ok((fd, self.is_child(pid.as_raw_nonzero().get())))
    }

    fn watch(&mut self, fd: BorrowedFd<'_>, token: u64) -> Result<(), Errno> {
        self.ev.add(fd, token)
    }

    fn unwatch(&mut self, fd: BorrowedFd<'_>) {
        let _ = self.ev.remove(fd);
    }
}
