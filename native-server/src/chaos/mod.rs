//! `partita chaos`: a Jepsen-style run against a real local cluster. It starts N `partita
//! serve` children (as `partita cluster` does, through [`NodeSpec`]), runs the recording client
//! (`scripts/history_recorder.py`, confluent-kafka, built into the binary) as a child process,
//! injects the seeded [`schedule`] of faults meanwhile (SIGKILL + restart, SIGSTOP/SIGCONT,
//! cascades that leave a partition without a live ISR member, clock skew through libfaketime
//! ([`clock`]), and, as root, network partitions between namespaces: [`netns`]), aimed at any node, a partition's leader or the
//! active controller, heals every node, has the recorder read every partition back, and runs
//! the core's checker on the history.
//!
//! Why the Python recorder and not `client.rs`: the tests must judge histories written by a
//! real client's producer (retries, idempotence, batching: librdkafka's), and `client.rs` is a
//! request/response client for the admin commands with no producer of its own.

mod clock;
mod inject;
mod metadata;
mod netns;
pub mod schedule;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::process::Signal;
use serde::Serialize;

use crate::check::{Verdict, read_history};
use crate::cli::ChaosArgs;
use crate::cluster::{Member, NodeSpec, free_port, stop_all};
use clock::SkewedClock;
use inject::Nodes;
use netns::Net;
use schedule::{Aim, Fault, FaultKind, ScheduleSpec};

/// The test topic.
const TOPIC: &str = "chaos";

/// The recording client, written next to the history at the start of a run.
const RECORDER: &str = include_str!("../../../scripts/history_recorder.py");
/// Fast failure detection, so that faults of a few seconds fence nodes and shrink the ISR
/// (Kafka's defaults are 2 s heartbeats, 9 s sessions, 30 s lag).
const CLUSTER_CONFIG: &[&str] = &[
    "broker.heartbeat.interval.ms=300",
    "broker.session.timeout.ms=3000",
    "replica.lag.time.max.ms=5000",
    "replica.socket.timeout.ms=2000",
    "group.initial.rebalance.delay.ms=0",
];
const REPLICA_LAG_MS: u64 = 5_000;
/// The producer's message.timeout.ms: the flush after the workload waits at most this.
const MESSAGE_TIMEOUT_MS: u64 = 30_000;
/// How long the recorder's final read may take.
const FINAL_TIMEOUT_S: u64 = 60;

/// What `partita chaos --json` prints: the fields of `partita sim --json` (scenario, seed,
/// acknowledged, anomalies) plus the run's settings and the fault schedule that ran.
#[derive(Debug, Serialize)]
struct Report {
    scenario: &'static str,
    seed: u64,
    /// Operations in the history.
    events: usize,
    #[serde(flatten)]
    verdict: Verdict,
    nodes: u32,
    acks: String,
    idempotence: bool,
    /// Five requests in flight per connection with idempotence (else one).
    pipeline: bool,
    duration_s: u64,
    target: Aim,
    producers: u32,
    /// Sends per second asked for (0: as fast as possible).
    rate: u32,
    topic_config: Vec<String>,
    faults: Vec<Fault>,
    history: PathBuf,
}

