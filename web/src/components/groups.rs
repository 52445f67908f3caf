//! Consumer groups: state, members, and per partition the committed offset, the high
//! watermark and the lag, with a small chart of the total lag over the last steps.

use yew::prelude::*;

use super::ModelProps;

#[function_component(Groups)]
pub fn groups(props: &ModelProps) -> Html {
    let snapshot = props.model.snapshot();
    html! {
        <section class="groups" aria-label="consumer groups">
            <h2>{ "Consumer groups" }</h2>
            if snapshot.groups.is_empty() { <p class="muted">{ "No group yet." }</p> }
            { for snapshot.groups.iter().map(|g| {
                let total: i64 = g.lag.iter().filter_map(|l| l.lag).sum();
                html! {
                    <div class="group" data-testid="group">
                        <h3>{ &g.group_id }<span class="muted">{ format!(" · {} · {} members · lag {total}", g.state, g.members.len()) }</span></h3>
                        <table>
                            <thead><tr><th>{ "partition" }</th><th>{ "committed" }</th><th>{ "high watermark" }</th><th>{ "lag" }</th><th>{ "owner" }</th></tr></thead>
                            <tbody>
                                { for g.lag.iter().map(|l| html! {
                                    <tr data-testid="lag-row">
                                        <td>{ format!("{}-{}", l.tp.topic, l.tp.partition) }</td>
                                        <td>{ l.committed.map_or("-".into(), |c| c.to_string()) }</td>
                                        <td>{ l.high_watermark.map_or("-".into(), |c| c.to_string()) }</td>
                                        <td>{ l.lag.map_or("-".into(), |c| c.to_string()) }</td>
                                        <td>{ l.owner.clone().unwrap_or_else(|| "-".into()) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                }
            }) }
        </section>
    }
}
