//! `partita transactions`: kafka-transactions.sh's `list`, `describe` and
//! `describe-producers` (its `TransactionsCommand`), with its headers and its table (each cell
//! padded to its column, then a tab).
//!
//! - `list` asks every broker the cluster's Metadata names (ListTransactions is answered by
//!   each broker for the transactional ids it coordinates, as Kafka's admin client's
//!   `listTransactions().allByBrokerId()` does) and prints one row per id with the broker as
//!   its coordinator. A broker that cannot be reached is named in a warning on standard
//!   error and the others are listed (kafka-transactions.sh prints each broker's failure).
//! - `describe` finds the id's coordinator (FindCoordinator, key type 1) and asks it
//!   (DescribeTransactions); NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE and
//!   COORDINATOR_LOAD_IN_PROGRESS send it to the coordinator found again, as Kafka's
//!   `DescribeTransactionsHandler` does. The duration is now minus the start, on this clock.
//! - `describe-producers` asks the partition's leader (or `--broker-id`) with
//!   DescribeProducers.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::{
    DescribeProducersRequest, DescribeTransactionsRequest, ListTransactionsRequest, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;

use super::{check, connect_bootstrap, connect_to_broker, groups, is_code, table};
use crate::cli::{LoginArgs, TransactionsArgs, TransactionsCommand};
use crate::client::{KafkaClient, connection_lost};

const LIST_TRANSACTIONS_VERSION: i16 = 1;
const DESCRIBE_TRANSACTIONS_VERSION: i16 = 0;
const DESCRIBE_PRODUCERS_VERSION: i16 = 0;
/// FindCoordinator's key type for a transactional id.
const TRANSACTION_KEY_TYPE: i8 = 1;
/// How long `describe` keeps finding the coordinator again while it moves or loads.
const COORDINATOR_RETRY_WAIT: Duration = Duration::from_secs(15);
const COORDINATOR_RETRY_BACKOFF: Duration = Duration::from_millis(200);

/// kafka-transactions.sh's `list` headers.
const LIST_HEADERS: [&str; 4] = [
    "TransactionalId",
    "Coordinator",
    "ProducerId",
    "TransactionState",
];
/// kafka-transactions.sh's `describe` headers.
const DESCRIBE_HEADERS: [&str; 9] = [
    "CoordinatorId",
    "TransactionalId",
    "ProducerId",
    "ProducerEpoch",
    "TransactionState",
    "TransactionTimeoutMs",
    "CurrentTransactionStartTimeMs",
    "TransactionDurationMs",
    "TopicPartitions",
];
/// kafka-transactions.sh's `describe-producers` headers.
const PRODUCERS_HEADERS: [&str; 6] = [
    "ProducerId",
    "ProducerEpoch",
    "LatestCoordinatorEpoch",
    "LastSequence",
    "LastTimestamp",
    "CurrentTransactionStartOffset",
];

pub fn run(args: TransactionsArgs) -> anyhow::Result<()> {
    let mut client = connect_bootstrap(&args.bootstrap_server, &args.login)?;
    // The server of the list that answered: its broker is reached over `client`.
    let bootstrap = client.addr().to_string();
    let bootstrap = bootstrap.as_str();
    let output = match action(&args)? {
        TransactionsCommand::List => {
            list(&mut client, bootstrap, &args.login, args.duration_filter)
                .context("Failed to list transactions")?
        }
        TransactionsCommand::Describe => {
            let id = args
                .transactional_id
                .as_deref()
                .context("describe needs --transactional-id")?;
            describe(&mut client, bootstrap, &args.login, id).with_context(|| {
                format!("Failed to describe transaction state of transactional-id `{id}`")
            })?
        }
        TransactionsCommand::DescribeProducers => {
            let topic = args
                .topic
                .as_deref()
                .context("describe-producers needs --topic")?;
            let partition = args
                .partition
                .context("describe-producers needs --partition")?;
            let on = args
                .broker_id
                .map_or("leader".to_string(), |id| format!("broker {id}"));
            describe_producers(
                &mut client,
                bootstrap,
                &args.login,
                topic,
                partition,
                args.broker_id,
            )
            .with_context(|| {
                format!("Failed to describe producers for partition {topic}-{partition} on {on}")
            })?
        }
    };
    print!("{output}");
    Ok(())
}

