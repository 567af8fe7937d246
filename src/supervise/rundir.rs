//! `runtime-dir=NAME[:MODE]`: /run/NAME, made before a unit starts and
//! owned by its user and group, removed once it stops (docs/config.md,
//! "Runtime directories"). The unit's user owns the directory, so every
//! step goes through directory fds with O_NOFOLLOW: a symlink planted
//! there is never followed, neither when making it nor when removing it.
//! Parents of a nested NAME (`a` of `a/b`) are made root's, mode 0755,
//! and left in place.

use crate::say;
use crate::sys::errno::Name;
use crate::sys::path;
use crate::table;
use core::mem::MaybeUninit;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, FileType, Mode, OFlags, RawDir};
use rustix::io::Errno;

/// Where the directories go.
pub(crate) const RUN: &str = "/run";
/// Deepest tree `remove` takes apart (levels below /run/NAME).
pub(crate) const DEPTH_MAX: usize = 8;
/// Most entries `remove` deletes in one go: PID 1's work stays bounded.
pub(crate) const ENTRIES_MAX: usize = 10_000;

fn open_dir(at: BorrowedFd<'_>, name: &str) -> Result<OwnedFd, Errno> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    path::openat(at, name, flags, Mode::empty())
}

/// The directory that holds NAME's last component, made on the way
/// (root's, 0755), and that component.
fn parent(name: &str, make: bool) -> Result<(OwnedFd, &str), Errno> {
    let mut dir = open_dir(fs::CWD, RUN)?;
    let (dirs, last) = name.rsplit_once('/').unwrap_or(("", name));
    for c in dirs.split('/').filter(|c| !c.is_empty()) {
        if make {
            match path::mkdirat(dir.as_fd(), c, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
        }
        dir = open_dir(dir.as_fd(), c)?;
    }
    Ok((dir, last))
}

/// Makes every runtime directory of `u` (or fixes an existing one): its
/// owner `uid`:`gid`, its mode. Says what failed.
pub(crate) fn create(u: &table::Unit<'_>, uid: u32, gid: u32) -> Result<(), Errno> {
    for d in u.runtime_dirs() {
        make(d, uid, gid).inspect_err(|&e| {
            say!(
                "{}: unable to create runtime directory {}/{}: {}",
                u.name,
                RUN,
                d.name,
                Name(e)
            )
        })?;
    }
    Ok(())
}

fn make(d: table::RuntimeDir<'_>, uid: u32, gid: u32) -> Result<(), Errno> {
    let (at, last) = parent(d.name, true)?;
    match path::mkdirat(at.as_fd(), last, Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    let fd = open_dir(at.as_fd(), last)?;
    let (u, g) = (
        rustix::process::Uid::from_raw(uid),
        rustix::process::Gid::from_raw(gid),
    );
    fs::fchown(&fd, Some(u), Some(g))?;
    fs::fchmod(&fd, Mode::from_raw_mode(u32::from(d.mode)))
}

/// The runtime directories of `u` that its stop removes: not one that
/// holds one of its `listen=` sockets or FIFOs, which outlive every
/// stop (docs/config.md, "Runtime directories").
fn removable<'a, 'u>(u: &'u table::Unit<'a>) -> impl Iterator<Item = table::RuntimeDir<'a>> + 'u {
    u.runtime_dirs().filter(move |d| {
        !u.listens().any(|l| match l.addr {
            table::Addr::Path(p) => p
                .strip_prefix(RUN)
                .and_then(|p| p.strip_prefix('/'))
                .and_then(|p| p.strip_prefix(d.name))
                .is_some_and(|rest| rest.starts_with('/')),
            table::Addr::Inet(..) => false,
        })
    })
}

/// Removes every runtime directory of `u` with what is in it, but one
/// its sockets live in (`removable`). Says what could not be removed.
pub(crate) fn remove(u: &table::Unit<'_>) {
    for d in removable(u) {
        let r = parent(d.name, false).and_then(|(at, last)| remove_tree(at.as_fd(), last));
        match r {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => say!(
                "{}: unable to remove runtime directory {}/{}: {}",
                u.name,
                RUN,
                d.name,
                Name(e)
            ),
        }
    }
}

/// Removes `name` in `at` and everything below it, without recursion:
/// a stack of directory fds, each rescanned from its start after a
/// level below it is gone.
fn remove_tree(at: BorrowedFd<'_>, name: &str) -> Result<(), Errno> {
    let mut stack: heapless::Vec<OwnedFd, DEPTH_MAX> = heapless::Vec::new();
    let _ = stack.push(open_dir(at, name)?);
    let mut budget = ENTRIES_MAX;
    let mut buf = [MaybeUninit::<u8>::uninit(); 512];
    while let Some(top) = stack.last() {
        fs::seek(top, fs::SeekFrom::Start(0))?;
        let mut below = None;
        let mut dir = RawDir::new(top.as_fd(), &mut buf);
        while let Some(entry) = dir.next() {
            let entry = entry?;
            let n = entry.file_name();
            if n == c"." || n == c".." {
                continue;
            }
            budget = budget.checked_sub(1).ok_or(Errno::MFILE)?;
            let is_dir = entry.file_type() == FileType::Directory;
            let flags = if is_dir {
                AtFlags::REMOVEDIR
            } else {
                AtFlags::empty()
            };
            match fs::unlinkat(top, n, flags) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(Errno::NOTEMPTY) if is_dir => {
                    let flags =
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                    below = Some(fs::openat(top, n, flags, Mode::empty())?);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        match below {
            Some(fd) => stack.push(fd).map_err(|_| Errno::LOOP)?,
            None => {
                stack.pop();
            }
        }
    }
    path::unlinkat(at, name, AtFlags::REMOVEDIR)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn a_directory_that_holds_a_socket_of_the_unit_is_kept() {
        let text = "service d runtime-dir=dbus runtime-dir=dbus2 runtime-dir=x/y runtime-dir=f \
            listen=unix:/run/dbus/system_bus_socket listen=fifo:/run/x/y/z/f \
            listen=unix:/run/f.sock listen=tcp:80 -- /d\n";
        let mut t = table::Table::new();
        assert_eq!(
            table::parse("t", text.as_bytes(), &mut t, &mut |d| panic!("{}", d)),
            0
        );
        let u = &t.units[0];
        let names: Vec<&str> = removable(u).map(|d| d.name).collect();
        assert_eq!(names, ["dbus2", "f"]);
    }
}
