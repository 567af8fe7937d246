//! From a table entry to a running process: decode argv and env into
//! stack buffers, resolve user and groups, make the cgroup and write its
//! limits, set up output and readiness pipes, then `spawn`. All of it
//! happens in PID 1 before the fork, so the child only makes system calls.

use crate::place::cgroup::{self, Base};
use crate::place::process::{self, Placement, Rlimit};
use crate::say;
use crate::supervise::listen::Listener;
use crate::supervise::spawn::{self, Command, Creds, Output, Started};
use crate::supervise::{envfile, passwd, rundir};
use crate::sys::errno::Name;
use crate::sys::{bit, Singleton};
use crate::table::capacity::LISTEN_MAX;
use crate::table::{self, lex, Table};
use core::ffi::CStr;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Pid;

/// Room for a unit's decoded arguments (every statement fits: the parser
/// limits a statement to this many bytes).
const ARGS_BUF: usize = table::capacity::LINE_MAX;
/// Room for the decoded environment: the env files' entries (their own
/// limit, envfile::BYTES_MAX, checked at each start), what the table
/// gives a unit (its limit, checked by the parser), then PATH,
/// NOTIFY_SOCKET (a socket path is at most 108 bytes), LISTEN_FDS (at
/// most 14 bytes), LISTEN_FDNAMES and WATCHDOG_USEC (at most 35 bytes).
const ENV_BUF: usize = envfile::BYTES_MAX
    + table::capacity::ENV_BYTES_MAX
    + DEFAULT_PATH.len()
    + 6
    + 128
    + 14
    + 16
    + FDNAMES_MAX
    + 36;
/// Room for a decoded path (`dir=`, `tty=`) and its NUL.
const PATH_BUF: usize = table::capacity::PATH_MAX + 1;
/// LISTEN_FDNAMES's value: up to LISTEN_MAX names of up to 31 bytes.
const FDNAMES_MAX: usize = LISTEN_MAX * 32;
/// The buffers a start decodes a unit's paths, arguments and environment
/// into: in .bss, lent to one start at a time, so only the bytes a unit
/// uses are ever paged in (on the stack the frame's probes made all 20 KiB
/// resident, and zeroing them cost each restart). In this order, the
/// environment right after the arguments: a usual start touches one page.
#[repr(C)]
struct Scratch {
    tty: [u8; PATH_BUF],
    dir: [u8; PATH_BUF],
    text: [u8; ARGS_BUF + ENV_BUF],
}

static SCRATCH: Singleton<Scratch, { bit::SCRATCH }> = Singleton::new(Scratch {
    tty: [0; PATH_BUF],
    dir: [0; PATH_BUF],
    text: [0; ARGS_BUF + ENV_BUF],
});

/// PATH for units that set none.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where things are, per mode (PID 1 or `--config`).
pub(crate) struct Context<'t> {
    /// Where unit cgroups go; `None`: no usable cgroup (not delegated).
    pub(crate) base: Option<Base>,
    /// `NOTIFY_SOCKET=...` for units with `ready=notify`.
    pub(crate) notify_env: Option<&'t CStr>,
    /// The kernel command line, for `if=cmdline:WORD`.
    pub(crate) cmdline: &'t [u8],
    /// Which controllers are on for the units (cgroup::CONTROLLERS order).
    pub(crate) controllers: [bool; 5],
}

/// What a unit keeps from one run to the next: made on first use.
#[derive(Default)]
pub(crate) struct Kept {
    /// The cgroup directory, opened once, for CLONE_INTO_CGROUP.
    pub(crate) cgroup: Option<OwnedFd>,
    /// The output pipe (log=kmsg, log=syslog), read end and write end: made once and
    /// shared by every run, so a restart loses no line and adds no fd.
    pub(crate) out: Option<(OwnedFd, OwnedFd)>,
    /// Its cgroup limits were said to be refused (no cgroup): once.
    pub(crate) unlimited: bool,
    /// The cgroup's cgroup.events, opened at the main process's first
    /// exit and read again at each one: a cgroup it says is empty needs
    /// no SIGKILL sweep (`Supervisor::kill_cgroup`). Goes with `cgroup`.
    pub(crate) events: Option<OwnedFd>,
    /// Its cgroup.events could not be kept open (`events`): not tried
    /// again for this cgroup.
    pub(crate) no_events: bool,
}

impl Kept {
    /// Another cgroup directory (or none): its cgroup.events goes too.
    pub(crate) fn set_cgroup(&mut self, fd: Option<OwnedFd>) {
        self.cgroup = fd;
        self.events = None;
        self.no_events = false;
    }
}