/// The one action asked for, as a subcommand or as a flag.
fn action(args: &TransactionsArgs) -> anyhow::Result<TransactionsCommand> {
    let flags = [
        (args.list, TransactionsCommand::List),
        (args.describe, TransactionsCommand::Describe),
        (
            args.describe_producers,
            TransactionsCommand::DescribeProducers,
        ),
    ];
    let mut asked: Vec<TransactionsCommand> = flags
        .iter()
        .filter(|(set, _)| *set)
        .map(|&(_, command)| command)
        .collect();
    asked.extend(args.command);
    asked.dedup();
    match asked.as_slice() {
        [one] => Ok(*one),
        [] => bail!("name an action: list, describe or describe-producers (or --list, ...)"),
        _ => bail!("name one action: list, describe or describe-producers"),
    }
}

/// `list`: ListTransactions of every broker, one row per transactional id.
fn list(
    client: &mut KafkaClient,
    bootstrap: &str,
    login: &LoginArgs,
    duration_filter: Option<i64>,
) -> anyhow::Result<String> {
    let request =
        ListTransactionsRequest::default().with_duration_filter(duration_filter.unwrap_or(-1));
    let mut rows = Vec::new();
    for (id, address) in super::brokers(client)? {
        let answer = match connect_to_broker(&address, bootstrap, login) {
            Ok(mut broker) => broker
                .as_mut()
                .unwrap_or(&mut *client)
                .call(&request, LIST_TRANSACTIONS_VERSION),
            Err(e) => Err(e),
        };
        let response = match answer {
            Ok(response) => response,
            // A broker still in the metadata but down (killed, not yet fenced): list what the
            // others answer, as kafka-transactions.sh reports a failed broker and goes on.
            Err(e) if connection_lost(&e) => {
                eprintln!(
                    "partita: warning: could not list the transactions of broker {id} ({address}): {e:#}"
                );
                continue;
            }
            Err(e) => {
                return Err(e.context(format!("listing the transactions of broker {id}")));
            }
        };
        check(
            response.error_code,
            &format!("listing the transactions of broker {id}"),
            None,
        )?;
        rows.extend(response.transaction_states.iter().map(|t| {
            vec![
                t.transactional_id.to_string(),
                id.to_string(),
                t.producer_id.0.to_string(),
                t.transaction_state.to_string(),
            ]
        }));
    }
    Ok(table::render_tabbed(&LIST_HEADERS, &rows))
}

/// `describe`: DescribeTransactions at the id's coordinator, found (again) with
/// FindCoordinator while the answer says it is elsewhere or not ready.
fn describe(
    client: &mut KafkaClient,
    bootstrap: &str,
    login: &LoginArgs,
    transactional_id: &str,
) -> anyhow::Result<String> {
    let request =
        DescribeTransactionsRequest::default().with_transactional_ids(vec![TransactionalId(
            StrBytes::from_string(transactional_id.to_string()),
        )]);
    let deadline = Instant::now() + COORDINATOR_RETRY_WAIT;
    let (coordinator_id, state) = loop {
        let (coordinator_id, address) =
            groups::find_coordinator(client, transactional_id, TRANSACTION_KEY_TYPE)?;
        let mut coordinator = connect_to_broker(&address, bootstrap, login)?;
        let response = coordinator
            .as_mut()
            .unwrap_or(&mut *client)
            .call(&request, DESCRIBE_TRANSACTIONS_VERSION)?;
        let state = response
            .transaction_states
            .into_iter()
            .next()
            .context("DescribeTransactions answered no transactional id")?;
        let answered = check(state.error_code, "DescribeTransactions", None);
        match answered {
            Err(e) if Instant::now() < deadline && coordinator_moved(&e) => {
                std::thread::sleep(COORDINATOR_RETRY_BACKOFF);
            }
            Err(e) => return Err(e),
            Ok(()) => break (coordinator_id, state),
        }
    };
    let (start, duration) = if state.transaction_start_time_ms < 0 {
        ("None".to_string(), "None".to_string())
    } else {
        let start = state.transaction_start_time_ms;
        (start.to_string(), (now_ms() - start).to_string())
    };
    let partitions: Vec<String> = state
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| format!("{}-{p}", t.topic.as_str()))
        })
        .collect();
    let row = vec![
        coordinator_id.to_string(),
        transactional_id.to_string(),
        state.producer_id.0.to_string(),
        state.producer_epoch.to_string(),
        state.transaction_state.to_string(),
        state.transaction_timeout_ms.to_string(),
        start,
        duration,
        partitions.join(","),
    ];
    Ok(table::render_tabbed(&DESCRIBE_HEADERS, &[row]))
}

