//! Kafka's framing: a 4-byte big-endian length, then that many bytes.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Kafka's `socket.request.max.bytes` default; the limit in force is `Limits`'.
pub const SOCKET_REQUEST_MAX_BYTES: usize = 100 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {length} bytes is larger than {limit} ({max} bytes)")]
    TooLarge {
        length: usize,
        /// The config that bounds it: `socket.request.max.bytes`, or
        /// `sasl.server.max.receive.size` before a login.
        limit: &'static str,
        max: usize,
    },
    #[error("frame length {0} is negative")]
    NegativeLength(i32),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads one frame of at most `max` bytes; `Ok(None)` when the peer closed the connection
/// between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<Bytes>, FrameError> {
    match read_length(reader, SOCKET_REQUEST_MAX_BYTES, "socket.request.max.bytes").await? {
        Some(length) => read_body(reader, length).await.map(Some),
        None => Ok(None),
    }
}

/// Reads a frame's length and checks it against `max` (named `limit` in the error), before
/// anything is allocated for the frame.
pub async fn read_length<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
    limit: &'static str,
) -> Result<Option<usize>, FrameError> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let length = i32::from_be_bytes(length);
    let length = usize::try_from(length).map_err(|_| FrameError::NegativeLength(length))?;
    if length > max {
        return Err(FrameError::TooLarge { length, limit, max });
    }
    Ok(Some(length))
}

/// Reads a frame's `length` bytes.
pub async fn read_body<R: AsyncRead + Unpin>(
    reader: &mut R,
    length: usize,
) -> Result<Bytes, FrameError> {
    read_rest(reader, &[], length).await
}

/// Reads the rest of a frame of `length` bytes whose first bytes, `start`, were read already
/// (a request's API key and version, to pick its size bound).
pub async fn read_rest<R: AsyncRead + Unpin>(
    reader: &mut R,
    start: &[u8],
    length: usize,
) -> Result<Bytes, FrameError> {
    let mut body = BytesMut::zeroed(length);
    body[..start.len()].copy_from_slice(start);
    reader.read_exact(&mut body[start.len()..]).await?;
    Ok(body.freeze())
}

/// Prefixes `body` with its length.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let length = u32::try_from(body.len()).expect("responses stay far below 4 GiB");
    let mut framed = Vec::with_capacity(4 + body.len());
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(body);
    framed
}
