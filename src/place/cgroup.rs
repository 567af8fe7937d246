//! cgroup v2: one cgroup per unit under /sys/fs/cgroup/services, the
//! controllers the table needs (`cgroup_limits::wanted`) enabled on the
//! way down, killing a unit's cgroup, and the isolated partitions of
//! `isolate=yes` units.
//!
//! The layout as PID 1:
//!
//! ```text
//! /sys/fs/cgroup                  the root: PID 1, kernel threads
//! /sys/fs/cgroup/services         cpuset.cpus = every CPU no unit isolates
//! /sys/fs/cgroup/services/NAME    a unit
//! /sys/fs/cgroup/isolated.NAME    a unit with isolate=yes: an isolated
//!                                 partition (cpuset.cpus.partition)
//! ```
//!
//! An isolated partition's parent must be a partition root, and the root
//! cgroup is the only one there is: `services` cannot become one while it
//! holds every CPU ("Parent unable to distribute cpu downstream", 6.1).
//! So isolated units live beside `services`, directly under the root,
//! where both 6.1 and the cpuset.cpus.exclusive kernels (6.7 on) accept
//! them; `services` is restricted to the other CPUs, so no other unit is
//! scheduled on an isolated CPU even while its partition is invalid.

use crate::put::{Put, Sink};
use crate::say;
use crate::sys::errno::Name;
use crate::sys::file;
use crate::sys::path;
use core::ffi::CStr;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;

/// Where the units' cgroups live; PID 1 stays in the root.
pub(crate) const ROOT: &str = "/sys/fs/cgroup";
/// The controllers pinit uses, in `subtree_control` syntax.
pub(crate) const CONTROLLERS: [&str; 5] = ["cpu", "cpuset", "memory", "io", "pids"];

/// Longest cgroup file path pinit builds.
pub(crate) const PATH_MAX: usize = 192;
/// Prefix of an isolated unit's cgroup beside `services` (PID 1 only).
/// No unit cgroup is made at the root otherwise, so it cannot clash.
pub(crate) const ISOLATED: &str = "isolated.";

/// The directory that holds the units' cgroups: /sys/fs/cgroup/services
/// as PID 1, a delegated sub-cgroup in `--config` mode.
#[derive(Clone)]
pub(crate) struct Base {
    dir: heapless::String<128>,
    /// Length of the cgroup2 mount point at the start of `dir`.
    mount: usize,
    /// Isolated units go to `MOUNT/isolated.NAME` (PID 1's layout);
    /// otherwise to `dir/NAME` like the others.
    beside: bool,
}

impl Base {
    /// `dir` under the cgroup2 mount at /sys/fs/cgroup.
    #[cfg(test)]
    pub(crate) fn new(dir: &str) -> Result<Base, Errno> {
        Base::under(ROOT, dir)
    }

    /// PID 1's layout: /sys/fs/cgroup/services, and isolated units beside
    /// it at the root.
    #[cfg(test)]
    pub(crate) fn pid1() -> Result<Base, Errno> {
        Base::pid1_at(ROOT)
    }

    /// PID 1's layout under the cgroup2 mount `mount` (`pid1_mount`).
    pub(crate) fn pid1_at(mount: &str) -> Result<Base, Errno> {
        let mut dir: heapless::String<128> = heapless::String::new();
        crate::put!(dir, "{}/services", mount).map_err(|_| Errno::NAMETOOLONG)?;
        let mut b = Base::under(mount, dir.as_str())?;
        b.beside = true;
        Ok(b)
    }

    /// `dir` under the cgroup2 mount `mount` (a hybrid host mounts it at
    /// /sys/fs/cgroup/unified).
    pub(crate) fn under(mount: &str, dir: &str) -> Result<Base, Errno> {
        let mut d = heapless::String::new();
        d.push_str(dir).map_err(|_| Errno::NAMETOOLONG)?;
        if !dir.starts_with(mount) {
            return Err(Errno::INVAL);
        }
        Ok(Base {
            dir: d,
            mount: mount.len(),
            beside: false,
        })
    }

