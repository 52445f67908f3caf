//! The consumer protocol: the bytes consumers put in JoinGroup (`Subscription`, the metadata of
//! each assignor protocol) and SyncGroup (`Assignment`), with the layout of Kafka's
//! `ConsumerProtocolSubscription` and `ConsumerProtocolAssignment` schemas (versions 0-3, not
//! flexible): an `int16` version, then the fields of that version, big-endian.
//!
//! To the coordinator these bytes are opaque; the server decodes them only to show who owns
//! what (`describe`, lag), and the simulated consumers encode them exactly as librdkafka and the
//! Java client do, so either side can talk to the other.

use super::wire::{Reader, Writer};
use super::{DecodeError, MemberSubscription, TopicPartition};

/// The JoinGroup `protocol_type` of consumers (Kafka Connect and Streams use others).
pub const PROTOCOL_TYPE: &str = "consumer";

/// The highest version Partita writes and reads field by field. A later version is read as this
/// one: later versions only append fields, as Kafka's `ConsumerProtocol` relies on.
pub const VERSION_MAX: i16 = 3;

/// Partitions of one topic, as the consumer protocol groups them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPartitions {
    pub topic: String,
    pub partitions: Vec<i32>,
}

/// Groups partitions by topic, topics and partitions in order.
pub fn group_by_topic(partitions: &[TopicPartition]) -> Vec<TopicPartitions> {
    let mut sorted = partitions.to_vec();
    sorted.sort();
    let mut grouped: Vec<TopicPartitions> = Vec::new();
    for tp in sorted {
        match grouped.last_mut() {
            Some(last) if last.topic == tp.topic => last.partitions.push(tp.partition),
            _ => grouped.push(TopicPartitions {
                topic: tp.topic,
                partitions: vec![tp.partition],
            }),
        }
    }
    grouped
}

/// One entry per partition.
pub fn flatten(grouped: &[TopicPartitions]) -> Vec<TopicPartition> {
    grouped
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|&p| TopicPartition::new(&t.topic, p))
        })
        .collect()
}

/// A member's subscription: what it sends as the metadata of each assignor it offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The version to write, or the version that was read.
    pub version: i16,
    pub topics: Vec<String>,
    pub user_data: Option<Vec<u8>>,
    /// Version 1+: what the member owns now (the cooperative protocol needs it).
    pub owned_partitions: Vec<TopicPartitions>,
    /// Version 2+: the generation `owned_partitions` is from; -1 when unknown.
    pub generation_id: i32,
    /// Version 3+: the member's `client.rack`.
    pub rack_id: Option<String>,
}

impl Subscription {
    /// A version-`VERSION_MAX` subscription to `topics`, owning nothing.
    pub fn new(topics: Vec<String>) -> Subscription {
        Subscription {
            version: VERSION_MAX,
            topics,
            user_data: None,
            owned_partitions: Vec::new(),
            generation_id: -1,
            rack_id: None,
        }
    }

    /// The bytes of this subscription at `self.version` (fields newer than it are left out,
    /// as Kafka leaves out ignorable fields).
    pub fn encode(&self) -> Vec<u8> {
        assert!(
            (0..=VERSION_MAX).contains(&self.version),
            "version {}",
            self.version
        );
        let mut w = Writer::default();
        w.i16(self.version);
        w.array_length(self.topics.len());
        for topic in &self.topics {
            w.string(topic);
        }
        w.nullable_bytes(self.user_data.as_deref());
        if self.version >= 1 {
            write_topic_partitions(&mut w, &self.owned_partitions);
        }
        if self.version >= 2 {
            w.i32(self.generation_id);
        }
        if self.version >= 3 {
            w.nullable_string(self.rack_id.as_deref());
        }
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Subscription, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = read_version(&mut r)?;
        let topic_count = r.array_length()?;
        let topics = (0..topic_count)
            .map(|_| r.string())
            .collect::<Result<_, _>>()?;
        let user_data = r.nullable_bytes()?;
        let mut subscription = Subscription::new(topics);
        subscription.version = version;
        subscription.user_data = user_data;
        if version >= 1 {
            subscription.owned_partitions = read_topic_partitions(&mut r)?;
        }
        if version >= 2 {
            subscription.generation_id = r.i32()?;
        }
        if version >= 3 {
            subscription.rack_id = r.nullable_string()?;
        }
        Ok(subscription)
    }

