//! The wall clock, read here and passed into the core as a plain number.

use std::time::{SystemTime, UNIX_EPOCH};

use partita_core::Millis;

/// Milliseconds since the Unix epoch (Kafka's timestamps are the same).
pub fn now() -> Millis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Millis(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
}
