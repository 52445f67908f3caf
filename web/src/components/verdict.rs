//! The checker's verdict on a finished run: the anomalies it found (lost writes, duplicates,
//! ...), the scenario's measurements, and the trace hash that identifies the run.

use std::collections::BTreeMap;

use yew::prelude::*;

use super::ModelProps;

#[function_component(Verdict)]
pub fn verdict(props: &ModelProps) -> Html {
    let Some(summary) = props.model.verdict.clone() else {
        return html! {};
    };
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for anomaly in &summary.anomalies {
        *kinds.entry(anomaly.kind.name()).or_default() += 1;
    }
    html! {
        <section class={classes!("verdict", (!kinds.is_empty()).then_some("bad"))} data-testid="verdict">
            <h2>{ "Checker" }</h2>
            <p data-testid="anomalies">
                { if kinds.is_empty() {
                    "No anomalies: every acknowledged write was read back, once, in order.".to_string()
                } else {
                    kinds.iter().map(|(k, n)| format!("{n} × {k}")).collect::<Vec<_>>().join(", ")
                } }
            </p>
            <p class="muted">
                { format!("acknowledged {} · ", summary.acknowledged) }
                { summary.fields.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ") }
            </p>
            <p class="muted">{ "trace " }<code data-testid="trace-hash">{ &summary.trace_hash }</code>
                { format!(" · {} events · {} ms simulated", summary.events, summary.sim_time_ms) }</p>
            <ul class="anomalies">
                { for summary.anomalies.iter().take(10).map(|a| html! { <li>{ format!("{}: {}", a.kind.name(), a.detail) }</li> }) }
            </ul>
        </section>
    }
}
