//! The simulation: every process of a cluster over one simulated network, on virtual time,
//! advanced one event at a time.

use std::collections::BTreeMap;

use super::client_node::ClientProcess;
use super::message::Message;
use super::network::Network;
use super::node::{CONTROLLER_NODE_ID, NodeId, controller_ids};
use super::outbox::Outbox;
use super::process::{NodeProcess, REPLICA_FETCH_SETTINGS};
use super::queue::EventQueue;
use super::rng::Rng;
use super::spec::{ClientSpec, Fault, ScenarioSpec, SpecError};
use super::trace::{Trace, TraceEvent};
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::checker::{Anomaly, History};
use crate::client::Destination;
use crate::controller::BrokerId;
use crate::node::{NodeConfig, Roles};

/// A run stops after this many events whatever its end time: a bound on work, so a scenario
/// that livelocks ends instead of hanging the playground.
pub const EVENTS_MAX: u64 = 5_000_000;

#[derive(Debug)]
pub(super) enum Event {
    Deliver {
        from: NodeId,
        to: NodeId,
        incarnation: u32,
        message: Message,
    },
    Timer(NodeId),
    Fault(Fault),
    ClientStart(usize),
}

pub struct Simulation {
    pub(super) spec: ScenarioSpec,
    pub(super) seed: u64,
    pub(super) now: Millis,
    pub(super) queue: EventQueue<Event>,
    pub(super) network: Network,
    pub(super) rng: Rng,
    /// The controller quorum's voters, controller-only nodes (`process.roles=controller`).
    pub(super) controllers: BTreeMap<BrokerId, NodeProcess>,
    /// Brokers (`process.roles=broker`), each a group coordinator too: the coordinator of a
    /// group is the leader of its `__consumer_offsets` partition.
    pub(super) brokers: BTreeMap<BrokerId, NodeProcess>,
    pub(super) clients: Vec<ClientProcess>,
    pub(super) timers: BTreeMap<NodeId, Millis>,
    pub(super) paused: BTreeMap<NodeId, Millis>,
    pub(super) trace: Trace,
    pub(super) history: History,
    pub(super) invariants: Vec<String>,
    pub(super) events: u64,
}

