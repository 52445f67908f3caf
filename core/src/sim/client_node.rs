//! Client processes: a producer or consumer application around the simulated client, over
//! its lives (a crashed consumer restarts as a new process). The applications themselves are
//! in `producer_app` and `consumer_app`.

use std::collections::BTreeMap;

use super::consumer_app::ConsumerProcess;
use super::message::Message;
use super::node::NodeId;
use super::outbox::Outbox;
use super::producer_app::ProducerProcess;
use super::spec::{ClientSpec, CrashPoint};
use super::trace::TraceEvent;
use super::txn_producer_app::TxnProducerProcess;
use crate::Millis;
use crate::checker::Op;
use crate::client::{Destination, Outgoing};
use crate::controller::BrokerId;

/// Counters the scenarios report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub sent: u64,
    pub acknowledged: u64,
    pub failed: u64,
    /// Failures and retries by error name.
    pub errors: BTreeMap<String, u64>,
    pub polled: u64,
    pub processed: u64,
    pub revoked: u64,
    pub commits_failed: u64,
}

pub enum Running {
    Producer(ProducerProcess),
    /// A producer with a `transactional.id`.
    TxnProducer(TxnProducerProcess),
    /// Boxed: a consumer (with the output producer of a consume-transform-produce
    /// application) is several times a producer's size.
    Consumer(Box<ConsumerProcess>),
}

/// One client process over its lives.
pub struct ClientProcess {
    pub index: usize,
    pub spec: ClientSpec,
    pub incarnation: u32,
    /// `None` before its start and after a crash.
    pub running: Option<Running>,
    pub stats: ClientStats,
    /// Processing speed set by a fault, kept across restarts.
    slow_ms_per_record: Option<Millis>,
    /// Stopped on purpose: it never starts again.
    pub stopped: bool,
}

impl ClientProcess {
    pub fn new(index: usize, spec: ClientSpec) -> ClientProcess {
        ClientProcess {
            index,
            spec,
            incarnation: 0,
            running: None,
            stats: ClientStats::default(),
            slow_ms_per_record: None,
            stopped: false,
        }
    }

