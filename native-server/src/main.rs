//! `partita`: a Kafka-compatible broker on the Partita engine, with the playground built in.

mod cli;
mod http;
mod kafka;
mod serve;
#[allow(dead_code)]
// Used by the produce and fetch path, which arrives with the wire-protocol issue.
mod storage;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        cli::Command::Serve(args) => serve::run(args),
    }
}
