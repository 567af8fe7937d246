//! Starting a process. Everything the child needs is prepared before the
//! fork; between fork and exec the child only makes system calls, in this
//! order, and reports `{step, errno}` over a CLOEXEC pipe if one fails
//! (placement failures are warnings: reported, and the exec goes on):
//!
//! 1. unblock every signal (PID 1 blocks them for its signalfd) and reset
//!    to the default every disposition that was not the default when
//!    pinit started (whatever started `pinit --config` may have left
//!    signals ignored, and SIG_IGN survives exec; pinit sets none itself);
//! 2. join the unit's cgroup if clone3 could not put it there;
//! 3. `setsid()`: its own session;
//! 4. fds: a terminal (opened, made the controlling terminal, on 0/1/2),
//!    or stdin from /dev/null (an accepted connection: on 0 and 1) and
//!    stdout/stderr as the unit's log says; then fds 3 and up: every fd
//!    to place (the listening sockets, the readiness pipe, and the report
//!    pipe itself) is first copied above all the targets, so no placement
//!    can clobber another, then the sockets go to 3, 4, ... and the
//!    readiness pipe to N, CLOEXEC cleared on those copies only;
//! 5. placement: affinity, NUMA policy, nice, scheduling policy, I/O
//!    priority, OOM score, rlimits (before privileges drop: some need
//!    root); each refusal is a warning record, and the child goes on;
//! 6. `umask`, `chdir`;
//! 7. supplementary groups, gid, uid (in that order: groups need root);
//! 8. `no_new_privs`;
//! 9. `LISTEN_PID=` when it gets sockets (sd_listen_fds(3)) and, with a
//!    watchdog (`watchdog=`), `WATCHDOG_PID=`: its own pid (getpid)
//!    appended to a copy of the environment on its stack (no
//!    allocation): known only here;
//! 10. `execve()`.
//!
//! Every fd PID 1 holds is CLOEXEC, so only 0/1/2, the sockets and the
//! readiness fd reach the program. The report pipe's write end is kept
//! clear of those (never 0-2, never the readiness fd's N, moved above
//! the sockets' 3, 4, ... in the child before they are placed), so
//! placing an fd cannot clobber it.
//!
//! The child usually runs in PID 1's memory until its exec (CLONE_VM: no
//! page tables copied, no copy-on-write faults), on a stack of the
//! `NURSERIES` and its copy of the command (`frame`); while all are
//! taken, or where the kernel refuses, it is a fork. The steps above are
//! the same either way (docs/design.md §5).
//!
//! PID 1 never waits for the child: `spawn` returns once it has forked,
//! with the pipe's non-blocking read end, which the event loop watches
//! (`read_report`) until EOF (exec closed it) or a failure record. A child
//! that blocks before its exec (a terminal without carrier, a hung mount
//! in `chdir`, a frozen cgroup) blocks nothing else: its unit stays
//! `starting`. So "missing binary" is still reported by PID 1 with errno.
//!
//! Placement is best effort: a CPU or node that does not exist, a policy
//! the kernel refuses, leaves the process as it was in that respect, and
//! the child sends a warning record and goes on. The kernel's own answer
//! (errno) is what counts, for every step; checking /sys beforehand in PID
//! 1 would cover only CPUs and nodes, and would still race with hotplug.
//! Records are 8 bytes, `[kind, step, detail, 0, errno (4, native)]`,
//! written whole (below PIPE_BUF, so atomic); `kind` 1 is fatal (the last
//! record), 2 a warning; `detail` is the rlimit resource.

use super::frame::Frame;
use crate::place::process::{self, What};
use crate::sys::vm_child::{Nursery, Pool};
use crate::sys::{self, Forked, SigSet};
use core::ffi::CStr;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::Pid;

pub(crate) use super::command::{Command, Creds, Output, ARGV_MAX, ENVP_MAX};

