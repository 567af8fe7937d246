//! Where log lines go besides the console: /dev/kmsg, the kernel's ring
//! buffer (`dmesg`, `pinit log`), and /dev/log, a syslog daemon. PID 1
//! opens them once and keeps them for good; a client (`pinit status`)
//! never does, so its lines go to its stderr only.
//!
//! kmsg: one write(2) is one record, at most `KMSG_RECORD_MAX` bytes.
//! syslog: one datagram per line, RFC 3164 without the timestamp
//! (`<PRI>TAG[PID]: text`; the daemon stamps it when it arrives), sent
//! without waiting: a daemon that is absent, stopped or behind refuses it
//! (ENOENT, ECONNREFUSED, EAGAIN) and the caller decides where it goes
//! instead. Nothing here ever blocks PID 1.

use crate::sys::GlobalFd;
use core::sync::atomic::{AtomicBool, Ordering};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::net::{self, AddressFamily, SendFlags, SocketFlags, SocketType};

/// The longest write /dev/kmsg takes: the kernel's LOG_LINE_MAX, 1024
/// bytes less its PREFIX_MAX of 32 (kernel/printk/printk.c, 6.1, without
/// CONFIG_PRINTK_CALLER; 6.10 on take 1024). A longer write is EINVAL.
pub(crate) const KMSG_RECORD_MAX: usize = 992;
/// Facility daemon (3), level debug (7). The kernel prints every record
/// below console_loglevel (7 unless `debug`, `loglevel=` or
/// `ignore_loglevel` say otherwise) on the console itself, in the
/// writer's context: at debug level pinit's lines, already on the console,
/// are not printed twice, and a unit flooding its output cannot stall PID 1
/// on a slow serial console.
pub(crate) const KMSG_PRI: &[u8] = b"<31>";
/// Facility daemon (3), severity info (6).
pub(crate) const SYSLOG_PRI: &[u8] = b"<30>";
/// The syslog daemon's socket.
pub(crate) const SYSLOG_PATH: &str = "/dev/log";

static KMSG: GlobalFd = GlobalFd::new();
/// An unbound datagram socket: each line is sent to /dev/log by name, so
/// a daemon that restarts (a new socket at the same path) is found again.
static SYSLOG: GlobalFd = GlobalFd::new();
/// pinit's own lines go to syslog too (the table says `log syslog`).
static OWN_TO_SYSLOG: AtomicBool = AtomicBool::new(false);

/// Opens /dev/kmsg for writing, once; `say!` copies every line there from
/// then on.
pub(crate) fn open_kmsg() -> Result<(), Errno> {
    let fd = rustix::fs::open(
        c"/dev/kmsg",
        OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    KMSG.set(fd);
    Ok(())
}

/// Makes the socket for `to_syslog`, once.
pub(crate) fn open_syslog() -> Result<(), Errno> {
    if SYSLOG.get().is_some() {
        return Ok(());
    }
    let fd = net::socket_with(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    SYSLOG.set(fd);
    Ok(())
}

/// pinit's own lines go to syslog as well (`open_syslog` first).
pub(crate) fn own_lines_to_syslog() {
    OWN_TO_SYSLOG.store(true, Ordering::Relaxed);
}

/// One kmsg record made of `parts`; EBADF when /dev/kmsg is not open.
pub(crate) fn to_kmsg(parts: &[&[u8]]) -> Result<(), Errno> {
    let fd = KMSG.get().ok_or(Errno::BADF)?;
    let mut slices = [rustix::io::IoSlice::new(&[]); 6];
    let n = fill(&mut slices, parts);
    rustix::io::writev(fd, slices.get(..n).unwrap_or(&[])).map(|_| ())
}

/// One datagram made of `parts` to /dev/log, never waiting; EBADF when
/// there is no socket.
pub(crate) fn to_syslog(parts: &[&[u8]]) -> Result<(), Errno> {
    let fd = SYSLOG.get().ok_or(Errno::BADF)?;
    let addr = crate::sys::path::unix_addr(SYSLOG_PATH)?;
    let mut slices = [rustix::io::IoSlice::new(&[]); 6];
    let n = fill(&mut slices, parts);
    let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
    let mut anc = net::SendAncillaryBuffer::default();
    net::sendmsg_addr(fd, &addr, slices.get(..n).unwrap_or(&[]), &mut anc, flags).map(|_| ())
}

fn fill<'a>(slices: &mut [rustix::io::IoSlice<'a>], parts: &[&'a [u8]]) -> usize {
    let mut n = 0;
    for (dst, p) in slices.iter_mut().zip(parts.iter()) {
        *dst = rustix::io::IoSlice::new(p);
        n += 1;
    }
    n
}

/// A line of pinit's own (`pinit: MESSAGE\n`, as on the console) to
/// kmsg, and to syslog as `pinit[1]: MESSAGE` if the table asked for it.
/// Failures are dropped: the line is on the console already.
pub(crate) fn own_line(line: &[u8]) {
    let _ = to_kmsg(&[KMSG_PRI, line]);
    if OWN_TO_SYSLOG.load(Ordering::Relaxed) {
        let msg = line.strip_prefix(b"pinit: ").unwrap_or(line);
        let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
        let _ = to_syslog(&[SYSLOG_PRI, b"pinit[1]: ", msg]);
    }
}
