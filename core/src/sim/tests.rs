//! The simulation itself: stepping, determinism of the trace, faults and snapshots.

use super::*;
use crate::Millis;
use crate::sim::node::CONTROLLER_NODE_ID;

fn spec() -> ScenarioSpec {
    scenarios::spec("acks1-leader-crash").expect("a named scenario")
}

#[test]
fn step_advances_one_event_and_time_never_goes_back() {
    let mut sim = Simulation::new(spec(), 3);
    let mut last = sim.now();
    for i in 1..=500 {
        assert!(sim.step());
        assert_eq!(sim.events(), i);
        assert!(sim.now() >= last);
        last = sim.now();
    }
}

#[test]
fn run_until_stops_at_the_time_and_replays_exactly() {
    let mut a = Simulation::new(spec(), 11);
    a.run_until(Millis(2_000));
    assert_eq!(a.now(), Millis(2_000));
    assert!(a.next_event_at().is_none_or(|t| t > Millis(2_000)));
    let mut b = Simulation::new(spec(), 11);
    while b.next_event_at().is_some_and(|t| t <= Millis(2_000)) {
        b.step();
    }
    assert_eq!(a.trace_hash(), b.trace_hash());
    assert_eq!(a.trace().text(), b.trace().text());
}

#[test]
fn the_trace_shows_the_crash_and_the_new_leader() {
    let mut sim = Simulation::new(spec(), 5);
    sim.run_until(Millis(3_000));
    let text = sim.trace().text();
    assert!(text.contains("fault crash leader of t-0"), "{text}");
    assert!(text.contains("fenced broker-"));
    assert_eq!(
        text.matches("leader t-0 broker-").count(),
        2,
        "created, then elected again"
    );
}

#[test]
fn snapshots_show_brokers_partitions_and_clients() {
    let mut sim = Simulation::new(scenarios::spec("lag").unwrap(), 2);
    sim.run_until(Millis(4_000));
    let snapshot = sim.snapshot();
    assert_eq!(snapshot.brokers.len(), 3);
    // The topic's three partitions, and the offsets topic's five, created by the group.
    let internal = |p: &&crate::sim::PartitionView| p.tp.topic == crate::group::OFFSETS_TOPIC;
    assert_eq!(snapshot.partitions.iter().filter(internal).count(), 5);
    assert_eq!(snapshot.partitions.len(), 3 + 5);
    assert!(
        snapshot
            .partitions
            .iter()
            .all(|p| p.isr.iter().all(|b| p.replicas.contains(b)))
    );
    assert_eq!(snapshot.groups.len(), 1);
    assert_eq!(snapshot.clients.len(), 4);
    assert!(snapshot.clients[0].sent > 0);
}

#[test]
fn injected_faults_apply_now() {
    let mut sim = Simulation::new(spec(), 9);
    sim.run_until(Millis(200));
    sim.inject(Fault::CrashBroker(2));
    sim.step();
    assert!(
        !sim.snapshot()
            .brokers
            .iter()
            .find(|b| b.id == 2)
            .unwrap()
            .up
    );
    sim.inject(Fault::RestartBroker(2));
    sim.step();
    assert!(
        sim.snapshot()
            .brokers
            .iter()
            .find(|b| b.id == 2)
            .unwrap()
            .up
    );
}

#[test]
fn sweeps_count_seeds_per_anomaly_kind() {
    let mut seen = 0;
    let summary = sweep::sweep("idempotence-off", 0..3, |_| seen += 1).unwrap();
    assert_eq!((summary.seeds, seen), (3, 3));
    assert_eq!(summary.seeds_with.get("duplicate"), Some(&3));
    assert_eq!(summary.example_seeds["duplicate"], vec![0, 1, 2]);
    assert_eq!(
        sweep::replay_command("lag", 4),
        "partita sim --seed 4 --scenario lag --json"
    );
}

#[test]
fn isolating_a_leader_moves_leadership_and_healing_brings_it_back_as_follower() {
    let mut spec = spec();
    spec.faults.clear();
    spec.faults.push((
        Millis(500),
        Fault::IsolateLeader {
            topic: "t".into(),
            partition: 0,
        },
    ));
    spec.faults.push((Millis(3_000), Fault::Heal));
    let mut sim = Simulation::new(spec, 4);
    sim.run_until(Millis(400));
    let before = sim.snapshot().partitions[0].clone();
    sim.run_until(Millis(2_900));
    let during = sim.snapshot().partitions[0].clone();
    assert_ne!(
        during.leader, before.leader,
        "the controller fenced the isolated leader"
    );
    assert!(during.leader_epoch > before.leader_epoch);
    assert!(!during.isr.contains(&before.leader));
    sim.run_until(Millis(6_000));
    let after = sim.snapshot().partitions[0].clone();
    assert!(
        after.isr.contains(&before.leader),
        "it caught up and rejoined the ISR: {after:?}"
    );
}

