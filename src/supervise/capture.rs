//! Output capture: each unit's stdout/stderr pipe, cut into lines, each
//! line one record `NAME[PID]: line` in the kernel log (`log=kmsg`) or one
//! datagram to the syslog daemon (`log=syslog`, sys/log.rs). Reads are
//! bounded per wake-up, so a unit that floods output cannot stall PID 1
//! or the others.
//!
//! A line is kept whole up to LOG_LINE_MAX bytes, what one kmsg record
//! holds with the prefix; a longer one is split into pieces of that size,
//! each cut marked with `...` at the end of one piece and the start of
//! the next (at a UTF-8 character boundary). Complete lines go out
//! straight from the read buffer; only a line still open when a read ends
//! is kept, in the unit's row (rows.rs), so a unit that writes whole
//! lines never touches its row.

use crate::say;
use crate::sys::errno::Name;
use crate::sys::log::{self, KMSG_PRI, KMSG_RECORD_MAX, SYSLOG_PATH, SYSLOG_PRI};
use crate::table::capacity::NAME_MAX;
use crate::table::Log;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// The mark of a cut: at the end of a piece and the start of the next.
const MARK: &[u8] = b"...";
/// A record's bytes besides the line: `<31>`, NAME, `[`, the PID (7
/// digits: PID_MAX_LIMIT is 4194304), `]: `, the newline.
const RECORD_OVERHEAD: usize = KMSG_PRI.len() + NAME_MAX + 1 + 7 + 3 + 1;
/// Longest line kept whole (939 bytes): the rest of a kmsg record, with
/// room for both marks.
pub(crate) const LOG_LINE_MAX: usize = KMSG_RECORD_MAX - RECORD_OVERHEAD - 2 * MARK.len();
/// Most bytes read from one unit's pipe per wake-up.
pub(crate) const READ_MAX_PER_WAKE: usize = 4096;

/// Where a piece sits in its line.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Piece {
    /// It continues a cut piece (starts with the mark).
    pub(crate) cont: bool,
    /// The line goes on in the next piece (ends with the mark).
    pub(crate) cut: bool,
}

/// A unit's open line between reads: its length in the unit's row.
#[derive(Default)]
pub(crate) struct Capture {
    len: u16,
    cont: bool,
}

impl Capture {
    pub(crate) const fn new() -> Capture {
        Capture {
            len: 0,
            cont: false,
        }
    }

    /// Adds bytes; `emit` gets every complete line (without `\n`) or
    /// piece of one. `row` holds the open line.
    pub(crate) fn feed(
        &mut self,
        row: &mut [u8; LOG_LINE_MAX],
        mut bytes: &[u8],
        mut emit: impl FnMut(&[u8], Piece),
    ) {
        while !bytes.is_empty() {
            let len = usize::from(self.len);
            let nl = bytes.iter().position(|&b| b == b'\n');
            let take = nl.unwrap_or(bytes.len());
            // A whole line with nothing open: straight from `bytes`.
            if len == 0 && nl.is_some() && take <= LOG_LINE_MAX {
                let cont = core::mem::take(&mut self.cont);
                emit(bytes.get(..take).unwrap_or(&[]), Piece { cont, cut: false });
                bytes = bytes.get(take + 1..).unwrap_or(&[]);
                continue;
            }
            let n = take.min(LOG_LINE_MAX - len);
            if let (Some(dst), Some(src)) = (row.get_mut(len..len + n), bytes.get(..n)) {
                dst.copy_from_slice(src);
            }
            bytes = bytes.get(n..).unwrap_or(&[]);
            let len = len + n;
            if nl == Some(n) {
                bytes = bytes.get(1..).unwrap_or(&[]);
                let cont = core::mem::take(&mut self.cont);
                emit(row.get(..len).unwrap_or(&[]), Piece { cont, cut: false });
                self.len = 0;
            } else if len == LOG_LINE_MAX {
                // Full: a piece, cut before a character split in two.
                let keep = open_char(row.get(..len).unwrap_or(&[]));
                let piece = Piece {
                    cont: self.cont,
                    cut: true,
                };
                emit(row.get(..len - keep).unwrap_or(&[]), piece);
                row.copy_within(len - keep..len, 0);
                self.len = keep as u16;
                self.cont = true;
            } else {
                self.len = len as u16;
            }
        }
    }

