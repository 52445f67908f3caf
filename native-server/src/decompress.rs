//! The compression codecs of the native shell: bounded decompression of a record batch's
//! records section and compression as Kafka's clients write it, lent to the core as
//! [`NativeCodecs`] and used by the console consumer (`partita consume`) to print what a broker
//! sent. Every hosted log opens a produce's compressed batch with them once, to count its
//! records and, on a compacted topic, check their keys, and still stores the producer's bytes;
//! the log cleaner opens compressed batches with them and recompresses what it keeps.
//!
//! Each codec is driven as a stream and stopped once the output passes the bound, so a batch
//! that inflates past it is refused after at most `max` bytes were produced; snappy's sizes
//! (raw and per xerial chunk) are checked before anything is allocated for them.

use std::io::{Read, Write};

use partita_core::batch::{CodecError, Codecs, Compression};

pub use partita_core::batch::DECOMPRESSED_BATCH_MAX_BYTES;

/// xerial's snappy framing (snappy-java's SnappyOutputStream), which Kafka's clients write: a
/// 16-byte header (magic, version 1, compatible version 1), then chunks of a 4-byte
/// big-endian length and a raw snappy block.
const XERIAL_MAGIC: &[u8; 8] = b"\x82SNAPPY\x00";
const XERIAL_HEADER_BYTES: usize = 16;
const XERIAL_VERSIONS: [u8; 8] = [0, 0, 0, 1, 0, 0, 0, 1];
/// snappy-java's default block size: the uncompressed bytes per xerial chunk.
const XERIAL_BLOCK_BYTES: usize = 32 * 1024;
/// Kafka's default zstd level (`compression.zstd.level`), which librdkafka uses too.
const ZSTD_LEVEL: i32 = 3;

/// The codecs Kafka defines, from the crates the shell links: gzip (flate2), snappy (snap),
/// lz4 frames (lz4) and zstd (zstd).
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeCodecs;

/// The one instance the shell lends the core.
pub static NATIVE_CODECS: NativeCodecs = NativeCodecs;

impl Codecs for NativeCodecs {
    fn decompress(
        &self,
        codec: Compression,
        data: &[u8],
        max_bytes: usize,
    ) -> Result<Vec<u8>, CodecError> {
        decompress(codec, data, max_bytes)
    }

    fn compress(&self, codec: Compression, data: &[u8]) -> Result<Vec<u8>, CodecError> {
        compress(codec, data)
    }
}

/// Decompresses `data` (a records section compressed with `compression`) into at most `max`
/// bytes; more is an error, not an allocation.
pub fn decompress(
    compression: Compression,
    data: &[u8],
    max: usize,
) -> Result<Vec<u8>, CodecError> {
    let corrupt = |reason: std::io::Error| CodecError::Corrupt {
        codec: compression,
        reason: reason.to_string(),
    };
    match compression {
        Compression::None => bounded(compression, data, max),
        Compression::Gzip => bounded(compression, flate2::read::GzDecoder::new(data), max),
        Compression::Lz4 => bounded(compression, lz4::Decoder::new(data).map_err(corrupt)?, max),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(data).map_err(corrupt)?;
            bounded(compression, decoder, max)
        }
        Compression::Snappy => snappy(data, max),
    }
}

/// Compresses a records section as Kafka's clients do: gzip; snappy in xerial framing
/// (snappy-java's, which librdkafka reads too); lz4 frames of independent 64 KiB blocks
/// (Kafka's `KafkaLZ4BlockOutputStream`); zstd at level 3 with the content size.
pub fn compress(compression: Compression, data: &[u8]) -> Result<Vec<u8>, CodecError> {
    let failed = |reason: std::io::Error| CodecError::Corrupt {
        codec: compression,
        reason: format!("compressing: {reason}"),
    };
    match compression {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(data).map_err(failed)?;
            encoder.finish().map_err(failed)
        }
        Compression::Snappy => {
            let mut out = XERIAL_MAGIC.to_vec();
            out.extend_from_slice(&XERIAL_VERSIONS);
            let mut encoder = snap::raw::Encoder::new();
            for chunk in data.chunks(XERIAL_BLOCK_BYTES) {
                let block = encoder
                    .compress_vec(chunk)
                    .map_err(|e| failed(std::io::Error::other(e)))?;
                out.extend_from_slice(&(block.len() as u32).to_be_bytes());
                out.extend_from_slice(&block);
            }
            Ok(out)
        }
        Compression::Lz4 => {
            let mut encoder = lz4::EncoderBuilder::new()
                .block_size(lz4::BlockSize::Max64KB)
                .block_mode(lz4::BlockMode::Independent)
                .checksum(lz4::ContentChecksum::NoChecksum)
                .build(Vec::new())
                .map_err(failed)?;
            encoder.write_all(data).map_err(failed)?;
            let (out, result) = encoder.finish();
            result.map_err(failed)?;
            Ok(out)
        }
        Compression::Zstd => zstd::bulk::compress(data, ZSTD_LEVEL).map_err(failed),
    }
}

