//! The live view: the real `partita serve` that served the page, as its JSON API reports it
//! every second. Its brokers, each partition's log start, high watermark and log end with the
//! groups' committed offsets, and the groups with their lag over time. Open it with `?live`.

use std::rc::Rc;

use gloo::timers::callback::Interval;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::groups::{LagRow, lag_chart, lag_table};
use crate::live::{self, FetchError, LiveView, Partition};
use crate::model::{LAG_SAMPLES_MAX, LagSample};

/// Milliseconds between polls of the API.
const POLL_MS: u32 = 1_000;
/// Width of a partition's bar, in pixels.
const BAR_WIDTH: f64 = 300.0;

#[derive(Default, PartialEq)]
struct LiveState {
    latest: Option<Result<LiveView, FetchError>>,
    lag_history: Vec<LagSample>,
    polls: u64,
}

impl Reducible for LiveState {
    type Action = Result<LiveView, FetchError>;

    fn reduce(self: Rc<Self>, polled: Self::Action) -> Rc<Self> {
        let polls = self.polls + 1;
        let mut lag_history = self.lag_history.clone();
        if let Ok(view) = &polled {
            lag_history.push(LagSample {
                at_ms: polls * u64::from(POLL_MS),
                lag_by_group: view.lag_by_group(),
            });
            if lag_history.len() > LAG_SAMPLES_MAX {
                lag_history.remove(0);
            }
        }
        Rc::new(LiveState {
            latest: Some(polled),
            lag_history,
            polls,
        })
    }
}

/// A partition's retained log as a bar: committed records (below the high watermark) solid,
/// the rest faded, each group's committed offset marked.
fn bar(p: &Partition, committed: &[(String, i64)]) -> Html {
    let (Some(start), Some(hw), Some(end)) =
        (p.log_start_offset, p.high_watermark, p.log_end_offset)
    else {
        return html! { <span class="muted">{ "not hosted here" }</span> };
    };
    let span = (end - start).max(1) as f64;
    let x = |offset: i64| ((offset - start) as f64 / span * BAR_WIDTH).clamp(0.0, BAR_WIDTH);
    html! {
        <span class="live-bar" style={format!("width: {BAR_WIDTH}px")}>
            <span class="live-committed" style={format!("width: {:.1}px", x(hw))}></span>
            { for committed.iter().map(|(group, offset)| html! {
                <span class="live-mark" style={format!("left: {:.1}px", x(*offset))}
                      title={format!("{group} committed {offset}")}>{ "▼" }</span>
            }) }
        </span>
    }
}

fn render(view: &LiveView, history: &[LagSample]) -> Html {
    html! {
        <>
            <section class="brokers" aria-label="brokers">
                <h2>{ "Cluster " }<span class="muted">{ &view.cluster.cluster_id }</span></h2>
                <div class="broker-row">
                    { for view.cluster.brokers.iter().map(|b| html! {
                        <div class={if b.fenced { "broker fenced" } else { "broker up" }} data-testid="live-broker">
                            <strong>{ format!("broker {}", b.id) }</strong>
                            <span class="status">{ if b.fenced { "fenced" } else { "up" } }</span>
                            <span class="muted">{ format!("{}:{}", b.host, b.port) }</span>
                            if b.id == view.cluster.controller_id { <span class="muted">{ "and the controller" }</span> }
                        </div>
                    }) }
                </div>
            </section>
            <section class="partitions" aria-label="partitions">
                <h2>{ "Partitions" }</h2>
                if view.topics.is_empty() { <p class="muted">{ "No topic yet: create one, or produce to one." }</p> }
                { for view.topics.iter().flat_map(|t| t.partitions.iter().map(move |p| (t, p))).map(|(t, p)| {
                    let committed: Vec<(String, i64)> = view.groups.iter().flat_map(|g| {
                        g.offsets.iter()
                            .filter(|o| o.topic == t.name && o.partition as u32 == p.partition)
                            .filter_map(|o| o.committed_offset.map(|c| (g.group_id.clone(), c)))
                    }).collect();
                    let offsets = match (p.log_start_offset, p.high_watermark, p.log_end_offset) {
                        (Some(s), Some(h), Some(e)) => format!("start {s} · hw {h} · end {e} · {} bytes", p.size_bytes.unwrap_or(0)),
                        _ => String::new(),
                    };
                    html! {
                        <div class="partition" data-testid="live-partition">
                            <h3>{ format!("{}-{}", t.name, p.partition) }
                                <span class="muted">{ format!(" · leader {} · epoch {} · ISR {:?}", p.leader, p.leader_epoch, p.isr) }</span></h3>
                            <div class="replica">{ bar(p, &committed) }<span class="offsets">{ offsets }</span></div>
                        </div>
                    }
                }) }
            </section>
            <section class="groups" aria-label="consumer groups">
                <h2>{ "Consumer groups" }</h2>
                if view.groups.is_empty() { <p class="muted">{ "No group yet." }</p> }
                { for view.groups.iter().map(|g| {
                    let total: i64 = g.offsets.iter().filter_map(|o| o.lag).sum();
                    let protocol = if g.protocol.is_empty() { String::new() } else { format!(" · {}", g.protocol) };
                    html! {
                        <div class="group" data-testid="live-group">
                            <h3>{ &g.group_id }<span class="muted">{ format!(" · {}{protocol} · {} members · lag {total}", g.state, g.members.len()) }</span></h3>
                            { lag_chart(&g.group_id, history) }
                            { lag_table("log end", g.offsets.iter().map(|o| LagRow {
                                topic: &o.topic,
                                partition: o.partition,
                                committed: o.committed_offset,
                                end: o.log_end_offset,
                                lag: o.lag,
                                owner: o.consumer_id.as_deref(),
                            })) }
                        </div>
                    }
                }) }
            </section>
        </>
    }
}

