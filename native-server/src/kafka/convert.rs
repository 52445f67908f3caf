//! Small conversions between the wire's types and the core's, shared by the API files.

use kafka_protocol::messages::TopicName;
use kafka_protocol::protocol::StrBytes;
use partita_core::controller::{MetadataImage, TopicId};
use uuid::Uuid;

pub fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

pub fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

pub fn uuid(id: TopicId) -> Uuid {
    Uuid::from_u128(id.0)
}

/// The topic a request names, by name (older versions) or by id (newer ones).
pub fn resolve_topic(image: &MetadataImage, name: &TopicName, id: Uuid) -> Option<String> {
    if !name.is_empty() {
        return Some(name.to_string());
    }
    image
        .topic_by_id(TopicId(id.as_u128()))
        .map(|t| t.name.clone())
}

/// Groups per-partition answers by topic, in order, as responses nest them: `(topic, answer)`
/// pairs in, one `make(topic, answers)` per run of the same topic out.
pub fn by_topic<P, T>(
    answers: impl IntoIterator<Item = (String, P)>,
    make: impl Fn(&str, Vec<P>) -> T,
) -> Vec<T> {
    let mut runs: Vec<(String, Vec<P>)> = Vec::new();
    for (topic, answer) in answers {
        match runs.last_mut() {
            Some((last, run)) if *last == topic => run.push(answer),
            _ => runs.push((topic, vec![answer])),
        }
    }
    runs.into_iter()
        .map(|(topic, run)| make(&topic, run))
        .collect()
}
