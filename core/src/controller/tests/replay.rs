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
