//! What the cleaner keeps of one stored batch (Kafka's `Cleaner.cleanInto` filter and
//! `MemoryRecords.filterTo`): the latest record of each key, tombstones until their delete
//! horizon, and the batch header alone where it must stay.

use std::borrow::Cow;

use super::offset_map::OffsetMap;
use crate::batch::{
    self, BatchBuilder, BatchError, BatchHeader, Codecs, OpenError, RawRecord, raw_records_section,
    validate_stored_records,
};

/// The facts one batch is judged by, besides the dedupe map.
#[derive(Clone, Copy, Debug)]
pub(super) struct Judge<'a> {
    pub map: &'a OffsetMap,
    /// The batch belongs to an aborted transaction: none of its records stay.
    pub aborted: bool,
    /// The round's clock: a tombstone whose batch's delete horizon is at or before it goes.
    pub now_ms: i64,
    /// `delete.retention.ms`: the horizon stamped on a batch whose tombstones are kept.
    pub delete_retention_ms: i64,
    /// A compressed batch that could not be opened came earlier in the log: a tombstone may
    /// be all that hides an older value in it, so tombstones stay.
    pub opaque_before: bool,
    /// The shell's codecs, to open and rewrite compressed batches.
    pub codecs: &'a dyn Codecs,
    /// The most a compressed batch's records may inflate to.
    pub max_decompressed_bytes: usize,
}

/// The verdict on one batch.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Kept {
    /// Nothing of it remains.
    Nothing,
    /// The batch as stored, byte for byte.
    Whole,
    /// The batch as stored, unread: a compressed batch the codecs could not open (no such
    /// codec here, corrupt, or inflating past the bound), for this reason. Its keys are
    /// unknown, so nothing in it is dropped and later tombstones stay.
    Unread(String),
    /// A rewritten batch: same offsets, producer fields, leader epoch and codec, fewer
    /// records (or none: the header alone, uncompressed, where `keep_header` asked for it).
    Rewritten(Vec<u8>),
}

/// The records section of a stored batch, decompressed if the batch is compressed
/// ([`batch::open_records`], the same opening as at append); `Err` with the reason when a
/// compressed one cannot be opened (the batch is then kept unread). Decompressed records are
/// checked as a stored batch's are before anything trusts them.
pub(super) fn open_records<'b>(
    batch: &'b [u8],
    header: &BatchHeader,
    codecs: &dyn Codecs,
    max_decompressed_bytes: usize,
) -> Result<Result<Cow<'b, [u8]>, String>, BatchError> {
    let section = match batch::open_records(batch, header, codecs, max_decompressed_bytes) {
        Ok(section) => section,
        Err(OpenError::Batch(err)) => return Err(err),
        Err(OpenError::Codec(err)) => return Ok(Err(err.to_string())),
    };
    if let Cow::Owned(records) = &section
        && let Err(err) = validate_stored_records(header, records)
    {
        let codec = header.compression()?;
        return Ok(Err(format!("{codec:?} batch: {err}")));
    }
    Ok(Ok(section))
}

