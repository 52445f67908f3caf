//! The controller and the brokers: up, crashed, cut off or fenced, what each leads, and the
//! buttons that crash, restart and cut them off.

use partita_core::sim::BrokerView;
use yew::prelude::*;

use super::ModelProps;
use crate::page_action::PageAction;

/// A broker's state in words, and the CSS class that colours it.
fn status(broker: &BrokerView) -> (&'static str, &'static str) {
    match (broker.up, broker.cut_off, broker.live) {
        (false, _, _) => ("crashed", "broker down"),
        (true, true, true) => ("cut off", "broker cut"),
        (true, true, false) => ("cut off, fenced", "broker fenced"),
        (true, false, false) => ("up, fenced", "broker fenced"),
        (true, false, true) => ("up", "broker up"),
    }
}

#[function_component(Brokers)]
pub fn brokers(props: &ModelProps) -> Html {
    let snapshot = props.model.snapshot();
    let act = |action: PageAction| props.on_click(action);
    let live: Vec<String> = snapshot
        .brokers
        .iter()
        .filter(|b| b.live)
        .map(|b| b.id.to_string())
        .collect();
    html! {
        <section class="brokers" aria-label="brokers">
            <h2>{ "Brokers" } <button data-testid="heal" title="Reconnect every cut link" onclick={act(PageAction::Heal)}>{ "Heal network" }</button></h2>
            <div class="broker-row">
                <div class="broker controller" data-testid="controller"
                     title="The KRaft controller: it keeps the metadata log, registers and fences brokers, and elects leaders">
                    <strong>{ "controller quorum" }</strong>
                    <span class="status">{ match snapshot.controller.active {
                        Some(id) => format!("active: controller {id}"),
                        None => "no active controller: electing".to_string(),
                    } }</span>
                    <span class="muted">{ format!("metadata log: {} records", snapshot.controller.metadata_records) }</span>
                    <ul class="voters" data-testid="voters">
                        { for snapshot.controller.voters.iter().map(|v| html! {
                            <li data-testid="voter" title="A Raft voter: its role, term (KRaft's epoch), the index of its last log entry and the highest it knows committed">
                                { if v.up {
                                    format!("{}: {} term {}, log end {}, committed {}", v.id, v.role, v.term, v.log_end, v.commit_index)
                                } else {
                                    format!("{}: down", v.id)
                                } }
                            </li>
                        }) }
                    </ul>
                    <span class="muted">{ format!("live brokers: {}", if live.is_empty() { "none".to_string() } else { live.join(", ") }) }</span>
                </div>
                { for snapshot.brokers.iter().map(|b| {
                    let id = b.id;
                    let (status, class) = status(b);
                    let leads = b.replicas.iter().filter(|r| r.leader).count();
                    let cut = act(PageAction::CutOff(id));
                    let toggle = act(if b.up { PageAction::CrashBroker(id) } else { PageAction::RestartBroker(id) });
                    html! {
                        <div class={class} data-testid="broker">
                            <strong>{ format!("broker {id}") }</strong>
                            <span class="status">{ status }</span>
                            <span class="muted">{ format!("{} replicas, leads {leads}", b.replicas.len()) }</span>
                            <span class="broker-actions">
                                <button data-testid="crash-broker" onclick={toggle}>
                                    { if b.up { "Crash" } else { "Restart" } }
                                </button>
                                <button data-testid="cut-off-broker" title="A network partition between this broker and every other node" onclick={cut}>{ "Cut off" }</button>
                            </span>
                        </div>
                    }
                }) }
            </div>
        </section>
    }
}
