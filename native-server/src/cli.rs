//! The command line: one binary, one subcommand per job.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "partita",
    version,
    about = "A Kafka-compatible distributed log, with a playground that simulates a whole cluster",
    long_about = "partita speaks the Kafka wire protocol, so Kafka clients (librdkafka, kcat, \
                  kafka-python, the Java client) work against it unchanged. `partita serve` also \
                  serves the playground, a JSON API and Prometheus metrics over HTTP."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a broker: Kafka protocol on --listen, playground, /api/ and /metrics on --http.
    Serve(ServeArgs),
    /// Create, list, describe and delete topics (the flags of kafka-topics.sh).
    Topics(TopicsArgs),
    /// List consumer groups and describe their offsets and lag (kafka-consumer-groups.sh).
    Groups(GroupsArgs),
    /// Describe the brokers' log directories: size and offset lag of each partition
    /// (kafka-log-dirs.sh).
    LogDirs(LogDirsArgs),
    /// Run a scenario in the deterministic simulator (the playground's engine).
    Sim(SimArgs),
    /// Produce lines of standard input as messages (kafka-console-producer).
    Produce(ProduceArgs),
    /// Print a topic's messages (kafka-console-consumer).
    Consume(ConsumeArgs),
    /// Describe and alter topic and broker configs (the flags of kafka-configs.sh).
    Configs(ConfigsArgs),
    /// Run a local cluster: N `partita serve` processes on loopback, until Ctrl-C.
    Cluster(ClusterArgs),
    /// Describe the controller quorum (kafka-metadata-quorum.sh describe).
    Quorum(QuorumArgs),
    /// Add, list and remove ACLs (the flags of kafka-acls.sh).
    Acls(AclsArgs),
    /// List transactions, describe one, describe a partition's producers
    /// (kafka-transactions.sh list, describe, describe-producers).
    Transactions(TransactionsArgs),
    /// Run the checker on a history file (JSON lines, any client): exit 0 clean, 1 anomaly,
    /// 2 bad file.
    Check(CheckArgs),
    /// Fault-test a local cluster: real processes killed and paused on a seeded schedule,
    /// judged by the checker (exit 0 clean, 1 anomaly).
    Chaos(ChaosArgs),
}

