//! `partita serve --add-scram 'SCRAM-SHA-256=[name=admin,password=admin-secret]'`: the first
//! users' SCRAM credentials, for a cluster whose every admin request needs a login (Kafka's
//! `kafka-storage.sh format --add-scram`, KIP-900, puts them in the bootstrap metadata). Here
//! they go through the active controller as AlterUserScramCredentials would, once the node is
//! up, as a `ScramCredentialOp::CreateIfAbsent`: the active controller creates the credential
//! only when that user has none of that mechanism in its image, so a restart (even of a node
//! whose own image has not caught up yet), or another node started with the same flag, changes
//! nothing, and a password changed since stays changed. The password is salted here (a fresh
//! salt from the OS) and never stored.

use std::sync::Arc;
use std::time::Duration;

use partita_core::ErrorCode;
use partita_core::controller::{ControllerCommand, ScramMechanism};
use tokio::sync::watch;

use super::node::Node;
use super::scram_keys::upsertion;
use super::scram_spec::{ScramSpec, parse_one};

/// How long to wait before asking again while no controller answers (a cluster electing one).
const RETRY: Duration = Duration::from_millis(200);

/// Reads every `--add-scram` value; each must name its user (`name=`).
pub fn parse_all(values: &[String]) -> anyhow::Result<Vec<(String, ScramSpec)>> {
    values
        .iter()
        .map(|value| {
            let spec = parse_one(value).map_err(|e| anyhow::anyhow!("--add-scram {e:#}"))?;
            let name =
                spec.name.clone().filter(|n| !n.is_empty()).ok_or_else(|| {
                    anyhow::anyhow!("--add-scram needs name=USER in the brackets")
                })?;
            Ok((name, spec))
        })
        .collect()
}

/// Creates each credential that is absent, retrying while the controller is not there yet
/// (NOT_CONTROLLER, REQUEST_TIMED_OUT); ends at `shutdown`. A refusal (too few iterations, say)
/// is logged and the node goes on.
pub async fn run(
    node: Arc<Node>,
    credentials: Vec<(String, ScramSpec)>,
    mut shutdown: watch::Receiver<bool>,
) {
    for (user, spec) in credentials {
        tokio::select! {
            () = create_if_absent(&node, &user, &spec) => {},
            _ = shutdown.changed() => return,
        }
    }
}

async fn create_if_absent(node: &Node, user: &str, spec: &ScramSpec) {
    let mechanism = spec.mechanism;
    loop {
        match try_once(node, user, spec).await {
            Ok(true) => {
                tracing::info!(
                    user,
                    mechanism = mechanism.mechanism_name(),
                    "--add-scram: created unless the controller had one of this mechanism"
                );
                return;
            }
            Ok(false) => return,
            Err(Some((code, message)))
                if code.is_retriable() || code == ErrorCode::NOT_CONTROLLER =>
            {
                tracing::debug!(user, "--add-scram: {message}; retrying");
            }
            Err(Some((_, message))) => {
                tracing::error!(
                    user,
                    mechanism = mechanism.mechanism_name(),
                    "--add-scram refused: {message}"
                );
                return;
            }
            Err(None) => return, // the engine stopped
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// `Ok(true)`: created; `Ok(false)`: it was there already.
async fn try_once(
    node: &Node,
    user: &str,
    spec: &ScramSpec,
) -> Result<bool, Option<(ErrorCode, String)>> {
    let (name, mechanism): (String, ScramMechanism) = (user.to_string(), spec.mechanism);
    // Only to save salting the password again on every restart: this node's image may be
    // behind, so a credential missing here is still created only if the controller lacks it.
    let exists = node
        .engine
        .call(move |state| {
            state
                .image()
                .scram_credentials()
                .get(&name, mechanism)
                .is_some()
        })
        .await
        .map_err(|_| None)?;
    if exists {
        return Ok(false);
    }
    let op = upsertion(mechanism, &spec.password, spec.iterations)
        .map_err(|e| Some((ErrorCode::UNKNOWN_SERVER_ERROR, format!("{e:#}"))))?
        .if_absent();
    let command = ControllerCommand::AlterUserScramCredentials {
        user: user.to_string(),
        ops: vec![op],
    };
    let mut outcomes = super::forward::control(node, false, vec![Ok(command)])
        .await
        .map_err(|_| None)?;
    match outcomes.pop() {
        Some(Ok(())) => Ok(true),
        Some(Err(refusal)) => Err(Some(refusal)),
        None => Err(None),
    }
}