/// The step of the child's set-up that failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Step {
    SignalMask = 1,
    Session = 2,
    OpenTty = 3,
    ControllingTty = 4,
    StdioTty = 5,
    Exec = 6,
    Cgroup = 7,
    Stdio = 8,
    Fds = 9,
    Dir = 10,
    Groups = 11,
    Gid = 12,
    Uid = 13,
    NoNewPrivs = 14,
    WatchdogPid = 15,
    Cpus = 20,
    Numa = 21,
    Nice = 22,
    Sched = 23,
    IoPrio = 24,
    OomScore = 25,
    Rlimit = 26,
}

impl Step {
    fn from_u8(b: u8) -> Step {
        match b {
            1 => Step::SignalMask,
            2 => Step::Session,
            3 => Step::OpenTty,
            4 => Step::ControllingTty,
            5 => Step::StdioTty,
            7 => Step::Cgroup,
            8 => Step::Stdio,
            9 => Step::Fds,
            10 => Step::Dir,
            11 => Step::Groups,
            12 => Step::Gid,
            13 => Step::Uid,
            14 => Step::NoNewPrivs,
            15 => Step::WatchdogPid,
            20 => Step::Cpus,
            21 => Step::Numa,
            22 => Step::Nice,
            23 => Step::Sched,
            24 => Step::IoPrio,
            25 => Step::OomScore,
            26 => Step::Rlimit,
            _ => Step::Exec,
        }
    }

    /// The verb and object for `unable to ...`.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Step::SignalMask => "reset the signal mask",
            Step::Session => "start a session",
            Step::OpenTty => "open the terminal",
            Step::ControllingTty => "take the terminal as controlling terminal",
            Step::StdioTty => "put the terminal on fds 0-2",
            Step::Exec => "execute",
            Step::Cgroup => "join the unit's cgroup",
            Step::Stdio => "set up stdin/stdout/stderr",
            Step::Fds => "pass its sockets and readiness fd to",
            Step::Dir => "change to the working directory",
            Step::Groups => "set the supplementary groups",
            Step::Gid => "set the group id",
            Step::Uid => "set the user id",
            Step::NoNewPrivs => "set no_new_privs",
            Step::WatchdogPid => "add WATCHDOG_PID to the environment of",
            Step::Cpus => "set the CPU affinity",
            Step::Numa => "set the NUMA memory policy",
            Step::Nice => "set the nice value",
            Step::Sched => "set the scheduling policy",
            Step::IoPrio => "set the I/O priority",
            Step::OomScore => "set the OOM score",
            Step::Rlimit => "set a resource limit",
        }
    }
}

/// A record's kind.
const FATAL: u8 = 1;
const WARNING: u8 = 2;

/// A placement step the kernel refused; the process runs without it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Warning {
    pub(crate) step: Step,
    /// The rlimit resource, for `Step::Rlimit`.
    pub(crate) detail: u8,
    pub(crate) errno: Errno,
}

impl Warning {
    /// The option's key in the table: `cpus`, `numa`, ..., `rlimit.NAME`.
    pub(crate) fn option(&self) -> &'static str {
        match self.step {
            Step::Cpus => "cpus",
            Step::Numa => "numa",
            Step::Nice => "nice",
            Step::Sched => "sched",
            Step::IoPrio => "ioprio",
            Step::OomScore => "oom-score",
            Step::Rlimit => crate::table::model::RLIMIT_KEYS
                .get(self.detail as usize)
                .copied()
                .unwrap_or("rlimit"),
            _ => "?",
        }
    }
}

/// A forked child: its pid, the read end (non-blocking) of its report
/// pipe, and its pidfd if `Command::pidfd` asked for one (none on
/// kernels before 5.3).
pub(crate) struct Started {
    pub(crate) pid: Pid,
    pub(crate) report: OwnedFd,
    pub(crate) pidfd: Option<OwnedFd>,
}

