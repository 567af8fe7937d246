//! The one epoll loop: every event source is a file descriptor, and a
//! timerfd armed at the nearest deadline stands for all the timers.

use crate::sys::time::Ms;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};

/// Every epoll token, in one place. Per-unit and per-client fds are
/// `KIND | index` (index below 2^16).
pub(crate) mod token {
    /// The signalfd.
    pub(crate) const SIGNALS: u64 = 0;
    /// The notify socket.
    pub(crate) const NOTIFY: u64 = 1;
    /// A unit's output pipe.
    pub(crate) const LOG: u64 = 1 << 16;
    /// A unit's `ready=fd:N` pipe.
    pub(crate) const READY: u64 = 2 << 16;
    /// A unit's MAINPID= pidfd.
    pub(crate) const PIDFD: u64 = 3 << 16;
    /// The control socket's listening fd.
    pub(crate) const LISTEN: u64 = 4 << 16;
    /// A control client.
    pub(crate) const CLIENT: u64 = 5 << 16;
    /// A unit's cgroup.events (`ready=forked` without a main process).
    pub(crate) const EVENTS: u64 = 6 << 16;
    /// A unit's exec report pipe (spawn.rs), until the child's exec.
    pub(crate) const REPORT: u64 = 7 << 16;
    /// A unit's listening socket: index `unit << 4 | socket`.
    pub(crate) const SOCKET: u64 = 8 << 16;
    /// An `accept=yes` instance's exec report pipe, until its exec:
    /// index `unit << 8 | instance number` (both below 256).
    pub(crate) const INSTANCE_REPORT: u64 = 9 << 16;
    /// The timerfd of the loop itself.
    pub(crate) const TIMER: u64 = u64::MAX;

    /// The kind of a `KIND | index` token.
    pub(crate) const fn kind(token: u64) -> u64 {
        token & !0xffff
    }

    /// The index of a `KIND | index` token.
    pub(crate) const fn index(token: u64) -> usize {
        (token & 0xffff) as usize
    }
}
use token::TIMER;
/// Most events taken per wake-up.
pub(crate) const EVENTS_MAX: usize = 16;

/// The tokens of one wake-up.
pub(crate) type Tokens = heapless::Vec<u64, EVENTS_MAX>;

pub(crate) struct Loop {
    epoll: OwnedFd,
    timer: OwnedFd,
    armed: Option<Ms>,
}

impl Loop {
    pub(crate) fn new() -> Result<Loop, Errno> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
        )?;
        epoll::add(&epoll, &timer, EventData::new_u64(TIMER), EventFlags::IN)?;
        Ok(Loop {
            epoll,
            timer,
            armed: None,
        })
    }

    /// Watches `fd` for input; its events come back with `token`.
    pub(crate) fn add(&self, fd: impl AsFd, token: u64) -> Result<(), Errno> {
        epoll::add(&self.epoll, fd, EventData::new_u64(token), EventFlags::IN)
    }

    /// Watches `fd` for EPOLLPRI only: a kernfs file (cgroup.events)
    /// that the kernel flags when it changes (it is always readable).
    pub(crate) fn add_pri(&self, fd: impl AsFd, token: u64) -> Result<(), Errno> {
        epoll::add(&self.epoll, fd, EventData::new_u64(token), EventFlags::PRI)
    }

    /// Keeps `fd` registered but reports nothing for it until `resume`.
    pub(crate) fn pause(&self, fd: impl AsFd, token: u64) -> Result<(), Errno> {
        epoll::modify(
            &self.epoll,
            fd,
            EventData::new_u64(token),
            EventFlags::empty(),
        )
    }

    /// Watches a paused `fd` for input again.
    pub(crate) fn resume(&self, fd: impl AsFd, token: u64) -> Result<(), Errno> {
        epoll::modify(&self.epoll, fd, EventData::new_u64(token), EventFlags::IN)
    }

    pub(crate) fn remove(&self, fd: impl AsFd) -> Result<(), Errno> {
        epoll::delete(&self.epoll, fd)
    }

    /// Sleeps until an fd is ready or `deadline` passes; returns the
    /// ready tokens (TIMER for the deadline).
    pub(crate) fn wait(&mut self, deadline: Option<Ms>) -> Result<Tokens, Errno> {
        let mut out = Tokens::new();
        if deadline != self.armed {
            self.arm(deadline)?;
        }
        let mut events = [Event {
            flags: EventFlags::empty(),
            data: EventData::new_u64(0),
        }; EVENTS_MAX];
        let n = match epoll::wait(&self.epoll, &mut events[..], None) {
            Ok(n) => n,
            Err(Errno::INTR) => 0,
            Err(e) => return Err(e),
        };
        for ev in events.iter().take(n) {
            let token = ev.data.u64();
            if token == TIMER {
                let mut buf = [0u8; 8];
                let _ = rustix::io::read(&self.timer, &mut buf);
                self.armed = None;
            }
            let _ = out.push(token);
        }
        Ok(out)
    }

    fn arm(&mut self, deadline: Option<Ms>) -> Result<(), Errno> {
        // An absolute time of 0 disarms; a past deadline fires at once.
        let at = deadline.map_or(0, |d| d.0.max(1));
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: (at / 1000) as i64,
                tv_nsec: ((at % 1000) * 1_000_000) as i64,
            },
        };
        timerfd_settime(&self.timer, TimerfdTimerFlags::ABSTIME, &spec)?;
        self.armed = deadline;
        Ok(())
    }
}
