//! The controller process: the [`Controller`] state machine and its metadata log. Brokers
//! heartbeat to it and pull the records they have not seen, as KRaft brokers do.

use super::message::Message;
use super::node::NodeId;
use super::outbox::Outbox;
use super::trace::TraceEvent;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::config::BrokerConfig;
use crate::controller::{Controller, MetadataImage, MetadataRecord};

/// At most this many records go in one heartbeat response; a broker further behind catches up
/// over several heartbeats.
pub const METADATA_RECORDS_PER_RESPONSE_MAX: usize = 1_000;

pub struct ControllerNode {
    pub controller: Controller,
    /// The metadata log, every record the controller committed, in order.
    pub log: Vec<MetadataRecord>,
}

impl ControllerNode {
    pub fn new(config: BrokerConfig, seed: u64) -> ControllerNode {
        ControllerNode {
            controller: Controller::new(config, seed),
            log: Vec::new(),
        }
    }

    /// Appends committed records to the log, traces leadership and ISR changes, and pushes
    /// the records to every registered broker.
    pub fn commit(&mut self, records: Vec<MetadataRecord>, out: &mut Outbox) {
        if records.is_empty() {
            return;
        }
        let image = self.controller.image();
        for record in &records {
            trace_record(image, record, out);
        }
        let from_offset = self.log.len() as u64;
        let brokers: Vec<_> = image.brokers().map(|b| b.broker_id).collect();
        for broker in brokers {
            let push = Message::MetadataPush {
                from_offset,
                records: records.clone(),
            };
            out.send(NodeId::Controller, NodeId::Broker(broker), push);
        }
        self.log.extend(records);
    }

    pub fn handle(&mut self, from: NodeId, message: Message, now: Millis, out: &mut Outbox) {
        let (broker_id, broker_epoch, metadata_offset) = match message {
            Message::BrokerHeartbeat {
                broker_id,
                broker_epoch,
                metadata_offset,
            } => (broker_id, broker_epoch, metadata_offset),
            Message::AlterPartition { tp, request } => {
                let result = match self.controller.alter_partition(&request) {
                    Ok(records) => {
                        self.commit(records, out);
                        Ok(())
                    }
                    Err(e) => Err(e.code()),
                };
                out.send(
                    NodeId::Controller,
                    from,
                    Message::AlterPartitionResponse { tp, result },
                );
                return;
            }
            other => panic!("the controller got {}", other.summary()),
        };
        assert_eq!(
            from,
            NodeId::Broker(broker_id),
            "a broker heartbeats for itself"
        );
        let result = match broker_epoch {
            None => self.controller.register_broker(now, broker_id, "sim", 9092),
            Some(epoch) => self.controller.broker_heartbeat(now, broker_id, epoch),
        };
        // A stale epoch (the broker restarted, or was fenced and re-registered elsewhere)
        // is answered without one: the broker registers again.
        let epoch = match result {
            Ok(records) => {
                self.commit(records, out);
                self.controller
                    .image()
                    .broker(broker_id)
                    .map(|b| b.broker_epoch)
            }
            Err(_) => None,
        };
        let from_offset = metadata_offset.min(self.log.len() as u64);
        let end = (from_offset as usize + METADATA_RECORDS_PER_RESPONSE_MAX).min(self.log.len());
        let records = self.log[from_offset as usize..end].to_vec();
        let response = Message::BrokerHeartbeatResponse {
            broker_epoch: epoch,
            from_offset,
            records,
        };
        out.send(NodeId::Controller, from, response);
    }

    pub fn tick(&mut self, now: Millis, out: &mut Outbox) {
        let records = self.controller.tick(now);
        self.commit(records, out);
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.controller.next_deadline()
    }
}

/// The trace events of one record, read against the image it was applied to.
fn trace_record(image: &MetadataImage, record: &MetadataRecord, out: &mut Outbox) {
    let name = |id| {
        image
            .topic_by_id(id)
            .map_or_else(|| "?".to_string(), |t| t.name.clone())
    };
    match record {
        MetadataRecord::FenceBroker(r) => out.trace(TraceEvent::BrokerFenced {
            broker: r.broker_id,
        }),
        MetadataRecord::UnfenceBroker(r) => out.trace(TraceEvent::BrokerUnfenced {
            broker: r.broker_id,
        }),
        MetadataRecord::Partition(r) => {
            let tp = TopicPartition::new(name(r.topic_id), r.partition as i32);
            out.trace(TraceEvent::LeaderElected {
                tp: tp.clone(),
                leader: r.leader,
            });
            out.trace(TraceEvent::IsrChanged {
                tp,
                isr: r.isr.clone(),
            });
        }
        MetadataRecord::PartitionChange(r) => {
            let tp = TopicPartition::new(name(r.topic_id), r.partition as i32);
            if let Some(leader) = r.leader {
                out.trace(TraceEvent::LeaderElected {
                    tp: tp.clone(),
                    leader,
                });
            }
            if let Some(isr) = &r.isr {
                out.trace(TraceEvent::IsrChanged {
                    tp,
                    isr: isr.clone(),
                });
            }
        }
        _ => {}
    }
}
