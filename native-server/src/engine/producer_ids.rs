//! A migration on start: data directories written before producer ids came from the
//! controller's metadata log kept the end of the last reserved block in
//! `__producer_ids/next-block`. Its value becomes a `ProducerIdsRecord` floor in the metadata
//! log (so no id handed out before is handed out again), then the file goes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use partita_core::Millis;
use partita_core::node::Node;

use crate::storage::FileStorageFactory;

/// Moves the node's next producer id past the old file's block end, if there is such a file;
/// returns the directory to delete once the record is durable.
pub fn migrate(
    data_dir: &Path,
    node: &mut Node<FileStorageFactory>,
    now: Millis,
) -> anyhow::Result<Option<PathBuf>> {
    let dir = data_dir.join("__producer_ids");
    let path = dir.join("next-block");
    let block_end: i64 = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("{}: not a number", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let (node_id, epoch) = (node.node_id(), node.broker_epoch().unwrap_or_default());
    node.control(now, false, |c| {
        Ok(c.producer_ids_floor(node_id, epoch, block_end))
    })
    .map_err(|(_, e)| anyhow::anyhow!("migrating {}: {e}", path.display()))?;
    tracing::info!(
        "producer ids continue after {block_end} (migrated from {})",
        path.display()
    );
    Ok(Some(dir))
}

#[cfg(test)]
mod tests {
    use super::super::state::State;

    #[test]
    fn ids_reserved_by_the_old_file_are_never_reused() {
        let dir = std::env::temp_dir().join(format!("partita-producer-ids-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("__producer_ids")).unwrap();
        std::fs::write(dir.join("__producer_ids/next-block"), "5000").unwrap();
        let config = || super::super::test_config::single_node(&dir);
        let state = State::open(config()).unwrap();
        assert_eq!(state.image().next_producer_id(), 5000);
        assert!(!dir.join("__producer_ids").exists());
        drop(state);
        let state = State::open(config()).unwrap();
        assert_eq!(state.image().next_producer_id(), 5000);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
