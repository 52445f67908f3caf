//! Each partition: its replicas as strips of offset cells (leader first), each cell coloured by
//! its record's key (`key_colours`); the log start, the high watermark and the log end offset; each group's
//! committed offset; and who is in the ISR. On a compacted topic, tombstones are crossed cells
//! and the offsets the log cleaner removed show as gap marks (what a consumer reading from the
//! start skips). Transactions (KIP-98): commit and abort markers are cells of their own (C,
//! A), the records of aborted transactions are shaded, and the last stable offset (where
//! read_committed reads stop) is marked beside the high watermark.

use std::collections::BTreeSet;

use partita_core::assignor::TopicPartition;
use partita_core::sim::{ReplicaView, Simulation};
use partita_core::txn::TRANSACTION_STATE_TOPIC;
use yew::prelude::*;

use super::ModelProps;
use crate::key_colours::{KeyColours, NO_KEY};

/// Cells drawn per replica; a longer log shows its tail.
const CELLS_MAX: usize = 40;
/// How many offsets back from the log end are read when the last `CELLS_MAX` offsets hold
/// fewer records (a compacted log, with gaps), so that its strip still fills.
const OFFSETS_READ_MAX: i64 = 16 * CELLS_MAX as i64;

/// The mark for offsets `from..to` that no record holds any more.
fn gap(from: i64, to: i64) -> Html {
    let count = to - from;
    let title = format!(
        "offsets {from}–{} removed by the log cleaner: a consumer reading from the start jumps over {count}",
        to - 1
    );
    html! { <span class="cell gap" data-testid="offset-gap" {title}>{ format!("+{count}") }</span> }
}

/// One replica's log as cells; the keys drawn are added to `keys_seen` for the legend.
fn strip(
    sim: &Simulation,
    colours: &KeyColours,
    broker: i32,
    replica: &ReplicaView,
    committed: &[(String, i64)],
    keys_seen: &mut BTreeSet<Option<String>>,
) -> Html {
    let end = replica.log_end_offset;
    let mut read_from = replica.log_start_offset.max(end - CELLS_MAX as i64);
    let mut cells = sim.record_cells(broker, &replica.tp, read_from, end);
    if cells.len() < CELLS_MAX && read_from > replica.log_start_offset {
        read_from = replica.log_start_offset.max(end - OFFSETS_READ_MAX);
        cells = sim.record_cells(broker, &replica.tp, read_from, end);
    }
    let hidden = cells.len().saturating_sub(CELLS_MAX);
    cells.drain(..hidden);
    let more = hidden > 0 || read_from > replica.log_start_offset;
    // Where the strip starts: the log start when all of it is drawn, else the first cell.
    let mut expected = if more {
        cells.first().map_or(end, |c| c.offset)
    } else {
        replica.log_start_offset
    };
    let lso = replica.last_stable_offset;
    // The LSO is shown once the partition has transactions (else it is the high watermark).
    let transactional = lso != replica.high_watermark || cells.iter().any(|c| c.transactional);
    html! {
        <div class="strip">
            if more { <span class="cell more">{ "…" }</span> }
            { for cells.into_iter().map(|cell| {
                let offset = cell.offset;
                let key = cell.key;
                let before = (offset > expected).then(|| gap(expected, offset));
                expected = offset + 1;
                let class = classes!(
                    "cell",
                    if offset < replica.high_watermark { "committed" } else { "uncommitted" },
                    cell.tombstone.then_some("tombstone"),
                    cell.aborted.then_some("aborted"),
                    cell.control.map(|commit| if commit { "control commit" } else { "control abort" }),
                    (transactional && offset == lso).then_some("lso")
                );
                let txn_note = match (cell.control, cell.aborted, cell.transactional) {
                    (Some(true), _, _) => ", commit marker (a control record no consumer is given)",
                    (Some(false), _, _) => ", abort marker (a control record no consumer is given)",
                    (None, true, _) => ", in an aborted transaction: read_committed skips it",
                    (None, false, true) if offset >= lso => ", in an open transaction: read_committed waits",
                    (None, false, true) => ", in a committed transaction",
                    _ => "",
                };
                let marks: Vec<&str> = committed.iter().filter(|(_, o)| *o == offset).map(|(g, _)| g.as_str()).collect();
                let title = format!(
                    "offset {offset}, {}{txn_note}{}{}{}",
                    key.as_deref().map_or("no key".to_string(), |k| format!("key {k}")),
                    if cell.tombstone { ", tombstone (null value)" } else { "" },
                    if offset < replica.high_watermark { "" } else { ", above the high watermark" },
                    if marks.is_empty() { String::new() } else { format!(", next for {}", marks.join(", ")) }
                );
                let style = format!("background: {}", colours.colour(key.as_deref()));
                let label = cell.control.map(|commit| if commit { "C" } else { "A" });
                if label.is_none() {
                    keys_seen.insert(key);
                }
                html! {
                    <>
                        { for before }
                        <span {class} {style} {title} data-testid={label.map(|_| "control-record")}>
                            if !marks.is_empty() { <span class="commit-mark">{ "▼" }</span> }
                            { label.unwrap_or_default() }
                        </span>
                    </>
                }
            }) }
            <span class="offsets">{ format!("start {} · hw {} · end {}", replica.log_start_offset, replica.high_watermark, end) }</span>
            if transactional {
                <span class="lso-label" data-testid="lso"
                    title="last stable offset: read_committed consumers read below it (the first open transaction's first record)">
                    { format!("lso {lso}") }
                </span>
            }
        </div>
    }
}

