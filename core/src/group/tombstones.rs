//! Deletions undone when their tombstones are not written.
//!
//! DeleteGroups and OffsetDelete take effect in memory when their tombstones are produced (a
//! deleted offset is no longer fetched, a deleted group no longer listed). If the write of a
//! tombstone then fails, the record it meant to delete is still in the log, and a coordinator
//! that loads the partition later (after a failover or a restart) would bring it back. So the
//! coordinator keeps what it removed until the write is answered, and puts it back when it
//! fails, as Kafka's newer coordinator runtime reverts its in-memory state to the last
//! committed offset when an append fails (`CoordinatorRuntime`, KIP-848's group coordinator).
//! Offsets removed by expiry or with a deleted topic are not kept: they are removed again
//! after any reload.

use std::collections::BTreeMap;

use super::classic_group::ClassicGroup;
use super::coordinator::Coordinator;
use super::offsets::CommittedOffset;
use super::records::GroupRecord;
use crate::Millis;
use crate::assignor::TopicPartition;

/// What deletions removed, by key, while their tombstones are in flight.
#[derive(Debug, Default)]
pub(super) struct Deleted {
    offsets: BTreeMap<(String, TopicPartition), CommittedOffset>,
    /// Each group as it was when it was deleted (its offsets included) or forgotten.
    groups: BTreeMap<String, ClassicGroup>,
}

impl Deleted {
    pub(super) fn offset(&mut self, group: &str, tp: &TopicPartition, was: CommittedOffset) {
        self.offsets.insert((group.to_owned(), tp.clone()), was);
    }

    pub(super) fn group(&mut self, was: ClassicGroup) {
        self.groups.insert(was.group_id.clone(), was);
    }

    /// Drops what was kept of groups that left this coordinator (`moved`).
    pub(super) fn forget(&mut self, moved: impl Fn(&str) -> bool) {
        self.offsets.retain(|(group, _), _| !moved(group));
        self.groups.retain(|group, _| !moved(group));
    }
}

impl Coordinator {
    /// A tombstone's write was answered: if it failed, what it deleted comes back, unless
    /// something newer took its place meanwhile (a new group of the same id, a new commit).
    pub(super) fn tombstone_written(&mut self, record: &GroupRecord, acknowledged: bool) {
        match record {
            GroupRecord::Offset {
                group,
                partition,
                value: None,
            } => {
                let key = (group.clone(), partition.clone());
                let Some(was) = self.deleted.offsets.remove(&key) else {
                    return;
                };
                if acknowledged {
                    return;
                }
                // The group itself may have been forgotten with its last offset.
                if !self.groups.contains_key(group) {
                    let restored = self
                        .deleted
                        .groups
                        .remove(group)
                        .unwrap_or_else(|| ClassicGroup::new(group.clone(), Millis::ZERO));
                    self.groups.insert(group.clone(), restored);
                }
                let g = self.groups.get_mut(group).expect("inserted above");
                if !g.offsets.contains_key(partition) && !g.pending_offsets.contains_key(partition)
                {
                    g.offsets.insert(partition.clone(), was);
                }
            }
            GroupRecord::Group { group, value: None } => {
                let Some(was) = self.deleted.groups.remove(group) else {
                    return;
                };
                // A group forgotten without offsets holds nothing a client could miss.
                if !acknowledged && !was.offsets.is_empty() && !self.groups.contains_key(group) {
                    self.groups.insert(group.clone(), was);
                }
            }
            _ => {}
        }
    }
}
