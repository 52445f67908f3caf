//! The `peer` fuzz target's body and its seeds: what another node of the cluster can send to a
//! node's peer listener (`--controller-listen`).
//!
//! The input is the byte stream of one inbound connection, from its first byte: the hello,
//! then length-prefixed frames. It goes through the listener's own decode path
//! (`partita_server::peer::inbound::read_peer`: the frame reader with its bounds, the hello,
//! every frame kind's decoding with the guard's walk of the Kafka-protocol frames), and each
//! message that decodes goes into a real core [`Node`] (`handle_peer`: raft-rs decodes and
//! steps the Raft frames' protobuf there), whose outputs are handled as the server's engine
//! does: Raft writes applied to the persisted log, messages to other nodes encoded for their
//! links. Whatever a peer sends, the node must refuse or act on it, never panic.

use std::collections::BTreeSet;

use partita_core::Millis;
use partita_core::broker::{MemoryStorageFactory, ReplicaFetchSettings};
use partita_core::client::Request;
use partita_core::config::BrokerConfig;
use partita_core::controller::BrokerId;
use partita_core::group::CoordinatorConfig;
use partita_core::node::quorum::RaftLog;
use partita_core::node::{Node, NodeConfig, Output, PeerMessage, RequestRef, Roles};
use partita_server::peer::codec;
use partita_server::peer::inbound::read_peer;

/// The node the fuzzed connection reaches, in a cluster of voters 1, 2 and 3.
pub const ME: BrokerId = 1;
const VOTERS: [BrokerId; 3] = [1, 2, 3];
/// Simulated time between two delivered messages.
const STEP: Millis = Millis(50);

/// The config of node `node_id` of the three-voter cluster (every role, as `partita serve
/// --controller-quorum-voters` runs them), creating topics with three replicas on demand.
pub fn node_config(node_id: BrokerId) -> NodeConfig {
    let broker = BrokerConfig {
        auto_create_topics_enable: true,
        default_replication_factor: 3,
        num_partitions: 1,
        ..BrokerConfig::default()
    };
    NodeConfig {
        node_id,
        roles: Roles::COMBINED,
        controller_id: VOTERS[0],
        controller_quorum_voters: VOTERS.to_vec(),
        metadata_snapshot_interval: 16,
        advertised_host: "127.0.0.1".to_string(),
        advertised_port: 9092 + node_id as u16,
        broker,
        groups: CoordinatorConfig::default(),
        durable: false,
        seed: 17 + node_id as u64,
        replica_fetch: ReplicaFetchSettings::default(),
    }
}

/// One node and what its shell keeps: the persisted Raft log and the clock.
struct Driven {
    node: Node<MemoryStorageFactory>,
    raft_log: RaftLog,
}

impl Driven {
    fn new(node_id: BrokerId, now: Millis) -> Driven {
        let raft_log = RaftLog::default();
        Driven {
            node: Node::new(
                node_config(node_id),
                MemoryStorageFactory,
                &raft_log,
                &[],
                now,
            ),
            raft_log,
        }
    }

    /// Handles the node's outputs as the server's engine does (`State::drain`), returning the
    /// messages for other nodes.
    fn drain(&mut self) -> Vec<(BrokerId, PeerMessage)> {
        let mut sent = Vec::new();
        while let Some(output) = self.node.poll_output() {
            match output {
                Output::PersistRaft(write) => self.raft_log.apply(write),
                Output::Send { to, message } => sent.push((to, message)),
                Output::PersistGroups(_) | Output::Respond { .. } | Output::Event(_) => {}
            }
        }
        sent
    }
}

/// The fuzz target: `data` is one inbound peer connection's bytes.
pub fn peer(data: &[u8]) {
    let mut now = Millis(1_000);
    let mut me = Driven::new(ME, now);
    me.drain();
    let known: BTreeSet<BrokerId> = VOTERS.into_iter().collect();
    let mut reader = data;
    let _ = runtime().block_on(read_peer(&mut reader, ME, &known, |from, message| {
        let _ = message.summary();
        now = now.plus(STEP);
        me.node.handle_peer(now, from, message);
        me.node.handle_timeout(now);
        for (_, message) in me.drain() {
            // What the links would send: encoding may refuse (a value too large for the
            // frame), never panic.
            let _ = codec::encode(&message);
        }
        std::future::ready(Ok(()))
    }));
}

