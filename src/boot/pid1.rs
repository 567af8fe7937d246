//! PID 1: early boot (docs/design.md §2), the table's system statements, the
//! cgroups, then the shared event loop with the units or the rescue shell.

use crate::boot::adopt;
use crate::boot::event_loop::{self, Init, Mode};
use crate::boot::fstab;
use crate::boot::handover::Role;
use crate::boot::load_table::{self, Source};
use crate::boot::mounts;
use crate::boot::reexec::{self, Arrival};
use crate::boot::rescue::{self, Rescue};
use crate::boot::seed;
use crate::boot::system;
use crate::boot::watchdog::Watchdog;
use crate::control::protocol::{ARCH, SOCKET_PATH, VERSION};
use crate::control::server::Control;
use crate::place::cgroup::{self, Base};
use crate::say;
use crate::supervise::capture;
use crate::supervise::effects::System;
use crate::supervise::epoll::token::NOTIFY;
use crate::supervise::instance::INSTANCES;
use crate::supervise::launch::Context;
use crate::supervise::notify::{Notify, NOTIFY_ENV, NOTIFY_PATH};
use crate::supervise::rows::ROWS;
use crate::supervise::supervisor::{Supervisor, PLAN, SLOTS};
use crate::sys::cmdline::{Cmdline, CMDLINE_MAX, CMDLINE_TAIL};
use crate::sys::errno::Name;
use crate::sys::file;
use crate::sys::log;
use crate::sys::time::{self, Secs};
use crate::sys::{self, bit, Args, Inherited, Singleton};
use crate::table::{Setup, Table};
use rustix::fs::Mode as FsMode;
use rustix::system::{reboot, RebootCommand};

/// PID 1's runtime directory: the notify socket (notify::NOTIFY_PATH)
/// and the control socket (protocol::SOCKET_PATH) are in it.
pub(crate) const RUN_DIR: &str = "/run/pinit";

/// Longest `pinit.conf=` path.
const CONF_PATH_MAX: usize = 256;

/// The buffers boot reads into and PID 1 keeps: in .bss (see Singleton),
/// each far longer than what it usually holds. In this order, the command
/// line first: it is read into the buffer's tail (`read_cmdline`), so
/// what every boot writes (that tail, the console's name) and the start
/// buffers' heads that follow (tools/bss.ld) are on one page;
/// `pinit.conf=` is rare.
#[repr(C)]
struct Bufs {
    cmdline: [u8; CMDLINE_MAX],
    tty: [u8; 64],
    conf: [u8; CONF_PATH_MAX],
}

static BUFS: Singleton<Bufs, { bit::BUFS }> = Singleton::new(Bufs {
    cmdline: [0; CMDLINE_MAX],
    tty: [0; 64],
    conf: [0; CONF_PATH_MAX],
});

/// Boots and supervises; never returns. After a re-exec (`--handover=`)
/// or a panic (`--reexec=`), it takes the running units back instead of
/// booting (docs/design.md §13).
pub(crate) fn run(args: Args) -> ! {
    // Boot's frame is gone by the time the loop runs: the stack the loop
    // and every start need comes on top of a small one, not of boot's,
    // and the pages boot's deeper calls touched are given back, as are
    // the text pages of the code it ran.
    let init = boot(args);
    if let Err(e) = sys::stack::release_below_caller() {
        say!("unable to give back the boot's stack pages: {}", Name(e));
    }
    if let Err(e) = sys::text::release() {
        say!("unable to unmap the boot's text pages: {}", Name(e));
    }
    serve(init)
}