impl Command {
    /// The login and TLS flags of a command that talks to brokers as a client.
    pub fn login_mut(&mut self) -> Option<&mut LoginArgs> {
        match self {
            Command::Topics(args) => Some(&mut args.login),
            Command::Groups(args) => Some(&mut args.login),
            Command::LogDirs(args) => Some(&mut args.login),
            Command::Produce(args) => Some(&mut args.login),
            Command::Consume(args) => Some(&mut args.login),
            Command::Configs(args) => Some(&mut args.login),
            Command::Quorum(args) => Some(&mut args.login),
            Command::Acls(args) => Some(&mut args.login),
            Command::Transactions(args) => Some(&mut args.login),
            Command::Serve(_)
            | Command::Sim(_)
            | Command::Cluster(_)
            | Command::Check(_)
            | Command::Chaos(_) => None,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Directory for the logs and metadata. Created if missing.
    #[arg(long, default_value = "./partita-data")]
    pub data_dir: PathBuf,

    /// Address for the Kafka protocol. Port 0 picks a free port (printed on start).
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub listen: SocketAddr,

    /// Address for HTTP: the playground at /, the JSON API under /api/, metrics at /metrics.
    /// Port 0 picks a free port (printed on start). The default, on 127.0.0.1, is reachable
    /// from this machine only; bind another address only with --http-token-file (and TLS).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,

    /// Serve HTTPS on --http with this certificate chain (PEM, the server's certificate first).
    #[arg(long, value_name = "PEM", requires = "http_tls_key")]
    pub http_tls_cert: Option<PathBuf>,

    /// The private key of --http-tls-cert (PEM, unencrypted).
    #[arg(long, value_name = "PEM", requires = "http_tls_cert")]
    pub http_tls_key: Option<PathBuf>,

    /// Serve HTTPS on --http with the Kafka listener's certificate and key (--tls-cert and
    /// --tls-key, or ssl.keystore.location).
    #[arg(long, conflicts_with = "http_tls_cert")]
    pub http_tls_from_kafka: bool,

    /// Require `Authorization: Bearer <token>` on /api/* and /metrics, the token being this
    /// file's content (at least 16 characters; make one with `openssl rand -hex 32`). Others
    /// get 401. The playground's page stays open; its live view asks for the token. One token
    /// for the whole read-only API: it names no Kafka principal.
    #[arg(long, value_name = "FILE")]
    pub http_token_file: Option<PathBuf>,

    /// This node's id (Kafka's `node.id`), as clients see it in metadata. Default 1.
    #[arg(long)]
    pub node_id: Option<i32>,

    /// Address for the messages between nodes of a cluster (Kafka's controller listener):
    /// registration and heartbeats, metadata, replica fetches. Default: this node's entry in
    /// --controller-quorum-voters. Plaintext unless --config controller.listener.names=CONTROLLER
    /// with listener.security.protocol.map=CONTROLLER:SSL makes it mutual TLS (the node's
    /// certificate and the cluster's CA from listener.name.controller.ssl.keystore.location and
    /// listener.name.controller.ssl.truststore.location, else the Kafka listener's).
    #[arg(long, value_name = "HOST:PORT")]
    pub controller_listen: Option<SocketAddr>,

    /// The cluster's nodes as ID@HOST:PORT,... (Kafka's `controller.quorum.voters`), each at
    /// its --controller-listen address; this node must be one of them. Each is a voter of the
    /// controller quorum (Raft); brokers first ask the first. Without it: a single combined node.
    #[arg(long, value_name = "ID@HOST:PORT,...")]
    pub controller_quorum_voters: Option<String>,

    /// Sync every write to disk before acknowledging it (group commit keeps throughput up).
    /// Without it, as in Kafka, the page cache is trusted and logs are synced by
    /// log.flush.interval.messages / log.flush.interval.ms.
    #[arg(long)]
    pub durable: bool,

    /// A broker config as in server.properties, e.g. --config num.partitions=3; repeatable.
    #[arg(long, value_name = "NAME=VALUE", long_help = config_help())]
    pub config: Vec<String>,

    /// A user of SASL/PLAIN; repeatable. With any, the Kafka listener requires clients to log
    /// in (security.protocol=SASL_PLAINTEXT, sasl.mechanism=PLAIN). Passwords travel in clear
    /// text, as with Kafka's SASL_PLAINTEXT: use it on trusted networks.
    #[arg(long, value_name = "NAME:PASSWORD")]
    pub sasl_plain_user: Vec<String>,

    /// A SCRAM credential to create at start if the user has none for that mechanism, as
    /// `kafka-storage.sh format --add-scram`: 'SCRAM-SHA-256=[name=admin,password=secret]'
    /// (optionally iterations=N, 4096..16384, default 4096); repeatable. Only the salted keys
    /// are stored (the metadata log); enable the mechanism with --config
    /// sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512.
    #[arg(long, value_name = "MECHANISM=[name=USER,password=PASSWORD]")]
    pub add_scram: Vec<String>,

    /// The Kafka listener speaks TLS (security.protocol=SSL, or SASL_SSL with
    /// --sasl-plain-user) with this certificate chain (PEM, the broker's certificate first).
    /// Kafka's `--config ssl.keystore.type=PEM --config ssl.keystore.location=FILE` (one PEM
    /// with the key and the chain, KIP-651) does the same.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM, unencrypted).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates signed by these CAs (PEM): mTLS, the client's principal is
    /// `User:` and its certificate's subject (RFC 2253), as Kafka's default principal builder
    /// names it. `--config ssl.client.auth=requested` makes the certificate optional; Kafka's
    /// `ssl.truststore.location` (with ssl.truststore.type=PEM) may give the CAs instead.
    #[arg(long, value_name = "PEM")]
    pub tls_client_ca: Option<PathBuf>,

    /// End (SIGKILL, Linux's PR_SET_PDEATHSIG) when the process PID, this node's parent,
    /// exits, however it exits: how `partita cluster` and `partita chaos` start their nodes.
    #[arg(long, value_name = "PID")]
    pub parent_pid: Option<u32>,
}

/// `--config`'s long help: what is accepted, and which configs have no effect yet (from the
/// core's config tables).
fn config_help() -> String {
    use partita_core::config::{BROKER_CONFIGS, not_honoured};
    let topic: Vec<&str> = not_honoured().collect();
    let broker: Vec<&str> = BROKER_CONFIGS
        .iter()
        .filter(|row| !row.honoured)
        .map(|row| row.def.name)
        .collect();
    let mut help = format!(
        "A broker config as in server.properties, e.g. --config num.partitions=3; repeatable. \
         Every Kafka 4.x topic config and its broker-level default (log.retention.ms, \
         log.cleaner.delete.retention.ms, ...) is accepted, validated as Kafka does, stored and \
         described. These topic configs (and their broker defaults) have no effect yet: {}.",
        topic.join(", ")
    );
    if !broker.is_empty() {
        help.push_str(&format!(
            " Nor do these broker configs: {}.",
            broker.join(", ")
        ));
    }
    help
}

/// How a tool reaches the brokers: a SASL login, for a listener that requires one: PLAIN
/// (`--sasl-plain-user`) or SCRAM-SHA-256 / SCRAM-SHA-512 (a credential made with `partita
/// configs --entity-type users` or `serve --add-scram`), and TLS for an SSL or SASL_SSL
/// listener, both from Kafka's client properties (`--command-config`, resolved into
/// [`LoginArgs::tls`] by [`LoginArgs::resolve`]).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LoginArgs {
    /// Log in with SASL/PLAIN as this user (a SASL_PLAINTEXT listener requires it; over TLS,
    /// give --command-config with security.protocol=SASL_SSL).
    #[arg(long, requires = "sasl_password")]
    pub sasl_username: Option<String>,
    /// The password for --sasl-username.
    #[arg(long, requires = "sasl_username")]
    pub sasl_password: Option<String>,
    /// Kafka's `sasl.mechanism`: PLAIN (the default), SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(long, requires = "sasl_username", value_parser = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])]
    pub sasl_mechanism: Option<String>,
    /// Kafka client properties, as the Kafka tools' --command-config: security.protocol
    /// (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), sasl.mechanism and sasl.jaas.config (username
    /// and password), ssl.truststore.type=PEM with ssl.truststore.location or
    /// ssl.truststore.certificates, ssl.keystore.type=PEM with ssl.keystore.location (or
    /// ssl.keystore.certificate.chain and ssl.keystore.key) for a client certificate, and
    /// ssl.endpoint.identification.algorithm (empty: the broker's certificate need not name
    /// its host). kafka-console-producer.sh's --producer.config and kafka-console-consumer.sh's
    /// --consumer.config are other names for it.
    #[arg(long, value_name = "FILE", aliases = ["producer.config", "consumer.config"], conflicts_with = "sasl_username")]
    pub command_config: Option<PathBuf>,
    /// TLS to the brokers, from --command-config (`None`: plaintext).
    #[arg(skip)]
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl LoginArgs {
    /// Reads --command-config, if given, into the login and the TLS config (every file it
    /// names is read now; an error names the file or the property at fault).
    pub fn resolve(&mut self) -> anyhow::Result<()> {
        if let Some(path) = &self.command_config {
            let properties = crate::admin::command_config::read(path)?;
            self.sasl_username = properties.sasl_username;
            self.sasl_password = properties.sasl_password;
            self.sasl_mechanism = properties.sasl_mechanism;
            self.tls = properties
                .tls
                .map(|tls| tls.config())
                .transpose()
                .with_context(|| format!("--command-config {}", path.display()))?;
        }
        Ok(())
    }
}

/// `partita topics`: the flags of `kafka-topics.sh`.
#[derive(clap::Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["create", "list", "describe", "delete"])))]
pub struct TopicsArgs {
    /// The broker to talk to.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    /// Create a topic (with --topic, --partitions, --replication-factor, --config).
    #[arg(long)]
    pub create: bool,
    /// List the topics' names.
    #[arg(long)]
    pub list: bool,
    /// Describe partitions, leaders, replicas and ISR (of --topic, or of every topic).
    #[arg(long)]
    pub describe: bool,
    /// Delete --topic.
    #[arg(long)]
    pub delete: bool,
    #[arg(long)]
    pub topic: Option<String>,
    /// Partition count for --create (default: the broker's num.partitions).
    #[arg(long)]
    pub partitions: Option<i32>,
    /// Replication factor for --create (default: the broker's default.replication.factor).
    #[arg(long)]
    pub replication_factor: Option<i16>,
    /// A topic config for --create, as name=value; repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub config: Vec<String>,
    /// With --describe: only partitions whose ISR is smaller than their replicas.
    #[arg(long, requires = "describe")]
    pub under_replicated_partitions: bool,
    /// With --describe: only partitions without a live leader.
    #[arg(long, requires = "describe")]
    pub unavailable_partitions: bool,
}

/// `partita groups`: the flags of `kafka-consumer-groups.sh`.
#[derive(clap::Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["list", "describe", "delete", "reset_offsets", "delete_offsets"])))]
pub struct GroupsArgs {
    /// The broker to talk to.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    /// List the groups' ids.
    #[arg(long)]
    pub list: bool,
    /// Describe --group: committed offsets, log end offsets, lag and members per partition.
    #[arg(long, requires = "group")]
    pub describe: bool,
    /// Delete --group (it must have no members) and its committed offsets.
    #[arg(long, requires = "group")]
    pub delete: bool,
    #[arg(long)]
    pub group: Option<String>,
    /// Reset --group's committed offsets of --topic (the group must have no members). Prints
    /// the plan; --execute commits it.
    #[arg(long, requires_all = ["group", "topic"])]
    pub reset_offsets: bool,
    /// Delete --group's committed offsets of --topic (OffsetDelete, KIP-496): refused for
    /// topics a member of the group is subscribed to. Exits 1 if any partition failed.
    #[arg(long, requires_all = ["group", "topic"])]
    pub delete_offsets: bool,
    /// With --reset-offsets or --delete-offsets: the topic, or TOPIC:P,Q for some of its
    /// partitions.
    #[arg(long)]
    pub topic: Option<String>,
    /// Reset to the log start of each partition.
    #[arg(long, group = "reset_to")]
    pub to_earliest: bool,
    /// Reset to the log end of each partition.
    #[arg(long, group = "reset_to")]
    pub to_latest: bool,
    /// Reset to this offset (within the log start and end).
    #[arg(long, group = "reset_to", value_name = "OFFSET")]
    pub to_offset: Option<i64>,
    /// Move each committed offset by this much (negative: back), within the log start and end.
    #[arg(
        long,
        group = "reset_to",
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub shift_by: Option<i64>,
    /// Commit the reset (without it, --reset-offsets only prints the plan: a dry run).
    #[arg(long, requires = "reset_offsets")]
    pub execute: bool,
}

/// `partita log-dirs`: the flags of `kafka-log-dirs.sh`.
#[derive(clap::Args, Debug, Clone)]
pub struct LogDirsArgs {
    /// The broker to talk to.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    /// Describe the log directories (the only action, required as by kafka-log-dirs.sh).
    #[arg(long, required = true)]
    pub describe: bool,
    /// Only partitions of these topics, comma-separated (default: all).
    #[arg(long, value_name = "TOPIC,...")]
    pub topic_list: Option<String>,
    /// Only these brokers, comma-separated ids (default: all).
    #[arg(long, value_name = "ID,...")]
    pub broker_list: Option<String>,
}

/// `partita quorum --describe --status|--replication`: kafka-metadata-quorum.sh's describe.
#[derive(clap::Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["status", "replication"])))]
pub struct QuorumArgs {
    /// A broker of the cluster; the request goes to the active controller it names.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    /// Describe the quorum (the only action, required).
    #[arg(long, required = true)]
    pub describe: bool,
    /// A summary: leader, epoch, high watermark, the largest follower lag, the voters.
    #[arg(long)]
    pub status: bool,
    /// One row per voter: log end offset, lag, fetch times, leader or follower.
    #[arg(long)]
    pub replication: bool,
}

/// `partita transactions`: kafka-transactions.sh's `list`, `describe` and
/// `describe-producers`, written as its subcommands (`partita transactions --bootstrap-server
/// B describe --transactional-id T`) or as flags (`--describe --transactional-id T`).
#[derive(clap::Args, Debug, Clone)]
pub struct TransactionsArgs {
    /// A broker of the cluster.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(subcommand)]
    pub command: Option<TransactionsCommand>,
    /// The same as the `list` subcommand.
    #[arg(long, conflicts_with_all = ["describe", "describe_producers"])]
    pub list: bool,
    /// The same as the `describe` subcommand.
    #[arg(long, conflicts_with = "describe_producers")]
    pub describe: bool,
    /// The same as the `describe-producers` subcommand.
    #[arg(long)]
    pub describe_producers: bool,
    /// describe: the transactional id.
    #[arg(long, global = true)]
    pub transactional_id: Option<String>,
    /// describe-producers: the topic.
    #[arg(long, global = true)]
    pub topic: Option<String>,
    /// describe-producers: the partition.
    #[arg(long, global = true)]
    pub partition: Option<i32>,
    /// describe-producers: ask this replica instead of the partition's leader.
    #[arg(long, global = true)]
    pub broker_id: Option<i32>,
    /// list: only transactions open longer than this many ms (ListTransactions v1, KIP-994).
    #[arg(long, global = true, value_name = "MS")]
    pub duration_filter: Option<i64>,
}

/// kafka-transactions.sh's subcommands that `partita transactions` has.
#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionsCommand {
    /// List the transactions every broker coordinates: TransactionalId, Coordinator,
    /// ProducerId, TransactionState.
    List,
    /// Describe --transactional-id at its coordinator.
    Describe,
    /// Describe the producers of --topic --partition at its leader (or --broker-id).
    DescribeProducers,
}

/// `partita sim`: runs a named scenario in the deterministic simulator.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// The scenario: one of the names `partita sim --list` prints.
    #[arg(long, required_unless_present = "list")]
    pub scenario: Option<String>,
    /// One run with this seed (same seed, same run, byte for byte).
    #[arg(long, conflicts_with = "seeds")]
    pub seed: Option<u64>,
    /// A sweep over seeds A..B (B excluded): a summary per anomaly kind, and the command that
    /// replays each failing seed.
    #[arg(long, value_name = "A..B", value_parser = parse_seed_range)]
    pub seeds: Option<std::ops::Range<u64>>,
    /// Print one JSON object (with --seed) or one per seed and the summary (with --seeds).
    #[arg(long)]
    pub json: bool,
    /// Print the whole trace, one event per line (with --seed).
    #[arg(long)]
    pub trace: bool,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,
}

