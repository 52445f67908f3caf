//! `partita`: a Kafka-compatible broker on the Partita engine, with the playground built in.
//!
//! The binary (`main.rs`) only parses the command line; everything lives in these modules so
//! the end-to-end tests can reuse the client.

pub mod admin;
pub mod chaos;
pub mod check;
pub mod child;
pub mod cli;
pub mod client;
mod client_scram;
pub mod cluster;
pub mod config;
pub mod decompress;
pub mod engine;
pub mod http;
pub mod kafka;
pub mod peer;
pub mod serve;
pub mod sim;
pub mod storage;
pub mod tls;
