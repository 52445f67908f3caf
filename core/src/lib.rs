//! The Partita engine.
//!
//! Everything in this crate is a deterministic state machine driven from outside: inputs go in
//! (a request, a timer firing, a write that finished persisting, the current time as a number),
//! outputs come out. There is no IO, no clock, no thread and no randomness of its own here, so
//! the same code runs in the browser (a simulated cluster) and in the `partita` server.

pub mod acl;
pub mod assignor;
pub mod batch;
pub mod broker;
pub mod checker;
pub mod client;
pub mod config;
pub mod controller;
pub mod error_code;
pub mod group;
pub mod log;
pub mod node;
pub mod partitioner;
pub mod producer_state;
pub mod sim;
pub mod storage;
pub mod time;
pub mod txn;

pub use error_code::ErrorCode;
pub use time::Millis;
