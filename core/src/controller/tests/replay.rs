//! The log alone reproduces the state.

use super::Harness;
use crate::Millis;
use crate::config::BrokerConfig;
use crate::controller::*;

#[test]
fn replaying_a_long_history_reproduces_the_image() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create("a", 3, 2, &[]);
    h.create("b", 2, 3, &[("unclean.leader.election.enable", "true")]);
    h.crash(1);
    h.tick(Millis(9_000));
    h.start(Millis(9_500), 1);
    h.start(Millis(9_600), 2);
    h.start(Millis(9_700), 3);
    let records = h.controller.elect_preferred_leaders(None).unwrap();
    h.record(records);
    let records = h.controller.create_partitions("a", 5, None).unwrap();
    h.record(records);
    let records = h.controller.delete_topic("b").unwrap();
    h.record(records);
    h.check_replay();

    let mut follower = Controller::new(BrokerConfig::default(), 42);
    for record in &h.log {
        follower.replay(record);
    }
    assert_eq!(follower.image(), h.controller.image());
    assert_eq!(follower.image().record_count(), h.log.len() as u64);
    let hosted: usize = [1, 2, 3]
        .iter()
        .map(|b| h.controller.image().replicas_on(*b).count())
        .sum();
    assert_eq!(hosted, 5 * 2, "topic a: five partitions of two replicas");
}

/// An image another node offers must reach the offset it claims and never take back an
/// epoch of the image it replaces (`MetadataImage::check_successor`).
#[test]
fn a_stale_image_is_not_a_successor() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create("a", 2, 3, &[]);
    let old = h.controller.image().clone();
    let old_offset = h.log.len() as u64;
    h.crash(1);
    let new = h.controller.image().clone();
    let offset = h.log.len() as u64;
    assert_eq!(new.check_successor(offset, &old), Ok(()));
    assert_eq!(
        old.check_successor(old_offset, &old),
        Ok(()),
        "the same image"
    );
    // Claims another offset than the records it holds.
    assert!(new.check_successor(offset + 1, &old).is_err());
    // Older than what this node has: broker 1 and its partitions' epochs go back.
    let stale = old.check_successor(old_offset, &new).unwrap_err();
    assert!(stale.contains("epoch"), "{stale}");
    // A topic deleted and created again under the same name is a new topic: no comparison.
    let records = h.controller.delete_topic("a").unwrap();
    h.record(records);
    h.create("a", 1, 2, &[]);
    let recreated = h.controller.image().clone();
    assert_eq!(recreated.check_successor(h.log.len() as u64, &new), Ok(()));
}