    /// The part of `dir` below the mount point (`/services`), as
    /// /proc/PID/cgroup shows it.
    pub(crate) fn relative(&self) -> &str {
        self.dir.get(self.mount..).unwrap_or("")
    }

    pub(crate) fn dir(&self) -> &str {
        self.dir.as_str()
    }

    /// The cgroup2 mount point (the root cgroup).
    pub(crate) fn mount(&self) -> &str {
        self.dir.get(..self.mount).unwrap_or("")
    }

    /// Whether a unit's cgroup is beside the base (`isolated.NAME`).
    pub(crate) fn beside(&self, isolated: bool) -> bool {
        isolated && self.beside
    }

    /// `BASE/UNIT[/FILE]`, or `MOUNT/isolated.UNIT[/FILE]` for an
    /// isolated unit in PID 1's layout.
    pub(crate) fn path(
        &self,
        unit: &str,
        isolated: bool,
        file: Option<&str>,
    ) -> Result<Path, Errno> {
        let mut buf = heapless::String::new();
        let r = if self.beside(isolated) {
            crate::put!(buf, "{}/{}{}", self.mount(), ISOLATED, unit)
        } else {
            crate::put!(buf, "{}/{}", self.dir, unit)
        };
        let r = r.and_then(|_| file.map_or(Ok(()), |f| crate::put!(buf, "/{}", f)));
        r.map_err(|_| Errno::NAMETOOLONG)?;
        Ok(Path { buf })
    }
}

/// A path under /sys/fs/cgroup, built on the stack.
pub(crate) struct Path {
    buf: heapless::String<PATH_MAX>,
}

impl Path {
    pub(crate) fn new(dir: &str) -> Result<Path, Errno> {
        let mut buf = heapless::String::new();
        buf.push_str(dir).map_err(|_| Errno::NAMETOOLONG)?;
        Ok(Path { buf })
    }

    pub(crate) fn as_str(&self) -> &str {
        self.buf.as_str()
    }

    /// Writes `data` to FILE in this directory.
    pub(crate) fn write(&self, file: &str, data: &[u8]) -> Result<(), Errno> {
        file::write_file(self.join(file)?.as_str(), data)
    }

    /// Reads FILE of this directory into `buf`.
    pub(crate) fn read(&self, file: &str, buf: &mut [u8]) -> Result<usize, Errno> {
        file::read_file(self.join(file)?.as_str(), buf)
    }

    fn join(&self, file: &str) -> Result<heapless::String<PATH_MAX>, Errno> {
        let mut p = heapless::String::new();
        crate::put!(p, "{}/{}", self.buf, file).map_err(|_| Errno::NAMETOOLONG)?;
        Ok(p)
    }
}