/// A current-thread runtime with timers (the reader's timeouts), one per thread: reading from
/// a slice never waits, so no timeout ever fires.
fn runtime() -> &'static tokio::runtime::Runtime {
    thread_local! {
        static RUNTIME: &'static tokio::runtime::Runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime builds"),
        ));
    }
    RUNTIME.with(|runtime| *runtime)
}

/// Every message a three-node cluster's nodes 2 and 3 sent node 1 while electing a
/// controller, registering their brokers, auto-creating a topic of three replicas and
/// replicating a produced record (sender, message), in the order sent: real traffic, for
/// seeds.
pub fn cluster_traffic() -> Vec<(BrokerId, PeerMessage)> {
    // Node 1 first on time (it leads: the followers' answers), then late, so that another
    // voter leads and node 1 gets the leader's side too (appends of the metadata log,
    // pushes, heartbeat answers, fetch answers).
    let mut traffic = run_cluster(0);
    traffic.extend(run_cluster(200));
    traffic
}

/// [`cluster_traffic`] with node 1 started after `late_start` steps of 10 ms.
fn run_cluster(late_start: u32) -> Vec<(BrokerId, PeerMessage)> {
    let mut now = Millis(1_000);
    let mut nodes: Vec<Driven> = VOTERS[1..].iter().map(|&id| Driven::new(id, now)).collect();
    let mut to_me = Vec::new();
    let mut in_flight: Vec<(BrokerId, BrokerId, PeerMessage)> = Vec::new();
    let mut created = false;
    let mut produced = false;
    for step in 0..1_000 {
        now = now.plus(Millis(10));
        if step == late_start {
            nodes.insert(0, Driven::new(ME, now));
        }
        for (from, to, message) in std::mem::take(&mut in_flight) {
            if to == ME {
                to_me.push((from, message.clone()));
            }
            if let Some(node) = nodes.iter_mut().find(|n| n.node.node_id() == to) {
                node.node.handle_peer(now, from, message);
            }
        }
        for node in &mut nodes {
            node.node.handle_timeout(now);
        }
        let controller = nodes
            .iter()
            .position(|n| n.node.active_controller() == Some(n.node.node_id()));
        let registered =
            nodes.len() == VOTERS.len() && nodes.iter().all(|n| n.node.broker_epoch().is_some());
        // Until the brokers are unfenced the controller refuses three replicas: ask again.
        if let Some(c) = controller
            && registered
            && !created
            && step % 20 == 0
        {
            let _ = nodes[c]
                .node
                .metadata(now, Some(&["seeds".to_string()]), true);
        }
        created = nodes
            .iter()
            .all(|n| n.node.image().topic("seeds").is_some());
        if created && !produced {
            let leader = nodes.iter().position(|n| {
                n.node
                    .image()
                    .topic("seeds")
                    .and_then(|t| t.partitions.first())
                    .is_some_and(|p| p.leader == n.node.node_id())
            });
            if let Some(l) = leader {
                produced = true;
                nodes[l]
                    .node
                    .handle_request(now, RequestRef(1), Request::Produce(produce()));
            }
        }
        for node in &mut nodes {
            let from = node.node.node_id();
            for (to, message) in node.drain() {
                in_flight.push((from, to, message));
            }
        }
    }
    let state: Vec<String> = nodes
        .iter()
        .map(|n| {
            format!(
                "node {}: controller {:?}, epoch {:?}, topics {}",
                n.node.node_id(),
                n.node.active_controller(),
                n.node.broker_epoch(),
                n.node.image().topic("seeds").is_some()
            )
        })
        .collect();
    assert!(
        produced,
        "the seed cluster never got to produce (created: {created}): {state:?}"
    );
    to_me
}

fn produce() -> partita_core::broker::ProduceRequest {
    let mut builder = partita_core::batch::BatchBuilder::new();
    builder.push(1_700_000_000_000, Some(b"k"), Some(b"a peer's seed"), &[]);
    partita_core::broker::ProduceRequest {
        acks: -1,
        timeout_ms: Millis(5_000),
        partitions: vec![partita_core::broker::ProducePartition {
            tp: partita_core::assignor::TopicPartition {
                topic: "seeds".to_string(),
                partition: 0,
            },
            records: builder.build(),
        }],
    }
}
