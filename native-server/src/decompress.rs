//! Bounded decompression of a record batch's records section, for the one place the shell must
//! decompress: the console consumer (`partita consume`) printing what a broker sent. The broker
//! itself never decompresses (it stores the producer's bytes; LogAppendTime re-stamps only the
//! header), so a compressed bomb costs it no more than its compressed size.
//!
//! Each codec is driven as a stream and stopped once the output passes the bound, so a batch
//! that inflates past it is refused after at most `max` bytes were produced; snappy's sizes
//! (raw and per xerial chunk) are checked before anything is allocated for them.

use std::io::Read;

use anyhow::{Context, bail};
use partita_core::batch::Compression;

/// The largest records section `partita consume` inflates one batch to. Kafka's producers cap
/// a batch at `batch.size`/`message.max.bytes` (1 MiB by default) before compression; 64 MiB
/// leaves room for any real batch and refuses a bomb.
pub const DECOMPRESSED_BATCH_MAX_BYTES: usize = 64 * 1024 * 1024;

/// xerial's snappy framing (snappy-java's SnappyOutputStream), which Kafka's clients write: a
/// 16-byte header, then chunks of a 4-byte big-endian length and a raw snappy block.
const XERIAL_MAGIC: &[u8; 8] = b"\x82SNAPPY\x00";
const XERIAL_HEADER_BYTES: usize = 16;

/// Decompresses `data` (a records section compressed with `compression`) into at most `max`
/// bytes; more is an error, not an allocation.
pub fn decompress(compression: Compression, data: &[u8], max: usize) -> anyhow::Result<Vec<u8>> {
    match compression {
        Compression::None => bounded(data, max),
        Compression::Gzip => bounded(flate2::read::GzDecoder::new(data), max),
        Compression::Lz4 => bounded(lz4::Decoder::new(data).context("lz4 frame")?, max),
        Compression::Zstd => bounded(zstd::stream::read::Decoder::new(data)?, max),
        Compression::Snappy => snappy(data, max),
    }
}

/// Reads `reader` to its end, refusing to go past `max` bytes.
fn bounded(reader: impl Read, max: usize) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .context("decompressing")?;
    if out.len() > max {
        bail!("a batch decompresses to more than {max} bytes");
    }
    Ok(out)
}

fn snappy(data: &[u8], max: usize) -> anyhow::Result<Vec<u8>> {
    if !data.starts_with(XERIAL_MAGIC) {
        // Raw snappy, as the Java client falls back to.
        return snappy_block(data, max);
    }
    let mut out = Vec::new();
    let mut rest = data.get(XERIAL_HEADER_BYTES..).context("xerial header")?;
    while !rest.is_empty() {
        let length = rest.get(..4).context("xerial chunk length")?;
        let length = u32::from_be_bytes(length.try_into().expect("four bytes")) as usize;
        let chunk = rest.get(4..4 + length).context("xerial chunk")?;
        out.extend_from_slice(&snappy_block(chunk, max - out.len())?);
        rest = &rest[4 + length..];
    }
    Ok(out)
}

fn snappy_block(block: &[u8], max: usize) -> anyhow::Result<Vec<u8>> {
    let length = snap::raw::decompress_len(block).context("snappy length")?;
    if length > max {
        bail!("a batch decompresses to more than {max} bytes");
    }
    Ok(snap::raw::Decoder::new().decompress_vec(block)?)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn every_codec_round_trips_and_a_bomb_is_refused() {
        let data = vec![7u8; 100_000];
        let gzip = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        };
        let zstd = zstd::encode_all(&data[..], 3).unwrap();
        let lz4 = {
            let mut e = lz4::EncoderBuilder::new().build(Vec::new()).unwrap();
            e.write_all(&data).unwrap();
            e.finish().0
        };
        let raw_snappy = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        let mut xerial = XERIAL_MAGIC.to_vec();
        xerial.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1]);
        xerial.extend_from_slice(&(raw_snappy.len() as u32).to_be_bytes());
        xerial.extend_from_slice(&raw_snappy);
        for (compression, bytes) in [
            (Compression::Gzip, &gzip),
            (Compression::Zstd, &zstd),
            (Compression::Lz4, &lz4),
            (Compression::Snappy, &raw_snappy),
            (Compression::Snappy, &xerial),
        ] {
            assert_eq!(decompress(compression, bytes, 100_000).unwrap(), data);
            let refused = decompress(compression, bytes, 99_999).unwrap_err();
            assert!(
                format!("{refused:#}").contains("more than 99999 bytes"),
                "{compression:?}: {refused:#}"
            );
        }
    }

    #[test]
    fn a_snappy_length_past_the_bound_is_refused_before_allocating() {
        // A raw snappy block whose varint length says 4 GiB - 1.
        let lying = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(decompress(Compression::Snappy, &lying, 1 << 20).is_err());
    }
}