pub fn run(args: ChaosArgs) -> ExitCode {
    match chaos(&args) {
        Ok(report) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&report).expect("reports serialize")
                );
            } else {
                println!(
                    "chaos seed {}: {} nodes, acks={}, {} faults, history {}",
                    report.seed,
                    report.nodes,
                    report.acks,
                    report.faults.len(),
                    report.history.display()
                );
                for f in &report.faults {
                    println!(
                        "fault at {} ms: {} node {} ({}) for {} ms",
                        f.at_ms,
                        f.kind.name(),
                        f.node,
                        f.target,
                        f.for_ms
                    );
                }
                if report.faults.iter().all(|f| f.node == 0) {
                    println!("no fault was injected: the run only shows the healthy cluster");
                }
                report.verdict.print();
            }
            if report.verdict.anomalies.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("partita: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn chaos(args: &ChaosArgs) -> anyhow::Result<Report> {
    if !(1..=16).contains(&args.nodes) {
        bail!("--nodes {}: from 1 to 16", args.nodes);
    }
    let mut kinds = Vec::new();
    for name in args
        .faults
        .iter()
        .filter(|f| !f.is_empty() && f.as_str() != "none")
    {
        kinds.extend(FaultKind::parse(name)?);
    }
    let network = kinds.iter().any(|k| k.is_network());
    if network && !netns::is_root() {
        bail!(
            "--faults partition/isolate/split: not available, they need root (network \
             namespaces, veth, a bridge); kill, pause and cascade are"
        );
    }
    let skew = kinds.contains(&FaultKind::Clock);
    let faketime = clock::library();
    if skew && faketime.is_none() {
        bail!(
            "--faults clock: not available, it needs libfaketime (Debian's faketime package; \
             scripts/install.sh installs it); kill, pause and cascade are"
        );
    }
    let mut faults = schedule::draw(&ScheduleSpec {
        seed: args.seed,
        kinds,
        nodes: args.nodes,
        aim: args.target,
        partitions: args.topic_partitions,
        duration_ms: args.duration_s * 1000,
        replica_lag_ms: REPLICA_LAG_MS,
    });
    if faults.is_empty() {
        eprintln!(
            "partita chaos: warning: --duration-s {} leaves no room for a fault of the kinds \
             asked (faults start 2 s in and are healed 2 s before the end; a kill lasts up to 5 \
             s, a pause or a cascade longer than replica.lag.time.max.ms, a partition up to 10 \
             s, a clock skew up to 10 s): this run injects none",
            args.duration_s
        );
    }
    let dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "partita-chaos-{}-seed{}",
            std::process::id(),
            args.seed
        )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let history = dir.join("history.jsonl");
    let _ = std::fs::remove_file(&history);
    let recorder = match &args.recorder {
        Some(path) => path.clone(),
        None => {
            let path = dir.join("history_recorder.py");
            std::fs::write(&path, RECORDER)?;
            path
        }
    };

    let net = if network {
        Some(Net::create(args.nodes)?)
    } else {
        None
    };
    let clocks = match faketime.filter(|_| skew) {
        Some(library) => (1..=args.nodes)
            .map(|node| SkewedClock::create(&library, dir.join(format!("node-{node}.faketime"))))
            .collect::<anyhow::Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let mut specs = node_specs(args, &dir, net.as_ref())?;
    for (spec, clock) in specs.iter_mut().zip(&clocks) {
        spec.env = clock.env();
    }
    let mut nodes = Nodes {
        specs: &specs,
        members: Vec::new(),
        net,
        clocks,
        topic: TOPIC,
    };
    let result = (|| {
        for spec in &specs {
            nodes.members.push(Some(spec.spawn()?));
        }
        let bootstrap = nodes.addrs().join(",");
        let recorder_cmd = |phase: &str| {
            let mut c = Command::new(&args.python);
            c.arg(&recorder)
                .arg(phase)
                .args(["--bootstrap", &bootstrap])
                .args(["--topic", TOPIC])
                .args(["--partitions", &args.topic_partitions.to_string()])
                .arg("--out")
                .arg(&history);
            c
        };
        let mut workload = recorder_cmd("workload");
        workload
            .arg("--create-topic")
            .args(["--replication-factor", &args.replication_factor.to_string()])
            .args([
                "--min-insync-replicas",
                &args.min_insync_replicas.to_string(),
            ])
            .args(["--acks", &args.acks])
            .args(["--duration-s", &args.duration_s.to_string()])
            .args(["--producers", &args.producers.to_string()])
            .args(["--rate", &args.rate.to_string()])
            .args(["--message-timeout-ms", &MESSAGE_TIMEOUT_MS.to_string()]);
        for config in &args.topic_config {
            workload.args(["--topic-config", config]);
        }
        if args.idempotence {
            workload.arg("--idempotence");
        }
        if args.pipeline {
            workload.arg("--pipeline");
        }
        let mut workload = workload.spawn().context("starting the recorder")?;
        // The recorder creates the topic and waits for its leaders first; the schedule counts
        // from when it opens the history to produce.
        let started = wait_for_file(&history, &mut workload)?;
        let inject = nodes.inject(&mut faults, started);
        nodes.heal()?;
        inject?;
        let limit = Duration::from_secs(args.duration_s + 3 + MESSAGE_TIMEOUT_MS / 1000 + 90);
        wait_child(&mut workload, limit, "the recorder's workload")?;
        let mut final_read = recorder_cmd("final");
        final_read.args(["--final-timeout-s", &FINAL_TIMEOUT_S.to_string()]);
        let mut final_read = final_read.spawn().context("starting the final read")?;
        let partitions = args.topic_partitions.max(1) as u64;
        let limit = Duration::from_secs(FINAL_TIMEOUT_S * (partitions + 1) + 30);
        wait_child(&mut final_read, limit, "the recorder's final read")?;
        anyhow::Ok(())
    })();
    let mut running: Vec<Member> = nodes.members.drain(..).flatten().collect();
    for m in &running {
        // A node left paused by an error above would never stop on SIGTERM.
        inject::send(m, Signal::CONT);
    }
    stop_all(&mut running);
    // The namespaces go when the nodes in them are gone.
    drop(nodes);
    result?;
    let recorded = read_history(&history)?;
    let verdict = Verdict::of(&recorded);
    if verdict.anomalies.is_empty() && args.data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Report {
        scenario: "chaos",
        seed: args.seed,
        events: recorded.ops.len(),
        verdict,
        nodes: args.nodes,
        acks: args.acks.clone(),
        idempotence: args.idempotence,
        pipeline: args.pipeline,
        duration_s: args.duration_s,
        target: args.target,
        producers: args.producers,
        rate: args.rate,
        topic_config: args.topic_config.clone(),
        faults,
        history,
    })
}