/// The form asking for the HTTP token when the API answered 401 (`--http-token-file`). The
/// token is kept in the tab's sessionStorage; the next poll sends it.
#[derive(Properties, PartialEq)]
struct TokenFormProps {
    /// A token was kept, and the server refused it.
    rejected: bool,
}

#[function_component(TokenForm)]
fn token_form(props: &TokenFormProps) -> Html {
    let input = use_node_ref();
    let onsubmit = {
        let input = input.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(field) = input.cast::<web_sys::HtmlInputElement>() {
                live::set_token(field.value().trim());
                field.set_value("");
            }
        })
    };
    let rejected = props.rejected;
    html! {
        <section class="verdict bad" data-testid="live-token">
            <h2>{ "This server wants a token" }</h2>
            <p>{ "Its JSON API requires the bearer token of " }<code>{ "partita serve --http-token-file" }</code>
               { ". It is kept in this tab only (sessionStorage) and sent as " }<code>{ "Authorization: Bearer" }</code>{ "." }</p>
            if rejected { <p data-testid="live-token-rejected">{ "The token given was refused." }</p> }
            <form {onsubmit}>
                <input ref={input} type="password" autocomplete="off" aria-label="token" data-testid="live-token-input" />
                <button type="submit" data-testid="live-token-submit">{ "Use this token" }</button>
            </form>
        </section>
    }
}

#[function_component(LiveViewPanel)]
pub fn live_view() -> Html {
    let state = use_reducer(LiveState::default);
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let poll = move || {
                let dispatch = dispatch.clone();
                spawn_local(async move { dispatch.dispatch(live::fetch().await) });
            };
            poll();
            let interval = Interval::new(POLL_MS, poll);
            move || drop(interval)
        });
    }
    let body = match &state.latest {
        None => html! { <p class="muted">{ "Asking the server…" }</p> },
        Some(Err(FetchError::Unauthorized)) => {
            html! { <TokenForm rejected={live::token().is_some()} /> }
        }
        Some(Err(FetchError::Failed(error))) => html! {
            <section class="verdict bad" data-testid="live-error">
                <h2>{ "No live server" }</h2>
                <p>{ "The live view reads the JSON API of the partita serve that served this page, and none answered: " }<code>{ error }</code></p>
            </section>
        },
        Some(Ok(view)) => render(view, &state.lag_history),
    };
    html! {
        <div class="live" data-testid="live">
            <section class="tour">
                <h2>{ "Live: this partita serve" }</h2>
                <p>{ "What the broker that served this page holds now, read from its JSON API every second: point any Kafka client at it and watch offsets, commits and lag move." }</p>
            </section>
            { body }
        </div>
    }
}
