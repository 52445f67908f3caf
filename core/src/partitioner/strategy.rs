//! The strategy of a producer: a key hash for keyed records, a random or sticky choice for
//! keyless ones, with librdkafka's names.

use super::{Choose, StickyPartitioner, crc32, murmur2, to_positive};

/// How a record's key becomes a partition (librdkafka's `partitioner` setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyHash {
    /// `consistent`: CRC-32 of the key; a missing key hashes like an empty one.
    Consistent,
    /// `consistent_random` (librdkafka's default): CRC-32 of the key; no key or an empty one,
    /// random.
    ConsistentRandom,
    /// `murmur2`: the Java client's murmur2; a missing key hashes like an empty one.
    Murmur2,
    /// `murmur2_random` (the Java client's behaviour): murmur2 of the key; no key, random.
    Murmur2Random,
    /// `random`: every record goes to a random partition.
    Random,
}

impl KeyHash {
    /// The strategy for a librdkafka `partitioner` value.
    pub fn from_name(name: &str) -> Option<KeyHash> {
        Some(match name {
            "consistent" => KeyHash::Consistent,
            "consistent_random" => KeyHash::ConsistentRandom,
            "murmur2" => KeyHash::Murmur2,
            "murmur2_random" => KeyHash::Murmur2Random,
            "random" => KeyHash::Random,
            _ => return None,
        })
    }

    /// The librdkafka name of the strategy.
    pub fn name(self) -> &'static str {
        match self {
            KeyHash::Consistent => "consistent",
            KeyHash::ConsistentRandom => "consistent_random",
            KeyHash::Murmur2 => "murmur2",
            KeyHash::Murmur2Random => "murmur2_random",
            KeyHash::Random => "random",
        }
    }

    /// The partition the key hashes to, or `None` when this strategy picks a random partition
    /// for it.
    pub fn hash_partition(self, key: Option<&[u8]>, partition_count: u32) -> Option<u32> {
        assert!(partition_count > 0, "a topic has at least one partition");
        match (self, key) {
            (KeyHash::Random, _)
            | (KeyHash::ConsistentRandom, None)
            | (KeyHash::Murmur2Random, None) => None,
            // librdkafka's consistent_random looks at the length, not at null.
            (KeyHash::ConsistentRandom, Some([])) => None,
            (KeyHash::Consistent | KeyHash::ConsistentRandom, key) => {
                Some(crc32(key.unwrap_or_default()) % partition_count)
            }
            (KeyHash::Murmur2 | KeyHash::Murmur2Random, key) => {
                Some(to_positive(murmur2(key.unwrap_or_default())) % partition_count)
            }
        }
    }
}

/// A producer's partitioner: the key strategy, and for records it would place at random,
/// either a fresh random partition each time or the sticky partition of the topic.
#[derive(Clone, Debug)]
pub struct Partitioner {
    key_hash: KeyHash,
    /// `None`: random per record (librdkafka with `sticky.partitioning.linger.ms=0`).
    sticky: Option<StickyPartitioner>,
}

impl Partitioner {
    pub fn new(key_hash: KeyHash, sticky: bool) -> Partitioner {
        Partitioner {
            key_hash,
            sticky: sticky.then(StickyPartitioner::default),
        }
    }

    /// librdkafka's defaults: `consistent_random`, sticky keyless records.
    pub fn librdkafka_default() -> Partitioner {
        Partitioner::new(KeyHash::ConsistentRandom, true)
    }

    /// The Java client's default: murmur2 for keys, sticky keyless records.
    pub fn java_default() -> Partitioner {
        Partitioner::new(KeyHash::Murmur2Random, true)
    }

    pub fn key_hash(&self) -> KeyHash {
        self.key_hash
    }

    /// The partition of `topic` (with `partition_count` partitions) for a record with `key`.
    pub fn partition(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        partition_count: u32,
        choose: &mut impl Choose,
    ) -> u32 {
        if let Some(partition) = self.key_hash.hash_partition(key, partition_count) {
            return partition;
        }
        match &mut self.sticky {
            Some(sticky) => sticky.partition(topic, partition_count, choose),
            None => choose.choose(partition_count),
        }
    }

