//! The deterministic simulator: a whole cluster (brokers over fault-injecting disks, the
//! controller, the group coordinator, producer and consumer processes) over a simulated
//! network, on virtual time, replayable from a seed.
//!
//! The same code runs natively (`partita sim`, the tests' seed sweeps) and in the browser
//! (the playground steps it one event at a time), so it follows the core's rules: no clock
//! (time is [`crate::Millis`], advanced by the event queue), no OS randomness (everything
//! random comes from one seeded [`rng::Rng`]), no threads, no IO.
//!
//! How a run goes: [`Simulation::new`] builds the cluster of a [`ScenarioSpec`] and schedules
//! its clients and faults; [`Simulation::step`] pops the next event from a queue ordered by
//! (time, sequence) — a message delivery, a node's timer, a fault, a client starting — hands
//! it to the node, then routes what the node sent through the [`network::Network`] (seeded
//! latency, loss, partitions, FIFO per link) back into the queue. Every step adds
//! [`trace::TraceEvent`]s to a [`Trace`] whose text and hash are stable: the same seed gives
//! the same trace byte for byte. At the end the partitions are read back and the
//! [`crate::checker`] looks for anomalies in the history.
//!
//! Every broker, the controller and the group coordinator are [`crate::node::Node`]s, the
//! same node the server runs: the simulator only drives them (`process`).
//!
//! Code map: `node` (names), `message` (what travels), `network`, `queue`, `disk` (storage
//! that survives a crash minus unsynced data), `process` (a node over its simulated disk and
//! records, with `observe`, which traces what moved and checks invariants), `client_node`,
//! `producer_app` and `consumer_app` (applications around the simulated clients), `faults`, `spec`
//! (scenarios as data), `simulation` (the loop), `final_read`, `snapshot` (for rendering),
//! [`scenarios`] (the named scenarios) and [`sweep`] (seed ranges).

mod app_history;
mod client_node;
mod consumer_app;
mod ctp_output;
mod disk;
mod faults;
mod final_read;
mod message;
pub mod network;
mod node;
mod observe;
mod outbox;
mod process;
mod producer_app;
mod queue;
pub mod rng;
pub mod scenarios;
mod simulation;
mod snapshot;
pub mod spec;
pub mod sweep;
pub mod trace;
mod txn_producer_app;

#[cfg(test)]
mod tests;

pub use client_node::ClientStats;
pub use message::Message;
pub use network::NetworkConfig;
pub use node::{CONTROLLER_NODE_ID, NodeId, controller_ids};
pub use scenarios::{Summary, run};
pub use simulation::{EVENTS_MAX, Simulation};
pub use snapshot::{
    BrokerView, ClientView, ControllerView, GroupView, LagView, PartitionView, RecordCell,
    ReplicaView, Snapshot, VoterView,
};
pub use spec::{
    ClientSpec, CommitMode, ConsumerSpec, CrashPoint, Fault, ProducerSpec, ScenarioSpec, SpecError,
    TopicSpec, Transform, TxnWorkload,
};
pub use trace::{Trace, TraceEntry, TraceEvent};
