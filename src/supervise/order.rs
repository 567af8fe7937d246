//! The dependency scheduler, pure: from the `after=`/`needs=` graph and
//! each unit's `Outcome`, which waiting units start now, which are
//! blocked, what stops along with a unit, and which units may be told to
//! stop now so that dependents stop before what they depend on. Fixed
//! capacity (bitsets of UNITS_MAX), no heap, no recursion. The rules are
//! in docs/state-machine.md ("Order").

use crate::supervise::unit::Outcome;

use crate::table::capacity::UNITS_MAX;

const WORDS: usize = UNITS_MAX.div_ceil(64);

/// A set of unit indices below UNITS_MAX.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Set([u64; WORDS]);

impl Set {
    pub(crate) const fn new() -> Set {
        Set([0; WORDS])
    }

    /// `{0, 1, ..., n - 1}`.
    pub(crate) fn first(n: usize) -> Set {
        let mut s = Set::new();
        for u in 0..n.min(UNITS_MAX) {
            s.insert(u);
        }
        s
    }

    /// Adds `u`; false if it was there already or is out of range.
    pub(crate) fn insert(&mut self, u: usize) -> bool {
        match self.0.get_mut(u / 64) {
            Some(w) if *w & (1 << (u % 64)) == 0 => {
                *w |= 1 << (u % 64);
                true
            }
            Some(_) | None => false,
        }
    }

    pub(crate) fn remove(&mut self, u: usize) {
        if let Some(w) = self.0.get_mut(u / 64) {
            *w &= !(1 << (u % 64));
        }
    }

    pub(crate) fn contains(&self, u: usize) -> bool {
        self.0.get(u / 64).is_some_and(|w| w & (1 << (u % 64)) != 0)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The members in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..UNITS_MAX).filter(|&u| self.contains(u))
    }
}

impl FromIterator<usize> for Set {
    fn from_iter<I: IntoIterator<Item = usize>>(it: I) -> Set {
        let mut s = Set::new();
        for u in it {
            s.insert(u);
        }
        s
    }
}

impl core::fmt::Debug for Set {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The kind of an edge: `after=` orders; `needs=` orders and requires.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dep {
    After,
    Needs,
}

/// The dependency graph, as the unit table holds it (the parser has
/// checked names and cycles).
pub(crate) trait Graph {
    /// Units are `0..count()`; only the first UNITS_MAX count.
    fn count(&self) -> usize;
    /// What `unit` depends on. Out-of-range indices are ignored; a unit
    /// in both lists may appear twice.
    fn deps(&self, unit: usize) -> impl Iterator<Item = (usize, Dep)>;
}

/// What to do now with the waiting units.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Plan {
    /// Send `Start` (or `ConditionUnmet` if an `if=` is unmet).
    pub(crate) start: Set,
    /// Send `DepFailed`: a `needs=` dependency failed or is blocked,
    /// directly or through other units blocked by this same plan.
    pub(crate) block: Set,
}

/// Whether a dependency with outcome `o` lets its dependent start.
const fn lets_through(kind: Dep, o: Outcome) -> bool {
    match (kind, o) {
        (Dep::After | Dep::Needs, Outcome::Ready | Outcome::Done | Outcome::Skipped) => true,
        // after= only orders: a dependency that will not come up is no
        // reason to wait.
        (Dep::After, Outcome::Failed | Outcome::Blocked | Outcome::Stopped) => true,
        // needs= on a stopped unit waits for someone to start it.
        (Dep::Needs, Outcome::Failed | Outcome::Blocked | Outcome::Stopped) => false,
        (Dep::After | Dep::Needs, Outcome::Waiting | Outcome::Pending) => false,
    }
}

/// Whether a dependency with outcome `o` blocks its dependent for good.
const fn blocks(kind: Dep, o: Outcome) -> bool {
    matches!((kind, o), (Dep::Needs, Outcome::Failed | Outcome::Blocked))
}

fn units(g: &(impl Graph + ?Sized)) -> usize {
    g.count().min(UNITS_MAX)
}

/// The edges of `u` that stay inside the table.
fn edges(g: &(impl Graph + ?Sized), u: usize) -> impl Iterator<Item = (usize, Dep)> + '_ {
    let n = units(g);
    g.deps(u).filter(move |&(d, _)| d < n)
}

