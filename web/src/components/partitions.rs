//! Each partition: its replicas as strips of offset cells (leader first), the log start, the
//! high watermark and the log end offset marked, and who is in the ISR.

use partita_core::assignor::TopicPartition;
use partita_core::sim::{ReplicaView, Snapshot};
use yew::prelude::*;

use super::ModelProps;

/// Cells drawn per replica; a longer log shows its tail.
const CELLS_MAX: i64 = 40;

fn strip(replica: &ReplicaView, committed: &[(String, i64)]) -> Html {
    let end = replica.log_end_offset;
    let first = replica.log_start_offset.max(end - CELLS_MAX);
    html! {
        <div class="strip">
            if first > replica.log_start_offset { <span class="cell more">{ "…" }</span> }
            { for (first..end).map(|offset| {
                let class = if offset < replica.high_watermark { "cell committed" } else { "cell uncommitted" };
                let marks: Vec<&str> = committed.iter().filter(|(_, o)| *o == offset).map(|(g, _)| g.as_str()).collect();
                html! {
                    <span class={class} title={format!("offset {offset}{}", if marks.is_empty() { String::new() } else { format!(", next for {}", marks.join(", ")) })}>
                        if !marks.is_empty() { <span class="commit-mark">{ "▼" }</span> }
                    </span>
                }
            }) }
            <span class="offsets">{ format!("start {} · hw {} · end {}", replica.log_start_offset, replica.high_watermark, end) }</span>
        </div>
    }
}

#[function_component(Partitions)]
pub fn partitions(props: &ModelProps) -> Html {
    let snapshot: Snapshot = props.model.snapshot();
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
    html! {
        <section class="partitions" aria-label="partitions">
            <h2>{ "Partitions" }</h2>
            { for snapshot.partitions.iter().map(|p| {
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
                                    { strip(replica, &committed) }
                                </div>
                            }
                        }) }
                    </div>
                }
            }) }
        </section>
    }
}
