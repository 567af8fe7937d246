//! The board's table, checked by build.rs and compiled in (docs/config.md,
//! "Building a board").

/// The text of `board-configs/$PINIT_BOARD.conf`, checked at build time:
/// parsing it cannot fail.
pub static BOARD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/board.conf"));
/// The board's name (`qemu-x86_64`).
pub const BOARD_NAME: &str = env!("PINIT_BOARD_NAME");
/// The file it came from, for messages (`board-configs/qemu-x86_64.conf`).
pub const BOARD_FILE: &str = env!("PINIT_BOARD_FILE");
