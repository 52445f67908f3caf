//! The top-level component.

use yew::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <main class="playground" data-testid="playground">
            <header>
                <h1>{ "Partita" }</h1>
                <p class="tagline">{ "A Kafka-compatible distributed log you can step through." }</p>
            </header>
        </main>
    }
}
