//! PID 1 and `pinit --config`: what runs the machine, on top of the
//! supervisor and the control server.

pub(crate) mod adopt;
pub(crate) mod event_loop;
pub(crate) mod fstab;
pub(crate) mod handover;
pub(crate) mod hosted;
pub(crate) mod load_table;
pub(crate) mod mounts;
pub(crate) mod pace;
pub mod panic;
pub(crate) mod pid1;
pub(crate) mod reexec;
pub(crate) mod reload;
pub(crate) mod rescue;
pub(crate) mod seed;
pub(crate) mod shutdown;
pub(crate) mod system;
pub(crate) mod watchdog;
