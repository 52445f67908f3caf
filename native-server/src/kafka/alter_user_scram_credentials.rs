//! AlterUserScramCredentials (API 51, KIP-554): deletions and upsertions of users' SCRAM
//! credentials, run at the active controller (forwarded there by any other node, KIP-590) as
//! one `ControllerCommand` per user, all of that user's changes or none.
//!
//! The receiving broker first does what needs the request whole or the hash: an unknown
//! mechanism is UNSUPPORTED_SASL_MECHANISM ("Unknown SCRAM mechanism"), the same (user,
//! mechanism) twice in one request DUPLICATE_RESOURCE for that user ("A user credential cannot
//! be altered twice in the same request"; Kafka's KRaft controller refuses a user named twice
//! at all, which refuses the two mechanisms at once that kafka-configs.sh's documented example
//! sends: here a user may change both of its mechanisms in one request, as KIP-554 and the
//! ZooKeeper-era broker allowed), and the stored and server keys are derived from the salted
//! password the client sent (`scram_keys`), which goes no further. The controller checks
//! the iterations (4096..=16384, UNACCEPTABLE_CREDENTIAL) and that a deleted credential exists
//! (RESOURCE_NOT_FOUND).

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
};
use partita_core::ErrorCode;
use partita_core::controller::{ControllerCommand, ScramCredentialOp, ScramMechanism};

use super::convert::str_bytes;
use super::node::Node;
use super::scram_keys::stored_and_server_keys;
use crate::engine::Refusal;

/// Each user's changes in request order, or the refusal of the user.
type PerUser = BTreeMap<String, Result<Vec<ScramCredentialOp>, Refusal>>;

pub async fn handle(
    request: AlterUserScramCredentialsRequest,
    node: &Node,
) -> anyhow::Result<AlterUserScramCredentialsResponse> {
    let mut per_user: PerUser = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let deletions = request
        .deletions
        .into_iter()
        .map(|d| (d.name.to_string(), d.mechanism, None));
    let upsertions = request.upsertions.into_iter().map(|u| {
        let name = u.name.to_string();
        (
            name,
            u.mechanism,
            Some((u.iterations, u.salt, u.salted_password)),
        )
    });
    for (user, wire_mechanism, upsert) in deletions.chain(upsertions) {
        let entry = per_user.entry(user.clone()).or_insert(Ok(Vec::new()));
        if entry.is_err() {
            continue;
        }
        let op = match ScramMechanism::from_wire_type(wire_mechanism) {
            None => Err((
                ErrorCode::UNSUPPORTED_SASL_MECHANISM,
                "Unknown SCRAM mechanism".to_string(),
            )),
            Some(mechanism) if !seen.insert((user, mechanism)) => Err((
                ErrorCode::DUPLICATE_RESOURCE,
                "A user credential cannot be altered twice in the same request".to_string(),
            )),
            Some(mechanism) => Ok(match upsert {
                None => ScramCredentialOp::Delete { mechanism },
                Some((iterations, salt, salted_password)) => {
                    let (stored_key, server_key) =
                        stored_and_server_keys(mechanism, &salted_password);
                    ScramCredentialOp::Upsert {
                        mechanism,
                        iterations,
                        salt: salt.to_vec(),
                        stored_key,
                        server_key,
                    }
                }
            }),
        };
        match (entry, op) {
            (Ok(ops), Ok(op)) => ops.push(op),
            (entry, Err(refusal)) => *entry = Err(refusal),
            (Err(_), Ok(_)) => {}
        }
    }
    let users: Vec<String> = per_user.keys().cloned().collect();
    let commands = per_user
        .into_iter()
        .map(|(user, ops)| {
            ops.map(|ops| ControllerCommand::AlterUserScramCredentials { user, ops })
        })
        .collect();
    let outcomes = super::forward::control(node, false, commands).await?;
    let results = users
        .into_iter()
        .zip(outcomes)
        .map(|(user, outcome)| {
            let result = AlterUserScramCredentialsResult::default().with_user(str_bytes(user));
            match outcome {
                Ok(()) => result,
                Err((code, message)) => result
                    .with_error_code(code.code())
                    .with_error_message(Some(str_bytes(message))),
            }
        })
        .collect();
    Ok(AlterUserScramCredentialsResponse::default().with_results(results))
}
