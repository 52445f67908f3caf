//! Consumer groups: state, generation, assignor, members, and per partition the committed offset, the high
//! watermark and the lag, with a small chart of the total lag over the last steps.

use yew::prelude::*;

use super::ModelProps;
use crate::model::LagSample;

const CHART_WIDTH: f64 = 300.0;
const CHART_HEIGHT: f64 = 40.0;

/// A small line chart of one group's total lag over the sampled moments.
pub(crate) fn lag_chart(group: &str, history: &[LagSample]) -> Html {
    let points: Vec<(u64, i64)> = history
        .iter()
        .filter_map(|s| {
            s.lag_by_group
                .iter()
                .find(|(g, _)| g == group)
                .map(|(_, lag)| (s.at_ms, *lag))
        })
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return html! {};
    };
    let span_ms = (last.0 - first.0).max(1) as f64;
    let top = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let polyline: Vec<String> = points
        .iter()
        .map(|(at, lag)| {
            let x = (*at - first.0) as f64 / span_ms * CHART_WIDTH;
            let y = CHART_HEIGHT - *lag as f64 / top * CHART_HEIGHT;
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        <svg class="lag-chart" data-testid="lag-chart" width={CHART_WIDTH.to_string()} height={CHART_HEIGHT.to_string()}
             viewBox={format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")} role="img"
             aria-label={format!("lag of {group} over time, up to {top}")}>
            <title>{ format!("total lag of {group}: peak {top}, now {}", last.1) }</title>
            <polyline points={polyline.join(" ")} />
        </svg>
    }
}

/// One partition's row in a group's lag table.
pub(crate) struct LagRow<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub committed: Option<i64>,
    /// What lag is measured against: the high watermark.
    pub end: Option<i64>,
    pub lag: Option<i64>,
    pub owner: Option<&'a str>,
}

/// A group's committed offset, high watermark, lag and owner per partition; `end_label` names
/// the end column as the view's source does.
pub(crate) fn lag_table<'a>(end_label: &str, rows: impl Iterator<Item = LagRow<'a>>) -> Html {
    let cell = |value: Option<i64>| value.map_or("-".to_string(), |v| v.to_string());
    html! {
        <div class="table-scroll">
            <table>
                <thead><tr><th>{ "partition" }</th><th>{ "committed" }</th><th>{ end_label }</th><th>{ "lag" }</th><th>{ "owner" }</th></tr></thead>
                <tbody>
                    { for rows.map(|row| html! {
                        <tr data-testid="lag-row">
                            <td>{ format!("{}-{}", row.topic, row.partition) }</td>
                            <td>{ cell(row.committed) }</td>
                            <td>{ cell(row.end) }</td>
                            <td>{ cell(row.lag) }</td>
                            <td>{ row.owner.unwrap_or("-") }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

#[function_component(Groups)]
pub fn groups(props: &ModelProps) -> Html {
    let snapshot = props.model.snapshot();
    let history = props.model.lag_history.clone();
    html! {
        <section class="groups" aria-label="consumer groups">
            <h2>{ "Consumer groups" }</h2>
            if snapshot.groups.is_empty() { <p class="muted">{ "No group yet." }</p> }
            { for snapshot.groups.iter().map(|g| {
                let total: i64 = g.lag.iter().filter_map(|l| l.lag).sum();
                let assignor = if g.assignor.is_empty() { String::new() } else { format!(" · {}", g.assignor) };
                html! {
                    <div class="group" data-testid="group">
                        <h3>{ &g.group_id }<span class="muted">{ format!(" · {} · generation {}{assignor} · {} members · lag {total}",
                            g.state, g.generation_id, g.members.len()) }</span></h3>
                        { lag_chart(&g.group_id, &history) }
                        { lag_table("high watermark", g.lag.iter().map(|l| LagRow {
                            topic: &l.tp.topic,
                            partition: l.tp.partition,
                            committed: l.committed,
                            end: l.high_watermark,
                            lag: l.lag,
                            owner: l.owner.as_deref(),
                        })) }
                    </div>
                }
            }) }
        </section>
    }
}
