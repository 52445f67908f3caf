//! Replication across brokers, deterministic and with explicit time: three brokers and a
//! controller wired by hand (`cluster`), the invariants checked after every round of messages
//! (`invariants`), and one file per area.

mod cluster;
mod compaction;
mod failover;
mod faults;
mod invariants;
mod isr;
mod list_offsets;
mod min_isr;
mod offset_for_leader_epoch;
mod random;
mod replication;
mod stale;
mod truncation;

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::broker::{Broker, BrokerSettings, MemoryStorageFactory, PartitionSettings};
use crate::controller::PartitionState;

/// One broker (id 1, not durable) leading `tp` alone in epoch 0: for tests of one request
/// on one partition.
pub(crate) fn sole_leader_of(tp: &TopicPartition) -> Broker<MemoryStorageFactory> {
    let settings = BrokerSettings {
        node_id: 1,
        durable: false,
    };
    let mut broker = Broker::new(settings, MemoryStorageFactory);
    let state = PartitionState {
        replicas: vec![1],
        isr: vec![1],
        leader: 1,
        leader_epoch: 0,
        partition_epoch: 0,
    };
    broker
        .apply_partition(tp, &state, PartitionSettings::default(), Millis(0))
        .expect("a memory partition opens");
    broker
}
