//! The coordinator: every group this broker coordinates, the queue of outputs, and the source
//! of member ids. The handlers of each request live in their own files.

use std::collections::{BTreeMap, VecDeque};

use super::classic_group::ClassicGroup;
use super::config::CoordinatorConfig;
use super::messages::Output;
use super::tombstones::Deleted;

/// The outputs not yet taken by the shell, oldest first.
pub(super) type Outputs = VecDeque<Output>;

/// The group coordinator of one broker. See the [module documentation](super).
#[derive(Debug)]
pub struct Coordinator {
    pub(super) config: CoordinatorConfig,
    pub(super) groups: BTreeMap<String, ClassicGroup>,
    pub(super) outputs: Outputs,
    pub(super) member_ids: MemberIds,
    /// What deletions removed while their tombstones are being written.
    pub(super) deleted: Deleted,
}

impl Coordinator {
    /// A coordinator without groups. `seed` feeds the member ids it hands out: the server
    /// passes a fresh one at each start (so ids do not repeat across restarts), the simulator
    /// one derived from the run's seed.
    pub fn new(config: CoordinatorConfig, seed: u64) -> Coordinator {
        Coordinator {
            config,
            groups: BTreeMap::new(),
            outputs: VecDeque::new(),
            member_ids: MemberIds { state: seed },
            deleted: Deleted::default(),
        }
    }

    pub fn config(&self) -> &CoordinatorConfig {
        &self.config
    }

    /// The next output, in order; the shell drains them after every call.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }
}

/// Member ids in Kafka's shape, `<client.id>-<unique suffix>`, from a seeded generator
/// (splitmix64) instead of a random UUID.
#[derive(Debug)]
pub(super) struct MemberIds {
    state: u64,
}

impl MemberIds {
    pub(super) fn next(&mut self, client_id: &str) -> String {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        format!("{client_id}-{z:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids_are_deterministic_per_seed_and_distinct() {
        let mut a = MemberIds { state: 7 };
        let mut b = MemberIds { state: 7 };
        let first = a.next("consumer-1");
        assert_eq!(first, b.next("consumer-1"));
        assert!(first.starts_with("consumer-1-"));
        assert_eq!(first.len(), "consumer-1-".len() + 16);
        assert_ne!(a.next("consumer-1"), first);
        assert_ne!(MemberIds { state: 8 }.next("consumer-1"), first);
    }
}
