//! Paths handed to rustix as `&CStr`. rustix turns a `&str` path into a
//! C string itself, but its rare long-path case (a PATH_MAX buffer) is
//! inlined into every caller: each path call then has a frame over a
//! page, whose stack probes keep one more page of PID 1's stack resident
//! for good. Here a short path (under SHORT bytes) is converted in a
//! small buffer on the stack, a long one in a page mapped for the call
//! (`sys::Page`): resident only while it is used, and it leaves neither
//! a deeper stack nor a static that moves the others in .bss. One
//! non-generic function converts for every caller, and the path calls
//! have a function each here (`open`, `mkdir`, ...): `with` and the call
//! are not copied into every call site.

use crate::sys::Page;
use core::ffi::CStr;
use core::mem::MaybeUninit;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, Mode, OFlags, Stat, StatFs};
use rustix::io::Errno;
use rustix::mount::{MountFlags, UnmountFlags};
use rustix::net::SocketAddrUnix;

/// Paths shorter than this are converted in a buffer of this size.
const SHORT: usize = 256;
/// PATH_MAX: the kernel takes no longer path, NUL included.
const LONG: usize = linux_raw_sys::general::PATH_MAX as usize;
const _: () = assert!(Page::SIZE >= LONG);

/// `f(path as a C string)`, as rustix would: ENAMETOOLONG for a path of
/// PATH_MAX bytes or more, EINVAL for one with a NUL in it (and ENOMEM
/// if no page can be mapped for a long one).
#[inline]
pub(crate) fn with<T>(
    path: impl AsRef<[u8]>,
    f: impl FnOnce(&CStr) -> Result<T, Errno>,
) -> Result<T, Errno> {
    // Uninitialized: `c_str` clears it, not each caller.
    let mut short = MaybeUninit::uninit();
    let mut page = Held(None);
    f(c_str(path.as_ref(), &mut short, &mut page.0)?)
}

/// The page `with` may hold. Its drop, inlined into every caller, only
/// checks for one; unmapping it is `release`'s, out of line.
struct Held(Option<Page>);

impl Drop for Held {
    #[inline]
    fn drop(&mut self) {
        if let Some(page) = self.0.take() {
            release(page);
        }
    }
}

#[cold]
#[inline(never)]
fn release(page: Page) {
    drop(page);
}

/// `bytes` as a C string: in `short`, or for a long path in a page
/// mapped into `page`. Not generic: one copy serves every caller.
#[inline(never)]
fn c_str<'b>(
    bytes: &[u8],
    short: &'b mut MaybeUninit<[u8; SHORT]>,
    page: &'b mut Option<Page>,
) -> Result<&'b CStr, Errno> {
    if bytes.len() < SHORT {
        return terminated(bytes, short.write([0; SHORT]));
    }
    long(bytes, page)
}

/// `c_str` for a long path.
#[cold]
#[inline(never)]
fn long<'b>(bytes: &[u8], page: &'b mut Option<Page>) -> Result<&'b CStr, Errno> {
    if bytes.len() >= LONG {
        return Err(Errno::NAMETOOLONG);
    }
    let page = page.insert(Page::map()?);
    terminated(bytes, page.bytes())
}

/// `bytes` and a NUL, in `buf`. Not inlined: one copy serves every caller.
#[inline(never)]
fn terminated<'b>(bytes: &[u8], buf: &'b mut [u8]) -> Result<&'b CStr, Errno> {
    let with_nul = buf.get_mut(..=bytes.len()).ok_or(Errno::NAMETOOLONG)?;
    if let Some((nul, body)) = with_nul.split_last_mut() {
        body.copy_from_slice(bytes);
        *nul = 0;
    }
    CStr::from_bytes_with_nul(with_nul).map_err(|_| Errno::INVAL)
}

/// `c` as text, for a message (`""` if it is not UTF-8); meant for a
/// constant, in a `const` block.
pub(crate) const fn text(c: &CStr) -> &str {
    match core::str::from_utf8(c.to_bytes()) {
        Ok(s) => s,
        Err(_) => "",
    }
}

// The path calls pinit makes: `with` and the rustix call compiled once
// each, here, not into every call site. `with` is for the one-off ones.

