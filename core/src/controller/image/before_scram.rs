//! The image as snapshots held it before SCRAM credentials (KIP-554) were part of it, so that a
//! data directory (or a peer) that wrote a bincode snapshot then is still read: bincode has no
//! field names, and an image without the trailing `scram_credentials` does not decode as the
//! current one (nor the current one as this: its bytes would be left over).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{BrokerRegistration, MetadataImage, TopicImage};
use crate::controller::records::{BrokerId, TopicId};

/// [`MetadataImage`]'s fields before `scram_credentials`, in their order.
#[derive(Deserialize)]
pub struct MetadataImageBeforeScram {
    brokers: BTreeMap<BrokerId, BrokerRegistration>,
    topics: BTreeMap<String, TopicImage>,
    names_by_id: BTreeMap<TopicId, String>,
    #[serde(default)]
    broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    record_count: u64,
    #[serde(default)]
    next_producer_id: i64,
}

impl From<MetadataImageBeforeScram> for MetadataImage {
    fn from(old: MetadataImageBeforeScram) -> MetadataImage {
        MetadataImage {
            brokers: old.brokers,
            topics: old.topics,
            names_by_id: old.names_by_id,
            broker_configs: old.broker_configs,
            record_count: old.record_count,
            next_producer_id: old.next_producer_id,
            scram_credentials: Default::default(),
        }
    }
}
