//! Topic administration: create, delete, add partitions.

use std::collections::BTreeSet;

use super::errors::{CreatePartitionsError, CreateTopicError, DeleteTopicError};
use super::machine::Controller;
use super::placement::{self, Start};
use super::records::{
    BrokerId, ConfigRecord, MetadataRecord, PartitionRecord, RemoveTopicRecord, TopicId,
    TopicRecord,
};
use super::{seed, topic_name};

/// The most partitions one topic may have: a bound on the image's size, well above what a
/// playground or a single server needs.
pub const TOPIC_PARTITIONS_MAX: u32 = 10_000;

/// A CreateTopics entry. Either `assignment` (replicas per partition, given by the client) or
/// `partitions` and `replication_factor` (either may be left to the broker defaults).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreateTopic {
    pub name: String,
    pub partitions: Option<u32>,
    pub replication_factor: Option<u16>,
    pub assignment: Option<Vec<Vec<BrokerId>>>,
    /// Topic-level config overrides, e.g. `("min.insync.replicas", "2")`.
    pub configs: Vec<(String, String)>,
}

impl Controller {
    /// Creates a topic: a `Topic` record, its config overrides, then one `Partition` record
    /// per partition. Each partition's ISR is its live replicas; its leader the first of them.
    pub fn create_topic(
        &mut self,
        request: &CreateTopic,
    ) -> Result<Vec<MetadataRecord>, CreateTopicError> {
        let name = request.name.as_str();
        self.check_new_topic_name(name)?;
        let configs = request
            .configs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        self.config.topic_defaults.with_overrides(configs)?;
        // Everything "random" about this topic comes from the seed and the log's length.
        let entropy = seed::mix(self.seed, self.image.record_count());
        let assignment = self.plan_assignment(request, entropy)?;

        // The top bit keeps ids clear of Kafka's reserved ones (zero, and one for metadata).
        let topic_id =
            TopicId((u128::from(entropy) << 64 | u128::from(seed::mix(entropy, 0))) | 1 << 127);
        let mut records = vec![MetadataRecord::Topic(TopicRecord {
            name: name.to_string(),
            topic_id,
        })];
        records.extend(request.configs.iter().map(|(key, value)| {
            MetadataRecord::Config(ConfigRecord {
                topic: name.to_string(),
                name: key.clone(),
                value: Some(value.clone()),
            })
        }));
        let partitions = self
            .partition_records(topic_id, 0, assignment)
            .map_err(CreateTopicError::InvalidReplicaAssignment)?;
        records.extend(partitions);
        Ok(self.commit(records))
    }

    /// A legal name, not taken, and not colliding with a taken one in metric names.
    fn check_new_topic_name(&self, name: &str) -> Result<(), CreateTopicError> {
        topic_name::validate(name).map_err(CreateTopicError::InvalidTopicName)?;
        if self.image.topic(name).is_some() {
            return Err(CreateTopicError::TopicAlreadyExists(name.to_string()));
        }
        if let Some(other) = self
            .image
            .topics()
            .find(|t| topic_name::collide(&t.name, name))
        {
            return Err(CreateTopicError::InvalidTopicName(format!(
                "Topic '{name}' collides with existing topic: {}",
                other.name
            )));
        }
        Ok(())
    }

    /// The replicas of each partition of a new topic: the client's assignment, checked, or
    /// Kafka's placement over the live brokers from a start drawn from `entropy`.
    fn plan_assignment(
        &self,
        request: &CreateTopic,
        entropy: u64,
    ) -> Result<Vec<Vec<BrokerId>>, CreateTopicError> {
        if let Some(assignment) = &request.assignment {
            if request.partitions.is_some() || request.replication_factor.is_some() {
                return Err(CreateTopicError::InvalidRequest(
                    "A manual partition assignment was specified, so the number of partitions and the replication factor must not be.".to_string(),
                ));
            }
            check_count(assignment.len())?;
            self.check_assignment(assignment, None)
                .map_err(CreateTopicError::InvalidReplicaAssignment)?;
            return Ok(assignment.clone());
        }
        let partitions = request.partitions.unwrap_or(self.config.num_partitions);
        check_count(partitions as usize)?;
        let factor = request
            .replication_factor
            .unwrap_or(self.config.default_replication_factor);
        if factor == 0 {
            return Err(CreateTopicError::InvalidReplicationFactor(
                "Replication factor must be larger than 0.".to_string(),
            ));
        }
        let brokers = self.image.live_brokers();
        check_enough_brokers(factor as usize, brokers.len())
            .map_err(CreateTopicError::InvalidReplicationFactor)?;
        let n = brokers.len() as u64;
        let start = Start {
            index: (seed::mix(entropy, 1) % n) as usize,
            replica_shift: (seed::mix(entropy, 2) % n) as usize,
        };
        Ok(placement::assign_replicas(
            &brokers,
            0,
            partitions,
            factor as usize,
            start,
        ))
    }

    /// Deletes a topic with its partitions and configs.
    pub fn delete_topic(&mut self, topic: &str) -> Result<Vec<MetadataRecord>, DeleteTopicError> {
        let topic = self
            .image
            .topic(topic)
            .ok_or_else(|| DeleteTopicError::UnknownTopic(topic.to_string()))?;
        let records = vec![MetadataRecord::RemoveTopic(RemoveTopicRecord {
            topic_id: topic.id,
        })];
        Ok(self.commit(records))
    }

