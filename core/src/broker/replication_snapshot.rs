//! Replication as the playground and the JSON API show it: who leads, what the leader knows of
//! each follower, the ISR change waiting for the controller, where a follower is in its
//! truncate-then-fetch cycle, and the leader-epoch cache.

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;
use crate::log::EpochStart;

use super::follower::FollowerPhase;
use super::{Broker, StorageFactory};

/// One partition's replication state on this broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationSnapshot {
    pub role: ReplicaRole,
    /// Where each leader epoch began in this replica's log.
    pub epochs: Vec<EpochStart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaRole {
    Leader {
        followers: Vec<FollowerProgress>,
        /// The ISR asked of the controller and not yet decided.
        pending_isr: Option<Vec<BrokerId>>,
    },
    Follower {
        leader: BrokerId,
        leader_epoch: i32,
        phase: FollowerPhase,
    },
    /// No leader to follow (the partition is offline, or this broker was never told).
    Offline,
}

/// What the leader knows of one follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowerProgress {
    pub broker: BrokerId,
    /// -1 until its first fetch in this leader epoch.
    pub log_end_offset: i64,
    pub last_caught_up: Millis,
    pub in_isr: bool,
}

impl<F: StorageFactory> Broker<F> {
    pub fn replication(&self, tp: &TopicPartition) -> Option<ReplicationSnapshot> {
        let p = self.partitions.get(tp)?;
        let role = if p.is_leader() {
            ReplicaRole::Leader {
                followers: p
                    .leader
                    .replicas
                    .iter()
                    .map(|(&broker, progress)| FollowerProgress {
                        broker,
                        log_end_offset: progress.log_end_offset,
                        last_caught_up: progress.last_caught_up,
                        in_isr: p.state.isr.contains(&broker),
                    })
                    .collect(),
                pending_isr: p.leader.isr_change.as_ref().map(|c| c.new_isr.clone()),
            }
        } else if let Some(f) = p.follower {
            ReplicaRole::Follower {
                leader: f.leader,
                leader_epoch: f.leader_epoch,
                phase: f.phase,
            }
        } else {
            ReplicaRole::Offline
        };
        Some(ReplicationSnapshot {
            role,
            epochs: p.epochs.entries().to_vec(),
        })
    }
}