/// Everything before the event loop; the rescue shell's loop, if that is
/// what it comes to.
#[inline(never)] // its frame must end before the loop's begins
fn boot(args: Args) -> Init<'static> {
    mounts::console_fds();
    let started_us = time::since_boot_us();
    mounts::mount_api();
    // What a previous PID 1 left open: nothing at a fresh boot.
    let mut inherited = Inherited::scan();
    let arrival = Arrival::take(args, &mut inherited);
    let panics = adopt::panics(args);
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
    let Some(Bufs {
        cmdline: cmdbuf,
        tty: tty_buf,
        conf: path_buf,
    }) = BUFS.take()
    else {
        halt_forever()
    };
    let cmdtext = read_cmdline(cmdbuf);
    let cmdline = Cmdline::new(cmdtext);
    match (&arrival, panics) {
        (Some(a), _) => say!(
            "pinit {} ({}) is PID 1 again, executed by pinit {} with a hand-over",
            VERSION,
            ARCH,
            a.meta().0
        ),
        (None, Some((n, _))) => say!(
            "pinit {} ({}) is PID 1 again after a panic ({} in a row): taking the units back from the kernel",
            VERSION,
            ARCH,
            n
        ),
        (None, None) => say!(
            "pinit {} ({}) is PID 1, {} after kernel start",
            VERSION,
            ARCH,
            Secs(started_us)
        ),
    }
    // Ctrl-Alt-Del then reaches us as SIGINT instead of an instant reboot.
    if let Err(e) = reboot(RebootCommand::CadOff) {
        say!("unable to route Ctrl-Alt-Del to SIGINT: {}", Name(e));
    }
    let (sigfd, ev) = event_loop::setup();
    let tty = rescue::console_tty(tty_buf);
    let conf = conf_path(&cmdline, path_buf);
    let mut init = Init::new(sigfd, ev, Mode::Pid1);
    init.conf = conf;
    let run_ok = run_dir();
    let handed = arrival
        .as_ref()
        .and_then(|a| a.fd(Role::Control, &mut inherited));
    let control = match handed {
        Some(fd) => Control::adopt(fd, &init.ev),
        None if run_ok => Control::bind(SOCKET_PATH, &init.ev),
        None => Err(rustix::io::Errno::NOENT),
    };
    match control {
        Ok(c) => init.control = Some(c),
        Err(e) if run_ok => say!(
            "unable to create the control socket {}: {}",
            SOCKET_PATH,
            Name(e)
        ),
        Err(_) => {}
    }

    let too_many = panics.is_some_and(|(n, _)| n > adopt::PANICS_MAX);
    if too_many {
        say!(
            "PID 1 panicked more than {} times in a row: the units are left running, unsupervised; starting the rescue shell",
            adopt::PANICS_MAX
        );
    } else if cmdline.rescue() && arrival.is_none() {
        say!("rescue mode requested on the kernel command line: no units are started");
    }
    if too_many || (cmdline.rescue() && arrival.is_none()) {
        rescue_shell(init, tty, &mut inherited);
    }
    let (mut table, spare) = match load_table::buffers() {
        Some(b) => b,
        None => halt_forever(),
    };
    let handed = arrival
        .as_ref()
        .and_then(|a| a.table())
        .and_then(|(board, text)| {
            load_table::handed_over(table.as_mut(), board, text, conf.unwrap_or(load_table::ETC))
        });
    let source = match handed {
        Some(s) => s,
        None => load_table::load(table.as_mut(), conf),
    };
    init.board = matches!(source, Source::Board(_));
    match source {
        Source::File(p) => say!("service table: {} ({} units)", p, table.get().units.len()),
        Source::Board(b) => say!(
            "service table: compiled-in board '{}' ({} units)",
            b,
            table.get().units.len()
        ),
    }
    let base = mounts::cgroup2().and_then(|m| Base::pid1_at(m).ok());
    // The system statements are the boot's: not again after a re-exec.
    let again =
        arrival.is_some() || panics.is_some() || adopt::left_running(table.get(), base.as_ref());
    if !again {
        apply_setup(table.get());
    }
    let handed = arrival
        .as_ref()
        .and_then(|a| a.fd(Role::Watchdog, &mut inherited));
    init.watchdog = table.get().watchdog().and_then(|w| match handed {
        Some(fd) => Watchdog::handed_over(&w, fd, time::now()),
        None => Watchdog::new(&w, time::now()),
    });
    if table.get().units.is_empty() {
        say!("the table has no units: starting the rescue shell");
        rescue_shell(init, tty, &mut inherited);
    }
    let want = crate::place::cgroup_limits::wanted(table.get());
    let controllers = base.as_ref().map_or([false; 5], |b| cgroup::setup(b, want));
    if let Some(b) = &base {
        crate::place::cgroup_limits::layout(b, table.get(), controllers);
        if again {
            adopt::sweep(table.get(), b);
        }
    }
    let handed = arrival
        .as_ref()
        .and_then(|a| a.fd(Role::Notify, &mut inherited))
        .map(Notify::adopt);
    let notify = match handed {
        Some(n) => Some(Ok(n)),
        None => run_ok.then(|| Notify::bind(NOTIFY_PATH)),
    };
    match notify {
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
    let (Some(slots), Some(rows), Some(plan)) = (SLOTS.take(), ROWS.take(), PLAN.take()) else {
        halt_forever()
    };
    capture::open_syslog(table.get());
    let ctx = Context {
        base,
        notify_env: Some(NOTIFY_ENV),
        cmdline: cmdtext,
        controllers,
    };
    let instances = match INSTANCES.take() {
        Some(t) => t,
        None => halt_forever(),
    };
    let mut sup = Supervisor::new(table, Some(spare), slots, instances, rows, plan, ctx);
    let mut fx = System::new(&init.ev);
    match &arrival {
        Some(a) => {
            let (from, booted) = a.meta();
            let n = a.resume(&mut sup, &mut fx, &mut inherited);
            if booted {
                sup.set_booted();
            }
            say!("reexec: {} units taken back from pinit {}", n, from);
            if let Some(client) = a.fd(Role::Client, &mut inherited) {
                reexec::answer(client, from, n);
            }
        }
        None if again => {
            let n = adopt::adopt(&mut sup, &mut fx);
            adopt::sockets(&mut sup, &mut fx, &mut inherited);
            sup.set_booted();
            say!("{} units taken back from the kernel", n);
        }
        None => {}
    }
    drop(arrival);
    let closed = inherited.close_rest();
    if closed > 0 {
        say!("closed {} fds a previous PID 1 left open", closed);
    }
    // After the mount statements, before the first unit: clients may
    // connect from now on. After a re-exec, only what was not handed
    // over (a socket that could not be bound before).
    sup.bind_all(&mut fx, time::now());
    init.sup = Some(sup);
    init
}