    /// Hands over what is left when the pipe closes.
    pub(crate) fn flush(&mut self, row: &[u8; LOG_LINE_MAX], mut emit: impl FnMut(&[u8], Piece)) {
        let len = usize::from(core::mem::take(&mut self.len));
        let cont = core::mem::take(&mut self.cont);
        if len > 0 {
            emit(row.get(..len).unwrap_or(&[]), Piece { cont, cut: false });
        }
    }
}

/// How many bytes at the end of `b` begin a UTF-8 character that is not
/// complete (0 to 3); 0 for anything else.
fn open_char(b: &[u8]) -> usize {
    for back in 1..=3.min(b.len()) {
        let c = b.get(b.len() - back).copied().unwrap_or(0);
        if c & 0xC0 == 0x80 {
            continue;
        }
        let need = match c {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if need > back { back } else { 0 };
    }
    0
}

/// Reads what the pipe has (up to READ_MAX_PER_WAKE) into `cap`. Returns
/// false once the pipe is closed (every writer gone).
pub(crate) fn pump(
    pipe: BorrowedFd<'_>,
    cap: &mut Capture,
    row: &mut [u8; LOG_LINE_MAX],
    mut emit: impl FnMut(&[u8], Piece),
) -> bool {
    let mut buf = [0u8; 1024];
    let mut total = 0;
    while total < READ_MAX_PER_WAKE {
        match rustix::io::read(pipe, &mut buf) {
            Ok(0) => {
                cap.flush(row, &mut emit);
                return false;
            }
            Ok(n) => {
                total += n;
                cap.feed(row, buf.get(..n).unwrap_or(&[]), &mut emit);
            }
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => return true,
            Err(_) => {
                cap.flush(row, &mut emit);
                return false;
            }
        }
    }
    true
}

/// One record: 4 bytes for the priority, then `NAME[PID]: `, the marks,
/// the line and a newline.
pub(crate) struct Record {
    buf: heapless::Vec<u8, KMSG_RECORD_MAX>,
}

impl Record {
    pub(crate) fn new(unit: &str, pid: i32, line: &[u8], piece: Piece) -> Record {
        let mut head: heapless::String<64> = heapless::String::new();
        let _ = crate::put!(head, "<??>{}[{}]: ", unit, pid);
        let mut buf = heapless::Vec::new();
        for part in [
            head.as_bytes(),
            if piece.cont { MARK } else { b"" },
            line,
            if piece.cut { MARK } else { b"" },
            b"\n",
        ] {
            // Sized for the longest name, pid and line: cannot fail.
            let _ = buf.extend_from_slice(part);
        }
        Record { buf }
    }

    /// `<31>NAME[PID]: line\n` to /dev/kmsg.
    pub(crate) fn to_kmsg(&self) -> Result<(), Errno> {
        log::to_kmsg(&[KMSG_PRI, self.body()])
    }

    /// `<30>NAME[PID]: line` to /dev/log.
    pub(crate) fn to_syslog(&self) -> Result<(), Errno> {
        let body = self.body();
        log::to_syslog(&[SYSLOG_PRI, body.strip_suffix(b"\n").unwrap_or(body)])
    }

    /// `NAME[PID]: line\n` to the console (fd 2).
    pub(crate) fn to_console(&self) {
        crate::sys::console::write_all(crate::sys::stdio(2), self.body());
    }

    fn body(&self) -> &[u8] {
        self.buf.get(KMSG_PRI.len()..).unwrap_or(&[])
    }
}

/// Makes the syslog socket if a unit of `table` logs there, and sends
/// pinit's own lines there too if the table says `log syslog`.
pub(crate) fn open_syslog(table: &crate::table::Table<'_>) {
    let own = table.log() == Some(Log::Syslog);
    if !own && !table.units.iter().any(|u| u.log == Log::Syslog) {
        return;
    }
    match log::open_syslog() {
        Ok(()) if own => log::own_lines_to_syslog(),
        Ok(()) => {}
        Err(e) => say!(
            "log: unable to make a socket for {}: {}; log=syslog output goes to the kernel log",
            SYSLOG_PATH,
            Name(e)
        ),
    }
}

/// Whether /dev/log takes `log=syslog` lines, as far as PID 1 has seen.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) enum Syslog {
    /// No line has reached it yet (early boot: its daemon may not run yet).
    #[default]
    Unseen,
    Up,
    /// It took lines, then refused one.
    Down,
}

