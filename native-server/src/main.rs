//! `partita`: a Kafka-compatible broker on the Partita engine, with the playground built in.

use clap::Parser;
use partita_server::{admin, chaos, check, cli, cluster, serve, sim};

fn main() -> std::process::ExitCode {
    let mut cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // --command-config's files are read once, before the command connects anywhere.
    if let Some(login) = cli.command.login_mut()
        && let Err(e) = login.resolve()
    {
        eprintln!("partita: error: {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::Topics(args) => admin::topics::run(args),
        cli::Command::Groups(args) => admin::groups::run(args),
        cli::Command::LogDirs(args) => admin::log_dirs::run(args),
        cli::Command::Sim(args) => sim::run(args),
        cli::Command::Produce(args) => admin::produce::run(args),
        cli::Command::Consume(args) => admin::consume::run(args),
        cli::Command::Configs(args) => admin::configs::run(args),
        cli::Command::Quorum(args) => admin::quorum::run(args),
        cli::Command::Acls(args) => admin::acls::run(args),
        cli::Command::Transactions(args) => admin::transactions::run(args),
        cli::Command::Cluster(args) => cluster::run(args),
        cli::Command::Check(args) => return check::run(args),
        cli::Command::Chaos(args) => return chaos::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("partita: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
