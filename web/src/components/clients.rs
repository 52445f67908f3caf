//! The simulated producers and consumers: what they sent, got acknowledged, polled and own,
//! and buttons to pause, slow, crash or remove them.

use yew::prelude::*;

use super::ModelProps;
use crate::page_action::PageAction;

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
                    let act = |action: PageAction| props.on_click(action);
                    let index = c.index;
                    let consumer = c.kind == "consumer";
                    html! {
                        <li class={classes!("client", (c.state != "running").then_some("down"))} data-testid="client">
                            <strong>{ format!("{} ({})", c.name, c.kind) }</strong>{ " " }
                            if !c.settings.is_empty() {
                                <span class="client-settings" data-testid="client-settings">{ format!("[{}] ", c.settings.join(", ")) }</span>
                            }
                            { detail }
                            <span class="muted">{ format!(" · client {index} · {}", c.state) }</span>
                            if c.up {
                                <span class="client-actions">
                                    if consumer {
                                        <button data-testid="pause-client" title="Stop the process (a long GC pause)"
                                            onclick={act(PageAction::PauseClient(index))}>{ "Pause 5 s" }</button>
                                        <button data-testid="slow-client" title="Processing takes 200 ms per record"
                                            onclick={act(PageAction::SlowClient(index))}>{ "Slow" }</button>
                                        <button data-testid="crash-client" title="Dies after processing, before committing"
                                            onclick={act(PageAction::CrashClient(index))}>{ "Crash" }</button>
                                    }
                                    <button data-testid="remove-client"
                                        title={if consumer { "Shut it down cleanly: it commits, leaves its group, and never returns" } else { "Shut it down: it sends nothing more" }}
                                        onclick={act(PageAction::RemoveClient(index))}>{ "Remove" }</button>
                                </span>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
