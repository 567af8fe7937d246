//! Shutdown (docs/design.md §8): SIGTERM to every process, a grace
//! period, SIGKILL, the random seed saved, swaps off, sync, unmount in
//! reverse mount order (remount read-only what stays busy), reboot(2).
//! Also the client side: asking PID 1 to do it.

use crate::boot::watchdog::Watchdog;
use crate::boot::{fstab, mounts, seed};
use crate::say;
use crate::sys;
use crate::sys::errno::Name;
use crate::sys::file;
use crate::sys::time;
use linux_raw_sys::general as k;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::AsFd;
use rustix::io::Errno;
use rustix::mount::{mount_remount, MountFlags, UnmountFlags};
use rustix::system::{reboot, RebootCommand};

/// Default time between SIGTERM and SIGKILL.
pub(crate) const GRACE_MS: u64 = 5000;
/// How long to wait for SIGKILLed processes (one in D state must not hang
/// the shutdown).
pub(crate) const KILL_WAIT_MS: u64 = 2000;
/// /proc/self/mounts is read whole into a buffer this large.
pub(crate) const MOUNTS_MAX: usize = 16 * 1024;
/// Most mounts unmounted; the rest are remounted read-only by `sync` only.
pub(crate) const MOUNT_ENTRIES_MAX: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Power {
    Reboot,
    Halt,
    Poweroff,
}

impl Power {
    /// The signal PID 1 takes for it (busybox init's conventions).
    pub(crate) const fn signal(self) -> u32 {
        match self {
            Power::Reboot => k::SIGTERM,
            Power::Halt => k::SIGUSR1,
            Power::Poweroff => k::SIGUSR2,
        }
    }

    /// The shutdown a signal asks for, if any.
    pub(crate) const fn from_signal(sig: u32) -> Option<Power> {
        match sig {
            k::SIGTERM | k::SIGINT => Some(Power::Reboot),
            k::SIGUSR1 => Some(Power::Halt),
            k::SIGUSR2 | k::SIGPWR => Some(Power::Poweroff),
            _ => None,
        }
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Power::Reboot => "reboot",
            Power::Halt => "halt",
            Power::Poweroff => "poweroff",
        }
    }

    fn command(self) -> RebootCommand {
        match self {
            Power::Reboot => RebootCommand::Restart,
            Power::Halt => RebootCommand::Halt,
            Power::Poweroff => RebootCommand::PowerOff,
        }
    }
}

/// The last steps, as PID 1, after the units are stopped: never returns.
/// `sigfd` is PID 1's signalfd; SIGCHLD on it means something to reap.
/// `seed`: the table's `random-seed FILE`.
/// The watchdog is pinged while its shutdown budget allows, and stays
/// armed through reboot(2) unless its magic close applies.
pub(crate) fn finish(
    kind: Power,
    sigfd: rustix::fd::BorrowedFd<'_>,
    grace_ms: u64,
    seed: Option<crate::table::Word<'_>>,
    mut wd: Option<&mut Watchdog>,
) -> ! {
    say!("shutdown: sending SIGTERM to all processes");
    let _ = sys::kill_all(k::SIGTERM);
    let _ = sys::kill_all(k::SIGCONT);
    if !wait_children(sigfd, grace_ms, &mut wd) {
        say!("shutdown: sending SIGKILL to all processes");
        let _ = sys::kill_all(k::SIGKILL);
        if !wait_children(sigfd, KILL_WAIT_MS, &mut wd) {
            say!("shutdown: some processes did not die; going on");
        }
    }
    if let Some(w) = seed {
        seed::save_word(w);
    }
    fstab::swaps_off();
    say!("shutdown: syncing file systems");
    rustix::fs::sync();
    unmount_all();
    if let Some(w) = wd {
        w.before_reboot(kind != Power::Reboot, time::now());
    }
    final_reboot(kind)
}

/// `sync` and reboot(2) at once (`-f`, or the end of `finish`).
pub(crate) fn final_reboot(kind: Power) -> ! {
    rustix::fs::sync();
    say!("shutdown: {}", kind.name());
    loop {
        if let Err(e) = reboot(kind.command()) {
            say!("unable to {} (reboot(2)): {}", kind.name(), Name(e));
        }
        // Nothing else to do: keep PID 1 alive, quietly.
        let _ = poll(&mut [], None);
    }
}

/// Reaps until no child is left (true) or `ms` pass (false); the
/// watchdog's pings go on meanwhile.
fn wait_children(
    sigfd: rustix::fd::BorrowedFd<'_>,
    ms: u64,
    wd: &mut Option<&mut Watchdog>,
) -> bool {
    let deadline = time::now().after(ms);
    loop {
        if reap_all() {
            return true;
        }
        let now = time::now();
        if let Some(w) = wd.as_deref_mut() {
            w.tick(now);
        }
        if now >= deadline {
            return false;
        }
        let wake = wd
            .as_deref()
            .and_then(|w| w.deadline())
            .map_or(deadline, |t| t.max(now).min(deadline));
        wait_readable(sigfd, wake.since(now));
        drain(sigfd);
    }
}

