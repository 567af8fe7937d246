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

/// Token of the timerfd; callers use other values for their fds.
pub const TIMER: u64 = u64::MAX;
/// Most events taken per wake-up.
pub const EVENTS_MAX: usize = 16;

/// The tokens of one wake-up.
pub type Tokens = heapless::Vec<u64, EVENTS_MAX>;

pub struct Loop {
    epoll: OwnedFd,
    timer: OwnedFd,
    armed: Option<Ms>,
}

impl Loop {
    pub fn new() -> Result<Loop, Errno> {
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
    pub fn add(&self, fd: impl AsFd, token: u64) -> Result<(), Errno> {
        epoll::add(&self.epoll, fd, EventData::new_u64(token), EventFlags::IN)
    }

    pub fn remove(&self, fd: impl AsFd) -> Result<(), Errno> {
        epoll::delete(&self.epoll, fd)
    }

    /// Sleeps until an fd is ready or `deadline` passes; returns the
    /// ready tokens (TIMER for the deadline).
    pub fn wait(&mut self, deadline: Option<Ms>) -> Result<Tokens, Errno> {
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
