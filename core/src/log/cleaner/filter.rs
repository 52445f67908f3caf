//! What the cleaner keeps of one stored batch (Kafka's `Cleaner.cleanInto` filter and
//! `MemoryRecords.filterTo`): the latest record of each key, tombstones until their delete
//! horizon, and the batch header alone where it must stay.

use super::offset_map::OffsetMap;
use crate::batch::{BatchBuilder, BatchError, BatchHeader, Compression, raw_records};

/// The facts one batch is judged by, besides the dedupe map.
#[derive(Clone, Copy, Debug)]
pub(super) struct Judge<'a> {
    pub map: &'a OffsetMap,
    /// The round's clock: a tombstone whose batch's delete horizon is at or before it goes.
    pub now_ms: i64,
    /// `delete.retention.ms`: the horizon stamped on a batch whose tombstones are kept.
    pub delete_retention_ms: i64,
    /// A compressed batch (whose keys the core cannot read) came earlier in the log: a
    /// tombstone may be all that hides an older value in it, so tombstones stay.
    pub opaque_before: bool,
}

/// The verdict on one batch.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Kept {
    /// Nothing of it remains.
    Nothing,
    /// The batch as stored, byte for byte.
    Whole,
    /// A rewritten batch: same offsets, producer fields and leader epoch, fewer records (or
    /// none: the header alone, where `keep_header` asked for it).
    Rewritten(Vec<u8>),
}

/// Judges `batch`, a valid stored batch. `keep_header` keeps at least its header even if no
/// record remains (Kafka's `RETAIN_EMPTY`).
///
/// A control batch is kept whole (no transactions are cleaned yet), as is a compressed one:
/// the core carries no codecs, so its keys are unknown and nothing in it is dropped.
pub(super) fn judge(batch: &[u8], keep_header: bool, judge: &Judge) -> Result<Kept, BatchError> {
    let header = BatchHeader::parse(batch)?;
    if header.is_control() || header.compression()? != Compression::None {
        return Ok(Kept::Whole);
    }
    let records = raw_records(batch)?.expect("uncompressed");
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
    Ok(Kept::Rewritten(builder.build()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Header, assign_offsets, decode_records, validate_stored_batch};

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
            map,
            now_ms,
            delete_retention_ms: 500,
            opaque_before: false,
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
