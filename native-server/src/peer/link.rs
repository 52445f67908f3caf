//! The connection to one peer, outbound: a bounded queue the engine thread puts messages in
//! without waiting, and a task that connects (with a timeout), says hello, writes each
//! message as a frame (with a timeout), and reconnects with exponential backoff when the
//! connection fails. What is queued while the peer is unreachable is dropped, as a network
//! drops it: the node retries what matters (heartbeats, replica fetches after
//! `replica.socket.timeout.ms`, ISR changes). With peer TLS ([`super::security`]) the
//! connection is TLS: the handshake is part of connecting, and a refused certificate is a
//! failed connection like any other (logged, retried with backoff). The backoff grows until a
//! connection has stayed up [`PROVEN_AFTER`] (a peer that refuses this node closes at once),
//! and a failing link is logged once per outage, then every [`REMINDER_EVERY`] with the count
//! of attempts.

use std::time::{Duration, Instant};

use partita_core::controller::BrokerId;
use partita_core::node::PeerMessage;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use super::codec;
use super::security::PeerTls;

/// Messages waiting for one peer; beyond this the newest are dropped (and counted).
pub const QUEUE_CAPACITY: usize = 4_096;
/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long writing one frame may take before the peer counts as gone.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// The outbound side of one peer, to run as a task until `shutdown`.
pub struct Link {
    pub me: BrokerId,
    pub peer: BrokerId,
    /// HOST:PORT of the peer's listener.
    pub address: String,
    pub queue: mpsc::Receiver<PeerMessage>,
    /// TLS for the connection, if the controller listener is SSL.
    pub tls: Option<PeerTls>,
}

/// A connection to a peer: TCP, or TLS over it.
pub trait PeerIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> PeerIo for T {}

/// A link counts as working once a connection has stayed up this long: a peer that refuses
/// this node (its certificate, its hello) closes the connection at once, so reconnecting
/// must not reset the backoff; only a link that has proved itself does.
pub const PROVEN_AFTER: Duration = BACKOFF_MAX;
/// While a link keeps failing, how often a reminder is logged (with the count of attempts).
pub const REMINDER_EVERY: Duration = Duration::from_secs(30);

/// One outage of a link: the failed attempts since it last worked.
#[derive(Default)]
struct Outage {
    failures: u64,
    /// Whether a failure after the TCP connect (a refused handshake or certificate, a
    /// connection closed at once) was logged in this outage.
    warned: bool,
    last_line: Option<Instant>,
}

impl Outage {
    /// Logs a failed attempt when it is time: the first failure after a TCP connect of an
    /// outage at warn, naming the peer and the reason (a refused TLS handshake); the first
    /// TCP failure at info (peers start in any order); then a reminder every
    /// [`REMINDER_EVERY`] with the count of attempts.
    fn failed(&mut self, peer: BrokerId, address: &str, refused: bool, error: &anyhow::Error) {
        self.failures += 1;
        let now = Instant::now();
        if refused && !self.warned {
            self.warned = true;
            tracing::warn!(
                "peer {peer}: link to {address} failed: {error:#}; retrying with backoff"
            );
        } else if self.failures == 1 {
            tracing::info!("peer {peer}: cannot connect to {address}: {error:#}");
        } else if self
            .last_line
            .is_some_and(|at| now.duration_since(at) >= REMINDER_EVERY)
        {
            tracing::warn!(
                "peer {peer}: still no link to {address} after {} failed attempts; the last: {error:#}",
                self.failures
            );
        } else {
            return;
        }
        self.last_line = Some(now);
    }
}

