//! The playground's state logic, run in the browser (wasm32 in headless Chromium).

use std::rc::Rc;

use partita_web::key_colours::{KeyColours, NO_KEY};
use partita_web::model::{Action, Model};
use partita_web::page_action::{self, PageAction};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::Reducible;

wasm_bindgen_test_configure!(run_in_browser);

fn apply(model: Rc<Model>, actions: Vec<Action>) -> Rc<Model> {
    actions.into_iter().fold(model, |m, a| m.reduce(a))
}

#[wasm_bindgen_test]
fn stepping_back_replays_to_the_same_state_with_the_faults_injected_by_hand() {
    let start = Rc::new(Model::new("keyed-ordering", 5, 50));
    let mut actions: Vec<Action> = (0..20).map(|_| Action::Step).collect();
    actions.push(Action::Do(PageAction::CrashBroker(2)));
    actions.extend((0..300).map(|_| Action::Step));
    let ahead = apply(start, actions);
    let events = ahead.events();
    let snapshot = ahead.snapshot();
    assert!(
        snapshot.brokers.iter().any(|b| b.id == 2 && !b.up),
        "the crash took effect"
    );
    // Reducing shares the simulation with the previous model, so compare with a copy taken now.
    let forward_then_back = apply(ahead, vec![Action::Step, Action::StepBack]);
    assert_eq!(forward_then_back.events(), events);
    assert_eq!(
        forward_then_back.snapshot(),
        snapshot,
        "a replay from the seed lands on the same cluster"
    );
    assert_eq!(
        forward_then_back.injected.len(),
        1,
        "the injected fault is kept for replays"
    );
}

#[wasm_bindgen_test]
fn loading_starts_over_and_playing_stops_at_the_scenario_end() {
    let model = Rc::new(Model::new("keyed-ordering", 1, 0));
    let loaded = model.reduce(Action::Load {
        scenario: "lag".into(),
        seed: 9,
        step: 10,
    });
    assert_eq!(
        (loaded.scenario.as_str(), loaded.seed, loaded.events()),
        ("lag", 9, 10)
    );
    let unknown = Rc::new(Model::new("no-such-scenario", 1, 0));
    assert_eq!(
        unknown.scenario, "keyed-ordering",
        "an unknown scenario in a link falls back to the first"
    );
    let finished = loaded.reduce(Action::Finish);
    assert!(finished.verdict.is_some());
}

#[wasm_bindgen_test]
fn lag_is_sampled_over_time_for_the_chart() {
    let model = Rc::new(Model::new("lag", 2, 0));
    let later = apply(model, (0..300).map(|_| Action::Tick).collect());
    let history = &later.lag_history;
    assert!(history.len() > 10);
    assert!(
        history.windows(2).all(|w| w[0].at_ms < w[1].at_ms),
        "samples in time order"
    );
    assert!(
        history
            .iter()
            .any(|s| s.lag_by_group.iter().any(|(_, lag)| *lag > 0)),
        "the slow consumer lags"
    );
}

#[wasm_bindgen_test]
fn a_created_topic_and_a_removed_consumer_survive_a_step_back() {
    let start = Rc::new(Model::new("rebalance-cooperative", 3, 2_000));
    let mut actions = vec![
        Action::Do(PageAction::CreateTopic {
            name: "payments".into(),
            partitions: 4,
            replication_factor: 2,
            small_retention: false,
        }),
        Action::Do(PageAction::RemoveClient(1)),
    ];
    actions.extend((0..200).map(|_| Action::Step));
    actions.push(Action::StepBack);
    let back = apply(start, actions);
    let snapshot = back.snapshot();
    let payments = snapshot
        .partitions
        .iter()
        .filter(|p| p.tp.topic == "payments")
        .count();
    assert_eq!(payments, 4);
    assert_eq!(snapshot.clients[1].state, "stopped");
    assert_eq!(back.injected.len(), 2);
}

#[wasm_bindgen_test]
fn the_first_dozen_keys_get_different_colours_and_keep_them() {
    let colours = KeyColours::default();
    let first: Vec<&str> = (0..12)
        .map(|i| colours.colour(Some(&format!("k{i}"))))
        .collect();
    let distinct: std::collections::BTreeSet<&str> = first.iter().copied().collect();
    assert_eq!(distinct.len(), 12);
    assert_eq!(colours.colour(Some("k3")), first[3]);
    assert_eq!(colours.colour(None), NO_KEY);
}

