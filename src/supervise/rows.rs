//! Per-unit state kept apart from the slots, for what few units use: an
//! output line left open across reads (capture.rs), the last `STATUS=`
//! text (notify.rs) and the `listen=` sockets (listen.rs). In .bss, one
//! array per kind, so a unit's row is paged in only when the unit uses
//! it; in its slot, every unit would page in room for all three (32
//! quiet units: two pages more).

use crate::supervise::capture::LOG_LINE_MAX;
use crate::supervise::diff;
use crate::supervise::listen::{Listener, Sockets};
use crate::sys::{bit, Singleton};
use crate::table::capacity::UNITS_MAX;

/// Longest `STATUS=` text kept per unit.
pub(crate) const STATUS_MAX: usize = 80;

/// One unit's `STATUS=` text.
pub(crate) type Status = heapless::Vec<u8, STATUS_MAX>;

pub(crate) struct Rows {
    /// Each unit's open output line; its length is in the unit's slot.
    pub(crate) lines: [[u8; LOG_LINE_MAX]; UNITS_MAX],
    /// Each unit's last `STATUS=` text.
    pub(crate) status: [Status; UNITS_MAX],
    /// Each unit's bound sockets: bound at boot, closed only with the
    /// unit (table reload), never by a stop.
    pub(crate) sockets: [Sockets; UNITS_MAX],
}

/// PID 1's rows: only the ones written are ever touched.
pub(crate) static ROWS: Singleton<Rows, { bit::ROWS }> = Singleton::new(Rows::new());

impl Rows {
    pub(crate) const fn new() -> Rows {
        Rows {
            lines: [[0; LOG_LINE_MAX]; UNITS_MAX],
            status: [const { Status::new() }; UNITS_MAX],
            sockets: [const { Sockets::new() }; UNITS_MAX],
        }
    }

    /// A reload moved the slots (`diff::permute` with `src`, the first
    /// `n` of them): the rows follow their units. (A removed unit's
    /// sockets are closed before, so a new unit finds its row empty.)
    pub(crate) fn permute(&mut self, n: usize, src: &[u16]) {
        if let Some(rows) = self.lines.get_mut(..n) {
            diff::permute(rows, src);
        }
        if let Some(rows) = self.status.get_mut(..n) {
            diff::permute(rows, src);
        }
        if let Some(rows) = self.sockets.get_mut(..n) {
            diff::permute(rows, src);
        }
    }

    /// Unit `i`'s `STATUS=` text (empty if none).
    pub(crate) fn status_of(&self, i: usize) -> &[u8] {
        self.status.get(i).map_or(&[], |s| &s[..])
    }

    /// Unit `i`'s bound sockets (none for most units).
    pub(crate) fn sockets_of(&self, i: usize) -> &[Listener] {
        self.sockets.get(i).map_or(&[], |s| &s[..])
    }

    /// Unit `i` starts afresh (a new unit, a new run): no `STATUS=` text.
    /// Written only if there is one, so a quiet unit's row stays untouched.
    pub(crate) fn clear_status(&mut self, i: usize) {
        if let Some(s) = self.status.get_mut(i).filter(|s| !s.is_empty()) {
            s.clear();
        }
    }
}
