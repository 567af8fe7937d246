//! PID 1: early boot (docs/design.md §2), the table's system statements, the
//! cgroups, then the shared event loop with the units or the rescue shell.

use crate::boot::event_loop::{self, Init, Mode};
use crate::boot::fstab;
use crate::boot::load_table::{self, Source};
use crate::boot::mounts;
use crate::boot::rescue::{self, Rescue};
use crate::boot::seed;
use crate::boot::system;
use crate::control::protocol::SOCKET_PATH;
use crate::control::server::Control;
use crate::place::cgroup::{self, Base};
use crate::say;
use crate::supervise::capture::{self, LINES};
use crate::supervise::effects::System;
use crate::supervise::epoll::token::NOTIFY;
use crate::supervise::instance::INSTANCES;
use crate::supervise::launch::Context;
use crate::supervise::notify::{Notify, NOTIFY_ENV, NOTIFY_PATH};
use crate::supervise::supervisor::{Supervisor, SLOTS};
use crate::sys::cmdline::{Cmdline, CMDLINE_MAX};
use crate::sys::errno::Name;
use crate::sys::file;
use crate::sys::log;
use crate::sys::time::{self, Secs};
use crate::table::{Setup, Table};
use rustix::fs::Mode as FsMode;
use rustix::system::{reboot, RebootCommand};

pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");
#[cfg(target_arch = "x86_64")]
pub(crate) const ARCH: &str = "x86_64";
#[cfg(target_arch = "aarch64")]
pub(crate) const ARCH: &str = "aarch64";
#[cfg(all(target_arch = "arm", target_feature = "v7"))]
pub(crate) const ARCH: &str = "armv7";
#[cfg(all(target_arch = "arm", not(target_feature = "v7")))]
pub(crate) const ARCH: &str = "arm";
#[cfg(target_arch = "riscv64")]
pub(crate) const ARCH: &str = "riscv64";
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
)))]
pub(crate) const ARCH: &str = "unknown";

/// PID 1's runtime directory: the notify socket (notify::NOTIFY_PATH)
/// and the control socket (protocol::SOCKET_PATH) are in it.
pub(crate) const RUN_DIR: &str = "/run/pinit";

/// Longest `pinit.conf=` path.
const CONF_PATH_MAX: usize = 256;