    /// Grows `topic` to `count` partitions (the new total, as in CreatePartitions). New
    /// partitions get the topic's replication factor, placed where Kafka would put them, or on
    /// the brokers `assignment` gives (one list per new partition).
    pub fn create_partitions(
        &mut self,
        topic: &str,
        count: u32,
        assignment: Option<&[Vec<BrokerId>]>,
    ) -> Result<Vec<MetadataRecord>, CreatePartitionsError> {
        let image = self
            .image
            .topic(topic)
            .ok_or_else(|| CreatePartitionsError::UnknownTopic(topic.to_string()))?;
        let current = image.partitions.len() as u32;
        if count <= current {
            return Err(CreatePartitionsError::InvalidPartitions(format!(
                "Topic {topic} currently has {current} partition(s), {count} would not be an increase."
            )));
        }
        if count > TOPIC_PARTITIONS_MAX {
            return Err(CreatePartitionsError::InvalidPartitions(format!(
                "{count} partitions exceed the limit of {TOPIC_PARTITIONS_MAX}."
            )));
        }
        let factor = image.partitions[0].replicas.len();
        let added = count - current;
        let assignment = match assignment {
            Some(assignment) => {
                if assignment.len() != added as usize {
                    return Err(CreatePartitionsError::InvalidReplicaAssignment(format!(
                        "Attempted to add {added} additional partition(s), but {} assignment(s) were specified.",
                        assignment.len()
                    )));
                }
                self.check_assignment(assignment, Some(factor))
                    .map_err(CreatePartitionsError::InvalidReplicaAssignment)?;
                assignment.to_vec()
            }
            None => {
                let brokers = self.image.live_brokers();
                check_enough_brokers(factor, brokers.len())
                    .map_err(CreatePartitionsError::InvalidReplicationFactor)?;
                // As Kafka does: continue from where the first partition's leader sits.
                let first = image.partitions[0].preferred_leader();
                let index = brokers.iter().position(|b| *b >= first).unwrap_or(0);
                let start = Start {
                    index,
                    replica_shift: index,
                };
                placement::assign_replicas(&brokers, current, added, factor, start)
            }
        };
        let topic_id = image.id;
        let records = self
            .partition_records(topic_id, current, assignment)
            .map_err(CreatePartitionsError::InvalidReplicaAssignment)?;
        Ok(self.commit(records))
    }

    /// `Partition` records for `assignment`, numbered from `first`: the ISR is the live
    /// replicas, the leader the first of them, both epochs zero.
    fn partition_records(
        &self,
        topic_id: TopicId,
        first: u32,
        assignment: Vec<Vec<BrokerId>>,
    ) -> Result<Vec<MetadataRecord>, String> {
        assignment
            .into_iter()
            .zip(first..)
            .map(|(replicas, partition)| {
                let isr: Vec<BrokerId> = replicas
                    .iter()
                    .copied()
                    .filter(|b| self.image.is_live(*b))
                    .collect();
                let leader = *isr.first().ok_or_else(|| {
                    format!("All brokers specified for partition {partition} are fenced.")
                })?;
                Ok(MetadataRecord::Partition(PartitionRecord {
                    topic_id,
                    partition,
                    replicas,
                    isr,
                    leader,
                    leader_epoch: 0,
                    partition_epoch: 0,
                }))
            })
            .collect()
    }

    /// A client's replica lists: non-empty, no broker twice, every broker registered, all of
    /// one length (`factor`, when the topic already has one).
    fn check_assignment(
        &self,
        assignment: &[Vec<BrokerId>],
        factor: Option<usize>,
    ) -> Result<(), String> {
        let factor = factor.or(assignment.first().map(Vec::len)).unwrap_or(0);
        for (partition, replicas) in assignment.iter().enumerate() {
            if replicas.is_empty() {
                return Err(format!(
                    "The assignment for partition {partition} has no replicas."
                ));
            }
            if replicas.len() != factor {
                return Err(format!(
                    "The assignment for partition {partition} has {} replica(s), but the others have {factor}.",
                    replicas.len()
                ));
            }
            let mut seen = BTreeSet::new();
            for broker in replicas {
                if self.image.broker(*broker).is_none() {
                    return Err(format!(
                        "The assignment for partition {partition} includes broker {broker}, which is not registered."
                    ));
                }
                if !seen.insert(*broker) {
                    return Err(format!(
                        "The assignment for partition {partition} includes broker {broker} more than once."
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A partition count CreateTopics can accept.
fn check_count(partitions: usize) -> Result<(), CreateTopicError> {
    if partitions == 0 {
        return Err(CreateTopicError::InvalidPartitions(
            "Number of partitions must be larger than 0.".to_string(),
        ));
    }
    if partitions > TOPIC_PARTITIONS_MAX as usize {
        return Err(CreateTopicError::InvalidPartitions(format!(
            "{partitions} partitions exceed the limit of {TOPIC_PARTITIONS_MAX}."
        )));
    }
    Ok(())
}

/// Kafka's message when there are fewer live brokers than replicas wanted.
fn check_enough_brokers(factor: usize, brokers: usize) -> Result<(), String> {
    if factor > brokers {
        return Err(format!(
            "Unable to replicate the partition {factor} time(s): The target replication factor of {factor} cannot be reached because only {brokers} broker(s) are registered."
        ));
    }
    Ok(())
}
