//! The sticky partitioner for keyless records (KIP-480; librdkafka's
//! `sticky.partitioning.linger.ms`): all keyless records of a topic go to one partition until
//! its batch is sent, then to another. Fewer, fuller batches than a random choice per record.

use std::collections::BTreeMap;

use super::Choose;

/// The current sticky partition of each topic.
#[derive(Clone, Debug, Default)]
pub struct StickyPartitioner {
    current: BTreeMap<String, u32>,
}

impl StickyPartitioner {
    /// The sticky partition of `topic`, chosen on first use (or when the partition count shrank
    /// below it).
    pub fn partition(
        &mut self,
        topic: &str,
        partition_count: u32,
        choose: &mut impl Choose,
    ) -> u32 {
        assert!(partition_count > 0, "a topic has at least one partition");
        match self.current.get(topic) {
            Some(&partition) if partition < partition_count => partition,
            _ => {
                let partition = choose.choose(partition_count);
                self.current.insert(topic.to_owned(), partition);
                partition
            }
        }
    }

    /// A batch of `topic` was sent on `partition`: if that is the sticky partition, move to a
    /// different one (any other, when there is more than one), as the Java client's
    /// `StickyPartitionCache.nextPartition` does.
    pub fn batch_sent(
        &mut self,
        topic: &str,
        partition: u32,
        partition_count: u32,
        choose: &mut impl Choose,
    ) {
        assert!(partition_count > 0, "a topic has at least one partition");
        if self.current.get(topic) != Some(&partition) {
            return;
        }
        let next = if partition_count == 1 {
            0
        } else {
            // Draw among the other partitions, then skip over the current one.
            let draw = choose.choose(partition_count - 1);
            if draw >= partition { draw + 1 } else { draw }
        };
        self.current.insert(topic.to_owned(), next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_until_a_batch_is_sent_then_moves_elsewhere() {
        let mut sticky = StickyPartitioner::default();
        let mut draws = [2u32, 2, 0].into_iter();
        let mut choose = |n: u32| draws.next().unwrap() % n;
        assert_eq!(sticky.partition("t", 4, &mut choose), 2);
        assert_eq!(sticky.partition("t", 4, &mut choose), 2);
        // Draw 2 among the three others {0, 1, 3} is partition 3.
        sticky.batch_sent("t", 2, 4, &mut choose);
        assert_eq!(sticky.partition("t", 4, &mut choose), 3);
        // Draw 0 among {0, 1, 2} is partition 0.
        sticky.batch_sent("t", 3, 4, &mut choose);
        assert_eq!(sticky.partition("t", 4, &mut choose), 0);
    }

    #[test]
    fn a_batch_on_another_partition_does_not_move_it() {
        let mut sticky = StickyPartitioner::default();
        let mut choose = |_: u32| 1;
        assert_eq!(sticky.partition("t", 3, &mut choose), 1);
        sticky.batch_sent("t", 0, 3, &mut |_: u32| panic!("no draw expected"));
        assert_eq!(sticky.partition("t", 3, &mut choose), 1);
    }

    #[test]
    fn topics_are_independent_and_a_single_partition_stays() {
        let mut sticky = StickyPartitioner::default();
        assert_eq!(sticky.partition("a", 5, &mut |_: u32| 4), 4);
        assert_eq!(sticky.partition("b", 5, &mut |_: u32| 1), 1);
        sticky.batch_sent("c", 0, 1, &mut |_: u32| 0);
        assert_eq!(sticky.partition("c", 1, &mut |_: u32| 0), 0);
        sticky.batch_sent("c", 0, 1, &mut |_: u32| {
            panic!("no draw with one partition")
        });
        assert_eq!(sticky.partition("c", 1, &mut |_: u32| 0), 0);
        assert_eq!(sticky.partition("a", 5, &mut |_: u32| 0), 4);
    }
}
