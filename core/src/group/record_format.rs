//! The bytes of the offsets topic's records, in Kafka's own `__consumer_offsets` format, so that
//! the server stores them as Kafka would and tools that read that topic understand them.
//!
//! Keys start with a version that says what they are: 0 or 1 an offset (`OffsetCommitKey`:
//! group, topic, partition), 2 a group (`GroupMetadataKey`: group). Values are
//! `OffsetCommitValue` (written at version 3: offset, leader epoch, metadata, commit timestamp)
//! and `GroupMetadataValue` (written at version 3: protocol type, generation, protocol, leader,
//! state timestamp, members). A tombstone has no value.

use super::offsets::CommittedOffset;
use super::records::{GroupMetadataValue, GroupRecord, MemberMetadataValue};
use crate::Millis;
use crate::assignor::wire::{Reader, Writer};
use crate::assignor::{DecodeError, TopicPartition};

const OFFSET_KEY_VERSION: i16 = 1;
const GROUP_KEY_VERSION: i16 = 2;
const OFFSET_VALUE_VERSION: i16 = 3;
const GROUP_VALUE_VERSION: i16 = 3;

impl GroupRecord {
    /// The record's key, and its value (`None` for a tombstone).
    pub fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut key = Writer::default();
        match self {
            GroupRecord::Offset {
                group,
                partition,
                value,
            } => {
                key.i16(OFFSET_KEY_VERSION);
                key.string(group);
                key.string(&partition.topic);
                key.i32(partition.partition);
                (key.into_bytes(), value.as_ref().map(encode_offset))
            }
            GroupRecord::Group { group, value } => {
                key.i16(GROUP_KEY_VERSION);
                key.string(group);
                (key.into_bytes(), value.as_ref().map(encode_group))
            }
        }
    }

    /// Reads a record back from its key and value.
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<GroupRecord, DecodeError> {
        let mut k = Reader::new(key);
        match k.i16()? {
            0 | 1 => {
                let group = k.string()?;
                let partition = TopicPartition::new(k.string()?, k.i32()?);
                let value = value.map(decode_offset).transpose()?;
                Ok(GroupRecord::Offset {
                    group,
                    partition,
                    value,
                })
            }
            2 => {
                let group = k.string()?;
                let value = value.map(decode_group).transpose()?;
                Ok(GroupRecord::Group { group, value })
            }
            version => Err(DecodeError::UnsupportedVersion(version)),
        }
    }
}

/// Kafka's timestamps are signed; ours never exceed `i64::MAX` in practice.
fn timestamp(millis: Millis) -> i64 {
    i64::try_from(millis.0).unwrap_or(i64::MAX)
}

fn millis(value: i64) -> Millis {
    Millis(u64::try_from(value).unwrap_or(0))
}

fn encode_offset(offset: &CommittedOffset) -> Vec<u8> {
    let mut w = Writer::default();
    w.i16(OFFSET_VALUE_VERSION);
    w.i64(offset.offset);
    w.i32(offset.leader_epoch.unwrap_or(-1));
    w.string(&offset.metadata);
    w.i64(timestamp(offset.commit_timestamp));
    w.into_bytes()
}

