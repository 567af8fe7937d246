//! A unit across a re-exec of PID 1 (docs/design.md §13): what the old
//! program hands over (`carried`), and what the new one takes back
//! (`resume`) from that hand-over or, after a crash, from the kernel
//! (boot/adopt.rs). The unit goes on where it stood: the same state,
//! process, counters and fds.

use super::*;
use crate::supervise::instance::Instance;
use crate::table::capacity::LISTEN_MAX;

/// What a re-exec carries of a unit, besides its fds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Carried<'a> {
    pub(crate) name: &'a str,
    pub(crate) unit: Snapshot,
    /// The process its output lines are tagged with.
    pub(crate) log_pid: i32,
    /// The last `STATUS=` text.
    pub(crate) status: &'a [u8],
    pub(crate) timeline: Timeline,
    /// In the stop set of a `pinit stop` under way.
    pub(crate) stopping: bool,
    /// Its `runtime-dir=` directories were made and not removed since.
    pub(crate) run_dirs: bool,
}

/// The fds PID 1 holds for a unit; a new kind is one more field here
/// and one more role in boot/handover.rs.
#[derive(Debug)]
pub(crate) struct UnitFds<F> {
    /// Its cgroup directory (CLONE_INTO_CGROUP).
    pub(crate) cgroup: Option<F>,
    /// Its output pipe: read end, write end.
    pub(crate) out: Option<(F, F)>,
    /// The read end of its `ready=fd:N` pipe.
    pub(crate) ready: Option<F>,
    /// A pidfd on a main process that is not PID 1's child.
    pub(crate) pidfd: Option<F>,
    /// The read end of its child's exec report pipe, until the exec.
    pub(crate) report: Option<F>,
    /// Its `listen=` sockets, in order, and the connections accepted on
    /// each.
    pub(crate) sockets: heapless::Vec<(F, u32), LISTEN_MAX>,
}

impl<F> Default for UnitFds<F> {
    fn default() -> Self {
        UnitFds {
            cgroup: None,
            out: None,
            ready: None,
            pidfd: None,
            report: None,
            sockets: heapless::Vec::new(),
        }
    }
}

impl<'t> Supervisor<'t> {
    /// Unit `i` as a re-exec carries it, and its fds.
    pub(crate) fn carried(&self, i: usize) -> Option<(Carried<'_>, UnitFds<BorrowedFd<'_>>)> {
        let u = self.table.get().units.get(i)?;
        let s = self.slots.get(i)?;
        let c = Carried {
            name: u.name,
            unit: s.sm.snapshot(),
            log_pid: s.log_pid,
            status: self.rows.status_of(i),
            timeline: s.timeline,
            stopping: self.stopping.contains(i),
            run_dirs: s.run_dirs,
        };
        let fds = UnitFds {
            cgroup: s.kept.cgroup.as_ref().map(|f| f.as_fd()),
            out: s.kept.out.as_ref().map(|(r, w)| (r.as_fd(), w.as_fd())),
            ready: s.ready.as_ref().map(|f| f.as_fd()),
            pidfd: s.pidfd.as_ref().map(|f| f.as_fd()),
            report: s.report.as_ref().map(|f| f.as_fd()),
            sockets: (self.rows.sockets_of(i).iter())
                .map(|l| (l.fd.as_fd(), l.accepted))
                .collect(),
        };
        Some((c, fds))
    }

    /// The text of the table in force (empty for the compiled-in one).
    pub(crate) fn table_text(&self) -> &[u8] {
        self.table.text()
    }

    /// Kills what is left in unit `i`'s cgroup (processes a crashed PID 1
    /// left, with no record of them).
    pub(crate) fn kill_unit(&mut self, fx: &mut impl Effects, i: usize, now: Ms) {
        self.kill_cgroup(fx, i, now);
    }

    /// Whether a unit's cgroup is still being emptied by SIGKILL sweeps
    /// (which a hand-over does not carry).
    pub(crate) fn draining(&self) -> bool {
        self.slots.iter().any(|s| s.drain.is_some())
    }

    /// Whether the boot summary was said.
    pub(crate) fn booted(&self) -> bool {
        self.booted
    }

    /// A previous PID 1 said the boot summary already.
    pub(crate) fn set_booted(&mut self) {
        self.booted = true;
    }

