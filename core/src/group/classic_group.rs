//! One classic group: its state, generation, members and committed offsets. The rules of the
//! protocol live in the coordinator's handlers; this is the data and its invariants.

use std::collections::BTreeMap;

use super::member::Member;
use super::messages::Protocol;
use super::offsets::CommittedOffset;
use super::state::GroupState;
use crate::Millis;
use crate::assignor::TopicPartition;

#[derive(Clone, Debug)]
pub(super) struct ClassicGroup {
    pub(super) group_id: String,
    pub(super) state: GroupState,
    /// When it entered `state` (offsets of an empty group expire counting from here).
    pub(super) state_since: Millis,
    /// Starts at 0 and grows by one each time a join phase completes.
    pub(super) generation_id: i32,
    /// Set by the first member; kept while the group is empty, as Kafka does.
    pub(super) protocol_type: Option<String>,
    /// The assignor chosen for the current generation.
    pub(super) protocol_name: Option<String>,
    pub(super) leader: Option<String>,
    pub(super) members: BTreeMap<String, Member>,
    /// `group.instance.id` to the member id that holds it now.
    pub(super) static_members: BTreeMap<String, String>,
    /// Ids handed out with MEMBER_ID_REQUIRED, to the time they lapse if unused.
    pub(super) pending_members: BTreeMap<String, Millis>,
    pub(super) offsets: BTreeMap<TopicPartition, CommittedOffset>,
    /// Offsets committed whose records are not written yet (Kafka's `pendingOffsetCommits`):
    /// the latest per partition. OffsetFetch does not see them; they move to `offsets` when
    /// their write is acknowledged and are dropped when it fails
    /// ([`Coordinator::handle_written`](super::Coordinator::handle_written)).
    pub(super) pending_offsets: BTreeMap<TopicPartition, CommittedOffset>,
    /// Static members that took an earlier incarnation's place in a settled group, by their
    /// new member id, to that incarnation as it was: put back if the group record naming the
    /// new id is not written (Kafka's `GroupCoordinator.updateStaticMemberAndRebalance`
    /// reverts the member id replacement when storing the group fails).
    pub(super) replaced_static_members: BTreeMap<String, Member>,
    /// PreparingRebalance: when the join phase ends even if members are missing.
    pub(super) join_deadline: Option<Millis>,
    /// PreparingRebalance of a group that was empty: `group.initial.rebalance.delay.ms` applies.
    pub(super) initial_delay: Option<InitialDelay>,
    /// After a join phase: when members that have not sent SyncGroup are removed.
    pub(super) sync_deadline: Option<Millis>,
}

/// The first rebalance of an empty group waits `group.initial.rebalance.delay.ms`, and again
/// each time a new member arrived during the wait, up to the rebalance timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct InitialDelay {
    pub(super) new_members_joined: bool,
    /// The rebalance timeout, counted from the start of the rebalance.
    pub(super) rebalance_deadline: Millis,
}

impl ClassicGroup {
    pub(super) fn new(group_id: String, now: Millis) -> ClassicGroup {
        ClassicGroup {
            group_id,
            state: GroupState::Empty,
            state_since: now,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            static_members: BTreeMap::new(),
            pending_members: BTreeMap::new(),
            offsets: BTreeMap::new(),
            pending_offsets: BTreeMap::new(),
            replaced_static_members: BTreeMap::new(),
            join_deadline: None,
            initial_delay: None,
            sync_deadline: None,
        }
    }

    pub(super) fn is(&self, state: GroupState) -> bool {
        self.state == state
    }

    /// Whether `instance` is held by a member other than `member_id`.
    pub(super) fn is_fenced(&self, instance: Option<&str>, member_id: &str) -> bool {
        instance
            .and_then(|instance| self.static_members.get(instance))
            .is_some_and(|holder| holder != member_id)
    }