/// Sends `r` where `log` says. A `log=syslog` line that /dev/log refuses
/// goes to the kernel log instead, and the next one tries /dev/log again.
/// The console hears of each change once: the first line taken, a
/// refusal after that, taken again (a full queue, EAGAIN, is a moment:
/// no line; before the first line is taken, a refusal is the daemon not
/// started yet: no line either). A line the kernel log cannot take (no
/// /dev/kmsg) goes to the console.
pub(crate) fn deliver(r: &Record, log: Log, state: &mut Syslog) {
    if log == Log::Syslog {
        match (r.to_syslog(), *state) {
            (Ok(()), Syslog::Up) => return,
            (Ok(()), was) => {
                *state = Syslog::Up;
                let again = if was == Syslog::Down { " again" } else { "" };
                say!("log: {} takes unit output{}", SYSLOG_PATH, again);
                return;
            }
            (Err(Errno::AGAIN), _) | (Err(_), Syslog::Unseen | Syslog::Down) => {}
            (Err(e), Syslog::Up) => {
                *state = Syslog::Down;
                say!(
                    "log: {} refuses unit output ({}): it goes to the kernel log until {} takes it again",
                    SYSLOG_PATH,
                    Name(e),
                    SYSLOG_PATH
                );
            }
        }
    }
    if r.to_kmsg().is_err() {
        r.to_console();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn lines(chunks: &[&[u8]]) -> Vec<(Vec<u8>, Piece)> {
        let mut c = Capture::new();
        let mut row = [0u8; LOG_LINE_MAX];
        let mut out = Vec::new();
        for ch in chunks {
            c.feed(&mut row, ch, |l, p| out.push((l.to_vec(), p)));
        }
        c.flush(&row, |l, p| out.push((l.to_vec(), p)));
        out
    }

    fn texts(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        lines(chunks).into_iter().map(|(l, _)| l).collect()
    }

    #[test]
    fn joins_and_splits_lines() {
        assert_eq!(
            texts(&[b"hel", b"lo\nwor", b"ld\n"]),
            [b"hello".to_vec(), b"world".to_vec()]
        );
        assert_eq!(
            texts(&[b"a\n\nb"]),
            [b"a".to_vec(), b"".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn a_line_of_the_limit_is_whole() {
        let mut line = [b'x'; LOG_LINE_MAX + 1];
        line[LOG_LINE_MAX] = b'\n';
        // In one read and across reads.
        for chunks in [&[&line[..]][..], &[&line[..500], &line[500..]]] {
            let out = lines(chunks);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].0.len(), LOG_LINE_MAX);
            assert_eq!(out[0].1, Piece::default());
        }
    }

    #[test]
    fn long_lines_are_split_marked_and_lose_nothing() {
        let long = [b'x'; LOG_LINE_MAX * 2 + 5];
        let out = lines(&[&long, b"\nnext\n"]);
        assert_eq!(out.len(), 4);
        let p = |cont, cut| Piece { cont, cut };
        assert_eq!(out[0].1, p(false, true));
        assert_eq!(out[1].1, p(true, true));
        assert_eq!(out[2].1, p(true, false));
        assert_eq!(out[3], (b"next".to_vec(), p(false, false)));
        assert_eq!(
            out[..3].iter().map(|l| l.0.len()).sum::<usize>(),
            long.len()
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // 'é' is two bytes: the limit falls between them.
        let mut text = Vec::new();
        text.resize(LOG_LINE_MAX - 1, b'a');
        text.extend_from_slice("é and more\n".as_bytes());
        let out = lines(&[&text]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0.len(), LOG_LINE_MAX - 1);
        assert!(out[1].0.starts_with("é".as_bytes()));
        assert!(core::str::from_utf8(&out[1].0).is_ok());
    }

    #[test]
    fn a_record_fits_the_kernels_limit() {
        let name = "n".repeat(NAME_MAX);
        let line = [b'y'; LOG_LINE_MAX];
        let cut = Piece {
            cont: true,
            cut: true,
        };
        let r = Record::new(&name, 4_194_304, &line, cut);
        assert_eq!(KMSG_PRI.len() + r.body().len(), KMSG_RECORD_MAX);
        let r = Record::new("web", 42, b"hello", Piece::default());
        assert_eq!(r.body(), b"web[42]: hello\n");
    }
}