fn parse_seed_range(text: &str) -> Result<std::ops::Range<u64>, String> {
    let (a, b) = text.split_once("..").ok_or("expected A..B, e.g. 0..200")?;
    let a: u64 = a.parse().map_err(|_| format!("{a:?} is not a seed"))?;
    let b: u64 = b.parse().map_err(|_| format!("{b:?} is not a seed"))?;
    if a >= b {
        return Err(format!("{text} is empty"));
    }
    Ok(a..b)
}

/// `partita produce`: one message per line of standard input (kafka-console-producer).
#[derive(clap::Args, Debug, Clone)]
pub struct ProduceArgs {
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    #[arg(long)]
    pub topic: String,
    /// Split each line into key and value at the first occurrence of this separator
    /// (like `--property parse.key=true --property key.separator=...`).
    #[arg(long, value_name = "SEPARATOR")]
    pub key_separator: Option<String>,
    /// 0, 1 or all.
    #[arg(long, default_value = "all")]
    pub acks: String,
}

/// `partita consume`: prints the topic's messages, one per line (kafka-console-consumer).
#[derive(clap::Args, Debug, Clone)]
pub struct ConsumeArgs {
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    #[arg(long)]
    pub topic: String,
    /// Start at the log start of each partition instead of its end.
    #[arg(long)]
    pub from_beginning: bool,
    /// Only this partition.
    #[arg(long, conflicts_with = "group")]
    pub partition: Option<i32>,
    /// Consume as a member of this consumer group: the partitions the group assigns, from its
    /// committed offsets (or as --from-beginning says where it has none), committing what was
    /// printed.
    #[arg(long)]
    pub group: Option<String>,
    /// Stop after this many messages.
    #[arg(long)]
    pub max_messages: Option<u64>,
    /// Stop when no message arrived for this long.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Print `key<TAB>value` instead of the value alone.
    #[arg(long)]
    pub print_key: bool,
}

