//! `pinit --config FILE`: the same supervisor as an ordinary process (a
//! child subreaper), for containers and host tests. Cgroups are used
//! where this process's cgroup is delegated (a sub-cgroup `pinit.PID` is
//! made in it), skipped with one warning otherwise. Unit output goes to
//! stderr as `NAME[PID]: line`. SIGTERM or SIGINT stop every unit in
//! reverse order; then it exits.

use crate::boot::event_loop::{self, Init, Mode};
use crate::boot::load_table;
use crate::control::server::Control;
use crate::place::cgroup::{self, Base};
use crate::say;
use crate::supervise::capture;
use crate::supervise::effects::System;
use crate::supervise::epoll::token::NOTIFY;
use crate::supervise::instance::INSTANCES;
use crate::supervise::launch::Context;
use crate::supervise::notify::{Notify, NOTIFY_KEY};
use crate::supervise::rows::ROWS;
use crate::supervise::supervisor::{Supervisor, PLAN, SLOTS};
use crate::sys::errno::Name;
use crate::sys::{path, time};
use rustix::fs::Mode as FsMode;

#[inline(never)] // its frame stays out of main's
pub(crate) fn run(path: &str) -> i32 {
    let (mut table, spare) = match load_table::buffers() {
        Some(b) => b,
        None => return 1,
    };
    if let Err(n) = load_table::load_file(table.as_mut(), path) {
        say!("{}: {} error(s); nothing started", path, n);
        return 1;
    }
    if let Some(w) = table.get().watchdog() {
        say!(
            "watchdog: {} ignored: only PID 1 keeps the hardware watchdog",
            w.device.raw()
        );
    }
    if let Err(e) = rustix::process::set_child_subreaper(Some(rustix::process::getpid())) {
        say!("unable to become a child subreaper: {}", Name(e));
    }
    let (sigfd, ev) = event_loop::setup();
    let mut init = Init::new(sigfd, ev, Mode::Process);
    init.conf = Some(path);
    let me = rustix::process::getpid().as_raw_nonzero().get();

    // Runtime directory and readiness socket.
    let mut dir: heapless::String<64> = heapless::String::new();
    if let Err(e) = run_dir(me, &mut dir) {
        say!(
            "unable to create {}: {}; nothing started",
            dir.as_str(),
            Name(e)
        );
        return 1;
    }
    let mut sock: heapless::String<80> = heapless::String::new();
    let _ = crate::put!(sock, "{}/notify", dir.as_str());
    let mut env = [0u8; 128];
    let notify_env = notify_env(sock.as_str(), &mut env);
    match Notify::bind(sock.as_str()) {
        Ok(n) => match init.ev.add(n.fd(), NOTIFY) {
            Ok(()) => init.notify = Some(n),
            Err(e) => say!("unable to watch {}: {}", sock.as_str(), Name(e)),
        },
        Err(e) => say!(
            "unable to create the readiness socket {}: {}",
            sock.as_str(),
            Name(e)
        ),
    }

    let mut ctl: heapless::String<80> = heapless::String::new();
    let _ = crate::put!(ctl, "{}/control", dir.as_str());
    match Control::bind(ctl.as_str(), &init.ev) {
        Ok(c) => init.control = Some(c),
        Err(e) => say!(
            "unable to create the control socket {}: {}",
            ctl.as_str(),
            Name(e)
        ),
    }

    // A delegated cgroup, if this process has one.
    let mut own = heapless::String::new();
    let mut base = None;
    let mut controllers = [false; 5];
    if let Some(mount) = cgroup::own_dir(&mut own) {
        let _ = crate::put!(own, "/pinit.{}", me);
        let want = crate::place::cgroup_limits::wanted(table.get());
        match cgroup::setup_delegated(own.as_str(), want) {
            Ok(c) => {
                controllers = c;
                base = Base::under(mount, own.as_str()).ok();
            }
            Err(e) => say!(
                "warning: no delegated cgroup ({}: {}): units run without cgroups, limits are ignored",
                own.as_str(),
                Name(e)
            ),
        }
    } else {
        say!("warning: no cgroup v2 hierarchy: units run without cgroups, limits are ignored");
    }
    say!(
        "supervising {} units from {} (control socket {}, notify socket {}, cgroups {})",
        table.get().units.len(),
        path,
        ctl.as_str(),
        sock.as_str(),
        base.as_ref().map_or("none", |b| b.dir())
    );

    let (Some(slots), Some(rows), Some(plan)) = (SLOTS.take(), ROWS.take(), PLAN.take()) else {
        return 1;
    };
    capture::open_syslog(table.get());
    let ctx = Context {
        base: base.clone(),
        notify_env,
        cmdline: b"",
        controllers,
    };
    let instances = match INSTANCES.take() {
        Some(t) => t,
        None => return 1,
    };
    let mut sup = Supervisor::new(table, Some(spare), slots, instances, rows, plan, ctx);
    // After the mount statements, before the first unit: clients may
    // connect from now on.
    sup.bind_all(&mut System::new(&init.ev), time::now());
    init.sup = Some(sup);
    let rc = init.run();
    let sup = init.sup.take();
    drop(init);

    if let (Some(b), Some(sup)) = (&base, &sup) {
        for u in sup.table().units.iter() {
            let _ = cgroup::remove(b, u.name, u.isolate, u.instance_slots());
        }
        let _ = path::rmdir(b.dir());
    }
    let _ = path::unlink(sock.as_str());
    let _ = path::unlink(ctl.as_str());
    let _ = path::rmdir(dir.as_str());
    rc
}

