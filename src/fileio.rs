//! Whole-file reads and writes into caller buffers, for /proc, /sys and
//! config files.

use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;

/// Reads all of `path` into `buf`. A file larger than `buf` is an error
/// (EFBIG), never a silent truncation.
pub fn read_file(path: &str, buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
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

/// Writes `data` to an existing file (a /proc or cgroup knob) in one write.
pub fn write_file(path: &str, data: &[u8]) -> Result<(), Errno> {
    let fd = fs::open(path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    match rustix::io::write(&fd, data) {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) => Err(Errno::IO),
        Err(e) => Err(e),
    }
}
