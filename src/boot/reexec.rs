//! `pinit reexec` and `telinit u` (docs/design.md §13): PID 1 executes
//! /sbin/init, which may be a new pinit, without stopping any unit. The
//! old program writes what the kernel cannot tell into a sealed memfd
//! (boot/handover.rs), keeps that memfd and every fd it names open across
//! the exec, and passes the memfd's number as `--handover=FD`; the new
//! one (`Arrival`) checks it whole before it takes anything, then takes
//! back the table, the sockets and each unit. A hand-over it cannot read
//! is said on the console, and the new PID 1 rebuilds its view from the
//! kernel instead (boot/adopt.rs).

use crate::boot::handover::{self, Record, Refused, Role, Writer};
use crate::control::protocol::{Refusal, ARCH, FAILED, VERSION};
use crate::control::server;
use crate::say;
use crate::supervise::effects::System;
use crate::supervise::supervisor::{Supervisor, UnitFds};
use crate::sys::errno::Name;
use crate::sys::{self, Args, CVec, Inherited, Mapped};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::{Errno, FdFlags};

/// What a re-exec executes.
pub(crate) const TARGET: &str = "/sbin/init";
/// The argument that names the hand-over's memfd.
const ARG: &str = "--handover=";

/// What PID 1 holds besides the supervisor: its sockets, and whether
/// the table in force is the compiled-in one.
pub(crate) struct Held<'a> {
    pub(crate) control: Option<BorrowedFd<'a>>,
    pub(crate) notify: Option<BorrowedFd<'a>>,
    /// The hardware watchdog, kept open (boot/watchdog.rs).
    pub(crate) watchdog: Option<BorrowedFd<'a>>,
    pub(crate) board: bool,
}

/// Executes /sbin/init with the hand-over; returns only if it could not
/// (the refusal for the client; PID 1 goes on as it was).
pub(crate) fn reexec(init: &Held<'_>, sup: &Supervisor<'_>, client: BorrowedFd<'_>) -> Refusal {
    if sup.reloading_table() {
        return (FAILED, "a reload of the table is under way");
    }
    if sup.draining() {
        return (
            FAILED,
            "a unit's cgroup is still being emptied; try again in a moment",
        );
    }
    if let Err(e) = executable(TARGET) {
        say!(
            "reexec: {} cannot be executed: {}; PID 1 goes on as it is",
            TARGET,
            Name(e)
        );
        return (
            FAILED,
            "/sbin/init is missing or not executable; nothing changed",
        );
    }
    let memfd = match write(init, sup, client) {
        Ok(fd) => fd,
        Err(e) => {
            say!("reexec: unable to write the hand-over: {}", Name(e));
            return (FAILED, "unable to write the hand-over; nothing changed");
        }
    };
    let mut arg: heapless::String<32> = heapless::String::new();
    let _ = crate::put!(arg, "{}{}", ARG, memfd.as_raw_fd());
    let mut argbuf = [0u8; 33];
    let Some(arg) = cstr(arg.as_bytes(), &mut argbuf) else {
        return (FAILED, "argument too long");
    };
    keep(init, sup, client, Some(memfd.as_fd()), true);
    say!(
        "reexec: executing {} with {} units handed over",
        TARGET,
        sup.len()
    );
    let mut argv: CVec<'_, 3> = CVec::new();
    let _ = argv.push(c"/sbin/init");
    let _ = argv.push(arg);
    let envp: CVec<'_, 1> = CVec::new();
    let e = sys::execve(c"/sbin/init", &argv, &envp);
    keep(init, sup, client, Some(memfd.as_fd()), false);
    say!(
        "reexec: unable to execute {}: {}; PID 1 goes on as it is",
        TARGET,
        Name(e)
    );
    (FAILED, "the exec failed; nothing changed")
}

/// A regular file that root may execute.
fn executable(path: &str) -> Result<(), Errno> {
    crate::sys::path::with(path, |p| {
        let st = rustix::fs::stat(p)?;
        if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
            return Err(Errno::ACCESS);
        }
        rustix::fs::access(p, rustix::fs::Access::EXEC_OK)
    })
}

