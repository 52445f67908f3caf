//! `partita cluster --nodes N`: a local cluster for trying things out. Starts N `partita serve`
//! children on loopback (node ids 1..=N, every node a voter, node 1 the active controller),
//! prints the bootstrap servers and each node's addresses, restarts nothing by itself, and on
//! Ctrl-C or SIGTERM stops every child (SIGTERM, then SIGKILL after a grace period).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::cli::ClusterArgs;
use crate::serve::StopSignals;

/// How long a child may take to print its addresses.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a child may take to stop on SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// How to start one node of a local cluster; [`NodeSpec::spawn`] starts it, and starts it
/// again on the same ports and data after it was killed (`partita chaos`).
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// The `partita` binary.
    pub exe: PathBuf,
    pub node_id: u32,
    pub data_dir: PathBuf,
    /// 0 lets the node pick (it prints what it bound).
    pub kafka_port: u16,
    pub http_port: u16,
    /// This node's controller address, host:port.
    pub controller: String,
    /// `--controller-quorum-voters`: id@host:port,...
    pub voters: String,
    /// `--config NAME=VALUE` for the node.
    pub config: Vec<String>,
    /// Where the node's standard error (its log) goes; inherited when `None`.
    pub log_file: Option<PathBuf>,
    /// The address the node listens on (Kafka and HTTP): 127.0.0.1, or its address in
    /// `netns`.
    pub host: String,
    /// A network namespace to run the node in (`ip netns exec`, which execs, so the child's
    /// pid is the node's): `partita chaos` partitions the network this way.
    pub netns: Option<String>,
    /// Extra environment for the node (`partita chaos --faults clock` preloads libfaketime).
    pub env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
}

impl NodeSpec {
    /// Starts the node and waits until it printed its addresses.
    pub fn spawn(&self) -> anyhow::Result<Member> {
        let mut command = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&self.exe);
                c
            }
            None => Command::new(&self.exe),
        };
        command
            .arg("serve")
            .args(["--node-id", &self.node_id.to_string()])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen", &format!("{}:{}", self.host, self.kafka_port)])
            .args(["--http", &format!("{}:{}", self.host, self.http_port)])
            .args(["--controller-quorum-voters", &self.voters]);
        for config in &self.config {
            command.args(["--config", config]);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(path) = &self.log_file {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            command.stderr(log);
        }
        let child = crate::child::serve_ends_with_this_process(&mut command)
            .stdout(Stdio::piped())
            .spawn()
            .context("starting partita serve")?;
        announced(self.node_id, child, self.controller.clone())
    }
}

/// One child `partita serve`.
pub struct Member {
    pub node_id: u32,
    pub child: Child,
    /// The Kafka listener, host:port.
    pub kafka: String,
    pub http: String,
    pub controller: String,
    /// Kept open: the child's stdout, so its later lines have somewhere to go.
    _stdout: BufReader<std::process::ChildStdout>,
}

pub fn run(args: ClusterArgs) -> anyhow::Result<()> {
    if !(1..=64).contains(&args.nodes) {
        bail!("--nodes {}: from 1 to 64", args.nodes);
    }
    let ports = |base: u16| -> anyhow::Result<Vec<u16>> {
        (0..args.nodes)
            .map(|i| {
                if args.any_ports {
                    free_port()
                } else {
                    base.checked_add(i as u16).context("port out of range")
                }
            })
            .collect()
    };
    let controller_ports = ports(args.controller_port)?;
    let voters: Vec<String> = controller_ports
        .iter()
        .enumerate()
        .map(|(i, port)| format!("{}@127.0.0.1:{port}", i + 1))
        .collect();
    let voters = voters.join(",");
    let exe = std::env::current_exe().context("finding the partita binary")?;
    let mut members: Vec<Member> = Vec::new();
    let started = (|| -> anyhow::Result<()> {
        for i in 0..args.nodes {
            let (kafka_port, http_port) = if args.any_ports {
                (0, 0)
            } else {
                (args.kafka_port + i as u16, args.http_port + i as u16)
            };
            let spec = NodeSpec {
                exe: exe.clone(),
                node_id: i + 1,
                data_dir: args.data_dir.join(format!("node-{}", i + 1)),
                kafka_port,
                http_port,
                controller: format!("127.0.0.1:{}", controller_ports[i as usize]),
                voters: voters.clone(),
                config: args.config.clone(),
                log_file: None,
                host: "127.0.0.1".into(),
                netns: None,
                env: Vec::new(),
            };
            members.push(spec.spawn()?);
        }
        Ok(())
    })();
    if let Err(e) = started {
        stop_all(&mut members);
        return Err(e);
    }

    let bootstrap: Vec<&str> = members.iter().map(|m| m.kafka.as_str()).collect();
    println!("partita: cluster of {} nodes", members.len());
    println!("partita: bootstrap servers {}", bootstrap.join(","));
    for m in &members {
        let role = if m.node_id == 1 {
            " (active controller)"
        } else {
            ""
        };
        println!(
            "partita: node {} pid {} kafka {} http http://{}/ controller {}{role}",
            m.node_id,
            m.child.id(),
            m.kafka,
            m.http,
            m.controller
        );
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut signals = StopSignals::listen()?;
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let mut exited = vec![false; members.len()];
        loop {
            tokio::select! {
                _ = signals.recv() => break,
                _ = tick.tick() => {
                    for (m, gone) in members.iter_mut().zip(exited.iter_mut()) {
                        if !*gone && let Ok(Some(status)) = m.child.try_wait() {
                            *gone = true;
                            eprintln!("partita: node {} exited ({status}); not restarted", m.node_id);
                        }
                    }
                }
            }
        }
        anyhow::Ok(())
    })?;
    eprintln!("partita: stopping the cluster");
    stop_all(&mut members);
    Ok(())
}

/// Waits for a child to print its Kafka and HTTP addresses.
fn announced(node_id: u32, mut child: Child, controller: String) -> anyhow::Result<Member> {
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    // Read on a thread so that a silent child cannot block past the deadline.
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let (mut kafka, mut http) = (None, None);
        let mut line = String::new();
        while kafka.is_none() || http.is_none() {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(a) = line.trim().strip_prefix("partita: kafka listening on ") {
                kafka = Some(a.to_string());
            }
            if let Some(a) = line
                .trim()
                .strip_prefix("partita: http listening on http://")
            {
                http = Some(a.trim_end_matches('/').to_string());
            }
        }
        let _ = tx.send((kafka.zip(http), reader));
    });
    let deadline = Instant::now() + START_TIMEOUT;
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok((Some((kafka, http)), reader)) => Ok(Member {
            node_id,
            child,
            kafka,
            http,
            controller,
            _stdout: reader,
        }),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("node {node_id} did not start (see its log above)")
        }
    }
}

/// SIGTERM to every child still running, then SIGKILL to any still there after the grace.
pub fn stop_all(members: &mut [Member]) {
    for m in members.iter_mut() {
        if matches!(m.child.try_wait(), Ok(None)) {
            let pid = rustix::process::Pid::from_raw(m.child.id() as i32).expect("a child pid");
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }
    let deadline = Instant::now() + STOP_GRACE;
    for m in members.iter_mut() {
        loop {
            match m.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    eprintln!("partita: node {} did not stop; killing it", m.node_id);
                    let _ = m.child.kill();
                    let _ = m.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// A port free on loopback now (the child binds it a moment later).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