    /// Takes unit `i` back as a previous PID 1 left it: its state and
    /// counters, its texts, and its fds, watched again; a forked unit
    /// with no main process (`Adopting`, `Tracking`) has its
    /// cgroup.events opened again.
    pub(crate) fn resume(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        c: &Carried<'_>,
        fds: UnitFds<OwnedFd>,
        now: Ms,
    ) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        slot.sm = Unit::resume(*slot.sm.policy(), c.unit, now);
        slot.log_pid = c.log_pid;
        slot.timeline = c.timeline;
        // A quiet unit's row stays untouched.
        match self.rows.status.get_mut(i) {
            Some(row) if !c.status.is_empty() => notify::fit_status(c.status, row),
            _ => self.rows.clear_status(i),
        }
        slot.run_dirs = c.run_dirs;
        slot.kept.set_cgroup(fds.cgroup);
        let watched = [
            (fds.out.as_ref().map(|(r, _)| r), token::LOG),
            (fds.ready.as_ref(), token::READY),
            (fds.pidfd.as_ref(), token::PIDFD),
            (fds.report.as_ref(), token::REPORT),
        ];
        for (fd, kind) in watched {
            if let Some(Err(e)) = fd.map(|fd| fx.watch(fd.as_fd(), kind | i as u64)) {
                say!("{}: unable to watch its fd again: {}", c.name, Name(e));
            }
        }
        slot.kept.out = fds.out;
        if let Some(row) = self
            .rows
            .sockets
            .get_mut(i)
            .filter(|_| !fds.sockets.is_empty())
        {
            *row = (fds.sockets.into_iter())
                .map(|(fd, accepted)| Listener { fd, accepted })
                .collect();
        }
        slot.ready = fds.ready;
        slot.pidfd = fds.pidfd;
        // Our child's pidfd (for its signals) is opened again: not reaped
        // yet, its number cannot have been reused.
        slot.child_fd = match (&slot.pidfd, slot.sm.main_pid()) {
            (None, Some(pid)) => fx
                .adopt(pid)
                .ok()
                .filter(|(_, ours)| *ours)
                .map(|(fd, _)| (pid, fd)),
            _ => None,
        };
        slot.report = fds.report;
        if c.stopping {
            self.stopping.insert(i);
        }
        self.record(fx, i);
        if let Some(e) = self.watch_cgroup(fx, i) {
            self.step(fx, i, e, now);
        }
        // A child mid-spawn whose report did not come along (a crash of
        // PID 1): taken as exec'd, its exit says the rest. (Units that
        // wait for readiness wait on.)
        let pending = self.slots.get(i).is_some_and(|s| {
            s.report.is_none()
                && matches!(s.sm.state(), State::Starting { .. })
                && !s.sm.policy().waits_for_ready()
        });
        if pending {
            self.step(fx, i, Event::Execd, now);
        }
        self.sync_watch(fx, i, now);
    }

    /// Unit `i`'s sockets, found again among the fds a crashed PID 1
    /// left open (boot/adopt.rs): all of them, in `listen=` order.
    pub(crate) fn take_sockets(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        fds: heapless::Vec<OwnedFd, LISTEN_MAX>,
        now: Ms,
    ) {
        if let Some(row) = self.rows.sockets.get_mut(i) {
            *row = (fds.into_iter())
                .map(|fd| Listener { fd, accepted: 0 })
                .collect();
        }
        self.sync_watch(fx, i, now);
    }

    /// The running instances of `accept=yes` units.
    pub(crate) fn instances(&self) -> impl Iterator<Item = &Instance> + '_ {
        self.instances.all()
    }

    /// Takes back instance `inst` of unit `i` as a previous PID 1 left
    /// it; false if unit `i` has no room for it (not `accept=yes`, or its
    /// number is taken or beyond its `max-instances=`).
    pub(crate) fn resume_instance(
        &mut self,
        fx: &mut impl Effects,
        i: usize,
        inst: Instance,
        now: Ms,
    ) -> bool {
        let fits =
            (self.table.get().units.get(i)).is_some_and(|u| u.accept && inst.num < u.max_instances);
        let taken = fits
            && self.instances.take_back(Instance {
                unit: i as u16,
                ..inst
            });
        // Full again: not watched.
        self.sync_watch(fx, i, now);
        taken
    }
}
