//! Scenarios for the controller, each with explicit time. Every scenario ends by replaying the
//! records it produced into a fresh image and comparing: the log alone must reproduce state.
//! Here: the harness (a controller and its log, as a shell keeps them); beside it, one file per
//! area, and a property test over random command sequences.

use super::*;
use crate::Millis;
use crate::config::BrokerConfig;

mod alter_partition;
mod brokers;
mod configs;
mod elections;
mod invariants;
mod replay;
mod topics;

/// A controller with a record log, as a shell would keep it.
struct Harness {
    controller: Controller,
    log: Vec<MetadataRecord>,
}

impl Harness {
    /// Brokers `ids` registered and unfenced at time 0, with broker config `pairs`.
    fn new(ids: &[BrokerId], pairs: &[(&str, &str)]) -> Harness {
        let config = BrokerConfig::from_pairs(pairs.iter().copied()).unwrap();
        let mut harness = Harness {
            controller: Controller::new(config, 42),
            log: Vec::new(),
        };
        for id in ids {
            harness.start(Millis::ZERO, *id);
        }
        harness
    }

    fn record(&mut self, records: Vec<MetadataRecord>) -> Vec<MetadataRecord> {
        self.log.extend(records.iter().cloned());
        records
    }

    /// Registers `id` and sends its first heartbeat.
    fn start(&mut self, now: Millis, id: BrokerId) {
        let records = self
            .controller
            .register_broker(now, id, "127.0.0.1", 9092)
            .unwrap();
        self.record(records);
        self.heartbeat(now, id);
    }

    fn heartbeat(&mut self, now: Millis, id: BrokerId) -> Vec<MetadataRecord> {
        let epoch = self.controller.image().broker(id).unwrap().broker_epoch;
        let records = self.controller.broker_heartbeat(now, id, epoch).unwrap();
        self.record(records)
    }

    fn crash(&mut self, id: BrokerId) -> Vec<MetadataRecord> {
        let records = self.controller.fence_broker(id).unwrap();
        self.record(records)
    }

    fn tick(&mut self, now: Millis) -> Vec<MetadataRecord> {
        let records = self.controller.tick(now);
        self.record(records)
    }

    fn create(
        &mut self,
        name: &str,
        partitions: u32,
        replication_factor: u16,
        configs: &[(&str, &str)],
    ) {
        let request = CreateTopic {
            name: name.to_string(),
            partitions: Some(partitions),
            replication_factor: Some(replication_factor),
            configs: configs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..CreateTopic::default()
        };
        let records = self.controller.create_topic(&request).unwrap();
        self.record(records);
    }

    fn create_assigned(&mut self, name: &str, assignment: Vec<Vec<BrokerId>>) {
        let request = CreateTopic {
            name: name.into(),
            assignment: Some(assignment),
            ..CreateTopic::default()
        };
        let records = self.controller.create_topic(&request).unwrap();
        self.record(records);
    }

    fn alter_isr(
        &mut self,
        topic: &str,
        partition: u32,
        new_isr: &[BrokerId],
    ) -> Vec<MetadataRecord> {
        let request = self.alter_request(topic, partition, new_isr);
        let records = self.controller.alter_partition(&request).unwrap();
        self.record(records)
    }

    /// An AlterPartition from the current leader with the current epochs.
    fn alter_request(&self, topic: &str, partition: u32, new_isr: &[BrokerId]) -> AlterPartition {
        let image = self.controller.image();
        let state = image.partition(topic, partition).unwrap();
        AlterPartition {
            broker_id: state.leader,
            topic_id: image.topic(topic).unwrap().id,
            partition,
            leader_epoch: state.leader_epoch,
            partition_epoch: state.partition_epoch,
            new_isr: new_isr.to_vec(),
        }
    }

    /// Asserts the partitions of `topic`, one line each, and that replay reproduces the image.
    fn check(&self, topic: &str, expect: &str) {
        let image = self.controller.image();
        let actual: Vec<String> = image
            .topic(topic)
            .unwrap()
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{topic}-{i} replicas={:?} isr={:?} leader={} epochs={}/{}",
                    p.replicas, p.isr, p.leader, p.leader_epoch, p.partition_epoch
                )
            })
            .collect();
        assert_eq!(actual.join("\n"), expect.trim());
        self.check_replay();
    }

    fn check_replay(&self) {
        let mut replayed = MetadataImage::default();
        for record in &self.log {
            replayed.apply(record);
        }
        assert_eq!(&replayed, self.controller.image());
    }
}

/// Renders records one per line, for asserting what a command wrote to the log.
fn render(records: &[MetadataRecord]) -> String {
    records
        .iter()
        .map(|record| match record {
            MetadataRecord::PartitionChange(r) => {
                format!(
                    "PartitionChange p{} leader={:?} isr={:?}",
                    r.partition, r.leader, r.isr
                )
            }
            MetadataRecord::FenceBroker(r) => format!("FenceBroker {}", r.broker_id),
            MetadataRecord::UnfenceBroker(r) => format!("UnfenceBroker {}", r.broker_id),
            MetadataRecord::RegisterBroker(r) => {
                format!("RegisterBroker {} epoch={}", r.broker_id, r.broker_epoch)
            }
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