    /// Whether a member (`member_id`, if it is already one) offering `protocol_type` and
    /// `protocols` could be in the group: the type matches and at least one assignor is
    /// offered by every other member too.
    pub(super) fn supports_protocols(
        &self,
        member_id: Option<&str>,
        protocol_type: &str,
        protocols: &[Protocol],
    ) -> bool {
        let others: Vec<&Member> = self
            .members
            .values()
            .filter(|m| Some(m.member_id.as_str()) != member_id)
            .collect();
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        if others.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|p| others.iter().all(|m| m.supports(&p.name)))
    }

    /// The assignor for the next generation: among those every member offers, the one most
    /// members prefer (each votes for the first of its own list that all offer); ties go to
    /// the smallest name, so the choice is deterministic.
    pub(super) fn select_protocol(&self) -> String {
        let first = self.members.values().next().expect("a group with members");
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|p| p.name.as_str())
            .filter(|name| self.members.values().all(|m| m.supports(name)))
            .collect();
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for member in self.members.values() {
            let vote = member
                .protocols
                .iter()
                .map(|p| p.name.as_str())
                .find(|n| candidates.contains(n));
            *votes
                .entry(vote.expect("members share a protocol"))
                .or_default() += 1;
        }
        let most = votes.values().copied().max().expect("at least one vote");
        let chosen = votes
            .into_iter()
            .find(|&(_, count)| count == most)
            .expect("a winner");
        chosen.0.to_owned()
    }

    /// Whether every member has rejoined and no handed-out id is still to join.
    pub(super) fn all_members_joined(&self) -> bool {
        self.members.values().all(|m| m.pending_join.is_some()) && self.pending_members.is_empty()
    }

    /// The longest rebalance timeout among the members: how long a join phase may last.
    pub(super) fn rebalance_timeout(&self) -> Millis {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or(Millis::ZERO)
    }

    /// An Empty group with no members to come and no offsets (written or being written):
    /// nothing left to remember.
    pub(super) fn is_unused(&self) -> bool {
        self.is(GroupState::Empty)
            && self.members.is_empty()
            && self.pending_members.is_empty()
            && self.offsets.is_empty()
            && self.pending_offsets.is_empty()
    }

    pub(super) fn size(&self) -> usize {
        self.members.len() + self.pending_members.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::messages::JoinGroupRequest;

    fn member(id: &str, protocols: &[&str]) -> Member {
        let request = JoinGroupRequest {
            group_id: "g".into(),
            member_id: id.into(),
            group_instance_id: None,
            client_id: "c".into(),
            client_host: "h".into(),
            session_timeout: Millis(10_000),
            rebalance_timeout: Millis(30_000),
            protocol_type: "consumer".into(),
            protocols: protocols
                .iter()
                .map(|name| Protocol {
                    name: name.to_string(),
                    metadata: vec![],
                })
                .collect(),
            require_known_member_id: true,
        };
        Member::new(id.into(), &request, Millis::ZERO)
    }

    fn group(members: &[Member]) -> ClassicGroup {
        let mut group = ClassicGroup::new("g".into(), Millis::ZERO);
        group.protocol_type = Some("consumer".into());
        for m in members {
            group.members.insert(m.member_id.clone(), m.clone());
        }
        group
    }

    fn protocols(names: &[&str]) -> Vec<Protocol> {
        names
            .iter()
            .map(|n| Protocol {
                name: n.to_string(),
                metadata: vec![],
            })
            .collect()
    }

    #[test]
    fn an_empty_group_takes_any_non_empty_protocol() {
        let g = group(&[]);
        assert!(g.supports_protocols(None, "consumer", &protocols(&["range"])));
        assert!(!g.supports_protocols(None, "", &protocols(&["range"])));
        assert!(!g.supports_protocols(None, "consumer", &[]));
    }

    #[test]
    fn a_new_member_must_share_type_and_an_assignor() {
        let g = group(&[
            member("a", &["range", "roundrobin"]),
            member("b", &["roundrobin"]),
        ]);
        assert!(g.supports_protocols(None, "consumer", &protocols(&["roundrobin"])));
        assert!(!g.supports_protocols(None, "consumer", &protocols(&["range"])));
        assert!(!g.supports_protocols(None, "connect", &protocols(&["roundrobin"])));
        // A member changing its own protocols is compared with the others only.
        assert!(g.supports_protocols(Some("b"), "consumer", &protocols(&["range"])));
    }

    #[test]
    fn the_most_preferred_common_protocol_wins() {
        let g = group(&[
            member("a", &["cooperative-sticky", "range"]),
            member("b", &["range", "cooperative-sticky"]),
            member("c", &["range", "cooperative-sticky", "roundrobin"]),
        ]);
        assert_eq!(g.select_protocol(), "range");
        let tie = group(&[
            member("a", &["roundrobin", "range"]),
            member("b", &["range", "roundrobin"]),
        ]);
        assert_eq!(tie.select_protocol(), "range");
    }

    #[test]
    fn fencing_by_instance_id() {
        let mut g = group(&[]);
        g.static_members.insert("i-1".into(), "m-1".into());
        assert!(g.is_fenced(Some("i-1"), "m-0"));
        assert!(!g.is_fenced(Some("i-1"), "m-1"));
        assert!(!g.is_fenced(Some("i-2"), "m-0"));
        assert!(!g.is_fenced(None, "m-0"));
    }
}
