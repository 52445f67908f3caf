//! Opening a batch's records section: borrowed as stored for an uncompressed batch,
//! decompressed through the shell's [`Codecs`] for a compressed one. The one place a
//! compressed batch is opened, by the log's append (Kafka's `LogValidator` pass over a
//! producer's records) and by the log cleaner.

use std::borrow::Cow;

use super::{BatchError, BatchHeader, CodecError, Codecs, Compression, HEADER_BYTES};

/// Why a batch's records section could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The batch itself is short or names an unknown codec.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// The codecs could not decompress it (none here, corrupt, or past the bound).
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// The records section of the batch at the start of `batch`, whose parsed header is `header`:
/// the bytes after the header for an uncompressed batch (no copy), or what a compressed one's
/// section decompresses to with `codecs`, at most `max_decompressed_bytes` (past it:
/// [`CodecError::TooLarge`], after at most that many bytes were produced; the codecs
/// guarantee the bound, see [`Codecs::decompress`]). Nothing about the records is checked
/// here: callers check them as they trust them ([`super::validate_client_records`] at append,
/// [`super::validate_stored_records`] in the cleaner).
pub fn open_records<'b>(
    batch: &'b [u8],
    header: &BatchHeader,
    codecs: &dyn Codecs,
    max_decompressed_bytes: usize,
) -> Result<Cow<'b, [u8]>, OpenError> {
    let section = batch
        .get(HEADER_BYTES..header.size_bytes())
        .ok_or(BatchError::Truncated {
            needed: header.size_bytes(),
            available: batch.len(),
        })?;
    let codec = header.compression()?;
    if codec == Compression::None {
        return Ok(Cow::Borrowed(section));
    }
    Ok(Cow::Owned(codecs.decompress(
        codec,
        section,
        max_decompressed_bytes,
    )?))
}
