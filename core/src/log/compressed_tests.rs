//! Appends of producers' compressed batches: opened with the log's codecs (the reversible
//! test codec the cleaner's tests use), their records counted and, on a compacted topic,
//! every one checked for a key, as for an uncompressed batch (issues 17 and 20).

use super::*;
use crate::batch::{
    BatchBuilder, BatchError, CodecError, Compression, ReversingCodecs, open_records,
    validate_stored_batch,
};
use crate::storage::MemoryStorage;
use crate::{ErrorCode, Millis};

fn log(compact: bool, codecs: &'static dyn crate::batch::Codecs) -> Log<MemoryStorage> {
    let config = LogConfig {
        compact,
        delete: !compact,
        retention_ms: None,
        ..LogConfig::default()
    };
    let mut log = Log::open(MemoryStorage::new(), config).unwrap().0;
    log.set_codecs(codecs);
    log
}

/// A zstd batch (reversible test codec) of `(key, value)` records.
fn compressed(records: &[(Option<&str>, &str)]) -> Vec<u8> {
    let mut builder = BatchBuilder::new();
    for (key, value) in records {
        builder.push(1_000, key.map(str::as_bytes), Some(value.as_bytes()), &[]);
    }
    builder
        .build_compressed(Compression::Zstd, &ReversingCodecs)
        .unwrap()
}

/// Rewrites the header's record count and `lastOffsetDelta` (so they agree with each other
/// but not with the records inside) and recomputes the CRC: a batch only opening it tells
/// from an honest one.
fn claim_count(mut batch: Vec<u8>, count: i32) -> Vec<u8> {
    batch[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    batch[57..61].copy_from_slice(&count.to_be_bytes());
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    validate_stored_batch(&batch).expect("the header alone looks valid");
    batch
}

/// The keys stored in the log, batch by batch, read back through the codec.
fn stored_keys(log: &Log<MemoryStorage>) -> Vec<Option<String>> {
    let read = log.read(0, 1 << 20).unwrap();
    let mut keys = Vec::new();
    for (range, summary) in crate::batch::split_batches(&read.records).unwrap() {
        let batch = &read.records[range];
        let section = open_records(batch, &summary.header, &ReversingCodecs, 1 << 20).unwrap();
        for record in crate::batch::decode_records_section(&summary.header, &section).unwrap() {
            keys.push(record.key.map(|k| String::from_utf8(k).unwrap()));
        }
    }
    keys
}

#[test]
fn keyless_records_inside_a_compressed_batch_are_refused_on_a_compacted_topic() {
    let mut log = log(true, &ReversingCodecs);
    let mut keyed = compressed(&[(Some("a"), "1"), (Some("b"), "2")]);
    assert_eq!(log.append(&mut keyed, 0, Millis(1)).unwrap().last_offset, 1);

    let mut mixed = compressed(&[
        (Some("a"), "3"),
        (None, "lost?"),
        (Some("c"), "4"),
        (None, "lost?"),
    ]);
    let refused = log.append(&mut mixed, 0, Millis(2)).unwrap_err();
    assert_eq!(
        refused,
        AppendError::KeylessRecords {
            batch_indexes: vec![1, 3]
        }
    );
    assert_eq!(refused.code(), ErrorCode::INVALID_RECORD);
    assert_eq!(
        log.log_end_offset(),
        2,
        "nothing of the refused batch is written"
    );

    // The next keyed batch is accepted, right after the first.
    let mut next = compressed(&[(Some("c"), "5")]);
    assert_eq!(log.append(&mut next, 0, Millis(3)).unwrap().base_offset, 2);
    assert_eq!(
        stored_keys(&log),
        [Some("a".into()), Some("b".into()), Some("c".into())]
    );
}

#[test]
fn keyless_compressed_records_are_accepted_where_the_topic_is_not_compacted() {
    let mut log = log(false, &ReversingCodecs);
    let mut keyless = compressed(&[(None, "1"), (None, "2")]);
    assert_eq!(
        log.append(&mut keyless, 0, Millis(1)).unwrap().last_offset,
        1
    );
}

#[test]
fn a_compressed_batch_that_cannot_be_decompressed_is_refused_as_corrupt() {
    for compact in [true, false] {
        let mut log = log(compact, &ReversingCodecs);
        let mut batch = compressed(&[(Some("a"), "1")]);
        // The test codec tags its output with the codec: claim gzip instead (CRC redone).
        batch[22] = Compression::Gzip.attribute_bits() as u8;
        let crc = crc32c::crc32c(&batch[21..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
        let refused = log.append(&mut batch, 0, Millis(1)).unwrap_err();
        assert!(
            matches!(refused, AppendError::Codec(CodecError::Corrupt { .. })),
            "{refused:?}"
        );
        assert_eq!(refused.code(), ErrorCode::CORRUPT_MESSAGE);
        assert_eq!(log.log_end_offset(), 0);
    }
}

#[test]
fn a_compressed_batch_whose_header_miscounts_its_records_is_refused() {
    for compact in [true, false] {
        let mut log = log(compact, &ReversingCodecs);
        let three = [(Some("a"), "1"), (Some("b"), "2"), (Some("c"), "3")];
        // Fewer claimed than inside: offsets for 2 would be assigned to 3 records.
        let mut under = claim_count(compressed(&three), 2);
        // More claimed than inside: 5 offsets for 3 records.
        let mut over = claim_count(compressed(&three), 5);
        for (batch, declared) in [(&mut under, 2), (&mut over, 5)] {
            let refused = log.append(batch, 0, Millis(1)).unwrap_err();
            assert_eq!(
                refused,
                AppendError::Batch(BatchError::RecordCountMismatch {
                    declared,
                    actual: 3
                })
            );
            assert_eq!(refused.code(), ErrorCode::INVALID_RECORD);
        }
        assert_eq!(log.log_end_offset(), 0);
        let mut honest = compressed(&three);
        assert_eq!(
            log.append(&mut honest, 0, Millis(2)).unwrap().last_offset,
            2
        );
    }
}

#[test]
fn without_codecs_a_compressed_batch_is_refused_never_stored_unread() {
    // The playground lends no codecs (its clients never compress).
    for compact in [true, false] {
        let mut log = log(compact, &crate::batch::NoCodecs);
        let mut batch = compressed(&[(Some("a"), "1")]);
        let refused = log.append(&mut batch, 0, Millis(1)).unwrap_err();
        assert_eq!(
            refused,
            AppendError::Codec(CodecError::Unsupported(Compression::Zstd))
        );
        assert_eq!(refused.code(), ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
        let mut plain = BatchBuilder::new();
        plain.push(1, Some(b"a"), Some(b"1"), &[]);
        assert_eq!(
            log.append(&mut plain.build(), 0, Millis(1))
                .unwrap()
                .base_offset,
            0
        );
    }
}

#[test]
fn a_batch_decompressing_past_the_bound_is_too_large() {
    let err = CodecError::TooLarge {
        max_bytes: APPEND_DECOMPRESSED_MAX_BYTES,
    };
    assert_eq!(AppendError::from(err).code(), ErrorCode::MESSAGE_TOO_LARGE);
}
