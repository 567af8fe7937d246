//! `random-seed FILE` (docs/config.md, "random-seed"): entropy carried
//! from one boot to the next, as systemd-random-seed does.
//!
//! At boot, after the other system statements (so the file system that
//! holds FILE is mounted and writable): the seed is mixed into the
//! kernel's pool with RNDADDENTROPY, and its bits are credited only if
//! the file carries the mark pinit sets when it writes a seed drawn from
//! an initialized pool (the xattr CREDIT_XATTR, the one systemd uses),
//! and only once that mark is removed and the removal is on disk: a seed
//! is never credited twice, and a file copied without its xattrs (a seed
//! baked into an image) is never credited at all. A fresh seed replaces
//! it at once, so a crash before the next shutdown leaves no used seed
//! behind. At shutdown, before the file systems are unmounted, a fresh
//! seed is written again (mode 0600).

use crate::say;
use crate::sys::errno::Name;
use crate::sys::{self, ENTROPY_MAX};
use core::ffi::CStr;
use linux_raw_sys::general::{GRND_INSECURE, GRND_NONBLOCK};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Bytes of a seed (4096 bits; the kernel's pool needs 256).
pub(crate) const SEED_SIZE: usize = ENTROPY_MAX;
/// The mark of a seed drawn from an initialized pool and never credited.
const CREDIT_XATTR: &CStr = c"user.random-seed-creditable";

/// At boot: FILE into the kernel's pool, then a fresh seed in its place.
pub(crate) fn load(path: &str) {
    let flags = OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let fd = match sys::path::open(path, flags | OFlags::RDWR, Mode::empty()) {
        Err(Errno::ROFS) => sys::path::open(path, flags | OFlags::RDONLY, Mode::empty()),
        other => other,
    };
    let fd = match fd {
        Ok(fd) => fd,
        Err(Errno::NOENT) => {
            say!(
                "random-seed {}: no seed yet (a first boot): making one",
                path
            );
            save(path, false);
            return;
        }
        Err(e) => {
            say!("random-seed {}: unable to open it: {}", path, Name(e));
            return;
        }
    };
    let mut seed = [0u8; SEED_SIZE];
    let n = match read_seed(&fd, &mut seed) {
        Ok(n) => n,
        Err(e) => {
            say!("random-seed {}: unable to read it: {}", path, Name(e));
            return;
        }
    };
    let credit = n == SEED_SIZE && marked(&fd) && unmark(&fd).is_ok();
    drop(fd);
    let bits = if credit { 8 * n as u32 } else { 0 };
    match mix(seed.get(..n).unwrap_or(&[]), bits) {
        Ok(()) if credit => say!(
            "random-seed {}: {} bytes mixed into the kernel's pool, {} bits credited",
            path,
            n,
            bits
        ),
        Ok(()) => say!(
            "random-seed {}: {} bytes mixed into the kernel's pool, not credited (no mark {}: not a fresh seed of pinit's)",
            path,
            n,
            (const { sys::path::text(CREDIT_XATTR) })
        ),
        Err(e) => say!(
            "random-seed {}: unable to add it to the kernel's pool: {}",
            path,
            Name(e)
        ),
    }
    save(path, false);
}

/// Up to SEED_SIZE bytes of a regular file.
fn read_seed(fd: &OwnedFd, seed: &mut [u8; SEED_SIZE]) -> Result<usize, Errno> {
    let st = fs::fstat(fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(Errno::INVAL);
    }
    let mut n = 0;
    while let Some(dst) = seed.get_mut(n..).filter(|d| !d.is_empty()) {
        match rustix::io::read(fd, dst) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn marked(fd: &OwnedFd) -> bool {
    let mut v = [0u8; 2];
    let got = fs::fgetxattr(fd, CREDIT_XATTR, &mut v);
    matches!(got, Ok(1) if v[0] == b'1')
}

/// The mark removed, on disk, before the seed is credited.
fn unmark(fd: &OwnedFd) -> Result<(), Errno> {
    fs::fremovexattr(fd, CREDIT_XATTR)?;
    fs::fsync(fd)
}

/// `bytes` into the input pool, `bits` credited (root only: PID 1).
fn mix(bytes: &[u8], bits: u32) -> Result<(), Errno> {
    let flags = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let urandom = fs::open(c"/dev/urandom", flags, Mode::empty())?;
    sys::add_entropy(urandom.as_fd(), bytes, bits)
}

/// At shutdown: `save` to the table's `random-seed FILE`.
pub(crate) fn save_word(file: crate::table::Word<'_>) {
    let mut buf = [0u8; crate::boot::fstab::PATH_MAX];
    match file
        .decode(&mut buf)
        .and_then(|b| core::str::from_utf8(b).ok())
    {
        Some(p) => save(p, true),
        None => say!("shutdown: random-seed path too long"),
    }
}

/// Writes a fresh seed to `path` (mode 0600, its directories made if
/// missing), marked for credit if it was drawn from an initialized pool.
/// `shutdown`: the console says so when it is done.
pub(crate) fn save(path: &str, shutdown: bool) {
    let mut seed = [0u8; SEED_SIZE];
    // Non-blocking: an initialized pool gives a creditable seed; before
    // that, GRND_INSECURE gives one that is only mixed in next time.
    let creditable = match sys::getrandom(&mut seed, GRND_NONBLOCK) {
        Ok(SEED_SIZE) => true,
        _ => match sys::getrandom(&mut seed, GRND_INSECURE) {
            Ok(SEED_SIZE) => false,
            Ok(_) => return say!("random-seed {}: unable to draw a seed: short read", path),
            Err(e) => return say!("random-seed {}: unable to draw a seed: {}", path, Name(e)),
        },
    };
    match write_seed(path, &seed, creditable) {
        Ok(None) if shutdown => say!("shutdown: random seed saved to {}", path),
        Ok(None) => {}
        Ok(Some(e)) => say!(
            "random-seed {}: saved, but unable to mark it ({}): it will be mixed in, not credited",
            path,
            Name(e)
        ),
        Err(e) => say!("random-seed {}: unable to save a seed: {}", path, Name(e)),
    }
}

/// The seed written and synced; `Some` when its mark could not be set
/// (or cleared): a file system without user xattrs.
fn write_seed(
    path: &str,
    seed: &[u8; SEED_SIZE],
    creditable: bool,
) -> Result<Option<Errno>, Errno> {
    if let Some((dir, _)) = path.rsplit_once('/').filter(|(d, _)| !d.is_empty()) {
        crate::boot::mounts::make_dirs(dir)?;
    }
    let flags =
        OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = sys::path::open(path, flags, Mode::from_raw_mode(0o600))?;
    fs::fchmod(&fd, Mode::from_raw_mode(0o600))?;
    let mut rest: &[u8] = seed;
    while !rest.is_empty() {
        match rustix::io::write(&fd, rest) {
            Ok(0) => return Err(Errno::IO),
            Ok(k) => rest = rest.get(k..).unwrap_or(&[]),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    fs::ftruncate(&fd, SEED_SIZE as u64)?;
    let mark = match creditable {
        true => fs::fsetxattr(&fd, CREDIT_XATTR, b"1", fs::XattrFlags::empty()),
        false => match fs::fremovexattr(&fd, CREDIT_XATTR) {
            Err(Errno::NODATA) => Ok(()),
            r => r,
        },
    };
    fs::fsync(&fd)?;
    Ok(mark.err())
}
