//! Replication across brokers, deterministic and with explicit time: three brokers and a
//! controller wired by hand (`cluster`), the invariants checked after every round of messages
//! (`invariants`), and one file per area.

mod cluster;
mod compaction;
mod failover;
mod faults;
mod idempotence;
mod invariants;
mod isr;
mod list_offsets;
mod min_isr;
mod offset_for_leader_epoch;
mod random;
mod replication;
mod stale;
mod transactions;
mod truncation;

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::broker::{
    Broker, BrokerSettings, MemoryStorageFactory, PartitionSettings, ProducePartition,
    ProduceRequest,
};
use crate::controller::PartitionState;
use crate::group::RequestId;

/// One broker (id 1, not durable) leading `tp` alone in epoch 0: for tests of one request
/// on one partition.
pub(crate) fn sole_leader_of(tp: &TopicPartition) -> Broker<MemoryStorageFactory> {
    sole_leader_with(tp, PartitionSettings::default())
}

/// [`sole_leader_of`] with the partition's `settings`.
pub(crate) fn sole_leader_with(
    tp: &TopicPartition,
    settings: PartitionSettings,
) -> Broker<MemoryStorageFactory> {
    let broker_settings = BrokerSettings {
        node_id: 1,
        durable: false,
    };
    let mut broker = Broker::new(broker_settings, MemoryStorageFactory);
    let state = PartitionState {
        replicas: vec![1],
        isr: vec![1],
        leader: 1,
        leader_epoch: 0,
        partition_epoch: 0,
    };
    broker
        .apply_partition(tp, &state, settings, Millis(0))
        .expect("a memory partition opens");
    broker
}

/// Produces `records` (one batch) to `tp` with acks=1 as request `id`.
pub(crate) fn produce_acks1(
    broker: &mut Broker<MemoryStorageFactory>,
    id: u64,
    tp: &TopicPartition,
    records: Vec<u8>,
) {
    let request = ProduceRequest {
        acks: 1,
        timeout_ms: Millis(1_000),
        partitions: vec![ProducePartition {
            tp: tp.clone(),
            records,
        }],
    };
    broker.produce(RequestId(id), request, Millis(0));
}
