//! Bounds on what a peer controls at the socket level (Kafka's SocketServer configs), set with
//! `partita serve --config NAME=VALUE`. Together with the guard (`guard/`), they keep what one
//! client can make the broker hold proportional to these numbers.
//!
//! Requests on one connection are read one at a time: the next frame is read only once the
//! answer to the previous one is written (Kafka mutes a channel the same way), so a client that
//! pipelines requests without reading answers stalls on TCP backpressure and holds at most one
//! request and one response in the broker.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use kafka_protocol::messages::ApiKey;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The socket-level limits, with Kafka's names and defaults except where noted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `socket.request.max.bytes` (100 MiB): a larger frame closes the connection, checked
    /// before anything is allocated for it.
    pub socket_request_max_bytes: usize,
    /// `sasl.server.max.receive.size` (512 KiB): the largest frame before a SASL login.
    pub sasl_server_max_receive_size: usize,
    /// `connections.max.idle.ms` (10 minutes): a connection with no request for this long is
    /// closed.
    pub connections_max_idle_ms: u64,
    /// `max.connections.per.ip` (Kafka: unbounded; here the accept loop's `CONNECTIONS_MAX`
    /// bounds it anyway): more from one address are closed at once.
    pub max_connections_per_ip: usize,
    /// `queued.max.request.bytes`: bytes of requests read and not yet answered, over all
    /// connections. Kafka's default is -1 (unbounded); Partita's is 256 MiB, so a thousand
    /// clients each sending a 100 MiB frame wait for memory instead of exhausting it. A frame
    /// larger than the pool waits for the whole pool.
    pub queued_max_request_bytes: usize,
    /// `connections.max.reauth.ms` (0: off, Kafka's default): with a positive value, a SASL
    /// login lasts this long (KIP-368). SaslAuthenticate v1+ tells the client so in
    /// `session_lifetime_ms`; a client re-authenticates on the same connection before then
    /// (a new SaslHandshake and SaslAuthenticate, same mechanism and principal), and a
    /// connection whose login expired is closed at its next other request (`reauth.rs`).
    pub connections_max_reauth_ms: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            socket_request_max_bytes: 100 * 1024 * 1024,
            sasl_server_max_receive_size: 512 * 1024,
            connections_max_idle_ms: 600_000,
            max_connections_per_ip: i32::MAX as usize,
            queued_max_request_bytes: 256 * 1024 * 1024,
            connections_max_reauth_ms: 0,
        }
    }
}

/// The largest request frame of an API whose requests carry only a few names and ids, checked
/// from the frame's first four bytes before its body is read or memory is taken for it. Kafka
/// bounds every request by `socket.request.max.bytes` alone; these requests never come near
/// 1 MiB (a FindCoordinator v4 naming ten thousand 50-byte groups is 0.5 MiB), so a client
/// cannot make the broker hold 100 MiB for an ApiVersions.
pub const SMALL_REQUEST_MAX_BYTES: usize = 1024 * 1024;

/// The APIs bounded by [`SMALL_REQUEST_MAX_BYTES`].
pub const SMALL_REQUEST_APIS: [ApiKey; 11] = [
    ApiKey::ApiVersions,
    ApiKey::SaslHandshake,
    ApiKey::Heartbeat,
    ApiKey::FindCoordinator,
    ApiKey::LeaveGroup,
    ApiKey::ListGroups,
    ApiKey::InitProducerId,
    ApiKey::DescribeCluster,
    ApiKey::DescribeTransactions,
    ApiKey::ListTransactions,
    ApiKey::SaslAuthenticate,
];

impl Limits {
    /// The largest frame a logged-in client may send for a request of `api_key`, and the name
    /// of that bound for the refusal's log line: [`SMALL_REQUEST_MAX_BYTES`] for the
    /// [`SMALL_REQUEST_APIS`], else `socket.request.max.bytes`.
    pub fn request_max_bytes(&self, api_key: i16) -> (usize, &'static str) {
        let small = ApiKey::try_from(api_key).is_ok_and(|api| SMALL_REQUEST_APIS.contains(&api));
        if small && SMALL_REQUEST_MAX_BYTES < self.socket_request_max_bytes {
            (SMALL_REQUEST_MAX_BYTES, "the 1 MiB bound of small requests")
        } else {
            (self.socket_request_max_bytes, "socket.request.max.bytes")
        }
    }

    /// The config names this struct owns.
    pub const NAMES: [&'static str; 6] = [
        "socket.request.max.bytes",
        "sasl.server.max.receive.size",
        "connections.max.idle.ms",
        "max.connections.per.ip",
        "queued.max.request.bytes",
        "connections.max.reauth.ms",
    ];