/// Forks the child that runs `cmd`; returns at once, before its exec.
/// Read what it reports with `read_report` (fork or pipe failure: Err).
pub(crate) fn spawn(cmd: &Command<'_>) -> Result<Started, Errno> {
    let (rd, wr) = rustix::pipe::pipe_with(
        rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
    )?;
    let wr = clear_of(wr, cmd.ready_fd.map(|(_, n)| n))?;
    if let Some(Ok((pid, pidfd))) = spawn_shared(cmd, &wr) {
        return Ok(Started {
            pid,
            report: rd,
            pidfd,
        });
    }
    let forked = match sys::fork(cmd.cgroup, cmd.pidfd) {
        // Kernels before 5.7 lack CLONE_INTO_CGROUP: join in the child.
        Err(Errno::INVAL) | Err(Errno::NOSYS) | Err(Errno::TOOBIG) if cmd.cgroup.is_some() => {
            sys::fork(None, cmd.pidfd).map(|f| (f, true))
        }
        other => other.map(|f| (f, false)),
    };
    match forked? {
        (Forked::Child, join) => {
            drop(rd);
            let mut wr = wr;
            let (step, e) = child(cmd, join, &mut wr);
            record(&wr, FATAL, step, 0, e);
            sys::exit(127);
        }
        (Forked::Parent(pid, pidfd), _) => Ok(Started {
            pid,
            report: rd,
            pidfd,
        }),
    }
}

/// The frames and stacks of children that run in PID 1's memory until
/// their exec (sys::vm_child), one per child that has not exec'd yet: a
/// start while all are taken (a burst of more, children blocked before
/// their exec) forks. Their pages go back to the kernel once their
/// children have exec'd, so what they cost PID 1 is address space and,
/// for the moment of a burst, two pages per child.
static NURSERIES: Pool<Frame, ROOMS> = Pool::new(&ROOMS_OF);
static ROOMS_OF: [Nursery<Frame>; ROOMS] = [const { Nursery::new(Frame::new()) }; ROOMS];

/// How many children may run in PID 1's memory at once: a pool's most,
/// so a burst of 32 starts forks none (hand-over → 32 services 0.6 ms
/// sooner on x86_64, 0.9 on aarch64, than with 8; docs/design.md §5).
/// An untouched room is only address space.
const ROOMS: usize = 32;

/// Starts `cmd` in a child that shares PID 1's memory: no page tables
/// copied or torn down, no copy-on-write faults. `None` when every nursery
/// is taken, the command does not fit its frame, sets an OOM score, or the
/// kernel refuses
/// (clone3 before 5.3, CLONE_INTO_CGROUP before 5.7, or any error): a
/// fork then does the same, or reports why it cannot.
fn spawn_shared(cmd: &Command<'_>, wr: &OwnedFd) -> Option<Result<(Pid, Option<OwnedFd>), Errno>> {
    // The kernel gives an oom_score_adj written by a process that shares
    // its memory to every other sharer but the global init: to `pinit
    // --config`, or a PID 1 in a PID namespace, too. So `oom-score=`
    // forks.
    if cmd.placement.oom_score.is_some() {
        return None;
    }
    let mut lease = NURSERIES.lend()?;
    if !lease.fill(cmd) {
        return None;
    }
    Some(lease.start(cmd.cgroup, cmd.pidfd, wr.as_fd(), run_shared))
}

/// The shared child: the command from its frame, then what a forked
/// child does.
fn run_shared(frame: &Frame, mut wr: OwnedFd) -> ! {
    let mut listen = heapless::Vec::new();
    let mut cmd = Command::new(c"/");
    let (step, e) = match frame.command(&mut cmd, &mut listen) {
        Some(()) => child(&cmd, false, &mut wr),
        // `fill` made the frame: not reached.
        None => (Step::Exec, Errno::INVAL),
    };
    record(&wr, FATAL, step, 0, e);
    sys::exit(127);
}

