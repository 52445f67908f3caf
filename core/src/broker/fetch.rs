//! Fetch: whole batches from each partition, for consumers up to the high watermark and for
//! follower replicas up to the log end. A fetch with too little data waits (see `purgatory`).

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;
use crate::group::RequestId;
use crate::log::AbortedTxn;

use super::purgatory::ParkedFetch;
use super::{Broker, Output, StorageFactory};

/// Which records a consumer may read (Fetch v4+'s `isolation_level`, KIP-98).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IsolationLevel {
    /// 0: everything below the high watermark, open and aborted transactions included.
    #[default]
    ReadUncommitted,
    /// 1: only below the last stable offset; the answer lists the aborted transactions in
    /// the fetched range so the consumer drops their records.
    ReadCommitted,
}

impl IsolationLevel {
    /// The level a Fetch or ListOffsets `isolation_level` byte names; anything but 1 reads
    /// uncommitted, as Kafka's `IsolationLevel.forId` answers 0 and 1 (and the request
    /// schema allows nothing else).
    pub fn from_wire(level: i8) -> IsolationLevel {
        if level == 1 {
            IsolationLevel::ReadCommitted
        } else {
            IsolationLevel::ReadUncommitted
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FetchRequest {
    /// -1 for a consumer; a broker id for a follower replica.
    pub replica_id: BrokerId,
    /// `fetch.max.wait.ms`: how long to wait for `min_bytes`.
    pub max_wait_ms: Millis,
    /// `fetch.min.bytes`.
    pub min_bytes: usize,
    /// `fetch.max.bytes`, over all partitions (the first batch is always sent whole).
    pub max_bytes: usize,
    /// Followers always read uncommitted.
    #[serde(default)]
    pub isolation_level: IsolationLevel,
    pub partitions: Vec<FetchPartition>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FetchPartition {
    pub tp: TopicPartition,
    pub fetch_offset: i64,
    /// `max.partition.fetch.bytes`.
    pub partition_max_bytes: usize,
    /// The leader epoch the client believes in (KIP-320), if it sent one.
    pub current_leader_epoch: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FetchResponse {
    pub partitions: Vec<FetchedPartition>,
}

impl FetchResponse {
    pub fn size_bytes(&self) -> usize {
        self.partitions.iter().map(|p| p.records.len()).sum()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FetchedPartition {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    pub high_watermark: i64,
    /// The high watermark held back by open transactions (see [`crate::log`]'s `txn`).
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
    /// Whole batches as stored; the first may start before `fetch_offset`.
    pub records: Vec<u8>,
    /// For a read_committed fetch, the aborted transactions overlapping the records sent
    /// (empty otherwise): the consumer drops each producer's records from its first offset
    /// up to its abort marker.
    #[serde(default)]
    pub aborted_transactions: Vec<AbortedTxn>,
}

impl FetchedPartition {
    /// A partition answered with `error` alone (no records, offsets -1).
    pub fn failed(tp: TopicPartition, error: ErrorCode) -> FetchedPartition {
        FetchedPartition {
            tp,
            error,
            high_watermark: -1,
            last_stable_offset: -1,
            log_start_offset: -1,
            records: Vec::new(),
            aborted_transactions: Vec::new(),
        }
    }
}

impl<F: StorageFactory> Broker<F> {
    /// Answers now if there is enough data (or an error, or no wait asked for), else parks the
    /// fetch until data arrives or `max_wait_ms` passes.
    pub fn fetch(&mut self, request: RequestId, fetch: FetchRequest, now: Millis) {
        let response = self.read(&fetch);
        if fetch.replica_id >= 0 {
            self.note_follower_fetch(&fetch, &response, now);
        }
        let has_error = response
            .partitions
            .iter()
            .any(|p| p.error != ErrorCode::NONE);
        let answer_now = fetch.max_wait_ms == Millis::ZERO
            || response.size_bytes() >= fetch.min_bytes
            || has_error
            || self.purgatory.is_full();
        if answer_now {
            self.outputs
                .push_back(Output::Fetched { request, response });
        } else {
            let deadline = now.plus(fetch.max_wait_ms);
            self.purgatory.fetches.push(ParkedFetch {
                request,
                deadline,
                fetch,
            });
        }
        // A follower's fetch may have moved the high watermark: produces waiting on it go.
        self.complete_waiting(now);
    }

    /// A follower's fetch tells the leader how far its log reaches, but only a fetch the
    /// leader accepted (its epoch current, its offset in range): a follower fetching for an
    /// older epoch may hold records this leader never had.
    fn note_follower_fetch(&mut self, fetch: &FetchRequest, response: &FetchResponse, now: Millis) {
        for (p, answer) in fetch.partitions.iter().zip(&response.partitions) {
            debug_assert_eq!(p.tp, answer.tp);
            if answer.error != ErrorCode::NONE {
                continue;
            }
            if let Some(partition) = self.partitions.get_mut(&p.tp) {
                partition.follower_fetched(fetch.replica_id, p.fetch_offset, now);
            }
        }
    }

    pub(super) fn read(&self, fetch: &FetchRequest) -> FetchResponse {
        let mut budget = fetch.max_bytes;
        let mut sent_any = false;
        let partitions = fetch
            .partitions
            .iter()
            .map(|p| {
                let read = self.read_partition(p, fetch, budget, sent_any);
                budget = budget.saturating_sub(read.records.len());
                sent_any |= !read.records.is_empty();
                read
            })
            .collect();
        FetchResponse { partitions }
    }

    fn read_partition(
        &self,
        p: &FetchPartition,
        fetch: &FetchRequest,
        budget: usize,
        sent_any: bool,
    ) -> FetchedPartition {
        let tp = p.tp.clone();
        let Some(partition) = self.partitions.get(&tp) else {
            return FetchedPartition::failed(tp, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
        };
        if !partition.is_leader() {
            return FetchedPartition::failed(tp, ErrorCode::NOT_LEADER_OR_FOLLOWER);
        }
        let epoch = partition.state.leader_epoch;
        match p.current_leader_epoch {
            Some(e) if e >= 0 && e < epoch => {
                return FetchedPartition::failed(tp, ErrorCode::FENCED_LEADER_EPOCH);
            }
            Some(e) if e > epoch => {
                return FetchedPartition::failed(tp, ErrorCode::UNKNOWN_LEADER_EPOCH);
            }
            _ => {}
        }
        let log = &partition.log;
        let high_watermark = partition.high_watermark();
        let last_stable_offset = partition.last_stable_offset();
        let mut fetched = FetchedPartition {
            tp,
            error: ErrorCode::NONE,
            high_watermark,
            last_stable_offset,
            log_start_offset: log.log_start_offset(),
            records: Vec::new(),
            aborted_transactions: Vec::new(),
        };
        if p.fetch_offset < log.log_start_offset() || p.fetch_offset > log.log_end_offset() {
            fetched.error = ErrorCode::OFFSET_OUT_OF_RANGE;
            return fetched;
        }
        // Consumers see only what the ISR has (read_committed: only closed transactions);
        // followers copy everything.
        let from_follower = fetch.replica_id >= 0;
        let read_committed =
            !from_follower && fetch.isolation_level == IsolationLevel::ReadCommitted;
        let end = if from_follower {
            log.log_end_offset()
        } else if read_committed {
            last_stable_offset
        } else {
            high_watermark
        };
        let max_bytes = p.partition_max_bytes.min(budget);
        if p.fetch_offset >= end || (max_bytes == 0 && sent_any) {
            return fetched;
        }
        match log.read_bounded(p.fetch_offset, max_bytes, end) {
            Ok(read) => fetched.records = read.records,
            Err(e) => fetched.error = e.code(),
        }
        if read_committed && !fetched.records.is_empty() {
            // Kafka bounds the lookup by the offset after the last batch sent.
            let upper = next_offset_after(&fetched.records).unwrap_or(end);
            match log.aborted_transactions(p.fetch_offset, upper) {
                Ok(aborted) => fetched.aborted_transactions = aborted,
                // Records without their aborted transactions would show aborted records.
                Err(e) => {
                    fetched.error = e.code();
                    fetched.records = Vec::new();
                }
            }
        }
        fetched
    }
}

/// The offset after the last whole batch in `records` (batches as the log stores them).
fn next_offset_after(records: &[u8]) -> Option<i64> {
    let mut position = 0;
    let mut next = None;
    while position < records.len() {
        let header = crate::batch::BatchHeader::parse(&records[position..]).ok()?;
        next = Some(header.next_offset());
        position += header.size_bytes();
    }
    next
}
