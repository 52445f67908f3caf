//! Create a topic, as `kafka-topics.sh --create` would: a name (checked as the controller
//! checks it), a partition count, a replication factor, and optionally a retention small
//! enough to watch the log start move. The controller places the replicas and elects the
//! leaders; a refusal (a name in use, more replicas than brokers) shows in the timeline.

use partita_core::controller::validate_topic_name;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::ModelProps;
use crate::model::Action;
use crate::page_action::{PARTITIONS_MAX, PageAction};

fn input_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

#[function_component(TopicForm)]
pub fn topic_form(props: &ModelProps) -> Html {
    let snapshot = props.model.snapshot();
    let brokers = snapshot.brokers.len() as u16;
    let name = use_state(|| "payments".to_string());
    let partitions = use_state(|| 3u32);
    let replication_factor = use_state(|| 3u16.min(brokers.max(1)));
    let small_retention = use_state(|| false);
    let on_retention = {
        let small_retention = small_retention.clone();
        Callback::from(move |e: Event| {
            let choice = e.target_unchecked_into::<HtmlSelectElement>().value();
            small_retention.set(choice == "small")
        })
    };
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: Event| name.set(input_value(&e).trim().to_string()))
    };
    let on_partitions = {
        let partitions = partitions.clone();
        Callback::from(move |e: Event| {
            partitions.set(
                input_value(&e)
                    .parse()
                    .unwrap_or(1)
                    .clamp(1, PARTITIONS_MAX),
            )
        })
    };
    let on_replication = {
        let replication_factor = replication_factor.clone();
        Callback::from(move |e: Event| {
            replication_factor.set(
                input_value(&e)
                    .parse()
                    .unwrap_or(1)
                    .clamp(1, brokers.max(1)),
            )
        })
    };
    // Kafka's rule, as the controller applies it.
    let invalid = validate_topic_name(&name).err();
    let create = {
        let dispatch = props.dispatch.clone();
        let action = PageAction::CreateTopic {
            name: (*name).clone(),
            partitions: *partitions,
            replication_factor: *replication_factor,
            small_retention: *small_retention,
        };
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::Do(action.clone())))
    };
    html! {
        <section class="topic-form" aria-label="create a topic">
            <h2>{ "Create a topic" }</h2>
            <div class="form-row">
                <label>{ "Name " }<input data-testid="topic-name" type="text" value={(*name).clone()} onchange={on_name} /></label>
                <label>{ "Partitions " }<input data-testid="topic-partitions" type="number" min="1" max={PARTITIONS_MAX.to_string()}
                    value={partitions.to_string()} onchange={on_partitions} /></label>
                <label>{ "Replication factor " }<input data-testid="topic-replication" type="number" min="1" max={brokers.to_string()}
                    value={replication_factor.to_string()} onchange={on_replication} /></label>
                <label>{ "Retention " }
                    <select data-testid="topic-retention" onchange={on_retention}>
                        <option value="forever" selected={!*small_retention}>{ "keep everything" }</option>
                        <option value="small" selected={*small_retention}>{ "about 1 KiB per partition" }</option>
                    </select>
                </label>
                <button data-testid="create-topic" disabled={invalid.is_some()} onclick={create}>{ "Create" }</button>
            </div>
            if let Some(reason) = invalid {
                <p class="form-error" data-testid="topic-error">{ reason }</p>
            }
        </section>
    }
}
