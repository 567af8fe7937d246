//! Which service table is in force (docs/config.md): `pinit.conf=PATH` from
//! the kernel command line, else /etc/pinit.conf, else the compiled-in
//! board. A run-time file with errors is reported in full and the
//! compiled-in table is used: a bad edit never leaves a board without its
//! services. The text and the table live in statics, so unused capacity
//! is never paged in.

use crate::say;
use crate::sys::file;
use crate::sys::Singleton;
use crate::table::{self, capacity::FILE_MAX, Table};
use rustix::io::Errno;

static TEXT: Singleton<[u8; FILE_MAX]> = Singleton::new([0; FILE_MAX]);
static TABLE: Singleton<Table<'static>> = Singleton::new(Table::new());

/// The default run-time table.
pub(crate) const ETC: &str = "/etc/pinit.conf";

/// Where the table in force came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source<'p> {
    File(&'p str),
    Board(&'static str),
}

/// Loads the table; `None` only if called twice.
pub(crate) fn load(path: Option<&str>) -> Option<(&'static Table<'static>, Source<'_>)> {
    let table = TABLE.take()?;
    let text = TEXT.take()?;
    let explicit = path.is_some();
    let path = path.unwrap_or(ETC);
    match file::read_file(path, &mut text[..]) {
        Ok(n) => {
            let text: &'static [u8] = text.get(..n).unwrap_or(&[]);
            let errors = table::parse(path, text, table, &mut |d| say!("{}", d));
            if errors == 0 {
                return Some((table, Source::File(path)));
            }
            say!(
                "{}: {} error(s); using the compiled-in table '{}' instead",
                path,
                errors,
                table::BOARD_NAME
            );
        }
        Err(Errno::NOENT) if !explicit => {}
        Err(Errno::FBIG) => say!(
            "{}: larger than {} bytes; using the compiled-in table '{}'",
            path,
            FILE_MAX,
            table::BOARD_NAME
        ),
        Err(e) => say!(
            "unable to read {}: {}; using the compiled-in table '{}'",
            path,
            file::Why(e),
            table::BOARD_NAME
        ),
    }
    board(table).map(|t| (t, Source::Board(table::BOARD_NAME)))
}

/// The compiled-in table (checked at build time, so this cannot fail;
/// if it somehow did, the errors are shown and the table is empty).
fn board(table: &'static mut Table<'static>) -> Option<&'static Table<'static>> {
    let errors = table::parse(table::BOARD_NAME, table::BOARD, table, &mut |d| {
        say!("{}", d)
    });
    if errors > 0 {
        table.clear();
    }
    Some(table)
}

/// For `pinit --config FILE`: the file or nothing.
pub(crate) fn load_file(path: &str) -> Result<&'static Table<'static>, usize> {
    let (table, text) = match (TABLE.take(), TEXT.take()) {
        (Some(t), Some(x)) => (t, x),
        _ => return Err(0),
    };
    let n = match file::read_file(path, &mut text[..]) {
        Ok(n) => n,
        Err(e) => {
            if e == Errno::FBIG {
                say!("{}: larger than {} bytes", path, FILE_MAX);
            } else {
                say!("unable to read {}: {}", path, file::Why(e));
            }
            return Err(1);
        }
    };
    let text: &'static [u8] = text.get(..n).unwrap_or(&[]);
    match table::parse(path, text, table, &mut |d| say!("{}", d)) {
        0 => Ok(table),
        errors => Err(errors),
    }
}
