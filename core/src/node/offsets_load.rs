//! Loading a partition of `__consumer_offsets` when this node becomes its leader (Kafka's
//! `GroupMetadataManager.loadGroupsAndOffsets`, run by its scheduler): the partition's log is
//! read from its start to the log end offset it had at the election, a bounded chunk per
//! step ([`LOAD_CHUNK_BYTES`]), each chunk folded into a `group::GroupLogReplay` that keeps
//! only the latest record of each key (so the load holds the groups' state, never the log),
//! and only when the whole of it is read are the live records replayed into the coordinator
//! and the partition counted as loaded. Until then
//! every request about its groups is answered COORDINATOR_LOAD_IN_PROGRESS ([`Node::group_gate`]),
//! so no client sees a half-loaded group. Records of transactions (TxnOffsetCommit's
//! transactional batches) take effect at their commit marker, are dropped at an abort, and
//! stay pending while their transaction is open, whichever later chunk holds the marker
//! (`group::GroupLogReplay`). A read that fails (a log that cannot be read, or that
//! changed under the load) starts the load over after [`LOAD_RETRY_BACKOFF_MS`], with an event
//! saying why.
//!
//! A small partition is read within the step that starts the load, so it is served at once;
//! a large one over as many [`Node::handle_timeout`] calls as it takes, asked for at once by
//! [`Node::poll_timeout`].

use std::collections::BTreeMap;

use super::offsets_topic::{LOAD_CHUNK_BYTES, OFFSETS_TOPIC};
use super::{Event, Node};
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::broker::StorageFactory;
use crate::group::{GroupLogReplay, decode_group_batches};

/// How long a load whose read failed waits before it starts over.
pub const LOAD_RETRY_BACKOFF_MS: u64 = 1_000;

/// The loads in progress, by offsets partition.
#[derive(Debug)]
pub(super) struct Loads {
    partitions: BTreeMap<i32, Load>,
    /// Bytes read per partition and step (tests make it small).
    pub(super) chunk_bytes: usize,
}

impl Default for Loads {
    fn default() -> Loads {
        Loads {
            partitions: BTreeMap::new(),
            chunk_bytes: LOAD_CHUNK_BYTES,
        }
    }
}

#[derive(Debug)]
struct Load {
    /// The next offset to read; the log end offset at the election; what the records read so
    /// far leave in effect.
    next: i64,
    end: i64,
    records: GroupLogReplay,
    /// When the next step may run (later than now after a failed read).
    due: Millis,
}

impl Loads {
    pub(super) fn contains(&self, partition: i32) -> bool {
        self.partitions.contains_key(&partition)
    }

    pub(super) fn partitions(&self) -> impl Iterator<Item = i32> + '_ {
        self.partitions.keys().copied()
    }

    /// The load of `partition` stops (this node no longer leads it).
    pub(super) fn cancel(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// How many records the load of `partition` holds so far (`GroupLogReplay::held`).
    #[cfg(test)]
    pub(super) fn held(&self, partition: i32) -> Option<usize> {
        self.partitions.get(&partition).map(|l| l.records.held())
    }

    /// When the next step has work.
    pub(super) fn next_deadline(&self) -> Option<Millis> {
        self.partitions.values().map(|l| l.due).min()
    }
}

/// What one step of a load came to.
enum Step {
    More,
    Done(GroupLogReplay),
    Failed(String),
}

impl<F: StorageFactory> Node<F> {
    /// Kafka's `onElection`: starts loading the groups of `partition`, and takes its first
    /// step at once.
    pub(super) fn start_offsets_load(&mut self, now: Millis, partition: i32) {
        if self.begin_offsets_load(partition, now) {
            self.step_offsets_load(now, partition);
        }
    }

    /// A load of `partition` from its log start to its log end now, first stepped at `due`;
    /// false if the partition is not hosted here.
    fn begin_offsets_load(&mut self, partition: i32, due: Millis) -> bool {
        let tp = TopicPartition::new(OFFSETS_TOPIC, partition);
        let Some(snapshot) = self.broker.as_ref().and_then(|b| b.partition(&tp)) else {
            return false;
        };
        let load = Load {
            next: snapshot.log_start_offset,
            end: snapshot.log_end_offset,
            records: GroupLogReplay::default(),
            due,
        };
        self.loads.partitions.insert(partition, load);
        true
    }

    /// One step of every load that is due.
    pub(super) fn step_offsets_loads(&mut self, now: Millis) {
        let due: Vec<i32> = self
            .loads
            .partitions
            .iter()
            .filter(|(_, l)| l.due <= now)
            .map(|(&p, _)| p)
            .collect();
        for partition in due {
            self.step_offsets_load(now, partition);
        }
    }

    /// Reads one chunk of `partition`'s log; replays the groups when it is all read.
    fn step_offsets_load(&mut self, now: Millis, partition: i32) {
        match self.read_offsets_chunk(partition) {
            Step::More => {}
            Step::Done(replay) => {
                self.loads.partitions.remove(&partition);
                let (live, open) = replay.finish();
                let coordinator = self.coordinator.as_mut().expect("partitioned groups");
                for record in &live {
                    coordinator.replay(record, now);
                }
                // Offsets of transactions still open are pending here again
                // (`txn_offsets.rs`).
                self.restore_pending_offsets(open);
                self.loaded.insert(partition);
                self.event(Event::CoordinatorLoaded {
                    partition,
                    records: live.len(),
                });
            }
            Step::Failed(reason) => {
                self.event(Event::StorageError {
                    description: format!(
                        "{OFFSETS_TOPIC}-{partition}: cannot load: {reason}; retrying in \
                         {LOAD_RETRY_BACKOFF_MS} ms"
                    ),
                });
                self.loads.partitions.remove(&partition);
                // Started over from the log as it is then.
                self.begin_offsets_load(partition, now.plus(Millis(LOAD_RETRY_BACKOFF_MS)));
            }
        }
    }

    fn read_offsets_chunk(&mut self, partition: i32) -> Step {
        let tp = TopicPartition::new(OFFSETS_TOPIC, partition);
        let chunk_bytes = self.loads.chunk_bytes;
        let (Some(broker), Some(load)) = (&self.broker, self.loads.partitions.get_mut(&partition))
        else {
            return Step::Failed("not hosted here".into());
        };
        if load.next >= load.end {
            return Step::Done(std::mem::take(&mut load.records));
        }
        let Some(bytes) = broker.read_log(&tp, load.next, chunk_bytes, load.end) else {
            return Step::Failed(format!("offset {} cannot be read", load.next));
        };
        // The log reads at least one whole batch when one is there: none is left below the
        // end (compaction can leave a gap at the tail).
        if bytes.is_empty() {
            return Step::Done(std::mem::take(&mut load.records));
        }
        match decode_group_batches(&bytes, load.next, &mut load.records) {
            Ok(Some(next)) if next > load.next => {
                load.next = next;
                if load.next >= load.end {
                    Step::Done(std::mem::take(&mut load.records))
                } else {
                    Step::More
                }
            }
            // Nothing whole below the end: the log changed under the load.
            Ok(_) => Step::Failed(format!("no whole batch at offset {}", load.next)),
            Err(e) => Step::Failed(e.to_string()),
        }
    }
}
