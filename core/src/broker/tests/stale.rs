//! Answers that arrive after the question changed are dropped: a fetch answered by a deposed
//! leader must never reach the log of a follower that moved on to a new epoch.

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::BatchBuilder;
use crate::broker::{
    Broker, BrokerSettings, MemoryStorageFactory, Output, PartitionSettings, ProducePartition,
    ProduceRequest, ReplicaRequest,
};
use crate::controller::{BrokerId, PartitionState};
use crate::group::RequestId;

fn state(leader: BrokerId, leader_epoch: i32) -> PartitionState {
    PartitionState {
        replicas: vec![1, 2, 3],
        isr: vec![1, 2, 3],
        leader,
        leader_epoch,
        partition_epoch: leader_epoch,
    }
}

fn broker(id: BrokerId, state: &PartitionState) -> Broker<MemoryStorageFactory> {
    let settings = BrokerSettings {
        node_id: id,
        durable: false,
    };
    let mut broker = Broker::new(settings, MemoryStorageFactory);
    let tp = TopicPartition::new("t", 0);
    broker
        .apply_partition(&tp, state, PartitionSettings::default(), Millis(0))
        .expect("opens");
    broker
}

#[test]
fn a_fetch_answer_from_a_deposed_leader_is_dropped() {
    let tp = TopicPartition::new("t", 0);
    let mut leader = broker(1, &state(1, 0));
    let mut follower = broker(2, &state(1, 0));
    let mut batch = BatchBuilder::new();
    batch.push(0, None, Some(b"stale"), &[]);
    let partitions = vec![ProducePartition {
        tp: tp.clone(),
        records: batch.build(),
    }];
    leader.produce(
        RequestId(1),
        ProduceRequest {
            acks: 1,
            timeout_ms: Millis(1_000),
            partitions,
        },
        Millis(0),
    );
    // Truncation round, then a fetch.
    let [ReplicaRequest::OffsetForLeaderEpoch { request, .. }] =
        &follower.replica_requests(Millis(0))[..]
    else {
        panic!("a follower asks where its epoch ends first")
    };
    let answers = leader.offset_for_leader_epoch(request);
    follower.on_offset_for_leader_epoch_response(1, answers, Millis(0));
    let [ReplicaRequest::Fetch { request, .. }] = &follower.replica_requests(Millis(0))[..] else {
        panic!("then it fetches")
    };
    assert!(
        follower.replica_requests(Millis(0)).is_empty(),
        "one request in flight per leader"
    );
    leader.fetch(RequestId(2), request.clone(), Millis(0));
    let response = std::iter::from_fn(|| leader.poll_output())
        .find_map(|o| match o {
            Output::Fetched { response, .. } => Some(response),
            Output::Produced { .. } => None,
        })
        .expect("the leader has data to send");
    assert!(response.size_bytes() > 0);
    // Before the answer arrives, the follower learns that broker 3 leads epoch 1.
    follower
        .apply_partition(&tp, &state(3, 1), PartitionSettings::default(), Millis(1))
        .expect("applies");
    follower.on_replica_fetch_response(1, response, Millis(2));
    assert_eq!(
        follower.partition(&tp).expect("hosted").log_end_offset,
        0,
        "the stale answer was dropped"
    );
    // The request to broker 1 is settled, and the follower now asks broker 3.
    let leaders: Vec<BrokerId> = follower
        .replica_requests(Millis(2))
        .iter()
        .map(ReplicaRequest::leader)
        .collect();
    assert_eq!(leaders, vec![3]);
}
