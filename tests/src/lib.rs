//! Helpers shared by the end-to-end tests: a real `partita serve` on free ports. The tests talk
//! to it with `partita_server::client::KafkaClient` and with real clients.

pub mod fuzz;
pub mod python;
pub mod server;

use std::path::PathBuf;

/// The workspace root (the tests read sources and find the built binary from it).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}
