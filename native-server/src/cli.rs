//! The command line: one binary, one subcommand per job.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// Port 0 picks a free port (printed on start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,

    /// This broker's node id, as clients see it in metadata.
    #[arg(long, default_value_t = 1)]
    pub node_id: i32,
}