#[test]
fn a_paused_consumer_is_removed_from_its_group_and_rejoins() {
    let mut spec = scenarios::spec("rebalance-eager").unwrap();
    spec.faults.push((
        Millis(1_000),
        Fault::Pause {
            node: NodeId::Client(1),
            duration_ms: Millis(4_000),
        },
    ));
    let mut sim = Simulation::new(spec, 6);
    sim.run_until(Millis(7_900));
    let text = sim.trace().text();
    assert!(text.contains("fault pause client-1 for 4000ms"));
    assert!(
        text.contains("(SessionTimeout)"),
        "the coordinator expired its session"
    );
    let snapshot = sim.snapshot();
    let owned: usize = snapshot.clients.iter().map(|c| c.assignment.len()).sum();
    assert_eq!(owned, 6, "every partition has an owner again");
}

#[test]
fn a_slow_consumer_keeps_its_partitions_while_it_polls_in_time() {
    let mut spec = scenarios::spec("lag").unwrap();
    spec.faults.push((
        Millis(500),
        Fault::SlowConsumer {
            client: 1,
            processing_ms_per_record: Millis(80),
        },
    ));
    let mut sim = Simulation::new(spec, 1);
    sim.run_until(Millis(2_500));
    let snapshot = sim.snapshot();
    assert_eq!(snapshot.clients[1].assignment.len(), 3);
    let lag: i64 = snapshot.groups[0].lag.iter().filter_map(|l| l.lag).sum();
    assert!(lag > 0, "it falls behind");
}

#[test]
fn specs_that_cannot_run_are_refused() {
    let mut bad = spec();
    bad.topics[0].replication_factor = 5;
    assert!(
        Simulation::try_new(bad, 1).is_err(),
        "more replicas than brokers"
    );
    let mut bad = spec();
    bad.brokers = vec![1, 1];
    assert!(Simulation::try_new(bad, 1).is_err());
    let mut bad = spec();
    bad.faults.push((
        Millis(1),
        Fault::SlowConsumer {
            client: 9,
            processing_ms_per_record: Millis(1),
        },
    ));
    assert!(Simulation::try_new(bad, 1).is_err());
    // Injected by hand, the same fault is traced as ignored instead.
    let mut sim = Simulation::new(spec(), 1);
    sim.inject(Fault::CrashClient {
        client: 42,
        at: CrashPoint::AfterCommitBeforeProcessing,
    });
    sim.step();
    assert!(sim.trace().text().contains("ignored"));
}

#[test]
fn a_simulation_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Simulation>();
    assert_send::<Summary>();
}

#[test]
fn committed_offsets_survive_a_coordinator_failover() {
    let mut spec = scenarios::spec("at-least-once").unwrap();
    spec.faults.clear();
    let group = match &spec.clients[1] {
        crate::sim::ClientSpec::Consumer(c) => c.config.group_id.clone(),
        crate::sim::ClientSpec::Producer(_) => panic!("at-least-once's second client consumes"),
    };
    spec.faults.push((
        Millis(1_500),
        Fault::CrashCoordinator {
            group: group.clone(),
        },
    ));
    spec.faults.push((Millis(3_500), Fault::RestartCrashed));
    let mut sim = Simulation::new(spec, 3);
    let anomalies = sim.run_to_end();
    assert!(anomalies.is_empty(), "{anomalies:?}");
    let text = sim.trace().text();
    assert!(text.contains(&format!("fault crash the coordinator of group {group}")));
    // The group's offsets partition was loaded by two brokers: the first leader, then the
    // one elected after it crashed.
    let partition = crate::group::offsets_partition(&group, 5);
    let loaders: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.contains(&format!(" loaded __consumer_offsets-{partition} ")))
        .filter_map(|l| l.split("coordinator ").nth(1)?.split(' ').next())
        .collect();
    assert!(loaders.len() >= 2, "{loaders:?}");
    let groups = sim.snapshot().groups;
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].lag.iter().map(|l| l.lag).collect::<Vec<_>>(),
        vec![Some(0)]
    );
    // Nothing was processed twice: the committed offsets came back with the coordinator.
    let history = sim.history();
    let processed: Vec<&str> = history
        .ops
        .iter()
        .filter_map(|op| match op {
            crate::checker::Op::Process { value, .. } => Some(value.as_str()),
            _ => None,
        })
        .collect();
    let distinct: std::collections::BTreeSet<&&str> = processed.iter().collect();
    assert_eq!(distinct.len(), 100);
    assert!(
        processed.len() - distinct.len() <= 1,
        "at most the batch in flight at the failover"
    );
}