/// An instance of an `accept=yes` unit: its number (cgroup `NAME@N`)
/// and the connection it serves.
#[derive(Clone, Copy)]
pub(crate) struct Conn<'a> {
    pub(crate) num: u16,
    pub(crate) fd: BorrowedFd<'a>,
}

/// The sockets a process gets on fds 3 and up.
#[derive(Clone, Copy)]
pub(crate) enum Pass<'a> {
    /// The unit's own `listen=` sockets (none for most units).
    Sockets(&'a [Listener]),
    /// An `accept=yes` instance's one connection.
    Conn(Conn<'a>),
}

impl<'a> Pass<'a> {
    /// The instance's connection, if this is one.
    pub(crate) fn conn(self) -> Option<Conn<'a>> {
        match self {
            Pass::Conn(c) => Some(c),
            Pass::Sockets(_) => None,
        }
    }
}

/// LISTEN_FDNAMES of an instance (systemd's word for Accept=yes).
const CONNECTION: &str = "connection";

/// A process that was forked to run the unit's program.
pub(crate) struct Launched {
    pub(crate) pid: Pid,
    /// Read end of this run's `ready=fd:N` pipe.
    pub(crate) ready: Option<OwnedFd>,
    /// Read end of the child's report pipe (`spawn::read_report`): EOF
    /// once it has exec'd. `None`: known to have exec'd already.
    pub(crate) report: Option<OwnedFd>,
    /// A pidfd for the child, which its signals go through (`None` on
    /// kernels before 5.3: by number then).
    pub(crate) pidfd: Option<OwnedFd>,
}

/// Why a unit did not start.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum LaunchError {
    /// Fork, exec, a resource: worth another try after a back-off.
    Errno(Errno),
    /// It must not run as configured (`isolate=yes` that the kernel
    /// refuses): no retry.
    Refused,
}

impl From<Errno> for LaunchError {
    fn from(e: Errno) -> LaunchError {
        LaunchError::Errno(e)
    }
}

