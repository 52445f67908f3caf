//! What the producing applications (`producer_app`, `txn_producer_app`, `ctp_output`) record
//! alike: an acknowledged send and a transaction's end, each in the trace and the history.

use super::client_node::ClientStats;
use super::node::NodeId;
use super::outbox::Outbox;
use super::trace::TraceEvent;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::checker::{Op, TxnOutcome};

/// A send the producer reported delivered at `tp`/`offset`.
pub struct Delivery {
    pub producer: String,
    pub value: String,
    pub tp: TopicPartition,
    pub offset: i64,
}

/// Traces the delivery, records its `ack` and counts it.
pub fn acknowledged(
    node: NodeId,
    delivery: Delivery,
    now: Millis,
    out: &mut Outbox,
    history: &mut Vec<Op>,
    stats: &mut ClientStats,
) {
    let Delivery {
        producer,
        value,
        tp,
        offset,
    } = delivery;
    out.trace(TraceEvent::Produced {
        client: node,
        value: value.clone(),
        tp: tp.clone(),
        offset,
    });
    history.push(Op::Ack {
        producer,
        value,
        tp,
        offset,
        at: now,
    });
    stats.acknowledged += 1;
}

/// The open transaction (its id, and whether its commit was asked for) of `producer` ended
/// with `outcome`: traced and recorded; nothing when none is open.
pub fn transaction_ended(
    node: NodeId,
    producer: &str,
    open: &mut Option<(String, bool)>,
    outcome: TxnOutcome,
    now: Millis,
    out: &mut Outbox,
    history: &mut Vec<Op>,
) {
    let Some((txn, _)) = open.take() else {
        return;
    };
    out.trace(TraceEvent::Transaction {
        client: node,
        description: format!("{txn} {outcome:?}").to_lowercase(),
    });
    history.push(Op::TxnEnd {
        producer: producer.to_string(),
        txn,
        outcome,
        at: now,
    });
}
