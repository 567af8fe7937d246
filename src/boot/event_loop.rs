//! The event loop shared by PID 1 and `pinit --config`: one epoll over
//! the signalfd, the timerfd, the notify socket and the units' pipes. The
//! clock is read once per wake-up; the timeout is the nearest deadline.

use crate::boot::pace::{Pace, Reaped};
use crate::boot::rescue::{self, Rescue};
use crate::boot::shutdown::{self, Power};
use crate::boot::watchdog::Watchdog;
use crate::boot::{reexec, reload};
use crate::control::protocol::{Refusal, FAILED};
use crate::control::server::{self, Control, Deferred, Later};
use crate::say;
use crate::supervise::effects::System;
use crate::supervise::epoll::token::{self, NOTIFY, SIGNALS, TIMER};
use crate::supervise::epoll::Loop;
use crate::supervise::notify::Notify;
use crate::supervise::supervisor::Supervisor;
use crate::supervise::unit::Status;
use crate::sys::errno::Name;
use crate::sys::time::{self, Ms};
use crate::sys::{self, SigSet};
use crate::table::OnFailure;
use linux_raw_sys::general as k;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};

/// The signals taken through the signalfd.
pub(crate) const HANDLED: SigSet = SigSet::EMPTY
    .with(k::SIGCHLD)
    .with(k::SIGTERM)
    .with(k::SIGINT)
    .with(k::SIGUSR1)
    .with(k::SIGUSR2)
    .with(k::SIGPWR)
    .with(k::SIGHUP);

/// What ends the loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    /// PID 1: shut the machine down.
    Pid1,
    /// `--config`: stop the units and exit.
    Process,
}

pub(crate) struct Init<'t> {
    pub(crate) ev: Loop,
    pub(crate) sigfd: OwnedFd,
    pub(crate) notify: Option<Notify>,
    pub(crate) control: Option<Control>,
    pub(crate) sup: Option<Supervisor<'t>>,
    pub(crate) shell: Option<(Rescue, &'t core::ffi::CStr)>,
    /// The hardware watchdog (PID 1 only).
    pub(crate) watchdog: Option<Watchdog>,
    /// The running rescue shell's report pipe: why it exited, if it
    /// never ran.
    shell_report: Option<OwnedFd>,
    pub(crate) mode: Mode,
    /// The table's path as given (`pinit.conf=`, `--config FILE`), for
    /// reloads; `None`: /etc/pinit.conf, else the board.
    pub(crate) conf: Option<&'t str>,
    /// The table in force is the compiled-in one (a re-exec hands over
    /// its text otherwise).
    pub(crate) board: bool,
    stopping: Option<Power>,
    /// The stop was a unit's `on-failure=` (`--config` then exits 1).
    failed: bool,
    /// A reload ran: its calls reached below the loop's usual depth, and
    /// those stack pages are given back at the top of the loop.
    reloaded: bool,
    /// Orphans in a flood are reaped in batches (pace.rs).
    pace: Pace,
}

/// Notes the signal dispositions pinit was started with (what its
/// children must undo), blocks the handled signals and opens the
/// signalfd and epoll, retrying once a second: without them PID 1 could
/// neither reap nor shut down.
pub(crate) fn setup() -> (OwnedFd, Loop) {
    sys::note_signal_dispositions();
    loop {
        let r = sys::set_signal_mask(HANDLED)
            .and_then(|()| sys::signalfd(HANDLED))
            .and_then(|fd| {
                let l = Loop::new()?;
                l.add(&fd, SIGNALS)?;
                Ok((fd, l))
            });
        match r {
            Ok(pair) => return pair,
            Err(e) => {
                say!(
                    "unable to set up the signalfd and epoll: {}; retrying",
                    Name(e)
                );
                let t = rustix::time::Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                };
                let _ = rustix::thread::nanosleep(&t);
            }
        }
    }
}

