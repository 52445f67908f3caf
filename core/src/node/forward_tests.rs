//! KIP-590 forwarding on a three-node cluster (the `Trio` of `txn_cluster_tests.rs`): a node
//! that is not the active controller forwards a client's admin command to it and answers
//! with its outcome; a lost answer or a controller change gives a retriable error in bounded
//! time.

use super::txn_cluster_tests::Trio;
use super::*;
use crate::controller::{AlterConfigOp, ControllerCommand};

fn active_controller(trio: &mut Trio) -> BrokerId {
    (1..=3)
        .find(|&id| trio.node(id).is_active_controller())
        .expect("an active controller")
}

fn set_broker_config(resource: &str, key: &str, value: &str) -> Request {
    Request::Control {
        command: ControllerCommand::IncrementalAlterBrokerConfigs {
            resource: resource.to_string(),
            ops: vec![(key.to_string(), AlterConfigOp::Set(value.to_string()))],
        },
        validate_only: false,
    }
}

fn outcome(response: Response) -> Result<(), (ErrorCode, String)> {
    match response {
        Response::Control(outcome) => outcome,
        other => panic!("not a controller answer: {other:?}"),
    }
}

#[test]
fn a_broker_config_change_sent_to_a_non_controller_is_forwarded_and_answered() {
    let mut trio = Trio::new();
    let controller = active_controller(&mut trio);
    let other = (1..=3).find(|&id| id != controller).unwrap();
    let resource = other.to_string();
    let answer = trio.call(
        other,
        set_broker_config(&resource, "log.retention.ms", "7200000"),
    );
    assert_eq!(outcome(answer), Ok(()));
    assert!(
        trio.delivered
            .iter()
            .any(|m| m.starts_with("ForwardedCommand(IncrementalAlterConfigs")),
        "{:?}",
        trio.delivered
    );
    // Answered once committed: the controller has it, and the broker learns it.
    trio.run_until(5_000, |t| {
        t.node(other)
            .image()
            .broker_configs(&resource)
            .get("log.retention.ms")
            .map(String::as_str)
            == Some("7200000")
    });
    // The controller's refusal reaches the client as it is: the same as the controller's
    // own answer to the same request.
    let bad = || set_broker_config(&resource, "log.retention.ms", "soon");
    let forwarded = outcome(trio.call(other, bad())).unwrap_err();
    let direct = outcome(trio.call(controller, bad())).unwrap_err();
    assert_eq!(forwarded, direct);
    assert!(forwarded.1.contains("log.retention.ms"), "{}", forwarded.1);
    // validate_only: checked at the controller, nothing kept.
    let answer = trio.call(
        other,
        Request::Control {
            command: ControllerCommand::IncrementalAlterBrokerConfigs {
                resource: resource.clone(),
                ops: vec![("log.retention.ms".into(), AlterConfigOp::Set("1000".into()))],
            },
            validate_only: true,
        },
    );
    assert_eq!(outcome(answer), Ok(()));
    for _ in 0..50 {
        trio.step();
    }
    assert_eq!(
        trio.node(controller)
            .image()
            .broker_configs(&resource)
            .get("log.retention.ms")
            .map(String::as_str),
        Some("7200000")
    );
}

#[test]
fn a_lost_answer_is_request_timed_out_after_the_bound() {
    let mut trio = Trio::new();
    let controller = active_controller(&mut trio);
    let other = (1..=3).find(|&id| id != controller).unwrap();
    trio.lose = Some(|_, m| matches!(m, PeerMessage::ForwardedCommandResponse { .. }));
    let sent = trio.now();
    let answer = trio.call_within(
        other,
        set_broker_config(&other.to_string(), "log.retention.ms", "7200000"),
        FORWARD_TIMEOUT_MS.0 + 1_000,
    );
    let (code, _) = outcome(answer).unwrap_err();
    assert_eq!(code, ErrorCode::REQUEST_TIMED_OUT);
    assert!(trio.now().since(sent) >= FORWARD_TIMEOUT_MS);
    assert!(code.is_retriable());
}

#[test]
fn a_controller_lost_mid_way_is_not_controller_and_the_retry_reaches_the_new_one() {
    let mut trio = Trio::new();
    let controller = active_controller(&mut trio);
    let other = (1..=3).find(|&id| id != controller).unwrap();
    // The controller goes down before the forward reaches it.
    trio.down.insert(controller);
    let sent = trio.now();
    let answer = trio.call_within(
        other,
        set_broker_config(&other.to_string(), "log.retention.ms", "7200000"),
        FORWARD_TIMEOUT_MS.0 + 1_000,
    );
    let (code, message) = outcome(answer).unwrap_err();
    assert_eq!(code, ErrorCode::NOT_CONTROLLER, "{message}");
    assert!(code.is_retriable());
    assert!(
        trio.now().since(sent) < FORWARD_TIMEOUT_MS,
        "answered at the leader change, not at the timeout"
    );
    // The client retries at the same node: forwarded to the new controller.
    trio.run_until(10_000, |t| {
        (1..=3).any(|id| id != controller && t.node(id).is_active_controller())
    });
    let answer = trio.call(
        other,
        set_broker_config(&other.to_string(), "log.retention.ms", "7200000"),
    );
    assert_eq!(outcome(answer), Ok(()));
}

#[test]
fn the_active_controller_runs_the_command_itself() {
    let mut trio = Trio::new();
    let controller = active_controller(&mut trio);
    let before = trio.delivered.len();
    let answer = trio.call(
        controller,
        set_broker_config("", "log.retention.ms", "86400000"),
    );
    assert_eq!(outcome(answer), Ok(()));
    assert!(
        !trio.delivered[before..]
            .iter()
            .any(|m| m.starts_with("ForwardedCommand")),
        "nothing forwarded"
    );
}
