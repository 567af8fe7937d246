//! The hardware watchdog PID 1 keeps (docs/config.md, "The hardware
//! watchdog"; docs/design.md §3, §8): the table's `watchdog` statement.
//!
//! The device is opened when it appears (tried every `CHECK_MS` until
//! `wait=`), its timeout set and read back, and it is pinged from the
//! event loop at half the accepted timeout: a deadline among the loop's
//! others, never a thread or another process, so a PID 1 that stops
//! running its loop stops the pings and the machine resets. When a
//! shutdown starts, the timeout becomes `shutdown-timeout=`: a budget
//! for the whole shutdown, pinged only as far as the budget allows.
//!
//! The fd is kept here and nowhere else. A re-exec of PID 1 hands it
//! over (`handover::Role::Watchdog`): the new program goes on pinging the
//! open device, so the timer never stops and nothing closes it. After a
//! panic (close-on-exec: the fd closes with the old program, the timer
//! runs on) the new program opens the device again at its start. A
//! reload takes a new timeout in place; a new device, or no statement
//! any more, waits for the next boot: closing the open device would
//! either stop the protection or reset the machine (docs/design.md §13).

use crate::put::{Put, Sink};
use crate::say;
use crate::sys::errno::Name;
use crate::sys::time::Ms;
use crate::sys::{self, Wdioc};
use crate::table::{self, capacity::WATCHDOG_DEVICE_MAX, Millis};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

/// While the device is missing, it is tried again this often.
pub(crate) const CHECK_MS: u64 = 500;
/// The timeout assumed when the driver says nothing of its own (both
/// WDIOC_SETTIMEOUT and WDIOC_GETTIMEOUT failed): a ping every second.
const UNKNOWN_TIMEOUT_MS: u64 = 2_000;

/// Where the watchdog is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Not open yet: try at `next`, give up after `until`.
    Waiting { next: Ms, until: Ms },
    /// Open: the next ping is due at `next` (`None`: no more pings, the
    /// shutdown budget runs out by itself).
    Open { next: Option<Ms> },
    /// Never opened, or closed by the magic close.
    Off,
}

/// The `watchdog` statement, copied out of the table (which a reload
/// replaces).
#[derive(Clone, PartialEq, Eq)]
struct Conf {
    device: heapless::String<WATCHDOG_DEVICE_MAX>,
    timeout: Millis,
    shutdown_timeout: Millis,
    wait: Millis,
    magic_close: bool,
}

impl Conf {
    /// `None` for a device path the parser would have refused.
    fn of(w: &table::Watchdog<'_>) -> Option<Conf> {
        let mut device = heapless::String::new();
        let mut buf = [0u8; WATCHDOG_DEVICE_MAX + 1];
        let path = w.device.to_cstr(&mut buf)?.to_str().ok()?;
        device.push_str(path).ok()?;
        Some(Conf {
            device,
            timeout: w.timeout,
            shutdown_timeout: w.shutdown_timeout,
            wait: w.wait,
            magic_close: w.magic_close,
        })
    }
}

pub(crate) struct Watchdog {
    conf: Conf,
    fd: Option<OwnedFd>,
    phase: Phase,
    /// The timeout the driver accepted, in ms.
    timeout_ms: u64,
    /// During a shutdown: the machine must be down by then.
    end: Option<Ms>,
    /// A ping failed and was reported; the next failure stays quiet.
    failing: bool,
}

impl Watchdog {
    /// Starts waiting for the device; the first try is at `now`.
    pub(crate) fn new(w: &table::Watchdog<'_>, now: Ms) -> Option<Watchdog> {
        let conf = Conf::of(w)?;
        let until = now.after(u64::from(conf.wait.0));
        Some(Watchdog {
            conf,
            fd: None,
            phase: Phase::Waiting { next: now, until },
            timeout_ms: 0,
            end: None,
            failing: false,
        })
    }

    /// After a re-exec: the device the old program held open, pinged on
    /// at once; its timeout as the driver has it.
    pub(crate) fn handed_over(w: &table::Watchdog<'_>, fd: OwnedFd, now: Ms) -> Option<Watchdog> {
        let mut dog = Watchdog::new(w, now)?;
        let secs = sys::watchdog(fd.as_fd(), Wdioc::GetTimeout, 0);
        dog.fd = Some(fd);
        dog.timeout_ms = secs
            .ok()
            .filter(|&s| s > 0)
            .map_or(UNKNOWN_TIMEOUT_MS, |s| s as u64 * 1000);
        dog.ping();
        dog.phase = Phase::Open {
            next: dog.next_ping(now),
        };
        say!(
            "watchdog: {} kept open across the re-exec; a ping every {} ms",
            dog.conf.device.as_str(),
            dog.timeout_ms / 2
        );
        Some(dog)
    }

