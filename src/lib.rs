//! pinit: a statically linked, heap-free PID 1. See DESIGN in docs/.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
// PID 1 must not panic: outside tests, no unwrap, expect, panic or
// indexing that can fail; `make clippy` checks it (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing
    )
)]

pub mod boot;
pub mod cgroup;
pub mod cli;
pub mod cmdline;
pub mod config;
pub mod console;
pub mod control;
pub mod ctl;
pub mod errno;
pub mod evloop;
pub mod fileio;
pub mod host;
pub mod init;
pub mod launch;
pub mod limits;
pub mod load;
pub mod log;
pub mod notify;
pub mod order;
pub mod panic;
pub mod passwd;
pub mod pid1;
pub mod placement;
pub mod rescue;
pub mod shutdown;
pub mod spawn;
pub mod supervisor;
pub mod sys;
pub mod sysinit;
pub mod time;
pub mod unit;
