//! Units at run time: the pure state machine and order, starting
//! processes, readiness, output capture, and the supervisor that applies
//! the effects.

pub mod capture;
pub mod effects;
pub mod epoll;
pub mod launch;
pub mod notify;
pub mod order;
pub mod passwd;
pub mod report;
pub mod spawn;
pub mod supervisor;
pub mod unit;
