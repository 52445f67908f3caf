//! The JSON API under `/api/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::kafka::Node;

pub async fn health(State(node): State<Arc<Node>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "node_id": node.node_id,
        "cluster_id": node.cluster_id,
        "kafka_listener": node.advertised.to_string(),
    }))
}