    /// A batch for `partition` of `topic` was sent (or is full): sticky records move on.
    pub fn batch_sent(
        &mut self,
        topic: &str,
        partition: u32,
        partition_count: u32,
        choose: &mut impl Choose,
    ) {
        if let Some(sticky) = &mut self.sticky {
            sticky.batch_sent(topic, partition, partition_count, choose);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A choice function that must not be called: keyed records never draw.
    fn never(_: u32) -> u32 {
        panic!("a keyed record drew a random partition")
    }

    #[test]
    fn consistent_random_hashes_keys_with_crc32() {
        let mut p = Partitioner::librdkafka_default();
        // crc32("123456789") = 0xCBF43926 = 3421780262.
        assert_eq!(
            p.partition("t", Some(b"123456789"), 6, &mut never),
            3_421_780_262 % 6
        );
        // An empty key is placed like a missing one: on the sticky partition.
        assert_eq!(p.partition("t", Some(b""), 6, &mut |_: u32| 4), 4);
        assert_eq!(p.partition("t", None, 6, &mut never), 4);
    }

    #[test]
    fn murmur2_hashes_keys_like_the_java_client() {
        let mut p = Partitioner::java_default();
        // murmur2("foobar") = -790332482; toPositive = 1357151166.
        assert_eq!(
            p.partition("t", Some(b"foobar"), 10, &mut never),
            1_357_151_166 % 10
        );
    }

    /// The expectations of librdkafka's test 0048-partitioner, over 17 partitions.
    #[test]
    fn matches_librdkafka() {
        let keys: [Option<&[u8]>; 5] = [
            None,
            Some(b""),
            Some(b"23456"),
            Some(b"this is another string with more length to it perhaps"),
            Some(b"hejsan"),
        ];
        let expected: [(KeyHash, [Option<u32>; 5]); 4] = [
            (
                KeyHash::Consistent,
                [
                    Some(0),
                    Some(0),
                    Some(0xb1b4_51d7),
                    Some(0xb015_0df7),
                    Some(0xd077_037e),
                ],
            ),
            (
                KeyHash::ConsistentRandom,
                [
                    None,
                    None,
                    Some(0xb1b4_51d7),
                    Some(0xb015_0df7),
                    Some(0xd077_037e),
                ],
            ),
            (
                KeyHash::Murmur2,
                [
                    Some(0x106e_08d9),
                    Some(0x106e_08d9),
                    Some(0x058d_780f),
                    Some(0x4f77_03da),
                    Some(0x5ec1_9395),
                ],
            ),
            (
                KeyHash::Murmur2Random,
                [
                    None,
                    Some(0x106e_08d9),
                    Some(0x058d_780f),
                    Some(0x4f77_03da),
                    Some(0x5ec1_9395),
                ],
            ),
        ];
        for (strategy, hashes) in expected {
            for (key, hash) in keys.iter().zip(hashes) {
                let partition = hash.map(|h| h % 17);
                assert_eq!(
                    strategy.hash_partition(*key, 17),
                    partition,
                    "{} {key:?}",
                    strategy.name()
                );
            }
        }
    }

    #[test]
    fn same_key_same_partition() {
        let mut p = Partitioner::librdkafka_default();
        let first = p.partition("t", Some(b"user-42"), 12, &mut never);
        for _ in 0..10 {
            assert_eq!(p.partition("t", Some(b"user-42"), 12, &mut never), first);
        }
    }

    #[test]
    fn non_random_strategies_hash_a_missing_key_as_empty() {
        assert_eq!(KeyHash::Consistent.hash_partition(None, 5), Some(0));
        let empty = to_positive(murmur2(b"")) % 5;
        assert_eq!(KeyHash::Murmur2.hash_partition(None, 5), Some(empty));
        assert_eq!(KeyHash::ConsistentRandom.hash_partition(None, 5), None);
        assert_eq!(KeyHash::Random.hash_partition(Some(b"k"), 5), None);
    }

    #[test]
    fn keyless_without_stickiness_draws_every_time() {
        let mut p = Partitioner::new(KeyHash::ConsistentRandom, false);
        let mut draws = [3u32, 1, 4].into_iter();
        let mut choose = |n: u32| draws.next().unwrap() % n;
        let picked: Vec<u32> = (0..3)
            .map(|_| p.partition("t", None, 6, &mut choose))
            .collect();
        assert_eq!(picked, vec![3, 1, 4]);
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "consistent",
            "consistent_random",
            "murmur2",
            "murmur2_random",
            "random",
        ] {
            assert_eq!(KeyHash::from_name(name).unwrap().name(), name);
        }
        assert_eq!(KeyHash::from_name("fnv1a"), None);
    }
}
