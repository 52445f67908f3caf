//! Prometheus metrics, rendered at `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kafka_protocol::messages::ApiKey;
use partita_core::batch::BatchHeader;
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
    /// Connections closed because their SASL login expired (KIP-368; Kafka's
    /// `expired-connections-killed-count` of socket-server-metrics).
    pub expired_connections_killed: Counter,
    /// SASL re-authentications that succeeded (Kafka's `successful-reauthentication-total`).
    pub reauthentications: Counter,
    request_seconds: Family<ApiLabel, Histogram>,
    bytes_in: Family<TopicLabel, Counter>,
    bytes_out: Family<TopicLabel, Counter>,
    messages_in: Family<TopicLabel, Counter>,
    messages_out: Family<TopicLabel, Counter>,
    /// Refreshed from the group coordinator at every scrape.
    consumergroup_lag: Family<LagLabels, Gauge>,
    /// Refreshed from the metadata at every scrape (issue 14), under the names of Kafka's
    /// JMX exporter rules: partitions this broker leads with an ISR smaller than their
    /// replicas; partitions without a leader and whether this node is the active controller
    /// (on the controller only, as Kafka's KafkaController MBean).
    under_replicated: Gauge,
    offline: Gauge,
    active_controller: Gauge,
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
        let expired_connections_killed = Counter::default();
        partita.register(
            "expired_connections_killed",
            "Kafka connections closed because their SASL login expired (connections.max.reauth.ms)",
            expired_connections_killed.clone(),
        );
        let reauthentications = Counter::default();
        partita.register(
            "reauthentications",
            "Successful SASL re-authentications (KIP-368)",
            reauthentications.clone(),
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
        let messages_in = Family::<TopicLabel, Counter>::default();
        partita.register(
            "topic_messages_in",
            "Records produced, per topic",
            messages_in.clone(),
        );
        let messages_out = Family::<TopicLabel, Counter>::default();
        partita.register(
            "topic_messages_out",
            "Records fetched (whole batches), per topic",
            messages_out.clone(),
        );
        // kafka_exporter's name, so that dashboards built for it work unchanged.
        let consumergroup_lag = Family::<LagLabels, Gauge>::default();
        registry.register(
            "kafka_consumergroup_lag",
            "High watermark minus committed offset, per group, topic and partition",
            consumergroup_lag.clone(),
        );
        let under_replicated = Gauge::default();
        registry.register(
            "kafka_server_replicamanager_underreplicatedpartitions",
            "Partitions this broker leads whose ISR is smaller than their replicas",
            under_replicated.clone(),
        );
        let offline = Gauge::default();
        registry.register(
            "kafka_controller_kafkacontroller_offlinepartitionscount",
            "Partitions without a live leader (on the active controller)",
            offline.clone(),
        );
        let active_controller = Gauge::default();
        registry.register(
            "kafka_controller_kafkacontroller_activecontrollercount",
            "1 on the active controller, else 0",
            active_controller.clone(),
        );
        Metrics {
            registry,
            under_replicated,
            offline,
            active_controller,
            connections,
            expired_connections_killed,
            reauthentications,
            request_seconds,
            bytes_in,
            bytes_out,
            messages_in,
            messages_out,
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

    /// Counts a produce of `records` (record batches) to `topic`.
    pub fn record_produce(&self, topic: &str, records: &[u8]) {
        let label = TopicLabel {
            topic: topic.to_string(),
        };
        self.bytes_in
            .get_or_create(&label)
            .inc_by(records.len() as u64);
        self.messages_in
            .get_or_create(&label)
            .inc_by(record_count(records));
    }

    /// Counts a fetch that returned `records` (record batches) of `topic`.
    pub fn record_fetch(&self, topic: &str, records: &[u8]) {
        let label = TopicLabel {
            topic: topic.to_string(),
        };
        self.bytes_out
            .get_or_create(&label)
            .inc_by(records.len() as u64);
        self.messages_out
            .get_or_create(&label)
            .inc_by(record_count(records));
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

pub async fn render(State(node): State<Arc<Node>>) -> Response {
    let counts = node
        .engine
        .call(|state| {
            let me = state.node_id();
            let image = state.image();
            let partitions = || image.topics().flat_map(|t| t.partitions.iter());
            let under = partitions()
                .filter(|p| p.leader == me && p.isr.len() < p.replicas.len())
                .count();
            let controller = state.controller().is_some();
            let offline = partitions()
                .filter(|p| controller && !image.is_live(p.leader))
                .count();
            (under, offline, controller)
        })
        .await;
    if let Ok((under, offline, controller)) = counts {
        node.metrics.under_replicated.set(under as i64);
        node.metrics.offline.set(offline as i64);
        node.metrics.active_controller.set(i64::from(controller));
    }
    if let Ok(rows) = node.engine.call(|state| state.node.group_lag()).await {
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

/// Records in a run of record batches, from their headers (a batch that does not parse ends
/// the count: the broker refuses it anyway).
fn record_count(mut records: &[u8]) -> u64 {
    let mut count = 0;
    while let Ok(header) = BatchHeader::parse(records) {
        count += u64::try_from(header.record_count).unwrap_or(0);
        records = records.get(header.size_bytes()..).unwrap_or_default();
    }
    count
}
