//! Each partition: its replicas as strips of offset cells (leader first), each cell coloured by
//! its record's key; the log start, the high watermark and the log end offset; each group's
//! committed offset; and who is in the ISR.

use std::collections::BTreeSet;

use partita_core::assignor::TopicPartition;
use partita_core::sim::{ReplicaView, Simulation};
use yew::prelude::*;

use super::ModelProps;

/// Cells drawn per replica; a longer log shows its tail.
const CELLS_MAX: i64 = 40;

/// Colours for keys; a key's colour comes from a hash of its bytes, so it is the same on every
/// replica, every partition and every step.
const KEY_COLOURS: [&str; 12] = [
    "#4fb3ff", "#3fb950", "#d29922", "#f778ba", "#a371f7", "#56d4dd", "#ff7b72", "#e3b341",
    "#7ee787", "#79c0ff", "#ffa657", "#d2a8ff",
];
/// Records without a key.
const NO_KEY_COLOUR: &str = "#8b949e";

fn key_colour(key: Option<&str>) -> &'static str {
    match key {
        None => NO_KEY_COLOUR,
        Some(key) => {
            let hash = key
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            KEY_COLOURS[hash as usize % KEY_COLOURS.len()]
        }
    }
}

/// One replica's log as cells; the keys drawn are added to `keys_seen` for the legend.
fn strip(
    sim: &Simulation,
    broker: i32,
    replica: &ReplicaView,
    committed: &[(String, i64)],
    keys_seen: &mut BTreeSet<Option<String>>,
) -> Html {
    let end = replica.log_end_offset;
    let first = replica.log_start_offset.max(end - CELLS_MAX);
    let keys = sim.record_keys(broker, &replica.tp, first, end);
    html! {
        <div class="strip">
            if first > replica.log_start_offset { <span class="cell more">{ "…" }</span> }
            { for keys.into_iter().map(|(offset, key)| {
                let class = if offset < replica.high_watermark { "cell committed" } else { "cell uncommitted" };
                let marks: Vec<&str> = committed.iter().filter(|(_, o)| *o == offset).map(|(g, _)| g.as_str()).collect();
                let title = format!(
                    "offset {offset}, {}{}{}",
                    key.as_deref().map_or("no key".to_string(), |k| format!("key {k}")),
                    if offset < replica.high_watermark { "" } else { ", above the high watermark" },
                    if marks.is_empty() { String::new() } else { format!(", next for {}", marks.join(", ")) }
                );
                let style = format!("background: {}", key_colour(key.as_deref()));
                keys_seen.insert(key);
                html! {
                    <span {class} {style} {title}>
                        if !marks.is_empty() { <span class="commit-mark">{ "▼" }</span> }
                    </span>
                }
            }) }
            <span class="offsets">{ format!("start {} · hw {} · end {}", replica.log_start_offset, replica.high_watermark, end) }</span>
        </div>
    }
}

fn legend(keys: &BTreeSet<Option<String>>) -> Html {
    html! {
        <p class="legend muted" data-testid="key-legend">
            { for keys.iter().map(|key| html! {
                <span class="legend-item">
                    <span class="cell" style={format!("background: {}", key_colour(key.as_deref()))}></span>
                    { key.clone().unwrap_or_else(|| "no key".into()) }
                </span>
            }) }
            <span class="legend-item"><span class="cell uncommitted" style={format!("background: {NO_KEY_COLOUR}")}></span>{ "above the high watermark" }</span>
            <span class="legend-item">{ "▼ a group's committed offset" }</span>
        </p>
    }
}

#[function_component(Partitions)]
pub fn partitions(props: &ModelProps) -> Html {
    let snapshot = props.model.snapshot();
    let sim = props.model.sim.borrow();
    let replicas_of = |tp: &TopicPartition| -> Vec<(i32, ReplicaView, bool)> {
        snapshot
            .brokers
            .iter()
            .filter_map(|b| {
                b.replicas
                    .iter()
                    .find(|r| &r.tp == tp)
                    .map(|r| (b.id, r.clone(), b.up))
            })
            .collect()
    };
    let mut keys_seen = BTreeSet::new();
    let partitions: Vec<Html> = snapshot.partitions.iter().map(|p| {
        let committed: Vec<(String, i64)> = snapshot.groups.iter().flat_map(|g| {
            g.lag.iter().filter(|l| l.tp == p.tp).filter_map(|l| l.committed.map(|c| (g.group_id.clone(), c)))
        }).collect();
        let mut replicas = replicas_of(&p.tp);
        replicas.sort_by_key(|(id, _, _)| (*id != p.leader, *id));
        html! {
            <div class="partition" data-testid="partition">
                <h3>
                    { format!("{}-{}", p.tp.topic, p.tp.partition) }
                    <span class="muted">{ format!(" · leader {} · epoch {} · ISR {:?}",
                        if p.leader < 0 { "none".to_string() } else { p.leader.to_string() }, p.leader_epoch, p.isr) }</span>
                </h3>
                { for replicas.iter().map(|(id, replica, up)| {
                    let role = if *id == p.leader { "leader" } else if p.isr.contains(id) { "in sync" } else { "out of sync" };
                    html! {
                        <div class={classes!("replica", (!up).then_some("down"))}>
                            <span class="replica-name">{ format!("broker {id} ({role})") }</span>
                            { strip(&sim, *id, replica, &committed, &mut keys_seen) }
                        </div>
                    }
                }) }
            </div>
        }
    }).collect();
    html! {
        <section class="partitions" aria-label="partitions">
            <h2>{ "Partitions" }</h2>
            { legend(&keys_seen) }
            { for partitions }
        </section>
    }
}