/// Which of pinit's controllers cgroup `dir` offers to its children.
pub(crate) fn available(dir: &str) -> [bool; 5] {
    let mut buf = [0u8; 256];
    let mut have = [false; 5];
    let mut p: heapless::String<PATH_MAX> = heapless::String::new();
    let _ = crate::put!(p, "{}/cgroup.controllers", dir);
    if let Ok(n) = file::read_file(p.as_str(), &mut buf) {
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

/// Creates PID 1's base (/sys/fs/cgroup/services) and enables the
/// available controllers of `want` (`cgroup_limits::wanted`) in the
/// root's and in its subtree_control. Returns the controllers that are on
/// for the units.
pub(crate) fn setup(base: &Base, want: [bool; 5]) -> [bool; 5] {
    let have = both(available(base.mount()), want);
    enable(base.mount(), &have);
    if let Err(e) = path::mkdir(base.dir(), Mode::from_raw_mode(0o755)) {
        if e != Errno::EXIST {
            say!("unable to create cgroup {}: {}", base.dir(), Name(e));
            return [false; 5];
        }
    }
    no_pressure(base.dir());
    enable(base.dir(), &have)
}

/// Turns off the pressure (PSI) accounting of `dir`, which holds only the
/// units' cgroups: otherwise the kernel adds up stall times at this level
/// too, at every sleep and wake-up of every service's process (the
/// kernel's cgroup-v2 document suggests it for non-leaf cgroups; 10,000
/// orphans from a service, docs/design.md §12). The units' own pressure
/// files and /proc/pressure stay. No such file (a kernel before 6.1, or
/// PSI off) is no error.
fn no_pressure(dir: &str) {
    match Path::new(dir).and_then(|p| p.write("cgroup.pressure", b"0")) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => say!("unable to write 0 to {}/cgroup.pressure: {}", dir, Name(e)),
    }
}

/// A reloaded table wants controllers that are not on (`on`): enables
/// the available ones, in the root first in PID 1's layout. Returns the
/// controllers on now. One no unit wants any more stays on.
pub(crate) fn widen(base: &Base, on: [bool; 5], want: [bool; 5]) -> [bool; 5] {
    let mut more = want;
    for (m, o) in more.iter_mut().zip(on) {
        *m &= !o;
    }
    if !more.contains(&true) {
        return on;
    }
    if base.beside {
        enable(base.mount(), &both(available(base.mount()), more));
    }
    let got = enable(base.dir(), &both(available(base.dir()), more));
    let mut now = on;
    for (n, g) in now.iter_mut().zip(got) {
        *n |= g;
    }
    now
}

/// The controllers in both sets.
fn both(a: [bool; 5], b: [bool; 5]) -> [bool; 5] {
    let mut c = a;
    for (x, y) in c.iter_mut().zip(b) {
        *x &= y;
    }
    c
}

/// Whether `path` is a cgroup2 mount (statfs magic CGROUP2_SUPER_MAGIC).
pub(crate) fn is_cgroup2(path: &str) -> bool {
    path::statfs(path).is_ok_and(|s| s.f_type as u64 == 0x6367_7270)
}

/// Creates `dir` (a delegated cgroup, in `--config` mode) and enables in
/// it what its parent offers of `want`. Returns the controllers on for
/// the units.
pub(crate) fn setup_delegated(dir: &str, want: [bool; 5]) -> Result<[bool; 5], Errno> {
    match path::mkdir(dir, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    let have = both(available(dir), want);
    Ok(enable(dir, &have))
}

/// Enables each offered controller in `dir`'s subtree_control; returns
/// the ones that are on.
fn enable(dir: &str, have: &[bool; 5]) -> [bool; 5] {
    let mut on = [false; 5];
    let mut path: heapless::String<PATH_MAX> = heapless::String::new();
    let _ = crate::put!(path, "{}/cgroup.subtree_control", dir);
    for ((c, offered), ok) in CONTROLLERS.iter().zip(have.iter()).zip(on.iter_mut()) {
        if !offered {
            continue;
        }
        let mut word: heapless::String<16> = heapless::String::new();
        let _ = crate::put!(word, "+{}", c);
        // One controller per write: one refusal must not hide the others.
        match file::write_file(path.as_str(), word.as_bytes()) {
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

/// Removes a unit's (empty) cgroup directory, after those of its first
/// `instances` instances; one that is not there is no error.
pub(crate) fn remove(base: &Base, unit: &str, isolated: bool, instances: u16) -> Result<(), Errno> {
    for n in 0..instances {
        if let Ok(p) = base.path(unit, isolated, Some(&instance_dir(unit, n))) {
            let _ = path::rmdir(p.as_str());
        }
    }
    match path::rmdir(base.path(unit, isolated, None)?.as_str()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The calling process's cgroup directory, from /proc/self/cgroup
/// (`0::/user.slice/x` → `/sys/fs/cgroup/user.slice/x`), and the cgroup2
/// mount it is under (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
/// hybrid host); `None` without cgroup v2.
pub(crate) fn own_dir(out: &mut heapless::String<PATH_MAX>) -> Option<&'static str> {
    let mut buf = [0u8; 1024];
    let n = file::read_file("/proc/self/cgroup", &mut buf).ok()?;
    let line = buf
        .get(..n)?
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"0::"))?;
    let rel = core::str::from_utf8(line.get(3..)?).ok()?;
    let mount = [ROOT, "/sys/fs/cgroup/unified"].into_iter().find(|m| {
        let mut p: heapless::String<64> = heapless::String::new();
        crate::put!(p, "{}/cgroup.procs", m).is_ok() && path::stat(p.as_str()).is_ok()
    })?;
    crate::put!(out, "{}{}", mount, rel.trim_end_matches('/')).ok()?;
    Some(mount)
}

/// Creates the unit's cgroup (if needed) and opens it for
/// CLONE_INTO_CGROUP.
pub(crate) fn create(base: &Base, unit: &str, isolated: bool) -> Result<OwnedFd, Errno> {
    create_dir(base.path(unit, isolated, None)?)
}

/// `NAME@N`: the cgroup of instance N of an `accept=yes` unit, inside
/// the unit's, which itself holds no process (so cgroup v2's rule of no
/// process beside child cgroups holds): the unit's limits cover all its
/// instances together.
pub(crate) fn instance_dir(unit: &str, num: u16) -> heapless::String<40> {
    let mut d = heapless::String::new();
    let _ = crate::put!(d, "{}@{}", unit, num);
    d
}

/// Creates instance `num`'s cgroup (or takes the one a previous
/// instance left) and opens it for CLONE_INTO_CGROUP.
pub(crate) fn create_instance(
    base: &Base,
    unit: &str,
    isolated: bool,
    num: u16,
) -> Result<OwnedFd, Errno> {
    create_dir(base.path(unit, isolated, Some(&instance_dir(unit, num)))?)
}

fn create_dir(dir: Path) -> Result<OwnedFd, Errno> {
    match path::mkdir(dir.as_str(), Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    path::open(
        dir.as_str(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// One sweep of the unit's cgroup (or, `instance`, of that instance's,
/// which is then removed if the sweep found it empty): SIGKILL to each
/// pid in cgroup.procs; returns how many it found. A fork racing the
/// sweep leaves a process it did not see, so the caller sweeps again
/// until one finds none (a task with SIGKILL pending cannot fork),
/// giving the killed tasks the CPU in between: never in a loop here.
///
/// Not `cgroup.kill`: on recent kernels (seen on 6.18) a write to it
/// makes every later clone3(CLONE_INTO_CGROUP) into that cgroup die with
/// SIGKILL before its first instruction, which would kill every restart.
pub(crate) fn kill(
    base: &Base,
    unit: &str,
    isolated: bool,
    instance: Option<u16>,
) -> Result<usize, Errno> {
    let mut dir: heapless::String<48> = heapless::String::new();
    if let Some(n) = instance {
        let _ = crate::put!(dir, "{}/", instance_dir(unit, n));
    }
    let _ = dir.push_str("cgroup.procs");
    let procs = base.path(unit, isolated, Some(&dir))?;
    let mut n = 0;
    for_each_pid(procs.as_str(), |pid| {
        n += 1;
        let _ = crate::sys::kill(pid, linux_raw_sys::general::SIGKILL);
    })?;
    if let (Some(num), 0) = (instance, n) {
        if let Ok(p) = base.path(unit, isolated, Some(&instance_dir(unit, num))) {
            let _ = path::rmdir(p.as_str());
        }
    }
    Ok(n)
}

/// `sig` once to every process of the unit's cgroup, and to `main`
/// whether it is among them or not: through its pidfd if there is one, so
/// a reused number is never hit. Returns how many processes the cgroup
/// held.
pub(crate) fn signal(
    base: &Base,
    unit: &str,
    isolated: bool,
    sig: u32,
    main: Option<(i32, Option<BorrowedFd<'_>>)>,
) -> Result<usize, Errno> {
    let procs = base.path(unit, isolated, Some("cgroup.procs"))?;
    let mut n = 0;
    let m = main.map(|(pid, _)| pid);
    for_each_pid(procs.as_str(), |pid| {
        n += 1;
        if Some(pid) != m {
            let _ = crate::sys::kill(pid, sig);
        }
    })?;
    let _ = match main {
        Some((_, Some(fd))) => crate::sys::pidfd_send_signal(fd, sig),
        Some((pid, None)) => crate::sys::kill(pid, sig),
        None => Ok(()),
    };
    Ok(n)
}

/// How many processes the unit's cgroup holds, and the first of them.
pub(crate) fn procs(base: &Base, unit: &str, isolated: bool) -> Result<(usize, i32), Errno> {
    let procs = base.path(unit, isolated, Some("cgroup.procs"))?;
    let (mut n, mut first) = (0, 0);
    for_each_pid(procs.as_str(), |pid| {
        if n == 0 {
            first = pid;
        }
        n += 1;
    })?;
    Ok((n, first))
}

/// Opens the unit's cgroup.events, which the kernel flags (EPOLLPRI) on
/// every change, and reads it once (arming that flag); with whether the
/// cgroup has processes.
pub(crate) fn events(base: &Base, unit: &str, isolated: bool) -> Result<(OwnedFd, bool), Errno> {
    let path = base.path(unit, isolated, Some("cgroup.events"))?;
    let fd = file::open_regular(path.as_str())?;
    let populated = populated(&fd)?;
    Ok((fd, populated))
}

/// Opens the cgroup.events of the cgroup whose directory `dir` is, to be
/// read with `populated` (not watched).
pub(crate) fn events_in(dir: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    fs::openat(
        dir,
        c"cgroup.events",
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Whether the cgroup of an open cgroup.events has processes
/// (`populated 1`), read again from its start.
pub(crate) fn populated(fd: &OwnedFd) -> Result<bool, Errno> {
    let mut buf = [0u8; 128];
    let n = rustix::io::pread(fd, &mut buf, 0)?;
    let text = buf.get(..n).unwrap_or(&[]);
    text.split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"populated "))
        .map(|v| v != b"0")
        .ok_or(Errno::INVAL)
}

/// The extended attribute of a unit's cgroup directory where PID 1 notes
/// the unit's state (`STATE PID RESTARTS`, e.g. `running 312 2`) on each
/// change, for a PID 1 that starts again after a crash (boot/adopt.rs).
/// `trusted.*`: kept with the cgroup and gone with it, and only root can
/// write or read it; `user.*` needs a 5.7 kernel on cgroupfs and is
/// writable by whoever may write the directory.
pub(crate) const RECORD: &CStr = c"trusted.pinit";

/// Writes `text` to a unit cgroup's `RECORD`.
pub(crate) fn record(dir: rustix::fd::BorrowedFd<'_>, text: &[u8]) -> Result<(), Errno> {
    fs::fsetxattr(dir, RECORD, text, fs::XattrFlags::empty())
}

/// A unit cgroup's `RECORD`, read into `buf`.
pub(crate) fn recorded<'b>(dir: &Path, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let n = path::with(dir.as_str(), |d| fs::getxattr(d, RECORD, &mut *buf)).ok()?;
    buf.get(..n)
}

/// Calls `f` with each pid listed in a cgroup.procs file, read in chunks.
/// Opened without `file::open_regular`'s fstat: a cgroup file is never a
/// FIFO or a device (cgroupfs makes no such nodes), and this runs after
/// every exit of a unit's main process.
pub(crate) fn for_each_pid(path: &str, mut f: impl FnMut(i32)) -> Result<(), Errno> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = path::open(path, flags, Mode::empty())?;
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
/// mount, e.g. `services`, or `0::/isolated.NAME[/...]`); the name is
/// copied into `out`. Returns its length and whether the cgroup is
/// beside the base (an isolated unit's, `Base::beside`).
pub(crate) fn unit_of(base: &Base, pid: i32, out: &mut [u8; 64]) -> Option<(usize, bool)> {
    let mut path: heapless::String<32> = heapless::String::new();
    crate::put!(path, "/proc/{}/cgroup", pid).ok()?;
    let mut buf = [0u8; 256];
    let n = file::read_file(path.as_str(), &mut buf).ok()?;
    let (name, isolated) = unit_in(base, buf.get(..n)?)?;
    let dst = out.get_mut(..name.len())?;
    dst.copy_from_slice(name);
    Some((name.len(), isolated))
}

/// The unit named by the text of /proc/PID/cgroup, and whether it is an
/// isolated unit's cgroup beside `services`.
fn unit_in<'t>(base: &Base, text: &'t [u8]) -> Option<(&'t [u8], bool)> {
    let line = text
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"0::"))?;
    let path = line.get(3..)?;
    let beside = path
        .strip_prefix(b"/")?
        .strip_prefix(ISOLATED.as_bytes())
        .filter(|_| base.beside);
    let (rest, isolated) = match beside {
        Some(rest) => (rest, true),
        None => (
            path.strip_prefix(base.relative().as_bytes())?
                .strip_prefix(b"/")?,
            false,
        ),
    };
    let name = rest.split(|&b| b == b'/').next()?;
    (!name.is_empty()).then_some((name, isolated))
}

/// Why an isolated partition could not be had.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Writing (or reading) this file of the cgroup failed.
    File(&'static str, Errno),
    /// The kernel's verdict in cpuset.cpus.partition (`isolated invalid
    /// (...)`, `member`).
    Invalid(heapless::String<96>),
}

impl Put for Refusal {
    fn put(&self, s: &mut dyn Sink) {
        match self {
            Refusal::File(file, e) => crate::fill!(s, "{}: {}", file, Name(*e)),
            Refusal::Invalid(v) => crate::fill!(s, "cpuset.cpus.partition is '{}'", v),
        }
    }
}

/// Makes the cgroup `dir` an isolated partition of `cpus` and reads the
/// kernel's verdict back: cpuset.cpus, then cpuset.cpus.exclusive where
/// the kernel has it (6.7 on: it wins over a sibling's cpuset.cpus),
/// then `isolated` into cpuset.cpus.partition unless it already is.
/// Writing the same values again changes nothing, so this runs before
/// every start.
pub(crate) fn isolate(dir: &Path, cpus: &str) -> Result<(), Refusal> {
    const PARTITION: &str = "cpuset.cpus.partition";
    let put = |file: &'static str, text: &str| {
        dir.write(file, text.as_bytes())
            .map_err(|e| Refusal::File(file, e))
    };
    put("cpuset.cpus", cpus)?;
    match put("cpuset.cpus.exclusive", cpus) {
        Err(Refusal::File(_, Errno::NOENT)) | Ok(()) => {}
        Err(r) => return Err(r),
    }
    let mut state = partition(dir)?;
    if state != "isolated" {
        put(PARTITION, "isolated")?;
        state = partition(dir)?;
    }
    if state != "isolated" {
        return Err(Refusal::Invalid(state));
    }
    Ok(())
}

/// The cgroup's cpuset.cpus.partition, without the newline.
fn partition(dir: &Path) -> Result<heapless::String<96>, Refusal> {
    const PARTITION: &str = "cpuset.cpus.partition";
    let mut buf = [0u8; 96];
    let n = dir
        .read(PARTITION, &mut buf)
        .map_err(|e| Refusal::File(PARTITION, e))?;
    let text = buf.get(..n).unwrap_or(&[]);
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let mut s = heapless::String::new();
    let _ = s.push_str(core::str::from_utf8(text).unwrap_or("?"));
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let b = Base::pid1().unwrap();
        assert_eq!(
            b.path("web", false, None).unwrap().as_str(),
            "/sys/fs/cgroup/services/web"
        );
        assert_eq!(
            b.path("web", false, Some("cgroup.kill")).unwrap().as_str(),
            "/sys/fs/cgroup/services/web/cgroup.kill"
        );
        assert_eq!(
            b.path("rt", true, Some("cgroup.procs")).unwrap().as_str(),
            "/sys/fs/cgroup/isolated.rt/cgroup.procs"
        );
        assert_eq!(b.mount(), "/sys/fs/cgroup");
        let long = "x".repeat(200);
        assert_eq!(b.path(&long, false, None).err(), Some(Errno::NAMETOOLONG));
        assert_eq!(Base::new(&long).err(), Some(Errno::NAMETOOLONG));
        assert_eq!(b.relative(), "/services");
        let h = Base::under("/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/pinit.7").unwrap();
        assert_eq!(h.relative(), "/pinit.7");
        // Outside PID 1's layout an isolated unit is one like the others.
        assert_eq!(
            h.path("rt", true, None).unwrap().as_str(),
            "/sys/fs/cgroup/unified/pinit.7/rt"
        );
        assert_eq!(Base::under("/x", "/y").err(), Some(Errno::INVAL));
    }

    #[test]
    fn units_from_proc_cgroup() {
        let b = Base::pid1().unwrap();
        let of = |t: &'static str| unit_in(&b, t.as_bytes());
        assert_eq!(of("0::/services/web\n"), Some((&b"web"[..], false)));
        assert_eq!(of("0::/services/web/sub\n"), Some((&b"web"[..], false)));
        assert_eq!(of("0::/isolated.rt\n"), Some((&b"rt"[..], true)));
        assert_eq!(of("0::/isolated.rt/x\n"), Some((&b"rt"[..], true)));
        assert_eq!(of("0::/\n"), None);
        assert_eq!(of("0::/services\n"), None);
        assert_eq!(of("0::/servicesx/web\n"), None);
        assert_eq!(of("0::/isolated.\n"), None);
        let h = Base::new("/sys/fs/cgroup/user/pinit.7").unwrap();
        assert_eq!(
            unit_in(&h, b"0::/user/pinit.7/a\n"),
            Some((&b"a"[..], false))
        );
        assert_eq!(unit_in(&h, b"0::/isolated.rt\n"), None);
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

    /// A reload that needs cpu: only cpu is enabled, in the root first
    /// and then in `services`; what the kernel does not offer stays off;
    /// nothing is written when everything wanted is on.
    #[test]
    fn widen_enables_only_what_is_missing() {
        let root = std::env::temp_dir().join(format!("pinit-widen-{}", std::process::id()));
        let services = root.join("services");
        std::fs::create_dir_all(&services).unwrap();
        for d in [&root, &services] {
            std::fs::write(d.join("cgroup.controllers"), "cpuset cpu memory pids\n").unwrap();
            std::fs::write(d.join("cgroup.subtree_control"), "").unwrap();
        }
        let base = Base::pid1_at(root.to_str().unwrap()).unwrap();
        let read = |d: &std::path::Path| {
            std::fs::read_to_string(d.join("cgroup.subtree_control")).unwrap()
        };
        // cpu, cpuset, memory, io, pids
        let on = [false, false, true, false, true];
        assert_eq!(widen(&base, on, on), on);
        assert_eq!((read(&root), read(&services)), ("".into(), "".into()));
        // io is wanted too, but not offered.
        let want = [true, false, true, true, true];
        assert_eq!(widen(&base, on, want), [true, false, true, false, true]);
        assert_eq!(
            (read(&root), read(&services)),
            ("+cpu".into(), "+cpu".into())
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
