//! The admin commands (`partita topics`, `partita groups`): Kafka clients over the wire
//! protocol, printing what `kafka-topics.sh` and `kafka-consumer-groups.sh` print.

pub mod configs;
pub mod consume;
mod delete_offsets;
mod group_member;
pub mod groups;
pub mod log_dirs;
mod offsets;
pub mod produce;
mod reset_offsets;
mod table;
pub mod topics;

use anyhow::bail;

use crate::cli::LoginArgs;
use crate::client::KafkaClient;
use partita_core::ErrorCode;

/// Connects to `addr`, logging in if the command was given a SASL/PLAIN user.
fn connect(addr: &str, login: &LoginArgs) -> anyhow::Result<KafkaClient> {
    let mut client = KafkaClient::connect(addr)?;
    if let (Some(username), Some(password)) = (&login.sasl_username, &login.sasl_password) {
        client.login(username, password)?;
    }
    Ok(client)
}

/// Connects to the cluster's active controller, found with a Metadata request to `bootstrap`
/// (KIP-590 brokers forward controller requests; ours do not yet, so the admin tools go to the
/// controller as Kafka's AdminClient did before it): topic creation, deletion and configs.
fn connect_to_controller(bootstrap: &str, login: &LoginArgs) -> anyhow::Result<KafkaClient> {
    use kafka_protocol::messages::MetadataRequest;
    let mut client = connect(bootstrap, login)?;
    let metadata = client.call(
        &MetadataRequest::default()
            .with_topics(Some(Vec::new()))
            .with_allow_auto_topic_creation(false),
        CONTROLLER_METADATA_VERSION,
    )?;
    let controller = metadata
        .brokers
        .iter()
        .find(|b| b.node_id == metadata.controller_id);
    match controller {
        Some(b) if format!("{}:{}", b.host.as_str(), b.port) != bootstrap => {
            connect(&format!("{}:{}", b.host.as_str(), b.port), login)
        }
        // The bootstrap server is the controller, or the controller is not live (its
        // requests then fail with a Kafka error naming why).
        _ => Ok(client),
    }
}

const CONTROLLER_METADATA_VERSION: i16 = 12;

/// Turns a Kafka error code in a response into an error naming it.
fn check(code: i16, what: &str, message: Option<&str>) -> anyhow::Result<()> {
    if code == 0 {
        return Ok(());
    }
    let name = ErrorCode::from_code(code).map_or("an unknown error", ErrorCode::name);
    match message {
        Some(message) if !message.is_empty() => bail!("{what}: {name} ({code}): {message}"),
        _ => bail!("{what}: {name} ({code})"),
    }
}
