//! The brokers: up, crashed or cut off, which one is the controller's view of live, and the
//! buttons that crash and restart them.

use partita_core::sim::{Fault, NodeId, Snapshot};
use yew::prelude::*;

use super::ModelProps;
use crate::model::Action;

#[function_component(Brokers)]
pub fn brokers(props: &ModelProps) -> Html {
    let snapshot: Snapshot = props.model.snapshot();
    // Every node, so that a broker can be cut off from all the others.
    let everyone: Vec<NodeId> = [NodeId::Controller, NodeId::Coordinator]
        .into_iter()
        .chain(snapshot.brokers.iter().map(|b| NodeId::Broker(b.id)))
        .chain(snapshot.clients.iter().map(|c| NodeId::Client(c.index)))
        .collect();
    let heal = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Action::Inject(Fault::Heal)))
    };
    html! {
        <section class="brokers" aria-label="brokers">
            <h2>{ "Brokers" } <button data-testid="heal" title="Reconnect every cut link" onclick={heal}>{ "Heal network" }</button></h2>
            <div class="broker-row">
                { for snapshot.brokers.iter().map(|b| {
                    let id = b.id;
                    let (status, class) = match (b.up, b.live) {
                        (false, _) => ("crashed", "broker down"),
                        (true, false) => ("up, fenced", "broker fenced"),
                        (true, true) => ("up", "broker up"),
                    };
                    let leads = b.replicas.iter().filter(|r| r.leader).count();
                    let cut = {
                        let dispatch = props.dispatch.clone();
                        let others: Vec<NodeId> = everyone.iter().copied().filter(|n| *n != NodeId::Broker(id)).collect();
                        Callback::from(move |_: MouseEvent| {
                            dispatch.emit(Action::Inject(Fault::Partition { a: vec![NodeId::Broker(id)], b: others.clone() }))
                        })
                    };
                    let dispatch = props.dispatch.clone();
                    let toggle = Callback::from(move |_: MouseEvent| {
                        dispatch.emit(Action::Inject(if status == "crashed" { Fault::RestartBroker(id) } else { Fault::CrashBroker(id) }))
                    });
                    html! {
                        <div class={class} data-testid="broker">
                            <strong>{ format!("broker {id}") }</strong>
                            <span class="status">{ status }</span>
                            <span class="muted">{ format!("{} replicas, leads {leads}", b.replicas.len()) }</span>
                            <button data-testid="crash-broker" onclick={toggle}>
                                { if b.up { "Crash" } else { "Restart" } }
                            </button>
                            <button data-testid="cut-off-broker" title="A network partition between this broker and every other node" onclick={cut}>{ "Cut off" }</button>
                        </div>
                    }
                }) }
            </div>
        </section>
    }
}
