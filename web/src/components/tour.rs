//! The guided tour of the current scenario: the seed article's section and what to watch.

use yew::prelude::*;

use super::ModelProps;
use crate::tours;

#[function_component(TourPanel)]
pub fn tour_panel(props: &ModelProps) -> Html {
    match tours::find(&props.model.scenario) {
        Some(tour) => html! {
            <section class="tour" data-testid="tour" aria-label="tour">
                <h2>{ tour.title }</h2>
                <p class="muted">{ format!("From the article: {}", tour.section) }</p>
                <p>{ tour.text }</p>
            </section>
        },
        None => html! {},
    }
}
