//! `partita serve`: binds the Kafka and HTTP listeners, runs until Ctrl-C or SIGTERM, then stops
//! accepting, lets open requests finish and exits.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::engine::{self, EngineConfig};
use crate::http;
use crate::kafka::sasl::{PlainUsers, SaslMechanisms};
use crate::kafka::security::{ListenerSecurity, SecurityFlags, SecurityProtocol};
use crate::kafka::{self, Node};
use crate::peer::{self, ClusterSettings, PeerRouter};
use crate::tls::{ClientAuth, TlsSettings};
use partita_core::node::NodeConfig;

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    if let Some(parent) = args.parent_pid {
        crate::child::exit_with_parent(parent)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;

    let config = crate::config::parse(&args.config)?;
    let sasl_users = PlainUsers::parse(&args.sasl_plain_user)?;
    let sasl_mechanisms = SaslMechanisms::resolve(
        config.security.sasl_enabled_mechanisms.as_deref(),
        &sasl_users,
    )?;
    let add_scram = crate::kafka::scram_bootstrap::parse_all(&args.add_scram)?;
    let security = ListenerSecurity::resolve(
        &SecurityFlags {
            tls_cert: args.tls_cert.as_ref(),
            tls_key: args.tls_key.as_ref(),
            tls_client_ca: args.tls_client_ca.as_ref(),
            sasl_users: !sasl_mechanisms.is_empty(),
        },
        &config.security,
    )?;
    // Every file is read and checked now: a bad one stops the start, naming the file.
    let tls = security
        .tls
        .as_ref()
        .map(|tls| tls.acceptor())
        .transpose()?;
    let http_security = http_security(&args, &security)?;
    let listen = security.listen.unwrap_or(args.listen);
    let kafka_listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the Kafka listener on {listen}"))?;
    let http_listener = TcpListener::bind(args.http)
        .await
        .with_context(|| format!("binding the HTTP listener on {}", args.http))?;
    let kafka_addr = kafka_listener.local_addr()?;
    let http_addr = http_listener.local_addr()?;

    let cluster = ClusterSettings::resolve(&args, &config.cluster, security.controller_listen)?;
    let node_id = cluster.node_id;
    // The controller listener's TLS (its files are read now, like the Kafka listener's).
    let peer_tls = peer::security::PeerTls::resolve(
        &security.names,
        &config.security,
        security.tls.as_ref(),
        &config.authorizer,
    )?
    .filter(|_| cluster.is_cluster());
    if let Some(tls) = &peer_tls {
        tracing::info!("the controller listener and the peer links are SSL ({tls:?})");
    }
    let peer_listener = match cluster.controller_listen {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("binding the controller listener on {address}"))?,
        ),
        None => None,
    };
    let (router, links) = if cluster.is_cluster() {
        let (router, links) = PeerRouter::new(node_id, &cluster.peers(), peer_tls.as_ref());
        (Some(router), links)
    } else {
        (None, Vec::new())
    };
    let (advertised_host, advertised_port) = cluster
        .advertised
        .clone()
        .unwrap_or_else(|| (kafka_addr.ip().to_string(), kafka_addr.port()));
    if security.protocol != SecurityProtocol::Plaintext {
        tracing::info!(
            "the Kafka listener is {}{}{}",
            security.protocol.name(),
            if security.protocol.sasl() {
                format!(" ({})", sasl_mechanisms.names().join(", "))
            } else {
                String::new()
            },
            match security.tls.as_ref().map(|tls| tls.client_auth) {
                Some(ClientAuth::Required) => ", client certificates required",
                Some(ClientAuth::Requested) => ", client certificates requested",
                _ => "",
            }
        );
    }
    let acls = crate::kafka::authz::SharedAcls::default();
    if config.authorizer.enabled {
        tracing::info!(
            "ACLs are enforced (authorizer.class.name); super.users: {:?}",
            config.authorizer.super_users
        );
    }
    // With no cluster flags: one combined node (broker, controller, group coordinator).
    let (engine, engine_thread) = engine::start(EngineConfig {
        data_dir: args.data_dir.clone(),
        node: NodeConfig {
            node_id,
            roles: cluster.roles,
            controller_id: cluster.controller_id,
            // Every node listed in controller.quorum.voters is a Raft voter; none: this node
            // alone, a quorum of one.
            controller_quorum_voters: cluster.voter_ids(),
            metadata_snapshot_interval: partita_core::node::METADATA_SNAPSHOT_INTERVAL,
            advertised_host,
            advertised_port,
            broker: config.broker,
            groups: config.groups,
            durable: args.durable,
            // The controller's seed names topic ids: the same on every node of a cluster.
            seed: u64::from(cluster.controller_id.unsigned_abs()),
            replica_fetch: config.replica_fetch,
        },
        peers: router,
        acls: acls.clone(),
    })?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut peer_tasks = Vec::new();
    for link in links {
        peer_tasks.push(tokio::spawn(link.run(shutdown_rx.clone())));
    }
    if let Some(listener) = peer_listener {
        let known = cluster.voters.iter().map(|(id, _)| *id).collect();
        let address = listener.local_addr()?;
        let (engine, shutdown) = (engine.clone(), shutdown_rx.clone());
        let tls = peer_tls.clone();
        peer_tasks.push(tokio::spawn(async move {
            if let Err(e) =
                peer::inbound::accept_loop(listener, node_id, known, engine, tls, shutdown).await
            {
                tracing::error!("peer listener: {e:#}");
            }
        }));
        println!("partita: controller listening on {address}");
    }
    let node = Arc::new(
        Node::new(node_id, kafka_addr, engine, sasl_users)
            .with_sasl_mechanisms(sasl_mechanisms)
            .with_limits(config.limits)
            .with_acls(crate::kafka::authz::Acls::new(config.authorizer, acls))
            .with_ssl_principal_mapper(security.principal_mapping.clone()),
    );

    let mut signals = StopSignals::listen()?;
    // Tests and scripts read these two lines to find the ports when started with port 0.
    println!("partita: kafka listening on {kafka_addr}");
    let scheme = if http_security.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("partita: http listening on {scheme}://{http_addr}/");
    if http_security.token.is_some() {
        tracing::info!("HTTP: /api/* and /metrics require the bearer token of --http-token-file");
    } else if !http_addr.ip().is_loopback() {
        tracing::warn!(
            "HTTP on {http_addr}: /api/* and /metrics are open to whoever reaches it \
             (--http-token-file requires a token; --http 127.0.0.1:PORT keeps it local)"
        );
    }

    let kafka_task = tokio::spawn(kafka::accept_loop(
        kafka_listener,
        node.clone(),
        tls,
        shutdown_rx.clone(),
    ));
    // `--add-scram`: the first users' credentials, through the controller, if absent.
    let scram_task = tokio::spawn(crate::kafka::scram_bootstrap::run(
        node.clone(),
        add_scram,
        shutdown_rx.clone(),
    ));
    let http_task = tokio::spawn(http::serve(
        http_listener,
        node.clone(),
        http_security,
        shutdown_rx,
    ));

    signals.recv().await;
    tracing::info!("shutting down");
    let _ = shutdown_tx.send(true);
    kafka_task.await??;
    http_task.await??;
    scram_task.await?;
    for task in peer_tasks {
        task.await?;
    }
    // The last handle to the engine goes with the node: the engine syncs its logs and stops.
    drop(node);
    tokio::task::spawn_blocking(move || engine_thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the engine thread panicked"))?;
    tracing::info!("stopped");
    Ok(())
}

