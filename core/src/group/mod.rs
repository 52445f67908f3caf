//! The group coordinator (the classic protocol) and committed offsets.
//!
//! Consumers that share a `group.id` divide a topic's partitions among themselves through the
//! coordinator: each member sends JoinGroup, the coordinator waits until every known member has
//! (re)joined or the rebalance timeout passes, answers all of them at once with a new
//! generation, and designates a leader; the leader computes the assignment (see
//! [`crate::assignor`]) and sends it in SyncGroup; the coordinator hands each member its share.
//! Heartbeats keep a member's session alive; a member silent for `session.timeout.ms` is removed
//! and the others rebalance. Committed offsets say where the group resumes reading.
//!
//! [`Coordinator`] is a deterministic state machine: each call takes the current time; answers
//! that may have to wait (JoinGroup, SyncGroup) come out as [`Output`]s addressed to the
//! caller's [`RequestId`], together with [`GroupRecord`]s to persist in the internal compacted
//! log (Kafka's `__consumer_offsets`) and [`GroupEvent`]s for the trace. The shell calls
//! [`Coordinator::tick`] at [`Coordinator::next_deadline`] so that timeouts fire, and rebuilds
//! the coordinator after a restart by [`Coordinator::replay`]ing the records it persisted.
//!
//! The group states and their transitions are Kafka's:
//!
//! ```text
//!            first join                 all members joined (or rebalance timeout)
//!   Empty ──────────────► PreparingRebalance ─────────────────► CompletingRebalance
//!     ▲                      ▲   │ no member left                      │ leader's SyncGroup
//!     └──────────────────────┼───┘                                     ▼
//!                            └──── join, leave, timeout ─────────── Stable
//!   Empty ── DeleteGroups ──► Dead
//! ```
//!
//! CompletingRebalance also falls back to PreparingRebalance when a member joins or leaves (or
//! the leader never assigns) before the assignment arrives.
//!
//! The group lives on the broker that leads partition [`offsets_partition`] of the offsets
//! topic. A broker that stops leading it calls [`Coordinator::unload`]; the new leader replays
//! that partition's records.

mod admin;
mod classic_group;
mod config;
mod coordinator;
mod error;
mod heartbeat;
mod join;
mod lag;
mod leave;
mod member;
mod messages;
mod offset_delete;
mod offsets;
mod offsets_log;
mod placement;
mod rebalance;
mod record_format;
mod records;
mod state;
mod sync;
mod timers;
mod tombstones;
mod txn_offsets;
mod unload;
mod written;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
pub(crate) mod test_support;

pub use admin::{GroupDescription, GroupListing, MemberDescription};
pub use config::CoordinatorConfig;
pub use coordinator::Coordinator;
pub use error::{
    DeleteGroupError, HeartbeatError, JoinGroupError, LeaveGroupError, OffsetCommitError,
    OffsetDeleteError, OffsetFetchError, SyncGroupError,
};
pub use lag::{LagRow, lag};
pub use messages::{
    GroupEvent, HeartbeatRequest, JoinGroupRequest, JoinedGroup, JoinedMember, MemberIdentity,
    OffsetCommitRequest, Output, Protocol, RemovalReason, RequestId, SyncGroupRequest, SyncedGroup,
};
pub use offset_delete::OffsetDeleteResults;
pub use offsets::{CommitOffset, CommittedOffset, OffsetFetchResults};
pub use offsets_log::{
    GroupLogReplay, OFFSETS_TOPIC, OFFSETS_TOPIC_SEGMENT_BYTES, OffsetsLog, OffsetsLogError,
    RECORDS_PER_BATCH, TxnGroupRecord, decode_group_batches, encode_group_batches,
    encode_txn_offset_batch,
};
pub use placement::offsets_partition;
pub use records::{GroupMetadataValue, GroupRecord, GroupRecordKey, MemberMetadataValue, compact};
pub use state::GroupState;