/// `bytes` and a NUL in `buf`.
fn cstr<'b>(bytes: &[u8], buf: &'b mut [u8]) -> Option<&'b core::ffi::CStr> {
    buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
    *buf.get_mut(bytes.len())? = 0;
    core::ffi::CStr::from_bytes_with_nul(buf.get(..=bytes.len())?).ok()
}

/// Every fd the hand-over names, with its role and unit.
fn each_fd<'a>(
    init: &'a Held<'_>,
    sup: &'a Supervisor<'_>,
    client: BorrowedFd<'a>,
    f: &mut dyn FnMut(Role, Option<u16>, BorrowedFd<'_>),
) {
    if let Some(c) = init.control {
        f(Role::Control, None, c);
    }
    if let Some(n) = init.notify {
        f(Role::Notify, None, n);
    }
    if let Some(w) = init.watchdog {
        f(Role::Watchdog, None, w);
    }
    f(Role::Client, None, client);
    for i in 0..sup.len() {
        let Some((_, fds)) = sup.carried(i) else {
            continue;
        };
        let unit = Some(i as u16);
        let UnitFds {
            cgroup,
            out,
            ready,
            pidfd,
            report,
            sockets,
        } = fds;
        let roles = [
            (Role::Cgroup, cgroup),
            (Role::OutRead, out.map(|o| o.0)),
            (Role::OutWrite, out.map(|o| o.1)),
            (Role::Ready, ready),
            (Role::Pidfd, pidfd),
            (Role::Report, report),
        ];
        for (role, fd) in roles {
            if let Some(fd) = fd {
                f(role, unit, fd);
            }
        }
        for (fd, _) in sockets {
            f(Role::Socket, unit, fd);
        }
    }
}

/// Keeps every fd of the hand-over (and the memfd) open across the exec,
/// or (`keep` false, the exec failed) closes them on exec again.
fn keep(
    init: &Held<'_>,
    sup: &Supervisor<'_>,
    client: BorrowedFd<'_>,
    memfd: Option<BorrowedFd<'_>>,
    keep: bool,
) {
    let flags = if keep {
        FdFlags::empty()
    } else {
        FdFlags::CLOEXEC
    };
    let mut set = |_: Role, _: Option<u16>, fd: BorrowedFd<'_>| {
        let _ = rustix::io::fcntl_setfd(fd, flags);
    };
    each_fd(init, sup, client, &mut set);
    if let Some(m) = memfd {
        set(Role::Client, None, m);
    }
}

/// The hand-over, in a sealed memfd (close-on-exec until `keep`).
fn write(init: &Held<'_>, sup: &Supervisor<'_>, client: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let fd = rustix::fs::memfd_create(
        c"pinit-handover",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut out = Out {
        fd: fd.as_fd(),
        buf: heapless::Vec::new(),
        err: None,
    };
    let mut sink = |b: &[u8]| out.put(b);
    let mut w = Writer::new(&mut sink);
    w.put(&Record::Meta {
        version: VERSION,
        booted: sup.booted(),
    });
    w.put(&Record::Table {
        board: init.board,
        text: sup.table_text(),
    });
    for i in 0..sup.len() {
        if let Some((c, _)) = sup.carried(i) {
            w.put(&Record::Unit(c));
        }
    }
    each_fd(init, sup, client, &mut |role, unit, fd| {
        w.put(&Record::Fd {
            role,
            unit,
            fd: fd.as_raw_fd(),
        })
    });
    // A unit's `Unit` record is at its index: every unit has one.
    for i in 0..sup.len() {
        let Some((_, fds)) = sup.carried(i) else {
            continue;
        };
        for (k, &(_, count)) in fds.sockets.iter().enumerate() {
            if count > 0 {
                w.put(&Record::Accepted {
                    unit: i as u16,
                    socket: k as u8,
                    count,
                });
            }
        }
    }
    for inst in sup.instances() {
        w.put(&Record::Instance(*inst));
    }
    w.end();
    out.flush();
    if let Some(e) = out.err {
        return Err(e);
    }
    rustix::fs::fcntl_add_seals(&fd, SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW)?;
    Ok(fd)
}

/// Buffered writes to the memfd; the first error is kept.
struct Out<'f> {
    fd: BorrowedFd<'f>,
    buf: heapless::Vec<u8, 1024>,
    err: Option<Errno>,
}