impl Simulation {
    /// Builds the cluster of `spec` at time zero: brokers registered and unfenced, topics
    /// created, clients and faults scheduled. Everything random comes from `seed`. Panics on
    /// a spec [`Simulation::try_new`] refuses (the named scenarios are all valid).
    pub fn new(spec: ScenarioSpec, seed: u64) -> Simulation {
        Simulation::try_new(spec, seed).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`Simulation::new`], for specs from outside (the playground's editor): a spec that
    /// cannot run is an error, not a panic.
    pub fn try_new(spec: ScenarioSpec, seed: u64) -> Result<Simulation, SpecError> {
        spec.validate()?;
        let mut rng = Rng::new(seed);
        let network = Network::new(spec.network.clone(), rng.fork(1));
        let roles = |broker, controller, group_coordinator| Roles {
            broker,
            controller,
            group_coordinator,
        };
        // Every voter gets the same seed: the controller's choices (topic ids, placement)
        // must not depend on which voter leads.
        let controller_seed = rng.next_u64();
        let controllers = controller_ids(spec.controllers)
            .into_iter()
            .map(|id| {
                let config = node_config(&spec, id, roles(false, true, false), controller_seed);
                (id, NodeProcess::new(NodeId::Controller(id), config))
            })
            .collect();
        let brokers = spec
            .brokers
            .iter()
            .map(|&id| {
                let config = node_config(&spec, id, roles(true, false, true), 0);
                (id, NodeProcess::new(NodeId::Broker(id), config))
            })
            .collect();
        let clients = spec
            .clients
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, c)| ClientProcess::new(i, c))
            .collect();
        let mut sim = Simulation {
            spec,
            seed,
            now: Millis::ZERO,
            queue: EventQueue::default(),
            network,
            rng,
            controllers,
            brokers,
            clients,
            timers: BTreeMap::new(),
            paused: BTreeMap::new(),
            trace: Trace::default(),
            history: History::default(),
            invariants: Vec::new(),
            events: 0,
        };
        sim.bootstrap()?;
        Ok(sim)
    }

    /// Registers and unfences every broker, creates the topics, and gives every broker the
    /// resulting metadata, as an operator starting a cluster would before any client comes.
    /// The nodes talk with their own protocol (registration, heartbeats, metadata pushes),
    /// delivered at once and untraced: the run starts from the cluster this leaves.
    fn bootstrap(&mut self) -> Result<(), SpecError> {
        let mut out = Outbox::default();
        // The first voter stands for election at once, so the cluster starts with an active
        // controller (a single voter already leads).
        self.controllers
            .get_mut(&CONTROLLER_NODE_ID)
            .expect("at least one controller")
            .campaign(Millis::ZERO, &mut out);
        self.deliver_at_once(&mut out);
        let ids: Vec<BrokerId> = self.brokers.keys().copied().collect();
        for &id in &ids {
            self.brokers
                .get_mut(&id)
                .expect("exists")
                .tick(Millis::ZERO, &mut out);
        }
        self.deliver_at_once(&mut out);
        for topic in self.spec.topics.clone() {
            self.active_controller_mut()
                .ok_or_else(|| SpecError("no controller was elected".into()))?
                .create_topic(Millis::ZERO, &topic.to_create(), &mut out)
                .map_err(|(_, e)| SpecError(format!("topic {}: {e}", topic.name)))?;
            self.deliver_at_once(&mut out);
        }
        for &id in &ids {
            self.reschedule(NodeId::Broker(id));
        }
        for id in self.controllers.keys().copied().collect::<Vec<_>>() {
            self.reschedule(NodeId::Controller(id));
        }
        self.apply_outbox(out);
        for i in 0..self.clients.len() {
            let start = self.clients[i].start_ms();
            self.queue.push(start, Event::ClientStart(i));
        }
        for (at, fault) in self.spec.faults.clone() {
            self.queue.push(at, Event::Fault(fault));
        }
        Ok(())
    }

    /// Hands every message in `out` to its receiver at once, until none is left; the trace
    /// events stay in `out`.
    fn deliver_at_once(&mut self, out: &mut Outbox) {
        while !out.messages.is_empty() {
            for (from, to, message) in std::mem::take(&mut out.messages) {
                if let Some(process) = self.process_mut(to) {
                    process.handle(from, message, Millis::ZERO, out);
                }
            }
        }
    }

    /// The process behind a node name (none for clients).
    pub(super) fn process(&self, node: NodeId) -> Option<&NodeProcess> {
        match node {
            NodeId::Controller(id) => self.controllers.get(&id),
            NodeId::Broker(id) => self.brokers.get(&id),
            NodeId::Client(_) => None,
        }
    }

    fn process_mut(&mut self, node: NodeId) -> Option<&mut NodeProcess> {
        match node {
            NodeId::Controller(id) => self.controllers.get_mut(&id),
            NodeId::Broker(id) => self.brokers.get_mut(&id),
            NodeId::Client(_) => None,
        }
    }

    /// The group coordinator that holds `group` now: the running broker that loaded it (the
    /// leader of its `__consumer_offsets` partition).
    pub(super) fn group_coordinator(&self, group: &str) -> Option<&crate::group::Coordinator> {
        self.group_coordinators()
            .find(|c| !c.list_groups(&[]).iter().all(|g| g.group_id != group))
    }

    /// The group coordinators of the running brokers (each holds the groups of the offsets
    /// partitions it leads).
    pub(super) fn group_coordinators(&self) -> impl Iterator<Item = &crate::group::Coordinator> {
        self.brokers.values().filter_map(NodeProcess::coordinator)
    }

    /// The metadata as committed: the active controller's, else the running voter that has
    /// applied the most.
    pub(super) fn image(&self) -> &crate::controller::MetadataImage {
        self.active_controller()
            .or_else(|| {
                self.controllers
                    .values()
                    .filter(|c| c.is_up())
                    .max_by_key(|c| {
                        c.node
                            .as_ref()
                            .and_then(|n| n.quorum_status())
                            .map(|q| q.commit_index)
                    })
            })
            .and_then(NodeProcess::image)
            .expect("a controller is running")
    }

    /// The process of the active controller, if one is.
    pub(super) fn active_controller(&self) -> Option<&NodeProcess> {
        self.controllers.values().find(|c| c.is_active_controller())
    }

    pub(super) fn active_controller_mut(&mut self) -> Option<&mut NodeProcess> {
        self.controllers
            .values_mut()
            .find(|c| c.is_active_controller())
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    pub fn now(&self) -> Millis {
        self.now
    }

    /// How many events have run.
    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// The engine invariants found broken so far.
    pub fn invariant_violations(&self) -> &[String] {
        &self.invariants
    }

    /// How many events wait in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// When the next event happens, if any.
    pub fn next_event_at(&self) -> Option<Millis> {
        self.queue.peek_time()
    }

    /// Runs exactly one event. Returns false when there is none (or the event bound is hit).
    pub fn step(&mut self) -> bool {
        if self.events >= EVENTS_MAX {
            return false;
        }
        let Some((at, event)) = self.queue.pop() else {
            return false;
        };
        assert!(at >= self.now, "time went back from {} to {}", self.now, at);
        self.now = at;
        self.events += 1;
        let mut out = Outbox::default();
        match event {
            Event::Deliver {
                from,
                to,
                incarnation,
                message,
            } => self.deliver(from, to, incarnation, message, &mut out),
            Event::Timer(node) => self.fire_timer(node, at, &mut out),
            Event::Fault(fault) => self.apply_fault(fault, &mut out),
            // A restart scheduled before the process was stopped for good does not happen.
            Event::ClientStart(index) if self.clients[index].stopped => {}
            Event::ClientStart(index) => {
                let brokers = self.spec.brokers.clone();
                let seed = self.rng.next_u64();
                self.clients[index].start(&brokers, seed, self.now);
                self.clients[index].tick(self.now, &mut out, &mut self.history.ops);
                self.reschedule(NodeId::Client(index));
            }
        }
        self.apply_outbox(out);
        true
    }

    /// Runs every event up to and including `until`, then sets the clock to it.
    pub fn run_until(&mut self, until: Millis) {
        while self.queue.peek_time().is_some_and(|t| t <= until) {
            if !self.step() {
                break;
            }
        }
        self.now = self.now.max(until);
    }

    /// Schedules a fault now (the playground's buttons).
    pub fn inject(&mut self, fault: Fault) {
        self.queue.push(self.now, Event::Fault(fault));
    }

    fn incarnation(&self, node: NodeId) -> u32 {
        match node {
            NodeId::Client(i) => self.clients[i].incarnation,
            node => self.process(node).map_or(0, |p| p.incarnation),
        }
    }

    fn is_up(&self, node: NodeId) -> bool {
        match node {
            NodeId::Client(i) => self.clients[i].running.is_some(),
            node => self.process(node).is_some_and(NodeProcess::is_up),
        }
    }

    fn paused_until(&self, node: NodeId) -> Option<Millis> {
        self.paused
            .get(&node)
            .copied()
            .filter(|&until| until > self.now)
    }

    fn deliver(
        &mut self,
        from: NodeId,
        to: NodeId,
        incarnation: u32,
        message: Message,
        out: &mut Outbox,
    ) {
        let summary = message.summary();
        if !self.is_up(to) || self.incarnation(to) != incarnation {
            out.trace(TraceEvent::Dropped {
                from,
                to,
                message: summary,
                reason: "receiver down",
            });
            // A client learns at once that its connection is refused.
            let peer = match to {
                NodeId::Broker(id) => Some(Destination::Broker(id)),
                NodeId::Controller(_) | NodeId::Client(_) => None,
            };
            if let (NodeId::Client(i), Some(peer)) = (from, peer)
                && self.is_up(from)
            {
                self.disconnect(i, peer, out);
            }
            return;
        }
        if let Some(until) = self.paused_until(to) {
            self.queue.push(
                until,
                Event::Deliver {
                    from,
                    to,
                    incarnation,
                    message,
                },
            );
            return;
        }
        out.trace(TraceEvent::Delivered {
            from,
            to,
            message: summary,
        });
        let now = self.now;
        match to {
            NodeId::Client(i) => {
                if self.clients[i].handle(message, now, out, &mut self.history.ops) {
                    self.client_crashed(i);
                }
            }
            node => self
                .process_mut(node)
                .expect("a known node")
                .handle(from, message, now, out),
        }
        self.reschedule(to);
    }

    fn fire_timer(&mut self, node: NodeId, at: Millis, out: &mut Outbox) {
        if self.timers.get(&node) != Some(&at) {
            return; // superseded by an earlier timer
        }
        self.timers.remove(&node);
        if let Some(until) = self.paused_until(node) {
            self.timers.insert(node, until);
            self.queue.push(until, Event::Timer(node));
            return;
        }
        let now = self.now;
        match node {
            NodeId::Client(i) => {
                if self.clients[i].tick(now, out, &mut self.history.ops) {
                    self.client_crashed(i);
                }
            }
            node => self.process_mut(node).expect("a known node").tick(now, out),
        }
        self.reschedule(node);
    }

    /// Sets a timer for the node's next deadline, unless an earlier one is set.
    pub(super) fn reschedule(&mut self, node: NodeId) {
        let deadline = match node {
            NodeId::Client(i) => self.clients[i].next_deadline(),
            node => self.process(node).and_then(NodeProcess::next_deadline),
        };
        let Some(deadline) = deadline else { return };
        // A deadline already due runs a moment later, never now: an event cannot re-run
        // itself at the same instant forever.
        let at = deadline.max(self.now.plus(Millis(1)));
        if self
            .timers
            .get(&node)
            .is_some_and(|&t| t <= at && t > self.now)
        {
            return;
        }
        self.timers.insert(node, at);
        self.queue.push(at, Event::Timer(node));
    }

    /// Client `index` sees its connection to `peer` break.
    pub(super) fn disconnect(&mut self, index: usize, peer: Destination, out: &mut Outbox) {
        if self.clients[index].disconnected(peer, self.now, out, &mut self.history.ops) {
            self.client_crashed(index);
        }
        self.reschedule(NodeId::Client(index));
    }

    pub(super) fn client_crashed(&mut self, index: usize) {
        if let Some(after) = self.clients[index].restart_after() {
            self.queue
                .push(self.now.plus(after), Event::ClientStart(index));
        }
    }

    /// Sends what nodes asked to send and records their trace events.
    fn apply_outbox(&mut self, out: Outbox) {
        for event in out.trace {
            if let TraceEvent::Invariant { description } = &event {
                self.invariants.push(description.clone());
            }
            self.trace.record(self.now, event);
        }
        for (from, to, message) in out.messages {
            let summary = message.summary();
            match self.network.route(from, to, &summary, self.now) {
                Ok(at) => {
                    let incarnation = self.incarnation(to);
                    self.trace.record(
                        self.now,
                        TraceEvent::Sent {
                            from,
                            to,
                            message: summary,
                        },
                    );
                    self.queue.push(
                        at,
                        Event::Deliver {
                            from,
                            to,
                            incarnation,
                            message,
                        },
                    );
                }
                Err(reason) => self.trace.record(
                    self.now,
                    TraceEvent::Dropped {
                        from,
                        to,
                        message: summary,
                        reason,
                    },
                ),
            }
        }
    }

    /// Runs to the spec's end, reads every partition back, and checks the history.
    /// Starts another client process now (the playground's "send" and "add a consumer"
    /// buttons); returns its index. The spec records it, so the run stays describable.
    pub fn add_client(&mut self, mut client: ClientSpec) -> usize {
        match &mut client {
            ClientSpec::Producer(p) => p.start_ms = self.now,
            ClientSpec::Consumer(c) => c.start_ms = self.now,
        }
        let index = self.clients.len();
        self.spec.clients.push(client.clone());
        self.clients.push(ClientProcess::new(index, client));
        self.queue.push(self.now, Event::ClientStart(index));
        index
    }

    pub fn run_to_end(&mut self) -> Vec<Anomaly> {
        self.run_until(self.spec.end_ms);
        self.history.final_reads = super::final_read::read_all(self);
        crate::checker::check(&self.history, &self.invariants)
    }

    /// Every partition of every topic the clients use (not the internal `__consumer_offsets`
    /// and `__transaction_state`, whose records are the coordinators', not the clients').
    pub fn partitions(&self) -> Vec<TopicPartition> {
        let internal = [
            crate::group::OFFSETS_TOPIC,
            crate::txn::TRANSACTION_STATE_TOPIC,
        ];
        self.image()
            .partitions()
            .filter(|(topic, _, _)| !internal.contains(&topic.name.as_str()))
            .map(|(topic, index, _)| TopicPartition::new(topic.name.clone(), index as i32))
            .collect()
    }
}

/// The config of the node `node_id` with `roles`, from the scenario.
fn node_config(spec: &ScenarioSpec, node_id: BrokerId, roles: Roles, seed: u64) -> NodeConfig {
    NodeConfig {
        node_id,
        roles,
        controller_id: CONTROLLER_NODE_ID,
        controller_quorum_voters: controller_ids(spec.controllers),
        metadata_snapshot_interval: crate::node::METADATA_SNAPSHOT_INTERVAL,
        advertised_host: "sim".to_string(),
        advertised_port: 9092,
        broker: spec.broker_config.clone(),
        groups: spec.coordinator.clone(),
        durable: spec.durable,
        seed,
        replica_fetch: REPLICA_FETCH_SETTINGS,
    }
}
