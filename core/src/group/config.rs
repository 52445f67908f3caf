//! The broker settings the coordinator obeys, with Kafka's names and defaults.

use crate::Millis;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoordinatorConfig {
    /// `group.min.session.timeout.ms`: a shorter session timeout is refused.
    pub group_min_session_timeout_ms: Millis,
    /// `group.max.session.timeout.ms`: a longer session timeout is refused.
    pub group_max_session_timeout_ms: Millis,
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits
    /// for more members, so that a group starting up rebalances once instead of once per member.
    pub group_initial_rebalance_delay_ms: Millis,
    /// `group.max.size`: members (and members still to confirm their id) per group.
    pub group_max_size: usize,
    /// `offset.metadata.max.bytes`: the longest metadata string a commit may carry.
    pub offset_metadata_max_bytes: usize,
    /// `offsets.retention.minutes`, in milliseconds: how long the offsets of a group without
    /// members are kept after it became empty (or, for a group that never had members, after
    /// the commit).
    pub offsets_retention_ms: Millis,
}

impl Default for CoordinatorConfig {
    fn default() -> CoordinatorConfig {
        CoordinatorConfig {
            group_min_session_timeout_ms: Millis(6_000),
            group_max_session_timeout_ms: Millis(1_800_000),
            group_initial_rebalance_delay_ms: Millis(3_000),
            // Kafka's default is Int.MaxValue; a bound keeps memory bounded.
            group_max_size: 10_000,
            offset_metadata_max_bytes: 4_096,
            offsets_retention_ms: Millis(7 * 24 * 60 * 60 * 1_000),
        }
    }
}
