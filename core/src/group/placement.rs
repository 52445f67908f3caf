//! Which broker coordinates a group: the leader of one partition of the internal offsets
//! topic, chosen from the group id exactly as Kafka does, so that FindCoordinator answers the
//! way clients (and `kafka-consumer-groups.sh`) expect and a group's records all land in one
//! partition.

/// The partition of the offsets topic (with `partition_count` partitions,
/// `offsets.topic.num.partitions`, 50 by default) that holds `group_id`:
/// `Utils.abs(groupId.hashCode()) % partitionCount`, with Java's `String.hashCode`.
pub fn offsets_partition(group_id: &str, partition_count: i32) -> i32 {
    assert!(partition_count > 0, "the offsets topic has partitions");
    let hash = java_string_hash(group_id);
    // Kafka's `Utils.abs` maps i32::MIN to 0 rather than overflowing.
    let positive = if hash == i32::MIN { 0 } else { hash.abs() };
    positive % partition_count
}

/// Java's `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hashes() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        // The classic collision.
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        // Beyond the BMP: two UTF-16 units.
        assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn partitions_of_the_offsets_topic() {
        // Over 50 partitions. "hello" (99162322) and "polygenelubricants" (i32::MIN) are
        // well-known Java hash codes; the others were worked out from the same formula.
        let cases = [
            ("hello", 22),
            ("my-group", 12),            // hash -1906497762: made positive first
            ("test-consumer-group", 31), // hash -1793216381
            ("payments", 13),
            ("polygenelubricants", 0), // hash i32::MIN: Utils.abs gives 0
            ("", 0),
        ];
        for (group, partition) in cases {
            assert_eq!(offsets_partition(group, 50), partition, "{group}");
        }
    }
}
