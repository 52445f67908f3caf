//! The admin commands (`partita topics`, `partita groups`): Kafka clients over the wire
//! protocol, printing what `kafka-topics.sh` and `kafka-consumer-groups.sh` print.

pub mod consume;
mod group_member;
pub mod groups;
mod offsets;
pub mod produce;
mod reset_offsets;
mod table;
pub mod topics;

use anyhow::bail;
use partita_core::ErrorCode;

/// Turns a Kafka error code in a response into an error naming it.
fn check(code: i16, what: &str, message: Option<&str>) -> anyhow::Result<()> {
    if code == 0 {
        return Ok(());
    }
    let name = ErrorCode::from_code(code).map_or("an unknown error", ErrorCode::name);
    match message {
        Some(message) if !message.is_empty() => bail!("{what}: {name} ({code}): {message}"),
        _ => bail!("{what}: {name} ({code})"),
    }
}