/// How much of a decompressed stream is read at a time.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Reads `reader` to its end, refusing to go past `max` bytes. The output grows by doubling
/// but never past `max + 1` bytes of capacity, so a bomb costs at most the bound in memory
/// (`read_to_end` would double past it).
fn bounded(codec: Compression, mut reader: impl Read, max: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; READ_CHUNK_BYTES.min(max + 1)];
    loop {
        let read = match reader.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(CodecError::Corrupt {
                    codec,
                    reason: e.to_string(),
                });
            }
        };
        if out.len() + read > max {
            return Err(CodecError::TooLarge { max_bytes: max });
        }
        extend_within(&mut out, &chunk[..read], max);
    }
}

/// Appends `bytes` to `out`, growing its capacity by doubling but never past `max` (the
/// caller checked that `out.len() + bytes.len() <= max`).
fn extend_within(out: &mut Vec<u8>, bytes: &[u8], max: usize) {
    let needed = out.len() + bytes.len();
    if needed > out.capacity() {
        let target = (out.capacity() * 2).max(needed).min(max);
        out.reserve_exact(target - out.len());
    }
    out.extend_from_slice(bytes);
}

fn snappy(data: &[u8], max: usize) -> Result<Vec<u8>, CodecError> {
    let corrupt = |reason: &str| CodecError::Corrupt {
        codec: Compression::Snappy,
        reason: reason.into(),
    };
    if !data.starts_with(XERIAL_MAGIC) {
        // Raw snappy, as the Java client falls back to.
        return snappy_block(data, max);
    }
    let mut out = Vec::new();
    let mut rest = data
        .get(XERIAL_HEADER_BYTES..)
        .ok_or_else(|| corrupt("xerial header"))?;
    while !rest.is_empty() {
        let length = rest
            .get(..4)
            .ok_or_else(|| corrupt("xerial chunk length"))?;
        let length = u32::from_be_bytes(length.try_into().expect("four bytes")) as usize;
        let chunk = rest
            .get(4..4 + length)
            .ok_or_else(|| corrupt("xerial chunk"))?;
        // The bound is on the whole section: report it, not what was left of it.
        let block = snappy_block(chunk, max - out.len()).map_err(|err| match err {
            CodecError::TooLarge { .. } => CodecError::TooLarge { max_bytes: max },
            other => other,
        })?;
        extend_within(&mut out, &block, max);
        rest = &rest[4 + length..];
    }
    Ok(out)
}