/// The HTTP listener's TLS and token from `--http-tls-*` and `--http-token-file`, every file
/// read and checked now (errors name the file).
fn http_security(args: &ServeArgs, kafka: &ListenerSecurity) -> anyhow::Result<http::HttpSecurity> {
    let tls = match (&args.http_tls_cert, &args.http_tls_key) {
        (Some(cert), Some(key)) => Some(
            TlsSettings {
                cert_chain: cert.clone(),
                key: key.clone(),
                client_ca: None,
                client_auth: ClientAuth::None,
            }
            .acceptor()
            .context("--http-tls-cert/--http-tls-key")?,
        ),
        _ if args.http_tls_from_kafka => {
            let Some(kafka_tls) = &kafka.tls else {
                anyhow::bail!(
                    "--http-tls-from-kafka: the Kafka listener has no certificate \
                     (--tls-cert/--tls-key or ssl.keystore.location)"
                );
            };
            Some(
                TlsSettings {
                    client_ca: None,
                    client_auth: ClientAuth::None,
                    ..kafka_tls.clone()
                }
                .acceptor()?,
            )
        }
        _ => None,
    };
    let token = args
        .http_token_file
        .as_deref()
        .map(http::BearerToken::from_file)
        .transpose()?;
    Ok(http::HttpSecurity { tls, token })
}

/// Ctrl-C (SIGINT) and SIGTERM, listened for from the moment this is created: the server
/// creates it before it announces its addresses, so a signal sent right after cannot kill the
/// process without the clean shutdown.
pub(crate) struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub(crate) fn listen() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    pub(crate) async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
    }
}