/// Judges `batch`, a valid stored batch. `keep_header` keeps at least its header even if no
/// record remains (Kafka's `RETAIN_EMPTY`).
///
/// A control batch is kept whole (markers are never removed yet). A batch of an aborted
/// transaction keeps no record (Kafka's cleaner discards them). A compressed batch is
/// opened with the judge's codecs, filtered like any other and recompressed with its own
/// codec (Kafka's `LogCleaner` does the same); one that cannot be opened is kept unread.
pub(super) fn judge(batch: &[u8], keep_header: bool, judge: &Judge) -> Result<Kept, BatchError> {
    let header = BatchHeader::parse(batch)?;
    if header.is_control() {
        return Ok(Kept::Whole);
    }
    if judge.aborted {
        return Ok(match (keep_header, header.record_count) {
            (false, _) => Kept::Nothing,
            (true, 0) => Kept::Whole,
            (true, _) => Kept::Rewritten(BatchBuilder::empty_of(&header)),
        });
    }
    let codec = header.compression()?;
    let section = match open_records(batch, &header, judge.codecs, judge.max_decompressed_bytes)? {
        Ok(section) => section,
        Err(reason) => return Ok(Kept::Unread(reason)),
    };
    let records = raw_records_section(&header, &section)?;
    if records.is_empty() {
        // A header an earlier round kept (Kafka's RETAIN_EMPTY): it stays only while
        // something still needs it, or every round would add empty batches for good.
        return Ok(if keep_header {
            Kept::Whole
        } else {
            Kept::Nothing
        });
    }
    let horizon = header.delete_horizon_ms();
    let tombstones_expired = horizon.is_some_and(|h| h <= judge.now_ms) && !judge.opaque_before;
    let mut kept = Vec::with_capacity(records.len());
    let mut kept_tombstone = false;
    for record in &records {
        let offset = header
            .base_offset
            .saturating_add(i64::from(record.offset_delta));
        let keep = if offset > judge.map.latest_offset() {
            // Not mapped in this round: nothing newer is known.
            true
        } else if let Some(key) = record.key {
            let latest = judge.map.get(key).is_none_or(|latest| offset >= latest);
            latest && (record.value.is_some() || !tombstones_expired)
        } else {
            // A keyless record cannot be compacted: Kafka's cleaner drops it.
            false
        };
        if keep {
            kept_tombstone |= record.value.is_none();
            kept.push(record);
        }
    }
    let needs_horizon = kept_tombstone && horizon.is_none();
    if kept.len() == records.len() && !needs_horizon {
        return Ok(Kept::Whole);
    }
    if kept.is_empty() {
        return Ok(if keep_header {
            Kept::Rewritten(BatchBuilder::empty_of(&header))
        } else {
            Kept::Nothing
        });
    }
    let horizon = if needs_horizon {
        Some(judge.now_ms.saturating_add(judge.delete_retention_ms))
    } else {
        horizon
    };
    let mut builder = BatchBuilder::rewrite_of(&header, horizon);
    for record in kept {
        builder.push_raw(
            record.offset_delta,
            header.base_timestamp.wrapping_add(record.timestamp_delta),
            record.key,
            record.value,
            &record.headers,
        );
    }
    Ok(match builder.build_compressed(codec, judge.codecs) {
        Ok(rewritten) => Kept::Rewritten(rewritten),
        // Opened but not recompressible here: kept as it was, and since its keys were
        // mapped while some of its records were not dropped, treated as unread.
        Err(err) => Kept::Unread(format!("recompressing: {err}")),
    })
}