impl<'t> Init<'t> {
    pub(crate) fn new(sigfd: OwnedFd, ev: Loop, mode: Mode) -> Init<'t> {
        Init {
            ev,
            sigfd,
            notify: None,
            control: None,
            sup: None,
            shell: None,
            watchdog: None,
            shell_report: None,
            mode,
            conf: None,
            board: false,
            stopping: None,
            failed: false,
            reloaded: false,
            pace: Pace::default(),
        }
    }

    /// Runs until shutdown; returns only in `Process` mode (exit status).
    pub(crate) fn run(&mut self) -> i32 {
        // After a re-exec: what exited meanwhile.
        let mut now = time::now();
        let _ = self.reap(now);
        loop {
            if core::mem::take(&mut self.reloaded) {
                if let Err(e) = sys::stack::release_below_caller() {
                    say!("unable to give back the reload's stack pages: {}", Name(e));
                }
                if let Err(e) = sys::text::release() {
                    say!("unable to unmap the reload's text pages: {}", Name(e));
                }
            }
            // `now` is the wake-up's: what the handlers did since took
            // microseconds, and a deadline they set that is already past
            // fires at once (the timerfd takes absolute times).
            if self.pace.take_due(now) {
                self.resume_signals(now);
            }
            if let Some(w) = &mut self.watchdog {
                w.tick(now);
            }
            let failure = self.sup.as_mut().and_then(|s| s.take_failure_action());
            if let Some((kind, unit)) = failure.and_then(|(i, a)| Some((power_of(a)?, i))) {
                let name = self.sup.as_ref().map_or("", |s| s.unit_name(unit));
                say_failure_action(self.mode, name, kind);
                self.failed = true;
                self.shut_down(kind, now);
            }
            if let Some((shell, tty)) = &mut self.shell {
                if shell.is_due(now) {
                    match rescue::start(tty) {
                        Some(st) => {
                            shell.started(st.pid, now);
                            self.shell_report = Some(st.report);
                        }
                        None => shell.failed(now),
                    }
                }
            }
            if let Some(kind) = self.stopping {
                let down = match &mut self.sup {
                    Some(sup) => {
                        sup.shutdown(&mut System::new(&self.ev), now);
                        sup.all_down()
                    }
                    None => true,
                };
                if down {
                    return self.finish(kind);
                }
            } else if let Some(sup) = &mut self.sup {
                sup.schedule(&mut System::new(&self.ev), now);
            }
            let deadline = self.deadline();
            let tokens = match self.ev.wait(deadline) {
                Ok(t) => t,
                Err(e) => {
                    say!("event loop: epoll_wait: {}", Name(e));
                    now = time::now();
                    continue;
                }
            };
            now = time::now();
            // Readiness before exits: a daemon that sends MAINPID= and
            // then exits must be seen handing over, not dying.
            for &token in tokens.iter().filter(|&&t| t == NOTIFY) {
                self.dispatch(token, now);
            }
            for &token in tokens.iter().filter(|&&t| t != NOTIFY) {
                self.dispatch(token, now);
            }
        }
    }

    fn deadline(&self) -> Option<Ms> {
        [
            self.shell.as_ref().and_then(|(s, _)| s.deadline()),
            self.sup.as_ref().and_then(|s| s.deadline()),
            self.control.as_ref().and_then(|c| c.deadline()),
            self.watchdog.as_ref().and_then(|w| w.deadline()),
            self.pace.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn dispatch(&mut self, token: u64, now: Ms) {
        match token {
            SIGNALS => self.signals(now),
            NOTIFY => self.notified(now),
            TIMER => {
                if let Some(sup) = &mut self.sup {
                    sup.on_timer(&mut System::new(&self.ev), now);
                }
                if let Some(c) = &mut self.control {
                    c.expire(&self.ev, now);
                }
            }
            token::LISTEN => {
                if let Some(c) = &mut self.control {
                    c.accept(&self.ev, now);
                }
            }
            t if token::kind(t) == token::CLIENT => self.client(token::index(t), now),
            other => {
                if let Some(sup) = &mut self.sup {
                    sup.on_token(&mut System::new(&self.ev), other, now);
                }
            }
        }
    }

    /// Readiness datagrams. Out of line, as `client` is: their buffers
    /// (a 4 KiB datagram, a request) then take stack only while they
    /// run, not under every exit and start `dispatch` handles, whose
    /// deepest path sets how many stack pages PID 1 keeps.
    #[inline(never)]
    fn notified(&mut self, now: Ms) {
        if let (Some(n), Some(sup)) = (&self.notify, &mut self.sup) {
            let mut fx = System::new(&self.ev);
            n.recv(|pid, msg| match msg {
                Ok(msg) => sup.on_notify(&mut fx, pid, msg, now),
                Err(len) => sup.on_notify_long(pid, len, now),
            });
        }
    }

    /// A control client's request.
    #[inline(never)]
    fn client(&mut self, i: usize, now: Ms) {
        let later = match &mut self.control {
            Some(c) => {
                let mut fx = System::new(&self.ev);
                let sup = self.sup.as_mut().map(|s| (s, &mut fx));
                c.serve(i, &self.ev, sup, now)
            }
            None => None,
        };
        if let Some(d) = later {
            self.deferred(d, now);
        }
    }

    /// A control request the boot layer carries out.
    fn deferred(&mut self, d: Deferred, now: Ms) {
        let fd = d.fd.as_fd();
        let r = match d.request {
            Later::ReloadTable => self.reload(now, &mut |line| {
                let _ = server::send_line(fd, line.as_bytes());
            }),
            Later::Reexec => Err(self.reexec(fd)),
            #[cfg(feature = "test-panic")]
            #[allow(clippy::panic)] // the point of the test build
            Later::Panic => panic!("a test build was asked to panic"),
        };
        let _ = server::reply(fd, r);
    }

    /// `pinit reexec`, `telinit u`: returns only if it did not happen.
    fn reexec(&self, client: BorrowedFd<'_>) -> Refusal {
        let Some(sup) = self.sup.as_ref() else {
            return (FAILED, "no units: the rescue shell is running");
        };
        if self.stopping.is_some() {
            return (FAILED, "shutting down");
        }
        let held = reexec::Held {
            control: self.control.as_ref().map(|c| c.listen_fd()),
            notify: self.notify.as_ref().map(|n| n.fd()),
            watchdog: self.watchdog.as_ref().and_then(|w| w.held()),
            board: self.board,
        };
        reexec::reexec(&held, sup, client)
    }

    /// `pinit reload-table`, SIGHUP, `telinit q`.
    fn reload(&mut self, now: Ms, tell: &mut dyn FnMut(&str)) -> Result<(), Refusal> {
        if self.stopping.is_some() {
            return Err((FAILED, "shutting down"));
        }
        self.reloaded = true;
        let board = match &mut self.sup {
            Some(sup) => reload::reload(
                sup,
                &mut System::new(&self.ev),
                self.conf,
                self.mode == Mode::Pid1,
                now,
                tell,
            )?,
            None => return Err((FAILED, "no units: the rescue shell is running")),
        };
        self.board = board;
        // The `watchdog` statement of the new table.
        let new = self.sup.as_ref().and_then(|s| s.table().watchdog());
        self.watchdog = match self.watchdog.take() {
            Some(mut w) => w.reload(new.as_ref(), now).then_some(w),
            None if self.mode == Mode::Pid1 => new.and_then(|w| Watchdog::new(&w, now)),
            None => None,
        };
        Ok(())
    }

    fn signals(&mut self, now: Ms) {
        let mut request = None;
        let mut hup = false;
        read_signals(&self.sigfd, |sig| match sig {
            k::SIGCHLD => {}
            k::SIGHUP => hup = true,
            other => {
                if let Some(kind) = Power::from_signal(other) {
                    request.get_or_insert(kind);
                }
            }
        });
        let reaped = self.reap(now);
        if self.pace.reaped(now, reaped) {
            if let Err(e) = self.ev.pause(&self.sigfd, SIGNALS) {
                say!("unable to pause the signalfd: {}", Name(e));
                self.pace.cancel();
            }
        }
        if hup {
            say!("SIGHUP: reloading the table");
            if let Err((_, why)) = self.reload(now, &mut |_| {}) {
                say!("SIGHUP: {}", why);
            }
        }
        if let Some(kind) = request {
            self.shut_down(kind, now);
        }
    }

    /// Starts the shutdown (the first request wins): nothing starts
    /// again, the watchdog's shutdown budget begins.
    fn shut_down(&mut self, kind: Power, now: Ms) {
        if self.stopping.is_some() {
            return;
        }
        match self.mode {
            Mode::Pid1 => say!("shutdown: {} requested", kind.name()),
            Mode::Process => say!("stopping every unit"),
        }
        self.stopping = Some(kind);
        if let Some(w) = &mut self.watchdog {
            w.shutdown(now);
        }
        if let Some((shell, _)) = &mut self.shell {
            if let Some(pid) = shell.off() {
                let _ = sys::kill(pid.as_raw_nonzero().get(), k::SIGHUP);
            }
        }
    }

    /// The end of a hold (pace.rs): the signalfd is watched again and
    /// what is pending handled now, without another wake-up. Should the
    /// signalfd not be watched again, the hold goes on for a second,
    /// so reaping goes on, once a second, until it can be.
    fn resume_signals(&mut self, now: Ms) {
        let watched = self.ev.resume(&self.sigfd, SIGNALS);
        self.signals(now);
        if let Err(e) = watched {
            say!(
                "unable to watch the signalfd again: {}; reaping once a second until it is",
                Name(e)
            );
            self.pace.hold_for(now, 1000);
        }
    }

    /// Reaps every exited child (orphans included) without blocking;
    /// then the cgroups being emptied are swept again.
    fn reap(&mut self, now: Ms) -> Reaped {
        let mut reaped = Reaped::default();
        loop {
            match rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
                Ok(Some((pid, status))) => {
                    let st = Status::from_wait(status);
                    let unit = match &mut self.sup {
                        Some(sup) => sup.on_exit(&mut System::new(&self.ev), pid, st, now),
                        None => false,
                    };
                    let mut known = unit;
                    if !unit {
                        if let Some((shell, tty)) = &mut self.shell {
                            if shell.exited(pid, now) {
                                known = true;
                                if let Some(r) = self.shell_report.take() {
                                    rescue::why(&r, tty);
                                }
                            }
                        }
                    }
                    if known {
                        reaped.known = reaped.known.saturating_add(1);
                    } else {
                        reaped.orphans = reaped.orphans.saturating_add(1);
                    }
                }
                Ok(None) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => break,
            }
        }
        if let Some(sup) = &mut self.sup {
            sup.on_reaped(&mut System::new(&self.ev), now);
        }
        reaped
    }

    fn finish(&mut self, kind: Power) -> i32 {
        match self.mode {
            Mode::Pid1 => {
                // `random-seed FILE` of the table in force: saved.
                let seed = self.sup.as_ref().and_then(|s| {
                    s.table().setup.iter().find_map(|s| match s {
                        crate::table::Setup::RandomSeed(f) => Some(*f),
                        _ => None,
                    })
                });
                shutdown::finish(
                    kind,
                    self.sigfd.as_fd(),
                    shutdown::GRACE_MS,
                    seed,
                    self.watchdog.as_mut(),
                )
            }
            Mode::Process => {
                say!("every unit is down; exiting");
                i32::from(self.failed)
            }
        }
    }
}

