//! Transactions (KIP-98) and exactly-once, on one broker (every partition is led where the
//! transaction coordinator is).
//!
//! - `transactions`: a transactional producer commits its transactions and aborts every
//!   third; a read_committed and a read_uncommitted consumer read side by side. The first
//!   never sees an aborted record, the second sees them all.
//! - `exactly-once`: a consume-transform-produce application with a transactional producer
//!   (outputs and the consumer's offsets in one transaction) crashes with a transaction open;
//!   its next life fences the old one, whose transaction is aborted, and reprocesses from the
//!   committed offsets. A read_committed reader of the output sees every input exactly once.
//! - `at-least-once-ctp`: the same application producing idempotently and committing offsets
//!   after: the crash leaves outputs whose offsets were never committed, and they are made
//!   again (duplicates in the output).
//! - `zombie-fenced`: a transactional producer pauses (a GC pause) mid-stream; a new instance
//!   with the same `transactional.id` starts and fences it; the old one wakes up, is refused
//!   (PRODUCER_FENCED) and stops, and nothing it wrote after the fence is ever read.
//! - `txn-coordinator-crash`: three brokers; the transaction coordinator's commit markers to
//!   the other brokers are lost for a moment, so a transaction is stuck in PrepareCommit, and
//!   the coordinator's broker crashes then. The new leader of its `__transaction_state`
//!   partition loads the state and writes the markers: the committed transaction is read
//!   whole, and the producer goes on with the new coordinator.

use std::collections::{BTreeMap, BTreeSet};

use super::common::{self, c, p};
use super::{Fields, Scenario, no_samples};
use crate::Millis;
use crate::assignor::AssignorKind;
use crate::broker::IsolationLevel;
use crate::checker::{Anomaly, AnomalyKind, Op};
use crate::sim::node::NodeId;
use crate::sim::simulation::Simulation;
use crate::sim::spec::{
    CommitMode, ConsumerSpec, CrashPoint, Fault, ProducerSpec, ScenarioSpec, Transform, TxnWorkload,
};

pub const TRANSACTIONS: Scenario = Scenario {
    name: "transactions",
    description: "A transactional producer aborts every third transaction; a read_committed consumer never sees those records, a read_uncommitted one does.",
    build: transactions,
    drive: no_samples,
    measure: measure_transactions,
};

pub const EXACTLY_ONCE: Scenario = Scenario {
    name: "exactly-once",
    description: "Consume-transform-produce in transactions crashes mid-transaction: its restart fences it, the open transaction is aborted, each input is in the output exactly once.",
    build: || ctp("exactly-once", true),
    drive: no_samples,
    measure: measure_ctp,
};

pub const AT_LEAST_ONCE_CTP: Scenario = Scenario {
    name: "at-least-once-ctp",
    description: "The same application producing, then committing offsets: the crash leaves outputs whose inputs are processed again (duplicates).",
    build: || ctp("at-least-once-ctp", false),
    drive: no_samples,
    measure: measure_ctp,
};

pub const ZOMBIE_FENCED: Scenario = Scenario {
    name: "zombie-fenced",
    description: "A transactional producer pauses; a new instance with its transactional.id fences it; the zombie wakes up, is refused and stops.",
    build: zombie,
    drive: no_samples,
    measure: measure_zombie,
};

pub const TXN_COORDINATOR_CRASH: Scenario = Scenario {
    name: "txn-coordinator-crash",
    description: "Three brokers; the transaction coordinator crashes with a commit prepared and its markers not yet written: the new coordinator finishes the commit.",
    build: coordinator_crash,
    drive: before_the_coordinator_crash,
    measure: measure_coordinator_crash,
};

const CRASH_MS: u64 = 800;

fn coordinator_crash() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("txn-coordinator-crash");
    spec.topics.push(common::topic(
        "payments",
        3,
        3,
        &[("min.insync.replicas", "2")],
    ));
    spec.clients.push(p(txn_producer(
        "txn-producer",
        "payments-app",
        "payments",
        3,
        60,
        6,
        0,
    )));
    spec.clients.push(c(reader(
        "payments-reader",
        "payments",
        IsolationLevel::ReadCommitted,
    )));
    // Markers to the partition leaders are lost from 600 ms: the transaction being committed
    // then stays in PrepareCommit (its producer waits to begin the next) until the crash.
    let lose = Fault::LoseMessages {
        prefix: "WriteTxnMarkers(".into(),
        per_million: 1_000_000,
    };
    spec.faults.push((Millis(600), lose));
    let crash = Fault::CrashTransactionCoordinator {
        transactional_id: "payments-app".into(),
    };
    spec.faults.push((Millis(CRASH_MS), crash));
    spec.faults
        .push((Millis(CRASH_MS + 50), Fault::StopLosingMessages));
    spec.faults.push((Millis(4_000), Fault::RestartCrashed));
    spec.end_ms = Millis(12_000);
    spec
}

