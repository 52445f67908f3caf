//! DescribeUserScramCredentials (API 50, KIP-554): the mechanisms and iteration counts of users'
//! SCRAM credentials, never their keys, answered by any node from its own metadata image as
//! Kafka's brokers do (`ScramImage.describe`): no users (null or empty) lists every user with
//! a credential; a user named twice is DUPLICATE_RESOURCE, one without a credential
//! RESOURCE_NOT_FOUND, each with Kafka's message.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use partita_core::ErrorCode;

use super::convert::str_bytes;
use super::node::Node;

pub async fn handle(
    request: DescribeUserScramCredentialsRequest,
    node: &Node,
) -> anyhow::Result<DescribeUserScramCredentialsResponse> {
    // Each user asked for, and whether it was asked for twice.
    let asked: Option<BTreeMap<String, bool>> = request
        .users
        .filter(|users| !users.is_empty())
        .map(|users| {
            let mut asked = BTreeMap::new();
            for user in users {
                asked
                    .entry(user.name.to_string())
                    .and_modify(|twice| *twice = true)
                    .or_insert(false);
            }
            asked
        });
    node.engine
        .call(move |state| {
            let credentials = state.image().scram_credentials();
            let asked = asked.unwrap_or_else(|| {
                credentials
                    .users()
                    .map(|(user, _)| (user.to_string(), false))
                    .collect()
            });
            let results = asked
                .into_iter()
                .map(|(user, twice)| {
                    let result = DescribeUserScramCredentialsResult::default()
                        .with_user(str_bytes(user.clone()));
                    let infos = credentials.describe(&user);
                    if twice {
                        result
                            .with_error_code(ErrorCode::DUPLICATE_RESOURCE.code())
                            .with_error_message(Some(str_bytes(format!(
                                "Cannot describe SCRAM credentials for the same user twice in \
                                 a single request: {user}"
                            ))))
                    } else if infos.is_empty() {
                        result
                            .with_error_code(ErrorCode::RESOURCE_NOT_FOUND.code())
                            .with_error_message(Some(str_bytes(format!(
                                "Attempt to describe a user credential that does not exist: \
                                 {user}"
                            ))))
                    } else {
                        result.with_credential_infos(
                            infos
                                .into_iter()
                                .map(|(mechanism, iterations)| {
                                    CredentialInfo::default()
                                        .with_mechanism(mechanism.wire_type())
                                        .with_iterations(iterations)
                                })
                                .collect(),
                        )
                    }
                })
                .collect();
            DescribeUserScramCredentialsResponse::default().with_results(results)
        })
        .await
}
