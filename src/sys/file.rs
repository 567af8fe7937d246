//! Whole-file reads and writes into caller buffers, for /proc, /sys and
//! config files.
//!
//! Every file pinit reads is opened with O_NONBLOCK|O_NOCTTY|O_CLOEXEC
//! and refused unless it is a regular file (/proc, /sys and cgroup files
//! are): a FIFO, a tty or a device where a table or /etc/passwd should
//! be can never block PID 1 or become its controlling terminal.

use crate::sys::errno::Name;
use crate::sys::path;
use rustix::fd::OwnedFd;
use rustix::fs::{self, FileType, Mode, OFlags};
use rustix::io::Errno;

/// What `read_file` and `Lines::open` return for a path that is not a
/// regular file (no errno says it; ENODEV is never theirs otherwise, as
/// open(2) of a regular file does not give it). Shown by `Why`.
pub(crate) const NOT_REGULAR: Errno = Errno::NODEV;

/// An error of this module for a console message: `not a regular file`
/// for `NOT_REGULAR`, else the errno's name.
pub(crate) struct Why(pub Errno);

impl crate::put::Put for Why {
    fn put(&self, s: &mut dyn crate::put::Sink) {
        if self.0 == NOT_REGULAR {
            s.str("not a regular file");
        } else {
            Name(self.0).put(s);
        }
    }
}

/// Opens `path` for reading, never blocking; only a regular file.
pub(crate) fn open_regular(path: &str) -> Result<OwnedFd, Errno> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = path::open(path, flags, Mode::empty())?;
    match fs::fstat(&fd) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile => Ok(fd),
        Ok(_) => Err(NOT_REGULAR),
        Err(e) => Err(e),
    }
}

/// Reads all of `path` into `buf`. A file larger than `buf` is an error
/// (EFBIG), never a silent truncation; one that is not a regular file is
/// `NOT_REGULAR`.
pub(crate) fn read_file(path: &str, buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = open_regular(path)?;
    let mut got = 0;
    loop {
        let dst = match buf.get_mut(got..) {
            Some(d) if !d.is_empty() => d,
            _ => break,
        };
        match rustix::io::read(&fd, dst) {
            Ok(0) => return Ok(got),
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    let mut probe = [0u8; 1];
    match rustix::io::read(&fd, &mut probe) {
        Ok(0) => Ok(got),
        Ok(_) => Err(Errno::FBIG),
        Err(e) => Err(e),
    }
}

/// Reads all of `path` into the last `tail` bytes of `buf` when it fits
/// there, else into all of `buf` (as `read_file`); where in `buf` it is.
/// A short file then never writes the buffer's head, whose pages of .bss
/// stay untouched.
pub(crate) fn read_file_tail(
    path: &str,
    buf: &mut [u8],
    tail: usize,
) -> Result<core::ops::Range<usize>, Errno> {
    let at = buf.len().saturating_sub(tail);
    match read_file(path, buf.get_mut(at..).unwrap_or(&mut [])) {
        Ok(n) => Ok(at..at + n),
        Err(Errno::FBIG) => read_file(path, buf).map(|n| 0..n),
        Err(e) => Err(e),
    }
}

/// Writes `data` to an existing file (a /proc or cgroup knob) in one write.
pub(crate) fn write_file(path: &str, data: &[u8]) -> Result<(), Errno> {
    let fd = path::open(path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    match rustix::io::write(&fd, data) {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) => Err(Errno::IO),
        Err(e) => Err(e),
    }
}

/// Longest line `Lines` hands over whole; longer lines are skipped (they
/// cannot be passwd or group entries pinit needs).
pub(crate) const FILE_LINE_MAX: usize = 512;

/// A file read line by line through a fixed buffer.
pub(crate) struct Lines {
    fd: rustix::fd::OwnedFd,
}

impl Lines {
    /// Only a regular file (else `NOT_REGULAR`).
    pub(crate) fn open(path: &str) -> Result<Lines, Errno> {
        Ok(Lines {
            fd: open_regular(path)?,
        })
    }

    /// Calls `f` with each line (without `\n`) until it returns false;
    /// lines longer than FILE_LINE_MAX are skipped.
    pub(crate) fn each(self, mut f: impl FnMut(&[u8]) -> bool) -> Result<(), Errno> {
        self.each_of::<FILE_LINE_MAX>(|l| l.is_none_or(&mut f))
    }

    /// Calls `f` with each line (without `\n`), or `None` for one of N
    /// bytes or more, until it returns false.
    pub(crate) fn each_of<const N: usize>(
        self,
        mut f: impl FnMut(Option<&[u8]>) -> bool,
    ) -> Result<(), Errno> {
        let mut buf = [0u8; N];
        let mut len = 0;
        let mut skipping = false;
        loop {
            let dst = buf.get_mut(len..).unwrap_or(&mut []);
            let n = match rustix::io::read(&self.fd, dst) {
                Ok(n) => n,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e),
            };
            let eof = n == 0;
            len += n;
            let mut start = 0;
            while let Some(off) = buf
                .get(start..len)
                .and_then(|s| s.iter().position(|&b| b == b'\n'))
            {
                let line = buf.get(start..start + off).unwrap_or(&[]);
                if !skipping && !f(Some(line)) {
                    return Ok(());
                }
                skipping = false;
                start += off + 1;
            }
            if eof {
                if !skipping && start < len && !f(Some(buf.get(start..len).unwrap_or(&[]))) {
                    return Ok(());
                }
                return Ok(());
            }
            buf.copy_within(start..len, 0);
            len -= start;
            if len == N {
                if !skipping && !f(None) {
                    return Ok(());
                }
                skipping = true;
                len = 0;
            }
        }
    }
}

/// The parent pid of `pid`, from /proc/PID/stat.
pub(crate) fn parent_of(pid: i32) -> Option<i32> {
    stat_field(pid, 1).and_then(|p| i32::try_from(p).ok())
}

/// When `pid` started, in ms since boot (/proc/PID/stat's starttime, in
/// clock ticks of 1/100 s on every arch pinit runs on).
pub(crate) fn started_ms(pid: i32) -> Option<u64> {
    stat_field(pid, 19).map(|ticks| ticks.saturating_mul(10))
}

/// Field `n` of /proc/PID/stat counted from the state (0), after the
/// parenthesised command name, which may itself hold spaces or `)`.
fn stat_field(pid: i32, n: usize) -> Option<u64> {
    let mut path: heapless::String<32> = heapless::String::new();
    crate::put!(path, "/proc/{}/stat", pid).ok()?;
    let mut buf = [0u8; 512];
    let len = match read_file(path.as_str(), &mut buf) {
        Ok(n) => n,
        Err(Errno::FBIG) => buf.len(),
        Err(_) => return None,
    };
    let text = buf.get(..len)?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let field = text
        .get(close + 1..)?
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty())
        .nth(n)?;
    core::str::from_utf8(field).ok()?.parse().ok()
}

