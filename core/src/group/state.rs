//! The states of a classic group and which transitions between them are legal.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GroupState {
    /// No members; the group may still hold committed offsets.
    Empty,
    /// A rebalance started: the coordinator collects JoinGroup requests.
    PreparingRebalance,
    /// Every member got its JoinGroup answer; the coordinator waits for the leader's assignment.
    CompletingRebalance,
    /// Members have their assignment and heartbeat.
    Stable,
    /// The group was deleted (or never existed).
    Dead,
}

impl GroupState {
    /// Kafka's name for the state, as DescribeGroups and ListGroups report it.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }

    pub fn from_name(name: &str) -> Option<GroupState> {
        use GroupState::*;
        [Empty, PreparingRebalance, CompletingRebalance, Stable, Dead]
            .into_iter()
            .find(|state| state.name().eq_ignore_ascii_case(name))
    }

    /// Whether a group may move from `self` to `next` (Kafka's `validPreviousStates`).
    pub fn can_become(self, next: GroupState) -> bool {
        use GroupState::*;
        match next {
            PreparingRebalance => matches!(self, Empty | Stable | CompletingRebalance),
            CompletingRebalance => self == PreparingRebalance,
            Stable => self == CompletingRebalance,
            Empty => self == PreparingRebalance,
            Dead => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GroupState::{self, *};

    const ALL: [GroupState; 5] = [Empty, PreparingRebalance, CompletingRebalance, Stable, Dead];

    #[test]
    fn legal_transitions() {
        let legal: Vec<(GroupState, GroupState)> = ALL
            .iter()
            .flat_map(|&from| ALL.iter().map(move |&to| (from, to)))
            .filter(|&(from, to)| from.can_become(to))
            .collect();
        assert_eq!(
            legal,
            vec![
                (Empty, PreparingRebalance),
                (Empty, Dead),
                (PreparingRebalance, Empty),
                (PreparingRebalance, CompletingRebalance),
                (PreparingRebalance, Dead),
                (CompletingRebalance, PreparingRebalance),
                (CompletingRebalance, Stable),
                (CompletingRebalance, Dead),
                (Stable, PreparingRebalance),
                (Stable, Dead),
                (Dead, Dead),
            ]
        );
    }

    #[test]
    fn names_round_trip() {
        for state in ALL {
            assert_eq!(GroupState::from_name(state.name()), Some(state));
        }
        assert_eq!(GroupState::from_name("stable"), Some(Stable));
        assert_eq!(GroupState::from_name("Rebalancing"), None);
    }
}
