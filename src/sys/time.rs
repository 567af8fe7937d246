//! Time as milliseconds on the monotonic clock. The event loop reads the
//! clock once per wake-up and passes `now` to the state machines, so their
//! timing rules are testable with explicit times.

use linux_raw_sys::general as k;

/// Milliseconds on CLOCK_MONOTONIC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub(crate) struct Ms(pub(crate) u64);

impl Ms {
    pub(crate) const fn after(self, ms: u64) -> Ms {
        Ms(self.0.saturating_add(ms))
    }

    pub(crate) const fn since(self, earlier: Ms) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Now, on the monotonic clock.
pub(crate) fn now() -> Ms {
    let (s, ns) = super::clock(k::CLOCK_MONOTONIC);
    Ms(s.saturating_mul(1000).saturating_add(ns / 1_000_000))
}

/// Time since the kernel started (CLOCK_BOOTTIME), in microseconds.
pub(crate) fn since_boot_us() -> u64 {
    let (s, ns) = super::clock(k::CLOCK_BOOTTIME);
    s.saturating_mul(1_000_000).saturating_add(ns / 1000)
}

/// Displays microseconds as `1.234567s`.
pub(crate) struct Secs(pub(crate) u64);

impl crate::put::Put for Secs {
    fn put(&self, s: &mut dyn crate::put::Sink) {
        crate::put::unsigned(s, self.0 / 1_000_000);
        s.str(".");
        let us = self.0 % 1_000_000;
        // Six digits, zero-padded: 1000001 us is `1.000001s`.
        let mut pad = 100_000;
        while pad > 1 && us < pad {
            s.str("0");
            pad /= 10;
        }
        crate::put::unsigned(s, us);
        s.str("s");
    }
}

crate::display_by_put!(Secs);

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Ms(5).since(Ms(10)), 0);
        assert_eq!(Ms(u64::MAX).after(1), Ms(u64::MAX));
    }

    #[test]
    fn the_clocks_are_the_kernels() {
        // rustix's reading (through the vDSO) and /proc/uptime (the boot
        // clock in seconds) beside ours.
        let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        let theirs = t.tv_sec as u64 * 1000 + t.tv_nsec as u64 / 1_000_000;
        let (a, b) = (now(), now());
        assert!(
            a.0 >= theirs && a.0 - theirs < 1000,
            "{} against {}",
            a.0,
            theirs
        );
        assert!(b >= a);
        let uptime = std::fs::read_to_string("/proc/uptime").unwrap();
        let up: f64 = uptime.split_whitespace().next().unwrap().parse().unwrap();
        let ours = since_boot_us() as f64 / 1e6;
        assert!((ours - up).abs() < 1.0, "{} against {}", ours, up);
    }

    #[test]
    fn secs_display() {
        assert_eq!(Secs(2_500_001).to_string(), "2.500001s");
    }
}
