//! The JSON API under `/api/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::kafka::Broker;

pub async fn health(State(broker): State<Arc<Broker>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "node_id": broker.node_id,
        "cluster_id": broker.cluster_id,
        "kafka_listener": broker.advertised.to_string(),
    }))
}