/// The keyed records of `records` (of a batch with `header`) at or after `first_dirty`, with
/// their offsets: what the cleaner maps.
pub(super) fn keyed_offsets<'r>(
    header: &BatchHeader,
    records: &'r [RawRecord<'r>],
    first_dirty: i64,
) -> impl Iterator<Item = (&'r [u8], i64)> {
    let base = header.base_offset;
    records
        .iter()
        .filter_map(move |r| Some((r.key?, base.saturating_add(i64::from(r.offset_delta)))))
        .filter(move |&(_, offset)| offset >= first_dirty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{
        Compression, HEADER_BYTES, Header, NoCodecs, ReversingCodecs, assign_offsets,
        decode_records, decode_records_section, validate_stored_batch,
    };

    /// A stored batch at `base` of `(key, value)` records with timestamps 1000, 1001, ...
    fn stored(base: i64, records: &[(Option<&str>, Option<&str>)]) -> Vec<u8> {
        let mut builder = BatchBuilder::new().idempotent(9, 2, 40);
        for (i, (key, value)) in records.iter().enumerate() {
            let headers = [Header {
                key: "h".into(),
                value: Some(vec![i as u8]),
            }];
            builder.push(
                1000 + i as i64,
                key.map(str::as_bytes),
                value.map(str::as_bytes),
                &headers,
            );
        }
        let mut bytes = builder.build();
        assign_offsets(&mut bytes, base, 3).unwrap();
        bytes
    }

    fn map(entries: &[(&str, i64)], latest: i64) -> OffsetMap {
        let mut map = OffsetMap::new(1 << 20);
        for (key, offset) in entries {
            map.put(key.as_bytes(), *offset);
        }
        map.update_latest_offset(latest);
        map
    }

    fn judge_at(map: &OffsetMap, now_ms: i64) -> Judge<'_> {
        Judge {
            aborted: false,
            map,
            now_ms,
            delete_retention_ms: 500,
            opaque_before: false,
            codecs: &NoCodecs,
            max_decompressed_bytes: 1 << 20,
        }
    }

    /// (offset, key, value, timestamp) of each record.
    type Row = (i64, Option<String>, Option<String>, i64);

    fn rows(batch: &[u8]) -> Vec<Row> {
        let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8(b).unwrap());
        decode_records(batch)
            .unwrap()
            .into_iter()
            .map(|r| (r.offset, text(r.key), text(r.value), r.timestamp))
            .collect()
    }

    fn row(offset: i64, key: &str, value: Option<&str>, timestamp: i64) -> Row {
        (offset, Some(key.into()), value.map(Into::into), timestamp)
    }

    #[test]
    fn keeps_the_latest_record_of_each_key_and_the_batch_as_it_was() {
        let batch = stored(
            10,
            &[
                (Some("a"), Some("1")),
                (Some("b"), Some("2")),
                (Some("a"), Some("3")),
            ],
        );
        let map = map(&[("a", 12), ("b", 20)], 20);
        let Kept::Rewritten(bytes) = judge(&batch, false, &judge_at(&map, 0)).unwrap() else {
            panic!("rewritten")
        };
        let original = validate_stored_batch(&batch).unwrap().header;
        let header = validate_stored_batch(&bytes).unwrap().header;
        assert_eq!(rows(&bytes), [row(12, "a", Some("3"), 1002)]);
        assert_eq!(
            (
                header.base_offset,
                header.last_offset(),
                header.record_count
            ),
            (10, 12, 1),
            "offsets never change"
        );
        assert_eq!(
            (
                header.producer_id,
                header.producer_epoch,
                header.base_sequence
            ),
            (9, 2, 40)
        );
        assert_eq!(header.last_sequence(), original.last_sequence());
        assert_eq!(header.partition_leader_epoch, 3);
        assert_eq!(header.max_timestamp, 1002);
        assert_eq!(header.delete_horizon_ms(), None);
        let headers = &decode_records(&bytes).unwrap()[0].headers;
        assert_eq!(
            headers[0].value.as_deref(),
            Some(&[2u8][..]),
            "headers kept"
        );
    }

    #[test]
    fn an_untouched_batch_is_kept_byte_for_byte_and_a_superseded_one_goes() {
        let batch = stored(10, &[(Some("a"), Some("1")), (Some("b"), Some("2"))]);
        let newer = map(&[("a", 30), ("b", 31)], 31);
        assert_eq!(
            judge(&batch, false, &judge_at(&newer, 0)),
            Ok(Kept::Nothing)
        );
        let Kept::Rewritten(empty) = judge(&batch, true, &judge_at(&newer, 0)).unwrap() else {
            panic!("header kept")
        };
        let header = validate_stored_batch(&empty).unwrap().header;
        assert_eq!((header.record_count, header.last_offset()), (0, 11));
        assert_eq!(header.base_timestamp, -1);
        assert_eq!(header.max_timestamp, 1001);
        // A later round drops that header unless it is still needed.
        assert_eq!(
            judge(&empty, false, &judge_at(&newer, 0)),
            Ok(Kept::Nothing)
        );
        assert_eq!(judge(&empty, true, &judge_at(&newer, 0)), Ok(Kept::Whole));
        let same = map(&[("a", 10), ("b", 11)], 11);
        assert_eq!(judge(&batch, false, &judge_at(&same, 0)), Ok(Kept::Whole));
        let unmapped = map(&[("a", 5)], 9);
        assert_eq!(
            judge(&batch, false, &judge_at(&unmapped, 0)),
            Ok(Kept::Whole)
        );
    }

    #[test]
    fn tombstones_get_a_delete_horizon_and_go_once_it_passed() {
        let batch = stored(10, &[(Some("a"), None), (Some("b"), Some("2"))]);
        let map = map(&[("a", 10), ("b", 11)], 11);
        // First cleaning: the tombstone stays, and its batch now carries now + 500.
        let Kept::Rewritten(marked) = judge(&batch, false, &judge_at(&map, 2000)).unwrap() else {
            panic!("rewritten with a horizon")
        };
        let header = validate_stored_batch(&marked).unwrap().header;
        assert_eq!(header.delete_horizon_ms(), Some(2500));
        assert_eq!(
            rows(&marked),
            [row(10, "a", None, 1000), row(11, "b", Some("2"), 1001)],
            "timestamps unchanged under the horizon"
        );
        // Before the horizon nothing changes; at it the tombstone goes.
        assert_eq!(
            judge(&marked, false, &judge_at(&map, 2499)),
            Ok(Kept::Whole)
        );
        let Kept::Rewritten(cleaned) = judge(&marked, false, &judge_at(&map, 2500)).unwrap() else {
            panic!("tombstone removed")
        };
        assert_eq!(rows(&cleaned), [row(11, "b", Some("2"), 1001)]);
        // Unless a compressed batch earlier in the log might hold an older value of the key.
        let opaque = Judge {
            opaque_before: true,
            ..judge_at(&map, 9999)
        };
        assert_eq!(judge(&marked, false, &opaque), Ok(Kept::Whole));
    }

    /// `stored`, with its records section compressed by the test codec as `codec`.
    fn compressed(
        base: i64,
        codec: Compression,
        records: &[(Option<&str>, Option<&str>)],
    ) -> Vec<u8> {
        let plain = validate_stored_batch(&stored(base, records))
            .unwrap()
            .header;
        let mut builder = BatchBuilder::rewrite_of(&plain, None);
        for record in decode_records(&stored(base, records)).unwrap() {
            let headers: Vec<(&[u8], Option<&[u8]>)> = record
                .headers
                .iter()
                .map(|h| (h.key.as_bytes(), h.value.as_deref()))
                .collect();
            builder.push_raw(
                (record.offset - base) as i32,
                record.timestamp,
                record.key.as_deref(),
                record.value.as_deref(),
                &headers,
            );
        }
        builder.build_compressed(codec, &ReversingCodecs).unwrap()
    }

    fn opened(batch: &[u8]) -> Vec<Row> {
        let header = validate_stored_batch(batch).unwrap().header;
        let section = &batch[HEADER_BYTES..];
        let section = ReversingCodecs
            .decompress(header.compression().unwrap(), section, 1 << 20)
            .unwrap();
        let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8(b).unwrap());
        decode_records_section(&header, &section)
            .unwrap()
            .into_iter()
            .map(|r| (r.offset, text(r.key), text(r.value), r.timestamp))
            .collect()
    }

    fn with_codecs(map: &OffsetMap, now_ms: i64) -> Judge<'_> {
        Judge {
            codecs: &ReversingCodecs,
            ..judge_at(map, now_ms)
        }
    }

    #[test]
    fn a_compressed_batch_is_filtered_and_recompressed_with_its_own_codec() {
        let records = [
            (Some("a"), Some("1")),
            (Some("b"), None),
            (Some("a"), Some("3")),
            (Some("c"), Some("4")),
        ];
        let batch = compressed(10, Compression::Lz4, &records);
        let mapped = map(&[("b", 11), ("a", 12), ("c", 40)], 40);
        let Kept::Rewritten(bytes) = judge(&batch, false, &with_codecs(&mapped, 2000)).unwrap()
        else {
            panic!("rewritten")
        };
        let original = validate_stored_batch(&batch).unwrap().header;
        let header = validate_stored_batch(&bytes).unwrap().header;
        assert_eq!(header.compression(), Ok(Compression::Lz4), "its own codec");
        assert_eq!(
            opened(&bytes),
            [row(11, "b", None, 1001), row(12, "a", Some("3"), 1002)],
            "the latest of a and b (a tombstone, kept until its horizon); c is newer elsewhere"
        );
        assert_eq!(
            (
                header.base_offset,
                header.last_offset(),
                header.record_count
            ),
            (10, 13, 2),
            "offsets never change"
        );
        assert_eq!(
            (
                header.producer_id,
                header.producer_epoch,
                header.base_sequence
            ),
            (
                original.producer_id,
                original.producer_epoch,
                original.base_sequence
            )
        );
        assert_eq!(header.partition_leader_epoch, 3);
        assert_eq!(header.delete_horizon_ms(), Some(2500));
        // Once the horizon passed, the tombstone goes too, still compressed.
        let Kept::Rewritten(later) = judge(&bytes, false, &with_codecs(&mapped, 2500)).unwrap()
        else {
            panic!("rewritten")
        };
        assert_eq!(opened(&later), [row(12, "a", Some("3"), 1002)]);
        // Nothing left but a header someone needs: the empty header, uncompressed.
        let newer = map(&[("a", 50), ("b", 51), ("c", 52)], 52);
        let Kept::Rewritten(empty) = judge(&batch, true, &with_codecs(&newer, 0)).unwrap() else {
            panic!("header kept")
        };
        let header = validate_stored_batch(&empty).unwrap().header;
        assert_eq!((header.record_count, header.last_offset()), (0, 13));
        assert_eq!(
            judge(&batch, false, &with_codecs(&newer, 0)),
            Ok(Kept::Nothing)
        );
        // Every record still the latest: kept byte for byte, not recompressed.
        let same = map(&[("b", 11), ("a", 12), ("c", 13)], 13);
        let fresh = compressed(10, Compression::Gzip, &[(Some("x"), Some("1"))]);
        assert_eq!(
            judge(&fresh, false, &with_codecs(&same, 0)),
            Ok(Kept::Whole)
        );
    }

    #[test]
    fn a_compressed_batch_that_cannot_be_opened_is_kept_unread() {
        let batch = compressed(
            10,
            Compression::Zstd,
            &[(Some("a"), Some("1")), (Some("a"), Some("2"))],
        );
        let map = map(&[("a", 11)], 11);
        // No codecs (the playground).
        let Ok(Kept::Unread(reason)) = judge(&batch, false, &judge_at(&map, 0)) else {
            panic!("unread")
        };
        assert!(reason.contains("no Zstd codec"), "{reason}");
        // Inflating past the bound: refused, not allocated.
        let small = Judge {
            max_decompressed_bytes: 10,
            ..with_codecs(&map, 0)
        };
        let Ok(Kept::Unread(reason)) = judge(&batch, false, &small) else {
            panic!("unread")
        };
        assert!(reason.contains("more than 10 bytes"), "{reason}");
        // Corrupt inside (a valid CRC over bytes the codec refuses, or records that do not
        // parse once opened): unread, never an error that stops the cleaner.
        let header = validate_stored_batch(&batch).unwrap().header;
        let mut builder = BatchBuilder::rewrite_of(&header, None);
        builder.push_raw(0, 1000, Some(b"a"), Some(b"1"), &[]);
        let mut lying = builder
            .build_compressed(Compression::Zstd, &ReversingCodecs)
            .unwrap();
        lying[57..61].copy_from_slice(&5i32.to_be_bytes()); // record count 5, one inside
        let crc = crc32c::crc32c(&lying[21..]);
        lying[17..21].copy_from_slice(&crc.to_be_bytes());
        let Ok(Kept::Unread(reason)) = judge(&lying, false, &with_codecs(&map, 0)) else {
            panic!("unread")
        };
        assert!(reason.contains("declares 5 records"), "{reason}");
        let mut wrong_codec = batch.clone();
        wrong_codec[HEADER_BYTES] = Compression::Gzip.attribute_bits() as u8;
        let crc = crc32c::crc32c(&wrong_codec[21..]);
        wrong_codec[17..21].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            judge(&wrong_codec, false, &with_codecs(&map, 0)),
            Ok(Kept::Unread(_))
        ));
    }

    #[test]
    fn keyless_records_are_dropped() {
        let batch = stored(0, &[(None, Some("x")), (Some("k"), Some("y"))]);
        let map = map(&[("k", 1)], 1);
        let Kept::Rewritten(bytes) = judge(&batch, false, &judge_at(&map, 0)).unwrap() else {
            panic!("rewritten")
        };
        assert_eq!(rows(&bytes), [row(1, "k", Some("y"), 1001)]);
    }
}