/// `partita configs`: the flags of `kafka-configs.sh`.
#[derive(clap::Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["describe", "alter"])))]
pub struct ConfigsArgs {
    /// The broker to talk to.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    /// topics, brokers, or users (SCRAM credentials).
    #[arg(long, value_parser = ["topics", "brokers", "users"])]
    pub entity_type: String,
    /// The topic's name, the broker's id or the user's name (without it, --describe lists
    /// every one).
    #[arg(long, conflicts_with = "entity_default")]
    pub entity_name: Option<String>,
    /// The cluster-wide default of every broker (with --entity-type brokers).
    #[arg(long)]
    pub entity_default: bool,
    /// List the configs set on the entity (with --all, every config).
    #[arg(long)]
    pub describe: bool,
    /// With --describe: every config, not only those set on the entity.
    #[arg(long, requires = "describe")]
    pub all: bool,
    /// Set --add-config and remove --delete-config.
    #[arg(long)]
    pub alter: bool,
    /// Configs to set, as k1=v1,k2=[v2,v3] (brackets keep a list's commas together).
    #[arg(long, requires = "alter", value_name = "K=V,...")]
    pub add_config: Option<String>,
    /// Configs to remove (back to their defaults), comma-separated; repeatable.
    #[arg(long, requires = "alter", value_delimiter = ',', value_name = "K,...")]
    pub delete_config: Vec<String>,
}