/// open(2).
#[inline(never)]
pub(crate) fn open(path: &str, flags: OFlags, mode: Mode) -> Result<OwnedFd, Errno> {
    with(path, |p| fs::open(p, flags, mode))
}

/// openat(2).
#[inline(never)]
pub(crate) fn openat(
    dir: BorrowedFd<'_>,
    path: &str,
    flags: OFlags,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    with(path, |p| fs::openat(dir, p, flags, mode))
}

/// mkdir(2).
#[inline(never)]
pub(crate) fn mkdir(path: &str, mode: Mode) -> Result<(), Errno> {
    with(path, |p| fs::mkdir(p, mode))
}

/// mkdirat(2).
#[inline(never)]
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, path: &str, mode: Mode) -> Result<(), Errno> {
    with(path, |p| fs::mkdirat(dir, p, mode))
}

/// rmdir(2).
#[inline(never)]
pub(crate) fn rmdir(path: &str) -> Result<(), Errno> {
    with(path, |p| fs::rmdir(p))
}

/// unlink(2).
#[inline(never)]
pub(crate) fn unlink(path: &str) -> Result<(), Errno> {
    with(path, |p| fs::unlink(p))
}

/// unlinkat(2).
#[inline(never)]
pub(crate) fn unlinkat(dir: BorrowedFd<'_>, path: &str, flags: AtFlags) -> Result<(), Errno> {
    with(path, |p| fs::unlinkat(dir, p, flags))
}

/// stat(2).
#[inline(never)]
pub(crate) fn stat(path: &str) -> Result<Stat, Errno> {
    with(path, |p| fs::stat(p))
}

/// lstat(2).
#[inline(never)]
pub(crate) fn lstat(path: &str) -> Result<Stat, Errno> {
    with(path, |p| fs::lstat(p))
}

/// statfs(2).
#[inline(never)]
pub(crate) fn statfs(path: &str) -> Result<StatFs, Errno> {
    with(path, |p| fs::statfs(p))
}

/// mount(2), the paths converted in rustix's order (source, target,
/// type): the same errno as rustix's own `mount`.
#[inline(never)]
pub(crate) fn mount(
    source: &str,
    target: &str,
    fstype: &str,
    flags: MountFlags,
    data: Option<&CStr>,
) -> Result<(), Errno> {
    with(source, |s| {
        with(target, |t| {
            with(fstype, |f| rustix::mount::mount(s, t, f, flags, data))
        })
    })
}

/// umount2(2).
#[inline(never)]
pub(crate) fn unmount(path: &str, flags: UnmountFlags) -> Result<(), Errno> {
    with(path, |p| rustix::mount::unmount(p, flags))
}

