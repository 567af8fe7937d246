//! pinit: a statically linked, heap-free PID 1. The layers, lowest first
//! (a module imports only from its own layer and the ones below):
//!
//! - `put`: text without `core::fmt` (PID 1's lines, paths, values);
//! - `sys`: the kernel interface (the only `unsafe`), errno names, the
//!   clock, whole-file reads, the console, the kernel command line;
//! - `table`: the service table language (core, heapless and `put`
//!   only);
//! - `place`: cgroups, their limits, per-process placement;
//! - `supervise`: the unit state machine, the order, starting processes,
//!   readiness, output capture, the supervisor;
//! - `control`: the control protocol, its server and its client;
//! - `boot`: PID 1 (early mounts, system statements, the event loop,
//!   rescue, shutdown, panic) and `pinit --config`;
//! - `cli`: the multi-call entry point.
//!
//! docs/design.md describes the architecture.
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
pub mod cli;
pub mod control;
pub(crate) mod place;
#[macro_use]
pub(crate) mod put;
pub(crate) mod supervise;
pub mod sys;
pub mod table;
