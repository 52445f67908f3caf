//! The event timeline, newest first, in plain words; the tour's events are highlighted.

use yew::prelude::*;

use super::ModelProps;
use crate::describe::describe;
use crate::tours;

/// Entries shown; older ones stay in the trace.
const SHOWN_MAX: usize = 60;

#[function_component(Timeline)]
pub fn timeline(props: &ModelProps) -> Html {
    let sim = props.model.sim.borrow();
    let tour = tours::find(&props.model.scenario);
    let entries = sim.trace().entries();
    html! {
        <section class="timeline" aria-label="timeline">
            <h2>{ "Timeline" }</h2>
            <ol reversed=true>
                { for entries.iter().rev().take(SHOWN_MAX).map(|entry| {
                    let highlighted = tour.is_some_and(|t| (t.highlight)(&entry.event));
                    html! {
                        <li class={classes!("event", highlighted.then_some("highlight"))} data-testid="event">
                            <span class="at">{ format!("{} ms", entry.at.0) }</span>
                            { describe(&entry.event) }
                        </li>
                    }
                }) }
            </ol>
        </section>
    }
}
