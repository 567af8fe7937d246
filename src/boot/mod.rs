//! PID 1 and `pinit --config`: what runs the machine, on top of the
//! supervisor and the control server.

pub mod event_loop;
pub mod hosted;
pub mod load_table;
pub mod mounts;
pub mod panic;
pub mod pid1;
pub mod rescue;
pub mod shutdown;
pub mod system;
