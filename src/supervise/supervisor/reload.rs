//! A reload applied to the running units (docs/design.md §13). The new
//! table is in the spare buffer; `diff::units` says what changed. Cgroup
//! limits change at once, in place. The removed units and the changed
//! ones that run stop first, dependents first, under the old table; then
//! the new table takes over: each kept unit's slot (state, pids, fds,
//! cgroup, counters) moves to its new index, the new units get fresh
//! slots, and the scheduler starts the new and the changed units in
//! dependency order.

use super::*;
use crate::place::cgroup::Base;
use crate::supervise::diff::{self, Change, Diff, LIMIT_BITS};
use crate::supervise::listen::Sockets;
use crate::supervise::tables::Loaded;
use crate::table::Log;
use core::pin::Pin;

/// Where a reload's plan is kept while it is under way: apart from the
/// supervisor, which PID 1 holds in its outermost stack frame, so that
/// the plan's 2 KiB are not under every call of the loop (docs/design.md
/// §1) and are paged in only by a reload.
pub(crate) static PLAN: crate::sys::Singleton<Option<Reload>, { crate::sys::bit::PLAN }> =
    crate::sys::Singleton::new(None);

/// A reload between its start and the moment the new table takes over.
pub(crate) struct Reload {
    diff: Diff,
    /// Old units that stop first: the removed ones, and the changed ones
    /// that run or are about to.
    stop: Set,
    /// Old units started again under their new definition.
    again: Set,
}