/// `fd`, or a CLOEXEC copy of it, with a number that is none of those
/// the child places (0, 1, 2 and the readiness fd `n`), so placing them
/// cannot replace it.
pub(crate) fn clear_of(fd: OwnedFd, n: Option<i32>) -> Result<OwnedFd, Errno> {
    let taken = |f: &OwnedFd| {
        let raw = rustix::fd::AsRawFd::as_raw_fd(f);
        raw <= 2 || Some(raw) == n
    };
    if !taken(&fd) {
        return Ok(fd);
    }
    // The lowest free number from 3 on; if that is N (free until now),
    // the next one, while the first copy holds N.
    let copy = rustix::io::fcntl_dupfd_cloexec(&fd, 3)?;
    if !taken(&copy) {
        return Ok(copy);
    }
    rustix::io::fcntl_dupfd_cloexec(&fd, 3)
}

/// What the child's report pipe says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Report {
    /// Nothing yet: the child has not exec'd, failed or died.
    Pending,
    /// A placement step was refused; more may follow.
    Warning(Warning),
    /// The child's set-up failed at `step`; it exits.
    Failed(Step, Errno),
    /// EOF: the exec closed the pipe, the program runs (or the child was
    /// killed before its exec: its exit status tells).
    Execd,
}

/// The next thing the report pipe says; never blocks.
pub(crate) fn read_report(rd: BorrowedFd<'_>) -> Report {
    let mut msg = [0u8; 8];
    let n = loop {
        match rustix::io::read(rd, &mut msg) {
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => return Report::Pending,
            Ok(n) => break n,
            Err(_) => break 0,
        }
    };
    if n != msg.len() {
        // EOF (records are written whole, in one write each): the child
        // exec'd or died, and if it ran in PID 1's memory, that is free.
        NURSERIES.release();
        return Report::Execd;
    }
    let e = i32::from_ne_bytes([msg[4], msg[5], msg[6], msg[7]]);
    let w = Warning {
        step: Step::from_u8(msg[1]),
        detail: msg[2],
        errno: Errno::from_raw_os_error(e),
    };
    if msg[0] == WARNING {
        Report::Warning(w)
    } else {
        Report::Failed(w.step, w.errno)
    }
}

/// A failure record as the child writes it (supervisor tests).
#[cfg(test)]
pub(crate) fn report_failure(wr: &OwnedFd, step: Step, e: Errno) {
    record(wr, FATAL, step, 0, e);
}

/// The child's report to PID 1: one record, one write.
fn record(wr: &OwnedFd, kind: u8, step: Step, detail: u8, e: Errno) {
    let mut msg = [kind, step as u8, detail, 0, 0, 0, 0, 0];
    msg[4..].copy_from_slice(&e.raw_os_error().to_ne_bytes());
    let _ = rustix::io::write(wr, &msg);
}

/// The child's side: returns only on failure. `wr` may be moved (fds).
fn child(cmd: &Command<'_>, join_cgroup: bool, wr: &mut OwnedFd) -> (Step, Errno) {
    if let Err(r) = setup(cmd, join_cgroup, wr) {
        return r;
    }
    let (listen, watchdog) = (!cmd.listen.is_empty(), cmd.watchdog_pid);
    if !listen && !watchdog {
        return (Step::Exec, sys::execve(cmd.path, &cmd.argv, &cmd.envp));
    }
    let pid = rustix::process::getpid();
    let (mut lbuf, mut wbuf) = ([0u8; PID_ENTRY_MAX], [0u8; PID_ENTRY_MAX]);
    let mut envp = cmd.envp;
    if listen
        && envp
            .push(pid_entry(b"LISTEN_PID=", pid, &mut lbuf))
            .is_err()
    {
        return (Step::Exec, Errno::TOOBIG);
    }
    if watchdog
        && envp
            .push(pid_entry(b"WATCHDOG_PID=", pid, &mut wbuf))
            .is_err()
    {
        return (Step::WatchdogPid, Errno::TOOBIG);
    }
    (Step::Exec, sys::execve(cmd.path, &cmd.argv, &envp))
}

/// `KEY=` (at most 13 bytes), the longest pid (10 digits) and a NUL.
const PID_ENTRY_MAX: usize = 24;

