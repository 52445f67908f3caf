//! The structured trace of a run: every event the playground renders and a failure replays,
//! with a stable text form and a hash over it.
//!
//! The text of each entry is part of the contract: the same seed and scenario give the same
//! lines byte for byte (natively and in wasm), so [`Trace::hash`] (FNV-1a over the lines)
//! identifies a run. Change the format only on purpose.

use serde::Serialize;

use super::node::NodeId;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;

/// At most this many entries are kept for display; the hash and the count cover them all.
pub const TRACE_ENTRIES_MAX: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum TraceEvent {
    Sent {
        from: NodeId,
        to: NodeId,
        message: String,
    },
    Delivered {
        from: NodeId,
        to: NodeId,
        message: String,
    },
    Dropped {
        from: NodeId,
        to: NodeId,
        message: String,
        reason: &'static str,
    },
    /// A replica's log grew from `from_offset` to `log_end_offset`: a leader appended what
    /// producers sent, or a follower what it fetched from `leader` in `leader_epoch`.
    Append {
        broker: BrokerId,
        tp: TopicPartition,
        from_offset: i64,
        log_end_offset: i64,
        leader: BrokerId,
        leader_epoch: i32,
    },
    /// A log end offset moved down (a follower truncated, or a restart lost a tail).
    Truncated {
        broker: BrokerId,
        tp: TopicPartition,
        log_end_offset: i64,
    },
    HighWatermark {
        broker: BrokerId,
        tp: TopicPartition,
        high_watermark: i64,
    },
    IsrChanged {
        tp: TopicPartition,
        isr: Vec<BrokerId>,
    },
    LeaderElected {
        tp: TopicPartition,
        leader: BrokerId,
    },
    BrokerFenced {
        broker: BrokerId,
    },
    BrokerUnfenced {
        broker: BrokerId,
    },
    /// A controller became the active one: the quorum's leader in `term` (KRaft's epoch).
    ControllerElected {
        controller: BrokerId,
        term: u64,
    },
    /// A broker became the leader of an offsets partition and loaded its groups (`records`
    /// live records), or (`loaded: false`) stopped leading it and unloaded them.
    Coordinator {
        broker: BrokerId,
        partition: i32,
        loaded: bool,
        records: usize,
    },
    GroupState {
        group: String,
        state: String,
        generation_id: i32,
    },
    MemberRemoved {
        group: String,
        member_id: String,
        reason: String,
    },
    Joined {
        client: NodeId,
        generation_id: i32,
        leader: bool,
    },
    Synced {
        client: NodeId,
        assigned: Vec<TopicPartition>,
    },
    Revoked {
        client: NodeId,
        partitions: Vec<TopicPartition>,
    },
    Commit {
        client: NodeId,
        offsets: Vec<(TopicPartition, i64)>,
        error: Option<String>,
    },
    Produced {
        client: NodeId,
        value: String,
        tp: TopicPartition,
        offset: i64,
    },
    ProduceFailed {
        client: NodeId,
        value: String,
        error: String,
    },
    Retry {
        client: NodeId,
        tp: TopicPartition,
        attempt: u32,
        error: String,
    },
    Polled {
        client: NodeId,
        records: usize,
    },
    Fault {
        description: String,
    },
    /// A transactional client's step: `initTransactions` done, a transaction begun,
    /// committed, aborted, the producer fenced.
    Transaction {
        client: NodeId,
        description: String,
    },
    /// A broker's log cleaner finished a round over `tp`: it read `records_read` records of
    /// the offsets below `end_offset` and kept `records_kept`.
    Cleaned {
        broker: BrokerId,
        tp: TopicPartition,
        end_offset: i64,
        records_read: u64,
        records_kept: u64,
    },
    /// A broken engine invariant (also an anomaly).
    Invariant {
        description: String,
    },
}

fn tps(partitions: &[TopicPartition]) -> String {
    let names: Vec<String> = partitions
        .iter()
        .map(|tp| format!("{}-{}", tp.topic, tp.partition))
        .collect();
    format!("[{}]", names.join(","))
}

