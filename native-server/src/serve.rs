//! `partita serve`: binds the Kafka and HTTP listeners, runs until Ctrl-C or SIGTERM, then stops
//! accepting, lets open requests finish and exits.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::engine::{self, EngineConfig};
use crate::http;
use crate::kafka::sasl::PlainUsers;
use crate::kafka::{self, Node};
use partita_core::node::{NodeConfig, Roles};

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;

    let kafka_listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding the Kafka listener on {}", args.listen))?;
    let http_listener = TcpListener::bind(args.http)
        .await
        .with_context(|| format!("binding the HTTP listener on {}", args.http))?;
    let kafka_addr = kafka_listener.local_addr()?;
    let http_addr = http_listener.local_addr()?;

    let config = crate::config::parse(&args.config)?;
    let sasl_users = PlainUsers::parse(&args.sasl_plain_user)?;
    if !sasl_users.is_empty() {
        tracing::info!("the Kafka listener requires SASL/PLAIN (SASL_PLAINTEXT)");
    }
    // With no cluster flags: one combined node (broker, controller, group coordinator).
    let (engine, engine_thread) = engine::start(EngineConfig {
        data_dir: args.data_dir.clone(),
        node: NodeConfig {
            node_id: args.node_id,
            roles: Roles::COMBINED,
            controller_id: args.node_id,
            controller_quorum_voters: vec![args.node_id],
            metadata_snapshot_interval: partita_core::node::METADATA_SNAPSHOT_INTERVAL,
            advertised_host: kafka_addr.ip().to_string(),
            advertised_port: kafka_addr.port(),
            broker: config.broker,
            groups: config.groups,
            durable: args.durable,
            seed: u64::from(args.node_id.unsigned_abs()),
            replica_fetch: Default::default(),
        },
    })?;
    let node = Arc::new(
        Node::new(args.node_id, kafka_addr, engine, sasl_users).with_limits(config.limits),
    );
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let mut signals = StopSignals::listen()?;
    // Tests and scripts read these two lines to find the ports when started with port 0.
    println!("partita: kafka listening on {kafka_addr}");
    println!("partita: http listening on http://{http_addr}/");

    let kafka_task = tokio::spawn(kafka::accept_loop(
        kafka_listener,
        node.clone(),
        shutdown_rx.clone(),
    ));
    let http_task = tokio::spawn(http::serve(http_listener, node.clone(), shutdown_rx));

    signals.recv().await;
    tracing::info!("shutting down");
    let _ = shutdown_tx.send(true);
    kafka_task.await??;
    http_task.await??;
    // The last handle to the engine goes with the node: the engine syncs its logs and stops.
    drop(node);
    tokio::task::spawn_blocking(move || engine_thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the engine thread panicked"))?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C (SIGINT) and SIGTERM, listened for from the moment this is created: the server
/// creates it before it announces its addresses, so a signal sent right after cannot kill the
/// process without the clean shutdown.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
    }
}
