//! HTTP: the playground at `/`, the JSON API under `/api/`, Prometheus metrics at `/metrics`.
//! Optionally over TLS (`--http-tls-cert/--http-tls-key`, or `--http-tls-from-kafka`: `tls.rs`)
//! and with a bearer token required on `/api/*` and `/metrics` (`--http-token-file`:
//! `auth.rs`); the playground's page and files are always open.

mod api;
mod assets;
pub mod auth;
pub mod metrics;
mod tls;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::kafka::Node;
pub use auth::BearerToken;

/// The largest request body any route reads. Every route is a GET today and reads none; the
/// limit holds for whatever route reads one later (axum's own default is 2 MB).
pub const HTTP_BODY_MAX_BYTES: usize = 64 * 1024;

/// How the HTTP listener is protected: TLS (`None`: plain HTTP) and the token that `/api/*`
/// and `/metrics` require (`None`: open to whoever reaches the listener).
#[derive(Clone, Default)]
pub struct HttpSecurity {
    pub tls: Option<TlsAcceptor>,
    pub token: Option<BearerToken>,
}

/// The routes; `token`: required on `/api/*` and `/metrics`.
pub fn router(node: Arc<Node>, token: Option<BearerToken>) -> Router {
    let guarded = Router::new()
        .route("/api/health", get(api::health))
        .route("/api/cluster", get(api::cluster))
        .route("/api/topics", get(api::topics))
        .route("/api/groups", get(api::groups))
        .route("/metrics", get(metrics::render));
    let guarded = match token {
        Some(token) => guarded.layer(axum::middleware::from_fn_with_state(
            Arc::new(token),
            auth::require,
        )),
        None => guarded,
    };
    Router::new()
        .route("/", get(assets::index))
        .route("/pkg/{file}", get(assets::package_file))
        .route("/style.css", get(assets::style))
        .merge(guarded)
        .layer(DefaultBodyLimit::max(HTTP_BODY_MAX_BYTES))
        .with_state(node)
}

/// Serves HTTP (or HTTPS) on `listener` until `shutdown` changes, then lets open requests
/// finish.
pub async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    security: HttpSecurity,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app = router(node, security.token);
    let stop = async move {
        let _ = shutdown.changed().await;
    };
    match security.tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await?
        }
        Some(acceptor) => {
            axum::serve(tls::TlsListener::new(listener, acceptor)?, app)
                .with_graceful_shutdown(stop)
                .await?
        }
    }
    Ok(())
}
