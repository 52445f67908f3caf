//! Step, play and pause, speed, step back, and reset with a scenario and a seed.

use partita_core::sim::scenarios;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::ModelProps;
use crate::model::Action;

#[function_component(Controls)]
pub fn controls(props: &ModelProps) -> Html {
    let model = &props.model;
    let dispatch = props.dispatch.clone();
    let on = |action: fn() -> Action| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(action()))
    };
    let scenario_changed = {
        let dispatch = dispatch.clone();
        let seed = model.seed;
        Callback::from(move |e: Event| {
            let scenario = e.target_unchecked_into::<HtmlSelectElement>().value();
            dispatch.emit(Action::Load {
                scenario,
                seed,
                step: 0,
            });
        })
    };
    let seed_changed = {
        let dispatch = dispatch.clone();
        let scenario = model.scenario.clone();
        Callback::from(move |e: Event| {
            let seed = e
                .target_unchecked_into::<HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(1);
            dispatch.emit(Action::Load {
                scenario: scenario.clone(),
                seed,
                step: 0,
            });
        })
    };
    let speed_changed = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let speed = e
                .target_unchecked_into::<HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(1);
            dispatch.emit(Action::SetSpeed(speed));
        })
    };
    let sim = model.sim.borrow();
    html! {
        <section class="controls" aria-label="controls">
            <label>{ "Scenario " }
                <select data-testid="scenario" onchange={scenario_changed}>
                    { for scenarios::SCENARIOS.iter().map(|s| html! {
                        <option value={s.name} selected={s.name == model.scenario} title={s.description}>{ s.name }</option>
                    }) }
                </select>
            </label>
            <label>{ "Seed " }
                <input data-testid="seed" type="number" min="0" value={model.seed.to_string()} onchange={seed_changed} />
            </label>
            <button data-testid="step-back" title="Step back (b, ←)" onclick={on(|| Action::StepBack)}>{ "◀ Back" }</button>
            <button data-testid="step" title="Step one event (n, →)" onclick={on(|| Action::Step)}>{ "Step ▶" }</button>
            <button data-testid="finish" title="Run to the end and let the checker look for lost writes, duplicates, ..." onclick={on(|| Action::Finish)}>{ "Run to end & check" }</button>
            <button data-testid="play"  title="Play or pause (space)" onclick={on(|| Action::TogglePlay)}>
                { if model.playing { "❚❚ Pause" } else { "▶▶ Play" } }
            </button>
            <label>{ "Speed " }
                <input data-testid="speed" type="range" min="1" max="200" value={model.speed.to_string()} onchange={speed_changed} />
            </label>
            <span class="clock" data-testid="clock">
                { format!("event {} · {} ms simulated", sim.events(), sim.now().0) }
            </span>
        </section>
    }
}
