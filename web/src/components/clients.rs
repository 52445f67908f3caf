//! The simulated producers and consumers: what they sent, got acknowledged, polled and own.

use yew::prelude::*;

use super::ModelProps;

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
                    html! {
                        <li class={classes!("client", (!c.up).then_some("down"))} data-testid="client">
                            <strong>{ format!("{} ({})", c.name, c.kind) }</strong>
                            <span class="muted">{ if c.up { " " } else { " down " } }</span>
                            { detail }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
