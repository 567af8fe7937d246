//! The hand-over of a live re-exec (docs/design.md §13): what PID 1 knows
//! that the kernel cannot tell, written by the old program into a memfd
//! whose number the new one finds in its arguments (`--handover=FD`).
//! Pure: records to bytes and back; boot/reexec.rs makes the system
//! calls.
//!
//! The format: the magic `pinit-ho`, a version (u16), then records, each
//! a tag (u8), a length (u32) and that many bytes, ending with `END`.
//! Numbers are little-endian, texts a u8 length and the bytes.
//!
//! The version rule: a reader takes every version up to its own and
//! refuses a later one (its writer may have records the reader does not
//! know), and then the new PID 1 rebuilds its view from the kernel
//! (boot/adopt.rs). Records are only ever added, each with a new tag,
//! and a reader gives a record an older version lacks its default; a
//! record whose layout changes is a new tag and a new version.
//!
//! An fd is an `FD` record: its role, the unit it belongs to (by the
//! position of the unit's `UNIT` record) or none, and its number, which
//! the exec keeps (its close-on-exec flag is cleared). A new kind of fd
//! is one more `Role`. Version 1's later records: the `listen=`
//! sockets (`Role::Socket`), the `accept=yes` instances (`INSTANCE`) and
//! their sockets' counts (`ACCEPTED`); a reader without them refuses the
//! hand-over and takes the units back from the kernel.

use crate::put::{Put, Sink};
use crate::supervise::instance::{Instance, Stop};
use crate::supervise::report::Timeline;
use crate::supervise::supervisor::Carried;
use crate::supervise::unit::{Failure, Snapshot, State, Status, Then};
use crate::sys::time::Ms;
use rustix::io::Errno;
use rustix::process::Pid;

/// The first bytes of a hand-over.
pub(crate) const MAGIC: &[u8; 8] = b"pinit-ho";
/// The version this binary writes, and the latest it reads.
pub(crate) const VERSION: u16 = 1;

/// The record tags.
mod tag {
    pub(super) const END: u8 = 0;
    pub(super) const META: u8 = 1;
    pub(super) const TABLE: u8 = 2;
    pub(super) const UNIT: u8 = 3;
    pub(super) const FD: u8 = 4;
    pub(super) const INSTANCE: u8 = 5;
    pub(super) const ACCEPTED: u8 = 6;
}

/// What an fd of an `FD` record is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// The control socket's listening end.
    Control = 1,
    /// The sd_notify socket.
    Notify = 2,
    /// The client that asked for the re-exec: the new PID 1 answers it.
    Client = 3,
    /// The hardware watchdog's device (boot/watchdog.rs).
    Watchdog = 4,
    /// A unit's cgroup directory.
    Cgroup = 16,
    /// A unit's output pipe, read end.
    OutRead = 17,
    /// A unit's output pipe, write end.
    OutWrite = 18,
    /// The read end of a unit's `ready=fd:N` pipe.
    Ready = 19,
    /// A pidfd on a unit's main process.
    Pidfd = 20,
    /// The read end of a unit's exec report pipe (a child that has not
    /// exec'd yet).
    Report = 21,
    /// A unit's `listen=` socket; a unit's come in the order of its
    /// `listen=` options.
    Socket = 22,
}

impl Role {
    const ALL: [Role; 11] = [
        Role::Control,
        Role::Notify,
        Role::Client,
        Role::Watchdog,
        Role::Cgroup,
        Role::OutRead,
        Role::OutWrite,
        Role::Ready,
        Role::Pidfd,
        Role::Report,
        Role::Socket,
    ];

    fn of(b: u8) -> Option<Role> {
        Role::ALL.into_iter().find(|r| *r as u8 == b)
    }
}

