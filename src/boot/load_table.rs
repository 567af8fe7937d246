//! Which service table is in force (docs/config.md): `pinit.conf=PATH` from
//! the kernel command line, else /etc/pinit.conf, else the compiled-in
//! board. At boot a file with errors is reported in full and the
//! compiled-in table is used: a bad edit never leaves a board without its
//! services; a reload (`pinit reload-table`) with errors changes nothing.
//! The texts and the tables live in statics, two of them (the table in
//! force and the spare one a reload fills), so unused capacity is never
//! paged in.

use crate::put::{Put, Sink};
use crate::say;
use crate::supervise::tables::{self, Held, Loaded};
use crate::sys::file;
use crate::sys::{bit, Singleton};
use crate::table::{self, capacity::FILE_MAX, Diag};
use core::pin::Pin;
use rustix::io::Errno;

static TABLES: Singleton<[Loaded; 2], { bit::TABLES }> =
    Singleton::new([tables::empty(), tables::empty()]);

/// The default run-time table.
pub(crate) const ETC: &str = "/etc/pinit.conf";

/// Where a table came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source<'p> {
    File(&'p str),
    Board(&'static str),
}

/// Why a table file was not taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Refused<'p> {
    /// It could not be read (`file::NOT_REGULAR`, EFBIG, ...).
    Read(&'p str, Errno),
    /// It has this many errors (each told to the caller's `diag`).
    Errors(&'p str, usize),
}

impl Put for Refused<'_> {
    fn put(&self, s: &mut dyn Sink) {
        match *self {
            Refused::Read(p, Errno::FBIG) => {
                crate::fill!(s, "{}: larger than {} bytes", p, FILE_MAX)
            }
            Refused::Read(p, e) => crate::fill!(s, "unable to read {}: {}", p, file::Why(e)),
            Refused::Errors(p, n) => crate::fill!(s, "{}: {} error(s)", p, n),
        }
    }
}

/// The two table buffers, once: the one to load first, and the spare.
pub(crate) fn buffers() -> Option<(Held<'static>, Held<'static>)> {
    let [a, b] = TABLES.take()?;
    Some((Pin::static_mut(a), Pin::static_mut(b)))
}

/// Reads the table `path` names (/etc/pinit.conf if none, and then the
/// board when that does not exist) into `into`; its errors go to `diag`.
pub(crate) fn read<'p>(
    mut into: Pin<&mut Loaded>,
    path: Option<&'p str>,
    diag: &mut dyn FnMut(&Diag<'_>),
) -> Result<Source<'p>, Refused<'p>> {
    let explicit = path.is_some();
    let path = path.unwrap_or(ETC);
    let got = into.as_mut().fill(
        |buf| file::read_file(path, &mut buf[..]),
        |text, t| table::parse(path, text, t, &mut *diag),
    );
    match got {
        Ok(0) => Ok(Source::File(path)),
        Ok(n) => Err(Refused::Errors(path, n)),
        Err(Errno::NOENT) if !explicit => Ok(board(into, diag)),
        Err(e) => Err(Refused::Read(path, e)),
    }
}

/// Boot: the table `read` finds, or the compiled-in one instead of a
/// file that cannot be taken (said on the console, error by error).
pub(crate) fn load<'p>(mut into: Pin<&mut Loaded>, path: Option<&'p str>) -> Source<'p> {
    let mut say_diag = |d: &Diag<'_>| say!("{}", crate::put::Shown(d));
    match read(into.as_mut(), path, &mut say_diag) {
        Ok(s) => s,
        Err(r) => {
            say!(
                "{}; using the compiled-in table '{}' instead",
                r,
                table::BOARD_NAME
            );
            board(into, &mut say_diag)
        }
    }
}

/// The compiled-in table (checked at build time, so this cannot fail;
/// if it somehow did, the errors are shown and the table is empty).
fn board(into: Pin<&mut Loaded>, diag: &mut dyn FnMut(&Diag<'_>)) -> Source<'static> {
    let _ = into.fill(
        |_| Ok::<usize, Errno>(0),
        |_, t| {
            if table::parse(table::BOARD_NAME, table::BOARD, t, &mut *diag) > 0 {
                t.clear();
            }
        },
    );
    Source::Board(table::BOARD_NAME)
}

/// After a re-exec: the table the previous PID 1 ran, from the text it
/// handed over (the file `path` had then), or the board; `None` if this
/// binary does not read it (said, error by error).
pub(crate) fn handed_over<'p>(
    into: Pin<&mut Loaded>,
    board_table: bool,
    text: &[u8],
    path: &'p str,
) -> Option<Source<'p>> {
    let mut say_diag = |d: &Diag<'_>| say!("{}", crate::put::Shown(d));
    if board_table {
        return Some(board(into, &mut say_diag));
    }
    let copy = |buf: &mut [u8; FILE_MAX]| match buf.get_mut(..text.len()) {
        Some(dst) => {
            dst.copy_from_slice(text);
            Ok(text.len())
        }
        None => Err(Errno::FBIG),
    };
    match into.fill(copy, |text, t| table::parse(path, text, t, &mut say_diag)) {
        Ok(0) => Some(Source::File(path)),
        _ => {
            say!("{}: the table handed over does not read here", path);
            None
        }
    }
}

/// For `pinit --config FILE`: the file or nothing (its errors said).
pub(crate) fn load_file(into: Pin<&mut Loaded>, path: &str) -> Result<(), usize> {
    match read(into, Some(path), &mut |d| say!("{}", crate::put::Shown(d))) {
        Ok(_) => Ok(()),
        Err(Refused::Errors(_, n)) => Err(n),
        Err(r) => {
            say!("{}", r);
            Err(1)
        }
    }
}