fn before_the_coordinator_crash(sim: &mut Simulation) -> Fields {
    sim.run_until(Millis(CRASH_MS - 1));
    let coordinator = sim
        .transaction_coordinator("payments-app")
        .map_or(-1, i64::from);
    Fields::from([("coordinator_before".into(), coordinator)])
}

fn measure_coordinator_crash(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let ends = outcomes(sim, "txn-producer");
    let coordinator = sim
        .transaction_coordinator("payments-app")
        .map_or(-1, i64::from);
    Fields::from([
        ("coordinator_after".into(), coordinator),
        (
            "committed_transactions".into(),
            ends.get("committed").copied().unwrap_or(0),
        ),
        (
            "unfinished_transactions".into(),
            ends.get("unknown").copied().unwrap_or(0) + ends.get("aborted").copied().unwrap_or(0),
        ),
        (
            "reader_polled".into(),
            polled_by(sim, "payments-reader").len() as i64,
        ),
    ])
}

/// One broker and the three controllers: the coordinators and every partition on broker 1.
fn single_broker(name: &str) -> ScenarioSpec {
    let mut spec = ScenarioSpec::new(name);
    spec.brokers = vec![1];
    spec
}

/// A transactional producer of `messages` to `topic` in transactions of `per_transaction`.
pub fn txn_producer(
    name: &str,
    transactional_id: &str,
    topic: &str,
    partitions: u32,
    messages: u64,
    per_transaction: u64,
    abort_every: u64,
) -> ProducerSpec {
    let mut producer = common::producer(name, topic, messages, 20, 0, crate::broker::ACKS_ALL);
    producer.config.enable_idempotence = true;
    producer.transactions = Some(TxnWorkload {
        transactional_id: transactional_id.into(),
        partitions,
        per_transaction,
        abort_every,
        timeout_ms: 10_000,
    });
    producer
}

/// A consumer reading `topic` at `isolation`, in its own group, committing automatically.
pub fn reader(name: &str, topic: &str, isolation: IsolationLevel) -> ConsumerSpec {
    let mut consumer = common::consumer(name, name, topic, AssignorKind::Range, CommitMode::Auto);
    consumer.config.isolation_level = isolation;
    consumer
}

fn transactions() -> ScenarioSpec {
    let mut spec = single_broker("transactions");
    spec.topics.push(common::topic("payments", 2, 1, &[]));
    spec.clients.push(p(txn_producer(
        "txn-producer",
        "payments-app",
        "payments",
        2,
        60,
        4,
        3,
    )));
    let committed = reader("read-committed", "payments", IsolationLevel::ReadCommitted);
    let uncommitted = reader(
        "read-uncommitted",
        "payments",
        IsolationLevel::ReadUncommitted,
    );
    spec.clients.push(c(committed));
    spec.clients.push(c(uncommitted));
    spec.end_ms = Millis(6_000);
    spec
}

fn ctp(name: &str, exactly_once: bool) -> ScenarioSpec {
    let mut spec = single_broker(name);
    spec.topics.push(common::topic("orders", 2, 1, &[]));
    spec.topics.push(common::topic("invoices", 2, 1, &[]));
    let mut input = common::producer("producer", "orders", 80, 20, 0, crate::broker::ACKS_ALL);
    input.config.enable_idempotence = true;
    spec.clients.push(p(input));
    let mut app = common::consumer(
        "transformer",
        "transformer",
        "orders",
        AssignorKind::Range,
        CommitMode::SyncAfterProcessing,
    );
    app.config.isolation_level = IsolationLevel::ReadCommitted;
    app.config.max_poll_records = 10;
    app.restart_after_ms = Some(Millis(500));
    app.transform = Some(Transform {
        output: "invoices".into(),
        output_partitions: 2,
        exactly_once,
        transactional_id: "transformer-0".into(),
    });
    spec.clients.push(c(app));
    spec.clients.push(c(reader(
        "invoice-reader",
        "invoices",
        IsolationLevel::ReadCommitted,
    )));
    spec.faults.push((
        Millis(900),
        Fault::CrashClient {
            client: 1,
            at: CrashPoint::AfterProcessingBeforeCommit,
        },
    ));
    spec.end_ms = Millis(15_000);
    spec
}

fn zombie() -> ScenarioSpec {
    let mut spec = single_broker("zombie-fenced");
    spec.topics.push(common::topic("payments", 2, 1, &[]));
    spec.clients.push(p(txn_producer(
        "zombie",
        "payments-app",
        "payments",
        2,
        50,
        5,
        0,
    )));
    let mut successor = txn_producer("successor", "payments-app", "payments", 2, 40, 5, 0);
    successor.start_ms = Millis(1_200);
    spec.clients.push(p(successor));
    spec.clients.push(c(reader(
        "payments-reader",
        "payments",
        IsolationLevel::ReadCommitted,
    )));
    spec.faults.push((
        Millis(500),
        Fault::Pause {
            node: NodeId::Client(0),
            duration_ms: Millis(2_500),
        },
    ));
    spec.end_ms = Millis(8_000);
    spec
}