impl std::fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use TraceEvent::*;
        let tp = |tp: &TopicPartition| format!("{}-{}", tp.topic, tp.partition);
        match self {
            Sent { from, to, message } => write!(f, "send {from}->{to} {message}"),
            Delivered { from, to, message } => write!(f, "recv {from}->{to} {message}"),
            Dropped {
                from,
                to,
                message,
                reason,
            } => write!(f, "drop {from}->{to} {message} ({reason})"),
            Append {
                broker,
                tp: p,
                from_offset,
                log_end_offset,
                leader,
                leader_epoch,
            } => write!(
                f,
                "append broker-{broker} {} {from_offset}..{log_end_offset} leader=broker-{leader} epoch={leader_epoch}",
                tp(p)
            ),
            Truncated {
                broker,
                tp: p,
                log_end_offset,
            } => {
                write!(f, "truncate broker-{broker} {} leo={log_end_offset}", tp(p))
            }
            HighWatermark {
                broker,
                tp: p,
                high_watermark,
            } => {
                write!(f, "hw broker-{broker} {} hw={high_watermark}", tp(p))
            }
            IsrChanged { tp: p, isr } => write!(f, "isr {} {isr:?}", tp(p)),
            LeaderElected { tp: p, leader } => write!(f, "leader {} broker-{leader}", tp(p)),
            BrokerFenced { broker } => write!(f, "fenced broker-{broker}"),
            BrokerUnfenced { broker } => write!(f, "unfenced broker-{broker}"),
            ControllerElected { controller, term } => {
                write!(f, "active controller {controller} term={term}")
            }
            Coordinator {
                broker,
                partition,
                loaded: true,
                records,
            } => write!(
                f,
                "coordinator broker-{broker} loaded __consumer_offsets-{partition} records={records}"
            ),
            Coordinator {
                broker, partition, ..
            } => write!(
                f,
                "coordinator broker-{broker} unloaded __consumer_offsets-{partition}"
            ),
            GroupState {
                group,
                state,
                generation_id,
            } => write!(f, "group {group} {state} gen={generation_id}"),
            MemberRemoved {
                group,
                member_id,
                reason,
            } => write!(f, "group {group} removed {member_id} ({reason})"),
            Joined {
                client,
                generation_id,
                leader,
            } => write!(f, "join {client} gen={generation_id} leader={leader}"),
            Synced { client, assigned } => write!(f, "sync {client} assigned={}", tps(assigned)),
            Revoked { client, partitions } => write!(f, "revoke {client} {}", tps(partitions)),
            Commit {
                client,
                offsets,
                error,
            } => {
                let offsets: Vec<String> = offsets
                    .iter()
                    .map(|(p, o)| format!("{}@{o}", tp(p)))
                    .collect();
                write!(
                    f,
                    "commit {client} [{}] {}",
                    offsets.join(","),
                    error.as_deref().unwrap_or("ok")
                )
            }
            Produced {
                client,
                value,
                tp: p,
                offset,
            } => write!(f, "ack {client} {value} {}@{offset}", tp(p)),
            ProduceFailed {
                client,
                value,
                error,
            } => write!(f, "fail {client} {value} {error}"),
            Retry {
                client,
                tp: p,
                attempt,
                error,
            } => write!(f, "retry {client} {} attempt={attempt} {error}", tp(p)),
            Polled { client, records } => write!(f, "poll {client} records={records}"),
            Fault { description } => write!(f, "fault {description}"),
            Transaction {
                client,
                description,
            } => write!(f, "txn {client} {description}"),
            Cleaned {
                broker,
                tp: p,
                end_offset,
                records_read,
                records_kept,
            } => write!(
                f,
                "cleaned broker-{broker} {} below {end_offset}: kept {records_kept} of {records_read} records",
                tp(p)
            ),
            Invariant { description } => write!(f, "invariant {description}"),
        }
    }
}

/// One entry: when, and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    pub at: Millis,
    pub event: TraceEvent,
}

impl std::fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>8} {}", self.at.0, self.event)
    }
}

/// FNV-1a, 64 bits: tiny, stable across platforms, good enough to tell runs apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// The trace: the entries (the first [`TRACE_ENTRIES_MAX`]), their count, and the hash of
/// all their lines.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    entries: Vec<TraceEntry>,
    count: u64,
    hash: Fnv1a,
}

impl Trace {
    pub fn record(&mut self, at: Millis, event: TraceEvent) {
        let entry = TraceEntry { at, event };
        let line = entry.to_string();
        self.hash.write(line.as_bytes());
        self.hash.write(b"\n");
        self.count += 1;
        if self.entries.len() < TRACE_ENTRIES_MAX {
            self.entries.push(entry);
        }
    }

    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// How many entries were recorded (kept or not).
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// FNV-1a over every line and its newline.
    pub fn hash(&self) -> u64 {
        self.hash.finish()
    }

    /// The kept entries as text, one per line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            out.push_str(&entry.to_string());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_values() {
        let mut h = Fnv1a::default();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn hash_covers_the_text() {
        let mut a = Trace::default();
        a.record(
            Millis(1),
            TraceEvent::Fault {
                description: "x".into(),
            },
        );
        let mut h = Fnv1a::default();
        h.write(a.text().as_bytes());
        assert_eq!(a.hash(), h.finish());
        assert_eq!(a.text(), "       1 fault x\n");
    }
}