/// Forks unit `u`'s process; reports every failure before the fork on
/// the console (the child's own are in its report). `watch` is called
/// with the read end of a new output pipe.
#[inline(never)] // its argv/env buffers live only while spawning
pub(crate) fn launch(
    u: &table::Unit<'_>,
    table: &Table<'_>,
    ctx: &Context<'_>,
    kept: &mut Kept,
    pass: Pass<'_>,
    watch: impl FnOnce(BorrowedFd<'_>) -> Result<(), Errno>,
) -> Result<Launched, LaunchError> {
    let name = u.name;
    let conn = pass.conn();
    // The options few units set, read once for the whole start.
    let x = u.extra();
    let mut instance_cgroup = None;
    match &ctx.base {
        Some(base) => {
            prepare_cgroup(base, u, &x, &mut kept.cgroup, ctx.controllers)?;
            if let Some(c) = conn {
                let made = cgroup::create_instance(base, u.name, u.isolate, c.num);
                instance_cgroup = Some(made.inspect_err(|&e| {
                    say!(
                        "{}: unable to create the cgroup of instance {}: {}",
                        name,
                        c.num,
                        Name(e)
                    )
                })?);
            }
        }
        None if u.isolate => {
            say!(
                "{}: error: isolate=yes needs a cgroup, and there is none; not started",
                name
            );
            return Err(LaunchError::Refused);
        }
        None => {
            if let (false, Some(key)) = (
                kept.unlimited,
                crate::place::cgroup_limits::first_set(u, &x),
            ) {
                say!(
                    "{}: warning: no cgroup: its cgroup limits ({} and the others) are refused; it runs without them",
                    name,
                    key
                );
            }
            kept.unlimited = true;
        }
    }
    if u.log.captured() {
        if let Err(e) = output_pipe(&mut kept.out, watch) {
            say!(
                "{}: unable to make its output pipe: {}; output goes to the console",
                name,
                Name(e)
            );
        }
    }

    let Some(mut scratch) = SCRATCH.lend() else {
        // Only if a start ran inside another: a bug, said, not a crash.
        say!("{}: not started: its start buffers are in use", name);
        return Err(LaunchError::Errno(Errno::BUSY));
    };
    let Scratch {
        tty: tty_buf,
        dir: dir_buf,
        text,
    } = &mut *scratch;
    let too_long = || {
        say!("{}: arguments too long (limit {} bytes)", name, ARGS_BUF);
        LaunchError::Errno(Errno::TOOBIG)
    };
    // Decoded first, so the environment can start where they end.
    let size = text
        .get_mut(..ARGS_BUF)
        .and_then(|b| lex::decode_all(u.argv(), b))
        .ok_or_else(too_long)?
        .size();
    let (args, rest) = text.split_at_mut_checked(size).ok_or_else(too_long)?;
    let envs = rest.get_mut(..ENV_BUF).ok_or(Errno::TOOBIG)?;
    let argv = lex::CStrs::decoded(args);
    // The parser only accepts an absolute PROGRAM.
    let path = argv.clone().next().ok_or(Errno::INVAL)?;

    // The sockets: the unit's, or an instance's one connection.
    let mut fds: heapless::Vec<BorrowedFd<'_>, LISTEN_MAX> = heapless::Vec::new();
    let mut names: heapless::String<FDNAMES_MAX> = heapless::String::new();
    match pass {
        Pass::Conn(c) => {
            let _ = fds.push(c.fd);
            let _ = names.push_str(CONNECTION);
        }
        Pass::Sockets(sockets) => {
            for (l, s) in u.listens().zip(sockets.iter()) {
                let _ = fds.push(s.fd());
                let sep = if names.is_empty() { "" } else { ":" };
                let _ = crate::put!(names, "{}{}", sep, u.fd_name(&l));
            }
        }
    }

    let envp = env_block(table, u, ctx, (fds.len(), &names), envs)?;

    let mut cmd = Command::new(path);
    for a in argv {
        if cmd.argv.push(a).is_err() {
            say!(
                "{}: too many arguments (limit {})",
                name,
                spawn::ARGV_MAX - 1
            );
            return Err(LaunchError::Errno(Errno::TOOBIG));
        }
    }
    for e in envp {
        if cmd.envp.push(e).is_err() {
            say!(
                "{}: too many environment entries (limit {})",
                name,
                spawn::ENVP_MAX - 1
            );
            return Err(LaunchError::Errno(Errno::TOOBIG));
        }
    }

    let mut groups = [0u32; passwd::GROUPS_MAX];
    cmd.creds = creds(u, &x, &mut groups)?;
    let (uid, gid) = cmd.creds.map_or((0, 0), |c| (c.uid, c.gid));
    rundir::create(u, uid, gid)?;
    if let Some(p) = u.pidfile {
        forget_pidfile(u.name, p);
    }

    cmd.tty = match &x.tty {
        Some(t) if u.kind == table::UnitKind::Tty => t.to_cstr(tty_buf),
        _ => None,
    };
    cmd.dir = x.dir.as_ref().and_then(|d| d.to_cstr(dir_buf));
    cmd.umask = x.umask.map(u32::from);
    cmd.no_new_privs = u.no_new_privs;
    cmd.watchdog_pid = has_watchdog(u);
    // Signals reach the main process through its pidfd, so a reused
    // number is never hit; an instance is only ever signalled by its
    // cgroup.
    cmd.pidfd = conn.is_none();

    let (cpus, numa) = (x.cpus.as_ref().map(|c| c.mask()), numa_of(&x));
    let mut rlimits = [Rlimit {
        resource: 0,
        soft: 0,
        hard: 0,
    }; process::RLIMITS_MAX];
    let mut nr = 0;
    for (dst, l) in rlimits.iter_mut().zip(u.rlimits()) {
        *dst = l;
        nr += 1;
    }
    cmd.placement = Placement {
        cpus: cpus.as_ref(),
        numa: numa.as_ref(),
        nice: x.nice,
        sched: x.sched,
        ioprio: x.ioprio,
        oom_score: x.oom_score,
        rlimits: rlimits.get(..nr).unwrap_or(&[]),
    };

    // Readiness by fd: a fresh pipe per run; the child's end becomes fd N.
    let ready_pipe = match u.ready {
        table::Ready::Fd(n) if u.kind != table::UnitKind::Task => {
            let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
            rustix::io::ioctl_fionbio(&rd, true)?;
            // Not on 0-2, which the child replaces before it places N.
            Some((rd, spawn::clear_of(wr, None)?, i32::from(n)))
        }
        _ => None,
    };
    cmd.ready_fd = ready_pipe.as_ref().map(|(_, wr, n)| (wr.as_fd(), *n));

    cmd.listen = &fds;
    cmd.conn = conn.map(|c| c.fd);
    cmd.cgroup = instance_cgroup
        .as_ref()
        .or(kept.cgroup.as_ref())
        .map(|f| f.as_fd());
    cmd.output = match u.log {
        table::Log::Inherit => Output::Inherit,
        table::Log::Null => Output::Path(c"/dev/null"),
        table::Log::Console => Output::Path(c"/dev/console"),
        table::Log::Kmsg | table::Log::Syslog => kept
            .out
            .as_ref()
            .map_or(Output::Inherit, |(_, wr)| Output::Fd(wr.as_fd())),
    };

    match spawn::spawn(&cmd) {
        Ok(Started { pid, report, pidfd }) => Ok(Launched {
            pid,
            ready: ready_pipe.map(|(rd, _, _)| rd),
            report: Some(report),
            pidfd,
        }),
        Err(e) => {
            say!("{}: unable to fork: {}", name, Name(e));
            Err(LaunchError::Errno(e))
        }
    }
}

/// Reads a child's report pipe (a bounded number of records per call):
/// its placement warnings, said, then its end: `Ok` once it exec'd (the
/// pipe's end), the step that failed (said) as `Err`; `None` while more
/// is to come.
pub(crate) fn report_end(u: &table::Unit<'_>, fd: BorrowedFd<'_>) -> Option<Result<(), Errno>> {
    // Warnings (one per placement option and rlimit) and the end.
    const RECORDS_MAX: usize = 32;
    for _ in 0..RECORDS_MAX {
        match spawn::read_report(fd) {
            spawn::Report::Pending => return None,
            spawn::Report::Warning(w) => warn(u, w),
            spawn::Report::Failed(step, errno) => {
                failed(u, step, errno);
                return Some(Err(errno));
            }
            spawn::Report::Execd => return Some(Ok(())),
        }
    }
    None
}

/// `NAME: unable to execute /usr/bin/x: ENOENT`: the child's set-up
/// failed at `step` (its report).
pub(crate) fn failed(u: &table::Unit<'_>, step: spawn::Step, e: Errno) {
    let mut buf = [0u8; PATH_BUF];
    let raw = u.program().raw();
    let program = u.program().decode(&mut buf).unwrap_or(raw.as_bytes());
    say!(
        "{}: unable to {} {}: {}",
        u.name,
        step.what(),
        core::str::from_utf8(program).unwrap_or(raw),
        Name(e)
    );
}

/// `NAME: warning: unable to set the CPU affinity (cpus=7): EINVAL; it runs without it`
pub(crate) fn warn(u: &table::Unit<'_>, w: spawn::Warning) {
    let key = w.option();
    let value = u.options().find(|(k, _)| *k == key).map_or("?", |(_, v)| v);
    say!(
        "{}: warning: unable to {} ({}={}): {}; it runs without it",
        u.name,
        w.step.what(),
        key,
        value,
        Name(w.errno)
    );
}

/// `NAME: started (pid P, cgroup DIR, cpus LIST, cpuset LIST[ isolated])`
pub(crate) fn started_line(name: &str, pid: i32, ctx: &Context<'_>, u: &table::Unit<'_>) {
    let mut extra: heapless::String<160> = heapless::String::new();
    if let Some(dir) = ctx
        .base
        .as_ref()
        .and_then(|b| b.path(name, u.isolate, None).ok())
    {
        let _ = crate::put!(extra, ", cgroup {}", dir.as_str());
    }
    let x = u.extra();
    if let Some(c) = &x.cpus {
        let _ = crate::put!(extra, ", cpus {}", c.as_str());
    }
    if let Some(c) = &x.cpuset {
        let _ = crate::put!(extra, ", cpuset {}", c.as_str());
        if u.isolate {
            let _ = extra.push_str(" isolated");
        }
    }
    say!("{}: started (pid {}{})", name, pid, extra.as_str());
}

/// `watchdog=` on a `ready=notify` unit: WATCHDOG_USEC and WATCHDOG_PID.
fn has_watchdog(u: &table::Unit<'_>) -> bool {
    u.ready == table::Ready::Notify && u.watchdog.0 > 0
}

/// The unit's env files first (read now), then its env= entries they
/// do not override, then the global env entries neither overrides
/// (getenv takes the first match), a default PATH if none is set,
/// NOTIFY_SOCKET for ready=notify, WATCHDOG_USEC for its watchdog, and
/// LISTEN_FDS and LISTEN_FDNAMES when it gets `fds` sockets
/// (LISTEN_PID and WATCHDOG_PID are the child's own: spawn adds them).
fn env_block<'b>(
    table: &Table<'_>,
    u: &table::Unit<'_>,
    ctx: &Context<'_>,
    (fds, names): (usize, &str),
    buf: &'b mut [u8],
) -> Result<NulSeparated<'b>, Errno> {
    let files = envfile::read(u, buf.get_mut(..envfile::BYTES_MAX).ok_or(Errno::TOOBIG)?)?;
    let too_large = || {
        say!(
            "{}: environment too large (limit {} bytes)",
            u.name,
            ENV_BUF
        );
        Errno::TOOBIG
    };
    let key = |w: &lex::Word<'_>| -> heapless::Vec<u8, 64> {
        w.bytes().take_while(|&b| b != b'=').take(64).collect()
    };
    let (head, tail) = buf.split_at_mut(files);
    let in_files = |k: &[u8]| {
        head.split(|&b| b == 0)
            .any(|e| e.get(..k.len()) == Some(k) && e.get(k.len()) == Some(&b'='))
    };
    let env = table.env_of(u).filter(|w| !in_files(&key(w)));
    let has_path = in_files(b"PATH") || env.clone().any(|w| key(&w).as_slice() == b"PATH");
    let mut n = lex::decode_all(env, tail)
        .ok_or_else(too_large)?
        .fold(0, |a, c| a + c.to_bytes_with_nul().len());
    let mut add = |s: &[u8], buf: &mut [u8]| -> Option<()> {
        let dst = buf.get_mut(n..n + s.len() + 1)?;
        dst.get_mut(..s.len())?.copy_from_slice(s);
        *dst.get_mut(s.len())? = 0;
        n += s.len() + 1;
        Some(())
    };
    if !has_path {
        let mut p: heapless::String<96> = heapless::String::new();
        crate::put!(p, "PATH={}", DEFAULT_PATH).map_err(|_| Errno::TOOBIG)?;
        add(p.as_bytes(), tail).ok_or_else(too_large)?;
    }
    if u.ready == table::Ready::Notify {
        if let Some(e) = ctx.notify_env {
            add(e.to_bytes(), tail).ok_or_else(too_large)?;
        }
    }
    if fds > 0 {
        let mut e: heapless::String<{ FDNAMES_MAX + 16 }> = heapless::String::new();
        crate::put!(e, "LISTEN_FDS={}", fds).map_err(|_| Errno::TOOBIG)?;
        add(e.as_bytes(), tail).ok_or_else(too_large)?;
        e.clear();
        crate::put!(e, "LISTEN_FDNAMES={}", names).map_err(|_| too_large())?;
        add(e.as_bytes(), tail).ok_or_else(too_large)?;
    }
    if has_watchdog(u) {
        let mut w: heapless::String<40> = heapless::String::new();
        crate::put!(w, "WATCHDOG_USEC={}", u64::from(u.watchdog.0) * 1000)
            .map_err(|_| Errno::TOOBIG)?;
        add(w.as_bytes(), tail).ok_or_else(too_large)?;
    }
    Ok(NulSeparated(buf.get(..files + n).ok_or(Errno::TOOBIG)?))
}

