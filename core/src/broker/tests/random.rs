//! Random fault schedules: produces with every acks, crashes and restarts, zombies, stalled
//! followers and time passing, in any order. A crash of a durable broker may lose whatever it
//! had not synced (a power cut); a broker trusting the page cache only loses its process, as
//! when every replica of an acks=all write loses power at once Kafka loses it too. The invariants are checked after every round of
//! messages; at the end every fault is healed and every replica must converge on the leader's
//! log with every acknowledged acks=all batch in it.

use proptest::prelude::*;

use crate::broker::ACKS_ALL;
use crate::controller::{BrokerId, NO_LEADER};

use super::cluster::Cluster;
use super::invariants::batches;

const BROKERS: [BrokerId; 3] = [1, 2, 3];

#[derive(Clone, Debug)]
enum Op {
    Produce {
        acks: i16,
        count: usize,
    },
    /// A client still talking to `to`, which may be a deposed leader.
    ProduceTo {
        to: BrokerId,
        acks: i16,
    },
    /// `power_cut`: unsynced bytes are lost (only for durable brokers, see the module docs).
    Crash {
        id: BrokerId,
        power_cut: bool,
    },
    Start(BrokerId),
    Isolate(BrokerId),
    Reconnect(BrokerId),
    Pause(BrokerId),
    Resume(BrokerId),
    Advance(u64),
}

fn broker() -> impl Strategy<Value = BrokerId> {
    prop::sample::select(BROKERS.to_vec())
}

fn acks() -> impl Strategy<Value = i16> {
    prop::sample::select(vec![0, 1, ACKS_ALL])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (acks(), 1..4usize).prop_map(|(acks, count)| Op::Produce { acks, count }),
        1 => (broker(), acks()).prop_map(|(to, acks)| Op::ProduceTo { to, acks }),
        2 => (broker(), any::<bool>()).prop_map(|(id, power_cut)| Op::Crash { id, power_cut }),
        2 => broker().prop_map(Op::Start),
        1 => broker().prop_map(Op::Isolate),
        1 => broker().prop_map(Op::Reconnect),
        1 => broker().prop_map(Op::Pause),
        1 => broker().prop_map(Op::Resume),
        4 => (1..1_500u64).prop_map(Op::Advance),
    ]
}

fn apply(c: &mut Cluster, durable: bool, op: &Op) {
    let up = |c: &Cluster, id: BrokerId| c.nodes[&id].broker.is_some();
    match *op {
        Op::Produce { acks, count } => {
            let leader = c.leader();
            if leader != NO_LEADER && up(c, leader) {
                c.produce_to(leader, acks, count);
            }
        }
        Op::ProduceTo { to, acks } => {
            let leads = c.nodes[&to]
                .broker
                .as_ref()
                .and_then(|b| b.partition(&Cluster::tp()));
            if leads.is_some_and(|p| p.leader == to) {
                c.produce_to(to, acks, 1);
            }
        }
        Op::Crash { id, power_cut } if up(c, id) => {
            if !(power_cut && durable) {
                c.sync(id);
            }
            c.crash(id);
        }
        Op::Start(id) if !up(c, id) => c.start(id),
        Op::Isolate(id) if up(c, id) => c.isolate(id),
        Op::Reconnect(id) if up(c, id) && c.nodes[&id].isolated => c.reconnect(id),
        Op::Pause(id) => c.pause(id, true),
        Op::Resume(id) => c.pause(id, false),
        Op::Advance(ms) => c.advance(ms),
        _ => {}
    }
}

/// Heals every fault and lets the cluster converge.
fn heal(c: &mut Cluster) {
    for id in BROKERS {
        c.pause(id, false);
        if c.nodes[&id].broker.is_none() {
            c.start(id);
        } else if c.nodes[&id].isolated {
            c.reconnect(id);
        }
    }
    c.advance(3_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn replicas_never_diverge_and_acks_all_is_never_lost(
        min_isr in 1..3usize,
        durable in any::<bool>(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let min_isr = min_isr.to_string();
        let configs = [("min.insync.replicas", min_isr.as_str())];
        let mut c = Cluster::with_durability(&BROKERS, &configs, durable);
        for op in &ops {
            apply(&mut c, durable, op);
        }
        heal(&mut c);
        let leader = c.leader();
        prop_assert_ne!(leader, NO_LEADER, "every broker is back: the partition has a leader");
        let tp = Cluster::tp();
        let leader_log = batches(&c.broker(leader).partitions[&tp].log);
        for id in BROKERS {
            prop_assert_eq!(&batches(&c.broker(id).partitions[&tp].log), &leader_log, "broker {}", id);
        }
        prop_assert_eq!(c.state().isr, BROKERS.to_vec());
    }
}
