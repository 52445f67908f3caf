//! The brokers: up, crashed or cut off, which one is the controller's view of live, and the
//! buttons that crash and restart them.

use partita_core::sim::{Fault, Snapshot};
use yew::prelude::*;

use super::ModelProps;
use crate::model::Action;

#[function_component(Brokers)]
pub fn brokers(props: &ModelProps) -> Html {
    let snapshot: Snapshot = props.model.snapshot();
    html! {
        <section class="brokers" aria-label="brokers">
            <h2>{ "Brokers" }</h2>
            <div class="broker-row">
                { for snapshot.brokers.iter().map(|b| {
                    let id = b.id;
                    let (status, class) = match (b.up, b.live) {
                        (false, _) => ("crashed", "broker down"),
                        (true, false) => ("up, fenced", "broker fenced"),
                        (true, true) => ("up", "broker up"),
                    };
                    let leads = b.replicas.iter().filter(|r| r.leader).count();
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
                        </div>
                    }
                }) }
            </div>
        </section>
    }
}
