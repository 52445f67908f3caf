//! Simulated Kafka clients: a producer and a consumer that behave like librdkafka and the Java
//! client, as sans-IO state machines.
//!
//! The simulator and the playground drive them; the server never does (it talks to real
//! clients). Each client takes the current time and the responses it receives, and hands out
//! the requests it wants sent ([`Outgoing`], addressed to a broker or to the group
//! coordinator) together with events for the application and the checker (a delivery report,
//! a polled record, a rebalance). Requests and responses are the core's own types
//! ([`crate::broker`], [`crate::group`]), so the same engine that serves real clients answers
//! these.
//!
//! - [`producer`]: partitioners, `linger.ms` / `batch.size`, acks, retries with backoff,
//!   `delivery.timeout.ms`, `max.in.flight.requests.per.connection`, idempotence.
//! - [`consumer`]: group membership (join, sync, heartbeats, leave), the assignors (the leader
//!   runs them), eager and cooperative rebalances, fetching, `poll`, commits, auto-commit,
//!   `auto.offset.reset`; `isolation.level=read_committed`.
//! - [`transactional`]: the transactional producer (KIP-98), as the Java client's.

pub mod consumer;
pub mod producer;
mod protocol;
pub mod transactional;

pub use protocol::{
    Destination, MetadataResponse, Outgoing, PartitionMetadata, Request, RequestTracker, Response,
};

#[cfg(test)]
mod tests;