/// Which waiting units start now and which are blocked. Call it again
/// after applying it and after any outcome changes, until it is empty.
pub(crate) fn plan(g: &(impl Graph + ?Sized), outcome: impl Fn(usize) -> Outcome) -> Plan {
    let n = units(g);
    let mut p = Plan::default();
    // Blocking spreads down needs= chains; each pass only adds.
    loop {
        let mut grew = false;
        for u in 0..n {
            if outcome(u) != Outcome::Waiting || p.block.contains(u) {
                continue;
            }
            let doomed = edges(g, u).any(|(d, kind)| {
                blocks(kind, outcome(d)) || (kind == Dep::Needs && p.block.contains(d))
            });
            if doomed {
                grew |= p.block.insert(u);
            }
        }
        if !grew {
            break;
        }
    }
    for u in 0..n {
        if outcome(u) != Outcome::Waiting || p.block.contains(u) {
            continue;
        }
        let clear = edges(g, u).all(|(d, kind)| {
            if p.block.contains(d) {
                lets_through(kind, Outcome::Blocked)
            } else {
                lets_through(kind, outcome(d))
            }
        });
        if clear {
            p.start.insert(u);
        }
    }
    p
}

/// The first dependency that keeps waiting unit `u` waiting (the boot's
/// late line names it).
pub(crate) fn waits_for(
    g: &(impl Graph + ?Sized),
    u: usize,
    outcome: impl Fn(usize) -> Outcome,
) -> Option<usize> {
    edges(g, u)
        .find(|&(d, kind)| !lets_through(kind, outcome(d)))
        .map(|(d, _)| d)
}

/// The units that stop with `unit`: its `needs=` dependents, directly or
/// through others (`unit` itself excluded).
pub(crate) fn needed_by(g: &(impl Graph + ?Sized), unit: usize) -> Set {
    let n = units(g);
    let mut set = Set::new();
    set.insert(unit);
    loop {
        let mut grew = false;
        for v in 0..n {
            if !set.contains(v)
                && edges(g, v).any(|(d, kind)| kind == Dep::Needs && set.contains(d))
            {
                grew |= set.insert(v);
            }
        }
        if !grew {
            break;
        }
    }
    set.remove(unit);
    set
}

/// What `unit` needs, directly or through others (`unit` excluded): the
/// units an explicit start of `unit` should start too.
pub(crate) fn needs_of(g: &(impl Graph + ?Sized), unit: usize) -> Set {
    let n = units(g);
    let mut set = Set::new();
    set.insert(unit);
    loop {
        let mut grew = false;
        for v in 0..n {
            if set.contains(v) {
                for (d, kind) in edges(g, v) {
                    if kind == Dep::Needs {
                        grew |= set.insert(d);
                    }
                }
            }
        }
        if !grew {
            break;
        }
    }
    set.remove(unit);
    set
}

