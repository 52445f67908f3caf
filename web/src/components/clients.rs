//! The simulated producers and consumers: what they sent, got acknowledged, polled and own,
//! and buttons to pause, slow, crash or remove them.

use partita_core::Millis;
use partita_core::sim::{CrashPoint, Fault, NodeId};
use yew::prelude::*;

use super::ModelProps;
use crate::model::Action;

/// How long the pause button stops a consumer: longer than the scenarios' session timeouts,
/// so the group notices.
const PAUSE_MS: u64 = 5_000;
/// Processing time per record once slowed.
const SLOW_MS_PER_RECORD: u64 = 200;

#[function_component(Clients)]
pub fn clients(props: &ModelProps) -> Html {
    let snapshot = props.model.snapshot();
    html! {
        <section class="clients" aria-label="clients">
            <h2>{ "Clients" }</h2>
            <ul>
                { for snapshot.clients.iter().map(|c| {
                    let owned: Vec<String> = c.assignment.iter().map(|(tp, _)| format!("{}-{}", tp.topic, tp.partition)).collect();
                    let detail = if c.kind == "producer" {
                        format!("sent {} · acknowledged {} · failed {}", c.sent, c.acknowledged, c.failed)
                    } else {
                        format!("polled {} · processed {} · owns {}", c.polled, c.processed,
                            if owned.is_empty() { "nothing (idle)".to_string() } else { owned.join(", ") })
                    };
                    let fault = |fault: Fault| {
                        let dispatch = props.dispatch.clone();
                        Callback::from(move |_: MouseEvent| dispatch.emit(Action::Inject(fault.clone())))
                    };
                    let index = c.index;
                    let consumer = c.kind == "consumer";
                    html! {
                        <li class={classes!("client", (c.state != "running").then_some("down"))} data-testid="client">
                            <strong>{ format!("{} ({})", c.name, c.kind) }</strong>{ " " }
                            { detail }
                            <span class="muted">{ format!(" · client {index} · {}", c.state) }</span>
                            if c.up {
                                <span class="client-actions">
                                    if consumer {
                                        <button data-testid="pause-client" title="Stop the process (a long GC pause)"
                                            onclick={fault(Fault::Pause { node: NodeId::Client(index), duration_ms: Millis(PAUSE_MS) })}>{ "Pause 5 s" }</button>
                                        <button data-testid="slow-client" title="Processing takes 200 ms per record"
                                            onclick={fault(Fault::SlowConsumer { client: index, processing_ms_per_record: Millis(SLOW_MS_PER_RECORD) })}>{ "Slow" }</button>
                                        <button data-testid="crash-client" title="Dies after processing, before committing"
                                            onclick={fault(Fault::CrashClient { client: index, at: CrashPoint::AfterProcessingBeforeCommit })}>{ "Crash" }</button>
                                    }
                                    <button data-testid="remove-client"
                                        title={if consumer { "Shut it down cleanly: it commits, leaves its group, and never returns" } else { "Shut it down: it sends nothing more" }}
                                        onclick={fault(Fault::StopClient { client: index })}>{ "Remove" }</button>
                                </span>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