/// One record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Record<'a> {
    /// The writer's version, and whether it said the boot summary.
    Meta { version: &'a str, booted: bool },
    /// The table in force: its text, and whether it is the board's.
    Table { board: bool, text: &'a [u8] },
    /// A unit, in table order.
    Unit(Carried<'a>),
    /// An fd: its role, its unit (the position of its `Unit` record) or
    /// none, its number.
    Fd {
        role: Role,
        unit: Option<u16>,
        fd: i32,
    },
    /// A running instance of an `accept=yes` unit; its `unit` is the
    /// position of its unit's `Unit` record.
    Instance(Instance),
    /// The connections accepted on socket `socket` (its position among
    /// the unit's `Socket` fds) of unit `unit`, when not 0.
    Accepted { unit: u16, socket: u8, count: u32 },
}

/// Why a hand-over was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Refused {
    /// Not a hand-over.
    Magic,
    /// A later format than this binary reads.
    Version(u16),
    /// It ends before its `END`.
    Truncated,
    /// A record this version does not have.
    Tag(u8),
    /// A record of this tag that does not read.
    Malformed(u8),
}

impl Put for Refused {
    fn put(&self, s: &mut dyn Sink) {
        match *self {
            Refused::Magic => s.str("not a hand-over"),
            Refused::Version(v) => {
                crate::fill!(s, "format version {} (this one reads up to {})", v, VERSION)
            }
            Refused::Truncated => s.str("it is cut short"),
            Refused::Tag(t) => crate::fill!(s, "unknown record {}", t),
            Refused::Malformed(t) => crate::fill!(s, "record {} does not read", t),
        }
    }
}

/// Writes a hand-over to `out`, record by record.
pub(crate) struct Writer<'o> {
    out: &'o mut dyn FnMut(&[u8]),
}

/// A record's bytes, built before its length is known.
type Payload = heapless::Vec<u8, 512>;