/// The rescue shell, and nothing else.
fn rescue_shell<'t>(mut init: Init<'t>, tty: &'t core::ffi::CStr, inherited: &mut Inherited) -> ! {
    inherited.close_rest();
    init.shell = Some((Rescue::new(time::now()), tty));
    serve(init)
}

/// /proc/cmdline, read into the last `CMDLINE_TAIL` bytes of `buf` when
/// it fits there, so the rest of the buffer stays untouched; empty, said
/// on the console, when it cannot be read.
fn read_cmdline(buf: &mut [u8; CMDLINE_MAX]) -> &[u8] {
    match file::read_file_tail("/proc/cmdline", buf, CMDLINE_TAIL) {
        Ok(r) => buf.get(r).unwrap_or(&[]),
        Err(e) => {
            say!("unable to read /proc/cmdline: {}", Name(e));
            &[]
        }
    }
}

/// `pinit.conf=PATH` from the kernel command line, copied into `buf`;
/// one too long or not UTF-8 is said, never dropped silently.
fn conf_path<'b>(cmdline: &Cmdline<'_>, buf: &'b mut [u8; CONF_PATH_MAX]) -> Option<&'b str> {
    let v = cmdline.value("pinit.conf")?;
    let path = buf
        .get_mut(..v.len())
        .map(|dst| {
            dst.copy_from_slice(v);
            core::str::from_utf8(dst)
        })
        .and_then(|p| p.ok());
    if path.is_none() {
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
}

/// Makes /run/pinit, or checks the one an earlier stage left: it must be
/// a directory owned by root (not a symlink, nor another user's), or the
/// sockets inside could be read or replaced. False: no sockets there.
fn run_dir() -> bool {
    use rustix::fs::FileType;
    match sys::path::mkdir(RUN_DIR, FsMode::from_raw_mode(0o755)) {
        Ok(()) => return true,
        Err(rustix::io::Errno::EXIST) => {}
        Err(e) => {
            say!("unable to create {}: {}", RUN_DIR, Name(e));
            return false;
        }
    }
    let st = match sys::path::lstat(RUN_DIR) {
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
        system::apply(s, false);
    }
    for s in table.setup.iter() {
        if let Setup::RandomSeed(f) = s {
            let mut buf = [0u8; fstab::PATH_MAX];
            match system::path(f, &mut buf) {
                Some(p) => seed::load(p),
                None => say!("random-seed: path too long"),
            }
        }
    }
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
