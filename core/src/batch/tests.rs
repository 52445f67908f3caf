//! Golden bytes written by hand from the protocol spec, validation failures, round trips.

use super::*;
use crate::ErrorCode;

/// CRC-32C bit by bit from its definition (reflected polynomial 0x82F63B78), independent of
/// the table-driven/hardware crate the code uses.
fn crc32c_by_definition(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn crc32c_check_value() {
    // The standard check value of CRC-32C (iSCSI) for "123456789".
    assert_eq!(crc32c_by_definition(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
}

/// Fills in the CRC of a hand-written batch and checks it against the expected literal.
fn with_crc(mut bytes: Vec<u8>, expect_crc: u32) -> Vec<u8> {
    let crc = crc32c_by_definition(&bytes[21..]);
    assert_eq!(
        crc, expect_crc,
        "CRC of the hand-written batch: {crc:#010x}"
    );
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn golden_single_record() {
    #[rustfmt::skip]
    let expect = with_crc(vec![
        0, 0, 0, 0, 0, 0, 0, 0,             // baseOffset 0
        0, 0, 0, 58,                        // batchLength: 70 - 12
        0xff, 0xff, 0xff, 0xff,             // partitionLeaderEpoch -1
        2,                                  // magic
        0, 0, 0, 0,                         // crc (filled in)
        0, 0,                               // attributes: none, create time
        0, 0, 0, 0,                         // lastOffsetDelta
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // baseTimestamp 1_700_000_000_000
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // maxTimestamp
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // producerId -1
        0xff, 0xff,                         // producerEpoch -1
        0xff, 0xff, 0xff, 0xff,             // baseSequence -1
        0, 0, 0, 1,                         // record count
        0x10,                               // record length 8 (zigzag 16)
        0,                                  // record attributes
        0,                                  // timestampDelta 0
        0,                                  // offsetDelta 0
        0x02, b'k',                         // key length 1, "k"
        0x02, b'v',                         // value length 1, "v"
        0,                                  // header count 0
    ], 0xe99b_8dd8);
    let mut builder = BatchBuilder::new();
    builder.push(1_700_000_000_000, Some(b"k"), Some(b"v"), &[]);
    assert_eq!(builder.build(), expect);
    let summary = validate_batch(&expect).unwrap();
    assert_eq!(summary.header.record_count, 1);
}

#[test]
fn golden_idempotent_with_headers_and_null_key() {
    #[rustfmt::skip]
    let expect = with_crc(vec![
        0, 0, 0, 0, 0, 0, 0, 0,             // baseOffset 0
        0, 0, 0, 69,                        // batchLength: 81 - 12
        0xff, 0xff, 0xff, 0xff,             // partitionLeaderEpoch -1
        2,                                  // magic
        0, 0, 0, 0,                         // crc (filled in)
        0, 0,                               // attributes
        0, 0, 0, 1,                         // lastOffsetDelta 1
        0, 0, 0, 0, 0, 0, 0x03, 0xe8,       // baseTimestamp 1000
        0, 0, 0, 0, 0, 0, 0x03, 0xed,       // maxTimestamp 1005
        0, 0, 0, 0, 0, 0, 0, 7,             // producerId 7
        0, 0,                               // producerEpoch 0
        0, 0, 0, 42,                        // baseSequence 42
        0, 0, 0, 2,                         // record count
        0x16,                               // record 0: length 11
        0, 0, 0,                            // attributes, timestampDelta 0, offsetDelta 0
        0x01,                               // key null (-1)
        0x02, b'a',                         // value "a"
        0x02,                               // one header
        0x02, b'h', 0x02, b'x',             // "h" = "x"
        0x0e,                               // record 1: length 7
        0, 0x0a, 0x02,                      // attributes, timestampDelta 5, offsetDelta 1
        0x01,                               // key null
        0x02, b'b',                         // value "b"
        0,                                  // no headers
    ], 0x9973_203e);
    let mut builder = BatchBuilder::new().idempotent(7, 0, 42);
    let header = Header {
        key: "h".into(),
        value: Some(b"x".to_vec()),
    };
    let predicted =
        builder.record_size_bytes(1000, None, Some(b"a"), std::slice::from_ref(&header));
    builder.push(1000, None, Some(b"a"), &[header]);
    assert_eq!(builder.size_bytes(), HEADER_BYTES + predicted);
    builder.push(1005, None, Some(b"b"), &[]);
    assert_eq!(builder.build(), expect);
    let header = validate_batch(&expect).unwrap().header;
    assert_eq!(header.last_sequence(), 43);
    assert!(header.has_producer_id());
}

fn sample_batch(records: usize) -> Vec<u8> {
    let mut builder = BatchBuilder::new();
    for i in 0..records {
        builder.push(
            100 + i as i64,
            Some(b"key"),
            Some(format!("value {i}").as_bytes()),
            &[],
        );
    }
    builder.build()
}

/// Applies `corrupt` to a valid batch, re-signs it if asked, and expects validation to fail
/// with `expect` mapped to `code`.
fn check_rejected(
    corrupt: impl Fn(&mut Vec<u8>),
    resign: bool,
    expect: BatchError,
    code: ErrorCode,
) {
    let mut bytes = sample_batch(3);
    corrupt(&mut bytes);
    if resign {
        let crc = crc32c::crc32c(&bytes[21..]);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    }
    let err = validate_batch(&bytes).unwrap_err();
    assert_eq!(err, expect);
    assert_eq!(err.code(), code);
}

#[test]
fn invalid_batches_are_rejected_with_kafka_codes() {
    let crc_of = |bytes: &[u8]| u32::from_be_bytes(bytes[17..21].try_into().unwrap());
    let original = sample_batch(3);
    let computed = crc_of(&original);
    check_rejected(
        |b| b[17] ^= 0xff,
        false,
        BatchError::CrcMismatch {
            expected: computed ^ 0xff00_0000,
            computed,
        },
        ErrorCode::CORRUPT_MESSAGE,
    );
    check_rejected(
        |b| b[16] = 1,
        false,
        BatchError::UnsupportedMagic(1),
        ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT,
    );
    check_rejected(
        |b| b[16] = 9,
        false,
        BatchError::InvalidMagic(9),
        ErrorCode::CORRUPT_MESSAGE,
    );
    check_rejected(
        |b| b[8..12].copy_from_slice(&10i32.to_be_bytes()),
        false,
        BatchError::InvalidLength(10),
        ErrorCode::CORRUPT_MESSAGE,
    );
    let len = original.len();
    check_rejected(
        |b| b.truncate(len - 1),
        false,
        BatchError::Truncated {
            needed: len,
            available: len - 1,
        },
        ErrorCode::CORRUPT_MESSAGE,
    );
    check_rejected(
        |b| b[22] = 5,
        true,
        BatchError::UnknownCompression(5),
        ErrorCode::CORRUPT_MESSAGE,
    );
    check_rejected(
        |b| b[57..61].copy_from_slice(&0i32.to_be_bytes()),
        true,
        BatchError::InvalidRecordCount(0),
        ErrorCode::INVALID_RECORD,
    );
    check_rejected(
        |b| b[26] = 7,
        true,
        BatchError::InconsistentOffsets("lastOffsetDelta + 1 != record count"),
        ErrorCode::INVALID_RECORD,
    );
    // Claim 2 records (and lastOffsetDelta 1) while 3 are present.
    check_rejected(
        |b| {
            b[57..61].copy_from_slice(&2i32.to_be_bytes());
            b[23..27].copy_from_slice(&1i32.to_be_bytes());
        },
        true,
        BatchError::RecordCountMismatch {
            declared: 2,
            actual: 3,
        },
        ErrorCode::INVALID_RECORD,
    );
    // The first record's length byte says one byte more than its fields take.
    check_rejected(
        |b| b[61] += 2,
        true,
        BatchError::MalformedRecord("record length disagrees with its fields"),
        ErrorCode::CORRUPT_MESSAGE,
    );
}

#[test]
fn compressed_batches_are_validated_by_header_and_crc_only() {
    let mut bytes = sample_batch(2);
    bytes[22] = 4; // zstd: opened only by the log's codecs, at append
    bytes.truncate(HEADER_BYTES + 5);
    let batch_length = (bytes.len() - LOG_OVERHEAD_BYTES) as i32;
    bytes[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let crc = crc32c::crc32c(&bytes[21..]);
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    let summary = validate_batch(&bytes).unwrap();
    assert_eq!(summary.header.compression(), Ok(Compression::Zstd));
    assert_eq!(summary.max_timestamp_offset_delta, 1);
    assert!(decode_records(&bytes).is_err());
}

#[test]
fn assigning_offsets_keeps_the_crc_valid() {
    let mut bytes = sample_batch(3);
    assign_offsets(&mut bytes, 1234, 7).unwrap();
    let header = validate_batch(&bytes).unwrap().header;
    assert_eq!(
        (
            header.base_offset,
            header.last_offset(),
            header.partition_leader_epoch
        ),
        (1234, 1236, 7)
    );
    let offsets: Vec<i64> = decode_records(&bytes)
        .unwrap()
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, [1234, 1235, 1236]);
}

#[test]
fn split_rejects_a_partial_trailing_batch() {
    let mut payload = sample_batch(1);
    payload.extend(sample_batch(2));
    let batches = split_batches(&payload).unwrap();
    let ranges: Vec<_> = batches.iter().map(|(range, _)| range.clone()).collect();
    let first = sample_batch(1).len();
    assert_eq!(ranges, [0..first, first..payload.len()]);
    payload.extend(&sample_batch(1)[..30]);
    assert_eq!(
        split_batches(&payload).unwrap_err().code(),
        ErrorCode::CORRUPT_MESSAGE
    );
    assert_eq!(split_batches(&[]).unwrap(), []);
}

#[test]
fn max_timestamp_offset_follows_the_records() {
    let mut builder = BatchBuilder::new();
    builder
        .push(10, None, Some(b"a"), &[])
        .push(30, None, Some(b"b"), &[])
        .push(20, None, None, &[]);
    let bytes = builder.build();
    let summary = validate_batch(&bytes).unwrap();
    assert_eq!(
        (
            summary.header.max_timestamp,
            summary.max_timestamp_offset_delta
        ),
        (30, 1)
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Timestamp, key, value, headers.
    type RecordParts = (i64, Option<Vec<u8>>, Option<Vec<u8>>, Vec<Header>);

    fn record() -> impl Strategy<Value = RecordParts> {
        let bytes = || proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40));
        let header = ("[a-z]{0,8}", bytes()).prop_map(|(key, value)| Header { key, value });
        (
            -1_000_000i64..1_000_000,
            bytes(),
            bytes(),
            proptest::collection::vec(header, 0..3),
        )
    }

    proptest! {
        #[test]
        fn built_batches_validate_and_decode_back(
            records in proptest::collection::vec(record(), 1..20),
            base_offset in 0i64..1 << 40,
        ) {
            let mut builder = BatchBuilder::new();
            for (timestamp, key, value, headers) in &records {
                builder.push(*timestamp, key.as_deref(), value.as_deref(), headers);
            }
            let mut bytes = builder.build();
            assign_offsets(&mut bytes, base_offset, 3).unwrap();
            validate_batch(&bytes).unwrap();
            let decoded = decode_records(&bytes).unwrap();
            prop_assert_eq!(decoded.len(), records.len());
            for (i, (record, (timestamp, key, value, headers))) in decoded.iter().zip(&records).enumerate() {
                prop_assert_eq!(record.offset, base_offset + i as i64);
                prop_assert_eq!(record.timestamp, *timestamp);
                prop_assert_eq!(&record.key, key);
                prop_assert_eq!(&record.value, value);
                prop_assert_eq!(&record.headers, headers);
            }
        }

        #[test]
        fn validation_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = split_batches(&bytes);
            let _ = decode_records(&bytes);
        }
    }
}

/// The two golden batches above as kafka-python 3.0.12's `DefaultRecordBatchBuilder` writes
/// them (captured offline, no broker). It writes partition leader epoch 0 where the Java
/// client writes -1; that field is outside the CRC and the broker overwrites it.
#[test]
fn builder_matches_a_real_client_encoder() {
    let check = |captured_hex: &str, build: &dyn Fn() -> Vec<u8>| {
        let mut captured: Vec<u8> = (0..captured_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&captured_hex[i..i + 2], 16).unwrap())
            .collect();
        captured[12..16].copy_from_slice(&NO_PARTITION_LEADER_EPOCH.to_be_bytes());
        assert_eq!(build(), captured);
    };
    check(
        "00000000000000000000003a0000000002e99b8dd80000000000000000018bcfe568000000018bcfe56800\
         ffffffffffffffffffffffffffff0000000110000000026b027600",
        &|| {
            let mut builder = BatchBuilder::new();
            builder.push(1_700_000_000_000, Some(b"k"), Some(b"v"), &[]);
            builder.build()
        },
    );
    check(
        "00000000000000000000004500000000029973203e00000000000100000000000003e800000000000003ed\
         000000000000000700000000002a000000021600000001026102026802780e000a0201026200",
        &|| {
            let mut builder = BatchBuilder::new().idempotent(7, 0, 42);
            let header = Header {
                key: "h".into(),
                value: Some(b"x".to_vec()),
            };
            builder.push(1000, None, Some(b"a"), &[header]);
            builder.push(1005, None, Some(b"b"), &[]);
            builder.build()
        },
    );
}

#[test]
fn stamping_the_log_append_time_keeps_the_batch_valid_and_times_every_record() {
    let mut builder = BatchBuilder::new();
    builder.push(1_000, Some(b"k"), Some(b"a"), &[]);
    builder.push(1_005, None, Some(b"b"), &[]);
    let mut bytes = builder.build();
    set_log_append_time(&mut bytes, 9_999).unwrap();
    let summary = validate_batch(&bytes).expect("the CRC was computed again");
    assert_eq!(
        summary.header.timestamp_type(),
        TimestampType::LogAppendTime
    );
    assert_eq!(summary.header.max_timestamp, 9_999);
    assert_eq!(summary.header.base_timestamp, 1_000, "untouched");
    assert_eq!(
        summary.max_timestamp_offset_delta, 0,
        "the first record has it"
    );
    let records = decode_records(&bytes).unwrap();
    assert!(records.iter().all(|r| r.timestamp == 9_999));
    assert_eq!(records[1].value.as_deref(), Some(&b"b"[..]));
    assert!(set_log_append_time(&mut [0u8; 10], 1).is_err());
}
