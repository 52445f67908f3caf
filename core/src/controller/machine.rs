//! The controller itself: the image it keeps current, its config and seed, and the broker
//! heartbeat times that live outside the log. The commands are in `brokers`, `topics`,
//! `partitions` and `timers`; each validates against the image, then hands its records to
//! `commit`.

use std::collections::BTreeMap;

use super::election::{self, Outcome};
use super::image::{MetadataImage, PartitionState, TopicImage};
use super::records::{BrokerId, MetadataRecord, PartitionChangeRecord};
use crate::Millis;
use crate::config::BrokerConfig;

/// The active controller. Every command returns the records it produced, already applied to
/// [`Controller::image`]; the shell appends them to the metadata log (and, with a quorum,
/// replicates them) before it answers the request that caused them.
#[derive(Clone, Debug)]
pub struct Controller {
    pub(super) config: BrokerConfig,
    pub(super) seed: u64,
    pub(super) image: MetadataImage,
    /// When each broker last sent a heartbeat (or registered). Not in the log: a controller
    /// that takes over gives every broker a fresh session from its first `tick`.
    pub(super) last_heartbeat: BTreeMap<BrokerId, Millis>,
    /// When leadership last moved back to preferred replicas by itself (soft state too).
    pub(super) last_leader_balance: Millis,
}

impl Controller {
    /// A controller with an empty metadata log. `seed` drives topic ids and replica placement;
    /// give every controller of a cluster the same one.
    pub fn new(config: BrokerConfig, seed: u64) -> Controller {
        Controller {
            config,
            seed,
            image: MetadataImage::default(),
            last_heartbeat: BTreeMap::new(),
            last_leader_balance: Millis::ZERO,
        }
    }

    /// The current metadata.
    pub fn image(&self) -> &MetadataImage {
        &self.image
    }

    /// The broker config: defaults for new topics and the broker session timeout.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// Applies a record read back from the metadata log (at start-up, or on a controller that
    /// follows another one).
    pub fn replay(&mut self, record: &MetadataRecord) {
        self.image.apply(record);
    }

    /// Replaces the image with `image` (the committed metadata, when this controller becomes
    /// active or drops what it proposed and did not commit) and forgets the soft state: every
    /// live broker gets a fresh session from the next `tick`, as with a controller that takes
    /// over.
    pub fn restore(&mut self, image: MetadataImage) {
        self.image = image;
        self.last_heartbeat.clear();
    }

    /// Applies `records` to the image, in order, and hands them back for the log.
    pub(super) fn commit(&mut self, records: Vec<MetadataRecord>) -> Vec<MetadataRecord> {
        for record in &records {
            self.image.apply(record);
        }
        records
    }

    /// Leader and ISR changes for every partition (with a replica on `gone`, if given) after
    /// liveness changed: `gone` leaves the ISRs it can leave, and partitions whose leader can no
    /// longer lead elect another.
    pub(super) fn reconcile_partitions(
        &self,
        is_live: impl Fn(BrokerId) -> bool,
        gone: Option<BrokerId>,
    ) -> Vec<MetadataRecord> {
        let mut records = Vec::new();
        let mut unclean_by_topic = BTreeMap::new();
        for (topic, index, partition) in self.image.partitions() {
            if gone.is_some_and(|gone| !partition.replicas.contains(&gone)) {
                continue;
            }
            let isr = match gone {
                Some(gone) => election::shrink_isr(&partition.isr, gone),
                None => partition.isr.clone(),
            };
            let unclean = *unclean_by_topic
                .entry(topic.id)
                .or_insert_with(|| self.effective_config(topic).unclean_leader_election_enable);
            let outcome = election::reconcile(partition, isr, &is_live, unclean);
            records.extend(change_record(topic, index, partition, outcome));
        }
        records
    }
}

/// The record that takes `partition` to `outcome`, if anything changes.
pub(super) fn change_record(
    topic: &TopicImage,
    index: u32,
    partition: &PartitionState,
    outcome: Outcome,
) -> Option<MetadataRecord> {
    let leader = (outcome.leader != partition.leader).then_some(outcome.leader);
    let isr = (outcome.isr != partition.isr).then_some(outcome.isr);
    if leader.is_none() && isr.is_none() {
        return None;
    }
    Some(MetadataRecord::PartitionChange(PartitionChangeRecord {
        topic_id: topic.id,
        partition: index,
        leader,
        isr,
    }))
}
