//! What the shell keeps durable for the controller quorum, as plain data (no raft-rs type
//! leaves the quorum): the Raft hard state (term, vote, commit index), the latest snapshot of
//! the metadata image, and the log entries after it. Each entry's data is one batch of
//! [`crate::controller::MetadataRecord`]s, encoded by the node (see `node::metadata_codec`).
//!
//! The node hands the shell [`RaftWrite`]s; the shell makes each durable (and synced) before
//! it acts on any output after it, and gives the accumulated [`RaftLog`] back to
//! [`crate::node::Node::new`] on restart. [`RaftLog::apply`] is the one definition of how a
//! write changes the stored state, used by the simulator's disk and the server's file alike.

use serde::{Deserialize, Serialize};

/// Raft's hard state: what a voter must never forget (Raft §5.2, §5.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    /// The latest term this voter has seen (Kafka's KRaft calls it the leader epoch).
    pub term: u64,
    /// The Raft id this voter voted for in `term`, 0 for none.
    pub vote: u64,
    /// The highest log index known committed.
    pub commit: u64,
}

/// One Raft log entry: its index, the term it was proposed in, and its data (empty for the
/// entry a new leader appends on election).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftEntry {
    pub index: u64,
    pub term: u64,
    pub data: Vec<u8>,
}

/// A snapshot: the state machine (the metadata image) as of log index `index`, with the
/// voters then (Raft ids).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftSnapshot {
    pub index: u64,
    pub term: u64,
    pub voters: Vec<u64>,
    pub data: Vec<u8>,
}

/// One change to the durable Raft state, applied in the order of its fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftWrite {
    /// A snapshot received from the leader: it replaces the whole log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<RaftSnapshot>,
    /// A snapshot this node took of what it applied: the entries it covers are dropped
    /// (log compaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compacted: Option<RaftSnapshot>,
    /// New entries; a stored entry at or after the first one's index is dropped first (a
    /// follower's log is cut where it differs from the leader's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<RaftEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_state: Option<HardState>,
}

impl RaftWrite {
    pub fn is_empty(&self) -> bool {
        self.installed.is_none()
            && self.compacted.is_none()
            && self.entries.is_empty()
            && self.hard_state.is_none()
    }
}

/// Everything durable of one voter: what [`RaftWrite`]s add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftLog {
    pub hard_state: HardState,
    pub snapshot: Option<RaftSnapshot>,
    /// The entries after the snapshot, contiguous by index.
    pub entries: Vec<RaftEntry>,
}

impl RaftLog {
    /// Applies one write, as the shell's durable store must.
    pub fn apply(&mut self, write: RaftWrite) {
        if let Some(snapshot) = write.installed {
            self.entries.clear();
            self.snapshot = Some(snapshot);
        }
        if let Some(snapshot) = write.compacted {
            self.entries.retain(|e| e.index > snapshot.index);
            self.snapshot = Some(snapshot);
        }
        if let Some(first) = write.entries.first() {
            let first = first.index;
            self.entries.retain(|e| e.index < first);
            self.entries.extend(write.entries);
        }
        if let Some(hard_state) = write.hard_state {
            self.hard_state = hard_state;
        }
    }

    /// The whole state as one write (to rewrite a file compactly).
    pub fn to_write(&self) -> RaftWrite {
        RaftWrite {
            installed: self.snapshot.clone(),
            compacted: None,
            entries: self.entries.clone(),
            hard_state: Some(self.hard_state),
        }
    }

    /// Nothing was ever written.
    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none()
            && self.entries.is_empty()
            && self.hard_state == HardState::default()
    }

    /// The index of the last entry (or of the snapshot), 0 for an empty log.
    pub fn last_index(&self) -> u64 {
        self.entries
            .last()
            .map(|e| e.index)
            .or(self.snapshot.as_ref().map(|s| s.index))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, term: u64) -> RaftEntry {
        RaftEntry {
            index,
            term,
            data: vec![index as u8],
        }
    }

    #[test]
    fn writes_add_up_as_raft_storage_does() {
        let mut log = RaftLog::default();
        log.apply(RaftWrite {
            entries: vec![entry(1, 1), entry(2, 1), entry(3, 1)],
            hard_state: Some(HardState {
                term: 1,
                vote: 1,
                commit: 1,
            }),
            ..RaftWrite::default()
        });
        // A new leader's entry at index 3 replaces the old one and what followed it.
        log.apply(RaftWrite {
            entries: vec![entry(3, 2)],
            ..RaftWrite::default()
        });
        assert_eq!(log.entries, vec![entry(1, 1), entry(2, 1), entry(3, 2)]);
        let snapshot = RaftSnapshot {
            index: 2,
            term: 1,
            voters: vec![1],
            data: b"image".to_vec(),
        };
        log.apply(RaftWrite {
            compacted: Some(snapshot.clone()),
            ..RaftWrite::default()
        });
        assert_eq!(log.entries, vec![entry(3, 2)]);
        assert_eq!(log.last_index(), 3);
        let mut again = RaftLog::default();
        again.apply(log.to_write());
        assert_eq!(again, log);
        log.apply(RaftWrite {
            installed: Some(RaftSnapshot {
                index: 9,
                ..snapshot
            }),
            ..RaftWrite::default()
        });
        assert!(log.entries.is_empty());
        assert_eq!(log.last_index(), 9);
    }
}
