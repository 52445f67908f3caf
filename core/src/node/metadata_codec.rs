//! The bytes of the metadata log in the Raft log: an entry holds one batch of
//! [`MetadataRecord`]s (what one controller command produced), a snapshot the metadata image
//! and the record offset it reaches. JSON through serde (the records' and the image's own
//! derives), as the server's metadata log file was before.

use serde::{Deserialize, Serialize};

use crate::controller::{MetadataImage, MetadataRecord};

/// A snapshot's data: the image after the first `record_offset` metadata records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataSnapshot {
    pub record_offset: u64,
    pub image: MetadataImage,
}

pub fn encode_records(records: &[MetadataRecord]) -> Vec<u8> {
    serde_json::to_vec(records).expect("metadata records encode")
}

/// The records of an entry; an empty entry (a new leader's) has none.
pub fn decode_records(data: &[u8]) -> Result<Vec<MetadataRecord>, serde_json::Error> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(data)
}

pub fn encode_snapshot(snapshot: &MetadataSnapshot) -> Vec<u8> {
    serde_json::to_vec(snapshot).expect("the metadata image encodes")
}

pub fn decode_snapshot(data: &[u8]) -> Result<MetadataSnapshot, serde_json::Error> {
    serde_json::from_slice(data)
}

/// The Raft log of a single voter `voter` that holds `records` as one committed entry: how a
/// metadata log written before the quorum existed (one record per line) enters it.
pub fn raft_log_of_records(
    voter: crate::controller::BrokerId,
    records: &[MetadataRecord],
) -> super::quorum::RaftLog {
    use super::quorum::{HardState, RaftEntry, RaftLog, raft_id};
    if records.is_empty() {
        return RaftLog::default();
    }
    RaftLog {
        hard_state: HardState {
            term: 1,
            vote: raft_id(voter),
            commit: 1,
        },
        snapshot: None,
        entries: vec![RaftEntry {
            index: 1,
            term: 1,
            data: encode_records(records),
        }],
    }
}