    /// What an assignor needs of this member.
    pub fn to_member(&self, member_id: &str) -> MemberSubscription {
        MemberSubscription {
            member_id: member_id.to_owned(),
            topics: self.topics.clone(),
            owned: flatten(&self.owned_partitions),
            generation: (self.generation_id >= 0).then_some(self.generation_id),
        }
    }
}

/// The partitions the leader assigned to one member, as SyncGroup carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub version: i16,
    pub assigned_partitions: Vec<TopicPartitions>,
    pub user_data: Option<Vec<u8>>,
}

impl Assignment {
    /// A version-`VERSION_MAX` assignment of `partitions`.
    pub fn new(partitions: &[TopicPartition]) -> Assignment {
        Assignment {
            version: VERSION_MAX,
            assigned_partitions: group_by_topic(partitions),
            user_data: None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        assert!(
            (0..=VERSION_MAX).contains(&self.version),
            "version {}",
            self.version
        );
        let mut w = Writer::default();
        w.i16(self.version);
        write_topic_partitions(&mut w, &self.assigned_partitions);
        w.nullable_bytes(self.user_data.as_deref());
        w.into_bytes()
    }

    /// Reads an assignment. Empty bytes, which the coordinator hands a member the leader gave
    /// nothing to (and every member in an error response), are an empty assignment, as the
    /// clients read them.
    pub fn decode(bytes: &[u8]) -> Result<Assignment, DecodeError> {
        if bytes.is_empty() {
            return Ok(Assignment::new(&[]));
        }
        let mut r = Reader::new(bytes);
        let version = read_version(&mut r)?;
        let assigned_partitions = read_topic_partitions(&mut r)?;
        let user_data = r.nullable_bytes()?;
        Ok(Assignment {
            version,
            assigned_partitions,
            user_data,
        })
    }

    pub fn partitions(&self) -> Vec<TopicPartition> {
        flatten(&self.assigned_partitions)
    }
}

/// The version prefix; a version above [`VERSION_MAX`] is read as `VERSION_MAX`.
fn read_version(r: &mut Reader<'_>) -> Result<i16, DecodeError> {
    match r.i16()? {
        version if version < 0 => Err(DecodeError::UnsupportedVersion(version)),
        version => Ok(version.min(VERSION_MAX)),
    }
}

fn write_topic_partitions(w: &mut Writer, topics: &[TopicPartitions]) {
    w.array_length(topics.len());
    for topic in topics {
        w.string(&topic.topic);
        w.array_length(topic.partitions.len());
        for &partition in &topic.partitions {
            w.i32(partition);
        }
    }
}

fn read_topic_partitions(r: &mut Reader<'_>) -> Result<Vec<TopicPartitions>, DecodeError> {
    let count = r.array_length()?;
    let mut topics = Vec::with_capacity(count);
    for _ in 0..count {
        let topic = r.string()?;
        let partition_count = r.array_length()?;
        let partitions = (0..partition_count)
            .map(|_| r.i32())
            .collect::<Result<_, _>>()?;
        topics.push(TopicPartitions { topic, partitions });
    }
    Ok(topics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned() -> Vec<TopicPartitions> {
        vec![TopicPartitions {
            topic: "t".into(),
            partitions: vec![0, 2],
        }]
    }

    #[test]
    fn subscription_v0_bytes() {
        let mut s = Subscription::new(vec!["t".into()]);
        s.version = 0;
        #[rustfmt::skip]
        let expected = [
            0, 0,             // version 0
            0, 0, 0, 1,       // one topic
            0, 1, b't',       // "t"
            0xff, 0xff, 0xff, 0xff, // null user data
        ];
        assert_eq!(s.encode(), expected);
        assert_eq!(Subscription::decode(&expected).unwrap(), s);
    }

    #[test]
    fn subscription_v3_bytes() {
        let s = Subscription {
            version: 3,
            topics: vec!["t".into()],
            user_data: Some(vec![7]),
            owned_partitions: owned(),
            generation_id: 5,
            rack_id: Some("r1".into()),
        };
        #[rustfmt::skip]
        let expected = [
            0, 3,
            0, 0, 0, 1, 0, 1, b't',
            0, 0, 0, 1, 7,            // user data [7]
            0, 0, 0, 1,               // one owned topic
            0, 1, b't',
            0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, // partitions 0 and 2
            0, 0, 0, 5,               // generation 5
            0, 2, b'r', b'1',         // rack "r1"
        ];
        assert_eq!(s.encode(), expected);
        assert_eq!(Subscription::decode(&expected).unwrap(), s);
    }

    #[test]
    fn every_version_round_trips_its_own_fields() {
        for version in 0..=VERSION_MAX {
            let s = Subscription {
                version,
                topics: vec!["a".into(), "b".into()],
                user_data: None,
                owned_partitions: if version >= 1 { owned() } else { vec![] },
                generation_id: if version >= 2 { 9 } else { -1 },
                rack_id: None,
            };
            assert_eq!(
                Subscription::decode(&s.encode()).unwrap(),
                s,
                "version {version}"
            );
        }
    }

    #[test]
    fn a_newer_version_is_read_as_the_latest_known() {
        let mut bytes = Subscription::new(vec!["t".into()]).encode();
        bytes[1] = 4;
        bytes.extend_from_slice(&[1, 2, 3]); // a field Partita does not know
        let s = Subscription::decode(&bytes).unwrap();
        assert_eq!(s.version, VERSION_MAX);
        assert_eq!(s.topics, vec!["t".to_string()]);
    }

    #[test]
    fn malformed_subscriptions_are_errors() {
        assert_eq!(
            Subscription::decode(&[0xff, 0xff]),
            Err(DecodeError::UnsupportedVersion(-1))
        );
        assert!(matches!(
            Subscription::decode(&[0, 0, 0, 0]),
            Err(DecodeError::Truncated { .. })
        ));
        // A topic count far beyond the bytes present is rejected before allocating.
        let huge = [0, 0, 0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            Subscription::decode(&huge),
            Err(DecodeError::Truncated { .. })
        ));
        let bad_utf8 = [0, 0, 0, 0, 0, 1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            Subscription::decode(&bad_utf8),
            Err(DecodeError::InvalidUtf8 { at: 8 })
        );
    }

    #[test]
    fn assignment_bytes() {
        let a = Assignment::new(&[TopicPartition::new("t", 2), TopicPartition::new("t", 0)]);
        #[rustfmt::skip]
        let expected = [
            0, 3,
            0, 0, 0, 1, 0, 1, b't',
            0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,
            0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(a.encode(), expected);
        let decoded = Assignment::decode(&expected).unwrap();
        assert_eq!(
            decoded.partitions(),
            vec![TopicPartition::new("t", 0), TopicPartition::new("t", 2)]
        );
    }

    #[test]
    fn empty_bytes_are_an_empty_assignment() {
        assert!(Assignment::decode(&[]).unwrap().partitions().is_empty());
    }

    #[test]
    fn subscription_to_member() {
        let mut s = Subscription::new(vec!["t".into()]);
        s.owned_partitions = owned();
        s.generation_id = 4;
        let m = s.to_member("m-1");
        assert_eq!(
            m.owned,
            vec![TopicPartition::new("t", 0), TopicPartition::new("t", 2)]
        );
        assert_eq!(m.generation, Some(4));
        assert_eq!(Subscription::new(vec![]).to_member("x").generation, None);
    }
}
