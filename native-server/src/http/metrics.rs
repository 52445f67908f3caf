//! Prometheus metrics, rendered at `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kafka_protocol::messages::ApiKey;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::kafka::Node;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabel {
    api: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    topic: String,
}

/// kafka_exporter's labels for consumer lag.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LagLabels {
    group: String,
    topic: String,
    partition: i32,
}

pub struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    request_seconds: Family<ApiLabel, Histogram>,
    bytes_in: Family<TopicLabel, Counter>,
    bytes_out: Family<TopicLabel, Counter>,
    /// Refreshed from the group coordinator at every scrape.
    consumergroup_lag: Family<LagLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let partita = registry.sub_registry_with_prefix("partita");
        let connections = Gauge::default();
        partita.register(
            "connections",
            "Open Kafka protocol connections",
            connections.clone(),
        );
        let request_seconds = Family::<ApiLabel, Histogram>::new_with_constructor(|| {
            // 50 µs to about 26 s.
            Histogram::new(exponential_buckets(0.000_05, 2.0, 20))
        });
        partita.register(
            "request_seconds",
            "Time to handle a Kafka request, per API",
            request_seconds.clone(),
        );
        let bytes_in = Family::<TopicLabel, Counter>::default();
        partita.register(
            "topic_bytes_in",
            "Record batch bytes produced, per topic",
            bytes_in.clone(),
        );
        let bytes_out = Family::<TopicLabel, Counter>::default();
        partita.register(
            "topic_bytes_out",
            "Record batch bytes fetched, per topic",
            bytes_out.clone(),
        );
        // kafka_exporter's name, so that dashboards built for it work unchanged.
        let consumergroup_lag = Family::<LagLabels, Gauge>::default();
        registry.register(
            "kafka_consumergroup_lag",
            "High watermark minus committed offset, per group, topic and partition",
            consumergroup_lag.clone(),
        );
        Metrics {
            registry,
            connections,
            request_seconds,
            bytes_in,
            bytes_out,
            consumergroup_lag,
        }
    }

    pub fn observe_request(&self, api: ApiKey, elapsed: Duration) {
        self.request_seconds
            .get_or_create(&ApiLabel {
                api: format!("{api:?}"),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn record_produce(&self, topic: &str, bytes: usize) {
        self.bytes_in
            .get_or_create(&TopicLabel {
                topic: topic.to_string(),
            })
            .inc_by(bytes as u64);
    }

    pub fn record_fetch(&self, topic: &str, bytes: usize) {
        self.bytes_out
            .get_or_create(&TopicLabel {
                topic: topic.to_string(),
            })
            .inc_by(bytes as u64);
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

pub async fn render(State(node): State<Arc<Node>>) -> Response {
    if let Ok(rows) = node.engine.call(|state| state.group_lag()).await {
        node.metrics.consumergroup_lag.clear();
        for row in rows {
            if let Some(lag) = row.lag {
                let partition = row.partition;
                let labels = LagLabels {
                    group: row.group,
                    topic: partition.topic,
                    partition: partition.partition,
                };
                node.metrics
                    .consumergroup_lag
                    .get_or_create(&labels)
                    .set(lag);
            }
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        node.metrics.render(),
    )
        .into_response()
}