/// Ports for every node, picked once so a restarted node comes back where it was: free
/// loopback ports, or Kafka's usual ports on each node's own address in its namespace.
fn node_specs(args: &ChaosArgs, dir: &Path, net: Option<&Net>) -> anyhow::Result<Vec<NodeSpec>> {
    let exe = std::env::current_exe().context("finding the partita binary")?;
    let host = |node: u32| match net {
        Some(net) => net.node_addr(node).to_string(),
        None => "127.0.0.1".to_string(),
    };
    let port = |fixed: u16| match net {
        Some(_) => Ok(fixed),
        None => free_port(),
    };
    let controllers = (1..=args.nodes)
        .map(|node| Ok(format!("{}:{}", host(node), port(9093)?)))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let voters = controllers
        .iter()
        .enumerate()
        .map(|(i, addr)| format!("{}@{addr}", i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let mut config: Vec<String> = CLUSTER_CONFIG.iter().map(|c| c.to_string()).collect();
    config.extend(args.config.iter().cloned());
    (1..=args.nodes)
        .map(|node_id| {
            Ok(NodeSpec {
                exe: exe.clone(),
                node_id,
                data_dir: dir.join(format!("node-{node_id}")),
                kafka_port: port(9092)?,
                http_port: port(8080)?,
                controller: controllers[node_id as usize - 1].clone(),
                voters: voters.clone(),
                config: config.clone(),
                log_file: Some(dir.join(format!("node-{node_id}.log"))),
                host: host(node_id),
                netns: net.map(|n| n.namespace(node_id)),
                env: Vec::new(),
            })
        })
        .collect()
}

/// Waits until the recorder opened the history (it then produces); fails when it exits
/// first or takes longer than a topic creation may.
fn wait_for_file(path: &Path, recorder: &mut Child) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !path.exists() {
        if let Some(status) = recorder.try_wait()? {
            bail!("the recorder's workload failed before producing ({status})");
        }
        if Instant::now() >= deadline {
            bail!("the recorder did not create the topic in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Instant::now())
}

/// Waits for a child up to `limit`; kills it and fails past that or when it fails.
fn wait_child(child: &mut Child, limit: Duration, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("{what} failed ({status})");
            }
            return Ok(());
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not finish in {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