impl Out<'_> {
    fn put(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            let room = self.buf.capacity() - self.buf.len();
            if room == 0 {
                self.flush();
                if self.err.is_some() {
                    return;
                }
                continue;
            }
            let (now, later) = b.split_at(room.min(b.len()));
            let _ = self.buf.extend_from_slice(now);
            b = later;
        }
    }

    fn flush(&mut self) {
        let mut done = 0;
        while let (Some(rest), None) = (self.buf.get(done..), self.err) {
            if rest.is_empty() {
                break;
            }
            match rustix::io::write(self.fd, rest) {
                Ok(n) => done += n,
                Err(Errno::INTR) => {}
                Err(e) => self.err = Some(e),
            }
        }
        self.buf.clear();
    }
}

/// A hand-over a new PID 1 found in its arguments, checked whole.
pub(crate) struct Arrival {
    map: Mapped,
    _memfd: OwnedFd,
}

impl Arrival {
    /// `--handover=FD` in `args`: the memfd, taken from `inherited`,
    /// mapped and read through, every fd it names one that was inherited.
    /// `None` when there is none; a refusal is said on the console.
    pub(crate) fn take(args: Args, inherited: &mut Inherited) -> Option<Arrival> {
        let n = (1..args.len())
            .filter_map(|i| args.get(i)?.to_str().ok()?.strip_prefix(ARG)?.parse().ok())
            .next()?;
        let memfd = inherited.take(n);
        let got = memfd
            .ok_or(Refused::Magic)
            .and_then(|fd| {
                Mapped::sealed(fd.as_fd())
                    .map(|m| (fd, m))
                    .map_err(|_| Refused::Magic)
            })
            .and_then(|(fd, map)| {
                check(map.bytes(), inherited)?;
                Ok(Arrival { map, _memfd: fd })
            });
        match got {
            Ok(a) => Some(a),
            Err(why) => {
                say!(
                    "reexec: the hand-over is refused: {}; rebuilding from the kernel",
                    why
                );
                None
            }
        }
    }

    fn records(&self) -> impl Iterator<Item = Record<'_>> + Clone + '_ {
        handover::read(self.map.bytes())
            .into_iter()
            .flatten()
            .map_while(|r| r.ok())
    }

    /// The writer's version, and whether it said the boot summary.
    pub(crate) fn meta(&self) -> (&str, bool) {
        self.records()
            .find_map(|r| match r {
                Record::Meta { version, booted } => Some((version, booted)),
                _ => None,
            })
            .unwrap_or(("?", true))
    }

    /// The table in force: whether it is the board's, and its text.
    pub(crate) fn table(&self) -> Option<(bool, &[u8])> {
        self.records().find_map(|r| match r {
            Record::Table { board, text } => Some((board, text)),
            _ => None,
        })
    }

    /// PID 1's own fd of `role` (the sockets, the client).
    pub(crate) fn fd(&self, role: Role, inherited: &mut Inherited) -> Option<OwnedFd> {
        let n = self.records().find_map(|r| match r {
            Record::Fd {
                role: r,
                unit: None,
                fd,
            } if r == role => Some(fd),
            _ => None,
        })?;
        inherited.take(n)
    }

    /// Every unit back in `sup`, matched by name, with its fds; returns
    /// how many.
    pub(crate) fn resume(
        &self,
        sup: &mut Supervisor<'_>,
        fx: &mut System<'_>,
        inherited: &mut Inherited,
    ) -> usize {
        #[cfg(feature = "test-panic")]
        test_panic();
        let mut taken = 0;
        let units = self.records().filter_map(|r| match r {
            Record::Unit(c) => Some(c),
            _ => None,
        });
        for (k, c) in units.clone().enumerate() {
            let fds = self.unit_fds(k as u16, inherited);
            match sup.find(c.name) {
                Some(i) => {
                    sup.resume(fx, i, &c, fds, crate::sys::time::now());
                    taken += 1;
                }
                None => say!(
                    "reexec: {}: handed over but not in the table; its processes are left alone",
                    c.name
                ),
            }
        }
        for r in self.records() {
            let Record::Instance(inst) = r else {
                continue;
            };
            let c = units.clone().nth(usize::from(inst.unit));
            let i = c.and_then(|c| sup.find(c.name));
            if !i.is_some_and(|i| sup.resume_instance(fx, i, inst, crate::sys::time::now())) {
                say!(
                    "reexec: {}: instance {} (pid {}) handed over but not taken back; left alone",
                    c.map_or("?", |c| c.name),
                    inst.num,
                    inst.pid.as_raw_nonzero()
                );
            }
        }
        taken
    }

