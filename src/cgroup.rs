//! cgroup v2: one cgroup per unit under /sys/fs/cgroup/services, the
//! controllers enabled on the way down, and killing a unit's cgroup.

use crate::errno::Name;
use crate::fileio;
use crate::say;
use core::fmt::Write;
use rustix::fd::OwnedFd;
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;

/// Where the units' cgroups live; PID 1 stays in the root.
pub const ROOT: &str = "/sys/fs/cgroup";
pub const SERVICES: &str = "/sys/fs/cgroup/services";
/// The controllers pinit uses, in `subtree_control` syntax.
pub const CONTROLLERS: [&str; 5] = ["cpu", "cpuset", "memory", "io", "pids"];

/// Longest cgroup file path pinit builds.
pub const PATH_MAX: usize = 192;

/// The directory that holds the units' cgroups: /sys/fs/cgroup/services
/// as PID 1, a delegated sub-cgroup in `--config` mode.
#[derive(Clone)]
pub struct Base {
    dir: heapless::String<128>,
    /// Length of the cgroup2 mount point at the start of `dir`.
    mount: usize,
}

impl Base {
    /// `dir` under the cgroup2 mount at /sys/fs/cgroup.
    pub fn new(dir: &str) -> Result<Base, Errno> {
        Base::under(ROOT, dir)
    }

    /// `dir` under the cgroup2 mount `mount` (a hybrid host mounts it at
    /// /sys/fs/cgroup/unified).
    pub fn under(mount: &str, dir: &str) -> Result<Base, Errno> {
        let mut d = heapless::String::new();
        d.push_str(dir).map_err(|_| Errno::NAMETOOLONG)?;
        if !dir.starts_with(mount) {
            return Err(Errno::INVAL);
        }
        Ok(Base {
            dir: d,
            mount: mount.len(),
        })
    }

    /// The part of `dir` below the mount point (`/services`), as
    /// /proc/PID/cgroup shows it.
    pub fn relative(&self) -> &str {
        self.dir.get(self.mount..).unwrap_or("")
    }

    pub fn dir(&self) -> &str {
        self.dir.as_str()
    }

    /// `BASE/UNIT[/FILE]`
    pub fn path(&self, unit: &str, file: Option<&str>) -> Result<Path, Errno> {
        let mut buf = heapless::String::new();
        let r = match file {
            Some(f) => write!(buf, "{}/{}/{}", self.dir, unit, f),
            None => write!(buf, "{}/{}", self.dir, unit),
        };
        r.map_err(|_| Errno::NAMETOOLONG)?;
        Ok(Path { buf })
    }
}

/// A path under /sys/fs/cgroup, built on the stack.
pub struct Path {
    buf: heapless::String<PATH_MAX>,
}

impl Path {
    pub fn as_str(&self) -> &str {
        self.buf.as_str()
    }
}

/// Which of pinit's controllers cgroup `dir` offers to its children.
pub fn available(dir: &str) -> [bool; 5] {
    let mut buf = [0u8; 256];
    let mut have = [false; 5];
    let mut p: heapless::String<PATH_MAX> = heapless::String::new();
    let _ = write!(p, "{}/cgroup.controllers", dir);
    if let Ok(n) = fileio::read_file(p.as_str(), &mut buf) {
        for word in buf
            .get(..n)
            .unwrap_or(&[])
            .split(|b| b.is_ascii_whitespace())
        {
            for (i, c) in CONTROLLERS.iter().enumerate() {
                if word == c.as_bytes() {
                    if let Some(h) = have.get_mut(i) {
                        *h = true;
                    }
                }
            }
        }
    }
    have
}

/// Creates /sys/fs/cgroup/services and enables every available controller
/// in the root's and in its subtree_control. Returns the controllers that
/// are on for the units.
pub fn setup() -> [bool; 5] {
    let have = available(ROOT);
    enable(ROOT, &have);
    if let Err(e) = fs::mkdir(SERVICES, Mode::from_raw_mode(0o755)) {
        if e != Errno::EXIST {
            say!("unable to create cgroup {}: {}", SERVICES, Name(e));
            return [false; 5];
        }
    }
    enable(SERVICES, &have)
}

/// Creates `dir` (a delegated cgroup, in `--config` mode) and enables in
/// it what its parent offers. Returns the controllers on for the units.
pub fn setup_delegated(dir: &str) -> Result<[bool; 5], Errno> {
    match fs::mkdir(dir, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    let have = available(dir);
    Ok(enable(dir, &have))
}

/// Enables each offered controller in `dir`'s subtree_control; returns
/// the ones that are on.
fn enable(dir: &str, have: &[bool; 5]) -> [bool; 5] {
    let mut on = [false; 5];
    let mut path: heapless::String<PATH_MAX> = heapless::String::new();
    let _ = write!(path, "{}/cgroup.subtree_control", dir);
    for ((c, offered), ok) in CONTROLLERS.iter().zip(have.iter()).zip(on.iter_mut()) {
        if !offered {
            continue;
        }
        let mut word: heapless::String<16> = heapless::String::new();
        let _ = write!(word, "+{}", c);
        // One controller per write: one refusal must not hide the others.
        match fileio::write_file(path.as_str(), word.as_bytes()) {
            Ok(()) => *ok = true,
            Err(e) => say!(
                "unable to enable the {} controller in {}: {}",
                c,
                path.as_str(),
                Name(e)
            ),
        }
    }
    on
}

/// Removes a unit's (empty) cgroup directory.
pub fn remove(base: &Base, unit: &str) {
    if let Ok(p) = base.path(unit, None) {
        let _ = fs::rmdir(p.as_str());
    }
}

/// The calling process's cgroup directory, from /proc/self/cgroup
/// (`0::/user.slice/x` → `/sys/fs/cgroup/user.slice/x`), and the cgroup2
/// mount it is under (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
/// hybrid host); `None` without cgroup v2.
pub fn own_dir(out: &mut heapless::String<PATH_MAX>) -> Option<&'static str> {
    let mut buf = [0u8; 1024];
    let n = fileio::read_file("/proc/self/cgroup", &mut buf).ok()?;
    let line = buf
        .get(..n)?
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"0::"))?;
    let rel = core::str::from_utf8(line.get(3..)?).ok()?;
    let mount = [ROOT, "/sys/fs/cgroup/unified"].into_iter().find(|m| {
        let mut p: heapless::String<64> = heapless::String::new();
        write!(p, "{}/cgroup.procs", m).is_ok() && fs::stat(p.as_str()).is_ok()
    })?;
    write!(out, "{}{}", mount, rel.trim_end_matches('/')).ok()?;
    Some(mount)
}