fn legend(colours: &KeyColours, keys: &BTreeSet<Option<String>>) -> Html {
    html! {
        <p class="legend muted" data-testid="key-legend">
            { for keys.iter().map(|key| html! {
                <span class="legend-item">
                    <span class="cell" style={format!("background: {}", colours.colour(key.as_deref()))}></span>
                    { key.clone().unwrap_or_else(|| "no key".into()) }
                </span>
            }) }
            <span class="legend-item"><span class="cell uncommitted" style={format!("background: {NO_KEY}")}></span>{ "above the high watermark" }</span>
            <span class="legend-item">{ "▼ a group's committed offset" }</span>
            <span class="legend-item"><span class="cell tombstone" style={format!("background: {NO_KEY}")}></span>{ "tombstone" }</span>
            <span class="legend-item"><span class="cell gap">{ "+n" }</span>{ "offsets compacted away" }</span>
            <span class="legend-item"><span class="cell control commit">{ "C" }</span><span class="cell control abort">{ "A" }</span>{ "commit / abort marker" }</span>
            <span class="legend-item"><span class="cell aborted" style={format!("background-color: {NO_KEY}")}></span>{ "aborted transaction" }</span>
        </p>
    }
}

#[function_component(Partitions)]
pub fn partitions(props: &ModelProps) -> Html {
    let snapshot = props.model.snapshot();
    let sim = props.model.sim.borrow();
    let colours = &props.model.key_colours;
    // A crashed broker's replica has no log to show (its process is gone), only its place.
    let replica_on = |broker: i32, tp: &TopicPartition| -> Option<ReplicaView> {
        snapshot
            .brokers
            .iter()
            .find(|b| b.id == broker)
            .and_then(|b| b.replicas.iter().find(|r| &r.tp == tp).cloned())
    };
    let mut keys_seen = BTreeSet::new();
    // `__transaction_state` has 50 partitions; those without a record are left out.
    let empty = |tp: &TopicPartition| {
        tp.topic == TRANSACTION_STATE_TOPIC
            && snapshot
                .brokers
                .iter()
                .flat_map(|b| &b.replicas)
                .filter(|r| &r.tp == tp)
                .all(|r| r.log_end_offset == 0)
    };
    let hidden = snapshot.partitions.iter().filter(|p| empty(&p.tp)).count();
    let partitions: Vec<Html> = snapshot.partitions.iter().filter(|p| !empty(&p.tp)).map(|p| {
        let committed: Vec<(String, i64)> = snapshot.groups.iter().flat_map(|g| {
            g.lag.iter().filter(|l| l.tp == p.tp).filter_map(|l| l.committed.map(|c| (g.group_id.clone(), c)))
        }).collect();
        let mut replicas: Vec<(i32, Option<ReplicaView>)> =
            p.replicas.iter().map(|&id| (id, replica_on(id, &p.tp))).collect();
        replicas.sort_by_key(|(id, _)| (*id != p.leader, *id));
        html! {
            <div class="partition" data-testid="partition">
                <h3>
                    { format!("{}-{}", p.tp.topic, p.tp.partition) }
                    <span class="muted">{ format!(" · leader {} · epoch {} · ISR {:?}",
                        if p.leader < 0 { "none".to_string() } else { p.leader.to_string() }, p.leader_epoch, p.isr) }</span>
                </h3>
                { for replicas.iter().map(|(id, replica)| {
                    let role = if *id == p.leader { "leader" } else if p.isr.contains(id) { "in sync" } else { "out of sync" };
                    html! {
                        <div class={classes!("replica", replica.is_none().then_some("down"))}>
                            if let Some(replica) = replica {
                                <span class="replica-name">{ format!("broker {id} ({role})") }</span>
                                { strip(&sim, colours, *id, replica, &committed, &mut keys_seen) }
                            } else {
                                <span class="replica-name">{ format!("broker {id} (down)") }</span>
                            }
                        </div>
                    }
                }) }
            </div>
        }
    }).collect();
    html! {
        <section class="partitions" aria-label="partitions">
            <h2>{ "Partitions" }</h2>
            { legend(colours, &keys_seen) }
            { for partitions }
            if hidden > 0 {
                <p class="muted" data-testid="hidden-partitions">{ format!("{hidden} empty {TRANSACTION_STATE_TOPIC} partitions not shown") }</p>
            }
        </section>
    }
}
