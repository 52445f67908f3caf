//! The producer's settings, with the client configs' names and librdkafka's defaults.

use crate::Millis;
use crate::broker::ACKS_ALL;
use crate::partitioner::Partitioner;

/// Producer settings. Names follow the client configs (`linger.ms` is `linger_ms`).
#[derive(Clone, Debug)]
pub struct ProducerConfig {
    pub client_id: String,
    /// `acks`: 0, 1 or -1 (all).
    pub acks: i16,
    /// `linger.ms`: how long a batch waits for more records before it is sent.
    pub linger_ms: Millis,
    /// `batch.size`: a batch this large is sent without waiting for `linger.ms`.
    pub batch_size_bytes: usize,
    /// `retries`: how many times a failed batch is sent again.
    pub retries: u32,
    /// `retry.backoff.ms`: the wait before a retry.
    pub retry_backoff_ms: Millis,
    /// `delivery.timeout.ms` (`message.timeout.ms` in librdkafka): a record not acknowledged
    /// this long after `send` fails.
    pub delivery_timeout_ms: Millis,
    /// `request.timeout.ms`: a request without an answer this long is failed and retried.
    pub request_timeout_ms: Millis,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: usize,
    /// `enable.idempotence`: producer id, epoch and per-partition sequence numbers, so the
    /// broker drops resends.
    pub enable_idempotence: bool,
    /// `partitioner`: librdkafka's `consistent_random` by default; keyless records sticky.
    pub partitioner: Partitioner,
}

/// The most requests in flight per broker with idempotence: the broker remembers five
/// batches per producer (`MAX_CACHED_BATCHES`), as Kafka requires.
pub const IDEMPOTENT_MAX_IN_FLIGHT: usize = 5;

impl Default for ProducerConfig {
    /// librdkafka's defaults, with the in-flight limit the Java client uses (5) and timeouts
    /// of Kafka's magnitude.
    fn default() -> Self {
        ProducerConfig {
            client_id: "producer".into(),
            acks: ACKS_ALL,
            linger_ms: Millis(5),
            batch_size_bytes: 1_000_000,
            retries: i32::MAX as u32,
            retry_backoff_ms: Millis(100),
            delivery_timeout_ms: Millis(300_000),
            request_timeout_ms: Millis(30_000),
            max_in_flight: 5,
            enable_idempotence: false,
            partitioner: Partitioner::librdkafka_default(),
        }
    }
}

impl ProducerConfig {
    /// Checks the combinations the clients refuse.
    pub fn validate(&self) -> Result<(), String> {
        if ![0, 1, ACKS_ALL].contains(&self.acks) {
            return Err(format!("acks={} is not 0, 1 or all", self.acks));
        }
        if self.max_in_flight == 0 {
            return Err("max.in.flight.requests.per.connection must be at least 1".into());
        }
        if self.enable_idempotence {
            if self.acks != ACKS_ALL {
                return Err("enable.idempotence requires acks=all".into());
            }
            if self.max_in_flight > IDEMPOTENT_MAX_IN_FLIGHT {
                return Err("enable.idempotence requires max.in.flight <= 5".into());
            }
            if self.retries == 0 {
                return Err("enable.idempotence requires retries > 0".into());
            }
        }
        Ok(())
    }
}
