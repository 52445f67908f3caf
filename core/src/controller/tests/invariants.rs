//! Property test: any sequence of commands, successful or not, keeps the controller's
//! invariants, and the records alone reproduce its image.

use proptest::prelude::*;

use crate::Millis;
use crate::config::BrokerConfig;
use crate::controller::*;

/// One input to the controller, with small numbers so that sequences collide often.
#[derive(Clone, Debug)]
enum Step {
    Start(BrokerId),
    Heartbeat(BrokerId),
    Crash(BrokerId),
    Wait(u64),
    Create {
        name: u8,
        partitions: u32,
        replication_factor: u16,
    },
    Delete(u8),
    AddPartitions(u8),
    AlterIsr {
        name: u8,
        partition: u32,
        keep: Vec<bool>,
    },
    ElectPreferred,
    Unclean {
        name: u8,
        enable: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..4).prop_map(Step::Start),
        (0..4).prop_map(Step::Heartbeat),
        (0..4).prop_map(Step::Crash),
        (0u64..6_000).prop_map(Step::Wait),
        (0u8..3, 0u32..4, 0u16..4).prop_map(|(name, partitions, replication_factor)| {
            Step::Create {
                name,
                partitions,
                replication_factor,
            }
        }),
        (0u8..3).prop_map(Step::Delete),
        (0u8..3).prop_map(Step::AddPartitions),
        (0u8..3, 0u32..3, proptest::collection::vec(any::<bool>(), 4)).prop_map(
            |(name, partition, keep)| Step::AlterIsr {
                name,
                partition,
                keep
            }
        ),
        Just(Step::ElectPreferred),
        (0u8..3, any::<bool>()).prop_map(|(name, enable)| Step::Unclean { name, enable }),
    ]
}

/// Runs `step`; errors are fine, but must leave the image as it was.
fn run(controller: &mut Controller, now: &mut Millis, step: &Step) -> Vec<MetadataRecord> {
    let before = controller.image().clone();
    let topic = |name: &u8| format!("t{name}");
    let result: Result<Vec<MetadataRecord>, String> = match step {
        Step::Start(id) => controller
            .register_broker(*now, *id, "h", 1)
            .map_err(|e| e.to_string())
            .map(|mut records| {
                let epoch = controller.image().broker(*id).unwrap().broker_epoch;
                records.extend(controller.broker_heartbeat(*now, *id, epoch).unwrap());
                records
            }),
        Step::Heartbeat(id) => {
            let epoch = controller.image().broker(*id).map_or(0, |b| b.broker_epoch);
            controller
                .broker_heartbeat(*now, *id, epoch)
                .map_err(|e| e.to_string())
        }
        Step::Crash(id) => controller.fence_broker(*id).map_err(|e| e.to_string()),
        Step::Wait(ms) => {
            *now = now.plus(Millis(*ms));
            Ok(controller.tick(*now))
        }
        Step::Create {
            name,
            partitions,
            replication_factor,
        } => {
            let request = CreateTopic {
                name: topic(name),
                partitions: Some(*partitions),
                replication_factor: Some(*replication_factor),
                ..CreateTopic::default()
            };
            controller.create_topic(&request).map_err(|e| e.to_string())
        }
        Step::Delete(name) => controller
            .delete_topic(&topic(name))
            .map_err(|e| e.to_string()),
        Step::AddPartitions(name) => {
            let count = controller
                .image()
                .topic(&topic(name))
                .map_or(1, |t| t.partitions.len() as u32 + 1);
            controller
                .create_partitions(&topic(name), count, None)
                .map_err(|e| e.to_string())
        }
        Step::AlterIsr {
            name,
            partition,
            keep,
        } => {
            match controller
                .image()
                .topic(&topic(name))
                .and_then(|t| Some((t.id, t.partitions.get(*partition as usize)?)))
            {
                None => Ok(Vec::new()),
                Some((topic_id, state)) => {
                    let new_isr = state
                        .replicas
                        .iter()
                        .zip(keep)
                        .filter(|(b, keep)| **keep || **b == state.leader)
                        .map(|(b, _)| *b)
                        .collect();
                    let request = AlterPartition {
                        broker_id: state.leader,
                        topic_id,
                        partition: *partition,
                        leader_epoch: state.leader_epoch,
                        partition_epoch: state.partition_epoch,
                        new_isr,
                    };
                    controller
                        .alter_partition(&request)
                        .map_err(|e| e.to_string())
                }
            }
        }
        Step::ElectPreferred => controller
            .elect_preferred_leaders(None)
            .map_err(|e| e.to_string()),
        Step::Unclean { name, enable } => {
            let change = [(
                "unclean.leader.election.enable".to_string(),
                Some(enable.to_string()),
            )];
            controller
                .alter_topic_configs(&topic(name), &change)
                .map_err(|e| e.to_string())
        }
    };
    result.unwrap_or_else(|_| {
        assert_eq!(
            &before,
            controller.image(),
            "a refused {step:?} changed the image"
        );
        Vec::new()
    })
}

fn assert_invariants(controller: &Controller) {
    let image = controller.image();
    for (topic, index, p) in image.partitions() {
        let at = format!("{}-{index}: {p:?}", topic.name);
        if p.is_offline() {
            assert!(
                !p.isr.iter().any(|b| image.is_live(*b)),
                "offline with a live ISR member: {at}"
            );
            if controller
                .topic_config(&topic.name)
                .unwrap()
                .unclean_leader_election_enable
            {
                assert!(
                    !p.replicas.iter().any(|b| image.is_live(*b)),
                    "unclean could elect: {at}"
                );
            }
        } else {
            assert!(image.is_live(p.leader), "fenced leader: {at}");
        }
        for b in &p.isr {
            assert!(
                image.is_live(*b) || p.isr == [*b],
                "fenced broker {b} kept in a shared ISR: {at}"
            );
        }
    }
}

proptest! {
    #[test]
    fn commands_keep_invariants_and_replay_reproduces_the_image(steps in proptest::collection::vec(step(), 1..60)) {
        let mut controller = Controller::new(BrokerConfig::default(), 3);
        let mut now = Millis::ZERO;
        let mut log = Vec::new();
        // Three brokers up front, so that most sequences get to topics and elections.
        let start = [Step::Start(0), Step::Start(1), Step::Start(2)];
        for step in start.iter().chain(&steps) {
            log.extend(run(&mut controller, &mut now, step));
            assert_invariants(&controller);
        }
        let mut replayed = MetadataImage::default();
        for record in &log {
            replayed.apply(record);
        }
        prop_assert_eq!(&replayed, controller.image());
    }
}
