//! The instances of `accept=yes` units: one process per accepted
//! connection, in its own cgroup below its unit's (`NAME/NAME@N`), reaped
//! and never restarted. One fixed table for all units (INSTANCES_MAX),
//! kept in .bss. Pure, like unit.rs: times are arguments, and the
//! supervisor carries out what it answers (docs/design.md §4).

use crate::supervise::unit::KILL_GRACE_MS;
use crate::sys::time::Ms;
use crate::table::capacity::INSTANCES_MAX;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::process::Pid;

/// Where an instance is in its stop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Stop {
    No,
    /// Sent the stop signal; SIGKILL at this time.
    Signalled(Ms),
    /// Killed; given up at this time.
    Killed(Ms),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Instance {
    pub(crate) unit: u16,
    /// N of its cgroup `NAME@N`: the lowest its unit had free.
    pub(crate) num: u16,
    pub(crate) pid: Pid,
    pub(crate) stop: Stop,
}

/// What a stop timeout asks of the supervisor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Overdue {
    /// SIGKILL to the instance and its cgroup; it is given
    /// KILL_GRACE_MS more.
    Kill(Instance),
    /// Still there after that: forgotten (a later exit of its pid is a
    /// stranger's), its slot free again.
    GiveUp(Instance),
}

pub(crate) struct Instances {
    list: heapless::Vec<Instance, INSTANCES_MAX>,
    /// The exec report pipes of instances that have not exec'd yet, by
    /// their process: slot K is watched with `INSTANCE_REPORT | K`. All
    /// None is all zero: .bss, and only the slots used are touched.
    reports: [Option<(Pid, OwnedFd)>; INSTANCES_MAX],
}

/// The table PID 1 uses: only the entries in use are ever written.
pub(crate) static INSTANCES: crate::sys::Singleton<Instances, { crate::sys::bit::INSTANCES }> =
    crate::sys::Singleton::new(Instances::new());

impl Instances {
    pub(crate) const fn new() -> Instances {
        Instances {
            list: heapless::Vec::new(),
            reports: [const { None }; INSTANCES_MAX],
        }
    }

    /// Holds the report pipe of instance process `pid` until its exec is
    /// known: the slot it is in (its token's index), or the fd back when
    /// every slot is taken (then it is read at the instance's exit).
    pub(crate) fn hold_report(&mut self, pid: Pid, fd: OwnedFd) -> Result<usize, OwnedFd> {
        match self.reports.iter().position(|r| r.is_none()) {
            Some(k) => match self.reports.get_mut(k) {
                Some(r) => {
                    *r = Some((pid, fd));
                    Ok(k)
                }
                None => Err(fd),
            },
            None => Err(fd),
        }
    }

    /// The report pipe held in slot `k`, and the process it is from.
    pub(crate) fn report(&self, k: usize) -> Option<(Pid, BorrowedFd<'_>)> {
        let (pid, fd) = self.reports.get(k)?.as_ref()?;
        Some((*pid, fd.as_fd()))
    }

    /// The slot of the report pipe of process `pid`, if one is held.
    pub(crate) fn report_of(&self, pid: Pid) -> Option<usize> {
        (self.reports.iter()).position(|r| r.as_ref().is_some_and(|(p, _)| *p == pid))
    }

    /// Gives up the report pipe in slot `k` (read to its end, or its
    /// instance gone).
    pub(crate) fn take_report(&mut self, k: usize) -> Option<OwnedFd> {
        self.reports.get_mut(k)?.take().map(|(_, fd)| fd)
    }