/// Boots and supervises; never returns.
#[inline(never)] // its frame stays out of main's
pub(crate) fn run() -> ! {
    mounts::console_fds();
    let started_us = time::since_boot_us();
    mounts::mount_api();
    // From here on pinit's own lines are in the kernel log too (not
    // rate-limited away), unit output as well.
    system::sysctl(
        "kernel.printk_devkmsg",
        "/proc/sys/kernel/printk_devkmsg",
        b"on",
    );
    if let Err(e) = log::open_kmsg() {
        say!(
            "unable to open /dev/kmsg: {}; pinit's lines and unit output go to the console only",
            Name(e)
        );
    }
    let mut cmdbuf = [0u8; CMDLINE_MAX];
    let n = file::read_file("/proc/cmdline", &mut cmdbuf).unwrap_or_else(|e| {
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
    let (sigfd, ev) = event_loop::setup();
    let mut tty_buf = [0u8; 64];
    let tty = rescue::console_tty(&mut tty_buf);
    let mut path_buf = [0u8; CONF_PATH_MAX];
    let conf = cmdline.value("pinit.conf").and_then(|v| {
        let path = path_buf
            .get_mut(..v.len())
            .map(|dst| {
                dst.copy_from_slice(v);
                core::str::from_utf8(dst)
            })
            .and_then(|p| p.ok());
        if path.is_none() {
            // Never dropped silently: the table in force is not the one asked for.
            let start = v.get(..32).unwrap_or(v);
            say!(
                "pinit.conf={}...: {} (limit {} bytes); using {} instead",
                core::str::from_utf8(start).unwrap_or("?"),
                if v.len() > CONF_PATH_MAX {
                    "longer than its limit"
                } else {
                    "not UTF-8"
                },
                CONF_PATH_MAX,
                load_table::ETC
            );
        }
        path
    });
    let mut init = Init::new(sigfd, ev, Mode::Pid1);
    let run_ok = run_dir();
    match run_ok.then(|| Control::bind(SOCKET_PATH, &init.ev)) {
        Some(Ok(c)) => init.control = Some(c),
        Some(Err(e)) => say!(
            "unable to create the control socket {}: {}",
            SOCKET_PATH,
            Name(e)
        ),
        None => {}
    }

    if cmdline.rescue() {
        say!("rescue mode requested on the kernel command line: no units are started");
        init.shell = Some((Rescue::new(time::now()), tty));
        serve(init);
    }
    let table = match load_table::load(conf) {
        Some((table, source)) => {
            match source {
                Source::File(p) => say!("service table: {} ({} units)", p, table.units.len()),
                Source::Board(b) => say!(
                    "service table: compiled-in board '{}' ({} units)",
                    b,
                    table.units.len()
                ),
            }
            table
        }
        None => {
            say!("no service table: starting the rescue shell");
            init.shell = Some((Rescue::new(time::now()), tty));
            serve(init)
        }
    };
    apply_setup(table);
    init.seed = table.setup.iter().find_map(|s| match s {
        Setup::RandomSeed(f) => Some(*f),
        _ => None,
    });
    if table.units.is_empty() {
        say!("the table has no units: starting the rescue shell");
        init.shell = Some((Rescue::new(time::now()), tty));
        serve(init);
    }
    let controllers = cgroup::setup();
    let base = Base::pid1().ok();
    if let Some(b) = &base {
        crate::place::cgroup_limits::layout(b, table, controllers);
    }
    match run_ok.then(|| Notify::bind(NOTIFY_PATH)) {
        Some(Ok(n)) => match init.ev.add(n.fd(), NOTIFY) {
            Ok(()) => init.notify = Some(n),
            Err(e) => say!("unable to watch {}: {}", NOTIFY_PATH, Name(e)),
        },
        Some(Err(e)) => say!(
            "unable to create the readiness socket {}: {}; ready=notify units will time out",
            NOTIFY_PATH,
            Name(e)
        ),
        None => say!("no readiness socket: ready=notify units will time out"),
    }
    let (Some(slots), Some(lines)) = (SLOTS.take(), LINES.take()) else {
        halt_forever()
    };
    capture::open_syslog(table);
    let ctx = Context {
        base,
        notify_env: Some(NOTIFY_ENV),
        cmdline: cmdbuf.get(..n).unwrap_or(&[]),
        controllers,
    };
    let instances = match INSTANCES.take() {
        Some(t) => t,
        None => halt_forever(),
    };
    let mut sup = Supervisor::new(table, slots, instances, lines, ctx);
    // After the mount statements, before the first unit: clients may
    // connect from now on.
    sup.bind_all(&mut System::new(&init.ev), time::now());
    init.sup = Some(sup);
    serve(init)
}

/// Makes /run/pinit, or checks the one an earlier stage left: it must be
/// a directory owned by root (not a symlink, nor another user's), or the
/// sockets inside could be read or replaced. False: no sockets there.
fn run_dir() -> bool {
    use rustix::fs::{AtFlags, FileType, CWD};
    match rustix::fs::mkdir(RUN_DIR, FsMode::from_raw_mode(0o755)) {
        Ok(()) => return true,
        Err(rustix::io::Errno::EXIST) => {}
        Err(e) => {
            say!("unable to create {}: {}", RUN_DIR, Name(e));
            return false;
        }
    }
    let st = match rustix::fs::statat(CWD, RUN_DIR, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(e) => {
            say!("unable to stat {}: {}; no control socket", RUN_DIR, Name(e));
            return false;
        }
    };
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::Directory {
        say!(
            "unable to use {}: it exists and is a {}, not a directory; no control socket",
            RUN_DIR,
            if kind == FileType::Symlink {
                "symlink"
            } else {
                "file"
            }
        );
        return false;
    }
    if st.st_uid != 0 {
        say!(
            "unable to use {}: it exists and is owned by uid {}, not root; no control socket",
            RUN_DIR,
            st.st_uid
        );
        return false;
    }
    true
}

/// The event loop; as PID 1 it ends only in reboot(2).
fn serve(mut init: Init<'_>) -> ! {
    init.run();
    halt_forever()
}

/// The system statements in file order; `random-seed` last, once the
/// file systems the others mount are there.
fn apply_setup(table: &Table<'_>) {
    for s in table.setup.iter() {
        apply(s);
    }
    for s in table.setup.iter() {
        if let Setup::RandomSeed(f) = s {
            let mut buf = [0u8; fstab::PATH_MAX];
            match path(f, &mut buf) {
                Some(p) => seed::load(p),
                None => say!("random-seed: path too long"),
            }
        }
    }
}

#[inline(never)]
fn apply(s: &Setup<'_>) {
    let mut pbuf = [0u8; fstab::PATH_MAX];
    match s {
        Setup::Hostname(name) => system::hostname(name),
        Setup::HostnameFile(f, fallback) => match path(f, &mut pbuf) {
            Some(p) => system::hostname_file(p, *fallback),
            None => say!("hostname: path too long"),
        },
        Setup::Fstab(f) => match path(&f.file, &mut pbuf) {
            Some(p) => fstab::apply(p),
            None => say!("fstab: path too long"),
        },
        Setup::RandomSeed(_) => {}
        Setup::Mount(m) => {
            let (mut src, mut data) = ([0u8; 256], [0u8; 512]);
            let source = path(&m.source, &mut src);
            let target = path(&m.target, &mut pbuf);
            // The last byte stays 0: the options are NUL-terminated.
            let n = m.data(&mut data[..511]).map_or(0, |d| d.len());
            let data = data
                .get(..=n)
                .and_then(|d| core::ffi::CStr::from_bytes_until_nul(d).ok())
                .unwrap_or(c"");
            match (source, target) {
                (Some(s), Some(t)) => system::mount(
                    s,
                    t,
                    m.fstype,
                    rustix::mount::MountFlags::from_bits_retain(m.flags),
                    data,
                ),
                _ => say!("mount: source or target too long"),
            }
        }
        Setup::Sysctl(c) => {
            let mut value = [0u8; 256];
            match (c.path(&mut pbuf), c.value.decode(&mut value)) {
                (Some(p), Some(v)) => system::sysctl(c.key, p, v),
                _ => say!("sysctl {}: key or value too long", c.key),
            }
        }
        Setup::IrqAffinity(list) => {
            let mask = list.mask();
            let (moved, stuck) = system::irq_affinity(&mask);
            say!(
                "irq-affinity {}: {} IRQs moved, {} could not move",
                list.as_str(),
                moved,
                stuck
            );
        }
    }
}

/// A path of the table, decoded into `buf`.
fn path<'b>(w: &crate::table::Word<'_>, buf: &'b mut [u8]) -> Option<&'b str> {
    w.decode(buf).and_then(|b| core::str::from_utf8(b).ok())
}

/// Nothing left to do (never expected): stay alive, quietly.
fn halt_forever() -> ! {
    loop {
        let _ = rustix::event::poll(&mut [], None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_are_in_the_runtime_directory() {
        for p in [SOCKET_PATH, NOTIFY_PATH] {
            assert_eq!(p.rsplit_once('/').map(|(d, _)| d), Some(RUN_DIR), "{}", p);
        }
        let env = NOTIFY_ENV.to_str().unwrap();
        assert_eq!(env.strip_prefix("NOTIFY_SOCKET="), Some(NOTIFY_PATH));
        assert!(env.starts_with(crate::supervise::notify::NOTIFY_KEY));
    }
}
