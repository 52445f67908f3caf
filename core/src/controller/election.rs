//! Who leads a partition and who stays in its ISR when brokers come and go.
//!
//! Classic Kafka rules, without KIP-966's eligible leader replicas:
//! - a broker that goes away leaves every ISR that has other members; the last member stays,
//!   because it is the only replica known to have every acknowledged write;
//! - a leader is the first replica, in replica order, that is live and in the ISR;
//! - when no ISR member is live the partition goes offline (no leader), unless unclean leader
//!   election is enabled: then the first live replica leads and becomes the whole ISR, and
//!   whatever only the old ISR had is lost.

use super::image::PartitionState;
use super::records::{BrokerId, NO_LEADER};

/// A partition's leader and ISR, as the controller wants them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Outcome {
    pub(super) leader: BrokerId,
    pub(super) isr: Vec<BrokerId>,
}

/// `isr` without `gone`, unless `gone` is its only member.
pub(super) fn shrink_isr(isr: &[BrokerId], gone: BrokerId) -> Vec<BrokerId> {
    if isr.len() > 1 {
        isr.iter().copied().filter(|b| *b != gone).collect()
    } else {
        isr.to_vec()
    }
}

/// The leader and ISR `partition` should have given `isr` and who is live: the current leader
/// stays if it still can lead, otherwise a new one is elected.
pub(super) fn reconcile(
    partition: &PartitionState,
    isr: Vec<BrokerId>,
    is_live: impl Fn(BrokerId) -> bool,
    unclean_leader_election_enable: bool,
) -> Outcome {
    let leader = partition.leader;
    if leader != NO_LEADER && is_live(leader) && isr.contains(&leader) {
        return Outcome { leader, isr };
    }
    let clean = partition
        .replicas
        .iter()
        .copied()
        .find(|b| isr.contains(b) && is_live(*b));
    match clean {
        Some(leader) => Outcome { leader, isr },
        None => match partition.replicas.iter().copied().find(|b| is_live(*b)) {
            Some(leader) if unclean_leader_election_enable => Outcome {
                leader,
                isr: vec![leader],
            },
            _ => Outcome {
                leader: NO_LEADER,
                isr,
            },
        },
    }
}

/// The preferred (first) replica, if leadership should move to it: it is not the leader, it
/// is live and it is in the ISR (so no acknowledged write is lost by the move).
pub(super) fn preferred_leader(
    partition: &PartitionState,
    is_live: impl Fn(BrokerId) -> bool,
) -> Option<BrokerId> {
    let preferred = partition.preferred_leader();
    (partition.leader != preferred && is_live(preferred) && partition.isr.contains(&preferred))
        .then_some(preferred)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(replicas: &[BrokerId], isr: &[BrokerId], leader: BrokerId) -> PartitionState {
        PartitionState {
            replicas: replicas.to_vec(),
            isr: isr.to_vec(),
            leader,
            leader_epoch: 0,
            partition_epoch: 0,
        }
    }

    /// `live` brokers; `gone` just went away (its ISR membership shrinks first).
    fn check(
        p: PartitionState,
        live: &[BrokerId],
        gone: Option<BrokerId>,
        unclean: bool,
        expect: &str,
    ) {
        let isr = match gone {
            Some(gone) => shrink_isr(&p.isr, gone),
            None => p.isr.clone(),
        };
        let out = reconcile(&p, isr, |b| live.contains(&b), unclean);
        assert_eq!(format!("leader={} isr={:?}", out.leader, out.isr), expect);
    }

    #[test]
    fn leader_crash_elects_first_live_isr_member_in_replica_order() {
        check(
            partition(&[1, 2, 3], &[3, 2, 1], 1),
            &[2, 3],
            Some(1),
            false,
            "leader=2 isr=[3, 2]",
        );
        check(
            partition(&[1, 2, 3], &[1, 3], 1),
            &[2, 3],
            Some(1),
            false,
            "leader=3 isr=[3]",
        );
    }

    #[test]
    fn follower_crash_keeps_the_leader() {
        check(
            partition(&[1, 2, 3], &[1, 2, 3], 1),
            &[1, 3],
            Some(2),
            false,
            "leader=1 isr=[1, 3]",
        );
    }

    #[test]
    fn last_isr_member_stays_and_the_partition_goes_offline() {
        check(
            partition(&[1, 2], &[1], 1),
            &[2],
            Some(1),
            false,
            "leader=-1 isr=[1]",
        );
    }

    #[test]
    fn unclean_election_picks_a_live_out_of_sync_replica() {
        check(
            partition(&[1, 2], &[1], 1),
            &[2],
            Some(1),
            true,
            "leader=2 isr=[2]",
        );
        check(
            partition(&[1, 2], &[1], NO_LEADER),
            &[],
            None,
            true,
            "leader=-1 isr=[1]",
        );
    }

    #[test]
    fn returning_isr_member_leads_an_offline_partition() {
        check(
            partition(&[1, 2], &[1], NO_LEADER),
            &[1, 2],
            None,
            false,
            "leader=1 isr=[1]",
        );
        check(
            partition(&[1, 2], &[1], NO_LEADER),
            &[2],
            None,
            false,
            "leader=-1 isr=[1]",
        );
    }

    #[test]
    fn preferred_leader_needs_to_be_live_and_in_sync() {
        let p = partition(&[1, 2], &[1, 2], 2);
        assert_eq!(preferred_leader(&p, |_| true), Some(1));
        assert_eq!(preferred_leader(&p, |b| b != 1), None);
        assert_eq!(
            preferred_leader(&partition(&[1, 2], &[2], 2), |_| true),
            None
        );
        assert_eq!(
            preferred_leader(&partition(&[1, 2], &[1, 2], 1), |_| true),
            None
        );
    }
}
