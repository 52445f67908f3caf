//! Runs the resources of an admin request at the active controller: here when this node is
//! it, else forwarded over the peer transport and answered with the controller's outcome
//! (KIP-590; the core's `node/forward.rs` does the waiting, bounded by
//! `partita_core::node::FORWARD_TIMEOUT_MS`).

use partita_core::client::{Request, Response};
use partita_core::controller::ControllerCommand;

use super::node::Node;
use crate::engine::Refusal;

/// One outcome per entry of `commands`, in order: an entry already refused by the
/// receiving broker's own checks stays refused; the others run at the active controller,
/// side by side, with `validate_only` as the request says.
pub async fn control(
    node: &Node,
    validate_only: bool,
    commands: Vec<Result<ControllerCommand, Refusal>>,
) -> anyhow::Result<Vec<Result<(), Refusal>>> {
    let requests: Vec<Request> = commands
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .map(|command| Request::Control {
            command: command.clone(),
            validate_only,
        })
        .collect();
    let mut answers = node.engine.requests(requests).await?.into_iter();
    commands
        .into_iter()
        .map(|command| match command {
            Err(refusal) => Ok(Err(refusal)),
            Ok(_) => match answers.next() {
                Some(Response::Control(outcome)) => Ok(outcome),
                other => anyhow::bail!("the node answered a controller command with {other:?}"),
            },
        })
        .collect()
}