/// Creates the unit's cgroup (if needed) and opens it for
/// CLONE_INTO_CGROUP.
pub fn create(base: &Base, unit: &str) -> Result<OwnedFd, Errno> {
    let path = base.path(unit, None)?;
    match fs::mkdir(path.as_str(), Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    fs::open(
        path.as_str(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Kills every process in the unit's cgroup: SIGKILL to each pid of
/// cgroup.procs, again until it is empty (a fork racing one sweep is
/// caught by the next; a task with SIGKILL pending cannot fork).
///
/// Not `cgroup.kill`: on recent kernels (seen on 6.18) a write to it
/// makes every later clone3(CLONE_INTO_CGROUP) into that cgroup die with
/// SIGKILL before its first instruction, which would kill every restart.
pub fn kill(base: &Base, unit: &str) -> Result<(), Errno> {
    let procs = base.path(unit, Some("cgroup.procs"))?;
    for _ in 0..64 {
        let mut any = false;
        for_each_pid(procs.as_str(), |pid| {
            any = true;
            let _ = crate::sys::kill(pid, linux_raw_sys::general::SIGKILL);
        })?;
        if !any {
            break;
        }
    }
    Ok(())
}

/// True while any process is in the unit's cgroup (cgroup.events).
pub fn populated(base: &Base, unit: &str) -> bool {
    let path = match base.path(unit, Some("cgroup.events")) {
        Ok(p) => p,
        Err(_) => return false,
    };
    let mut buf = [0u8; 128];
    match fileio::read_file(path.as_str(), &mut buf) {
        Ok(n) => buf
            .get(..n)
            .unwrap_or(&[])
            .split(|&b| b == b'\n')
            .any(|l| l == b"populated 1"),
        Err(_) => false,
    }
}

/// Calls `f` with each pid listed in a cgroup.procs file, read in chunks.
pub fn for_each_pid(path: &str, mut f: impl FnMut(i32)) -> Result<(), Errno> {
    let fd = fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut buf = [0u8; 512];
    let mut cur: i64 = -1;
    loop {
        let n = match rustix::io::read(&fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        };
        for &b in buf.get(..n).unwrap_or(&[]) {
            if b.is_ascii_digit() {
                cur = cur.max(0) * 10 + (b - b'0') as i64;
            } else if cur >= 0 {
                f(cur as i32);
                cur = -1;
            }
        }
    }
    if cur >= 0 {
        f(cur as i32);
    }
    Ok(())
}

/// Which unit a process belongs to, from /proc/PID/cgroup
/// (`0::/REL/NAME[/...]` where REL is the base relative to the cgroup
/// mount, e.g. `services`); the name is copied into `out`.
pub fn unit_of(base: &Base, pid: i32, out: &mut [u8; 64]) -> Option<usize> {
    let mut path: heapless::String<32> = heapless::String::new();
    write!(path, "/proc/{}/cgroup", pid).ok()?;
    let mut buf = [0u8; 256];
    let n = fileio::read_file(path.as_str(), &mut buf).ok()?;
    let text = buf.get(..n)?;
    let line = text
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"0::"))?;
    let rel = base.relative().as_bytes();
    let rest = line.get(3..)?.strip_prefix(rel)?.strip_prefix(b"/")?;
    let name = rest.split(|&b| b == b'/').next()?;
    let dst = out.get_mut(..name.len())?;
    dst.copy_from_slice(name);
    Some(name.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let b = Base::new(SERVICES).unwrap();
        assert_eq!(
            b.path("web", None).unwrap().as_str(),
            "/sys/fs/cgroup/services/web"
        );
        assert_eq!(
            b.path("web", Some("cgroup.kill")).unwrap().as_str(),
            "/sys/fs/cgroup/services/web/cgroup.kill"
        );
        let long = "x".repeat(200);
        assert_eq!(b.path(&long, None).err(), Some(Errno::NAMETOOLONG));
        assert_eq!(Base::new(&long).err(), Some(Errno::NAMETOOLONG));
        assert_eq!(b.relative(), "/services");
        let h = Base::under("/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/pinit.7").unwrap();
        assert_eq!(h.relative(), "/pinit.7");
        assert_eq!(Base::under("/x", "/y").err(), Some(Errno::INVAL));
    }

    #[test]
    fn pids_from_file() {
        let dir = std::env::temp_dir().join(format!("pinit-procs-{}", std::process::id()));
        std::fs::write(&dir, "12\n345\n6").unwrap();
        let mut got = std::vec::Vec::new();
        for_each_pid(dir.to_str().unwrap(), |p| got.push(p)).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(got, [12, 345, 6]);
    }
}