/// Whether DescribeTransactions' error says to find the coordinator again.
fn coordinator_moved(error: &anyhow::Error) -> bool {
    [
        ErrorCode::NOT_COORDINATOR,
        ErrorCode::COORDINATOR_NOT_AVAILABLE,
        ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
    ]
    .into_iter()
    .any(|code| is_code(error, code))
}

/// `describe-producers`: DescribeProducers of one partition at its leader or `broker_id`.
fn describe_producers(
    client: &mut KafkaClient,
    bootstrap: &str,
    login: &LoginArgs,
    topic: &str,
    partition: i32,
    broker_id: Option<i32>,
) -> anyhow::Result<String> {
    let target = match broker_id {
        Some(id) => id,
        None => partition_leader(client, topic, partition)?,
    };
    let address = super::brokers(client)?
        .into_iter()
        .find(|(id, _)| *id == target)
        .map(|(_, address)| address)
        .with_context(|| format!("broker {target} is not in the cluster's metadata"))?;
    let mut broker = connect_to_broker(&address, bootstrap, login)?;
    let request = DescribeProducersRequest::default().with_topics(vec![
        TopicRequest::default()
            .with_name(crate::kafka::topic_name(topic))
            .with_partition_indexes(vec![partition]),
    ]);
    let response = broker
        .as_mut()
        .unwrap_or(client)
        .call(&request, DESCRIBE_PRODUCERS_VERSION)?;
    let answer = response
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter())
        .find(|p| p.partition_index == partition)
        .context("DescribeProducers answered no partition")?;
    check(
        answer.error_code,
        "DescribeProducers",
        answer.error_message.as_deref(),
    )?;
    let rows: Vec<Vec<String>> = answer
        .active_producers
        .iter()
        .map(|p| {
            let txn_start = if p.current_txn_start_offset < 0 {
                "None".to_string()
            } else {
                p.current_txn_start_offset.to_string()
            };
            vec![
                p.producer_id.0.to_string(),
                p.producer_epoch.to_string(),
                p.coordinator_epoch.max(-1).to_string(),
                p.last_sequence.to_string(),
                p.last_timestamp.to_string(),
                txn_start,
            ]
        })
        .collect();
    Ok(table::render_tabbed(&PRODUCERS_HEADERS, &rows))
}

/// The leader of `topic`'s `partition`, from Metadata.
fn partition_leader(client: &mut KafkaClient, topic: &str, partition: i32) -> anyhow::Result<i32> {
    let found = super::topic_metadata(client, topic)?
        .with_context(|| format!("topic {topic} does not exist"))?;
    let leader = found
        .partitions
        .iter()
        .find(|p| p.partition_index == partition)
        .with_context(|| format!("topic {topic} has no partition {partition}"))?
        .leader_id
        .0;
    if leader < 0 {
        bail!("{topic}-{partition} has no leader");
    }
    Ok(leader)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
