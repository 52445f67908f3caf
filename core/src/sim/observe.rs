//! What moved in a broker's partitions since it was last looked at: appends, truncations
//! and high watermark moves for the trace, and the invariants every partition keeps.

use std::collections::BTreeMap;

use super::outbox::Outbox;
use super::trace::TraceEvent;
use crate::assignor::TopicPartition;
use crate::broker::{Broker, StorageFactory};
use crate::controller::BrokerId;

/// What a broker last showed of one partition, to trace what moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observed {
    log_end_offset: i64,
    high_watermark: i64,
    leader_epoch: i32,
    /// Where the broker's last cleaning round of this partition ended (-1: none seen).
    cleaned_to: i64,
}

/// Traces appends, truncations and high watermark moves, and checks the invariants a
/// partition must keep whatever happens: high watermark ≤ log end offset, ISR ⊆ replicas,
/// and a leader's high watermark and log end never move back within its epoch. A round of the
/// log cleaner that finished is traced too.
pub fn observe<F: StorageFactory>(
    id: BrokerId,
    broker: &Broker<F>,
    observed: &mut BTreeMap<TopicPartition, Observed>,
    out: &mut Outbox,
) {
    let last_cleaning = broker.last_cleaning();
    for (tp, snapshot) in broker.partitions() {
        let cleaned_before = observed.get(tp).map_or(-1, |o| o.cleaned_to);
        let now = Observed {
            log_end_offset: snapshot.log_end_offset,
            high_watermark: snapshot.high_watermark,
            leader_epoch: snapshot.leader_epoch,
            cleaned_to: match last_cleaning {
                Some((cleaned, stats)) if cleaned == tp => stats.end_offset,
                _ => cleaned_before,
            },
        };
        if now.cleaned_to != cleaned_before
            && let Some((_, stats)) = last_cleaning
        {
            out.trace(TraceEvent::Cleaned {
                broker: id,
                tp: tp.clone(),
                end_offset: stats.end_offset,
                records_read: stats.records_read,
                records_kept: stats.records_kept,
            });
        }
        if snapshot.high_watermark > snapshot.log_end_offset {
            out.trace(TraceEvent::Invariant {
                description: format!(
                    "broker-{} {}-{} hw {} > leo {}",
                    id, tp.topic, tp.partition, snapshot.high_watermark, snapshot.log_end_offset
                ),
            });
        }
        if !snapshot.isr.iter().all(|b| snapshot.replicas.contains(b)) {
            out.trace(TraceEvent::Invariant {
                description: format!(
                    "broker-{} {}-{} isr {:?} not within replicas {:?}",
                    id, tp.topic, tp.partition, snapshot.isr, snapshot.replicas
                ),
            });
        }
        let before = observed.insert(tp.clone(), now);
        let leading = snapshot.leader == id;
        match before {
            Some(b) if b == now => {}
            Some(b) => {
                if leading
                    && b.leader_epoch == now.leader_epoch
                    && now.log_end_offset < b.log_end_offset
                {
                    out.trace(TraceEvent::Invariant {
                        description: format!(
                            "broker-{} {}-{} leader's log end went back {} -> {}",
                            id, tp.topic, tp.partition, b.log_end_offset, now.log_end_offset
                        ),
                    });
                }
                if now.log_end_offset > b.log_end_offset {
                    out.trace(TraceEvent::Append {
                        broker: id,
                        tp: tp.clone(),
                        from_offset: b.log_end_offset,
                        log_end_offset: now.log_end_offset,
                        leader: snapshot.leader,
                        leader_epoch: snapshot.leader_epoch,
                    });
                } else if now.log_end_offset < b.log_end_offset {
                    out.trace(TraceEvent::Truncated {
                        broker: id,
                        tp: tp.clone(),
                        log_end_offset: now.log_end_offset,
                    });
                }
                if now.high_watermark != b.high_watermark {
                    out.trace(TraceEvent::HighWatermark {
                        broker: id,
                        tp: tp.clone(),
                        high_watermark: now.high_watermark,
                    });
                    if leading
                        && b.leader_epoch == now.leader_epoch
                        && now.high_watermark < b.high_watermark
                    {
                        out.trace(TraceEvent::Invariant {
                            description: format!(
                                "broker-{} {}-{} hw moved back {} -> {}",
                                id, tp.topic, tp.partition, b.high_watermark, now.high_watermark
                            ),
                        });
                    }
                }
            }
            None => {}
        }
    }
}