/// Reads every pending signal from the signalfd; out of line, so its
/// buffer is not on the stack under the reaping that follows.
#[inline(never)]
pub(crate) fn read_signals(sigfd: &OwnedFd, mut on: impl FnMut(u32)) {
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
                // A read takes every pending signal that fits: with room
                // left, none was pending (a wake-up's second read, which
                // would only say EAGAIN, is saved; signalfd(2)).
                if n < buf.len() {
                    return;
                }
            }
        }
    }
}

/// The power action of an `on-failure=` other than `none`.
fn power_of(action: OnFailure) -> Option<Power> {
    match action {
        OnFailure::Reboot => Some(Power::Reboot),
        OnFailure::Poweroff => Some(Power::Poweroff),
        OnFailure::None => None,
    }
}

/// A unit with `on-failure=` reached `failed`: the machine goes down
/// that way (`--config` exits 1 after stopping every unit).
fn say_failure_action(mode: Mode, unit: &str, kind: Power) {
    match mode {
        Mode::Pid1 => say!(
            "{}: on-failure={}: {} the machine",
            unit,
            kind.name(),
            match kind {
                Power::Reboot => "rebooting",
                Power::Halt | Power::Poweroff => "powering off",
            }
        ),
        Mode::Process => say!(
            "{}: on-failure={}: not PID 1: stopping every unit and exiting 1",
            unit,
            kind.name()
        ),
    }
}
