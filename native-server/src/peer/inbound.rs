//! The peer listener: accepts connections from the other nodes, reads the hello (who is
//! speaking, within a timeout) and then frames, and hands each decoded message to the engine
//! in the order it came. A connection that sends anything malformed, oversized or from a node
//! not in `controller.quorum.voters` is logged and closed; nothing it sent after the last
//! good frame is acted on.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, ensure};
use partita_core::controller::BrokerId;
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::codec;
use crate::engine::EngineHandle;

/// How long a new connection may take to say who it is.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the rest of a frame may take once its length arrived.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(30);
/// A connection silent this long is closed (its sender reconnects when it has something).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Accepts peers until `shutdown`.
pub async fn accept_loop(
    listener: TcpListener,
    me: BrokerId,
    known: BTreeSet<BrokerId>,
    engine: EngineHandle,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
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
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = serve_peer(stream, me, &known, &engine) => {
                    if let Err(e) = result {
                        tracing::warn!("peer connection from {address}: {e:#}; disconnected");
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
) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let first = tokio::time::timeout(HELLO_TIMEOUT, read_frame(&mut reader))
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
        let Ok(frame) = tokio::time::timeout(IDLE_TIMEOUT, read_frame(&mut reader)).await else {
            tracing::debug!("peer {from}: idle, closing");
            return Ok(());
        };
        let Some(frame) = frame? else {
            tracing::info!("peer {from}: closed");
            return Ok(());
        };
        let message = codec::decode(&frame).with_context(|| format!("node {from}"))?;
        engine
            .call(move |state| state.on_peer(from, message))
            .await?;
    }
}

/// The next frame's bytes after its length, or `None` at a clean end of stream.
async fn read_frame(reader: &mut BufReader<TcpStream>) -> anyhow::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let length = u32::from_be_bytes(length) as usize;
    ensure!(
        (1..=codec::FRAME_MAX).contains(&length),
        "a frame of {length} bytes (at most {} accepted)",
        codec::FRAME_MAX
    );
    // Read in steps, so a length that lies costs no more memory than the bytes that came.
    let mut frame = Vec::with_capacity(length.min(1 << 20));
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