    /// The instances of unit `unit`.
    pub(crate) fn of(&self, unit: usize) -> impl Iterator<Item = &Instance> + '_ {
        self.list
            .iter()
            .filter(move |i| usize::from(i.unit) == unit)
    }

    pub(crate) fn count(&self, unit: usize) -> usize {
        self.of(unit).count()
    }

    /// The number of the next instance of `unit`: the lowest below
    /// `max` that it does not use; `None` when it runs `max` already, or
    /// when the table is full (INSTANCES_MAX for all units together).
    pub(crate) fn free_num(&self, unit: usize, max: u16) -> Option<u16> {
        if self.list.is_full() {
            return None;
        }
        (0..max).find(|&n| self.of(unit).all(|i| i.num != n))
    }

    /// A new instance; false if the table is full.
    pub(crate) fn add(&mut self, unit: usize, num: u16, pid: Pid) -> bool {
        let i = Instance {
            unit: unit as u16,
            num,
            pid,
            stop: Stop::No,
        };
        self.list.push(i).is_ok()
    }

    /// Every instance, for a re-exec's hand-over.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Instance> + '_ {
        self.list.iter()
    }

    /// An instance a previous PID 1 handed over (boot/reexec.rs) or left
    /// in its cgroup (boot/adopt.rs), as it was; false if its number is
    /// taken or the table is full.
    pub(crate) fn take_back(&mut self, i: Instance) -> bool {
        let taken = self.of(usize::from(i.unit)).any(|o| o.num == i.num);
        !taken && self.list.push(i).is_ok()
    }

    /// A reload moved the units: each instance's unit index becomes
    /// `to(old)`; one whose unit is gone (`None`) is forgotten.
    pub(crate) fn renumber(&mut self, to: impl Fn(usize) -> Option<usize>) {
        self.list.retain_mut(|i| match to(usize::from(i.unit)) {
            Some(n) => {
                i.unit = n as u16;
                true
            }
            None => false,
        });
    }

    /// Process `pid` exited: the instance it was, now gone.
    pub(crate) fn exited(&mut self, pid: Pid) -> Option<Instance> {
        let at = self.list.iter().position(|i| i.pid == pid)?;
        Some(self.list.swap_remove(at))
    }

    /// Stops every instance of `unit` that is not stopping yet: `signal`
    /// each, SIGKILL after `timeout_ms` (`timer`).
    pub(crate) fn stop(
        &mut self,
        unit: usize,
        now: Ms,
        timeout_ms: u64,
        mut signal: impl FnMut(Pid),
    ) {
        for i in self.list.iter_mut() {
            if usize::from(i.unit) == unit && i.stop == Stop::No {
                i.stop = Stop::Signalled(now.after(timeout_ms));
                signal(i.pid);
            }
        }
    }

    /// The nearest stop timeout.
    pub(crate) fn deadline(&self) -> Option<Ms> {
        self.list
            .iter()
            .filter_map(|i| match i.stop {
                Stop::No => None,
                Stop::Signalled(t) | Stop::Killed(t) => Some(t),
            })
            .min()
    }

    /// The stop timeouts due at `now`, each handed to `f`.
    pub(crate) fn timer(&mut self, now: Ms, mut f: impl FnMut(Overdue)) {
        let mut k = 0;
        while let Some(i) = self.list.get_mut(k) {
            match i.stop {
                Stop::Signalled(t) if t <= now => {
                    i.stop = Stop::Killed(now.after(KILL_GRACE_MS));
                    f(Overdue::Kill(*i));
                }
                Stop::Killed(t) if t <= now => {
                    f(Overdue::GiveUp(self.list.swap_remove(k)));
                    continue;
                }
                Stop::No | Stop::Signalled(_) | Stop::Killed(_) => {}
            }
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn pid(n: i32) -> Pid {
        Pid::from_raw(n).unwrap()
    }

    #[test]
    fn numbers_are_the_lowest_free_per_unit() {
        let mut t = Instances::new();
        assert_eq!(t.free_num(0, 2), Some(0));
        assert!(t.add(0, 0, pid(10)));
        assert_eq!(t.free_num(0, 2), Some(1));
        assert_eq!(t.free_num(1, 2), Some(0));
        assert!(t.add(0, 1, pid(11)));
        assert_eq!(t.free_num(0, 2), None, "max-instances reached");
        assert_eq!(t.exited(pid(10)).map(|i| (i.unit, i.num)), Some((0, 0)));
        assert_eq!(t.exited(pid(10)), None);
        assert_eq!((t.count(0), t.free_num(0, 2)), (1, Some(0)));
    }

    #[test]
    fn the_table_has_a_fixed_capacity() {
        let mut t = Instances::new();
        for n in 0..INSTANCES_MAX {
            assert!(t.add(n % 3, n as u16, pid(100 + n as i32)));
        }
        assert_eq!(t.free_num(5, 256), None);
        assert!(!t.add(5, 0, pid(1)));
        t.exited(pid(100));
        assert_eq!(t.free_num(5, 256), Some(0));
    }

    #[test]
    fn a_stop_signals_then_kills_then_gives_up() {
        let mut t = Instances::new();
        t.add(0, 0, pid(10));
        t.add(1, 0, pid(20));
        let mut signalled = Vec::new();
        t.stop(0, Ms(100), 1000, |p| signalled.push(p));
        t.stop(0, Ms(200), 1000, |p| signalled.push(p));
        assert_eq!(signalled, [pid(10)], "signalled once");
        assert_eq!(t.deadline(), Some(Ms(1100)));
        let mut due = Vec::new();
        t.timer(Ms(1099), |d| due.push(d));
        assert!(due.is_empty());
        t.timer(Ms(1100), |d| due.push(d));
        assert!(matches!(
            due[..],
            [Overdue::Kill(Instance {
                num: 0,
                unit: 0,
                ..
            })]
        ));
        assert_eq!(t.deadline(), Some(Ms(1100 + KILL_GRACE_MS)));
        due.clear();
        t.timer(Ms(1100 + KILL_GRACE_MS), |d| due.push(d));
        assert!(matches!(due[..], [Overdue::GiveUp(_)]));
        assert_eq!((t.count(0), t.count(1), t.deadline()), (0, 1, None));
    }
}
