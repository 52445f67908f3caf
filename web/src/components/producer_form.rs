//! Send messages from the page: a new producer with the chosen settings (topic, keys or none,
//! acks, idempotence, partitioner) sends one message, a burst, or a steady rate; and a consumer
//! can join a group reading the chosen topic.

use partita_core::partitioner::KeyHash;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::ModelProps;
use crate::page_action::PageAction;

/// How many messages each button sends, and how far apart.
const SENDS: [(&str, &str, u64, u64); 3] = [
    ("send-one", "Send one", 1, 0),
    ("send-burst", "Burst of 20", 20, 0),
    ("send-rate", "10/s for 5 s", 50, 100),
];

#[derive(Clone, PartialEq)]
struct Settings {
    /// `None`: the scenario's first topic.
    topic: Option<String>,
    keys: u32,
    acks: i16,
    idempotent: bool,
    partitioner: KeyHash,
}

#[function_component(ProducerForm)]
pub fn producer_form(props: &ModelProps) -> Html {
    let settings = use_state(|| Settings {
        topic: None,
        keys: 3,
        acks: -1,
        idempotent: false,
        partitioner: KeyHash::ConsistentRandom,
    });
    let topics: Vec<String> = {
        let sim = props.model.sim.borrow();
        sim.spec().topics.iter().map(|t| t.name.clone()).collect()
    };
    let Some(topic) = settings
        .topic
        .clone()
        .filter(|t| topics.contains(t))
        .or_else(|| topics.first().cloned())
    else {
        return html! {};
    };

    let select = |current: String,
                  options: Vec<(String, String)>,
                  apply: fn(&mut Settings, &str),
                  testid: &'static str| {
        let settings = settings.clone();
        let onchange = Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let mut next = (*settings).clone();
            apply(&mut next, &value);
            settings.set(next);
        });
        html! {
            <select data-testid={testid} {onchange}>
                { for options.into_iter().map(|(value, label)| { let selected = value == current; html! { <option {selected} value={value}>{ label }</option> } }) }
            </select>
        }
    };
    let options = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect()
    };
    let idempotence = {
        let settings = settings.clone();
        Callback::from(move |e: Event| {
            let checked = e.target_unchecked_into::<HtmlInputElement>().checked();
            settings.set(Settings {
                idempotent: checked,
                ..(*settings).clone()
            });
        })
    };
    let act = |action: PageAction| props.on_click(action);
    let send = |messages: u64, interval_ms: u64| {
        let s = &*settings;
        act(PageAction::Send {
            topic: topic.clone(),
            keys: s.keys,
            acks: s.acks,
            idempotent: s.idempotent,
            partitioner: s.partitioner,
            messages,
            interval_ms,
        })
    };
    let add_consumer = act(PageAction::AddConsumer {
        topic: topic.clone(),
    });
    let s = (*settings).clone();
    html! {
        <section class="producer-form" aria-label="send messages">
            <h2>{ "Produce and consume" }</h2>
            <div class="form-row">
                <label>{ "Topic " }
                    { select(topic.clone(), topics.iter().map(|t| (t.clone(), t.clone())).collect(),
                        |s, v| s.topic = Some(v.to_string()), "producer-topic") }
                </label>
                { select(s.keys.to_string(), options(&[("3", "3 keys"), ("1", "one key"), ("0", "no key")]),
                    |s, v| s.keys = v.parse().unwrap_or(0), "producer-keys") }
                { select(s.acks.to_string(), options(&[("-1", "acks=all"), ("1", "acks=1"), ("0", "acks=0")]),
                    |s, v| s.acks = v.parse().unwrap_or(-1), "producer-acks") }
                { select(s.partitioner.name().to_string(),
                    options(&[(KeyHash::ConsistentRandom.name(), "consistent_random (librdkafka)"), (KeyHash::Murmur2Random.name(), "murmur2 (Java)")]),
                    |s, v| s.partitioner = KeyHash::from_name(v).unwrap_or(KeyHash::ConsistentRandom), "producer-partitioner") }
                <label><input type="checkbox" data-testid="producer-idempotence" checked={s.idempotent} onchange={idempotence} />{ " idempotent" }</label>
            </div>
            <div class="form-row">
                { for SENDS.iter().map(|&(testid, label, messages, interval)| html! {
                    <button data-testid={testid} onclick={send(messages, interval)}>{ label }</button>
                }) }
                <button data-testid="add-consumer" title={format!("A consumer of {topic} joins a group")} onclick={add_consumer}>{ "Add a consumer" }</button>
            </div>
        </section>
    }
}
