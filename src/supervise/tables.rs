//! The service table and its text, as PID 1 keeps them: `Loaded` is one
//! text buffer with the table parsed from it (`sys::Parsed`). There are
//! two in statics, the table in force and the spare one a reload parses
//! the new table into beside it (docs/design.md §13); only their touched
//! pages are ever resident.

use crate::sys::{Borrows, Parsed};
use crate::table::{capacity::FILE_MAX, Table};
use core::pin::Pin;

/// The table family of `sys::Parsed`.
pub(crate) enum TableText {}

impl Borrows for TableText {
    type Of<'a> = Table<'a>;
    fn clear(table: &mut Table<'_>) {
        table.clear();
    }
}

/// A text and the table parsed from it.
pub(crate) type Loaded = Parsed<TableText, FILE_MAX>;

/// A `Loaded` held in place.
pub(crate) type Held<'t> = Pin<&'t mut Loaded>;

/// An empty one, for a static.
pub(crate) const fn empty() -> Loaded {
    Parsed::new(Table::new())
}