impl Link {
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = BACKOFF_MIN;
        let mut outage = Outage::default();
        let (peer, address) = (self.peer, self.address.clone());
        loop {
            let connected = tokio::select! {
                result = self.connect() => result,
                _ = shutdown.changed() => return,
            };
            let failure = match connected {
                Ok(stream) => {
                    tracing::debug!("peer {peer}: connected to {address}");
                    let pump = self.pump(stream);
                    tokio::pin!(pump);
                    let proving = tokio::time::sleep(PROVEN_AFTER);
                    tokio::pin!(proving);
                    let mut proven = false;
                    let result = loop {
                        tokio::select! {
                            result = &mut pump => break result,
                            _ = &mut proving, if !proven => {
                                proven = true;
                                backoff = BACKOFF_MIN;
                                match std::mem::take(&mut outage).failures {
                                    0 => tracing::info!("peer {peer}: connected to {address}"),
                                    n => tracing::info!(
                                        "peer {peer}: connected to {address} after {n} failed attempts"
                                    ),
                                }
                            }
                            _ = shutdown.changed() => return,
                        }
                    };
                    match result {
                        Ok(()) => return, // the engine is gone
                        Err(e) if proven => {
                            tracing::warn!("peer {peer}: {e:#}; reconnecting");
                            continue;
                        }
                        // Closed or refused before it worked: the peer refuses this node.
                        Err(e) => (true, e),
                    }
                }
                Err(e) => e,
            };
            let (refused, e) = failure;
            outage.failed(peer, &address, refused, &e);
            let dropped = self.drop_queued();
            if dropped > 0 {
                tracing::debug!("peer {peer}: dropped {dropped} messages");
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {},
                _ = shutdown.changed() => return,
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// A connection to the peer, or why not: `(false, _)` when no TCP connection was made,
    /// `(true, _)` when the TLS handshake or the peer's certificate failed after it was.
    async fn connect(&self) -> Result<Box<dyn PeerIo>, (bool, anyhow::Error)> {
        let tcp = async {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.address))
                .await
                .map_err(|_| anyhow::anyhow!("timed out after {CONNECT_TIMEOUT:?}"))??;
            stream.set_nodelay(true)?;
            anyhow::Ok(stream)
        };
        let stream = tcp.await.map_err(|e| (false, e))?;
        let Some(tls) = &self.tls else {
            return Ok(Box::new(stream));
        };
        self.handshake(tls, stream).await.map_err(|e| (true, e))
    }

    /// The TLS handshake over `stream` and the check of the peer's certificate.
    async fn handshake(&self, tls: &PeerTls, stream: TcpStream) -> anyhow::Result<Box<dyn PeerIo>> {
        let name = crate::tls::client::server_name(&self.address)?;
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, tls.connector.connect(name, stream))
            .await
            .map_err(|_| anyhow::anyhow!("TLS handshake timed out after {CONNECT_TIMEOUT:?}"))?
            .map_err(|e| anyhow::anyhow!("TLS handshake failed: {e}"))?;
        let principal = tls.check_peer(stream.get_ref().1.peer_certificates())?;
        tracing::debug!("peer {}: TLS, its certificate is {principal}", self.peer);
        Ok(Box::new(stream))
    }

    /// Writes queued messages until the connection fails (an error) or the queue's sender,
    /// the engine, is gone (`Ok`). Frames are flushed whenever the queue runs empty. The
    /// peer never writes on this connection, so the read half only ever sees it close: that
    /// is noticed at once (a peer that died), not at the next write, which would be lost.
    async fn pump(&mut self, stream: Box<dyn PeerIo>) -> anyhow::Result<()> {
        let (mut read_half, write_half) = tokio::io::split(stream);
        let mut writer = BufWriter::with_capacity(256 * 1024, write_half);
        write(&mut writer, &codec::hello(self.me)).await?;
        flush(&mut writer).await?;
        let mut probe = [0u8; 1];
        loop {
            let message = tokio::select! {
                message = self.queue.recv() => message,
                read = read_half.read(&mut probe) => {
                    anyhow::bail!(match read {
                        Ok(0) => "the peer closed the connection".to_string(),
                        Ok(_) => "the peer wrote on an outbound connection".to_string(),
                        Err(e) => e.to_string(),
                    })
                }
            };
            let Some(message) = message else {
                return Ok(());
            };
            let frame = match codec::encode(&message) {
                Ok(frame) => frame,
                Err(e) => {
                    tracing::error!("peer {}: {e:#}; not sent", self.peer);
                    continue;
                }
            };
            write(&mut writer, &frame).await?;
            if self.queue.is_empty() {
                flush(&mut writer).await?;
            }
        }
    }

    fn drop_queued(&mut self) -> usize {
        let mut dropped = 0;
        while self.queue.try_recv().is_ok() {
            dropped += 1;
        }
        dropped
    }
}

type Writer = BufWriter<WriteHalf<Box<dyn PeerIo>>>;

async fn write(writer: &mut Writer, frame: &[u8]) -> anyhow::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(frame))
        .await
        .map_err(|_| anyhow::anyhow!("writing timed out"))??;
    Ok(())
}

async fn flush(writer: &mut Writer) -> anyhow::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, writer.flush())
        .await
        .map_err(|_| anyhow::anyhow!("writing timed out"))??;
    Ok(())
}
