//! The event timeline, newest first, in plain words; the tour's events are highlighted. The
//! messages on the network (most of the events) can be hidden to see only what changed.

use partita_core::sim::TraceEvent;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::ModelProps;
use crate::describe::describe;
use crate::tours;

/// Entries shown; older ones stay in the trace.
const SHOWN_MAX: usize = 60;

/// A message sent or received, as opposed to a change of state (a lost message is kept: it is
/// a fault's doing).
fn is_message(event: &TraceEvent) -> bool {
    matches!(
        event,
        TraceEvent::Sent { .. } | TraceEvent::Delivered { .. }
    )
}

#[function_component(Timeline)]
pub fn timeline(props: &ModelProps) -> Html {
    let show_messages = use_state(|| true);
    let toggle = {
        let show_messages = show_messages.clone();
        Callback::from(move |e: Event| {
            show_messages.set(e.target_unchecked_into::<HtmlInputElement>().checked())
        })
    };
    let sim = props.model.sim.borrow();
    let clients: Vec<String> = props
        .model
        .snapshot()
        .clients
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let tour = tours::find(&props.model.scenario);
    let entries = sim.trace().entries();
    html! {
        <section class="timeline" aria-label="timeline">
            <h2>{ "Timeline" }
                <label class="toggle"><input type="checkbox" data-testid="show-messages" checked={*show_messages} onchange={toggle} />{ " network messages" }</label>
            </h2>
            <ol reversed=true>
                { for entries.iter().rev().filter(|e| *show_messages || !is_message(&e.event)).take(SHOWN_MAX).map(|entry| {
                    let highlighted = tour.is_some_and(|t| (t.highlight)(&entry.event));
                    html! {
                        <li class={classes!("event", highlighted.then_some("highlight"))} data-testid="event">
                            <span class="at">{ format!("{} ms", entry.at.0) }</span>
                            { describe(&entry.event, &clients) }
                        </li>
                    }
                }) }
            </ol>
        </section>
    }
}