/// Removes a pidfile left by an earlier run, so a stale PID is never
/// read for the new one.
fn forget_pidfile(name: &str, path: lex::Word<'_>) {
    let mut buf = [0u8; 256];
    let r = match path.to_cstr(&mut buf) {
        Some(p) => rustix::fs::unlink(p),
        None => Err(Errno::NAMETOOLONG),
    };
    match r {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => say!(
            "{}: warning: unable to remove the old pidfile {}: {}",
            name,
            path.raw(),
            Name(e)
        ),
    }
}

/// C strings one after the other, each ending in NUL.
struct NulSeparated<'b>(&'b [u8]);

impl<'b> Iterator for NulSeparated<'b> {
    type Item = &'b CStr;
    fn next(&mut self) -> Option<&'b CStr> {
        let s = CStr::from_bytes_until_nul(self.0).ok()?;
        self.0 = self.0.get(s.to_bytes_with_nul().len()..)?;
        Some(s)
    }
}

/// user=, group=, groups= resolved through /etc/passwd and /etc/group.
fn creds<'g>(
    u: &table::Unit<'_>,
    x: &table::Extra<'_>,
    groups: &'g mut [u32; passwd::GROUPS_MAX],
) -> Result<Option<Creds<'g>>, Errno> {
    if x.user.is_none() && x.group.is_none() && u.groups().next().is_none() {
        return Ok(None);
    }
    let (mut uid, mut gid, mut ngroups) = (0, 0, 0);
    if let Some(user) = &x.user {
        let name = id_text(user);
        let found = passwd::user(name.as_bytes(), "/etc/passwd").inspect_err(|&e| {
            say!(
                "{}: unknown user '{}' (/etc/passwd): {}",
                u.name,
                name.as_str(),
                crate::sys::file::Why(e)
            );
        })?;
        uid = found.uid;
        gid = found.gid;
        ngroups = passwd::member_groups(name.as_bytes(), gid, "/etc/group", groups).inspect_err(
            |_| {
                say!(
                    "{}: user '{}' is in too many groups (limit {})",
                    u.name,
                    name.as_str(),
                    passwd::GROUPS_MAX
                );
            },
        )?;
    }
    if let Some(g) = &x.group {
        let name = id_text(g);
        gid = passwd::group(name.as_bytes(), "/etc/group").inspect_err(|&e| {
            say!(
                "{}: unknown group '{}' (/etc/group): {}",
                u.name,
                name.as_str(),
                crate::sys::file::Why(e)
            );
        })?;
        if ngroups == 0 {
            if let Some(s) = groups.get_mut(0) {
                *s = gid;
                ngroups = 1;
            }
        }
    }
    if u.groups().next().is_some() {
        ngroups = 0;
        for g in u.groups() {
            let name = id_text(&g);
            let gid = passwd::group(name.as_bytes(), "/etc/group").inspect_err(|&e| {
                say!(
                    "{}: unknown group '{}' in groups= (/etc/group): {}",
                    u.name,
                    name.as_str(),
                    Name(e)
                );
            })?;
            match groups.get_mut(ngroups) {
                Some(s) => {
                    *s = gid;
                    ngroups += 1;
                }
                None => {
                    say!("{}: too many groups (limit {})", u.name, passwd::GROUPS_MAX);
                    return Err(Errno::TOOBIG);
                }
            }
        }
    }
    Ok(Some(Creds {
        uid,
        gid,
        groups: groups.get(..ngroups).unwrap_or(&[]),
    }))
}

