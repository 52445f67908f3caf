//! A picture of the cluster at one moment, for the playground and the JSON API: brokers and
//! their partitions, leaders and ISRs, groups with their members and lag, and clients.

use serde::Serialize;

use super::client_node::Running;
use super::simulation::Simulation;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub now: Millis,
    pub events: u64,
    pub brokers: Vec<BrokerView>,
    pub partitions: Vec<PartitionView>,
    pub groups: Vec<GroupView>,
    pub clients: Vec<ClientView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokerView {
    pub id: BrokerId,
    pub up: bool,
    /// Registered and not fenced, as the controller sees it.
    pub live: bool,
    pub replicas: Vec<ReplicaView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaView {
    pub tp: TopicPartition,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    pub high_watermark: i64,
    pub flushed_offset: i64,
    pub leader: bool,
}

/// A partition as the controller's metadata has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionView {
    pub tp: TopicPartition,
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupView {
    pub group_id: String,
    pub state: String,
    pub members: Vec<String>,
    pub lag: Vec<LagView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LagView {
    pub tp: TopicPartition,
    pub committed: Option<i64>,
    pub high_watermark: Option<i64>,
    pub lag: Option<i64>,
    pub owner: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientView {
    pub index: usize,
    pub name: String,
    pub kind: &'static str,
    pub up: bool,
    pub incarnation: u32,
    pub sent: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub polled: u64,
    pub processed: u64,
    /// Consumers: the partitions owned now, with positions.
    pub assignment: Vec<(TopicPartition, Option<i64>)>,
    pub member_id: Option<String>,
}

impl Simulation {
    pub fn snapshot(&self) -> Snapshot {
        let image = self.controller.controller.image();
        let brokers = self
            .brokers
            .values()
            .map(|b| BrokerView {
                id: b.id,
                up: b.is_up(),
                live: image.is_live(b.id),
                replicas: b
                    .broker
                    .iter()
                    .flat_map(|broker| broker.partitions())
                    .map(|(tp, s)| ReplicaView {
                        tp: tp.clone(),
                        log_start_offset: s.log_start_offset,
                        log_end_offset: s.log_end_offset,
                        high_watermark: s.high_watermark,
                        flushed_offset: s.flushed_offset,
                        leader: s.leader == b.id,
                    })
                    .collect(),
            })
            .collect();
        let partitions = image
            .partitions()
            .map(|(topic, index, p)| PartitionView {
                tp: TopicPartition::new(topic.name.clone(), index as i32),
                leader: p.leader,
                leader_epoch: p.leader_epoch,
                replicas: p.replicas.clone(),
                isr: p.isr.clone(),
            })
            .collect();
        let groups = self
            .coordinator
            .coordinator
            .list_groups(&[])
            .into_iter()
            .map(|listing| {
                let description = self
                    .coordinator
                    .coordinator
                    .describe_group(&listing.group_id);
                let lag = self
                    .coordinator
                    .coordinator
                    .group_lag(&listing.group_id, |tp| self.high_watermark(tp))
                    .into_iter()
                    .map(|row| LagView {
                        tp: row.partition,
                        committed: row.current_offset,
                        high_watermark: row.log_end_offset,
                        lag: row.lag,
                        owner: row.consumer_id,
                    })
                    .collect();
                GroupView {
                    group_id: listing.group_id,
                    state: description.state.name().to_string(),
                    members: description
                        .members
                        .into_iter()
                        .map(|m| m.member_id)
                        .collect(),
                    lag,
                }
            })
            .collect();
        let clients = self
            .clients
            .iter()
            .map(|c| {
                let (kind, assignment, member_id) = match &c.running {
                    Some(Running::Producer(_)) => ("producer", Vec::new(), None),
                    Some(Running::Consumer(p)) => {
                        let assignment = p.consumer.assignment().into_iter().map(|tp| {
                            let position = p.consumer.position(&tp);
                            (tp, position)
                        });
                        (
                            "consumer",
                            assignment.collect(),
                            Some(p.consumer.member_id().to_string()),
                        )
                    }
                    None => (
                        if matches!(c.spec, super::spec::ClientSpec::Producer(_)) {
                            "producer"
                        } else {
                            "consumer"
                        },
                        Vec::new(),
                        None,
                    ),
                };
                ClientView {
                    index: c.index,
                    name: c.spec.name().to_string(),
                    kind,
                    up: c.running.is_some(),
                    incarnation: c.incarnation,
                    sent: c.stats.sent,
                    acknowledged: c.stats.acknowledged,
                    failed: c.stats.failed,
                    polled: c.stats.polled,
                    processed: c.stats.processed,
                    assignment,
                    member_id,
                }
            })
            .collect();
        Snapshot {
            now: self.now(),
            events: self.events(),
            brokers,
            partitions,
            groups,
            clients,
        }
    }

    /// The high watermark of `tp` at its current leader, if the leader is up.
    pub fn high_watermark(&self, tp: &TopicPartition) -> Option<i64> {
        let state = self
            .controller
            .controller
            .image()
            .partition(&tp.topic, tp.partition as u32)?;
        let broker = self.brokers.get(&state.leader)?.broker.as_ref()?;
        broker.partition(tp).map(|p| p.high_watermark)
    }
}
