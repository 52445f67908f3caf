//! Rate-limited logging of the peer connections the listener refuses or drops, per peer
//! address (IP): a node that keeps reconnecting with a certificate or hello this node refuses
//! must not flood the log. The first failure from an address is logged at warn, later ones
//! are counted and summarised at most every [`SUMMARY_EVERY`]; an address quiet for
//! [`QUIET_AFTER`] starts afresh.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The shortest interval between two summaries for one address.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// An address with no failed connection for this long is logged in full again.
pub const QUIET_AFTER: Duration = Duration::from_secs(60);

/// What was logged for one address.
struct Entry {
    last_failure: Instant,
    last_line: Instant,
    unlogged: u64,
}

/// The refusals log, shared by the listener's connection tasks.
#[derive(Clone, Default)]
pub struct Refusals {
    entries: Arc<Mutex<HashMap<IpAddr, Entry>>>,
}

impl Refusals {
    /// Records that the connection from `from` ended with `error`, and logs it (the first
    /// of a series, or a summary of those since the last line) when it is time.
    pub fn failed(&self, from: std::net::SocketAddr, error: &anyhow::Error) {
        let Some(line) = self.record(from.ip(), Instant::now()) else {
            return;
        };
        match line {
            0 => tracing::warn!("peer connection from {from}: {error:#}; disconnected"),
            n => tracing::warn!(
                "peer connections from {}: {n} more failed since the last line; the last: {error:#}",
                from.ip()
            ),
        }
    }

    /// `None`: say nothing; `Some(0)`: log this failure in full; `Some(n)`: log a summary of
    /// `n` failures (this one included) not logged yet.
    fn record(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| now.duration_since(e.last_failure) < QUIET_AFTER);
        let Some(entry) = entries.get_mut(&ip) else {
            entries.insert(
                ip,
                Entry {
                    last_failure: now,
                    last_line: now,
                    unlogged: 0,
                },
            );
            return Some(0);
        };
        entry.last_failure = now;
        entry.unlogged += 1;
        if now.duration_since(entry.last_line) < SUMMARY_EVERY {
            return None;
        }
        entry.last_line = now;
        Some(std::mem::take(&mut entry.unlogged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_is_logged_then_a_summary_every_ten_seconds() {
        let refusals = Refusals::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(refusals.record(ip, t0), Some(0));
        let lines = (1..=1000u64)
            .filter_map(|i| refusals.record(ip, t0 + Duration::from_millis(i * 9)))
            .collect::<Vec<_>>();
        // 9 s of failures: nothing more logged.
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(refusals.record(other, t0), Some(0), "addresses are apart");
        assert_eq!(refusals.record(ip, t0 + SUMMARY_EVERY), Some(1001));
        assert_eq!(refusals.record(ip, t0 + SUMMARY_EVERY * 2), Some(1));
        let later = t0 + SUMMARY_EVERY * 2 + QUIET_AFTER;
        assert_eq!(refusals.record(ip, later), Some(0), "quiet, then afresh");
    }
}
