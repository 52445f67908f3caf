//! Trace events in plain words, for the timeline.

use partita_core::assignor::TopicPartition;
use partita_core::sim::{NodeId, TraceEvent};

/// A node by name; clients by their application's name (`clients[index]`).
fn name_of(id: &NodeId, clients: &[String]) -> String {
    match id {
        NodeId::Controller(id) => format!("controller {id}"),
        NodeId::Broker(b) => format!("broker {b}"),
        NodeId::Client(c) => clients
            .get(*c)
            .cloned()
            .unwrap_or_else(|| format!("client {c}")),
    }
}

fn tp(tp: &TopicPartition) -> String {
    format!("{}-{}", tp.topic, tp.partition)
}

fn tps(partitions: &[TopicPartition]) -> String {
    if partitions.is_empty() {
        return "nothing".into();
    }
    partitions.iter().map(tp).collect::<Vec<_>>().join(", ")
}

/// "offset 4" or "offsets 4–6", for the records from `from` up to (not including) `to`.
fn offset_range(from: i64, to: i64) -> String {
    if to - from == 1 {
        format!("offset {from}")
    } else {
        format!("offsets {from}–{}", to - 1)
    }
}

/// One sentence for one event; `clients` names the clients by index.
pub fn describe(event: &TraceEvent, clients: &[String]) -> String {
    use TraceEvent::*;
    let node = |id: &NodeId| name_of(id, clients);
    match event {
        Sent { from, to, message } => format!("{} sent {} {message}", node(from), node(to)),
        Delivered { from, to, message } => {
            format!("{} received {message} from {}", node(to), node(from))
        }
        Dropped {
            from,
            to,
            message,
            reason,
        } => {
            format!(
                "the network lost {message} from {} to {} ({reason})",
                node(from),
                node(to)
            )
        }
        Append {
            broker,
            tp: p,
            from_offset,
            log_end_offset,
            leader,
            leader_epoch,
        } => {
            let offsets = offset_range(*from_offset, *log_end_offset);
            if broker == leader {
                format!(
                    "broker {broker}, leader of {} in epoch {leader_epoch}, appended {offsets}",
                    tp(p)
                )
            } else {
                format!(
                    "broker {broker} fetched {offsets} from broker {leader}, leader of {} in epoch {leader_epoch}",
                    tp(p)
                )
            }
        }
        Truncated {
            broker,
            tp: p,
            log_end_offset,
        } => {
            format!(
                "broker {broker} cut its log of {} back to offset {log_end_offset}",
                tp(p)
            )
        }
        HighWatermark {
            broker,
            tp: p,
            high_watermark,
        } => format!(
            "broker {broker} moved the high watermark of {} to {high_watermark}: consumers can read up to there",
            tp(p)
        ),
        IsrChanged { tp: p, isr } => format!("the in-sync replicas of {} are now {isr:?}", tp(p)),
        LeaderElected { tp: p, leader } if *leader < 0 => {
            format!("{} has no leader: it is offline", tp(p))
        }
        LeaderElected { tp: p, leader } => {
            format!("broker {leader} is now the leader of {}", tp(p))
        }
        BrokerFenced { broker } => format!("the controller fenced broker {broker}: no heartbeat"),
        BrokerUnfenced { broker } => format!("broker {broker} is back in the cluster"),
        Coordinator {
            broker,
            partition,
            loaded: true,
            records,
        } => format!(
            "broker {broker} leads __consumer_offsets-{partition} now: it loaded {records} group records and coordinates the groups there"
        ),
        Coordinator {
            broker, partition, ..
        } => format!(
            "broker {broker} no longer leads __consumer_offsets-{partition}: it dropped the groups there"
        ),
        ControllerElected { controller, term } => format!(
            "controller {controller} won the quorum's election in term {term}: it is the active controller"
        ),
        GroupState {
            group,
            state,
            generation_id,
        } => {
            format!("group {group} is {state} (generation {generation_id})")
        }
        MemberRemoved {
            group,
            member_id,
            reason,
        } => format!("group {group} removed {member_id}: {reason}"),
        Joined {
            client,
            generation_id,
            leader,
        } => format!(
            "{} joined generation {generation_id}{}",
            node(client),
            if *leader {
                " as the group leader (it computes the assignment)"
            } else {
                ""
            }
        ),
        Synced { client, assigned } => format!("{} was assigned {}", node(client), tps(assigned)),
        Revoked { client, partitions } => {
            format!(
                "{} gave up {}: consumption of them pauses",
                node(client),
                tps(partitions)
            )
        }
        Commit {
            client,
            offsets,
            error,
        } => {
            let offsets: Vec<String> = offsets
                .iter()
                .map(|(p, o)| format!("{} at {o}", tp(p)))
                .collect();
            match error {
                None => format!("{} committed {}", node(client), offsets.join(", ")),
                Some(e) => format!(
                    "{} failed to commit {}: {e}",
                    node(client),
                    offsets.join(", ")
                ),
            }
        }
        Produced {
            client,
            value,
            tp: p,
            offset,
        } => {
            format!(
                "{} got an acknowledgement: {value} is at {} offset {offset}",
                node(client),
                tp(p)
            )
        }
        ProduceFailed {
            client,
            value,
            error,
        } => format!("{} gave up on {value}: {error}", node(client)),
        Retry {
            client,
            tp: p,
            attempt,
            error,
        } => {
            format!(
                "{} retries its send to {} (attempt {attempt}) after {error}",
                node(client),
                tp(p)
            )
        }
        Polled { client, records } => format!("{} polled {records} records", node(client)),
        Fault { description } => format!("fault: {description}"),
        Transaction {
            client,
            description,
        } => format!("{}: transaction {description}", node(client)),
        Cleaned {
            broker,
            tp,
            end_offset,
            records_read,
            records_kept,
        } => format!(
            "broker {broker}'s log cleaner compacted {}-{} below offset {end_offset}: kept {records_kept} of {records_read} records, the newest of each key",
            tp.topic, tp.partition
        ),
        Invariant { description } => format!("INVARIANT BROKEN: {description}"),
    }
}