/// `partita acls`: the flags of `kafka-acls.sh`.
#[derive(clap::Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["add", "remove", "list"])))]
pub struct AclsArgs {
    /// The broker to talk to.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    #[command(flatten)]
    pub login: LoginArgs,
    /// Add the ACLs the other flags describe.
    #[arg(long)]
    pub add: bool,
    /// Remove the ACLs the other flags select (all of a resource's without a principal).
    #[arg(long)]
    pub remove: bool,
    /// List the ACLs of the resources given (every ACL without one).
    #[arg(long)]
    pub list: bool,
    /// With --remove: do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
    /// A principal allowed, as Type:name (User:alice, User:*); repeatable.
    #[arg(long, value_name = "PRINCIPAL")]
    pub allow_principal: Vec<String>,
    /// A principal denied; repeatable.
    #[arg(long, value_name = "PRINCIPAL")]
    pub deny_principal: Vec<String>,
    /// A host (IP address) the allow ACLs apply to; repeatable (default: *).
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// A host the deny ACLs apply to; repeatable (default: *).
    #[arg(long, value_name = "HOST")]
    pub deny_host: Vec<String>,
    /// An operation (Read, Write, Create, Delete, Alter, Describe, ClusterAction,
    /// DescribeConfigs, AlterConfigs, IdempotentWrite, All); repeatable (default: All).
    #[arg(long, value_name = "OPERATION")]
    pub operation: Vec<String>,
    /// A topic (repeatable; `*` for every topic).
    #[arg(long, value_name = "TOPIC")]
    pub topic: Vec<String>,
    /// A consumer group (repeatable; `*` for every group).
    #[arg(long, value_name = "GROUP")]
    pub group: Vec<String>,
    /// The cluster resource.
    #[arg(long)]
    pub cluster: bool,
    /// A transactional id (repeatable; `*` for every one).
    #[arg(long, value_name = "ID")]
    pub transactional_id: Vec<String>,
    /// literal or prefixed (--add); also any or match (--list, --remove).
    #[arg(long, default_value = "literal", value_parser = ["literal", "prefixed", "any", "match"])]
    pub resource_pattern_type: String,
    /// With --list: only this principal's ACLs; repeatable.
    #[arg(long, value_name = "PRINCIPAL")]
    pub principal: Vec<String>,
    /// The ACLs a producer needs: Write, Describe and Create on the topics, Write and
    /// Describe on the transactional ids (kafka-acls.sh's convenience option).
    #[arg(long)]
    pub producer: bool,
    /// With --producer: IdempotentWrite on the cluster too.
    #[arg(long)]
    pub idempotent: bool,
    /// The ACLs a consumer needs: Read and Describe on the topics, Read on the groups.
    #[arg(long)]
    pub consumer: bool,
}