#[test]
fn a_client_added_at_run_time_produces_and_is_acknowledged() {
    let spec = crate::sim::scenarios::spec("keyed-ordering").unwrap();
    let mut sim = Simulation::new(spec, 3);
    sim.run_until(Millis(1_000));
    let mut producer = match sim.spec().clients[0].clone() {
        crate::sim::ClientSpec::Producer(p) => p,
        crate::sim::ClientSpec::Consumer(_) => panic!("keyed-ordering starts with its producer"),
    };
    producer.name = "added".into();
    producer.messages = 5;
    let index = sim.add_client(crate::sim::ClientSpec::Producer(producer));
    sim.run_until(Millis(4_000));
    let added = &sim.snapshot().clients[index];
    assert_eq!(
        (added.name.as_str(), added.sent, added.acknowledged),
        ("added", 5, 5)
    );
    assert!(
        sim.run_to_end().is_empty(),
        "the checker finds nothing wrong with it"
    );
}

#[test]
fn a_stopped_consumer_leaves_its_group_at_once_and_never_returns() {
    let spec = scenarios::spec("rebalance-cooperative").unwrap();
    let mut sim = Simulation::new(spec, 2);
    sim.run_until(Millis(5_000));
    let consumers = |sim: &Simulation| {
        sim.snapshot()
            .clients
            .iter()
            .filter(|c| c.kind == "consumer" && c.state == "running")
            .count()
    };
    let before = consumers(&sim);
    let stopped = sim
        .snapshot()
        .clients
        .iter()
        .find(|c| c.kind == "consumer" && !c.assignment.is_empty())
        .expect("a consumer owning partitions")
        .index;
    sim.inject(Fault::StopClient { client: stopped });
    // Well within the session timeout (3 s): only a LeaveGroup can make the group notice.
    sim.run_until(Millis(6_000));
    let snapshot = sim.snapshot();
    assert_eq!(snapshot.clients[stopped].state, "stopped");
    assert_eq!(consumers(&sim), before - 1);
    let text = sim.trace().text();
    assert!(
        text.contains(&format!("fault stop client-{stopped}")),
        "{text}"
    );
    assert!(
        !text.contains("(SessionTimeout)"),
        "it left, it did not time out"
    );
    let group = &snapshot.groups[0];
    assert_eq!(group.members.len(), before - 1);
    assert!(
        group.lag.iter().all(|l| l.owner.is_some()),
        "its partitions moved to the others: {:?}",
        group.lag
    );
}

#[test]
fn a_created_topic_gets_leaders_and_takes_writes() {
    let mut sim = Simulation::new(scenarios::spec("keyed-ordering").unwrap(), 4);
    sim.run_until(Millis(500));
    sim.inject(Fault::CreateTopic(scenarios_topic("payments", 4, 2)));
    sim.inject(Fault::CreateTopic(scenarios_topic("too-wide", 1, 4)));
    sim.run_until(Millis(1_000));
    let snapshot = sim.snapshot();
    let payments: Vec<_> = snapshot
        .partitions
        .iter()
        .filter(|p| p.tp.topic == "payments")
        .collect();
    assert_eq!(payments.len(), 4);
    assert!(
        payments
            .iter()
            .all(|p| p.leader > 0 && p.replicas.len() == 2)
    );
    assert!(sim.spec().topics.iter().any(|t| t.name == "payments"));
    let text = sim.trace().text();
    assert!(text.contains("topic too-wide not created"), "{text}");
    let mut producer = match sim.spec().clients[0].clone() {
        ClientSpec::Producer(p) => p,
        ClientSpec::Consumer(_) => panic!("keyed-ordering starts with its producer"),
    };
    producer.name = "payments-producer".into();
    producer.topic = "payments".into();
    producer.messages = 8;
    let index = sim.add_client(ClientSpec::Producer(producer));
    sim.run_until(Millis(3_000));
    assert_eq!(sim.snapshot().clients[index].acknowledged, 8);
    assert!(sim.run_to_end().is_empty());
}

fn scenarios_topic(name: &str, partitions: u32, replication_factor: u16) -> TopicSpec {
    TopicSpec {
        name: name.into(),
        partitions,
        replication_factor,
        configs: Default::default(),
    }
}

#[test]
fn record_keys_read_the_replica_log_and_follow_the_key() {
    let mut sim = Simulation::new(scenarios::spec("keyed-vs-keyless").unwrap(), 1);
    sim.run_until(Millis(2_000));
    let snapshot = sim.snapshot();
    let mut keyed = 0;
    let mut keyless = 0;
    for broker in &snapshot.brokers {
        for replica in &broker.replicas {
            let keys = sim.record_keys(broker.id, &replica.tp, 0, replica.log_end_offset);
            let offsets: Vec<i64> = keys.iter().map(|(o, _)| *o).collect();
            let expected: Vec<i64> = (replica.log_start_offset..replica.log_end_offset).collect();
            assert_eq!(offsets, expected, "one entry per record, in order");
            keyed += keys.iter().filter(|(_, k)| k.is_some()).count();
            keyless += keys.iter().filter(|(_, k)| k.is_none()).count();
            let tail = sim.record_keys(broker.id, &replica.tp, 2, 4);
            assert!(tail.iter().all(|(o, _)| (2..4).contains(o)));
        }
    }
    assert!(keyed > 0 && keyless > 0, "{keyed} keyed, {keyless} keyless");
    assert!(
        sim.record_keys(9, &snapshot.partitions[0].tp, 0, 10)
            .is_empty()
    );
}

