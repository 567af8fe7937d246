//! The readiness socket: the sd_notify protocol, so daemons built for
//! systemd work unchanged. One datagram socket with SO_PASSCRED; the
//! kernel-attested sender pid says which unit a message is for (the
//! supervisor maps it through /proc/PID/cgroup), never the message itself.

use core::mem::MaybeUninit;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::{Errno, IoSliceMut};
use rustix::net::{
    self, AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SocketFlags,
    SocketType,
};

/// PID 1's notify socket, written once: the path and the environment
/// entry that units with `ready=notify` get.
macro_rules! notify_path {
    () => {
        "/run/pinit/notify"
    };
}
macro_rules! notify_key {
    () => {
        "NOTIFY_SOCKET="
    };
}
pub(crate) const NOTIFY_PATH: &str = notify_path!();
/// The start of the environment entry (`pinit --config` has its own path).
pub(crate) const NOTIFY_KEY: &str = notify_key!();
pub(crate) const NOTIFY_ENV: &core::ffi::CStr = match core::ffi::CStr::from_bytes_with_nul(
    concat!(notify_key!(), notify_path!(), "\0").as_bytes(),
) {
    Ok(c) => c,
    Err(_) => c"",
};

/// Longest datagram accepted; longer ones are dropped whole.
pub(crate) const DATAGRAM_MAX: usize = 4096;
/// Datagrams read per wake-up of the event loop (the kernel queues 10 by
/// default: net.unix.max_dgram_qlen).
pub(crate) const BATCH_MAX: usize = 8;

/// One field of a notification that pinit understands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Field<'a> {
    Ready,
    Reloading,
    Stopping,
    /// `WATCHDOG=1`
    Watchdog,
    /// `WATCHDOG=trigger`
    WatchdogTrigger,
    /// `WATCHDOG_USEC=N`, in µs.
    WatchdogUsec(u64),
    Status(&'a [u8]),
    MainPid(i32),
    /// A line pinit does not use (or a malformed value); named for the log.
    Other(&'a [u8]),
}

/// Splits a datagram into its `KEY=VALUE` lines.
pub(crate) fn fields<'a>(msg: &'a [u8], mut on: impl FnMut(Field<'a>)) {
    for line in msg.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let f = match line {
            b"READY=1" => Field::Ready,
            b"RELOADING=1" => Field::Reloading,
            b"STOPPING=1" => Field::Stopping,
            b"WATCHDOG=1" => Field::Watchdog,
            b"WATCHDOG=trigger" => Field::WatchdogTrigger,
            _ => {
                if let Some(s) = line.strip_prefix(b"STATUS=") {
                    Field::Status(s)
                } else if let Some(p) = line.strip_prefix(b"MAINPID=").and_then(pid) {
                    Field::MainPid(p)
                } else if let Some(us) = line.strip_prefix(b"WATCHDOG_USEC=").and_then(usec) {
                    Field::WatchdogUsec(us)
                } else {
                    Field::Other(line)
                }
            }
        };
        on(f);
    }
}

/// The mark a `STATUS=` cut to fit ends with.
pub(crate) const CUT_MARK: &str = "…";

/// `STATUS=` text into `out`: whole if it fits, else cut at a character
/// boundary (UTF-8) with `…` at the end, so a cut is always visible.
pub(crate) fn fit_status<const N: usize>(s: &[u8], out: &mut heapless::Vec<u8, N>) {
    out.clear();
    if s.len() <= N {
        let _ = out.extend_from_slice(s);
        return;
    }
    let mut keep = N.saturating_sub(CUT_MARK.len());
    // Back to the first byte of a character (not 0b10xx_xxxx).
    while keep > 0 && s.get(keep).is_some_and(|&b| b & 0xc0 == 0x80) {
        keep -= 1;
    }
    let _ = out.extend_from_slice(s.get(..keep).unwrap_or(&[]));
    let _ = out.extend_from_slice(CUT_MARK.as_bytes());
}

fn pid(s: &[u8]) -> Option<i32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = s.iter().fold(0i32, |a, &b| a * 10 + (b - b'0') as i32);
    (v > 0).then_some(v)
}

/// Up to 19 digits (below 10^19: no overflow).
fn usec(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |a, &b| a * 10 + u64::from(b - b'0')))
}

pub(crate) struct Notify {
    fd: OwnedFd,
}