    /// What the process is doing, in words: "not started", "running", "crashed" or "stopped".
    pub fn state(&self) -> &'static str {
        match (&self.running, self.stopped, self.incarnation) {
            (Some(_), _, _) => "running",
            (None, true, _) => "stopped",
            (None, false, 0) => "not started",
            (None, false, _) => "crashed",
        }
    }

    /// Ends the process for good, as an application shutting down does: a consumer closes
    /// (committing first with auto-commit, then leaving its group, which rebalances at once).
    pub fn stop(&mut self, now: Millis, out: &mut Outbox) {
        self.stopped = true;
        let node = self.node();
        if let Some(Running::Consumer(c)) = &mut self.running {
            c.consumer.close(now);
            ship(node, std::iter::from_fn(|| c.consumer.poll_outgoing()), out);
        }
        self.running = None;
    }

    pub fn node(&self) -> NodeId {
        NodeId::Client(self.index)
    }

    pub fn start_ms(&self) -> Millis {
        match &self.spec {
            ClientSpec::Producer(p) => p.start_ms,
            ClientSpec::Consumer(c) => c.start_ms,
        }
    }

    /// Starts a new life of the process.
    pub fn start(&mut self, brokers: &[BrokerId], seed: u64, now: Millis) {
        assert!(self.running.is_none(), "start of a running client");
        self.incarnation += 1;
        let running = match &self.spec {
            ClientSpec::Producer(spec) => match &spec.transactions {
                Some(workload) => {
                    Running::TxnProducer(TxnProducerProcess::new(spec, workload, brokers, now))
                }
                None => Running::Producer(ProducerProcess::new(spec, brokers, seed, now)),
            },
            ClientSpec::Consumer(spec) => {
                let life = format!("{}#{}", spec.name, self.incarnation);
                let processing_ms = self
                    .slow_ms_per_record
                    .unwrap_or(spec.processing_ms_per_record);
                Running::Consumer(Box::new(ConsumerProcess::new(
                    spec,
                    brokers,
                    life,
                    processing_ms,
                    seed,
                    now,
                )))
            }
        };
        self.running = Some(running);
    }

    pub fn slow_down(&mut self, ms_per_record: Millis) {
        self.slow_ms_per_record = Some(ms_per_record);
        if let Some(Running::Consumer(c)) = &mut self.running {
            c.processing_ms_per_record = ms_per_record;
        }
    }

    pub fn arm_crash(&mut self, at: CrashPoint) {
        if let Some(Running::Consumer(c)) = &mut self.running {
            c.crash_at = Some(at);
        }
    }

    /// Delivers a response. Returns true if the process crashed on the way.
    pub fn handle(
        &mut self,
        message: Message,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
    ) -> bool {
        let Message::ClientResponse {
            correlation_id,
            response,
        } = message
        else {
            panic!("client-{} got {}", self.index, message.summary());
        };
        match &mut self.running {
            Some(Running::Producer(p)) => p.producer.handle_response(correlation_id, response, now),
            Some(Running::TxnProducer(p)) => {
                p.producer.handle_response(correlation_id, response, now);
            }
            Some(Running::Consumer(c)) => c.handle_response(correlation_id, response, now),
            None => return false,
        }
        self.advance(now, out, history)
    }

    /// The connection to `peer` broke (it crashed): requests in flight on it fail now.
    /// Returns true if the process crashed.
    pub fn disconnected(
        &mut self,
        peer: Destination,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
    ) -> bool {
        match &mut self.running {
            Some(Running::Producer(p)) => p.producer.handle_disconnect(peer, now),
            Some(Running::TxnProducer(p)) => p.producer.handle_disconnect(peer, now),
            Some(Running::Consumer(c)) => c.handle_disconnect(peer, now),
            None => return false,
        }
        self.advance(now, out, history)
    }

    /// Lets time pass for the client and its application. Returns true if it crashed.
    pub fn tick(&mut self, now: Millis, out: &mut Outbox, history: &mut Vec<Op>) -> bool {
        match &mut self.running {
            Some(Running::Producer(p)) => p.producer.tick(now),
            Some(Running::TxnProducer(p)) => p.producer.tick(now),
            Some(Running::Consumer(c)) => c.tick(now),
            None => return false,
        }
        self.advance(now, out, history)
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        match &self.running {
            Some(Running::Producer(p)) => p.next_deadline(),
            Some(Running::TxnProducer(p)) => p.next_deadline(),
            Some(Running::Consumer(c)) => c.next_deadline(),
            None => None,
        }
    }

    /// Runs the application as far as it can go now, then ships what the client wants sent
    /// and records what happened. Returns true if the application crashed.
    fn advance(&mut self, now: Millis, out: &mut Outbox, history: &mut Vec<Op>) -> bool {
        let node = self.node();
        let stats = &mut self.stats;
        let crashed = match &mut self.running {
            Some(Running::Producer(p)) => {
                p.run(now, history, stats);
                ship(node, std::iter::from_fn(|| p.producer.poll_outgoing()), out);
                while let Some(event) = p.producer.poll_event() {
                    p.record(node, event, now, out, history, stats);
                }
                false
            }
            Some(Running::TxnProducer(p)) => {
                // Reports first (a transaction that ended lets the next begin), then the
                // sends that are due, until neither has more to do.
                loop {
                    while let Some(event) = p.producer.poll_event() {
                        p.record(node, event, now, out, history, stats);
                    }
                    p.run(node, now, out, history, stats);
                    ship(node, std::iter::from_fn(|| p.producer.poll_outgoing()), out);
                    if !p.producer.has_events() {
                        break;
                    }
                }
                false
            }
            Some(Running::Consumer(c)) => {
                let crashed = c.run(node, now, out, history, stats);
                if !crashed {
                    c.ship(node, out);
                }
                crashed
            }
            None => false,
        };
        if crashed {
            out.trace(TraceEvent::Fault {
                description: format!("{node} crashed ({})", self.spec.name()),
            });
            self.running = None;
        }
        crashed
    }

    pub fn restart_after(&self) -> Option<Millis> {
        if self.stopped {
            return None;
        }
        match &self.spec {
            ClientSpec::Consumer(c) => c.restart_after_ms,
            ClientSpec::Producer(_) => None,
        }
    }
}

pub(super) fn ship(node: NodeId, outgoing: impl Iterator<Item = Outgoing>, out: &mut Outbox) {
    for o in outgoing {
        let Destination::Broker(id) = o.to;
        let to = NodeId::Broker(id);
        out.send(
            node,
            to,
            Message::ClientRequest {
                correlation_id: o.correlation_id,
                request: o.request,
            },
        );
    }
}