/// `partita cluster`: a local cluster of `partita serve` children, for trying things out.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// How many nodes (node ids 1..=N; node 1 is the active controller).
    #[arg(long, default_value_t = 3)]
    pub nodes: u32,
    /// Each node keeps its data in DIR/node-ID.
    #[arg(long, default_value = "./partita-cluster")]
    pub data_dir: PathBuf,
    /// Node 1's Kafka port; node N's is this plus N-1.
    #[arg(long, default_value_t = 9092)]
    pub kafka_port: u16,
    /// Node 1's HTTP port; node N's is this plus N-1.
    #[arg(long, default_value_t = 8080)]
    pub http_port: u16,
    /// Node 1's controller (peer) port; node N's is this plus N-1.
    #[arg(long, default_value_t = 9192)]
    pub controller_port: u16,
    /// Free ports picked at start instead of the ones above (printed).
    #[arg(long)]
    pub any_ports: bool,
    /// A broker config for every node, as for `partita serve`; repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub config: Vec<String>,
}

/// `partita check FILE`: the checker on a recorded history (format: ARCHITECTURE.md, "History
/// files").
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// The history, JSON lines (`-` reads standard input).
    pub file: PathBuf,
    /// Print one JSON object: acknowledged, anomalies (kind and records), counts by kind.
    #[arg(long)]
    pub json: bool,
}

