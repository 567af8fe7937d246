//! Units at run time: the pure state machine and order, starting
//! processes, readiness, output capture, and the supervisor that applies
//! the effects.

pub(crate) mod capture;
pub(crate) mod command;
pub(crate) mod diff;
pub(crate) mod effects;
pub(crate) mod envfile;
pub(crate) mod epoll;
pub(crate) mod forked;
pub(crate) mod frame;
pub(crate) mod instance;
pub(crate) mod launch;
pub(crate) mod listen;
pub(crate) mod notify;
pub(crate) mod order;
pub(crate) mod passwd;
pub(crate) mod ratelimit;
pub(crate) mod report;
pub(crate) mod rows;
pub(crate) mod rundir;
pub(crate) mod spawn;
pub(crate) mod supervisor;
pub(crate) mod tables;
pub(crate) mod unit;
