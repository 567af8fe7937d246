//! The reaping pace: while orphans (processes of no unit, re-parented to
//! PID 1) keep exiting, PID 1 reaps them in batches, one wake-up per
//! `PACE_MS`, instead of one wake-up per orphan. Each wake-up costs PID 1
//! a context switch, the signalfd read and a last `wait4` that finds
//! nothing: CPU time taken from whatever is making the orphans. A pure
//! state machine; the event loop holds and re-arms the signalfd.
//!
//! A wake-up that reaps a unit's process never starts a hold, so a unit's
//! exit is seen at once unless an orphan flood is on; then it waits at
//! most `PACE_MS` (the SIGCHLD stays pending meanwhile, nothing is lost).

use crate::sys::time::Ms;

/// How long SIGCHLD is left pending while orphans flow: a zombie lives at
/// most this much longer (with the loop's 1 ms clock, 1 to 2 ms).
pub(crate) const PACE_MS: u64 = 2;

/// What one reaping pass found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reaped {
    /// Processes a unit (or the rescue shell) was waiting for.
    pub(crate) known: u32,
    /// Any other child: orphans.
    pub(crate) orphans: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Pace {
    /// When the last pass that reaped only orphans ran.
    last: Option<Ms>,
    /// SIGCHLD is held (the signalfd not watched) until then.
    until: Option<Ms>,
    /// The pass to come is the one at the end of a hold.
    resumed: bool,
}

impl Pace {
    /// After a reaping pass at `now`: true when SIGCHLD is to be held
    /// until `deadline()`. Orphans alone, a second time within `PACE_MS`
    /// or at the end of a hold, mean a flood.
    pub(crate) fn reaped(&mut self, now: Ms, r: Reaped) -> bool {
        let resumed = core::mem::take(&mut self.resumed);
        if r.known > 0 || r.orphans == 0 {
            return false;
        }
        let flowing = resumed
            || self
                .last
                .is_some_and(|t| now.0.saturating_sub(t.0) <= PACE_MS);
        self.last = Some(now);
        if flowing {
            self.until = Some(now.after(PACE_MS));
        }
        flowing
    }

    /// The end of the hold, for the loop's timer.
    pub(crate) fn deadline(&self) -> Option<Ms> {
        self.until
    }

    /// True once, when the hold is over at `now`: SIGCHLD is to be
    /// watched again, and what is pending reaped at once.
    pub(crate) fn take_due(&mut self, now: Ms) -> bool {
        if self.until.is_some_and(|t| t <= now) {
            self.until = None;
            self.resumed = true;
            return true;
        }
        false
    }

    /// Holds until `ms` from `now` whatever the pass found (the signalfd
    /// could not be watched again: tried then).
    pub(crate) fn hold_for(&mut self, now: Ms, ms: u64) {
        self.until = Some(now.after(ms));
    }

    /// The signalfd could not be held: nothing is.
    pub(crate) fn cancel(&mut self) {
        self.until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORPHAN: Reaped = Reaped {
        known: 0,
        orphans: 1,
    };

    #[test]
    fn a_lone_orphan_is_not_a_flood() {
        let mut p = Pace::default();
        assert!(!p.reaped(Ms(100), ORPHAN));
        assert_eq!(p.deadline(), None);
        // The next one comes much later: still none.
        assert!(!p.reaped(Ms(100 + PACE_MS + 1), ORPHAN));
        assert_eq!(p.deadline(), None);
    }

    #[test]
    fn orphans_in_a_row_hold_sigchld_until_the_pace_is_over() {
        let mut p = Pace::default();
        assert!(!p.reaped(Ms(100), ORPHAN));
        assert!(p.reaped(Ms(101), ORPHAN));
        assert_eq!(p.deadline(), Some(Ms(101 + PACE_MS)));
        assert!(!p.take_due(Ms(101 + PACE_MS - 1)));
        // The timer fired late: the batch had orphans, held again.
        let late = Ms(101 + 3 * PACE_MS);
        assert!(p.take_due(late));
        assert!(!p.take_due(late), "once");
        let batch = Reaped {
            known: 0,
            orphans: 20,
        };
        assert!(p.reaped(late, batch));
        assert_eq!(p.deadline(), Some(late.after(PACE_MS)));
        // The flood is over: the batch at the end of the hold is empty,
        // and nothing is held.
        let end = late.after(PACE_MS);
        assert!(p.take_due(end));
        assert!(!p.reaped(end, Reaped::default()));
        assert_eq!(p.deadline(), None);
        // Nor after the next lone orphan, much later.
        assert!(!p.reaped(end.after(10 * PACE_MS), ORPHAN));
    }

    #[test]
    fn a_hold_that_could_not_start_is_cancelled() {
        let mut p = Pace::default();
        assert!(!p.reaped(Ms(100), ORPHAN));
        assert!(p.reaped(Ms(100), ORPHAN));
        p.cancel();
        assert_eq!(p.deadline(), None);
        assert!(!p.take_due(Ms(200)));
    }

    #[test]
    fn a_units_exit_never_starts_a_hold() {
        let mut p = Pace::default();
        assert!(!p.reaped(Ms(100), ORPHAN));
        let both = Reaped {
            known: 1,
            orphans: 3,
        };
        assert!(!p.reaped(Ms(100), both));
        assert_eq!(p.deadline(), None);
        assert!(!p.reaped(
            Ms(100),
            Reaped {
                known: 1,
                orphans: 0
            }
        ));
    }

    #[test]
    fn a_pass_that_reaped_nothing_changes_nothing() {
        let mut p = Pace::default();
        assert!(!p.reaped(Ms(100), ORPHAN));
        assert!(!p.reaped(Ms(101), Reaped::default()));
        // The orphan of 100 still counts: this one is in a row with it.
        assert!(p.reaped(Ms(102), ORPHAN));
    }
}