/// While the units in `stopping` stop (all of them at shutdown; a unit
/// and its `needed_by` on `pinit stop`): the ones to tell to stop now.
/// A unit stops once every unit of `stopping` that depends on it (after=
/// or needs=) is down, so the order is the start order reversed and
/// independent units stop in parallel. Units already down are left out;
/// the caller skips those it has already told.
pub(crate) fn stop_now(
    g: &(impl Graph + ?Sized),
    stopping: &Set,
    down: impl Fn(usize) -> bool,
) -> Set {
    let n = units(g);
    let mut held = Set::new();
    for v in stopping.iter().take_while(|&v| v < n) {
        if !down(v) {
            for (d, _) in edges(g, v) {
                held.insert(d);
            }
        }
    }
    stopping
        .iter()
        .take_while(|&u| u < n)
        .filter(|&u| !down(u) && !held.contains(u))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::unit::{Action, Event, Policy, Status, Unit};
    use crate::sys::time::Ms;
    use crate::table::{Ready, UnitKind as Kind};
    use Dep::{After, Needs};
    use Outcome as O;
    extern crate std;
    use std::vec::Vec;

    /// A table: per unit, its (dependency, kind) edges.
    struct T(Vec<Vec<(usize, Dep)>>);

    impl Graph for T {
        fn count(&self) -> usize {
            self.0.len()
        }
        fn deps(&self, unit: usize) -> impl Iterator<Item = (usize, Dep)> {
            self.0.get(unit).into_iter().flatten().copied()
        }
    }

    /// `n` units and edges `(unit, kind, dependency)`.
    fn table(n: usize, edges: &[(usize, Dep, usize)]) -> T {
        let mut t = T((0..n).map(|_| Vec::new()).collect());
        for &(u, kind, d) in edges {
            t.0[u].push((d, kind));
        }
        t
    }

    fn set(v: &[usize]) -> Set {
        v.iter().copied().collect()
    }

    fn plan_of(t: &T, o: &[Outcome]) -> Plan {
        plan(t, |u| o[u])
    }

    // a=0, b=1, c=2, d=3 in the graphs below.
    const A: usize = 0;
    const B: usize = 1;
    const C: usize = 2;
    const D: usize = 3;

    #[test]
    fn set_basics() {
        let mut s = Set::new();
        assert!(s.is_empty());
        assert!(s.insert(0) && s.insert(255) && s.insert(64));
        assert!(!s.insert(64), "already there");
        assert!(!s.insert(256), "out of range");
        assert!(!s.contains(256));
        assert_eq!(s.iter().collect::<Vec<_>>(), [0, 64, 255]);
        assert_eq!(s.len(), 3);
        s.remove(64);
        s.remove(1000);
        assert_eq!(s, set(&[0, 255]));
        assert_eq!(Set::first(300).len(), UNITS_MAX);
        assert_eq!(std::format!("{:?}", set(&[1, 2])), "{1, 2}");
    }

    #[test]
    fn parallel_roots_start_together() {
        let t = table(3, &[]);
        let p = plan_of(&t, &[O::Waiting; 3]);
        assert_eq!(p.start, set(&[A, B, C]));
        assert!(p.block.is_empty());
    }

    #[test]
    fn a_chain_starts_one_by_one() {
        let t = table(3, &[(B, After, A), (C, Needs, B)]);
        assert_eq!(plan_of(&t, &[O::Waiting; 3]).start, set(&[A]));
        let p = plan_of(&t, &[O::Pending, O::Waiting, O::Waiting]);
        assert!(p.start.is_empty() && p.block.is_empty());
        assert_eq!(
            plan_of(&t, &[O::Ready, O::Waiting, O::Waiting]).start,
            set(&[B])
        );
        assert_eq!(
            plan_of(&t, &[O::Ready, O::Ready, O::Waiting]).start,
            set(&[C])
        );
    }

    #[test]
    fn a_diamond_starts_its_middle_in_parallel() {
        let t = table(
            4,
            &[(B, After, A), (C, Needs, A), (D, After, B), (D, Needs, C)],
        );
        let w = O::Waiting;
        assert_eq!(plan_of(&t, &[w, w, w, w]).start, set(&[A]));
        assert_eq!(plan_of(&t, &[O::Ready, w, w, w]).start, set(&[B, C]));
        let p = plan_of(&t, &[O::Ready, O::Ready, O::Pending, w]);
        assert!(p.start.is_empty(), "d waits for both");
        assert_eq!(
            plan_of(&t, &[O::Ready, O::Ready, O::Ready, w]).start,
            set(&[D])
        );
    }

    #[test]
    fn a_task_lets_dependents_through_once_done() {
        let t = table(2, &[(B, Needs, A)]);
        // A running task is Pending (unit::Unit::outcome), not Ready.
        assert!(plan_of(&t, &[O::Pending, O::Waiting]).start.is_empty());
        assert_eq!(plan_of(&t, &[O::Done, O::Waiting]).start, set(&[B]));
    }

    #[test]
    fn blocking_spreads_down_needs_chains() {
        // b needs a; c needs b; d after b; e needs d.
        let t = table(
            5,
            &[(B, Needs, A), (C, Needs, B), (D, After, B), (4, Needs, D)],
        );
        let p = plan_of(
            &t,
            &[O::Failed, O::Waiting, O::Waiting, O::Waiting, O::Waiting],
        );
        assert_eq!(p.block, set(&[B, C]));
        // after= is ordering only: d starts, e waits for d.
        assert_eq!(p.start, set(&[D]));
    }

    #[test]
    fn blocking_spreads_against_index_order() {
        // 0 needs 1 needs 2 needs 3, and 3 failed: one call blocks all.
        let t = table(4, &[(0, Needs, 1), (1, Needs, 2), (2, Needs, 3)]);
        let p = plan_of(&t, &[O::Waiting, O::Waiting, O::Waiting, O::Failed]);
        assert_eq!(p.block, set(&[0, 1, 2]));
        // A blocked dependency blocks too.
        let p = plan_of(&t, &[O::Waiting, O::Waiting, O::Waiting, O::Blocked]);
        assert_eq!(p.block, set(&[0, 1, 2]));
    }

    #[test]
    fn after_does_not_block() {
        let t = table(2, &[(B, After, A)]);
        for o in [O::Failed, O::Blocked, O::Stopped, O::Skipped, O::Done] {
            let p = plan_of(&t, &[o, O::Waiting]);
            assert_eq!(p.start, set(&[B]), "after a {o:?} unit");
            assert!(p.block.is_empty());
        }
    }

    #[test]
    fn needs_on_a_skipped_unit_is_met_on_a_stopped_one_waits() {
        let t = table(2, &[(B, Needs, A)]);
        assert_eq!(plan_of(&t, &[O::Skipped, O::Waiting]).start, set(&[B]));
        let p = plan_of(&t, &[O::Stopped, O::Waiting]);
        assert!(p.start.is_empty() && p.block.is_empty());
        let p = plan_of(&t, &[O::Pending, O::Waiting]);
        assert!(
            p.start.is_empty() && p.block.is_empty(),
            "a back-off is not a failure"
        );
    }

    #[test]
    fn only_waiting_units_are_planned() {
        let t = table(2, &[(B, Needs, A)]);
        for o in [O::Pending, O::Ready, O::Done, O::Failed, O::Stopped] {
            let p = plan_of(&t, &[O::Failed, o]);
            assert!(p.start.is_empty() && p.block.is_empty(), "{o:?}");
        }
    }

    #[test]
    fn stray_indices_are_ignored() {
        let t = table(2, &[(B, Needs, 7), (A, After, 300)]);
        assert_eq!(plan_of(&t, &[O::Waiting; 2]).start, set(&[A, B]));
        assert!(needed_by(&t, 7).is_empty());
        assert!(needs_of(&t, B).is_empty());
    }

    #[test]
    fn stopping_a_unit_stops_its_needs_dependents() {
        // b needs a; c needs b; d after a; e needs d.
        let t = table(
            5,
            &[(B, Needs, A), (C, Needs, B), (D, After, A), (4, Needs, D)],
        );
        assert_eq!(needed_by(&t, A), set(&[B, C]));
        assert_eq!(needed_by(&t, D), set(&[4]));
        assert!(needed_by(&t, C).is_empty());
        assert_eq!(needs_of(&t, C), set(&[A, B]));
        assert!(needs_of(&t, D).is_empty());
    }

    /// Runs a shutdown: each round stops what `stop_now` allows, at once.
    fn rounds(t: &T, stopping: Set, up: Set) -> Vec<Set> {
        let mut down = Set::first(t.count());
        for u in up.iter() {
            down.remove(u);
        }
        let mut out = Vec::new();
        loop {
            let now = stop_now(t, &stopping, |u| down.contains(u));
            if now.is_empty() {
                return out;
            }
            for u in now.iter() {
                down.insert(u);
            }
            out.push(now);
        }
    }

    #[test]
    fn shutdown_is_the_start_order_reversed() {
        let chain = table(3, &[(B, After, A), (C, Needs, B)]);
        let all = Set::first(3);
        assert_eq!(rounds(&chain, all, all), [set(&[C]), set(&[B]), set(&[A])]);

        let diamond = table(
            4,
            &[(B, After, A), (C, Needs, A), (D, After, B), (D, Needs, C)],
        );
        let all = Set::first(4);
        assert_eq!(
            rounds(&diamond, all, all),
            [set(&[D]), set(&[B, C]), set(&[A])]
        );

        let roots = table(3, &[]);
        let all = Set::first(3);
        assert_eq!(rounds(&roots, all, all), [all]);
    }

    #[test]
    fn down_units_do_not_hold_their_dependencies() {
        let chain = table(3, &[(B, After, A), (C, Needs, B)]);
        // c never ran (blocked, failed, ...): b stops first.
        assert_eq!(
            rounds(&chain, Set::first(3), set(&[A, B])),
            [set(&[B]), set(&[A])]
        );
    }

    #[test]
    fn a_partial_stop_ignores_dependents_outside_it() {
        // b needs a; d after a: `pinit stop a` stops b, then a; d runs on.
        let t = table(4, &[(B, Needs, A), (D, After, A)]);
        let mut stopping = needed_by(&t, A);
        stopping.insert(A);
        let up = set(&[A, B, D]);
        assert_eq!(rounds(&t, stopping, up), [set(&[B]), set(&[A])]);
    }

    /// The supervisor's loop in miniature: plan, apply, repeat.
    fn settle(t: &T, units: &mut [Unit], now: Ms, next_pid: &mut i32, log: &mut Vec<usize>) {
        loop {
            let p = plan(t, |u| units[u].outcome());
            if p.start.is_empty() && p.block.is_empty() {
                return;
            }
            for u in p.block.iter() {
                assert!(units[u].step(Event::DepFailed, now).is_empty());
            }
            for u in p.start.iter() {
                let acts = units[u].step(Event::Start, now);
                assert_eq!(&acts[..], &[Action::Spawn]);
                *next_pid += 1;
                let pid = rustix::process::Pid::from_raw(*next_pid).unwrap();
                units[u].step(Event::Spawned { pid }, now);
                log.push(u);
            }
        }
    }

    #[test]
    fn a_boot_with_units_and_the_scheduler() {
        // 0 task modules; 1 syslogd; 2 app after 0,1 (notify);
        // 3 web needs 2; 4 broken task; 5 needs 4; 6 after 4.
        let t = table(
            7,
            &[
                (2, After, 0),
                (2, After, 1),
                (3, Needs, 2),
                (5, Needs, 4),
                (6, After, 4),
            ],
        );
        let notify = Policy {
            ready: Ready::Notify,
            ..Policy::new(Kind::Service)
        };
        let s = Policy::new(Kind::Service);
        let k = Policy::new(Kind::Task);
        let mut units = [k, s, notify, s, k, s, s].map(Unit::new);
        let (mut pid, mut log) = (100, Vec::new());
        settle(&t, &mut units, Ms(0), &mut pid, &mut log);
        assert_eq!(
            log,
            [0, 1, 4],
            "roots in parallel; tasks are not ready on exec"
        );
        // modules (pid 101) exits 0, the broken task (pid 103) exits 1.
        let exit = |n, code| Event::Exited {
            pid: rustix::process::Pid::from_raw(n).unwrap(),
            status: Status::Code(code),
        };
        units[0].step(exit(101, 0), Ms(5));
        units[4].step(exit(103, 1), Ms(5));
        settle(&t, &mut units, Ms(5), &mut pid, &mut log);
        assert_eq!(log, [0, 1, 4, 2, 6]);
        assert_eq!(units[5].outcome(), Outcome::Blocked);
        // web waits for app's READY=1, not for its exec.
        assert_eq!(units[3].outcome(), Outcome::Waiting);
        units[2].step(Event::Ready, Ms(9));
        settle(&t, &mut units, Ms(9), &mut pid, &mut log);
        assert_eq!(log, [0, 1, 4, 2, 6, 3]);

        // Shutdown: web first, then app and the independent ones.
        for u in units.iter_mut() {
            u.step(Event::Shutdown, Ms(20));
        }
        let all = Set::first(7);
        let mut order = Vec::new();
        let mut t_ms = 20;
        loop {
            let now = stop_now(&t, &all, |u| units[u].is_down());
            if now.is_empty() {
                break;
            }
            for u in now.iter() {
                let pid = units[u].main_pid().unwrap();
                let acts = units[u].step(Event::StopRequest, Ms(t_ms));
                assert_eq!(&acts[..], &[Action::SignalCgroup { sig: 15 }]);
                let acts = units[u].step(exit(pid.as_raw_nonzero().get(), 0), Ms(t_ms + 1));
                assert_eq!(&acts[..], &[Action::KillCgroup]);
            }
            order.push(now);
            t_ms += 10;
        }
        // app holds syslogd, web holds app; tasks and the blocked unit
        // are down already.
        assert_eq!(order, [set(&[3, 6]), set(&[2]), set(&[1])]);
        assert!(units.iter().all(|u| u.is_down()));
    }
}