impl<'o> Writer<'o> {
    /// Writes the magic and the version.
    pub(crate) fn new(out: &'o mut dyn FnMut(&[u8])) -> Writer<'o> {
        out(MAGIC);
        out(&VERSION.to_le_bytes());
        Writer { out }
    }

    fn record(&mut self, tag: u8, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        (self.out)(&[tag]);
        (self.out)(&(len as u32).to_le_bytes());
        for p in parts {
            (self.out)(p);
        }
    }

    /// Writes one record.
    pub(crate) fn put(&mut self, r: &Record<'_>) {
        let mut p = Payload::new();
        match *r {
            Record::Meta { version, booted } => {
                text(&mut p, version.as_bytes());
                byte(&mut p, booted as u8);
                self.record(tag::META, &[&p]);
            }
            Record::Table { board, text } => self.record(tag::TABLE, &[&[board as u8], text]),
            Record::Unit(ref c) => {
                unit(&mut p, c);
                self.record(tag::UNIT, &[&p]);
            }
            Record::Fd { role, unit, fd } => {
                byte(&mut p, role as u8);
                num(&mut p, &unit.unwrap_or(u16::MAX).to_le_bytes());
                num(&mut p, &fd.to_le_bytes());
                self.record(tag::FD, &[&p]);
            }
            Record::Instance(i) => {
                num(&mut p, &i.unit.to_le_bytes());
                num(&mut p, &i.num.to_le_bytes());
                num(&mut p, &i.pid.as_raw_nonzero().get().to_le_bytes());
                let (kind, at) = match i.stop {
                    Stop::No => (0, None),
                    Stop::Signalled(t) => (1, Some(t)),
                    Stop::Killed(t) => (2, Some(t)),
                };
                byte(&mut p, kind);
                time(&mut p, at);
                self.record(tag::INSTANCE, &[&p]);
            }
            Record::Accepted {
                unit,
                socket,
                count,
            } => {
                num(&mut p, &unit.to_le_bytes());
                byte(&mut p, socket);
                num(&mut p, &count.to_le_bytes());
                self.record(tag::ACCEPTED, &[&p]);
            }
        }
    }

    /// Writes the `END` record.
    pub(crate) fn end(mut self) {
        self.record(tag::END, &[]);
    }
}

fn byte(p: &mut Payload, b: u8) {
    let _ = p.push(b);
}

fn num(p: &mut Payload, bytes: &[u8]) {
    let _ = p.extend_from_slice(bytes);
}

/// A text of at most 255 bytes (longer ones are cut: names are 31,
/// versions and `STATUS=` texts shorter).
fn text(p: &mut Payload, t: &[u8]) {
    let t = t.get(..t.len().min(255)).unwrap_or(&[]);
    byte(p, t.len() as u8);
    let _ = p.extend_from_slice(t);
}

/// A time, or `u64::MAX` for none.
fn time(p: &mut Payload, t: Option<Ms>) {
    num(p, &t.map_or(u64::MAX, |t| t.0).to_le_bytes());
}

fn unit(p: &mut Payload, c: &Carried<'_>) {
    text(p, c.name.as_bytes());
    state(p, c.unit.state);
    time(p, Some(c.unit.since));
    num(p, &c.unit.restarts.to_le_bytes());
    num(p, &c.unit.streak.to_le_bytes());
    num(p, &c.unit.backoff_ms.to_le_bytes());
    let (kind, v) = match c.unit.last_exit {
        None => (0, 0),
        Some(Status::Code(n)) => (1, n),
        Some(Status::Signal(n)) => (2, n),
        Some(Status::Unknown) => (3, 0),
    };
    byte(p, kind);
    num(p, &v.to_le_bytes());
    num(p, &c.log_pid.to_le_bytes());
    time(p, c.timeline.deps_met);
    time(p, c.timeline.first_start);
    time(p, c.timeline.first_ready);
    byte(p, c.stopping as u8);
    byte(p, c.run_dirs as u8);
    text(p, c.status);
    // Added after version 1's first layout, at the end, so a reader
    // without it reads the rest as before.
    if let Some((ms, pinged)) = c.unit.watchdog {
        num(p, &ms.to_le_bytes());
        time(p, Some(pinged));
    }
}

/// A state: its tag, then its pid (0: none), its two times, `killed`,
/// `then`, the failure and its errno, whichever it has (zero or none
/// otherwise).
fn state(p: &mut Payload, s: State) {
    let none = (None, None, None, false, 0, None);
    let (tag, (pid, at, at2, killed, then, why)) = match s {
        State::Waiting | State::Spawning => (0, none),
        State::Starting { pid, deadline } => (1, (Some(pid), deadline, None, false, 0, None)),
        State::Running { pid, deadline } => (2, (Some(pid), deadline, None, false, 0, None)),
        State::Stopping {
            pid,
            deadline,
            killed,
            then,
        } => {
            let (then, why) = match then {
                Then::Stop => (0, None),
                Then::Restart => (1, None),
                Then::Fail(f) => (2, Some(f)),
            };
            (3, (pid, Some(deadline), None, killed, then, why))
        }
        State::Done => (4, none),
        State::BackingOff { until } => (5, (None, Some(until), None, false, 0, None)),
        State::Failed { why } => (6, (None, None, None, false, 0, Some(why))),
        State::Skipped => (7, none),
        State::Blocked => (8, none),
        State::Stopped => (9, none),
        State::Adopting { retry, deadline } => {
            (10, (None, Some(retry), Some(deadline), false, 0, None))
        }
        State::Tracking => (11, none),
        State::Listening => (12, none),
    };
    byte(p, tag);
    num(
        p,
        &pid.map_or(0, |p| p.as_raw_nonzero().get()).to_le_bytes(),
    );
    time(p, at);
    time(p, at2);
    byte(p, killed as u8);
    byte(p, then);
    let (why, errno) = match why {
        None => (0, 0),
        Some(Failure::Exit) => (1, 0),
        Some(Failure::NotReady) => (2, 0),
        Some(Failure::ReadyTimeout) => (3, 0),
        Some(Failure::Spawn(e)) => (4, e.raw_os_error()),
        Some(Failure::Refused) => (5, 0),
        Some(Failure::Limit) => (6, 0),
        Some(Failure::Timeout) => (7, 0),
        Some(Failure::Vanished) => (8, 0),
        Some(Failure::PidFile) => (9, 0),
        Some(Failure::Watchdog) => (10, 0),
        Some(Failure::Triggered) => (11, 0),
        Some(Failure::Sockets) => (12, 0),
    };
    byte(p, why);
    num(p, &errno.to_le_bytes());
}

/// Checks the magic and the version; the records follow.
pub(crate) fn read(bytes: &[u8]) -> Result<Records<'_>, Refused> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(Refused::Magic)?;
    let (v, rest) = rest.split_first_chunk::<2>().ok_or(Refused::Truncated)?;
    let version = u16::from_le_bytes(*v);
    if version == 0 || version > VERSION {
        return Err(Refused::Version(version));
    }
    Ok(Records { rest, done: false })
}

/// The records of a hand-over, up to `END`.
#[derive(Clone)]
pub(crate) struct Records<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, Refused>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.record();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r.transpose()
    }
}