#[test]
fn one_follower_crashes_and_the_leader_stays() {
    let mut spec = spec();
    spec.faults.clear();
    spec.faults.push((
        Millis(300),
        Fault::CrashFollower {
            topic: "t".into(),
            partition: 0,
        },
    ));
    let mut sim = Simulation::new(spec, 8);
    sim.run_until(Millis(2_000));
    let snapshot = sim.snapshot();
    let leader = snapshot.partitions[0].leader;
    let down: Vec<_> = snapshot
        .brokers
        .iter()
        .filter(|b| !b.up)
        .map(|b| b.id)
        .collect();
    assert_eq!(down.len(), 1);
    assert_ne!(down[0], leader);
    assert_eq!(snapshot.partitions[0].isr.len(), 2);
}

#[test]
fn snapshots_show_cut_off_brokers_generations_and_client_states() {
    let mut sim = Simulation::new(scenarios::spec("lag").unwrap(), 2);
    let snapshot = sim.snapshot();
    assert!(snapshot.clients.iter().all(|c| c.state == "not started"));
    sim.run_until(Millis(2_000));
    let snapshot = sim.snapshot();
    assert_eq!(snapshot.clients[0].state, "running");
    assert_eq!(snapshot.clients[3].state, "not started");
    assert!(snapshot.controller.metadata_records > 0);
    assert!(snapshot.groups[0].generation_id >= 1);
    assert_eq!(snapshot.groups[0].assignor, "range");
    assert!(snapshot.brokers.iter().all(|b| !b.cut_off));
    sim.inject(Fault::Partition {
        a: vec![NodeId::Broker(1)],
        b: vec![NodeId::Controller(CONTROLLER_NODE_ID)],
    });
    sim.step();
    let cut: Vec<bool> = sim.snapshot().brokers.iter().map(|b| b.cut_off).collect();
    assert_eq!(cut, vec![true, false, false]);
}

#[test]
fn the_trace_says_who_fetched_what_from_which_leader() {
    let mut sim = Simulation::new(scenarios::spec("keyed-ordering").unwrap(), 3);
    sim.run_until(Millis(1_000));
    let follower_appends = sim.trace().entries().iter().find_map(|e| match &e.event {
        TraceEvent::Append {
            broker,
            leader,
            from_offset,
            log_end_offset,
            ..
        } if broker != leader => Some((*from_offset, *log_end_offset)),
        _ => None,
    });
    let (from, to) = follower_appends.expect("followers fetched");
    assert!(from < to);
}

#[test]
fn retention_moves_the_log_start_of_a_topic_created_with_a_small_one() {
    let mut sim = Simulation::new(scenarios::spec("keyed-ordering").unwrap(), 6);
    sim.run_until(Millis(200));
    sim.inject(Fault::CreateTopic(scenarios::topic(
        "short-lived",
        1,
        3,
        &[("retention.bytes", "1024"), ("segment.bytes", "512")],
    )));
    sim.run_until(Millis(500));
    let mut producer = scenarios::producer("writer", "short-lived", 100, 10, 0, 1);
    producer.name = "writer".into();
    sim.add_client(ClientSpec::Producer(producer));
    sim.run_until(Millis(4_000));
    let snapshot = sim.snapshot();
    let replicas: Vec<_> = snapshot
        .brokers
        .iter()
        .flat_map(|b| b.replicas.iter())
        .filter(|r| r.tp.topic == "short-lived")
        .collect();
    assert_eq!(replicas.len(), 3);
    for r in replicas {
        assert_eq!(r.log_end_offset, 100);
        assert!(
            r.log_start_offset > 0,
            "retention deleted old segments: {r:?}"
        );
    }
}

#[test]
fn the_checker_finds_nothing_wrong_with_a_consumer_stopped_for_good() {
    for seed in 0..20 {
        let mut spec = scenarios::spec("rebalance-cooperative").unwrap();
        spec.faults
            .push((Millis(2_500), Fault::StopClient { client: 1 }));
        let mut sim = Simulation::new(spec, seed);
        let anomalies = sim.run_to_end();
        assert!(anomalies.is_empty(), "seed {seed}: {anomalies:?}");
        assert_eq!(sim.snapshot().clients[1].state, "stopped");
    }
}