fn decode_offset(bytes: &[u8]) -> Result<CommittedOffset, DecodeError> {
    let mut r = Reader::new(bytes);
    let version = r.i16()?;
    if !(0..=OFFSET_VALUE_VERSION).contains(&version) {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let offset = r.i64()?;
    let leader_epoch = if version >= 3 { r.i32()? } else { -1 };
    let metadata = r.string()?;
    let commit_timestamp = millis(r.i64()?);
    if version == 1 {
        // The expire timestamp of old brokers; retention is the coordinator's business now.
        r.i64()?;
    }
    Ok(CommittedOffset {
        offset,
        leader_epoch: (leader_epoch >= 0).then_some(leader_epoch),
        metadata,
        commit_timestamp,
    })
}

fn encode_group(value: &GroupMetadataValue) -> Vec<u8> {
    let mut w = Writer::default();
    w.i16(GROUP_VALUE_VERSION);
    w.string(value.protocol_type.as_deref().unwrap_or_default());
    w.i32(value.generation_id);
    w.nullable_string(value.protocol_name.as_deref());
    w.nullable_string(value.leader.as_deref());
    w.i64(timestamp(value.current_state_timestamp));
    w.array_length(value.members.len());
    for m in &value.members {
        w.string(&m.member_id);
        w.nullable_string(m.group_instance_id.as_deref());
        w.string(&m.client_id);
        w.string(&m.client_host);
        w.i32(timeout(m.rebalance_timeout));
        w.i32(timeout(m.session_timeout));
        w.nullable_bytes(Some(&m.subscription));
        w.nullable_bytes(Some(&m.assignment));
    }
    w.into_bytes()
}

/// Timeouts are `int32` milliseconds on the wire; the coordinator only accepts ones that fit.
fn timeout(millis: Millis) -> i32 {
    i32::try_from(millis.0).unwrap_or(i32::MAX)
}

fn decode_group(bytes: &[u8]) -> Result<GroupMetadataValue, DecodeError> {
    let mut r = Reader::new(bytes);
    let version = r.i16()?;
    if !(0..=GROUP_VALUE_VERSION).contains(&version) {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let protocol_type = Some(r.string()?).filter(|t| !t.is_empty());
    let generation_id = r.i32()?;
    let protocol_name = r.nullable_string()?;
    let leader = r.nullable_string()?;
    let current_state_timestamp = if version >= 2 {
        millis(r.i64()?)
    } else {
        Millis::ZERO
    };
    let count = r.array_length()?;
    let mut members = Vec::with_capacity(count);
    for _ in 0..count {
        let member_id = r.string()?;
        let group_instance_id = if version >= 3 {
            r.nullable_string()?
        } else {
            None
        };
        let client_id = r.string()?;
        let client_host = r.string()?;
        let rebalance_timeout = if version >= 1 { Some(r.i32()?) } else { None };
        let session_timeout = r.i32()?;
        let as_millis = |ms: i32| Millis(u64::try_from(ms).unwrap_or(0));
        members.push(MemberMetadataValue {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            // Version 0 had one timeout for both.
            rebalance_timeout: as_millis(rebalance_timeout.unwrap_or(session_timeout)),
            session_timeout: as_millis(session_timeout),
            subscription: r.nullable_bytes()?.unwrap_or_default(),
            assignment: r.nullable_bytes()?.unwrap_or_default(),
        });
    }
    Ok(GroupMetadataValue {
        protocol_type,
        generation_id,
        protocol_name,
        leader,
        current_state_timestamp,
        members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_record(value: Option<CommittedOffset>) -> GroupRecord {
        GroupRecord::Offset {
            group: "g".into(),
            partition: TopicPartition::new("t", 2),
            value,
        }
    }

    #[test]
    fn offset_commit_bytes() {
        let record = offset_record(Some(CommittedOffset {
            offset: 42,
            leader_epoch: None,
            metadata: "m".into(),
            commit_timestamp: Millis(1_000),
        }));
        let (key, value) = record.encode();
        #[rustfmt::skip]
        assert_eq!(key, [0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 2]);
        #[rustfmt::skip]
        assert_eq!(value.as_deref(), Some(&[
            0, 3,
            0, 0, 0, 0, 0, 0, 0, 42,          // offset
            0xff, 0xff, 0xff, 0xff,           // leader epoch -1: unknown
            0, 1, b'm',                       // metadata
            0, 0, 0, 0, 0, 0, 0x03, 0xe8,     // commit timestamp 1000
        ][..]));
        assert_eq!(GroupRecord::decode(&key, value.as_deref()), Ok(record));
    }

    #[test]
    fn an_old_offset_value_with_an_expire_timestamp() {
        #[rustfmt::skip]
        let v1 = [
            0, 1,
            0, 0, 0, 0, 0, 0, 0, 7,
            0, 0,                             // empty metadata
            0, 0, 0, 0, 0, 0, 0, 5,           // commit timestamp
            0, 0, 0, 0, 0, 0, 0, 9,           // expire timestamp, ignored
        ];
        let (key, _) = offset_record(None).encode();
        let expected = offset_record(Some(CommittedOffset {
            offset: 7,
            leader_epoch: None,
            metadata: String::new(),
            commit_timestamp: Millis(5),
        }));
        assert_eq!(GroupRecord::decode(&key, Some(&v1)), Ok(expected));
    }

    #[test]
    fn tombstones_have_no_value() {
        let (key, value) = offset_record(None).encode();
        assert_eq!(value, None);
        assert_eq!(GroupRecord::decode(&key, None), Ok(offset_record(None)));
        let group = GroupRecord::Group {
            group: "g".into(),
            value: None,
        };
        let (key, value) = group.encode();
        assert_eq!(key, [0, 2, 0, 1, b'g']);
        assert_eq!(GroupRecord::decode(&key, value.as_deref()), Ok(group));
    }

    #[test]
    fn group_metadata_round_trips() {
        let record = GroupRecord::Group {
            group: "g".into(),
            value: Some(GroupMetadataValue {
                protocol_type: Some("consumer".into()),
                generation_id: 4,
                protocol_name: Some("range".into()),
                leader: Some("m-1".into()),
                current_state_timestamp: Millis(77),
                members: vec![MemberMetadataValue {
                    member_id: "m-1".into(),
                    group_instance_id: Some("pod-0".into()),
                    client_id: "c".into(),
                    client_host: "/10.0.0.1".into(),
                    session_timeout: Millis(45_000),
                    rebalance_timeout: Millis(300_000),
                    subscription: vec![1, 2],
                    assignment: vec![3],
                }],
            }),
        };
        let (key, value) = record.encode();
        assert_eq!(GroupRecord::decode(&key, value.as_deref()), Ok(record));
        // An empty group: no protocol, no leader (nulls on the wire).
        let empty = GroupRecord::Group {
            group: "g".into(),
            value: Some(GroupMetadataValue {
                protocol_type: None,
                generation_id: 5,
                protocol_name: None,
                leader: None,
                current_state_timestamp: Millis(9),
                members: vec![],
            }),
        };
        let (key, value) = empty.encode();
        #[rustfmt::skip]
        assert_eq!(value.as_deref(), Some(&[
            0, 3,
            0, 0,                              // protocol type ""
            0, 0, 0, 5,                        // generation
            0xff, 0xff,                        // protocol null
            0xff, 0xff,                        // leader null
            0, 0, 0, 0, 0, 0, 0, 9,            // state timestamp
            0, 0, 0, 0,                        // no members
        ][..]));
        assert_eq!(GroupRecord::decode(&key, value.as_deref()), Ok(empty));
    }

    #[test]
    fn unknown_versions_are_errors() {
        assert_eq!(
            GroupRecord::decode(&[0, 9], None),
            Err(DecodeError::UnsupportedVersion(9))
        );
        let (key, _) = offset_record(None).encode();
        assert_eq!(
            GroupRecord::decode(&key, Some(&[0, 4])),
            Err(DecodeError::UnsupportedVersion(4))
        );
        assert!(matches!(
            GroupRecord::decode(&[0, 1, 0], None),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