/// `KEY=PID` in `buf` (`LISTEN_PID=`, `WATCHDOG_PID=`: the exec'd
/// process's own pid, which sd_listen_fds(3) and sd_watchdog_enabled(3)
/// check), without formatting machinery (the child between fork and
/// exec).
fn pid_entry<'b>(key: &[u8], pid: Pid, buf: &'b mut [u8; PID_ENTRY_MAX]) -> &'b CStr {
    let mut digits = [0u8; 10];
    let mut n = pid.as_raw_nonzero().get().unsigned_abs();
    let mut len = 0;
    while let Some(d) = digits.get_mut(len) {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    let mut at = 0;
    for &b in key.iter().chain(digits.iter().take(len).rev()) {
        if let Some(slot) = buf.get_mut(at) {
            *slot = b;
            at += 1;
        }
    }
    // The buffer was zeroed and has room for the NUL.
    CStr::from_bytes_until_nul(buf.as_slice()).unwrap_or(c"")
}

fn setup(cmd: &Command<'_>, join_cgroup: bool, wr: &mut OwnedFd) -> Result<(), (Step, Errno)> {
    sys::set_signal_mask(SigSet::EMPTY).map_err(|e| (Step::SignalMask, e))?;
    sys::reset_signal_dispositions();
    if let (true, Some(dir)) = (join_cgroup, cmd.cgroup) {
        join(dir).map_err(|e| (Step::Cgroup, e))?;
    }
    rustix::process::setsid().map_err(|e| (Step::Session, e))?;
    match cmd.tty {
        Some(tty) => take_tty(tty)?,
        None => stdio(cmd.output, cmd.conn).map_err(|e| (Step::Stdio, e))?,
    }
    place(cmd, wr).map_err(|e| (Step::Fds, e))?;
    let wr: &OwnedFd = wr;
    process::apply(&cmd.placement, &mut |what, detail, e| {
        record(wr, WARNING, placement_step(what), detail, e)
    });
    if let Some(mask) = cmd.umask {
        rustix::process::umask(Mode::from_raw_mode(mask));
    }
    if let Some(dir) = cmd.dir {
        rustix::process::chdir(dir).map_err(|e| (Step::Dir, e))?;
    }
    if let Some(c) = cmd.creds {
        drop_privileges(c)?;
    }
    if cmd.no_new_privs {
        rustix::thread::set_no_new_privs(true).map_err(|e| (Step::NoNewPrivs, e))?;
    }
    Ok(())
}

/// Fds 3 and up: the sockets on 3, 4, ..., the readiness pipe on N.
/// Every source (the report pipe `wr` too) is first copied off every
/// target, so that placing one cannot close another; the copies are
/// CLOEXEC, and dup3 clears CLOEXEC on the placed fd only.
fn place(cmd: &Command<'_>, wr: &mut OwnedFd) -> Result<(), Errno> {
    let ready_to = cmd.ready_fd.map_or(0, |(_, n)| n);
    if cmd.listen.is_empty() && ready_to == 0 {
        return Ok(());
    }
    // Lowest first, as dup does; never on N (the limit of open fds may
    // leave nothing above N).
    let low = 3 + cmd.listen.len() as i32;
    let high = |fd: BorrowedFd<'_>| {
        let copy = rustix::io::fcntl_dupfd_cloexec(fd, low)?;
        if copy.as_raw_fd() == ready_to {
            return rustix::io::fcntl_dupfd_cloexec(&copy, ready_to + 1);
        }
        Ok(copy)
    };
    *wr = high(wr.as_fd())?;
    let ready = match cmd.ready_fd {
        Some((fd, n)) => Some((high(fd)?, n)),
        None => None,
    };
    let mut socks: heapless::Vec<OwnedFd, { crate::table::capacity::LISTEN_MAX }> =
        heapless::Vec::new();
    for &fd in cmd.listen {
        socks.push(high(fd)?).map_err(|_| Errno::MFILE)?;
    }
    for (n, fd) in (3..).zip(socks.iter()) {
        sys::dup_to(fd.as_fd(), n)?;
    }
    if let Some((fd, n)) = ready {
        sys::dup_to(fd.as_fd(), n)?;
    }
    Ok(())
}