    /// The fds of the `k`th unit.
    fn unit_fds(&self, k: u16, inherited: &mut Inherited) -> UnitFds<OwnedFd> {
        let mut fds = UnitFds::default();
        let (mut rd, mut wr) = (None, None);
        for r in self.records() {
            let Record::Fd {
                role,
                unit: Some(u),
                fd,
            } = r
            else {
                continue;
            };
            if u != k {
                continue;
            }
            let fd = inherited.take(fd);
            match role {
                Role::Cgroup => fds.cgroup = fd,
                Role::OutRead => rd = fd,
                Role::OutWrite => wr = fd,
                Role::Ready => fds.ready = fd,
                Role::Pidfd => fds.pidfd = fd,
                Role::Report => fds.report = fd,
                Role::Socket => {
                    if let Some(fd) = fd {
                        let _ = fds.sockets.push((fd, 0));
                    }
                }
                Role::Control | Role::Notify | Role::Client | Role::Watchdog => {}
            }
        }
        fds.out = rd.zip(wr);
        for r in self.records() {
            if let Record::Accepted {
                unit,
                socket,
                count,
            } = r
            {
                let slot = fds.sockets.get_mut(usize::from(socket));
                if let (true, Some((_, n))) = (unit == k, slot) {
                    *n = count;
                }
            }
        }
        fds
    }
}

/// Reads the hand-over through before anything is taken: every record
/// reads, there is a table, and every fd it names was inherited, once.
fn check(bytes: &[u8], inherited: &Inherited) -> Result<(), Refused> {
    let mut seen = [0u64; sys::INHERITED_MAX / 64];
    let mut table = false;
    for r in handover::read(bytes)? {
        match r? {
            Record::Table { .. } => table = true,
            Record::Fd { fd, .. } => {
                // inherited: 0 <= fd < INHERITED_MAX.
                let (w, bit) = (fd as usize / 64, 1u64 << (fd % 64));
                let once = seen.get_mut(w).is_some_and(|s| {
                    let fresh = *s & bit == 0;
                    *s |= bit;
                    fresh
                });
                if !inherited.contains(fd) || !once {
                    return Err(Refused::Malformed(4));
                }
            }
            Record::Meta { .. }
            | Record::Unit(_)
            | Record::Instance(_)
            | Record::Accepted { .. } => {}
        }
    }
    if table {
        Ok(())
    } else {
        Err(Refused::Truncated)
    }
}

/// The answer to the client that asked for the re-exec.
pub(crate) fn answer(client: OwnedFd, from: &str, units: usize) {
    let mut line: heapless::String<128> = heapless::String::new();
    let _ = crate::put!(
        line,
        "pinit {} ({}) is PID 1 again: {} units handed over by pinit {}",
        VERSION,
        ARCH,
        units,
        from
    );
    let _ = server::send_line(client.as_fd(), line.as_bytes());
    let _ = server::reply(client.as_fd(), Ok(()));
}

/// Test builds: a new PID 1 panics while it takes the hand-over if this
/// file exists (it is removed first, so the next one does not): the
/// re-adoption after a broken hand-over, tested (tests/qemu/cases/0820-panic.py).
#[cfg(feature = "test-panic")]
pub(crate) const TEST_PANIC_FILE: &str = "/run/pinit-test-panic-in-handover";

#[cfg(feature = "test-panic")]
#[allow(clippy::panic)] // the point of the test build
fn test_panic() {
    if crate::sys::path::unlink(TEST_PANIC_FILE).is_ok() {
        panic!("a test build was asked to panic while it takes the hand-over");
    }
}
