//! Output capture: each unit's stdout/stderr pipe, cut into lines, each
//! line written to /dev/kmsg as `NAME[PID]: line`. Reads are bounded per
//! wake-up, so a unit that floods output cannot stall PID 1 or the others.

use crate::sys::console::{write_all, Line};
use core::fmt::Write;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// Longest line kept whole; a longer one is cut into pieces of this size.
pub(crate) const LOG_LINE_MAX: usize = 240;
/// Most bytes read from one unit's pipe per wake-up.
pub(crate) const READ_MAX_PER_WAKE: usize = 4096;
/// syslog facility daemon (3) with priority debug (7). Not info: the
/// kernel prints every record below console_loglevel (7 by default) to
/// the console synchronously, in the writer's context, so a unit flooding
/// its output at info level would stall PID 1 on a slow serial console.
/// At debug level the lines are in the ring buffer (`dmesg`, `pinit log`)
/// but not on the console; `log=console` is there for that.
const KMSG_PREFIX: &str = "<31>";

/// A unit's partial line between reads.
pub(crate) struct Capture {
    partial: heapless::Vec<u8, LOG_LINE_MAX>,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Capture {
    pub(crate) const fn new() -> Capture {
        Capture {
            partial: heapless::Vec::new(),
        }
    }

    /// Adds bytes; `emit` gets every complete line (without `\n`).
    pub(crate) fn feed(&mut self, mut bytes: &[u8], mut emit: impl FnMut(&[u8])) {
        while !bytes.is_empty() {
            let nl = bytes.iter().position(|&b| b == b'\n');
            let take = nl.unwrap_or(bytes.len());
            let room = LOG_LINE_MAX - self.partial.len();
            let n = take.min(room);
            let _ = self
                .partial
                .extend_from_slice(bytes.get(..n).unwrap_or(&[]));
            bytes = bytes.get(n..).unwrap_or(&[]);
            if nl == Some(n) {
                bytes = bytes.get(1..).unwrap_or(&[]);
                emit(&self.partial);
                self.partial.clear();
            } else if self.partial.len() == LOG_LINE_MAX {
                emit(&self.partial);
                self.partial.clear();
            }
        }
    }

    /// Hands over what is left when the pipe closes.
    pub(crate) fn flush(&mut self, mut emit: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            emit(&self.partial);
            self.partial.clear();
        }
    }
}

/// Reads what the pipe has (up to READ_MAX_PER_WAKE) into `cap`. Returns
/// false once the pipe is closed (every writer gone).
pub(crate) fn pump(pipe: BorrowedFd<'_>, cap: &mut Capture, mut emit: impl FnMut(&[u8])) -> bool {
    let mut buf = [0u8; 1024];
    let mut total = 0;
    while total < READ_MAX_PER_WAKE {
        match rustix::io::read(pipe, &mut buf) {
            Ok(0) => {
                cap.flush(&mut emit);
                return false;
            }
            Ok(n) => {
                total += n;
                cap.feed(buf.get(..n).unwrap_or(&[]), &mut emit);
            }
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => return true,
            Err(_) => {
                cap.flush(&mut emit);
                return false;
            }
        }
    }
    true
}

/// Writes `NAME[PID]: line` to the kernel log in one write (one record).
pub(crate) fn to_kmsg(kmsg: BorrowedFd<'_>, unit: &str, pid: i32, line: &[u8]) {
    let mut out = Line::new();
    let _ = write!(out, "{}{}[{}]: ", KMSG_PREFIX, unit, pid);
    let _ = out.write_str(core::str::from_utf8(line).unwrap_or("(binary output)"));
    let bytes = out.finish();
    let _ = rustix::io::write(kmsg, bytes);
}

/// Writes `NAME[PID]: line` to the console (fd 2).
pub(crate) fn to_console(unit: &str, pid: i32, line: &[u8]) {
    let mut out = Line::new();
    let _ = write!(out, "{}[{}]: ", unit, pid);
    let _ = out.write_str(core::str::from_utf8(line).unwrap_or("(binary output)"));
    write_all(crate::sys::stdio(2), out.finish());
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut c = Capture::new();
        let mut out = Vec::new();
        for ch in chunks {
            c.feed(ch, |l| out.push(l.to_vec()));
        }
        c.flush(|l| out.push(l.to_vec()));
        out
    }

    #[test]
    fn joins_and_splits_lines() {
        assert_eq!(
            lines(&[b"hel", b"lo\nwor", b"ld\n"]),
            [b"hello".to_vec(), b"world".to_vec()]
        );
        assert_eq!(
            lines(&[b"a\n\nb"]),
            [b"a".to_vec(), b"".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn long_lines_are_cut_not_lost() {
        let long = [b'x'; LOG_LINE_MAX * 2 + 5];
        let out = lines(&[&long, b"\n"]);
        assert_eq!(out.len(), 3);
        assert_eq!(out.iter().map(|l| l.len()).sum::<usize>(), long.len());
    }
}
