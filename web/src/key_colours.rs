//! A colour for each record key, so a key's records are easy to follow across replicas and
//! partitions. Keys get colours in the order the page first shows them, so the first dozen keys
//! all differ (a hash of the key would give two of twelve keys the same colour more often than
//! not); a key keeps its colour for as long as the scenario is loaded.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// Twelve hues far enough apart to tell side by side on the dark background.
const COLOURS: [&str; 12] = [
    "#4fb3ff", "#3fb950", "#f0883e", "#f778ba", "#a371f7", "#56d4dd", "#ff5a5a", "#e3d341",
    "#9c755f", "#c9e265", "#1f6feb", "#ffffff",
];
/// Records without a key.
pub const NO_KEY: &str = "#8b949e";

#[derive(Debug, Default)]
pub struct KeyColours {
    assigned: RefCell<BTreeMap<String, usize>>,
}

impl KeyColours {
    /// The colour of `key`, given it now if it has none yet.
    pub fn colour(&self, key: Option<&str>) -> &'static str {
        let Some(key) = key else {
            return NO_KEY;
        };
        let mut assigned = self.assigned.borrow_mut();
        let next = assigned.len();
        let index = *assigned.entry(key.to_string()).or_insert(next);
        COLOURS[index % COLOURS.len()]
    }
}
