//! Early boot as PID 1 (docs/design.md §2, steps 1–2): fds 0/1/2 on the console,
//! then the API file systems, each mounted unless something already is.

use crate::place::cgroup;
use crate::say;
use crate::sys;
use crate::sys::errno::Name;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::{mount, MountFlags};

/// One API file system.
struct Api {
    source: &'static str,
    target: &'static str,
    fstype: &'static str,
    flags: MountFlags,
    data: Option<&'static core::ffi::CStr>,
}

const NOSUID_NODEV_NOEXEC: MountFlags = MountFlags::NOSUID
    .union(MountFlags::NODEV)
    .union(MountFlags::NOEXEC);

/// In mount order: a later target may live inside an earlier one.
const API_MOUNTS: [Api; 7] = [
    Api {
        source: "proc",
        target: "/proc",
        fstype: "proc",
        flags: NOSUID_NODEV_NOEXEC,
        data: None,
    },
    Api {
        source: "sysfs",
        target: "/sys",
        fstype: "sysfs",
        flags: NOSUID_NODEV_NOEXEC,
        data: None,
    },
    Api {
        source: "devtmpfs",
        target: "/dev",
        fstype: "devtmpfs",
        flags: MountFlags::NOSUID,
        data: Some(c"mode=0755"),
    },
    Api {
        source: "devpts",
        target: "/dev/pts",
        fstype: "devpts",
        flags: MountFlags::NOSUID.union(MountFlags::NOEXEC),
        data: Some(c"gid=5,mode=0620,ptmxmode=0666"),
    },
    Api {
        source: "tmpfs",
        target: "/dev/shm",
        fstype: "tmpfs",
        flags: MountFlags::NOSUID.union(MountFlags::NODEV),
        data: Some(c"mode=1777"),
    },
    Api {
        source: "tmpfs",
        target: "/run",
        fstype: "tmpfs",
        flags: MountFlags::NOSUID.union(MountFlags::NODEV),
        data: Some(c"mode=0755"),
    },
    Api {
        source: "cgroup2",
        target: "/sys/fs/cgroup",
        fstype: "cgroup2",
        flags: NOSUID_NODEV_NOEXEC,
        data: Some(c"nsdelegate"),
    },
];

/// Makes sure fds 0, 1 and 2 are open. The kernel leaves them closed when
/// the image has no /dev/console node; then devtmpfs provides one.
pub(crate) fn console_fds() {
    let missing = (0..3).filter(|&fd| !sys::fd_is_open(fd)).count();
    if missing == 0 {
        return;
    }
    let console = match open_console() {
        Some(fd) => fd,
        None => return, // nowhere to report it either; boot goes on
    };
    let c = console.as_fd();
    let _ = (!sys::fd_is_open(0)).then(|| rustix::stdio::dup2_stdin(c));
    let _ = (!sys::fd_is_open(1)).then(|| rustix::stdio::dup2_stdout(c));
    let _ = (!sys::fd_is_open(2)).then(|| rustix::stdio::dup2_stderr(c));
    // `console` itself may have landed on 0, 1 or 2: keep it open then.
    if rustix::fd::AsRawFd::as_raw_fd(&console) <= 2 {
        core::mem::forget(console);
    }
}

fn open_console() -> Option<OwnedFd> {
    // No CLOEXEC: the fd may become 0, 1 or 2, which children inherit.
    let flags = OFlags::RDWR | OFlags::NOCTTY;
    if let Ok(fd) = fs::open(c"/dev/console", flags, Mode::empty()) {
        return Some(fd);
    }
    let _ = fs::mkdir(c"/dev", Mode::from_raw_mode(0o755));
    let _ = mount(
        c"devtmpfs",
        c"/dev",
        c"devtmpfs",
        MountFlags::NOSUID,
        Some(c"mode=0755"),
    );
    fs::open(c"/dev/console", flags, Mode::empty()).ok()
}

/// Mounts the API file systems of docs/design.md §2, creating mount points. A
/// failure is reported and boot goes on.
pub(crate) fn mount_api() {
    for m in API_MOUNTS.iter() {
        if is_mount_point(m.target) {
            continue;
        }
        if let Err(e) = sys::path::mkdir(m.target, Mode::from_raw_mode(0o755)) {
            if e != Errno::EXIST {
                say!("unable to create mount point {}: {}", m.target, Name(e));
            }
        }
        let mounted = sys::path::mount(m.source, m.target, m.fstype, m.flags, m.data);
        if let Err(e) = mounted {
            say!(
                "unable to mount {} on {} ({}): {}",
                m.source,
                m.target,
                m.fstype,
                Name(e)
            );
        }
    }
}

/// Makes `path` and its missing parents, mode 0755 (mkdir -p).
pub(crate) fn make_dirs(path: &str) -> Result<(), Errno> {
    let ends = path.match_indices('/').map(|(i, _)| i).filter(|&i| i > 0);
    for end in ends.chain(core::iter::once(path.len())) {
        let dir = path.get(..end).unwrap_or("");
        match sys::path::mkdir(dir, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One of the API file systems' mount points (/proc, /dev, /run, ...).
pub(crate) fn is_api(path: &str) -> bool {
    API_MOUNTS.iter().any(|m| m.target == path)
}

/// True when `path` is the root of a mount: its device differs from its
/// parent's (or it is `/`).
pub(crate) fn is_mount_point(path: &str) -> bool {
    let parent = match path.rfind('/') {
        Some(0) => "/",
        Some(i) => path.get(..i).unwrap_or("/"),
        None => return false,
    };
    match (sys::path::stat(path), sys::path::stat(parent)) {
        (Ok(a), Ok(b)) => a.st_dev != b.st_dev || a.st_ino == b.st_ino,
        _ => false,
    }
}

/// Where systemd's hybrid layout mounts cgroup2 beside v1 hierarchies.
const UNIFIED: &str = "/sys/fs/cgroup/unified";

/// PID 1's cgroup2 mount (docs/design.md §7): /sys/fs/cgroup when it is
/// cgroup2 (`mount_api` mounts it there if nothing is); when an
/// earlier stage left cgroup v1 or another file system there, cgroup2 at
/// /sys/fs/cgroup/unified (mounted now if need be, as systemd's hybrid
/// layout has it); else `None`, said once: units run without cgroups.
pub(crate) fn cgroup2() -> Option<&'static str> {
    if cgroup::is_cgroup2(cgroup::ROOT) {
        return Some(cgroup::ROOT);
    }
    if !cgroup::is_cgroup2(UNIFIED) {
        let _ = sys::path::mkdir(UNIFIED, Mode::from_raw_mode(0o755));
        let flags = MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
        let mounted = sys::path::mount("cgroup2", UNIFIED, "cgroup2", flags, Some(c"nsdelegate"));
        if let Err(e) = mounted {
            say!("unable to mount cgroup2 on {}: {}", UNIFIED, Name(e));
        }
    }
    if cgroup::is_cgroup2(UNIFIED) {
        say!(
            "{} is not cgroup2 (an earlier stage mounted another file system there): the units' cgroups are under {}",
            cgroup::ROOT,
            UNIFIED
        );
        return Some(UNIFIED);
    }
    say!(
        "warning: no cgroup2 at {} or {}: units run without cgroups (stopped by process group; cgroup limits and isolate=yes refused)",
        cgroup::ROOT,
        UNIFIED
    );
    None
}