    /// The open device, for the hand-over of a re-exec.
    pub(crate) fn held(&self) -> Option<BorrowedFd<'_>> {
        self.fd()
    }

    /// A reload of the table: `new` is its `watchdog` statement. Returns
    /// whether this watchdog is still wanted (`false`: drop it; only
    /// while it is not open).
    pub(crate) fn reload(&mut self, new: Option<&table::Watchdog<'_>>, now: Ms) -> bool {
        let open = matches!(self.phase, Phase::Open { .. });
        let Some(conf) = new.and_then(Conf::of) else {
            if open {
                say!(
                    "watchdog: the table has no watchdog statement now; {} stays open and pinged until the next boot",
                    self.conf.device.as_str()
                );
            }
            return open;
        };
        if conf == self.conf {
            return true;
        }
        if !open {
            // Not open yet (or given up): the new statement from scratch.
            let until = now.after(u64::from(conf.wait.0));
            self.conf = conf;
            self.phase = Phase::Waiting { next: now, until };
            return true;
        }
        if conf.device != self.conf.device {
            say!(
                "watchdog: {} stays open until the next boot; {} is taken then",
                self.conf.device.as_str(),
                conf.device.as_str()
            );
            return true;
        }
        let timeout = conf.timeout != self.conf.timeout;
        self.conf = conf;
        if timeout && self.end.is_none() {
            self.arm(":", now);
        }
        true
    }

    /// Sets `timeout=` on the open device, says what the driver took
    /// (`DEVICE` then `how`), pings, and plans the next ping.
    fn arm(&mut self, how: &str, now: Ms) {
        let (asked, accepted) = self.set_timeout(self.conf.timeout.0);
        say!(
            "watchdog: {}{} timeout {}s asked, {} accepted; a ping every {} ms",
            self.conf.device.as_str(),
            how,
            asked,
            accepted,
            self.timeout_ms / 2
        );
        self.ping();
        self.phase = Phase::Open {
            next: self.next_ping(now),
        };
    }

    /// The device's fd while it is open (the one place that holds it).
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }

    /// When the loop must wake up for the watchdog.
    pub(crate) fn deadline(&self) -> Option<Ms> {
        match self.phase {
            Phase::Waiting { next, .. } => Some(next),
            Phase::Open { next } => next,
            Phase::Off => None,
        }
    }

    /// Whatever is due at `now`: a try to open, a ping. Called on every
    /// wake-up of the loop.
    pub(crate) fn tick(&mut self, now: Ms) {
        match self.phase {
            Phase::Waiting { next, until } if now >= next => self.try_open(now, until),
            Phase::Open { next: Some(t) } if now >= t => {
                self.ping();
                self.phase = Phase::Open {
                    next: self.next_ping(now),
                };
            }
            Phase::Waiting { .. } | Phase::Open { .. } | Phase::Off => {}
        }
    }

    fn try_open(&mut self, now: Ms, until: Ms) {
        let mut path = [0u8; WATCHDOG_DEVICE_MAX + 1];
        let opened = match cstr(&self.conf.device, &mut path) {
            Some(p) => open(p),
            None => Err(Errno::NAMETOOLONG),
        };
        let e = match opened {
            Ok(fd) => {
                self.fd = Some(fd);
                self.arm(" opened:", now);
                return;
            }
            Err(e) => e,
        };
        if now < until {
            self.phase = Phase::Waiting {
                next: now.after(CHECK_MS),
                until,
            };
            return;
        }
        if e == Errno::NOENT {
            say!(
                "watchdog: {} did not appear within {}; running without a hardware watchdog",
                self.conf.device.as_str(),
                self.conf.wait
            );
        } else {
            say!(
                "watchdog: unable to open {} (tried for {}): {}; running without a hardware watchdog",
                self.conf.device.as_str(),
                self.conf.wait,
                NotChar(e)
            );
        }
        self.phase = Phase::Off;
    }

    /// WDIOC_SETTIMEOUT to `ms` (whole seconds), then WDIOC_GETTIMEOUT:
    /// what the driver accepted becomes `timeout_ms`. Returns what to say:
    /// the seconds asked, and the seconds accepted (or why unknown).
    fn set_timeout(&mut self, ms: u32) -> (u32, Accepted) {
        let secs = ms / 1000;
        let Some(fd) = self.fd() else {
            return (secs, Accepted(None, Errno::BADF));
        };
        let set = sys::watchdog(fd, Wdioc::SetTimeout, secs as i32);
        let got = sys::watchdog(fd, Wdioc::GetTimeout, 0).or(set);
        let accepted = got.ok().filter(|&s| s > 0).map(|s| s as u64 * 1000);
        self.timeout_ms = accepted.unwrap_or(UNKNOWN_TIMEOUT_MS);
        let why = match (set, got) {
            (Err(e), _) | (_, Err(e)) => e,
            _ => Errno::INVAL,
        };
        (secs, Accepted(accepted, why))
    }

    fn ping(&mut self) {
        let r = match self.fd() {
            Some(fd) => sys::watchdog(fd, Wdioc::KeepAlive, 0),
            None => return,
        };
        match r {
            Ok(_) => self.failing = false,
            Err(e) if !self.failing => {
                self.failing = true;
                say!(
                    "watchdog: unable to ping {} (WDIOC_KEEPALIVE): {}",
                    self.conf.device.as_str(),
                    Name(e)
                );
            }
            Err(_) => {}
        }
    }

    /// Half the accepted timeout from now; during a shutdown, never a
    /// ping that would carry the machine past the budget's end.
    fn next_ping(&self, now: Ms) -> Option<Ms> {
        let next = now.after(self.timeout_ms / 2);
        match self.end {
            None => Some(next),
            Some(end) => {
                let last = Ms(end.0.saturating_sub(self.timeout_ms));
                (last > now).then_some(next.min(last))
            }
        }
    }

    /// A shutdown starts: the timeout becomes `shutdown-timeout=`, the
    /// budget of everything that follows. A device not open yet is no
    /// longer waited for.
    pub(crate) fn shutdown(&mut self, now: Ms) {
        match self.phase {
            Phase::Open { .. } => {}
            Phase::Waiting { .. } | Phase::Off => {
                self.phase = Phase::Off;
                return;
            }
        }
        let budget = self.conf.shutdown_timeout.0;
        self.end = Some(now.after(u64::from(budget)));
        let (asked, accepted) = self.set_timeout(budget);
        say!(
            "watchdog: shutdown: timeout {}s asked, {} accepted; a shutdown that takes longer resets the machine",
            asked,
            accepted
        );
        self.ping();
        self.phase = Phase::Open {
            next: self.next_ping(now),
        };
    }

    /// Right before reboot(2). `halting`: a poweroff or halt, which with
    /// `magic-close=yes` stops the watchdog (`V`, then close). Otherwise
    /// the device stays open and armed: a reboot(2) that never completes
    /// still resets the machine.
    pub(crate) fn before_reboot(&mut self, halting: bool, now: Ms) {
        self.tick(now);
        if !(halting && self.conf.magic_close) {
            return;
        }
        if let Some(fd) = self.fd.take() {
            match rustix::io::write(&fd, b"V") {
                Ok(_) => say!(
                    "watchdog: {} stopped (magic close, magic-close=yes)",
                    self.conf.device.as_str()
                ),
                Err(e) => say!(
                    "watchdog: unable to write the magic close to {}: {}",
                    self.conf.device.as_str(),
                    Name(e)
                ),
            }
            drop(fd);
            self.phase = Phase::Off;
        }
    }
}