impl Notify {
    /// Binds the socket at `path` (replacing a stale one), mode 0666 so
    /// units under other uids can send; credentials prevent spoofing.
    pub(crate) fn bind(path: &str) -> Result<Notify, Errno> {
        let _ = crate::sys::path::unlink(path);
        let fd = net::socket_with(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        let addr = crate::sys::path::unix_addr(path)?;
        net::sockopt::set_socket_passcred(&fd, true)?;
        // The mode comes from the umask at bind time: never a chmod by
        // path, which a swapped path would redirect.
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o111));
        let bound = net::bind(&fd, &addr);
        rustix::process::umask(old);
        bound?;
        Ok(Notify { fd })
    }

    /// The socket a previous PID 1 bound (a re-exec's hand-over).
    pub(crate) fn adopt(fd: OwnedFd) -> Notify {
        Notify { fd }
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Receives up to BATCH_MAX pending datagrams: `on(sender_pid,
    /// Ok(bytes))`, or `Err(length)` for one too long (dropped). A flood
    /// leaves the rest for the next wake-up (the socket stays readable),
    /// so every other event source is served in between. Datagrams
    /// without credentials are dropped.
    pub(crate) fn recv(&self, mut on: impl FnMut(i32, Result<&[u8], usize>)) {
        let mut data = [0u8; DATAGRAM_MAX];
        for _ in 0..BATCH_MAX {
            let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
            let mut control = RecvAncillaryBuffer::new(&mut space);
            let mut iov = [IoSliceMut::new(&mut data)];
            let r = net::recvmsg(&self.fd, &mut iov, &mut control, RecvFlags::TRUNC);
            let msg = match r {
                Ok(m) => m,
                Err(Errno::INTR) => continue,
                Err(_) => return, // EAGAIN: drained
            };
            let mut sender = None;
            for c in control.drain() {
                if let RecvAncillaryMessage::ScmCredentials(cred) = c {
                    sender = Some(cred.pid.as_raw_nonzero().get());
                }
            }
            match (sender, data.get(..msg.bytes)) {
                (Some(pid), Some(bytes)) => on(pid, Ok(bytes)),
                (Some(pid), None) => on(pid, Err(msg.bytes)),
                (None, _) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn parse(msg: &[u8]) -> Vec<Field<'_>> {
        let mut v = Vec::new();
        fields(msg, |f| v.push(f));
        v
    }

    #[test]
    fn protocol_fields() {
        assert_eq!(
            parse(b"READY=1\nSTATUS=serving 3 clients\nMAINPID=4711\n"),
            [
                Field::Ready,
                Field::Status(b"serving 3 clients"),
                Field::MainPid(4711)
            ]
        );
        assert_eq!(
            parse(b"RELOADING=1\nSTOPPING=1\nWATCHDOG=1"),
            [Field::Reloading, Field::Stopping, Field::Watchdog]
        );
        assert_eq!(
            parse(b"WATCHDOG=trigger\nWATCHDOG_USEC=2500000\nWATCHDOG_USEC=0"),
            [
                Field::WatchdogTrigger,
                Field::WatchdogUsec(2_500_000),
                Field::WatchdogUsec(0)
            ]
        );
        assert_eq!(
            parse(
                b"WATCHDOG=0\nWATCHDOG_USEC=\nWATCHDOG_USEC=-1\nWATCHDOG_USEC=99999999999999999999"
            ),
            [
                Field::Other(b"WATCHDOG=0"),
                Field::Other(b"WATCHDOG_USEC="),
                Field::Other(b"WATCHDOG_USEC=-1"),
                Field::Other(b"WATCHDOG_USEC=99999999999999999999")
            ]
        );
        assert_eq!(
            parse(b"READY=0\nMAINPID=x\nMAINPID=0"),
            [
                Field::Other(b"READY=0"),
                Field::Other(b"MAINPID=x"),
                Field::Other(b"MAINPID=0")
            ]
        );
        assert_eq!(parse(b""), []);
    }

    #[test]
    fn long_status_is_cut_on_a_character_with_a_mark() {
        let mut v: heapless::Vec<u8, 10> = heapless::Vec::new();
        fit_status(b"0123456789", &mut v);
        assert_eq!(&v[..], b"0123456789");
        fit_status(b"0123456789a", &mut v);
        assert_eq!(core::str::from_utf8(&v).unwrap(), "0123456…");
        // 'é' is 2 bytes: 7 kept bytes would split the fourth one.
        fit_status("éééééx".as_bytes(), &mut v);
        assert_eq!(core::str::from_utf8(&v).unwrap(), "ééé…");
        fit_status("€€€€".as_bytes(), &mut v);
        assert_eq!(core::str::from_utf8(&v).unwrap(), "€€…");
    }

    #[test]
    fn socket_reports_sender_pid() {
        let dir = std::env::temp_dir().join(format!("pinit-notify-{}", std::process::id()));
        let path = dir.to_str().unwrap();
        let n = Notify::bind(path).unwrap();
        let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
        s.send_to(b"READY=1\nSTATUS=hi", path).unwrap();
        let mut got = Vec::new();
        n.recv(|pid, bytes| got.push((pid, bytes.unwrap_or_default().to_vec())));
        std::fs::remove_file(path).unwrap();
        assert_eq!(
            got,
            [(std::process::id() as i32, b"READY=1\nSTATUS=hi".to_vec())]
        );
    }

    #[test]
    fn a_wake_up_reads_a_bounded_batch() {
        let dir = std::env::temp_dir().join(format!("pinit-notify-b-{}", std::process::id()));
        let path = dir.to_str().unwrap();
        let n = Notify::bind(path).unwrap();
        let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
        // 10: what the kernel queues by default.
        for _ in 0..10 {
            s.send_to(b"READY=1", path).unwrap();
        }
        let mut got = 0;
        n.recv(|_, _| got += 1);
        assert_eq!(got, BATCH_MAX);
        n.recv(|_, _| got += 1);
        std::fs::remove_file(path).unwrap();
        assert_eq!(got, 10);
    }
}