fn id_text(id: &table::Id<'_>) -> heapless::String<40> {
    let mut s = heapless::String::new();
    let _ = crate::put!(s, "{}", id);
    s
}

fn numa_of(x: &table::Extra<'_>) -> Option<process::Numa> {
    Some(match x.numa? {
        table::Numa::Bind(l) => process::Numa::Bind(l.mask()),
        table::Numa::Interleave(l) => process::Numa::Interleave(l.mask()),
        table::Numa::Preferred(n) => process::Numa::Preferred(n),
        table::Numa::Local => process::Numa::Local,
    })
}

/// Creates the unit's cgroup on first use and writes its limits before
/// every start (a changed table takes effect on restart). Without its
/// cgroup a unit runs all the same, unless it was to be isolated.
fn prepare_cgroup(
    base: &Base,
    u: &table::Unit<'_>,
    x: &table::Extra<'_>,
    fd: &mut Option<OwnedFd>,
    controllers: [bool; 5],
) -> Result<(), LaunchError> {
    if fd.is_none() {
        match cgroup::create(base, u.name, u.isolate) {
            Ok(f) => *fd = Some(f),
            Err(e) => {
                let dir = base.path(u.name, u.isolate, None);
                say!(
                    "{}: unable to create cgroup {}: {}; {}",
                    u.name,
                    dir.as_ref().map_or("?", |d| d.as_str()),
                    Name(e),
                    if u.isolate {
                        "not started (isolate=yes)"
                    } else {
                        "running without it"
                    }
                );
                return if u.isolate {
                    Err(LaunchError::Refused)
                } else {
                    Ok(())
                };
            }
        }
    }
    crate::place::cgroup_limits::write(base, u, x, controllers);
    if u.isolate && !crate::place::cgroup_limits::isolate(base, u, x) {
        return Err(LaunchError::Refused);
    }
    Ok(())
}

/// Makes (and watches) the unit's output pipe on first use.
fn output_pipe(
    out: &mut Option<(OwnedFd, OwnedFd)>,
    watch: impl FnOnce(BorrowedFd<'_>) -> Result<(), Errno>,
) -> Result<(), Errno> {
    if out.is_none() {
        let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        rustix::io::ioctl_fionbio(&rd, true)?;
        watch(rd.as_fd())?;
        *out = Some((rd, wr));
    }
    Ok(())
}