/// Records of aborted transactions in the final reads of `topic`.
fn aborted_records(sim: &Simulation, topic: &str) -> i64 {
    sim.history()
        .final_reads
        .iter()
        .filter(|r| r.tp.topic == topic)
        .map(|r| r.aborted.len() as i64)
        .sum()
}

/// Values polled by the consumer lives of `name` (`name#1`, `name#2`...).
fn polled_by<'a>(sim: &'a Simulation, name: &str) -> BTreeSet<&'a str> {
    let prefix = format!("{name}#");
    sim.history()
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Poll {
                consumer, value, ..
            } if consumer.starts_with(&prefix) => Some(value.as_str()),
            _ => None,
        })
        .collect()
}

fn outcomes(sim: &Simulation, producer_prefix: &str) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for op in &sim.history().ops {
        if let Op::TxnEnd {
            producer, outcome, ..
        } = op
            && producer.starts_with(producer_prefix)
        {
            let name = match outcome {
                crate::checker::TxnOutcome::Commit => "committed",
                crate::checker::TxnOutcome::Abort => "aborted",
                crate::checker::TxnOutcome::Unknown => "unknown",
            };
            *counts.entry(name).or_insert(0) += 1;
        }
    }
    counts
}

fn measure_transactions(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let aborted: BTreeSet<&str> = sim
        .history()
        .final_reads
        .iter()
        .flat_map(|r| {
            r.records
                .iter()
                .filter(|(o, _)| r.aborted.contains(o))
                .map(|(_, v)| v.as_str())
        })
        .collect();
    let committed_reads = polled_by(sim, "read-committed");
    let uncommitted_reads = polled_by(sim, "read-uncommitted");
    let ends = outcomes(sim, "txn-producer");
    Fields::from([
        (
            "committed_transactions".into(),
            ends.get("committed").copied().unwrap_or(0),
        ),
        (
            "aborted_transactions".into(),
            ends.get("aborted").copied().unwrap_or(0),
        ),
        ("aborted_records".into(), aborted.len() as i64),
        ("read_committed_polled".into(), committed_reads.len() as i64),
        (
            "read_committed_saw_aborted".into(),
            committed_reads.intersection(&aborted).count() as i64,
        ),
        (
            "read_uncommitted_polled".into(),
            uncommitted_reads.len() as i64,
        ),
        (
            "read_uncommitted_saw_aborted".into(),
            uncommitted_reads.intersection(&aborted).count() as i64,
        ),
    ])
}

fn measure_ctp(sim: &mut Simulation, anomalies: &[Anomaly]) -> Fields {
    let history = sim.history();
    let inputs: BTreeSet<&str> = history
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Ack {
                producer, value, ..
            } if producer == "producer" => Some(value.as_str()),
            _ => None,
        })
        .collect();
    // Inputs with an output a read_committed reader can see after the run.
    let visible: BTreeSet<&str> = history
        .final_reads
        .iter()
        .flat_map(|r| {
            r.records
                .iter()
                .filter(|(o, _)| !r.aborted.contains(o))
                .map(|(_, v)| v.as_str())
        })
        .collect();
    let covered: BTreeSet<&str> = history
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Send {
                value,
                source: Some(source),
                ..
            } if visible.contains(value.as_str()) => Some(source.as_str()),
            _ => None,
        })
        .collect();
    let missing = inputs.difference(&covered).count() as i64;
    let ends = outcomes(sim, "transformer");
    Fields::from([
        ("inputs".into(), inputs.len() as i64),
        ("outputs_missing".into(), missing),
        (
            "ctp_duplicates".into(),
            common::count(anomalies, AnomalyKind::CtpDuplicate),
        ),
        ("aborted_outputs".into(), aborted_records(sim, "invoices")),
        (
            "committed_transactions".into(),
            ends.get("committed").copied().unwrap_or(0),
        ),
        (
            "reader_polled".into(),
            polled_by(sim, "invoice-reader").len() as i64,
        ),
    ])
}

fn measure_zombie(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let fenced = |client: usize| {
        let errors = &sim.clients[client].stats.errors;
        ["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"]
            .iter()
            .map(|e| errors.get(*e).copied().unwrap_or(0) as i64)
            .sum::<i64>()
    };
    let successor = outcomes(sim, "successor");
    Fields::from([
        ("zombie_fenced".into(), fenced(0).min(1)),
        ("successor_fenced".into(), fenced(1).min(1)),
        (
            "successor_committed".into(),
            successor.get("committed").copied().unwrap_or(0),
        ),
        ("aborted_records".into(), aborted_records(sim, "payments")),
        (
            "reader_polled".into(),
            polled_by(sim, "payments-reader").len() as i64,
        ),
    ])
}
