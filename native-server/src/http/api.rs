//! The JSON API under `/api/`: the cluster, topics with their partitions' offsets, and groups
//! with members, assignments, committed offsets and lag, in the shapes the playground shows.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use partita_core::assignor::TopicPartition;
use partita_core::assignor::consumer_protocol::Assignment;
use serde_json::{Value, json};

use crate::engine;
use crate::kafka::Node;

type ApiResult = Result<Json<Value>, (StatusCode, String)>;

fn unavailable(e: anyhow::Error) -> (StatusCode, String) {
    (StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}"))
}

pub async fn health(State(node): State<Arc<Node>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "node_id": node.node_id,
        "cluster_id": node.cluster_id,
        "kafka_listener": node.advertised.to_string(),
    }))
}

pub async fn cluster(State(node): State<Arc<Node>>) -> ApiResult {
    let cluster_id = node.cluster_id.clone();
    let view = node
        .engine
        .call(move |state| {
            let brokers: Vec<Value> = state
                .image()
                .brokers()
                .map(|b| json!({"id": b.broker_id, "host": b.host, "port": b.port, "fenced": b.fenced}))
                .collect();
            let controller_id = state
                .node
                .active_controller()
                .unwrap_or(state.node.config().controller_id);
            json!({"cluster_id": cluster_id, "node_id": state.node_id(), "controller_id": controller_id, "brokers": brokers})
        })
        .await
        .map_err(unavailable)?;
    Ok(Json(view))
}

pub async fn topics(State(node): State<Arc<Node>>) -> ApiResult {
    let view = node.engine.call(topics_view).await.map_err(unavailable)?;
    Ok(Json(view))
}

fn topics_view(state: &mut engine::State) -> Value {
    let topics: Vec<Value> = state
        .image()
        .topics()
        .map(|topic| {
            let partitions: Vec<Value> = topic
                .partitions
                .iter()
                .enumerate()
                .map(|(index, p)| {
                    let tp = TopicPartition::new(topic.name.clone(), index as i32);
                    let offsets = state.broker().partition(&tp);
                    json!({
                        "partition": index,
                        "leader": p.leader,
                        "leader_epoch": p.leader_epoch,
                        "replicas": p.replicas,
                        "isr": p.isr,
                        "log_start_offset": offsets.as_ref().map(|o| o.log_start_offset),
                        "high_watermark": offsets.as_ref().map(|o| o.high_watermark),
                        "log_end_offset": offsets.as_ref().map(|o| o.log_end_offset),
                        "size_bytes": offsets.as_ref().map(|o| o.size_bytes),
                    })
                })
                .collect();
            json!({"name": topic.name, "id": topic.id.to_string(), "configs": topic.configs, "partitions": partitions})
        })
        .collect();
    json!(topics)
}

pub async fn groups(State(node): State<Arc<Node>>) -> ApiResult {
    let view = node.engine.call(groups_view).await.map_err(unavailable)?;
    Ok(Json(view))
}

fn groups_view(state: &mut engine::State) -> Value {
    let listings = state.coordinator().list_groups(&[]);
    let lag = state.node.group_lag();
    let groups: Vec<Value> = listings
        .iter()
        .map(|listing| {
            let described = state.coordinator().describe_group(&listing.group_id);
            let members: Vec<Value> = described
                .members
                .iter()
                .map(|m| {
                    let assignment: Vec<Value> = Assignment::decode(&m.assignment)
                        .map(|a| a.partitions())
                        .unwrap_or_default()
                        .into_iter()
                        .map(|tp| json!({"topic": tp.topic, "partition": tp.partition}))
                        .collect();
                    json!({"member_id": m.member_id, "client_id": m.client_id, "host": m.client_host, "assignment": assignment})
                })
                .collect();
            let offsets: Vec<Value> = lag
                .iter()
                .filter(|row| row.group == listing.group_id)
                .map(|row| {
                    json!({
                        "topic": row.partition.topic,
                        "partition": row.partition.partition,
                        "committed_offset": row.current_offset,
                        "log_end_offset": row.log_end_offset,
                        "lag": row.lag,
                        "consumer_id": row.consumer_id,
                    })
                })
                .collect();
            json!({
                "group_id": listing.group_id,
                "state": described.state.name(),
                "protocol_type": described.protocol_type,
                "protocol": described.protocol_name,
                "members": members,
                "offsets": offsets,
            })
        })
        .collect();
    json!(groups)
}