impl<'a> Records<'a> {
    /// The next record; `None` at `END`.
    fn record(&mut self) -> Result<Option<Record<'a>>, Refused> {
        let (&t, rest) = self.rest.split_first().ok_or(Refused::Truncated)?;
        let (len, rest) = rest.split_first_chunk::<4>().ok_or(Refused::Truncated)?;
        let len = u32::from_le_bytes(*len) as usize;
        let body = rest.get(..len).ok_or(Refused::Truncated)?;
        self.rest = rest.get(len..).unwrap_or(&[]);
        let mut b = Bytes(body);
        let r = match t {
            tag::END => return Ok(None),
            tag::META => (|| {
                Some(Record::Meta {
                    version: core::str::from_utf8(b.text()?).ok()?,
                    booted: b.flag()?,
                })
            })(),
            tag::TABLE => b.flag().map(|board| Record::Table { board, text: b.0 }),
            tag::UNIT => b.unit().map(Record::Unit),
            tag::FD => (|| {
                let role = Role::of(b.byte()?)?;
                let unit = u16::from_le_bytes(b.array()?);
                Some(Record::Fd {
                    role,
                    unit: (unit != u16::MAX).then_some(unit),
                    fd: i32::from_le_bytes(b.array()?),
                })
            })(),
            tag::INSTANCE => (|| {
                let (unit, num) = (
                    u16::from_le_bytes(b.array()?),
                    u16::from_le_bytes(b.array()?),
                );
                let pid = Pid::from_raw(b.i32()?)?;
                let stop = match (b.byte()?, b.time()?) {
                    (0, None) => Stop::No,
                    (1, Some(t)) => Stop::Signalled(t),
                    (2, Some(t)) => Stop::Killed(t),
                    _ => return None,
                };
                Some(Record::Instance(Instance {
                    unit,
                    num,
                    pid,
                    stop,
                }))
            })(),
            tag::ACCEPTED => (|| {
                Some(Record::Accepted {
                    unit: u16::from_le_bytes(b.array()?),
                    socket: b.byte()?,
                    count: b.u32()?,
                })
            })(),
            other => return Err(Refused::Tag(other)),
        };
        r.ok_or(Refused::Malformed(t)).map(Some)
    }
}