/// Makes this run's private directory, mode 0700: /run/pinit.PID, or
/// where /run is not ours to write, /tmp/pinit.PID.RANDOM (a name nobody
/// can make beforehand). One that exists already is refused, never used:
/// whoever made it could read or replace the sockets in it.
fn run_dir(me: i32, dir: &mut heapless::String<64>) -> Result<(), rustix::io::Errno> {
    use rustix::io::Errno;
    let mode = FsMode::from_raw_mode(0o700);
    let _ = crate::put!(dir, "/run/pinit.{}", me);
    let mkdir = |d: &str| path::mkdir(d, mode);
    let made = match mkdir(dir.as_str()) {
        Err(Errno::EXIST) => stale(dir.as_str()).and_then(|()| mkdir(dir.as_str())),
        other => other,
    };
    match made {
        Ok(()) => return Ok(()),
        Err(Errno::ACCESS) | Err(Errno::PERM) | Err(Errno::NOENT) | Err(Errno::ROFS) => {}
        Err(e) => return Err(e),
    }
    dir.clear();
    let _ = crate::put!(dir, "/tmp/pinit.{}.", me);
    let random = crate::sys::random_u64()?;
    let _ = crate::put!(dir, "{}", crate::put::Hex(random, 16));
    mkdir(dir.as_str())
}

/// An existing /run/pinit.PID names this process's own PID, so no live
/// pinit uses it: it is one a killed pinit left (SIGKILL skips the
/// clean-up). Removed if it is what pinit makes — a directory, not a
/// symlink, of this user, mode 0700, holding at most its two sockets —
/// else refused (EEXIST).
fn stale(dir: &str) -> Result<(), rustix::io::Errno> {
    use rustix::io::Errno;
    let st = path::lstat(dir)?;
    let ours = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
        && st.st_uid == rustix::process::geteuid().as_raw()
        && st.st_mode & 0o7777 == 0o700;
    if !ours {
        return Err(Errno::EXIST);
    }
    for name in ["notify", "control"] {
        let mut path: heapless::String<80> = heapless::String::new();
        let _ = crate::put!(path, "{}/{}", dir, name);
        match path::unlink(path.as_str()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        }
    }
    // Anything else in it: ENOTEMPTY, said with the path.
    path::rmdir(dir)
}

fn notify_env<'b>(sock: &str, buf: &'b mut [u8; 128]) -> Option<&'b core::ffi::CStr> {
    let prefix = NOTIFY_KEY.as_bytes();
    let total = prefix.len() + sock.len();
    buf.get_mut(..prefix.len())?.copy_from_slice(prefix);
    buf.get_mut(prefix.len()..total)?
        .copy_from_slice(sock.as_bytes());
    *buf.get_mut(total)? = 0;
    core::ffi::CStr::from_bytes_with_nul(buf.get(..=total)?).ok()
}
