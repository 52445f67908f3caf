//! The codec seam: the core carries no compression codecs (it is sans-IO and builds for
//! wasm32), so a shell that has them hands a [`Codecs`] to what must open compressed batches
//! (the log cleaner). [`NoCodecs`] opens nothing: compressed batches then stay as they are.

use std::fmt;

use super::Compression;
use crate::ErrorCode;

/// The largest records section one compressed batch may inflate to when the broker opens it
/// (the log cleaner; the console consumer). Kafka's producers cap an uncompressed batch near
/// `batch.size`/`message.max.bytes` (1 MB by default), so 64 MiB leaves room for any real
/// batch and refuses a decompression bomb after at most this many bytes.
pub const DECOMPRESSED_BATCH_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Why a records section could not be decompressed or compressed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// This codec set has no such codec (the wasm playground has none).
    #[error("no {0:?} codec here")]
    Unsupported(Compression),
    /// The section inflates past the bound given to [`Codecs::decompress`].
    #[error("a batch decompresses to more than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    /// The codec refused the bytes.
    #[error("corrupt {codec:?} data: {reason}")]
    Corrupt { codec: Compression, reason: String },
}

impl CodecError {
    /// What a produce of a batch that could not be opened is answered with:
    /// `UNSUPPORTED_COMPRESSION_TYPE` where this shell has no such codec (the playground),
    /// `MESSAGE_TOO_LARGE` past the decompression bound (not retriable: librdkafka fails the
    /// batch, the Java producer splits it and sends the halves), `CORRUPT_MESSAGE` for bytes
    /// the codec refuses (Kafka's answer to a corrupt compressed batch).
    pub fn code(&self) -> ErrorCode {
        match self {
            CodecError::Unsupported(_) => ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
            CodecError::TooLarge { .. } => ErrorCode::MESSAGE_TOO_LARGE,
            CodecError::Corrupt { .. } => ErrorCode::CORRUPT_MESSAGE,
        }
    }
}

/// Compression codecs, as Kafka's clients use them on a v2 batch's records section (the bytes
/// after the 61-byte header): gzip, snappy (xerial framing, or raw), lz4 (frame format) and
/// zstd. Implemented by the shell; `Compression::None` is never asked for.
pub trait Codecs: Send + Sync + fmt::Debug {
    /// Decompresses `data` into at most `max_bytes` bytes. Past that it stops and returns
    /// [`CodecError::TooLarge`]: an implementation must never allocate much beyond the bound,
    /// whatever the compressed bytes claim.
    fn decompress(
        &self,
        codec: Compression,
        data: &[u8],
        max_bytes: usize,
    ) -> Result<Vec<u8>, CodecError>;

    /// Compresses `data` with `codec` as Kafka's clients do, so every client can read it.
    fn compress(&self, codec: Compression, data: &[u8]) -> Result<Vec<u8>, CodecError>;
}

/// No codecs at all: every call is [`CodecError::Unsupported`]. The default of the log
/// cleaner, and what the wasm playground uses (its simulated clients never compress).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoCodecs;

impl Codecs for NoCodecs {
    fn decompress(&self, codec: Compression, _: &[u8], _: usize) -> Result<Vec<u8>, CodecError> {
        Err(CodecError::Unsupported(codec))
    }

    fn compress(&self, codec: Compression, _: &[u8]) -> Result<Vec<u8>, CodecError> {
        Err(CodecError::Unsupported(codec))
    }
}

/// A trivial reversible "codec" for the core's tests: the bytes reversed after a tag byte
/// naming the codec, so a batch compressed with one codec cannot be opened as another.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ReversingCodecs;

#[cfg(test)]
impl Codecs for ReversingCodecs {
    fn decompress(
        &self,
        codec: Compression,
        data: &[u8],
        max_bytes: usize,
    ) -> Result<Vec<u8>, CodecError> {
        let corrupt = |reason: &str| CodecError::Corrupt {
            codec,
            reason: reason.into(),
        };
        let (&tag, body) = data.split_first().ok_or_else(|| corrupt("empty"))?;
        if tag != codec as u8 {
            return Err(corrupt("wrong tag"));
        }
        if body.len() > max_bytes {
            return Err(CodecError::TooLarge { max_bytes });
        }
        Ok(body.iter().rev().copied().collect())
    }

    fn compress(&self, codec: Compression, data: &[u8]) -> Result<Vec<u8>, CodecError> {
        Ok(std::iter::once(codec as u8)
            .chain(data.iter().rev().copied())
            .collect())
    }
}