    /// Sets one of [`Limits::NAMES`] from its text; `-1` for `queued.max.request.bytes` means
    /// unbounded, as in Kafka; `connections.max.reauth.ms` may be 0 (off).
    pub fn set(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        let number = || -> anyhow::Result<usize> {
            let n: usize = value
                .parse()
                .with_context(|| format!("--config {name}: {value:?} is not a number"))?;
            if n == 0 {
                bail!("--config {name}: must be at least 1");
            }
            Ok(n)
        };
        match name {
            "socket.request.max.bytes" => self.socket_request_max_bytes = number()?,
            "sasl.server.max.receive.size" => self.sasl_server_max_receive_size = number()?,
            "connections.max.idle.ms" => self.connections_max_idle_ms = number()? as u64,
            "max.connections.per.ip" => self.max_connections_per_ip = number()?,
            "queued.max.request.bytes" if value == "-1" => {
                self.queued_max_request_bytes = usize::MAX
            }
            "queued.max.request.bytes" => self.queued_max_request_bytes = number()?,
            "connections.max.reauth.ms" => {
                self.connections_max_reauth_ms = value.parse().with_context(|| {
                    format!("--config {name}: {value:?} is not a number of milliseconds (0: off)")
                })?
            }
            _ => bail!("--config {name}: not a socket server config"),
        }
        Ok(())
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.connections_max_idle_ms)
    }
}

/// The pool behind `queued.max.request.bytes`: a frame's bytes are taken before its body is
/// read and given back once it is answered.
pub struct RequestMemory {
    semaphore: Option<Arc<Semaphore>>,
    capacity: u32,
}

impl RequestMemory {
    pub fn new(bytes: usize) -> RequestMemory {
        // tokio counts permits in u32 here: pools past 4 GiB are unbounded in effect.
        match u32::try_from(bytes) {
            Ok(capacity) => RequestMemory {
                semaphore: Some(Arc::new(Semaphore::new(capacity as usize))),
                capacity,
            },
            Err(_) => RequestMemory {
                semaphore: None,
                capacity: u32::MAX,
            },
        }
    }

    /// Waits until `bytes` (at most the whole pool) are free and takes them.
    pub async fn acquire(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let semaphore = self.semaphore.clone()?;
        let wanted = u32::try_from(bytes).unwrap_or(u32::MAX).min(self.capacity);
        semaphore.acquire_many_owned(wanted).await.ok()
    }
}

/// Open connections per client address, for `max.connections.per.ip`.
#[derive(Clone, Default)]
pub struct ConnectionsPerIp(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One counted connection; dropping it gives its slot back.
pub struct IpSlot {
    counts: ConnectionsPerIp,
    ip: IpAddr,
}

impl ConnectionsPerIp {
    /// A slot for one more connection from `ip`, or `None` when it already has `max`.
    pub fn admit(&self, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut counts = self.0.lock().expect("the counts lock is never poisoned");
        let count = counts.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            counts: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .0
            .lock()
            .expect("the counts lock is never poisoned");
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_bad_values_are_refused() {
        let mut limits = Limits::default();
        for name in Limits::NAMES {
            limits.set(name, "1234").unwrap();
            if name == "connections.max.reauth.ms" {
                limits.set(name, "0").unwrap();
                assert!(limits.set(name, "-1").is_err());
                continue;
            }
            assert!(limits.set(name, "0").is_err(), "{name}");
            assert!(limits.set(name, "lots").is_err(), "{name}");
        }
        assert_eq!(limits.connections_max_idle_ms, 1234);
        limits.set("queued.max.request.bytes", "-1").unwrap();
        assert_eq!(limits.queued_max_request_bytes, usize::MAX);
    }

    #[test]
    fn small_requests_have_a_smaller_bound_than_produce() {
        let limits = Limits::default();
        let small = (SMALL_REQUEST_MAX_BYTES, "the 1 MiB bound of small requests");
        assert_eq!(limits.request_max_bytes(ApiKey::ApiVersions as i16), small);
        assert_eq!(limits.request_max_bytes(ApiKey::Heartbeat as i16), small);
        let socket = (100 * 1024 * 1024, "socket.request.max.bytes");
        assert_eq!(limits.request_max_bytes(ApiKey::Produce as i16), socket);
        assert_eq!(limits.request_max_bytes(ApiKey::SyncGroup as i16), socket);
        assert_eq!(
            limits.request_max_bytes(-7),
            socket,
            "unknown APIs: the guard refuses them"
        );
        let tight = Limits {
            socket_request_max_bytes: 1000,
            ..Limits::default()
        };
        assert_eq!(
            tight.request_max_bytes(ApiKey::ApiVersions as i16),
            (1000, "socket.request.max.bytes"),
            "never above the socket bound"
        );
    }

    #[test]
    fn a_slot_per_connection_up_to_the_max() {
        let counts = ConnectionsPerIp::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let first = counts.admit(ip, 2).unwrap();
        let _second = counts.admit(ip, 2).unwrap();
        assert!(counts.admit(ip, 2).is_none());
        assert!(counts.admit("10.0.0.2".parse().unwrap(), 2).is_some());
        drop(first);
        assert!(counts.admit(ip, 2).is_some());
    }
}