/// `partita chaos`: a Jepsen-style run against a real local cluster.
///
/// Faults: `kill` (SIGKILL a node, restart it after a while), `pause` (SIGSTOP, SIGCONT after
/// longer than replica.lag.time.max.ms), `cascade`, `partition` (network namespaces, root
/// only) and `clock` (a node's wall clock skewed through libfaketime).
#[derive(clap::Args, Debug, Clone)]
pub struct ChaosArgs {
    /// How many nodes (every one a controller voter and a broker).
    #[arg(long, default_value_t = 3)]
    pub nodes: u32,
    /// Partitions of the test topic.
    #[arg(long, default_value_t = 3)]
    pub topic_partitions: i32,
    #[arg(long, default_value_t = 3)]
    pub replication_factor: i16,
    /// The topic's min.insync.replicas.
    #[arg(long, default_value_t = 2)]
    pub min_insync_replicas: i16,
    /// The producer's acks: 0, 1 or all.
    #[arg(long, default_value = "all", value_parser = ["0", "1", "all", "-1"])]
    pub acks: String,
    /// enable.idempotence on the producer.
    #[arg(long)]
    pub idempotence: bool,
    /// With --idempotence: keep librdkafka's five requests in flight per connection (the
    /// recorder's --pipeline). Without it the recorder keeps one, because librdkafka's epoch
    /// bump after OUT_OF_ORDER_SEQUENCE_NUMBER can write a pipelined batch twice (librdkafka
    /// issue 4953), which would hide the broker's own duplicates.
    #[arg(long, requires = "idempotence")]
    pub pipeline: bool,
    /// Fault kinds, comma-separated: kill, pause, cascade (followers killed, then the lone
    /// leader), partition (= isolate and split; root only, network namespaces), clock (the
    /// node's wall clock skewed and stepped back; needs libfaketime).
    #[arg(long, value_delimiter = ',', default_value = "kill,pause")]
    pub faults: Vec<String>,
    /// What faults hit: any node, the leader of a partition of the test topic, or the active
    /// controller (asked of Metadata when each fault starts).
    #[arg(long, value_enum, default_value = "any")]
    pub target: crate::chaos::schedule::Aim,
    /// Producer processes' threads, each its own confluent-kafka producer.
    #[arg(long, default_value_t = 1)]
    pub producers: u32,
    /// Sends per second over all producers; 0 sends as fast as the producers can (librdkafka
    /// keeps many in flight).
    #[arg(long, default_value_t = 200)]
    pub rate: u32,
    /// A config of the test topic, e.g. unclean.leader.election.enable=true; repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub topic_config: Vec<String>,
    /// How long the producer and the faults run, in seconds (healing and the final read come
    /// after).
    #[arg(long, default_value_t = 30)]
    pub duration_s: u64,
    /// Seeds the fault schedule (which node, when, how long).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object: the fields of `partita sim --json` plus the fault schedule.
    #[arg(long)]
    pub json: bool,
    /// Nodes keep their data in DIR/node-ID; the history is DIR/history.jsonl. A fresh
    /// temporary directory when not given.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The Python with confluent-kafka that runs the recording client.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
    /// A recording client to run instead of the built-in scripts/history_recorder.py (it gets
    /// the same arguments and must write the same history format).
    #[arg(long, value_name = "PATH")]
    pub recorder: Option<PathBuf>,
    /// A broker config for every node, as for `partita serve`; repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub config: Vec<String>,
}
