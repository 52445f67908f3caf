//! The admin commands (`partita topics`, `partita groups`): Kafka clients over the wire
//! protocol, printing what `kafka-topics.sh` and `kafka-consumer-groups.sh` print.

pub mod acls;
mod bootstrap;
pub mod cluster;
pub mod command_config;
pub mod configs;
pub mod consume;
mod delete_offsets;
mod group_member;
pub mod groups;
pub mod log_dirs;
mod offsets;
pub mod produce;
pub mod quorum;
mod reset_offsets;
mod scram_users;
mod table;
pub mod topics;
pub mod transactions;

use crate::cli::LoginArgs;
use crate::client::KafkaClient;
use partita_core::ErrorCode;

use bootstrap::connect_bootstrap;
use bootstrap::servers as bootstrap_servers;

/// Connects to `addr`, over TLS if --command-config asks for it, logging in if the command
/// was given a SASL user (PLAIN or SCRAM).
fn connect(addr: &str, login: &LoginArgs) -> anyhow::Result<KafkaClient> {
    let mut client = KafkaClient::connect_tls(addr, login.tls.as_ref())?;
    if let (Some(username), Some(password)) = (&login.sasl_username, &login.sasl_password) {
        let scram = login
            .sasl_mechanism
            .as_deref()
            .and_then(partita_core::controller::ScramMechanism::from_mechanism_name);
        match scram {
            Some(mechanism) => client.login_scram(mechanism, username, password)?,
            None => client.login(username, password)?,
        }
    }
    Ok(client)
}

/// Connects to the cluster's active controller, found with a Metadata request to the first
/// server of the `bootstrap` list that answers ([`connect_bootstrap`]):
/// for the requests only the active controller runs (CreateTopics, DeleteTopics,
/// CreatePartitions, AlterConfigs, IncrementalAlterConfigs).
///
/// Any broker would do too: a broker that is not the active controller forwards these
/// requests to it (KIP-590: `kafka/forward.rs`, the core's `node/forward.rs`). The tools go straight to the controller
/// anyway, as Kafka's AdminClient did before forwarding (its `ControllerNodeProvider` sends
/// to Metadata's `controller_id` and, on NOT_CONTROLLER, refreshes the metadata and retries:
/// [`retry_not_controller`]): it saves the forwarding hop, and an election between the
/// Metadata answer and the request is still handled by that retry. DescribeConfigs is not
/// among these requests: every broker answers it from its own metadata, as Kafka's do.
fn connect_to_controller(bootstrap: &str, login: &LoginArgs) -> anyhow::Result<KafkaClient> {
    use kafka_protocol::messages::MetadataRequest;
    let mut client = connect_bootstrap(bootstrap, login)?;
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
        Some(b) if format!("{}:{}", b.host.as_str(), b.port) != client.addr() => {
            connect(&format!("{}:{}", b.host.as_str(), b.port), login)
        }
        // The bootstrap server is the controller, or the controller is not live (its
        // requests then fail with a Kafka error naming why).
        _ => Ok(client),
    }
}

const CONTROLLER_METADATA_VERSION: i16 = 12;

/// How many times a controller request is sent again after NOT_CONTROLLER (the controller
/// moved between the Metadata answer and the request: an election), and the pause before each.
const NOT_CONTROLLER_RETRIES: u32 = 10;
const NOT_CONTROLLER_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs `call` on a connection to the active controller; when it fails with NOT_CONTROLLER
/// (or NOT_LEADER_OR_FOLLOWER from the quorum),
/// finds the controller again and retries (at most [`NOT_CONTROLLER_RETRIES`] times), as
/// Kafka's AdminClient does for controller requests.
fn retry_not_controller<T>(
    bootstrap: &str,
    login: &LoginArgs,
    mut call: impl FnMut(&mut KafkaClient) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut attempt = 0;
    loop {
        let mut client = connect_to_controller(bootstrap, login)?;
        match call(&mut client) {
            Err(e) if attempt < NOT_CONTROLLER_RETRIES && not_controller(&e) => {
                attempt += 1;
                std::thread::sleep(NOT_CONTROLLER_BACKOFF);
            }
            other => return other,
        }
    }
}

/// Every broker the cluster's Metadata lists, as (node id, `host:port`), by id.
fn brokers(client: &mut KafkaClient) -> anyhow::Result<Vec<(i32, String)>> {
    use kafka_protocol::messages::MetadataRequest;
    let metadata = client.call(
        &MetadataRequest::default().with_topics(Some(Vec::new())),
        CONTROLLER_METADATA_VERSION,
    )?;
    let mut brokers: Vec<(i32, String)> = metadata
        .brokers
        .iter()
        .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
        .collect();
    brokers.sort();
    Ok(brokers)
}

/// `topic`'s Metadata, never creating it; `None` when the topic does not exist.
fn topic_metadata(
    client: &mut KafkaClient,
    topic: &str,
) -> anyhow::Result<Option<kafka_protocol::messages::metadata_response::MetadataResponseTopic>> {
    use kafka_protocol::messages::MetadataRequest;
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(crate::kafka::topic_name(topic))),
        ]))
        .with_allow_auto_topic_creation(false);
    let response = client.call(&request, CONTROLLER_METADATA_VERSION)?;
    let found = response
        .topics
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no metadata for the topic"))?;
    if found.error_code == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.code() {
        return Ok(None);
    }
    check(found.error_code, &format!("topic {topic}"), None)?;
    Ok(Some(found))
}

/// A connection to the broker at `address`, or `None` when that is `have`, the address of
/// the connection the caller has ([`KafkaClient::addr`]).
fn connect_to_broker(
    address: &str,
    have: &str,
    login: &LoginArgs,
) -> anyhow::Result<Option<KafkaClient>> {
    if address == have {
        return Ok(None);
    }
    connect(address, login).map(Some)
}

/// A Kafka error code a response carried, as an error (what [`check`] returns).
#[derive(Debug)]
struct KafkaCodeError {
    code: i16,
    text: String,
}

impl std::fmt::Display for KafkaCodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for KafkaCodeError {}

/// Whether `error` says the node asked is not the active controller (NOT_CONTROLLER, or
/// NOT_LEADER_OR_FOLLOWER for the quorum's partition).
fn not_controller(error: &anyhow::Error) -> bool {
    is_code(error, ErrorCode::NOT_CONTROLLER) || is_code(error, ErrorCode::NOT_LEADER_OR_FOLLOWER)
}

/// Whether `error` is a response's `code`.
fn is_code(error: &anyhow::Error, code: ErrorCode) -> bool {
    error
        .downcast_ref::<KafkaCodeError>()
        .is_some_and(|e| e.code == code.code())
}

/// Turns a Kafka error code in a response into an error naming it.
fn check(code: i16, what: &str, message: Option<&str>) -> anyhow::Result<()> {
    if code == 0 {
        return Ok(());
    }
    let name = ErrorCode::from_code(code).map_or("an unknown error", ErrorCode::name);
    let text = match message {
        Some(message) if !message.is_empty() => format!("{what}: {name} ({code}): {message}"),
        _ => format!("{what}: {name} ({code})"),
    };
    Err(KafkaCodeError { code, text }.into())
}