fn placement_step(w: What) -> Step {
    match w {
        What::Cpus => Step::Cpus,
        What::Numa => Step::Numa,
        What::Nice => Step::Nice,
        What::Sched => Step::Sched,
        What::IoPrio => Step::IoPrio,
        What::OomScore => Step::OomScore,
        What::Rlimit => Step::Rlimit,
    }
}

/// Writes our pid into the cgroup's `cgroup.procs` (relative to its dir fd).
fn join(dir: BorrowedFd<'_>) -> Result<(), Errno> {
    let fd = fs::openat(
        dir,
        c"cgroup.procs",
        OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    rustix::io::write(&fd, b"0").map(|_| ())
}

/// stdin from /dev/null, or an accepted connection on stdin and stdout;
/// stdout (unless the connection took it) and stderr as the log says.
fn stdio(output: Output<'_>, conn: Option<BorrowedFd<'_>>) -> Result<(), Errno> {
    match conn {
        Some(c) => {
            rustix::stdio::dup2_stdin(c)?;
            rustix::stdio::dup2_stdout(c)?;
        }
        None => {
            let null = fs::open(c"/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())?;
            rustix::stdio::dup2_stdin(&null)?;
        }
    }
    let opened;
    let out = match output {
        Output::Inherit => return Ok(()),
        Output::Path(p) => {
            opened = fs::open(
                p,
                OFlags::WRONLY | OFlags::NOCTTY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            opened.as_fd()
        }
        Output::Fd(fd) => fd,
    };
    if conn.is_none() {
        rustix::stdio::dup2_stdout(out)?;
    }
    rustix::stdio::dup2_stderr(out)
}

fn drop_privileges(c: Creds<'_>) -> Result<(), (Step, Errno)> {
    use rustix::process::{Gid, Uid};
    let mut groups = [Gid::ROOT; crate::supervise::passwd::GROUPS_MAX];
    let n = c.groups.len().min(groups.len());
    for (dst, &g) in groups.iter_mut().zip(c.groups.iter()) {
        *dst = Gid::from_raw(g);
    }
    rustix::thread::set_thread_groups(groups.get(..n).unwrap_or(&[]))
        .map_err(|e| (Step::Groups, e))?;
    let gid = Gid::from_raw(c.gid);
    rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(|e| (Step::Gid, e))?;
    let uid = Uid::from_raw(c.uid);
    rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(|e| (Step::Uid, e))?;
    Ok(())
}

fn take_tty(path: &CStr) -> Result<(), (Step, Errno)> {
    // O_NONBLOCK: a serial line without CLOCAL would wait for carrier in
    // open(2); the program gets a blocking terminal all the same.
    let fd = fs::open(
        path,
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .map_err(|e| (Step::OpenTty, e))?;
    fs::fcntl_setfl(&fd, OFlags::empty()).map_err(|e| (Step::OpenTty, e))?;
    rustix::process::ioctl_tiocsctty(&fd).map_err(|e| (Step::ControllingTty, e))?;
    let f = fd.as_fd();
    rustix::stdio::dup2_stdin(f)
        .and_then(|_| rustix::stdio::dup2_stdout(f))
        .and_then(|_| rustix::stdio::dup2_stderr(f))
        .map_err(|e| (Step::StdioTty, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::process::{Mask, Placement, Rlimit};
    use crate::sys::vm_child::Lease;
    use std::os::unix::fs::PermissionsExt;

    static ROOM: Nursery<Frame> = Nursery::new(Frame::new());

    /// Starts `cmd` on a lent nursery: its pid and its report pipe's read
    /// end (non-blocking).
    fn start(lease: Option<Lease<Frame>>, cmd: &Command<'_>) -> (Pid, OwnedFd) {
        let (rd, wr) = rustix::pipe::pipe_with(
            rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
        )
        .unwrap();
        let mut lease = lease.unwrap();
        assert!(lease.fill(cmd));
        let (pid, _) = lease.start(None, false, wr.as_fd(), run_shared).unwrap();
        (pid, rd)
    }

    /// The report once the pipe says more than `Pending`: another test's
    /// child, forked while this pipe was open, may hold a copy of its
    /// write end until that child's own exec.
    fn report(rd: &OwnedFd) -> Report {
        for _ in 0..1000 {
            match read_report(rd.as_fd()) {
                Report::Pending => std::thread::sleep(std::time::Duration::from_millis(10)),
                r => return r,
            }
        }
        Report::Pending
    }

    /// Waits for `pid`; whether it exited with status 0.
    fn exited_0(pid: Pid) -> bool {
        let status = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())
            .unwrap()
            .unwrap();
        status.1.exit_status() == Some(0)
    }

    /// A child in PID 1's memory gets every part of a full command (the
    /// arguments and environment the table allows, its sockets and
    /// readiness fd, a working directory, placement, credentials), exec's
    /// and frees the nursery; its set-up stays within a quarter of its
    /// stack, which nothing guards. The script is sh's argument, not the
    /// program: a child another test forks while the script is being
    /// written holds it open for writing until its own exec, and exec'ing
    /// the script then fails with ETXTBSY.
    #[test]
    fn a_shared_child_runs_a_full_command_in_a_quarter_of_its_stack() {
        let dir = std::env::temp_dir().join(format!("pinit-vm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("show");
        std::fs::write(
            &script,
            "printf '%s\\n' \"$@\" > args\nenv > env\n\
             ls /proc/self/fd > fds\ngrep -E '^(Cpus_allowed_list|NoNewPrivs)' /proc/self/status > status\n",
        )
        .unwrap();
        let script = std::ffi::CString::new(script.to_str().unwrap()).unwrap();
        let cdir = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        let args: Vec<std::ffi::CString> = (0..ARGV_MAX - 3)
            .map(|i| std::ffi::CString::new(format!("argument-{i}")).unwrap())
            .collect();
        let envs: Vec<std::ffi::CString> = (0..ENVP_MAX - 3)
            .map(|i| std::ffi::CString::new(format!("E{i}=value {i}")).unwrap())
            .collect();
        let mut cmd = Command::new(c"/bin/sh");
        cmd.argv.push(c"/bin/sh").unwrap();
        cmd.argv.push(&script).unwrap();
        for a in &args {
            cmd.argv.push(a).unwrap();
        }
        for e in &envs {
            cmd.envp.push(e).unwrap();
        }
        let (sock_rd, _sock_wr) = rustix::pipe::pipe().unwrap();
        let (_ready_rd, ready_wr) = rustix::pipe::pipe().unwrap();
        let listen = [sock_rd.as_fd()];
        cmd.listen = &listen;
        cmd.ready_fd = Some((ready_wr.as_fd(), 9));
        cmd.watchdog_pid = true;
        cmd.dir = Some(&cdir);
        cmd.umask = Some(0o027);
        cmd.output = Output::Path(c"/dev/null");
        cmd.no_new_privs = true;
        let groups = [0u32];
        cmd.creds = Some(Creds {
            uid: 0,
            gid: 0,
            groups: &groups,
        });
        let mut cpus = Mask::EMPTY;
        cpus.set(0);
        let rlimits = [Rlimit {
            resource: 7, // RLIMIT_NOFILE
            soft: 512,
            hard: 4096,
        }];
        cmd.placement = Placement {
            cpus: Some(&cpus),
            nice: Some(3),
            rlimits: &rlimits,
            ..Placement::default()
        };

        assert!(ROOM.paint());
        let (pid, rd) = start(ROOM.lend(), &cmd);
        assert_eq!(report(&rd), Report::Execd);
        assert!(exited_0(pid));
        assert!(!ROOM.busy_now());

        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let want: Vec<String> = args
            .iter()
            .map(|a| a.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(read("args").lines().collect::<Vec<_>>(), want);
        let env = read("env");
        for e in &envs {
            assert!(
                env.lines().any(|l| l == e.to_str().unwrap()),
                "{e:?} in {env}"
            );
        }
        assert!(env.lines().any(|l| l.starts_with("LISTEN_PID=")), "{env}");
        assert!(env.lines().any(|l| l.starts_with("WATCHDOG_PID=")), "{env}");
        let fds = read("fds");
        assert!(
            fds.lines().any(|l| l == "3") && fds.lines().any(|l| l == "9"),
            "{fds}"
        );
        let status = read("status");
        assert!(status.contains("Cpus_allowed_list:\t0\n"), "{status}");
        assert!(status.contains("NoNewPrivs:\t1"), "{status}");
        let mode = std::fs::metadata(dir.join("args"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);

        let depth = ROOM.depth();
        assert!(
            depth < sys::vm_child::STACK / 4,
            "the child used {depth} bytes of stack"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A FIFO `out` in a new directory named after `name`: the directory,
    /// the FIFO's path, and that path for `Output::Path`.
    fn fifo(name: &str) -> (std::path::PathBuf, std::path::PathBuf, std::ffi::CString) {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        // A directory a killed run of a process with the same PID left.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("out");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            fifo.to_str().unwrap(),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let out = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        (dir, fifo, out)
    }

    /// While a child has not exec'd, the nursery is not lent again (the
    /// next start forks); its exec frees it.
    #[test]
    fn the_nursery_is_taken_until_its_child_execs() {
        static ONE: Nursery<Frame> = Nursery::new(Frame::new());
        // Output to a FIFO: the child's open blocks until a reader comes.
        let (dir, fifo, out) = fifo("pinit-vm-fifo");
        let mut cmd = Command::new(c"/bin/true");
        cmd.argv.push(c"/bin/true").unwrap();
        cmd.output = Output::Path(&out);
        let (pid, rd) = start(ONE.lend(), &cmd);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(ONE.busy_now());
        assert!(ONE.lend().is_none());
        assert_eq!(read_report(rd.as_fd()), Report::Pending);
        let reader = std::fs::File::open(&fifo).unwrap();
        assert!(exited_0(pid));
        assert!(!ONE.busy_now());
        assert!(ONE.lend().is_some());
        assert_eq!(report(&rd), Report::Execd);
        drop(reader);

        // Given back, the room reads as zero and serves the next child.
        ONE.release();
        let mut cmd = Command::new(c"/bin/true");
        cmd.argv.push(c"/bin/true").unwrap();
        let (pid, rd) = start(ONE.lend(), &cmd);
        assert!(exited_0(pid));
        assert_eq!(report(&rd), Report::Execd);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A pool lends its next nursery while one's child blocks before its
    /// exec, none while all are taken, and gives back only free rooms.
    #[test]
    fn a_pool_lends_the_next_nursery_while_one_is_taken() {
        static ROOMS: [Nursery<Frame>; 2] = [const { Nursery::new(Frame::new()) }; 2];
        static TWO: Pool<Frame, 2> = Pool::new(&ROOMS);
        let (dir, fifo, out) = fifo("pinit-vm-pool");
        let mut blocked = Command::new(c"/bin/true");
        blocked.argv.push(c"/bin/true").unwrap();
        blocked.output = Output::Path(&out);
        let mut quick = Command::new(c"/bin/true");
        quick.argv.push(c"/bin/true").unwrap();

        let (first, first_rd) = start(TWO.lend(), &blocked);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(TWO.used_now(), 0b01);
        let (second, second_rd) = start(TWO.lend(), &quick);
        assert!(exited_0(second));
        assert_eq!(report(&second_rd), Report::Execd);
        assert_eq!(TWO.used_now(), 0b11);
        {
            let _held = TWO.lend().unwrap();
            assert!(TWO.lend().is_none());
        }
        // The second room goes back; the first one's child still runs on it.
        TWO.release();
        assert_eq!(TWO.used_now(), 0b01);

        let reader = std::fs::File::open(&fifo).unwrap();
        assert!(exited_0(first));
        assert_eq!(report(&first_rd), Report::Execd);
        drop(reader);
        TWO.release();
        assert_eq!(TWO.used_now(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