fn snappy_block(block: &[u8], max: usize) -> Result<Vec<u8>, CodecError> {
    let corrupt = |e: snap::Error| CodecError::Corrupt {
        codec: Compression::Snappy,
        reason: e.to_string(),
    };
    let length = snap::raw::decompress_len(block).map_err(corrupt)?;
    if length > max {
        return Err(CodecError::TooLarge { max_bytes: max });
    }
    snap::raw::Decoder::new()
        .decompress_vec(block)
        .map_err(corrupt)
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
            let ours = compress(compression, &data).unwrap();
            assert!(ours.len() < data.len() / 10, "{compression:?} compresses");
            assert_eq!(decompress(compression, &ours, 100_000).unwrap(), data);
            assert_eq!(
                decompress(compression, &ours, 99_999),
                Err(CodecError::TooLarge { max_bytes: 99_999 })
            );
            let refused = decompress(compression, bytes, 99_999).unwrap_err();
            assert!(
                format!("{refused:#}").contains("more than 99999 bytes"),
                "{compression:?}: {refused:#}"
            );
        }
    }

    #[test]
    fn a_bomb_never_gets_more_capacity_than_the_bound() {
        let bomb = zstd::bulk::compress(&vec![0u8; 10 << 20], 3).unwrap();
        assert_eq!(
            decompress(Compression::Zstd, &bomb, 1 << 20),
            Err(CodecError::TooLarge { max_bytes: 1 << 20 })
        );
        let data = vec![1u8; 300_000];
        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let out = decompress(codec, &compress(codec, &data).unwrap(), 300_000).unwrap();
            assert_eq!(out, data);
            assert!(out.capacity() <= 300_000, "{codec:?}: {}", out.capacity());
        }
    }

    #[test]
    fn a_snappy_length_past_the_bound_is_refused_before_allocating() {
        // A raw snappy block whose varint length says 4 GiB - 1.
        let lying = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(decompress(Compression::Snappy, &lying, 1 << 20).is_err());
    }

    /// The core's cleaner with the real codecs: a compacted log of batches compressed by each
    /// codec keeps the latest value of every key, rewritten batches keep their codec and
    /// offsets, and the log shrinks.
    #[test]
    fn the_cleaner_compacts_batches_of_every_codec() {
        use partita_core::Millis;
        use partita_core::batch::{
            BatchBuilder, BatchHeader, HEADER_BYTES, decode_records_section, split_batches,
        };
        use partita_core::log::{CleanerConfig, Log, LogConfig};
        use partita_core::storage::MemoryStorage;

        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let config = LogConfig {
                segment_bytes: 1500,
                retention_ms: None,
                delete: false,
                compact: true,
                min_cleanable_dirty_ratio: 0.0,
                ..LogConfig::default()
            };
            let mut log = Log::open(MemoryStorage::new(), config).unwrap().0;
            log.set_codecs(&NATIVE_CODECS);
            // Rounds of ten keys, the last round only five: the round before keeps five.
            // Values of pseudo-random hex: compressible, not to nothing.
            let mut seed = 0x9e37_79b9_7f4a_7c15u64;
            let mut noise = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                format!("{seed:016x}")
            };
            for round in 0..6 {
                let mut builder = BatchBuilder::new();
                for key in 0..if round < 5 { 10 } else { 5 } {
                    let value = format!("value {round} of key {key} {}{}", noise(), noise());
                    builder.push(
                        1000,
                        Some(format!("k{key}").as_bytes()),
                        Some(value.as_bytes()),
                        &[],
                    );
                }
                let mut batch = builder.build_compressed(codec, &NATIVE_CODECS).unwrap();
                log.append(&mut batch, 0, Millis(1000)).unwrap();
            }
            let rounds = log.size_bytes();
            for filler in 0..4 {
                let mut builder = BatchBuilder::new();
                builder.push(
                    1000,
                    Some(format!("f{filler}").as_bytes()),
                    Some(&[0; 1200]),
                    &[],
                );
                log.append(&mut builder.build(), 0, Millis(1000)).unwrap();
            }
            log.flush().unwrap();
            let before = log.size_bytes();
            let cleaner = CleanerConfig {
                codecs: &NATIVE_CODECS,
                ..CleanerConfig::default()
            };
            let end = log.log_end_offset();
            let stats = log.clean_now(Millis(5000), end, &cleaner).unwrap().unwrap();
            assert_eq!(
                stats.unread_batches, 0,
                "{codec:?}: {:?}",
                stats.last_unread_reason
            );
            let after = log.size_bytes();
            assert!(
                before - after > rounds / 2,
                "{codec:?}: most of the rounds' {rounds} bytes go: {before} -> {after}"
            );
            let mut latest = std::collections::BTreeMap::new();
            let mut next = 0;
            let mut rewritten = 0;
            while next < end {
                let read = log.read(next, 1 << 20).unwrap();
                for (range, summary) in split_batches(&read.records).unwrap() {
                    let batch = &read.records[range];
                    let header: BatchHeader = summary.header;
                    let compression = header.compression().unwrap();
                    let section = decompress(compression, &batch[HEADER_BYTES..], 1 << 20).unwrap();
                    let records = decode_records_section(&header, &section).unwrap();
                    let partial = header.record_count > 0
                        && header.record_count < header.last_offset_delta + 1;
                    if partial {
                        assert_eq!(compression, codec, "recompressed with its own codec");
                        assert_eq!(
                            (
                                header.base_offset,
                                header.last_offset_delta,
                                header.record_count
                            ),
                            (40, 9, 5),
                            "offsets unchanged"
                        );
                        rewritten += 1;
                    }
                    for record in records {
                        let key = String::from_utf8(record.key.unwrap()).unwrap();
                        latest.insert(key, (record.offset, record.value.unwrap()));
                    }
                    next = header.next_offset();
                }
            }
            assert_eq!(rewritten, 1, "{codec:?}");
            assert_eq!(latest.len(), 14);
            assert_eq!(latest["k0"].0, 50, "{codec:?}: the last round's k0");
            assert_eq!(
                latest["k9"].0, 49,
                "{codec:?}: round 4's k9, kept from its batch"
            );
            assert!(String::from_utf8_lossy(&latest["k9"].1).starts_with("value 4 of key 9"));
        }
    }
}
