//! Paths handed to rustix as `&CStr`. rustix turns a `&str` path into a
//! C string itself, but its rare long-path case (a PATH_MAX buffer) is
//! inlined into every caller: each path call then has a frame over a
//! page, whose stack probes keep one more page of PID 1's stack resident
//! for good. Here that buffer lives only in a function of its own, run
//! only for a path of SHORT bytes or more.

use core::ffi::CStr;
use rustix::io::Errno;

/// Paths shorter than this are converted in a buffer of this size.
const SHORT: usize = 256;
/// PATH_MAX: the kernel takes no longer path, NUL included.
const LONG: usize = linux_raw_sys::general::PATH_MAX as usize;

/// `f(path as a C string)`, as rustix would: ENAMETOOLONG for a path of
/// PATH_MAX bytes or more, EINVAL for one with a NUL in it.
#[inline]
pub(crate) fn with<T>(
    path: impl AsRef<[u8]>,
    f: impl FnOnce(&CStr) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let bytes = path.as_ref();
    if bytes.len() >= SHORT {
        return long(bytes, f);
    }
    let mut buf = [0u8; SHORT];
    f(terminated(bytes, &mut buf)?)
}

/// `with` for a long path: never inlined, so its page-sized frame (and
/// its stack probes) exist only while a long path is converted.
#[inline(never)]
#[cold]
fn long<T>(bytes: &[u8], f: impl FnOnce(&CStr) -> Result<T, Errno>) -> Result<T, Errno> {
    let mut buf = [0u8; LONG];
    f(terminated(bytes, &mut buf)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec;

    /// What `with` hands over for `path`: the bytes before the NUL.
    fn seen(path: &[u8]) -> Result<std::vec::Vec<u8>, Errno> {
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
}