/// One line of what a reload does, said as it starts (the console, the
/// client's answer).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Planned<'a> {
    /// Gone from the table: stopped, its cgroup removed.
    Stop(&'a str),
    /// New, or failed, blocked or skipped and changed: started (once its
    /// dependencies and `if=` allow).
    Start(&'a str),
    /// Changed while it runs: stopped, then started as it now reads.
    Restart(&'a str),
    /// Changed while done or stopped: it reads so at its next start.
    Update(&'a str),
    /// Only these options changed (a mask over `diff::in_place_keys`):
    /// taken in place, the unit keeps running.
    InPlace(&'a str, u32),
}

impl<'t> Supervisor<'t> {
    /// The spare buffer, to parse a new table into; `None` while a reload
    /// is under way.
    pub(crate) fn spare(&mut self) -> Option<Pin<&mut Loaded>> {
        if self.reload.is_some() {
            return None;
        }
        self.spare.as_mut().map(|s| s.as_mut())
    }

    /// The new table may need cgroup controllers that are not on for the
    /// units: `widen` (cgroup::widen, at the system's edge) enables them
    /// before any limit of the new table is written.
    pub(crate) fn widen_controllers(
        &mut self,
        want: [bool; 5],
        widen: impl FnOnce(&Base, [bool; 5], [bool; 5]) -> [bool; 5],
    ) {
        if let Some(base) = &self.ctx.base {
            self.ctx.controllers = widen(base, self.ctx.controllers, want);
        }
    }

    /// What the spare buffer holds.
    pub(crate) fn spare_table(&self) -> Option<&Table<'_>> {
        self.spare.as_ref().map(|s| s.get())
    }

    /// Puts the table in the spare buffer in force; `plan` hears what
    /// that does, unit by unit, before any of it happens.
    pub(crate) fn reload_table(
        &mut self,
        fx: &mut impl Effects,
        now: Ms,
        plan: &mut dyn FnMut(Planned<'_>),
    ) -> Result<(), Refused> {
        if self.shutting_down {
            return Err(Refused::ShuttingDown);
        }
        let (Some(spare), None) = (self.spare.as_ref(), self.reload.as_ref()) else {
            return Err(Refused::Reloading);
        };
        let (old, new) = (self.table.get(), spare.get());
        let diff = diff::units(old, new);
        let mut stop = diff.removed;
        let mut again = Set::new();
        for i in diff.removed.iter() {
            plan(Planned::Stop(name_of(old, i)));
        }
        for (c, u) in diff.units.iter().zip(new.units.iter()) {
            match *c {
                Change::New => plan(Planned::Start(u.name)),
                Change::Kept { in_place: 0, .. } => {}
                Change::Kept { in_place, .. } => {
                    if let (Some(base), true) = (&self.ctx.base, in_place & LIMIT_BITS != 0) {
                        fx.rewrite_limits(base, u, in_place & LIMIT_BITS, self.ctx.controllers);
                    }
                    plan(Planned::InPlace(u.name, in_place));
                }
                Change::Changed { old } => {
                    let old = usize::from(old);
                    match self.slots.get(old).map(|s| s.sm.state()) {
                        Some(State::Done | State::Stopped) | None => plan(Planned::Update(u.name)),
                        Some(State::Failed { .. } | State::Blocked | State::Skipped) => {
                            again.insert(old);
                            plan(Planned::Start(u.name));
                        }
                        Some(
                            State::Waiting
                            | State::Listening
                            | State::Spawning
                            | State::Starting { .. }
                            | State::Adopting { .. }
                            | State::Running { .. }
                            | State::Tracking
                            | State::Stopping { .. }
                            | State::BackingOff { .. },
                        ) => {
                            stop.insert(old);
                            again.insert(old);
                            plan(Planned::Restart(u.name));
                        }
                    }
                }
            }
        }
        // What has no process stops at once: a back-off must not spawn
        // it again under the old table.
        for i in stop.iter() {
            if self.slots.get(i).is_some_and(|s| s.sm.is_down()) {
                self.step(fx, i, Event::StopRequest, now);
            }
        }
        *self.reload = Some(Reload { diff, stop, again });
        self.continue_reload(fx, now);
        Ok(())
    }

    /// Whether a reload is under way.
    pub(crate) fn reloading_table(&self) -> bool {
        self.reload.is_some()
    }

    /// Whether unit `i` is being stopped or replaced by a reload.
    pub(super) fn reloading(&self, i: usize) -> bool {
        self.reload.as_ref().is_some_and(|r| r.stop.contains(i))
    }

    /// A reload's stop set stops, dependents first; once it is all down
    /// the new table takes over. On every wake-up while a reload is on.
    pub(super) fn continue_reload(&mut self, fx: &mut impl Effects, now: Ms) {
        let Some(stop) = self.reload.as_ref().map(|r| r.stop) else {
            return;
        };
        self.release(fx, &stop, now);
        if stop.iter().all(|u| self.is_down(u)) {
            self.take_over(fx, now);
        }
    }

    /// The new table takes over (see the module's comment).
    fn take_over(&mut self, fx: &mut impl Effects, now: Ms) {
        let (Some(r), Some(mut spare)) = (self.reload.take(), self.spare.take()) else {
            return;
        };
        let old_len = self.slots.len();
        self.let_go(fx, &r.diff, spare.get());
        let new = spare.get();
        let src = r.diff.sources(old_len);
        let need = src.iter().map(|&s| usize::from(s) + 1).max().unwrap_or(0);
        while self.slots.len() < need {
            if self
                .slots
                .push(Slot::new(Policy::new(UnitKind::Service)))
                .is_err()
            {
                break;
            }
        }
        diff::permute(&mut self.slots[..], &src);
        // A unit's unfinished output line (its length is in its slot,
        // its bytes in its row), STATUS= text and sockets move with it.
        self.rows.permute(self.slots.len(), &src);
        self.slots.truncate(new.units.len());
        let mut stopping = Set::new();
        for (j, (c, u)) in r.diff.units.iter().zip(new.units.iter()).enumerate() {
            let Some(slot) = self.slots.get_mut(j) else {
                continue;
            };
            match c.old() {
                None => {
                    *slot = Slot::new(policy_of(u));
                    self.rows.clear_status(j);
                }
                Some(old) => {
                    slot.sm.set_policy(policy_of(u));
                    if old != j {
                        rewatch(fx, slot, self.rows.sockets_of(j), j);
                    }
                    if self.stopping.contains(old) {
                        stopping.insert(j);
                    }
                }
            }
        }
        self.stopping = stopping;
        let units = &r.diff.units;
        self.instances
            .renumber(|o| units.iter().position(|c| c.old() == Some(o)));
        core::mem::swap(&mut self.table, &mut spare);
        spare.as_mut().clear();
        self.spare = Some(spare);
        self.start_again(fx, &r, now);
        // The sockets of the new units and of those whose listen=
        // changed; a kept unit keeps its own (bind_all skips them).
        self.bind_all(fx, now);
        say!(
            "reload: the new table is in force ({} units)",
            self.slots.len()
        );
    }

    /// Before the slots move: the removed units' fds and cgroups go, and
    /// a changed unit lets go of what its new definition no longer uses
    /// (its cgroup when `isolate=` moved it, its output pipe when its log
    /// no longer goes through one, its last run's readiness pipe).
    fn let_go(&mut self, fx: &mut impl Effects, d: &Diff, new: &Table<'_>) {
        let old = self.table.get();
        for i in d.removed.iter() {
            if let (Some(slot), Some(bound), Some(u)) = (
                self.slots.get_mut(i),
                self.rows.sockets.get_mut(i),
                old.units.get(i),
            ) {
                unbind(fx, slot, bound, u);
            }
            if let Some(slot) = self.slots.get_mut(i) {
                for fd in [
                    slot.kept.out.take().map(|(rd, _)| rd),
                    slot.ready.take(),
                    slot.report.take(),
                    slot.pidfd.take(),
                ]
                .into_iter()
                .flatten()
                {
                    fx.unwatch(fd.as_fd());
                }
                slot.kept.set_cgroup(None);
                slot.child_fd = None;
            }
            if let Some(u) = old.units.get(i) {
                remove_cgroup(fx, &self.ctx, u);
            }
        }
        for (c, n) in d.units.iter().zip(new.units.iter()) {
            let Change::Changed { old: o } = *c else {
                continue;
            };
            let o = usize::from(o);
            let (Some(slot), Some(u)) = (self.slots.get_mut(o), old.units.get(o)) else {
                continue;
            };
            if u.isolate != n.isolate {
                slot.kept.set_cgroup(None);
                remove_cgroup(fx, &self.ctx, u);
            }
            if !diff::same_sockets(u, n) {
                if let Some(bound) = self.rows.sockets.get_mut(o) {
                    unbind(fx, slot, bound, u);
                }
            }
            let out = slot.kept.out.take_if(|_| n.log != Log::Kmsg);
            for fd in [out.map(|(rd, _)| rd), slot.ready.take(), slot.pidfd.take()]
                .into_iter()
                .flatten()
            {
                fx.unwatch(fd.as_fd());
            }
        }
    }

    /// After the take-over: the changed units that ran (or had failed,
    /// were blocked or skipped) go back to waiting, and so do the blocked
    /// units whose `needs=` now lead to a unit that starts anew or
    /// changed in place; the scheduler does the rest.
    fn start_again(&mut self, fx: &mut impl Effects, r: &Reload, now: Ms) {
        let deps = diff::bit("after") | diff::bit("needs");
        let mut fresh = Set::new();
        for (j, c) in r.diff.units.iter().enumerate() {
            let again = match *c {
                Change::New => true,
                Change::Changed { old } => r.again.contains(usize::from(old)),
                Change::Kept { in_place, .. } => {
                    let state = self.slots.get(j).map(|s| s.sm.state());
                    (in_place & deps != 0 && state == Some(State::Blocked))
                        || (in_place & diff::bit("if") != 0 && state == Some(State::Skipped))
                }
            };
            if again {
                fresh.insert(j);
            }
        }
        let blocked: Set = (0..self.slots.len())
            .filter(|&j| {
                self.slots.get(j).map(|s| s.sm.state()) == Some(State::Blocked)
                    && order::needs_of(&Deps(self.table.get()), j)
                        .iter()
                        .any(|d| fresh.contains(d))
            })
            .collect();
        for j in fresh.iter().chain(blocked.iter()) {
            self.step(fx, j, Event::StartRequest, now);
        }
    }
}

/// A unit's cgroup goes (a reload removed the unit or moved it).
fn remove_cgroup(fx: &mut impl Effects, ctx: &Context<'_>, u: &table::Unit<'_>) {
    if let Some(base) = &ctx.base {
        if let Err(e) = fx.remove_cgroup(base, u.name, u.isolate, u.instance_slots()) {
            say!(
                "{}: unable to remove its cgroup {}: {}",
                u.name,
                base.path(u.name, u.isolate, None)
                    .as_ref()
                    .map_or("?", |p| p.as_str()),
                Name(e)
            );
        }
    }
}

/// A slot (and its row's sockets) moved to index `i`: its fds come back
/// from epoll with `i`.
fn rewatch(fx: &mut impl Effects, slot: &Slot, sockets: &[Listener], i: usize) {
    let fds = [
        (
            slot.kept.out.as_ref().map(|(rd, _)| rd),
            token::LOG | i as u64,
        ),
        (slot.ready.as_ref(), token::READY | i as u64),
        (slot.pidfd.as_ref(), token::PIDFD | i as u64),
        (slot.report.as_ref(), token::REPORT | i as u64),
    ];
    let sockets = (sockets.iter().enumerate())
        .filter(|_| slot.watching)
        .map(|(k, l)| (Some(&l.fd), token::SOCKET | (i << 4 | k) as u64));
    for (fd, tok) in fds.into_iter().chain(sockets) {
        if let Some(fd) = fd {
            fx.unwatch(fd.as_fd());
            if let Err(e) = fx.watch(fd.as_fd(), tok) {
                say!("reload: unable to watch a unit's fd again: {}", Name(e));
            }
        }
    }
}

/// Unit `u`'s sockets close for good: a reload removed it or changed
/// its `listen=`.
fn unbind(fx: &mut impl Effects, slot: &mut Slot, bound: &mut Sockets, u: &table::Unit<'_>) {
    let sockets = core::mem::take(bound);
    for (l, s) in u.listens().zip(sockets) {
        if slot.watching {
            fx.unwatch(s.fd());
        }
        fx.unbind(u, &l, s.fd);
    }
    slot.watching = false;
}