/// Reaps every exited child; true when there are none left at all.
pub(crate) fn reap_all() -> bool {
    loop {
        match rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
            Ok(Some(_)) => {}
            Ok(None) => return false,
            Err(Errno::INTR) => {}
            Err(_) => return true, // ECHILD
        }
    }
}

fn wait_readable(fd: rustix::fd::BorrowedFd<'_>, ms: u64) {
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let t = rustix::time::Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as i64,
    };
    let _ = poll(&mut fds, Some(&t));
}

fn drain(fd: rustix::fd::BorrowedFd<'_>) {
    let mut buf = [0u8; 128 * 4];
    while let Ok(n) = rustix::io::read(fd.as_fd(), &mut buf) {
        if n == 0 {
            break;
        }
    }
}

/// Unmounts every mount in reverse order of /proc/self/mounts, remounting
/// read-only what stays busy. `/` is only remounted read-only.
#[inline(never)] // the 16 KiB mounts buffer is only on the stack at shutdown
fn unmount_all() {
    let mut buf = [0u8; MOUNTS_MAX];
    let n = match file::read_file("/proc/self/mounts", &mut buf) {
        Ok(n) => n,
        Err(e) => {
            say!("shutdown: unable to read /proc/self/mounts: {}", Name(e));
            return;
        }
    };
    let text = buf.get(..n).unwrap_or(&[]);
    let mut targets: heapless::Vec<&[u8], MOUNT_ENTRIES_MAX> = heapless::Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if let Some(t) = line.split(|&b| b == b' ').nth(1) {
            if targets.push(t).is_err() {
                say!(
                    "shutdown: more than {} mounts; the rest stay mounted",
                    MOUNT_ENTRIES_MAX
                );
                break;
            }
        }
    }
    say!("shutdown: unmounting file systems");
    let (mut unmounted, mut readonly, mut failed) = (0u32, 0u32, 0u32);
    for raw in targets.iter().rev() {
        let mut path = [0u8; fstab::PATH_MAX];
        let path = match fstab::unescape(raw, &mut path) {
            Some(p) => p,
            None => continue,
        };
        let busy = match path {
            "/" => None,
            _ => match sys::path::unmount(path, UnmountFlags::empty()) {
                Ok(()) => {
                    unmounted += 1;
                    continue;
                }
                Err(e) => Some(e),
            },
        };
        match sys::path::with(path, |p| mount_remount(p, MountFlags::RDONLY, c"")) {
            Ok(()) => {
                readonly += 1;
                // The API file systems stay busy (PID 1's console is in
                // /dev, its sockets in /run): only the others are news.
                if let Some(e) = busy.filter(|_| !mounts::is_api(path)) {
                    say!(
                        "shutdown: {} stays mounted ({}): remounted read-only",
                        path,
                        Name(e)
                    );
                }
            }
            Err(Errno::ACCESS) | Err(Errno::INVAL) => {}
            Err(e) => {
                failed += 1;
                say!(
                    "shutdown: unable to remount {} read-only: {}",
                    path,
                    Name(e)
                );
            }
        }
    }
    say!(
        "shutdown: {} unmounted, {} remounted read-only, {} left as they were",
        unmounted,
        readonly,
        failed
    );
}

/// As a client (not PID 1): ask PID 1 for a shutdown, or with `force`
/// do the reboot(2) right here.
pub(crate) fn request(kind: Power, force: bool) -> i32 {
    if force {
        final_reboot(kind);
    }
    match sys::kill(1, kind.signal()) {
        Ok(()) => 0,
        Err(e) => {
            say!("unable to ask PID 1 to {}: {}", kind.name(), Name(e));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_map_like_busybox_init() {
        assert_eq!(Power::from_signal(k::SIGTERM), Some(Power::Reboot));
        assert_eq!(Power::from_signal(k::SIGINT), Some(Power::Reboot));
        assert_eq!(Power::from_signal(k::SIGUSR1), Some(Power::Halt));
        assert_eq!(Power::from_signal(k::SIGUSR2), Some(Power::Poweroff));
        assert_eq!(Power::from_signal(k::SIGPWR), Some(Power::Poweroff));
        assert_eq!(Power::from_signal(k::SIGHUP), None);
        for kind in [Power::Reboot, Power::Halt, Power::Poweroff] {
            assert_eq!(Power::from_signal(kind.signal()), Some(kind));
        }
    }
}
