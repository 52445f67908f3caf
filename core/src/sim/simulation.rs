//! The simulation: every process of a cluster over one simulated network, on virtual time,
//! advanced one event at a time.

use std::collections::BTreeMap;

use super::broker_node::BrokerNode;
use super::client_node::ClientProcess;
use super::controller_node::ControllerNode;
use super::coordinator_node::CoordinatorNode;
use super::message::Message;
use super::network::Network;
use super::node::NodeId;
use super::outbox::Outbox;
use super::queue::EventQueue;
use super::rng::Rng;
use super::spec::{ClientSpec, Fault, ScenarioSpec, SpecError};
use super::trace::{Trace, TraceEvent};
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::checker::{Anomaly, History};
use crate::client::Destination;
use crate::controller::BrokerId;

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
    pub(super) controller: ControllerNode,
    pub(super) coordinator: CoordinatorNode,
    pub(super) brokers: BTreeMap<BrokerId, BrokerNode>,
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
        let controller = ControllerNode::new(spec.broker_config.clone(), rng.next_u64());
        let coordinator = CoordinatorNode::new(spec.coordinator.clone(), rng.next_u64());
        let brokers = spec
            .brokers
            .iter()
            .map(|&id| {
                (
                    id,
                    BrokerNode::new(id, spec.broker_config.clone(), spec.durable),
                )
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
            controller,
            coordinator,
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
    fn bootstrap(&mut self) -> Result<(), SpecError> {
        let mut out = Outbox::default();
        let ids: Vec<BrokerId> = self.brokers.keys().copied().collect();
        for &id in &ids {
            let records = self
                .controller
                .controller
                .register_broker(Millis::ZERO, id, "sim", 9092)
                .expect("a valid broker id");
            self.controller.commit(records, &mut out);
        }
        for &id in &ids {
            let epoch = self.registered_epoch(id);
            let records = self
                .controller
                .controller
                .broker_heartbeat(Millis::ZERO, id, epoch)
                .expect("registered");
            self.controller.commit(records, &mut out);
        }
        for topic in self.spec.topics.clone() {
            let records = self
                .controller
                .controller
                .create_topic(&topic.to_create())
                .map_err(|e| SpecError(format!("topic {}: {e}", topic.name)))?;
            self.controller.commit(records, &mut out);
        }
        let log = self.controller.log.clone();
        for &id in &ids {
            let epoch = self.registered_epoch(id);
            self.brokers.get_mut(&id).expect("exists").bootstrap(
                epoch,
                &log,
                Millis::ZERO,
                &mut out,
            );
            self.reschedule(NodeId::Broker(id));
        }
        self.reschedule(NodeId::Controller);
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

    /// The epoch the controller gave broker `id` when it registered.
    fn registered_epoch(&self, id: BrokerId) -> u64 {
        self.controller
            .controller
            .image()
            .broker(id)
            .expect("registered")
            .broker_epoch
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
            NodeId::Broker(id) => self.brokers.get(&id).map_or(0, |b| b.incarnation),
            NodeId::Client(i) => self.clients[i].incarnation,
            NodeId::Coordinator => self.coordinator.incarnation,
            NodeId::Controller => 0,
        }
    }

    fn is_up(&self, node: NodeId) -> bool {
        match node {
            NodeId::Broker(id) => self.brokers.get(&id).is_some_and(BrokerNode::is_up),
            NodeId::Client(i) => self.clients[i].running.is_some(),
            NodeId::Controller | NodeId::Coordinator => true,
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
                NodeId::Coordinator => Some(Destination::Coordinator),
                NodeId::Controller | NodeId::Client(_) => None,
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
            NodeId::Controller => self.controller.handle(from, message, now, out),
            NodeId::Coordinator => self.coordinator.handle(from, message, now, out),
            NodeId::Broker(id) => self
                .brokers
                .get_mut(&id)
                .expect("known broker")
                .handle(from, message, now, out),
            NodeId::Client(i) => {
                if self.clients[i].handle(message, now, out, &mut self.history.ops) {
                    self.client_crashed(i);
                }
            }
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
            NodeId::Controller => self.controller.tick(now, out),
            NodeId::Coordinator => self.coordinator.tick(now, out),
            NodeId::Broker(id) => self
                .brokers
                .get_mut(&id)
                .expect("known broker")
                .tick(now, out),
            NodeId::Client(i) => {
                if self.clients[i].tick(now, out, &mut self.history.ops) {
                    self.client_crashed(i);
                }
            }
        }
        self.reschedule(node);
    }

    /// Sets a timer for the node's next deadline, unless an earlier one is set.
    pub(super) fn reschedule(&mut self, node: NodeId) {
        let deadline = match node {
            NodeId::Controller => self.controller.next_deadline(),
            NodeId::Coordinator => self.coordinator.next_deadline(),
            NodeId::Broker(id) => self.brokers[&id].next_deadline(),
            NodeId::Client(i) => self.clients[i].next_deadline(),
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

    /// Every partition of every topic.
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.controller
            .controller
            .image()
            .partitions()
            .map(|(topic, index, _)| TopicPartition::new(topic.name.clone(), index as i32))
            .collect()
    }
}
