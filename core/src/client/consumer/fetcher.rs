//! Positions and fetching: where each owned partition starts (committed offset, else
//! `auto.offset.reset`), fetches to partition leaders, and the buffers `poll` drains.

use std::collections::{BTreeMap, VecDeque};

use super::{Consumer, ConsumerEvent, ConsumerRecord, InFlight, OffsetReset, Position};
use crate::assignor::TopicPartition;
use crate::batch::{decode_records, split_batches};
use crate::broker::{
    FetchPartition, FetchRequest, FetchResponse, IsolationLevel, ListOffsetsPartition,
    ListedOffset, OffsetSpec,
};
use crate::client::{Destination, Request};
use crate::controller::BrokerId;
use crate::group::OffsetFetchResults;
use crate::log::{AbortedFilter, BatchKind};
use crate::{ErrorCode, Millis};

/// The replica id a consumer's fetch carries.
const CONSUMER_REPLICA_ID: BrokerId = -1;

impl Consumer {
    fn leader_of(&self, tp: &TopicPartition) -> Option<(BrokerId, i32)> {
        let p = self.metadata.get(&tp.topic)?.get(tp.partition as usize)?;
        (p.leader >= 0).then_some((p.leader, p.leader_epoch))
    }

    /// Asks for committed offsets of partitions without a position, and resets those the
    /// group has none for.
    pub(super) fn fetch_positions(&mut self, now: Millis) {
        let unknown: Vec<TopicPartition> = self
            .positions
            .iter()
            .filter(|(_, p)| **p == Position::Unknown)
            .map(|(tp, _)| tp.clone())
            .collect();
        let fetching = self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::OffsetFetch));
        if !unknown.is_empty() && !fetching && now >= self.offset_fetch_retry_at {
            let group_id = self.config.group_id.clone();
            // Under read_committed the Java client asks for stable offsets (KIP-447): a
            // partition whose offset a transaction still holds is UNSTABLE_OFFSET_COMMIT,
            // asked for again after `retry.backoff.ms`, so that a consumer taking over never
            // starts from an offset an open transaction is about to move.
            let require_stable = self.config.isolation_level == IsolationLevel::ReadCommitted;
            let request = Request::OffsetFetch {
                group_id,
                partitions: unknown,
                require_stable,
            };
            self.send_to_coordinator(request, InFlight::OffsetFetch, now);
        }
        let listing = self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::ListOffsets));
        if listing {
            return;
        }
        let spec = match self.config.auto_offset_reset {
            OffsetReset::Earliest => OffsetSpec::Earliest,
            OffsetReset::Latest => OffsetSpec::Latest,
            OffsetReset::None => return,
        };
        let mut per_leader: BTreeMap<BrokerId, Vec<ListOffsetsPartition>> = BTreeMap::new();
        for (tp, position) in &self.positions {
            if *position != Position::Resetting {
                continue;
            }
            let Some((leader, epoch)) = self.leader_of(tp) else {
                self.metadata_stale = true;
                continue;
            };
            per_leader
                .entry(leader)
                .or_default()
                .push(ListOffsetsPartition {
                    tp: tp.clone(),
                    spec,
                    current_leader_epoch: Some(epoch),
                });
        }
        // One at a time keeps it simple; the answer triggers the next.
        if let Some((leader, partitions)) = per_leader.into_iter().next() {
            self.send(
                Destination::Broker(leader),
                Request::ListOffsets(partitions),
                InFlight::ListOffsets,
                now,
            );
        }
    }

    pub(super) fn on_offset_fetch(&mut self, result: OffsetFetchResults, now: Millis) {
        let Ok(offsets) = result else {
            self.retry_unknown_positions();
            return;
        };
        for (tp, committed) in offsets {
            if self.positions.get(&tp) != Some(&Position::Unknown) {
                continue;
            }
            match committed {
                // Not settled yet (UNSTABLE_OFFSET_COMMIT, KIP-447): the position stays
                // unknown and is asked for again after `retry.backoff.ms`, as the Java
                // client's `ConsumerCoordinator` retries an `UnstableOffsetCommitException`.
                Err(_) => {
                    self.offset_fetch_retry_at = now.plus(self.config.retry_backoff_ms);
                }
                Ok(Some(c)) if c.offset >= 0 => {
                    self.positions.insert(tp.clone(), Position::Known(c.offset));
                    self.events.push_back(ConsumerEvent::PositionSet {
                        tp,
                        offset: c.offset,
                        committed: true,
                    });
                }
                Ok(_) => self.reset_position(tp),
            }
        }
    }

    /// A partition has no usable offset: `auto.offset.reset` decides.
    fn reset_position(&mut self, tp: TopicPartition) {
        if self.config.auto_offset_reset == OffsetReset::None {
            self.positions.insert(tp.clone(), Position::Failed);
            self.events.push_back(ConsumerEvent::NoOffset { tp });
        } else {
            self.positions.insert(tp, Position::Resetting);
        }
    }

    pub(super) fn on_list_offsets(&mut self, listed: Vec<ListedOffset>) {
        for l in listed {
            if self.positions.get(&l.tp) != Some(&Position::Resetting) {
                continue;
            }
            if l.error == ErrorCode::NONE && l.offset >= 0 {
                self.positions
                    .insert(l.tp.clone(), Position::Known(l.offset));
                self.events.push_back(ConsumerEvent::PositionSet {
                    tp: l.tp,
                    offset: l.offset,
                    committed: false,
                });
            } else {
                self.metadata_stale = true;
            }
        }
    }

    /// An OffsetFetch or ListOffsets went unanswered: partitions waiting on it ask again.
    pub(super) fn retry_unknown_positions(&mut self) {
        self.metadata_stale = true;
    }

    /// Fetches every owned partition that has a position and an empty buffer, one request
    /// per leader at a time.
    pub(super) fn send_fetches(&mut self, now: Millis) {
        if now < self.fetch_retry_at {
            return;
        }
        let busy: Vec<TopicPartition> = self
            .requests
            .iter()
            .filter_map(|c| match c {
                InFlight::Fetch(asked) => Some(asked.iter().map(|(tp, _)| tp.clone())),
                _ => None,
            })
            .flatten()
            .collect();
        let mut per_leader: BTreeMap<BrokerId, Vec<FetchPartition>> = BTreeMap::new();
        for tp in &self.owned {
            let Some(Position::Known(offset)) = self.positions.get(tp) else {
                continue;
            };
            if busy.contains(tp) || self.buffers.get(tp).is_some_and(|b| !b.is_empty()) {
                continue;
            }
            let Some((leader, epoch)) = self.leader_of(tp) else {
                self.metadata_stale = true;
                continue;
            };
            per_leader.entry(leader).or_default().push(FetchPartition {
                tp: tp.clone(),
                fetch_offset: *offset,
                partition_max_bytes: self.config.max_partition_fetch_bytes,
                current_leader_epoch: Some(epoch),
            });
        }
        for (leader, partitions) in per_leader {
            // One fetch at a time per leader, as the Java client's fetcher does.
            let fetching = self.requests.iter_with_destination().any(|(to, c)| {
                to == Destination::Broker(leader) && matches!(c, InFlight::Fetch(_))
            });
            if fetching {
                continue;
            }
            let asked = partitions
                .iter()
                .map(|p| (p.tp.clone(), p.fetch_offset))
                .collect();
            let fetch = FetchRequest {
                replica_id: CONSUMER_REPLICA_ID,
                max_wait_ms: self.config.fetch_max_wait_ms,
                min_bytes: self.config.fetch_min_bytes,
                max_bytes: self.config.fetch_max_bytes,
                isolation_level: self.config.isolation_level,
                partitions,
            };
            self.send(
                Destination::Broker(leader),
                Request::Fetch(fetch),
                InFlight::Fetch(asked),
                now,
            );
        }
    }

    pub(super) fn on_fetch(
        &mut self,
        asked: Vec<(TopicPartition, i64)>,
        response: FetchResponse,
        now: Millis,
    ) {
        for p in response.partitions {
            let Some((_, fetch_offset)) = asked.iter().find(|(tp, _)| *tp == p.tp) else {
                continue;
            };
            let current = self.positions.get(&p.tp).copied();
            // A partition revoked or repositioned since the fetch went out drops its answer.
            if !self.owned.contains(&p.tp) || current != Some(Position::Known(*fetch_offset)) {
                continue;
            }
            match p.error {
                ErrorCode::NONE => {
                    // read_uncommitted: no aborted transactions listed, so only control
                    // batches are skipped.
                    let filter = AbortedFilter::new(p.aborted_transactions);
                    let (records, next_offset) =
                        records_from(&p.tp, &p.records, *fetch_offset, filter);
                    if !records.is_empty() {
                        self.buffers.insert(p.tp.clone(), records);
                    } else if next_offset > *fetch_offset {
                        // Batches without a record at or past the position (emptied by the
                        // log cleaner, kept as a header for the producer state): skip them,
                        // as Kafka's fetcher moves to the batch's next offset.
                        self.positions
                            .insert(p.tp.clone(), Position::Known(next_offset));
                    }
                }
                ErrorCode::OFFSET_OUT_OF_RANGE => self.reset_position(p.tp.clone()),
                _ => {
                    self.metadata_stale = true;
                    self.fetch_retry_at = now.plus(self.config.retry_backoff_ms);
                }
            }
        }
    }

    /// Takes up to `max.poll.records` records, partition by partition, advancing positions.
    pub(super) fn drain_buffers(&mut self) -> Vec<ConsumerRecord> {
        let mut out = Vec::new();
        let owned: Vec<TopicPartition> = self.owned.iter().cloned().collect();
        for tp in owned {
            let Some(buffer) = self.buffers.get_mut(&tp) else {
                continue;
            };
            while out.len() < self.config.max_poll_records {
                let Some(record) = buffer.pop_front() else {
                    break;
                };
                self.positions
                    .insert(tp.clone(), Position::Known(record.offset.saturating_add(1)));
                out.push(record);
            }
            if out.len() >= self.config.max_poll_records {
                break;
            }
        }
        out
    }
}

/// The records of fetched batches from `fetch_offset` on (the first batch may start before
/// it), and the offset after the last batch read (`fetch_offset` when none was). Batches that
/// fail to parse end the list: what came before them is still good.
fn records_from(
    tp: &TopicPartition,
    bytes: &[u8],
    fetch_offset: i64,
    mut filter: AbortedFilter,
) -> (VecDeque<ConsumerRecord>, i64) {
    let mut out = VecDeque::new();
    let mut next_offset = fetch_offset;
    let Ok(batches) = split_batches(bytes) else {
        return (out, next_offset);
    };
    for (range, summary) in batches {
        // Control batches and aborted transactions' batches are passed over, not returned.
        if filter.classify(&summary.header, &bytes[range.clone()]) != BatchKind::Data {
            next_offset = next_offset.max(summary.header.next_offset());
            continue;
        }
        let Ok(records) = decode_records(&bytes[range]) else {
            break;
        };
        next_offset = next_offset.max(summary.header.next_offset());
        for r in records.into_iter().filter(|r| r.offset >= fetch_offset) {
            out.push_back(ConsumerRecord {
                tp: tp.clone(),
                offset: r.offset,
                key: r.key,
                value: r.value,
            });
        }
    }
    (out, next_offset)
}
