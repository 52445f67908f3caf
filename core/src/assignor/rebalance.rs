//! What a member gives up in a rebalance, under each rebalance protocol (KIP-429).
//!
//! - **Eager** (range, roundrobin): before it rejoins, a member revokes *everything* it owns
//!   (`onPartitionsRevoked` with all its partitions), so the whole group stops consuming until
//!   the new assignment arrives.
//! - **Cooperative** (cooperative-sticky): a member rejoins still owning and consuming its
//!   partitions; when the new assignment arrives it revokes only those no longer in it, and if
//!   there were any, it rejoins at once so that a follow-up rebalance hands them to their new
//!   owner.

use serde::{Deserialize, Serialize};

use super::TopicPartition;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RebalanceProtocol {
    Eager,
    Cooperative,
}

impl RebalanceProtocol {
    /// The partitions a member revokes when a rebalance starts, before it sends JoinGroup.
    pub fn revoke_before_join(self, owned: &[TopicPartition]) -> Vec<TopicPartition> {
        match self {
            RebalanceProtocol::Eager => owned.to_vec(),
            RebalanceProtocol::Cooperative => Vec::new(),
        }
    }

    /// The partitions a member revokes when its new assignment arrives: those it still owned
    /// (after [`revoke_before_join`](Self::revoke_before_join)) and was not given again.
    pub fn revoke_after_sync(
        self,
        still_owned: &[TopicPartition],
        assigned: &[TopicPartition],
    ) -> Vec<TopicPartition> {
        still_owned
            .iter()
            .filter(|tp| !assigned.contains(tp))
            .cloned()
            .collect()
    }

    /// Whether a member that just revoked `revoked` after a sync must rejoin for a follow-up
    /// rebalance: under the cooperative protocol, whenever it gave something up.
    pub fn needs_follow_up(self, revoked: &[TopicPartition]) -> bool {
        self == RebalanceProtocol::Cooperative && !revoked.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tps(partitions: &[i32]) -> Vec<TopicPartition> {
        partitions
            .iter()
            .map(|&p| TopicPartition::new("t", p))
            .collect()
    }

    #[test]
    fn eager_revokes_everything_up_front() {
        let eager = RebalanceProtocol::Eager;
        assert_eq!(eager.revoke_before_join(&tps(&[0, 1, 2])), tps(&[0, 1, 2]));
        assert!(eager.revoke_after_sync(&[], &tps(&[0, 1])).is_empty());
        assert!(!eager.needs_follow_up(&[]));
    }

    #[test]
    fn cooperative_revokes_only_what_moved_and_then_rejoins() {
        let cooperative = RebalanceProtocol::Cooperative;
        assert!(cooperative.revoke_before_join(&tps(&[0, 1, 2])).is_empty());
        let revoked = cooperative.revoke_after_sync(&tps(&[0, 1, 2]), &tps(&[0, 1]));
        assert_eq!(revoked, tps(&[2]));
        assert!(cooperative.needs_follow_up(&revoked));
        assert!(!cooperative.needs_follow_up(&[]));
    }
}
