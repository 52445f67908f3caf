//! Where a new partition's replicas go: Kafka's rack-unaware assignment.
//!
//! The first replica of partition `p` is broker `(p + start) % n` of the sorted broker list, so
//! leaders go round-robin; the other replicas follow at a shift that grows by one every `n`
//! partitions, so followers spread too. Kafka picks `start` and the shift at random; here they
//! are inputs (from the controller's seed), so the same inputs place replicas the same way.

use super::records::BrokerId;

/// Where to start placing: the index of the first partition's first replica, and the shift
/// of the second replica from the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Start {
    pub(super) index: usize,
    pub(super) replica_shift: usize,
}

/// Replicas for partitions `first_partition .. first_partition + partitions`, each list of
/// `replication_factor` distinct brokers from `brokers` (sorted ascending, at least
/// `replication_factor` of them).
pub(super) fn assign_replicas(
    brokers: &[BrokerId],
    first_partition: u32,
    partitions: u32,
    replication_factor: usize,
    start: Start,
) -> Vec<Vec<BrokerId>> {
    let n = brokers.len();
    assert!(
        replication_factor >= 1 && replication_factor <= n,
        "{replication_factor} of {n}"
    );
    let mut shift = start.replica_shift;
    (first_partition..first_partition + partitions)
        .map(|partition| {
            let partition = partition as usize;
            if partition > 0 && partition.is_multiple_of(n) {
                shift += 1;
            }
            let first = (partition + start.index) % n;
            let followers = (0..replication_factor - 1).map(|j| {
                let offset = 1 + (shift + j) % (n - 1);
                brokers[(first + offset) % n]
            });
            std::iter::once(brokers[first]).chain(followers).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        brokers: &[BrokerId],
        first: u32,
        partitions: u32,
        rf: usize,
        start: (usize, usize),
        expect: &str,
    ) {
        let start = Start {
            index: start.0,
            replica_shift: start.1,
        };
        let actual: Vec<String> = assign_replicas(brokers, first, partitions, rf, start)
            .iter()
            .map(|replicas| format!("{replicas:?}"))
            .collect();
        assert_eq!(actual.join(" "), expect);
    }

    /// The example in the comment of Kafka's `assignReplicasToBrokersRackUnaware`.
    #[test]
    fn matches_kafkas_documented_example() {
        check(
            &[0, 1, 2, 3, 4],
            0,
            10,
            3,
            (0, 0),
            "[0, 1, 2] [1, 2, 3] [2, 3, 4] [3, 4, 0] [4, 0, 1] [0, 2, 3] [1, 3, 4] [2, 4, 0] [3, 0, 1] [4, 1, 2]",
        );
    }

    #[test]
    fn start_rotates_leaders_and_single_replicas_work() {
        check(&[1, 2, 3], 0, 3, 2, (1, 0), "[2, 3] [3, 1] [1, 2]");
        check(&[1, 2, 3], 0, 4, 1, (2, 5), "[3] [1] [2] [3]");
        check(&[7], 0, 2, 1, (0, 0), "[7] [7]");
    }

    #[test]
    fn new_partitions_continue_the_pattern() {
        check(&[0, 1, 2, 3, 4], 5, 2, 3, (0, 0), "[0, 2, 3] [1, 3, 4]");
    }
}
