//! The records inside an uncompressed batch: a checked walk for validation and an owned
//! decoder for the playground and the checker.

use super::varint::{get_varint, get_varlong};
use super::{BatchError, BatchHeader, Compression, HEADER_BYTES, TimestampType};

/// The smallest record on the wire: one byte each for its length, attributes, timestamp delta,
/// offset delta, key length, value length and header count.
const RECORD_MIN_BYTES: usize = 7;

/// A record header: a string key and optional bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// One record, with its absolute offset and timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

/// A record as stored, pointing into its batch: what validation and the log cleaner read.
/// The timestamp is a delta from the batch's `baseTimestamp`; a header is a key and a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord<'a> {
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<(&'a [u8], Option<&'a [u8]>)>,
}

/// The records of a valid, uncompressed batch as stored, borrowing from `batch`; `None` for a
/// compressed batch (the core carries no codecs).
pub fn raw_records(batch: &[u8]) -> Result<Option<Vec<RawRecord<'_>>>, BatchError> {
    let Some((header, records)) = records_section(batch)? else {
        return Ok(None);
    };
    raw_records_section(&header, records).map(Some)
}

/// The records of a records section (an uncompressed batch's bytes after its header, or what
/// a compressed batch's section decompressed to) of a batch with `header`, borrowing from
/// `records`: what the log cleaner reads of a compressed batch it opened.
pub fn raw_records_section<'a>(
    header: &BatchHeader,
    records: &'a [u8],
) -> Result<Vec<RawRecord<'a>>, BatchError> {
    let mut out = Vec::with_capacity(capacity(header, records));
    walk_records(records, |raw| {
        out.push(raw);
        Ok(())
    })?;
    Ok(out)
}

/// Walks the records section of an uncompressed batch, checking that each record's fields fit
/// its declared length exactly. Calls `each` per record; returns how many there were.
pub(super) fn walk_records<'a>(
    records: &'a [u8],
    mut each: impl FnMut(RawRecord<'a>) -> Result<(), BatchError>,
) -> Result<usize, BatchError> {
    let mut pos = 0;
    let mut count = 0;
    while pos < records.len() {
        let length = get_varint(records, &mut pos).ok_or(malformed("record length"))?;
        let length = usize::try_from(length).map_err(|_| malformed("negative record length"))?;
        let end = pos.checked_add(length).filter(|&end| end <= records.len());
        let end = end.ok_or(malformed("record longer than its batch"))?;
        let body = &records[..end];
        let _attributes = *body.get(pos).ok_or(malformed("record attributes"))?;
        pos += 1;
        let timestamp_delta = get_varlong(body, &mut pos).ok_or(malformed("timestamp delta"))?;
        let offset_delta = get_varint(body, &mut pos).ok_or(malformed("offset delta"))?;
        let key = bytes_field(body, &mut pos)?;
        let value = bytes_field(body, &mut pos)?;
        let header_count = get_varint(body, &mut pos).ok_or(malformed("header count"))?;
        let header_count =
            usize::try_from(header_count).map_err(|_| malformed("negative header count"))?;
        // Each header takes at least two bytes, which bounds the allocation below.
        if header_count > (end - pos) / 2 {
            return Err(malformed("header count larger than the record"));
        }
        let mut headers = Vec::with_capacity(header_count);
        for _ in 0..header_count {
            let key = bytes_field(body, &mut pos)?.ok_or(malformed("null header key"))?;
            let value = bytes_field(body, &mut pos)?;
            headers.push((key, value));
        }
        if pos != end {
            return Err(malformed("record length disagrees with its fields"));
        }
        each(RawRecord {
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        })?;
        count += 1;
    }
    Ok(count)
}

/// A varint length then that many bytes; length -1 is null.
fn bytes_field<'a>(body: &'a [u8], pos: &mut usize) -> Result<Option<&'a [u8]>, BatchError> {
    let length = get_varint(body, pos).ok_or(malformed("field length"))?;
    if length == -1 {
        return Ok(None);
    }
    let length = usize::try_from(length).map_err(|_| malformed("negative field length"))?;
    let field = body
        .get(*pos..*pos + length)
        .ok_or(malformed("field past end of record"))?;
    *pos += length;
    Ok(Some(field))
}

fn malformed(what: &'static str) -> BatchError {
    BatchError::MalformedRecord(what)
}

/// The indexes (0-based, in batch order) of the records without a key (null, not empty) in a
/// records section (an uncompressed batch's, or what a compressed one decompressed to, see
/// [`super::open_records`]), as Kafka's `LogValidator.validateKey` reports them for a
/// compacted topic.
pub fn keyless_record_indexes(records: &[u8]) -> Result<Vec<i32>, BatchError> {
    let mut keyless = Vec::new();
    let mut index = 0;
    walk_records(records, |record| {
        if record.key.is_none() {
            keyless.push(index);
        }
        index += 1;
        Ok(())
    })?;
    Ok(keyless)
}

/// Decodes every record of a valid, uncompressed batch (the playground shows them, the
/// checker compares them). Compressed batches are refused: the core carries no codecs.
pub fn decode_records(batch: &[u8]) -> Result<Vec<Record>, BatchError> {
    let Some((header, records)) = records_section(batch)? else {
        return Err(BatchError::MalformedRecord(
            "cannot decode a compressed batch",
        ));
    };
    decode_records_section(&header, records)
}

/// Decodes the records section of a batch with this `header`: the bytes after the header of an
/// uncompressed batch, or what a compressed batch's section decompresses to (the shell
/// decompresses, with a bound on the size: the core carries no codecs).
pub fn decode_records_section(
    header: &BatchHeader,
    records: &[u8],
) -> Result<Vec<Record>, BatchError> {
    let mut out = Vec::with_capacity(capacity(header, records));
    walk_records(records, |raw| {
        out.push(Record {
            offset: header.base_offset.wrapping_add(i64::from(raw.offset_delta)),
            // A broker-stamped batch gives every record its append time (the max timestamp).
            timestamp: match header.timestamp_type() {
                TimestampType::LogAppendTime => header.max_timestamp,
                TimestampType::CreateTime => {
                    header.base_timestamp.wrapping_add(raw.timestamp_delta)
                }
            },
            key: raw.key.map(<[u8]>::to_vec),
            value: raw.value.map(<[u8]>::to_vec),
            headers: raw
                .headers
                .iter()
                .map(|(key, value)| Header {
                    key: String::from_utf8_lossy(key).into_owned(),
                    value: value.map(<[u8]>::to_vec),
                })
                .collect(),
        });
        Ok(())
    })?;
    Ok(out)
}

/// The count comes from the batch's bytes: reserve no more than the records section can hold
/// (a record takes at least RECORD_MIN_BYTES), so a lying count cannot abort the process.
fn capacity(header: &BatchHeader, records: &[u8]) -> usize {
    (header.record_count.max(0) as usize).min(records.len() / RECORD_MIN_BYTES)
}

/// The header and records section of an uncompressed batch; `None` for a compressed one.
fn records_section(batch: &[u8]) -> Result<Option<(BatchHeader, &[u8])>, BatchError> {
    let header = BatchHeader::parse(batch)?;
    if header.compression()? != Compression::None {
        return Ok(None);
    }
    let end = header.size_bytes();
    let records = batch.get(HEADER_BYTES..end).ok_or(BatchError::Truncated {
        needed: end,
        available: batch.len(),
    })?;
    Ok(Some((header, records)))
}
