//! PID 1: early boot, then the event loop (DESIGN §2).

use crate::boot;
use crate::cmdline::{Cmdline, CMDLINE_MAX};
use crate::errno::Name;
use crate::evloop::{Loop, TIMER};
use crate::fileio;
use crate::rescue::{self, Rescue};
use crate::say;
use crate::shutdown::{self, Kind};
use crate::sys::{self, SigSet};
use crate::time::{self, Secs};
use linux_raw_sys::general as k;
use rustix::fd::{AsFd, OwnedFd};
use rustix::system::{reboot, RebootCommand};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
#[cfg(target_arch = "x86_64")]
pub const ARCH: &str = "x86_64";
#[cfg(target_arch = "aarch64")]
pub const ARCH: &str = "aarch64";
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const ARCH: &str = "unknown";

/// Token of the signalfd in the event loop.
const SIGNALS: u64 = 0;

/// The signals PID 1 takes through its signalfd.
pub const HANDLED: SigSet = SigSet::EMPTY
    .with(k::SIGCHLD)
    .with(k::SIGTERM)
    .with(k::SIGINT)
    .with(k::SIGUSR1)
    .with(k::SIGUSR2)
    .with(k::SIGPWR)
    .with(k::SIGHUP);

/// Boots and supervises; never returns.
pub fn run() -> ! {
    boot::console_fds();
    let started_us = time::since_boot_us();
    boot::mount_api();
    let mut cmdbuf = [0u8; CMDLINE_MAX];
    let n = fileio::read_file("/proc/cmdline", &mut cmdbuf).unwrap_or_else(|e| {
        say!("unable to read /proc/cmdline: {}", Name(e));
        0
    });
    let cmdline = Cmdline::new(cmdbuf.get(..n).unwrap_or(&[]));
    say!(
        "pinit {} ({}) is PID 1, {} after kernel start",
        VERSION,
        ARCH,
        Secs(started_us)
    );
    // Ctrl-Alt-Del then reaches us as SIGINT instead of an instant reboot.
    if let Err(e) = reboot(RebootCommand::CadOff) {
        say!("unable to route Ctrl-Alt-Del to SIGINT: {}", Name(e));
    }
    let sigfd = signal_fd();
    let mut ev = event_loop(&sigfd);
    if cmdline.rescue() {
        say!("rescue mode requested on the kernel command line");
    } else {
        say!("no service table: starting the rescue shell");
    }
    let mut tty_buf = [0u8; 64];
    let tty = rescue::console_tty(&mut tty_buf);
    let mut shell = Rescue::new(time::now());
    loop {
        let now = time::now();
        if shell.is_due(now) {
            match rescue::start(tty) {
                Some(pid) => shell.started(pid, now),
                None => shell.failed(now),
            }
        }
        let mut sig_ready = false;
        let r = ev.wait(shell.deadline(), |token| match token {
            SIGNALS => sig_ready = true,
            TIMER => {}
            _ => {}
        });
        if let Err(e) = r {
            say!("event loop: epoll_wait: {}", Name(e));
        }
        if !sig_ready {
            continue;
        }
        let now = time::now();
        let mut shutdown = None;
        read_signals(&sigfd, |sig| match sig {
            k::SIGCHLD => {}
            k::SIGHUP => say!("SIGHUP: no service table to re-read"),
            other => {
                if let Some(kind) = Kind::from_signal(other) {
                    shutdown.get_or_insert(kind);
                }
            }
        });
        reap(|pid| {
            shell.exited(pid, now);
        });
        if let Some(kind) = shutdown {
            say!("shutdown: {} requested", kind.name());
            if let Some(pid) = shell.off() {
                let _ = sys::kill(pid.as_raw_nonzero().get(), k::SIGHUP);
            }
            shutdown::finish(kind, sigfd.as_fd(), shutdown::GRACE_MS);
        }
    }
}

/// Blocks the handled signals and opens the signalfd, retrying once a
/// second: without it PID 1 could neither reap nor shut down.
fn signal_fd() -> OwnedFd {
    loop {
        let r = sys::set_signal_mask(HANDLED).and_then(|()| sys::signalfd(HANDLED));
        match r {
            Ok(fd) => return fd,
            Err(e) => {
                say!("unable to set up the signalfd: {}; retrying", Name(e));
                let t = rustix::time::Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                };
                let _ = rustix::thread::nanosleep(&t);
            }
        }
    }
}

fn event_loop(sigfd: &OwnedFd) -> Loop {
    loop {
        match Loop::new().and_then(|l| l.add(sigfd, SIGNALS).map(|()| l)) {
            Ok(l) => return l,
            Err(e) => {
                say!("unable to set up epoll: {}; retrying", Name(e));
                let t = rustix::time::Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                };
                let _ = rustix::thread::nanosleep(&t);
            }
        }
    }
}

/// Reads every pending signal from the signalfd.
pub fn read_signals(sigfd: &OwnedFd, mut on: impl FnMut(u32)) {
    // struct signalfd_siginfo is 128 bytes; ssi_signo is its first u32.
    let mut buf = [0u8; 128 * 8];
    loop {
        match rustix::io::read(sigfd, &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                for info in buf.get(..n).unwrap_or(&[]).chunks_exact(128) {
                    let mut signo = [0u8; 4];
                    signo.copy_from_slice(info.get(..4).unwrap_or(&[0; 4]));
                    on(u32::from_ne_bytes(signo));
                }
            }
        }
    }
}

/// Reaps every exited child (orphans included) without blocking.
pub fn reap(mut on: impl FnMut(rustix::process::Pid)) {
    loop {
        match rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
            Ok(Some((pid, _status))) => on(pid),
            Ok(None) => return,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return,
        }
    }
}
