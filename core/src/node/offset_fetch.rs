//! OffsetFetch as a node answers it, for both shells: only the coordinator of the group, once
//! it has loaded the group's offsets partition, answers from its state; with
//! `require_stable` (KIP-447, OffsetFetch v7+, sent by consumers with
//! `isolation.level=read_committed`), a partition whose commit is not settled is answered
//! UNSTABLE_OFFSET_COMMIT so that the client asks again, as Kafka's
//! `GroupMetadataManager.getOffsets` does.

use super::Node;
use crate::ErrorCode;
use crate::assignor::TopicPartition;
use crate::broker::StorageFactory;
use crate::group::{OffsetFetchError, OffsetFetchResults};

impl<F: StorageFactory> Node<F> {
    /// The committed offsets of `group_id`: of `partitions`, or of every partition with one
    /// when `None`. Errors of the whole group: NOT_COORDINATOR (this node does not coordinate
    /// it, or has no coordinator role), COORDINATOR_LOAD_IN_PROGRESS (it is loading the
    /// group's offsets partition), INVALID_GROUP_ID. With `require_stable`, a partition is
    /// UNSTABLE_OFFSET_COMMIT while a commit of it is pending: written to the offsets
    /// partition but not yet acknowledged by its ISR, or held by a transaction whose marker
    /// has not settled it.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[TopicPartition]>,
        require_stable: bool,
    ) -> OffsetFetchResults {
        let Some(coordinator) = &self.coordinator else {
            return Err(OffsetFetchError::NotCoordinator);
        };
        if let Err(code) = self.group_gate(group_id) {
            return Err(if code == ErrorCode::COORDINATOR_LOAD_IN_PROGRESS {
                OffsetFetchError::CoordinatorLoadInProgress
            } else {
                OffsetFetchError::NotCoordinator
            });
        }
        let offsets = coordinator.handle_offset_fetch(group_id, partitions)?;
        Ok(offsets
            .into_iter()
            .map(|(tp, committed)| {
                let unstable = require_stable
                    && (coordinator.has_pending_commit(group_id, &tp)
                        || self.txns.offsets.has_pending_offset(group_id, &tp));
                let answer = if unstable {
                    Err(OffsetFetchError::UnstableOffsetCommit)
                } else {
                    Ok(committed)
                };
                (tp, answer)
            })
            .collect())
    }

    /// Whether this node answers requests about `group_id` now: `None` when it does, else
    /// the error (NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS while it loads the group's
    /// offsets partition), for answers built in a shell (DescribeGroups).
    pub fn group_error(&self, group_id: &str) -> Option<ErrorCode> {
        match &self.coordinator {
            None => Some(ErrorCode::NOT_COORDINATOR),
            Some(_) => self.group_gate(group_id).err(),
        }
    }

    /// Whether this node is loading any offsets partition (ListGroups then answers
    /// COORDINATOR_LOAD_IN_PROGRESS with the groups it has, as Kafka does).
    pub fn loading_groups(&self) -> bool {
        self.loads.partitions().next().is_some()
    }
}
