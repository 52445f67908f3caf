//! HTTP: the playground at `/`, the JSON API under `/api/`, Prometheus metrics at `/metrics`.

mod api;
mod assets;
pub mod metrics;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::kafka::Node;

/// The largest request body any route reads. Every route is a GET today and reads none; the
/// limit holds for whatever route reads one later (axum's own default is 2 MB).
pub const HTTP_BODY_MAX_BYTES: usize = 64 * 1024;

pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/pkg/{file}", get(assets::package_file))
        .route("/style.css", get(assets::style))
        .route("/api/health", get(api::health))
        .route("/api/cluster", get(api::cluster))
        .route("/api/topics", get(api::topics))
        .route("/api/groups", get(api::groups))
        .route("/metrics", get(metrics::render))
        .layer(DefaultBodyLimit::max(HTTP_BODY_MAX_BYTES))
        .with_state(node)
}

pub async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    axum::serve(listener, router(node))
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await?;
    Ok(())
}
