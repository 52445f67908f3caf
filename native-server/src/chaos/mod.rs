//! `partita chaos`: a Jepsen-style run against a real local cluster. It starts N `partita
//! serve` children (as `partita cluster` does, through [`NodeSpec`]), runs the recording client
//! (`scripts/history_recorder.py`, confluent-kafka, built into the binary) as a child process,
//! injects the seeded [`schedule`] of faults meanwhile (SIGKILL + restart, SIGSTOP/SIGCONT of
//! nodes other than the controller), heals every node, has the recorder read every partition
//! back, and runs the core's checker on the history.
//!
//! Why the Python recorder and not `client.rs`: the tests must judge histories written by a
//! real client's producer (retries, idempotence, batching: librdkafka's), and `client.rs` is a
//! request/response client for the admin commands with no producer of its own.

pub mod schedule;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::process::{Pid, Signal, kill_process};
use serde::Serialize;

use crate::check::{Verdict, read_history};
use crate::cli::ChaosArgs;
use crate::cluster::{Member, NodeSpec, free_port, stop_all};
use schedule::{Fault, FaultKind, ScheduleSpec};

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
    duration_s: u64,
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
                        "fault at {} ms: {:?} node {} for {} ms",
                        f.at_ms, f.kind, f.node, f.for_ms
                    );
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
    let kinds = args
        .faults
        .iter()
        .filter(|f| !f.is_empty() && f.as_str() != "none")
        .map(|f| FaultKind::parse(f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let faults = schedule::draw(&ScheduleSpec {
        seed: args.seed,
        kinds,
        nodes: args.nodes,
        duration_ms: args.duration_s * 1000,
        replica_lag_ms: REPLICA_LAG_MS,
    });
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
    let recorder = dir.join("history_recorder.py");
    std::fs::write(&recorder, RECORDER)?;

    let specs = node_specs(args, &dir)?;
    let mut members: Vec<Option<Member>> = Vec::new();
    let result = (|| {
        for spec in &specs {
            members.push(Some(spec.spawn()?));
        }
        let bootstrap = specs
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.kafka_port))
            .collect::<Vec<_>>()
            .join(",");
        let recorder_cmd = |phase: &str| {
            let mut c = Command::new(&args.python);
            c.arg(&recorder)
                .arg(phase)
                .args(["--bootstrap", &bootstrap])
                .args(["--topic", "chaos"])
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
            .args(["--message-timeout-ms", &MESSAGE_TIMEOUT_MS.to_string()]);
        if args.idempotence {
            workload.arg("--idempotence");
        }
        let mut workload = workload.spawn().context("starting the recorder")?;
        // The recorder creates the topic first; the schedule counts from when it starts
        // producing, which is within a few seconds: faults begin 2 s in at the earliest.
        let started = Instant::now() + Duration::from_secs(3);
        let inject = inject(&faults, &specs, &mut members, started);
        heal(&specs, &mut members)?;
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
    let mut running: Vec<Member> = members.into_iter().flatten().collect();
    for m in &running {
        // A node left paused by an error above would never stop on SIGTERM.
        signal(m, Signal::CONT);
    }
    stop_all(&mut running);
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
        duration_s: args.duration_s,
        faults,
        history,
    })
}

/// Free ports for every node, picked once so a restarted node comes back where it was.
fn node_specs(args: &ChaosArgs, dir: &Path) -> anyhow::Result<Vec<NodeSpec>> {
    let exe = std::env::current_exe().context("finding the partita binary")?;
    let controllers = (0..args.nodes)
        .map(|_| free_port())
        .collect::<anyhow::Result<Vec<u16>>>()?;
    let voters = controllers
        .iter()
        .enumerate()
        .map(|(i, port)| format!("{}@127.0.0.1:{port}", i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let mut config: Vec<String> = CLUSTER_CONFIG.iter().map(|c| c.to_string()).collect();
    config.extend(args.config.iter().cloned());
    (0..args.nodes)
        .map(|i| {
            let node_id = i + 1;
            Ok(NodeSpec {
                exe: exe.clone(),
                node_id,
                data_dir: dir.join(format!("node-{node_id}")),
                kafka_port: free_port()?,
                http_port: free_port()?,
                controller: format!("127.0.0.1:{}", controllers[i as usize]),
                voters: voters.clone(),
                config: config.clone(),
                log_file: Some(dir.join(format!("node-{node_id}.log"))),
            })
        })
        .collect()
}

/// Runs the schedule on the wall clock from `started`: one fault at a time, each undone
/// (restart, SIGCONT) when its time is up.
fn inject(
    faults: &[Fault],
    specs: &[NodeSpec],
    members: &mut [Option<Member>],
    started: Instant,
) -> anyhow::Result<()> {
    let sleep_until = |at_ms: u64| {
        let at = started + Duration::from_millis(at_ms);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
    };
    for fault in faults {
        let index = (fault.node - 1) as usize;
        sleep_until(fault.at_ms);
        eprintln!(
            "partita chaos: {:?} node {} for {} ms",
            fault.kind, fault.node, fault.for_ms
        );
        match fault.kind {
            FaultKind::Kill => {
                if let Some(mut m) = members[index].take() {
                    let _ = m.child.kill();
                    let _ = m.child.wait();
                }
                sleep_until(fault.at_ms + fault.for_ms);
                members[index] = Some(specs[index].spawn()?);
            }
            FaultKind::Pause => {
                if let Some(m) = &members[index] {
                    signal(m, Signal::STOP);
                }
                sleep_until(fault.at_ms + fault.for_ms);
                if let Some(m) = &members[index] {
                    signal(m, Signal::CONT);
                }
            }
        }
    }
    Ok(())
}

/// Every node running and none paused: restarts the ones that are gone.
fn heal(specs: &[NodeSpec], members: &mut [Option<Member>]) -> anyhow::Result<()> {
    for (spec, slot) in specs.iter().zip(members.iter_mut()) {
        let alive = match slot {
            Some(m) => matches!(m.child.try_wait(), Ok(None)),
            None => false,
        };
        if alive {
            signal(slot.as_ref().expect("alive"), Signal::CONT);
        } else {
            *slot = Some(spec.spawn()?);
        }
    }
    Ok(())
}

fn signal(member: &Member, signal: Signal) {
    if let Some(pid) = Pid::from_raw(member.child.id() as i32) {
        let _ = kill_process(pid, signal);
    }
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
