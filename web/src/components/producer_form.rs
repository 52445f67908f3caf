//! Send messages from the page: a new producer with the chosen settings (keys or none, acks,
//! idempotence, partitioner) sends one message, a burst, or a steady rate; and a consumer can
//! join the scenario's group.

use partita_core::Millis;
use partita_core::client::producer::ProducerConfig;
use partita_core::partitioner::{KeyHash, Partitioner};
use partita_core::sim::{ClientSpec, ProducerSpec};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::ModelProps;
use crate::model::Action;

/// How many messages each button sends, and how far apart.
const SENDS: [(&str, &str, u64, u64); 3] = [
    ("send-one", "Send one", 1, 0),
    ("send-burst", "Burst of 20", 20, 0),
    ("send-rate", "10/s for 5 s", 50, 100),
];

#[derive(Clone, PartialEq)]
struct Settings {
    keys: u32,
    acks: i16,
    idempotent: bool,
    partitioner: KeyHash,
}

#[function_component(ProducerForm)]
pub fn producer_form(props: &ModelProps) -> Html {
    let settings = use_state(|| Settings {
        keys: 3,
        acks: -1,
        idempotent: false,
        partitioner: KeyHash::ConsistentRandom,
    });
    let spec = props.model.sim.borrow().spec().clone();
    let Some(topic) = spec.topics.first().map(|t| t.name.clone()) else {
        return html! {};
    };
    let next_name = |kind: &str| format!("{kind}-{}", spec.clients.len());

    let select = |current: String,
                  options: Vec<(String, &'static str)>,
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
    let send = |messages: u64, interval: u64| {
        let (settings, dispatch, topic, name) = (
            (*settings).clone(),
            props.dispatch.clone(),
            topic.clone(),
            next_name("web-producer"),
        );
        Callback::from(move |_: MouseEvent| {
            let config = ProducerConfig {
                client_id: name.clone(),
                // As in librdkafka, idempotence means acks=all.
                acks: if settings.idempotent {
                    -1
                } else {
                    settings.acks
                },
                enable_idempotence: settings.idempotent,
                partitioner: Partitioner::new(settings.partitioner, true),
                // The simulation's time scale, as its scenarios use.
                request_timeout_ms: Millis(1_000),
                delivery_timeout_ms: Millis(20_000),
                ..ProducerConfig::default()
            };
            let spec = ProducerSpec {
                name: name.clone(),
                config,
                topic: topic.clone(),
                messages,
                interval_ms: Millis(interval),
                keys: settings.keys,
                start_ms: Millis::ZERO,
            };
            dispatch.emit(Action::AddClient(ClientSpec::Producer(spec)));
        })
    };
    let consumer = spec.clients.iter().find_map(|c| match c {
        ClientSpec::Consumer(c) => Some(c.clone()),
        ClientSpec::Producer(_) => None,
    });
    let add_consumer = consumer.map(|mut template| {
        let dispatch = props.dispatch.clone();
        template.name = next_name("web-consumer");
        template.restart_after_ms = None;
        Callback::from(move |_: MouseEvent| {
            dispatch.emit(Action::AddClient(ClientSpec::Consumer(template.clone())))
        })
    });
    let s = (*settings).clone();
    html! {
        <section class="producer-form" aria-label="send messages">
            <h2>{ format!("Send to {topic}") }</h2>
            <div class="form-row">
                { select(s.keys.to_string(), vec![("3".into(), "3 keys"), ("1".into(), "one key"), ("0".into(), "no key")],
                    |s, v| s.keys = v.parse().unwrap_or(0), "producer-keys") }
                { select(s.acks.to_string(), vec![("-1".into(), "acks=all"), ("1".into(), "acks=1"), ("0".into(), "acks=0")],
                    |s, v| s.acks = v.parse().unwrap_or(-1), "producer-acks") }
                { select(s.partitioner.name().to_string(),
                    vec![(KeyHash::ConsistentRandom.name().into(), "consistent_random (librdkafka)"), (KeyHash::Murmur2Random.name().into(), "murmur2 (Java)")],
                    |s, v| s.partitioner = KeyHash::from_name(v).unwrap_or(KeyHash::ConsistentRandom), "producer-partitioner") }
                <label><input type="checkbox" data-testid="producer-idempotence" checked={s.idempotent} onchange={idempotence} />{ " idempotent" }</label>
            </div>
            <div class="form-row">
                { for SENDS.iter().map(|&(testid, label, messages, interval)| html! {
                    <button data-testid={testid} onclick={send(messages, interval)}>{ label }</button>
                }) }
                if let Some(add) = add_consumer {
                    <button data-testid="add-consumer" onclick={add}>{ "Add a consumer" }</button>
                }
            </div>
        </section>
    }
}