/// A record's bytes, read from the front.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (a, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*a)
    }

    fn byte(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    fn flag(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn time(&mut self) -> Option<Option<Ms>> {
        self.u64().map(|t| (t != u64::MAX).then_some(Ms(t)))
    }

    fn text(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.byte()?);
        let t = self.0.get(..n)?;
        self.0 = self.0.get(n..)?;
        Some(t)
    }

    fn unit(&mut self) -> Option<Carried<'a>> {
        let name = core::str::from_utf8(self.text()?).ok()?;
        let state = self.state()?;
        let since = self.time()??;
        let (restarts, streak, backoff_ms) = (self.u32()?, self.u32()?, self.u64()?);
        let last_exit = match (self.byte()?, self.i32()?) {
            (0, _) => None,
            (1, n) => Some(Status::Code(n)),
            (2, n) => Some(Status::Signal(n)),
            (3, _) => Some(Status::Unknown),
            _ => return None,
        };
        let log_pid = self.i32()?;
        let timeline = Timeline {
            deps_met: self.time()?,
            first_start: self.time()?,
            first_ready: self.time()?,
        };
        let stopping = self.flag()?;
        let run_dirs = self.flag()?;
        let status = self.text()?;
        let watchdog = match self.0.is_empty() {
            true => None,
            false => Some((self.u64()?, self.time()??)),
        };
        Some(Carried {
            name,
            unit: Snapshot {
                state,
                since,
                restarts,
                streak,
                backoff_ms,
                last_exit,
                watchdog,
            },
            log_pid,
            status,
            timeline,
            stopping,
            run_dirs,
        })
    }

    fn state(&mut self) -> Option<State> {
        let (tag, pid, at, at2) = (self.byte()?, self.i32()?, self.time()?, self.time()?);
        let (killed, then) = (self.flag()?, self.byte()?);
        let (why, errno) = (self.byte()?, self.i32()?);
        let pid = Pid::from_raw(pid);
        let why = match why {
            0 => None,
            1 => Some(Failure::Exit),
            2 => Some(Failure::NotReady),
            3 => Some(Failure::ReadyTimeout),
            4 => Some(Failure::Spawn(Errno::from_raw_os_error(errno))),
            5 => Some(Failure::Refused),
            6 => Some(Failure::Limit),
            7 => Some(Failure::Timeout),
            8 => Some(Failure::Vanished),
            9 => Some(Failure::PidFile),
            10 => Some(Failure::Watchdog),
            11 => Some(Failure::Triggered),
            12 => Some(Failure::Sockets),
            _ => return None,
        };
        let then = match then {
            0 => Then::Stop,
            1 => Then::Restart,
            2 => Then::Fail(why?),
            _ => return None,
        };
        Some(match tag {
            0 => State::Waiting,
            1 => State::Starting {
                pid: pid?,
                deadline: at,
            },
            2 => State::Running {
                pid: pid?,
                deadline: at,
            },
            3 => State::Stopping {
                pid,
                deadline: at?,
                killed,
                then,
            },
            4 => State::Done,
            5 => State::BackingOff { until: at? },
            6 => State::Failed { why: why? },
            7 => State::Skipped,
            8 => State::Blocked,
            9 => State::Stopped,
            10 => State::Adopting {
                retry: at?,
                deadline: at2?,
            },
            11 => State::Tracking,
            12 => State::Listening,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn pid(n: i32) -> Pid {
        Pid::from_raw(n).unwrap()
    }

    fn carried(name: &str, state: State) -> Carried<'_> {
        Carried {
            name,
            unit: Snapshot {
                state,
                since: Ms(1234),
                restarts: 7,
                streak: 3,
                backoff_ms: 800,
                last_exit: Some(Status::Signal(9)),
                watchdog: Some((2_500, Ms(1200))),
            },
            log_pid: 4321,
            status: "serving 3 clients".as_bytes(),
            timeline: Timeline {
                deps_met: Some(Ms(10)),
                first_start: Some(Ms(11)),
                first_ready: None,
            },
            stopping: true,
            run_dirs: true,
        }
    }

    fn every_state() -> Vec<State> {
        let mut v = std::vec![
            State::Waiting,
            State::Starting {
                pid: pid(5),
                deadline: Some(Ms(99)),
            },
            State::Starting {
                pid: pid(5),
                deadline: None,
            },
            State::Running {
                pid: pid(6),
                deadline: None,
            },
            State::Running {
                pid: pid(6),
                deadline: Some(Ms(60)),
            },
            State::Done,
            State::Adopting {
                retry: Ms(3),
                deadline: Ms(4),
            },
            State::Tracking,
            State::Listening,
            State::BackingOff { until: Ms(777) },
            State::Skipped,
            State::Blocked,
            State::Stopped,
        ];
        for (p, then) in [
            (Some(pid(7)), Then::Stop),
            (None, Then::Restart),
            (None, Then::Fail(Failure::Timeout)),
        ] {
            v.push(State::Stopping {
                pid: p,
                deadline: Ms(5),
                killed: p.is_some(),
                then,
            });
        }
        for why in [
            Failure::Exit,
            Failure::NotReady,
            Failure::ReadyTimeout,
            Failure::Spawn(Errno::NOENT),
            Failure::Refused,
            Failure::Limit,
            Failure::Timeout,
            Failure::Vanished,
            Failure::PidFile,
            Failure::Watchdog,
            Failure::Triggered,
            Failure::Sockets,
        ] {
            v.push(State::Failed { why });
        }
        v
    }

    fn write(records: &[Record<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| out.extend_from_slice(b);
        let mut w = Writer::new(&mut sink);
        for r in records {
            w.put(r);
        }
        w.end();
        out
    }

    #[test]
    fn records_read_back_as_written() {
        let names: Vec<std::string::String> = (0..every_state().len())
            .map(|i| std::format!("u{}", i))
            .collect();
        let mut records = std::vec![
            Record::Meta {
                version: "0.1.0",
                booted: true
            },
            Record::Table {
                board: false,
                text: b"service a -- /a\n"
            },
        ];
        for (name, s) in names.iter().zip(every_state()) {
            records.push(Record::Unit(carried(name, s)));
        }
        for (role, unit, fd) in [
            (Role::Control, None, 5),
            (Role::Notify, None, 6),
            (Role::Client, None, 7),
            (Role::Watchdog, None, 13),
            (Role::Cgroup, Some(0), 8),
            (Role::OutRead, Some(0), 9),
            (Role::OutWrite, Some(0), 10),
            (Role::Ready, Some(3), 11),
            (Role::Pidfd, Some(3), 12),
            (Role::Report, Some(3), 14),
            (Role::Socket, Some(4), 15),
            (Role::Socket, Some(4), 16),
        ] {
            records.push(Record::Fd { role, unit, fd });
        }
        for (num, stop) in [
            (0, Stop::No),
            (1, Stop::Signalled(Ms(5000))),
            (7, Stop::Killed(Ms(6000))),
        ] {
            records.push(Record::Instance(Instance {
                unit: 4,
                num,
                pid: pid(300 + i32::from(num)),
                stop,
            }));
        }
        records.push(Record::Accepted {
            unit: 4,
            socket: 1,
            count: 123_456,
        });
        let bytes = write(&records);
        let back: Vec<Record<'_>> = read(&bytes).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(back, records);
    }

    #[test]
    fn a_unit_record_without_the_watchdog_tail_reads() {
        // As the first writers of version 1 wrote it: no watchdog period.
        let mut c = carried(
            "old",
            State::Running {
                pid: pid(6),
                deadline: None,
            },
        );
        c.unit.watchdog = None;
        let bytes = write(&[Record::Unit(c)]);
        let back: Vec<Record<'_>> = read(&bytes).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(back, std::vec![Record::Unit(c)]);
        // A tail cut short does not read.
        c.unit.watchdog = Some((1_000, Ms(5)));
        let mut bytes = write(&[Record::Unit(c)]);
        let end = bytes.len() - 5;
        bytes.remove(end - 1);
        let len = u32::from_le_bytes(bytes[11..15].try_into().unwrap()) - 1;
        bytes[11..15].copy_from_slice(&len.to_le_bytes());
        let r: Result<Vec<_>, _> = read(&bytes).unwrap().collect();
        assert_eq!(r.err(), Some(Refused::Malformed(tag::UNIT)));
    }

    #[test]
    fn a_later_version_or_anything_else_is_refused() {
        let good = write(&[Record::Table {
            board: true,
            text: b"",
        }]);
        let mut later = good.clone();
        later[8..10].copy_from_slice(&(VERSION + 1).to_le_bytes());
        assert_eq!(read(&later).err(), Some(Refused::Version(VERSION + 1)));
        let mut zero = good.clone();
        zero[8..10].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(read(&zero).err(), Some(Refused::Version(0)));
        assert_eq!(read(b"pinit-hx\x01\x00").err(), Some(Refused::Magic));
        assert_eq!(read(b"pinit-h").err(), Some(Refused::Magic));
        // Cut anywhere before the END record's last byte: truncated.
        for n in 10..good.len() {
            let r: Result<Vec<_>, _> = read(&good[..n]).unwrap().collect();
            assert_eq!(r.err(), Some(Refused::Truncated), "cut at {}", n);
        }
        // A tag this version does not have.
        let mut odd = good[..10].to_vec();
        odd.extend_from_slice(&[99, 0, 0, 0, 0]);
        let r: Result<Vec<_>, _> = read(&odd).unwrap().collect();
        assert_eq!(r.err(), Some(Refused::Tag(99)));
        // A record that does not read: an fd of a role that does not exist.
        let mut bad = good[..10].to_vec();
        bad.extend_from_slice(&[tag::FD, 7, 0, 0, 0, 200, 255, 255, 1, 0, 0, 0]);
        let r: Result<Vec<_>, _> = read(&bad).unwrap().collect();
        assert_eq!(r.err(), Some(Refused::Malformed(tag::FD)));
        // An instance with no pid, or a stop with no time.
        for body in [
            [
                1, 0, 2, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255,
            ],
            [
                1, 0, 2, 0, 9, 0, 0, 0, 1, 255, 255, 255, 255, 255, 255, 255, 255,
            ],
        ] {
            let mut bad = good[..10].to_vec();
            bad.extend_from_slice(&[tag::INSTANCE, body.len() as u8, 0, 0, 0]);
            bad.extend_from_slice(&body);
            let r: Result<Vec<_>, _> = read(&bad).unwrap().collect();
            assert_eq!(r.err(), Some(Refused::Malformed(tag::INSTANCE)));
        }
    }
}
