//! Console lines of one kind, rate-limited: a slow serial console must
//! never hold PID 1 up, whatever a unit or a local user makes it say
//! (docs/design.md §9). At most LINES_MAX lines of a kind go out in a
//! window of WINDOW_MS; the rest are counted, and the count is said once
//! the window is over (at the latest on the timer the supervisor arms at
//! `deadline()`).

use crate::say;
use crate::sys::time::Ms;

/// Lines of one kind said in a window.
pub(crate) const LINES_MAX: u32 = 5;
/// The window, in milliseconds.
pub(crate) const WINDOW_MS: u64 = 10_000;

/// One kind of line: its window and what it holds back.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Limit {
    start: Ms,
    said: u32,
    dropped: u32,
}

impl Limit {
    /// Whether a line of this kind may go out at `now`. A new window
    /// first says how many lines the last one held back (`what`: the
    /// kind, as the start of that line).
    pub(crate) fn pass(&mut self, now: Ms, what: &str) -> bool {
        if self.said == 0 || now.since(self.start) >= WINDOW_MS {
            self.flush(what);
            self.start = now;
            self.said = 0;
        }
        if self.said < LINES_MAX {
            self.said += 1;
            true
        } else {
            self.dropped = self.dropped.saturating_add(1);
            false
        }
    }

    /// When the count of held-back lines is due, if there is one.
    pub(crate) fn deadline(&self) -> Option<Ms> {
        (self.dropped > 0).then(|| self.start.after(WINDOW_MS))
    }

    /// Says the count once it is due.
    pub(crate) fn expire(&mut self, now: Ms, what: &str) {
        if self.deadline().is_some_and(|d| d <= now) {
            self.flush(what);
        }
    }

    fn flush(&mut self, what: &str) {
        if self.dropped > 0 {
            say!(
                "{}: {} more lines like the last suppressed (at most {} in {} s)",
                what,
                self.dropped,
                LINES_MAX,
                WINDOW_MS / 1000
            );
            self.dropped = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_cut_and_counted() {
        let mut l = Limit::default();
        let passed = (0..100).filter(|&t| l.pass(Ms(1_000 + t), "x")).count();
        assert_eq!(passed, LINES_MAX as usize);
        assert_eq!(l.dropped, 100 - LINES_MAX);
        assert_eq!(l.deadline(), Some(Ms(1_000 + WINDOW_MS)));
        l.expire(Ms(1_000 + WINDOW_MS - 1), "x");
        assert_eq!(l.dropped, 100 - LINES_MAX);
        l.expire(Ms(1_000 + WINDOW_MS), "x");
        assert_eq!((l.dropped, l.deadline()), (0, None));
        // The next window passes lines again.
        assert!(l.pass(Ms(1_000 + WINDOW_MS), "x"));
    }
}
