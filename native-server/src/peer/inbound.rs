//! The peer listener: accepts connections from the other nodes, reads the hello (who is
//! speaking, within a timeout) and then frames, and hands each decoded message to the engine
//! in the order it came. A connection that sends anything malformed, oversized or from a node
//! not in `controller.quorum.voters` is logged and closed; nothing it sent after the last
//! good frame is acted on. With peer TLS ([`super::security`]) a connection first completes a
//! TLS handshake showing a certificate of the cluster's CA (and, with the authorizer on, of a
//! super user) within [`HELLO_TIMEOUT`]; one that does not (plaintext, another CA's
//! certificate, none) is logged and closed, and the node goes on. Those lines are rate-limited
//! per peer address ([`super::refusals`]).

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, ensure};
use partita_core::controller::BrokerId;
use partita_core::node::PeerMessage;
use tokio::io::{AsyncRead, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::codec;
use super::refusals::Refusals;
use super::security::PeerTls;
use crate::engine::EngineHandle;

/// How long a new connection may take to say who it is.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the rest of a frame may take once its length arrived.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest first frame: a hello is 11 bytes (kind, magic, version, node id), so a
/// connection that has not said who it is cannot make the node hold more.
pub const HELLO_MAX: usize = 16;
/// The most memory reserved for a frame before its bytes arrive; a longer frame grows as
/// they do.
const READ_STEP: usize = 64 * 1024;
/// A connection silent this long is closed (its sender reconnects when it has something).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Accepts peers until `shutdown`.
pub async fn accept_loop(
    listener: TcpListener,
    me: BrokerId,
    known: BTreeSet<BrokerId>,
    engine: EngineHandle,
    tls: Option<PeerTls>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let refusals = Refusals::default();
    loop {
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("peer listener: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return Ok(()),
        };
        let engine = engine.clone();
        let known = known.clone();
        let tls = tls.clone();
        let mut stop = shutdown.clone();
        let refusals = refusals.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = serve_peer(stream, me, &known, &engine, tls.as_ref()) => {
                    if let Err(e) = result {
                        refusals.failed(address, &e);
                    }
                }
                _ = stop.changed() => {}
            }
        });
    }
}

async fn serve_peer(
    stream: TcpStream,
    me: BrokerId,
    known: &BTreeSet<BrokerId>,
    engine: &EngineHandle,
    tls: Option<&PeerTls>,
) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let deliver = |from, message| engine.call(move |state: &mut _| state.on_peer(from, message));
    let Some(tls) = tls else {
        let mut reader = BufReader::with_capacity(256 * 1024, stream);
        return read_peer(&mut reader, me, known, deliver).await;
    };
    let stream = tokio::time::timeout(HELLO_TIMEOUT, tls.acceptor.accept(stream))
        .await
        .map_err(|_| anyhow::anyhow!("no TLS handshake within {HELLO_TIMEOUT:?}"))?
        .map_err(|e| anyhow::anyhow!("TLS handshake failed: {e}"))?;
    let principal = tls.check_peer(stream.get_ref().1.peer_certificates())?;
    tracing::debug!("peer connection: TLS, its certificate is {principal}");
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    read_peer(&mut reader, me, known, deliver).await
}

/// The whole decode path of one inbound peer connection, from its first byte: the hello
/// (within [`HELLO_TIMEOUT`], at most [`HELLO_MAX`] bytes, from a node of `known` other than
/// `me`), then frames of at most [`codec::FRAME_MAX`] bytes, each decoded
/// ([`codec::decode`]) and handed to `deliver` with the sender's id before the next is read.
/// `Ok` at a clean end of stream or after [`IDLE_TIMEOUT`] of silence; an error (the peer's
/// garbage, or `deliver`'s) ends the connection, and nothing after the last good frame is
/// delivered. The listener runs it on a socket; the `peer` fuzz target on arbitrary bytes.
pub async fn read_peer<R, F, Fut>(
    reader: &mut R,
    me: BrokerId,
    known: &BTreeSet<BrokerId>,
    mut deliver: F,
) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin,
    F: FnMut(BrokerId, PeerMessage) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let first = tokio::time::timeout(HELLO_TIMEOUT, read_frame(reader, HELLO_MAX))
        .await
        .map_err(|_| anyhow::anyhow!("no hello within {HELLO_TIMEOUT:?}"))??
        .context("closed before its hello")?;
    let from = codec::read_hello(&first)?;
    ensure!(
        from != me && known.contains(&from),
        "node {from} is not a peer of node {me} (controller.quorum.voters)"
    );
    tracing::info!("peer {from}: connected in");
    loop {
        let Ok(frame) =
            tokio::time::timeout(IDLE_TIMEOUT, read_frame(reader, codec::FRAME_MAX)).await
        else {
            tracing::debug!("peer {from}: idle, closing");
            return Ok(());
        };
        let Some(frame) = frame? else {
            tracing::info!("peer {from}: closed");
            return Ok(());
        };
        let message = codec::decode(&frame).with_context(|| format!("node {from}"))?;
        deliver(from, message).await?;
    }
}

/// The next frame's bytes after its length (at most `max`), or `None` at a clean end of
/// stream.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> anyhow::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let length = u32::from_be_bytes(length) as usize;
    ensure!(
        (1..=max).contains(&length),
        "a frame of {length} bytes (at most {max} accepted)"
    );
    // Read in steps, so a length that lies costs no more memory than the bytes that came.
    let mut frame = Vec::with_capacity(length.min(READ_STEP));
    tokio::time::timeout(
        FRAME_TIMEOUT,
        (&mut *reader).take(length as u64).read_to_end(&mut frame),
    )
    .await
    .map_err(|_| anyhow::anyhow!("a frame took longer than {FRAME_TIMEOUT:?}"))??;
    ensure!(
        frame.len() == length,
        "closed mid-frame ({} of {length} bytes)",
        frame.len()
    );
    Ok(Some(frame))
}