/// `12s`, or why the driver's timeout is unknown.
struct Accepted(Option<u64>, Errno);

impl Put for Accepted {
    fn put(&self, s: &mut dyn Sink) {
        match self.0 {
            Some(ms) => crate::fill!(s, "{}s", (ms / 1000)),
            None => crate::fill!(
                s,
                "none reported ({}; assuming {}s)",
                Name(self.1),
                (UNKNOWN_TIMEOUT_MS / 1000)
            ),
        }
    }
}

/// What `open` returns for a path that is not a character device.
const NOT_CHAR: Errno = Errno::NOTTY;

/// An error of `open`, for the console.
struct NotChar(Errno);

impl Put for NotChar {
    fn put(&self, s: &mut dyn Sink) {
        if self.0 == NOT_CHAR {
            s.str("not a character device");
        } else {
            Name(self.0).put(s);
        }
    }
}

/// `s` and a NUL in `buf`.
fn cstr<'b>(s: &str, buf: &'b mut [u8]) -> Option<&'b core::ffi::CStr> {
    buf.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
    *buf.get_mut(s.len())? = 0;
    core::ffi::CStr::from_bytes_with_nul(buf.get(..=s.len())?).ok()
}

/// Opens the device write-only; never blocks (O_NONBLOCK: a FIFO put
/// there by mistake fails with ENXIO), and only a character device.
fn open(path: &core::ffi::CStr) -> Result<OwnedFd, Errno> {
    let flags = OFlags::WRONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, Mode::empty())?;
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::CharacterDevice {
        return Err(NOT_CHAR);
    }
    Ok(fd)
}
