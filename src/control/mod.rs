//! The control socket: the server in PID 1 and the `pinit` client.

pub(crate) mod client;
pub mod protocol;
pub(crate) mod server;
