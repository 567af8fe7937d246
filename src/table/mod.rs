//! The service table (docs/config.md): the config language's lexer,
//! option table, parser and checker, and the printer of `pinit check
//! --print`.
//!
//! Public: the data model (`model`, re-exported here), `parse`, `print`
//! and the limits (`capacity`), what the integration tests and the fuzz
//! target read; everything else is `pub(crate)`.
//!
//! Depends on `core`, `heapless` and `put.rs` (the values' text)
//! only: build.rs compiles these same files (`#[path =
//! "src/table/mod.rs"] mod table;`, and put.rs beside it) to check the
//! board at build time with the very parser the binary runs.
//!
//! ```text
//! let mut table = Table::new();            // keep it in a static in PID 1
//! let errors = table::parse("/etc/pinit.conf", text, &mut table, &mut |d| eprintln!("{}", d));
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod capacity;
mod check;
mod diag;
#[cfg(test)]
mod docs;
pub(crate) mod lex;
pub mod listen;
pub mod model;
mod options;
mod parse;
mod print;
mod typed;
pub(crate) mod value;

#[cfg(pinit_board)]
mod board;
#[cfg(pinit_board)]
pub use board::{BOARD, BOARD_FILE, BOARD_NAME};

pub use diag::{Diag, ParseError};
pub use lex::{decode_all, CStrs, Word};
pub use listen::{Addr, Ip, Listen, SocketKind};
pub use model::{
    Accounting, Cond, CpuMax, Dep, EnvFile, Extra, Fstab, Id, IoPrio, Kill, Limit, Log, Mount,
    Numa, OnFailure, Ready, Restart, Rlimit, RuntimeDir, Sched, Setup, Start, Sysctl, Table, Test,
    Unit, UnitKind, Watchdog, FSTAB,
};
/// A valid host name (for `hostname FILE`, read at boot).
pub(crate) use parse::hostname_ok;
pub use parse::parse;
/// The statement keywords, for the man page test (tests/man.rs).
pub use parse::STATEMENTS;
pub use print::print;
pub use value::{CpuList, Mask, Millis};

/// Every option key the parser accepts, `rlimit.NAME` spelled out: for
/// the man page test (tests/man.rs).
pub fn option_keys() -> impl Iterator<Item = &'static str> + Clone {
    options::keys()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        let (t, u) = (
            core::mem::size_of::<super::Table<'_>>(),
            core::mem::size_of::<super::Unit<'_>>(),
        );
        println!("size_of Table = {} bytes, Unit = {} bytes", t, u);
        assert!(u <= 376, "Unit grew to {} bytes", u);
    }
}
