//! The control socket: the server in PID 1 and the `pinit` client.

pub mod client;
pub mod protocol;
pub mod server;
