//! Partition leadership: ISR changes asked for by leaders (AlterPartition) and preferred
//! leader election.

use super::election::{self, Outcome};
use super::errors::{AlterPartitionError, ElectLeadersError};
use super::machine::{Controller, change_record};
use super::records::{BrokerId, MetadataRecord, TopicId};

/// A leader's request to change a partition's ISR (Kafka's AlterPartition). The leader sends
/// the epochs it knows; if either is not the current one, the leader's view is out of date and
/// the request is refused, so two stale views can never overwrite each other.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlterPartition {
    /// The broker asking: it must be the leader.
    pub broker_id: BrokerId,
    pub topic_id: TopicId,
    pub partition: u32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    /// The ISR the leader wants, including itself.
    pub new_isr: Vec<BrokerId>,
}

impl Controller {
    /// Validates and applies a leader's ISR change; the partition epoch goes up by one. The
    /// new ISR is kept in replica order. Asking for the current ISR changes nothing.
    pub fn alter_partition(
        &mut self,
        request: &AlterPartition,
    ) -> Result<Vec<MetadataRecord>, AlterPartitionError> {
        let topic = self
            .image
            .topic_by_id(request.topic_id)
            .ok_or(AlterPartitionError::UnknownTopicId(request.topic_id))?;
        let partition = topic
            .partitions
            .get(request.partition as usize)
            .ok_or(AlterPartitionError::UnknownPartition(request.partition))?;
        if partition.leader != request.broker_id {
            return Err(AlterPartitionError::NotLeader {
                requester: request.broker_id,
                leader: partition.leader,
            });
        }
        let (requested, current) = (request.leader_epoch, partition.leader_epoch);
        if requested < current {
            return Err(AlterPartitionError::FencedLeaderEpoch { requested, current });
        }
        if requested > current {
            return Err(AlterPartitionError::UnknownLeaderEpoch { requested, current });
        }
        if request.partition_epoch != partition.partition_epoch {
            return Err(AlterPartitionError::StalePartitionEpoch {
                requested: request.partition_epoch,
                current: partition.partition_epoch,
            });
        }
        let invalid = |reason| AlterPartitionError::InvalidIsr {
            isr: request.new_isr.clone(),
            reason,
        };
        let new_isr: Vec<BrokerId> = partition
            .replicas
            .iter()
            .copied()
            .filter(|b| request.new_isr.contains(b))
            .collect();
        if new_isr.len() != request.new_isr.len() {
            let duplicates = request
                .new_isr
                .iter()
                .any(|b| request.new_isr.iter().filter(|c| *c == b).count() > 1);
            return Err(invalid(if duplicates {
                "it names a broker twice"
            } else {
                "it names a broker that is not a replica"
            }));
        }
        if !new_isr.contains(&partition.leader) {
            return Err(invalid("it does not include the leader"));
        }
        if let Some(joining) = new_isr
            .iter()
            .find(|b| !partition.isr.contains(b) && !self.image.is_live(**b))
        {
            return Err(AlterPartitionError::IneligibleReplica(*joining));
        }
        let outcome = Outcome {
            leader: partition.leader,
            isr: new_isr,
        };
        let records = change_record(topic, request.partition, partition, outcome)
            .into_iter()
            .collect();
        Ok(self.commit(records))
    }

    /// Moves leadership back to each partition's first replica where that replica is live,
    /// in the ISR and not already leading: after a broker returned and caught up, the load goes
    /// back to where placement put it. `partitions` limits the election to those (topic,
    /// index) pairs; `None` means every partition.
    pub fn elect_preferred_leaders(
        &mut self,
        partitions: Option<&[(String, u32)]>,
    ) -> Result<Vec<MetadataRecord>, ElectLeadersError> {
        if let Some(wanted) = partitions
            && let Some((topic, index)) = wanted
                .iter()
                .find(|(t, i)| self.image.partition(t, *i).is_none())
        {
            return Err(ElectLeadersError::UnknownTopicOrPartition(
                topic.clone(),
                *index,
            ));
        }
        let records = self.preferred_elections(partitions);
        Ok(self.commit(records))
    }

    /// Leadership moves to every preferred replica (of `partitions`, or of all) that is live,
    /// in the ISR and not leading.
    pub(super) fn preferred_elections(
        &self,
        partitions: Option<&[(String, u32)]>,
    ) -> Vec<MetadataRecord> {
        self.image
            .partitions()
            .filter(|(topic, index, _)| {
                partitions
                    .is_none_or(|wanted| wanted.iter().any(|(t, i)| *t == topic.name && i == index))
            })
            .filter_map(|(topic, index, partition)| {
                let leader = election::preferred_leader(partition, |b| self.image.is_live(b))?;
                let outcome = Outcome {
                    leader,
                    isr: partition.isr.clone(),
                };
                change_record(topic, index, partition, outcome)
            })
            .collect()
    }
}
