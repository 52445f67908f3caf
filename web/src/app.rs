//! The page: controls and the tour on top, then brokers, partitions, groups, clients and the
//! timeline. Keyboard: space plays or pauses, n or → steps, b or ← steps back.

use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::Interval;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::brokers::Brokers;
use crate::components::clients::Clients;
use crate::components::controls::Controls;
use crate::components::groups::Groups;
use crate::components::live_view::LiveViewPanel;
use crate::components::partitions::Partitions;
use crate::components::producer_form::ProducerForm;
use crate::components::timeline::Timeline;
use crate::components::topic_form::TopicForm;
use crate::components::tour::TourPanel;
use crate::components::verdict::Verdict;
use crate::model::{Action, Model};
use crate::url;

/// Milliseconds between play ticks.
const TICK_MS: u32 = 100;

/// The live view of the server, or the simulated cluster.
#[function_component(App)]
pub fn app() -> Html {
    if url::wants_live() {
        html! {
            <main class="playground" data-testid="playground">
                { header(false) }
                <LiveViewPanel />
            </main>
        }
    } else {
        html! { <Simulator /> }
    }
}

/// The title, and a link to the other view.
fn header(simulating: bool) -> Html {
    html! {
        <header>
            <h1>{ "Partita" }</h1>
            <p class="tagline">
                { "A Kafka-compatible distributed log you can step through. " }
                if simulating {
                    <a href="?live" data-testid="to-live">{ "Live: the server behind this page →" }</a>
                } else {
                    <a href="?" data-testid="to-simulator">{ "← The simulated cluster" }</a>
                }
            </p>
        </header>
    }
}

#[function_component(Simulator)]
fn simulator() -> Html {
    let model = use_reducer(|| {
        let location = url::read();
        Model::with_actions(
            &location.scenario,
            location.seed,
            location.step,
            location.actions,
        )
    });
    let dispatch = {
        let model = model.clone();
        Callback::from(move |action: Action| model.dispatch(action))
    };

    // Play: a tick every TICK_MS while playing.
    {
        let dispatch = dispatch.clone();
        use_effect_with(model.playing, move |playing| {
            let interval =
                playing.then(|| Interval::new(TICK_MS, move || dispatch.emit(Action::Tick)));
            move || drop(interval)
        });
    }
    // Keyboard shortcuts.
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            let document = web_sys::window()
                .and_then(|w| w.document())
                .expect("a document");
            // Not passive: the shortcuts keep space from scrolling the page.
            let options = EventListenerOptions::enable_prevent_default();
            let listener =
                EventListener::new_with_options(&document, "keydown", options, move |event| {
                    let Some(key) = event.dyn_ref::<web_sys::KeyboardEvent>() else {
                        return;
                    };
                    let in_field = key
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|e| {
                            matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
                        });
                    if in_field {
                        return;
                    }
                    let action = match key.key().as_str() {
                        " " => Action::TogglePlay,
                        "n" | "ArrowRight" => Action::Step,
                        "b" | "ArrowLeft" => Action::StepBack,
                        _ => return,
                    };
                    key.prevent_default();
                    dispatch.emit(action);
                });
            move || drop(listener)
        });
    }
    // The URL follows the state, so that a link reproduces it.
    {
        let (scenario, seed, events) = (model.scenario.clone(), model.seed, model.events());
        let actions = model.injected.clone();
        use_effect_with((scenario, seed, events, actions), move |(s, seed, e, a)| {
            url::write(s, *seed, *e, a)
        });
    }

    let props_model: Rc<Model> = Rc::new((*model).clone());
    html! {
        <main class="playground" data-testid="playground">
            { header(true) }
            <Controls model={props_model.clone()} dispatch={dispatch.clone()} />
            <TourPanel model={props_model.clone()} dispatch={dispatch.clone()} />
            <Verdict model={props_model.clone()} dispatch={dispatch.clone()} />
            <div class="layout">
                <div class="main-column">
                    <Brokers model={props_model.clone()} dispatch={dispatch.clone()} />
                    <Partitions model={props_model.clone()} dispatch={dispatch.clone()} />
                    <Groups model={props_model.clone()} dispatch={dispatch.clone()} />
                    <ProducerForm model={props_model.clone()} dispatch={dispatch.clone()} />
                    <TopicForm model={props_model.clone()} dispatch={dispatch.clone()} />
                    <Clients model={props_model.clone()} dispatch={dispatch.clone()} />
                </div>
                <Timeline model={props_model} dispatch={dispatch} />
            </div>
        </main>
    }
}