/// The address of the Unix socket at `path`.
#[inline(never)]
pub(crate) fn unix_addr(path: &str) -> Result<SocketAddrUnix, Errno> {
    with(path, |p| SocketAddrUnix::new(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use rustix::fd::AsFd;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    /// What `with` hands over for `path`: the bytes before the NUL.
    fn seen(path: &[u8]) -> Result<Vec<u8>, Errno> {
        with(path, |c| Ok(c.to_bytes().to_vec()))
    }

    #[test]
    fn short_and_long_paths_arrive_whole() {
        assert_eq!(seen(b"/run/pinit").as_deref(), Ok(&b"/run/pinit"[..]));
        assert_eq!(with("/proc/1/stat", |c| Ok(c.to_bytes().len())), Ok(12));
        assert_eq!(seen(b"").as_deref(), Ok(&b""[..]));
        // Around the short buffer's size, and the longest the kernel takes.
        for n in [255, 256, 257, 4095] {
            let p = vec![b'a'; n];
            assert_eq!(seen(&p), Ok(p), "{} bytes", n);
        }
    }

    #[test]
    fn too_long_a_path_is_enametoolong() {
        assert_eq!(seen(&vec![b'a'; 4096]), Err(Errno::NAMETOOLONG));
        assert_eq!(seen(&vec![b'a'; 10000]), Err(Errno::NAMETOOLONG));
    }

    #[test]
    fn a_nul_in_a_path_is_einval() {
        assert_eq!(seen(b"/run/\0pinit"), Err(Errno::INVAL));
        assert_eq!(seen(b"/run/pinit\0"), Err(Errno::INVAL));
        let mut p = vec![b'a'; 300];
        p[200] = 0;
        assert_eq!(seen(&p), Err(Errno::INVAL));
    }

    #[test]
    fn the_closures_result_and_error_come_back() {
        assert_eq!(with("/x", |_| Ok(7)), Ok(7));
        assert_eq!(
            with("/x", |_| Err::<(), _>(Errno::NOENT)),
            Err(Errno::NOENT)
        );
        let p = vec![b'a'; 300];
        assert_eq!(
            with(&p, |_| Err::<(), _>(Errno::ACCESS)),
            Err(Errno::ACCESS)
        );
    }

    /// Three long paths converted at once (mount's source, target and
    /// type), each whole in a page of its own.
    fn three_at_once(a: &[u8], b: &[u8], c: &[u8]) -> Result<[Vec<u8>; 3], Errno> {
        with(a, |a| {
            with(b, |b| {
                with(c, |c| Ok([a, b, c].map(|x| x.to_bytes().to_vec())))
            })
        })
    }

    #[test]
    fn three_long_paths_at_once_arrive_whole() {
        let (a, b, c) = (vec![b'a'; 300], vec![b'b'; 4095], vec![b'c'; 256]);
        assert_eq!(three_at_once(&a, &b, &c), Ok([a, b, c]));
        // Short ones among them take no buffer.
        let (a, c) = (vec![b'a'; 1000], vec![b'c'; 2000]);
        assert_eq!(
            with(&a, |_| three_at_once(b"/x", &c, b"ext4")),
            Ok([b"/x".to_vec(), c, b"ext4".to_vec()])
        );
    }

    #[test]
    fn more_long_paths_at_once_arrive_whole_too() {
        let (p, q) = (vec![b'p'; 300], vec![b'q'; 4000]);
        let got = with(&q, |q| {
            let q = q.to_bytes().to_vec();
            three_at_once(&p, &p, &p).map(|three| (q, three))
        });
        assert_eq!(got, Ok((q, [p.clone(), p.clone(), p])));
    }

    #[test]
    fn conversions_go_on_after_any_outcome() {
        let p = vec![b'p'; 300];
        let mut nul = p.clone();
        nul[299] = 0;
        for _ in 0..4 {
            assert_eq!(with(&p, |_| Err::<(), _>(Errno::IO)), Err(Errno::IO));
            assert_eq!(seen(&nul), Err(Errno::INVAL));
            let _ = with(&p, |_| three_at_once(&p, &p, &p));
        }
        assert!(three_at_once(&p, &p, &p).is_ok());
    }

    #[test]
    fn the_calls_reach_the_kernel() {
        // "/" written 300 times: the root, as a long path.
        let root = "/".repeat(300);
        assert!(stat(&root).is_ok());
        assert!(lstat("/").is_ok());
        assert!(statfs(&root).is_ok());
        assert_eq!(stat(&"/".repeat(4096)).err(), Some(Errno::NAMETOOLONG));
        assert_eq!(lstat("/\0").err(), Some(Errno::INVAL));
        let dir = std::env::temp_dir().join(std::format!("pinit-path-{}", std::process::id()));
        let dir = dir.to_str().unwrap();
        let mode = Mode::from_raw_mode(0o700);
        mkdir(dir, mode).unwrap();
        assert_eq!(mkdir(dir, mode), Err(Errno::EXIST));
        let file: String = std::format!("{}{}/f", "/".repeat(300), dir);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::CLOEXEC;
        drop(open(&file, flags, Mode::from_raw_mode(0o600)).unwrap());
        let at = open(dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        mkdirat(at.as_fd(), "d", mode).unwrap();
        drop(openat(at.as_fd(), "d", OFlags::RDONLY, Mode::empty()).unwrap());
        unlinkat(at.as_fd(), "d", AtFlags::REMOVEDIR).unwrap();
        assert!(unix_addr(&std::format!("{}/s", dir)).is_ok());
        unlink(&file).unwrap();
        assert_eq!(unlink(&file), Err(Errno::NOENT));
        rmdir(dir).unwrap();
    }

    #[test]
    fn text_is_the_c_strings_text() {
        assert_eq!(const { text(c"trusted.pinit") }, "trusted.pinit");
        assert_eq!(text(c""), "");
        assert_eq!(text(c"\xff"), "");
    }
}