/// The PID in a pidfile (`1234\n`); `None` if it holds none.
pub(crate) fn read_pid(path: &str) -> Result<Option<i32>, Errno> {
    let mut buf = [0u8; 32];
    let n = read_file(path, &mut buf)?;
    Ok(parse_pid(buf.get(..n).unwrap_or(&[])))
}

/// The PID of a pidfile's text: decimal digits, blanks around them;
/// `None` for anything else, 0, or past the kernel's limit.
fn parse_pid(text: &[u8]) -> Option<i32> {
    let t = text.trim_ascii();
    if t.is_empty() || t.len() > 10 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = t.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
    // PID_MAX_LIMIT: 4194304 (2^22).
    (1..=4_194_304).contains(&n).then_some(n as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that fits the tail is read there and the head is left as
    /// it was; a longer one fills the buffer from its start; one longer
    /// than the buffer is an error, not a truncation.
    #[test]
    fn a_short_file_is_read_into_the_tail() {
        extern crate std;
        let dir = std::env::temp_dir().join(format!("pinit-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let path = path.to_str().unwrap();
        let mut buf = [7u8; 64];
        for (len, want) in [
            (0, 48..48),
            (10, 48..58),
            (16, 48..64),
            (17, 0..17),
            (64, 0..64),
        ] {
            let text: std::vec::Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            std::fs::write(path, &text).unwrap();
            buf.fill(7);
            let got = read_file_tail(path, &mut buf, 16).unwrap();
            assert_eq!(got, want, "{len} bytes");
            assert_eq!(buf.get(got.clone()).unwrap(), &text[..]);
            if len <= 16 {
                assert!(buf[..48].iter().all(|&b| b == 7), "{len} bytes");
            }
        }
        std::fs::write(path, [b'x'; 65]).unwrap();
        assert_eq!(read_file_tail(path, &mut buf, 16), Err(Errno::FBIG));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pids_from_pidfiles() {
        assert_eq!(parse_pid(b"1234\n"), Some(1234));
        assert_eq!(parse_pid(b"  77 \n"), Some(77));
        assert_eq!(parse_pid(b"4194304"), Some(4_194_304));
        for bad in [
            &b""[..],
            b"\n",
            b"0\n",
            b"-5",
            b"12 34",
            b"4194305",
            b"99999999999999",
            b"12a",
            b"0x10",
        ] {
            assert_eq!(parse_pid(bad), None, "{:?}", bad);
        }
    }
}