#[wasm_bindgen_test]
fn page_actions_survive_the_url_and_a_link_rebuilds_the_same_cluster() {
    let actions = vec![
        (5, PageAction::CrashBroker(2)),
        (5, PageAction::CutOff(3)),
        (9, PageAction::Heal),
        (12, PageAction::PauseClient(1)),
        (12, PageAction::SlowClient(1)),
        (13, PageAction::CrashClient(1)),
        (14, PageAction::RemoveClient(0)),
        (
            20,
            PageAction::CreateTopic {
                name: "pay.ments_2-x".into(),
                partitions: 4,
                replication_factor: 2,
                small_retention: true,
            },
        ),
        (
            21,
            PageAction::Send {
                topic: "pay.ments_2-x".into(),
                keys: 3,
                acks: -1,
                idempotent: true,
                partitioner: partita_core::partitioner::KeyHash::Murmur2Random,
                messages: 20,
                interval_ms: 0,
            },
        ),
        (
            22,
            PageAction::AddConsumer {
                topic: "orders".into(),
            },
        ),
        (23, PageAction::RestartBroker(2)),
    ];
    let text = page_action::encode_all(&actions);
    assert_eq!(page_action::decode_all(&text), actions);
    assert_eq!(
        page_action::decode_all("3:crash~x,4:nope,5:heal,bad"),
        vec![(5, PageAction::Heal)],
        "what does not parse is skipped"
    );
    for out_of_bounds in [
        "1:topic~huge~1000000~3~all",
        "1:topic~~3~3~all",
        "1:topic~t~3~0~all",
        "1:send~orders~3~-1~0~consistent_random~1000000000~0",
        "1:send~orders~3~7~0~consistent_random~10~0",
        "1:send~orders~3~-1~0~no_such_partitioner~10~0",
    ] {
        assert_eq!(
            page_action::decode_all(out_of_bounds),
            vec![],
            "{out_of_bounds}"
        );
    }
    // What parses but makes no sense for the scenario is left to the simulator, which ignores
    // it or traces a refusal; the page goes on.
    let odd = page_action::decode_all(
        "0:crash~99,0:remove~42,0:cut~99,0:consumer~nope,0:send~nope~1~1~0~murmur2_random~3~0",
    );
    assert_eq!(odd.len(), 5);
    let model = Model::with_actions("keyed-ordering", 1, 200, odd);
    assert_eq!(model.events(), 200);
    let unordered = Model::with_actions(
        "keyed-ordering",
        1,
        50,
        page_action::decode_all("30:restart~2,10:crash~2"),
    );
    let order: Vec<u64> = unordered.injected.iter().map(|(at, _)| *at).collect();
    assert_eq!(order, vec![10, 30], "replayed in event order");

    // Doing things by hand, then opening the link those actions make, gives the same cluster.
    let by_hand = apply(
        Rc::new(Model::new("keyed-ordering", 2, 100)),
        vec![
            Action::Do(PageAction::CrashBroker(2)),
            Action::Step,
            Action::Step,
            Action::Do(PageAction::CreateTopic {
                name: "payments".into(),
                partitions: 2,
                replication_factor: 2,
                small_retention: false,
            }),
            Action::Do(PageAction::Send {
                topic: "payments".into(),
                keys: 1,
                acks: 1,
                idempotent: false,
                partitioner: partita_core::partitioner::KeyHash::ConsistentRandom,
                messages: 5,
                interval_ms: 0,
            }),
        ]
        .into_iter()
        .chain((0..300).map(|_| Action::Step))
        .collect(),
    );
    let link = page_action::decode_all(&page_action::encode_all(&by_hand.injected));
    let opened = Model::with_actions("keyed-ordering", 2, by_hand.events(), link);
    assert_eq!(opened.snapshot(), by_hand.snapshot());
    assert!(
        opened
            .snapshot()
            .clients
            .iter()
            .any(|c| c.name.starts_with("web-producer") && c.sent == 5)
    );
}
