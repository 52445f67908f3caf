//! Writes an uncompressed v2 batch byte for byte as a Kafka client does, for the simulated
//! clients and the playground; and rewrites a stored batch with fewer records, as Kafka's log
//! cleaner does (`MemoryRecords.buildRetainedRecordsInto`, `DefaultRecordBatch.writeEmptyHeader`).

use super::header::{
    ATTRIBUTES_AT, CONTROL_BIT, CRC_AT, DELETE_HORIZON_BIT, TIMESTAMP_TYPE_BIT, TRANSACTIONAL_BIT,
};
use super::varint::{put_varint, put_varlong, varint_len, varlong_len};
use super::{
    BatchHeader, CodecError, Codecs, Compression, HEADER_BYTES, Header, LOG_OVERHEAD_BYTES,
    MAGIC_V2, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
    TimestampType,
};

/// Builds one uncompressed record batch.
///
/// As Kafka's `MemoryRecordsBuilder` and librdkafka do: base offset 0 and partition leader
/// epoch -1 (the broker fills both), base timestamp = first record's timestamp, each record's
/// timestamp and offset as deltas, max timestamp = the largest, attributes 0 (no compression,
/// create time), producer id/epoch/sequence -1 unless [`BatchBuilder::idempotent`].
#[derive(Clone, Debug)]
pub struct BatchBuilder {
    base_offset: i64,
    partition_leader_epoch: i32,
    /// Timestamp type, transactional, control and delete-horizon bits; compression only once
    /// [`BatchBuilder::build_compressed`] compressed the records.
    attributes: i16,
    /// A rewritten batch keeps its original `lastOffsetDelta` whatever records remain, so the
    /// producer's sequence range and the log's offsets stay as they were.
    last_offset_delta: Option<i32>,
    /// The first record's offset delta must be at least this.
    next_offset_delta: i32,
    /// Fixed base timestamp (the delete horizon of a rewritten batch); else the first record's.
    fixed_base_timestamp: Option<i64>,
    /// Fixed max timestamp (a LogAppendTime batch keeps the broker's stamp).
    fixed_max_timestamp: Option<i64>,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    record_count: i32,
    /// Header placeholder followed by the encoded records.
    bytes: Vec<u8>,
    /// Reused per record: the record body is encoded here to learn its length first.
    scratch: Vec<u8>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder::new()
    }
}

impl BatchBuilder {
    /// An empty batch from a producer without idempotence.
    pub fn new() -> BatchBuilder {
        BatchBuilder {
            base_offset: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            attributes: 0,
            last_offset_delta: None,
            next_offset_delta: 0,
            fixed_base_timestamp: None,
            fixed_max_timestamp: None,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            base_timestamp: 0,
            max_timestamp: -1,
            record_count: 0,
            bytes: vec![0; HEADER_BYTES],
            scratch: Vec::new(),
        }
    }

    /// Marks the batch as sent by an idempotent producer: its id, epoch, and the sequence
    /// number of the first record in this batch.
    pub fn idempotent(mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Self {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
        self
    }

    /// Sets attribute bits besides compression (transactional, control): a transactional
    /// producer's batches and the coordinator's control batches ([`super::EndTxnMarker`]).
    pub fn with_attribute_bits(mut self, bits: i16) -> Self {
        self.attributes |= bits & !0b111;
        self
    }

    /// Marks the batch as part of a transaction (attribute bit 4), as a transactional
    /// producer sends it.
    pub fn transactional(self) -> Self {
        self.with_attribute_bits(super::header::TRANSACTIONAL_BIT)
    }

    /// A builder for a rewrite of the stored batch `original`, as the log cleaner writes it:
    /// same base offset, leader epoch, producer id, epoch and base sequence, timestamp type,
    /// transactional and control bits, and `lastOffsetDelta`; records are pushed with
    /// [`BatchBuilder::push_raw`] at their own offset deltas. With `delete_horizon_ms` the
    /// batch carries KIP-534's delete horizon as its base timestamp.
    pub fn rewrite_of(original: &BatchHeader, delete_horizon_ms: Option<i64>) -> BatchBuilder {
        let kept_bits = TIMESTAMP_TYPE_BIT | TRANSACTIONAL_BIT | CONTROL_BIT;
        let mut attributes = original.attributes & kept_bits;
        if delete_horizon_ms.is_some() {
            attributes |= DELETE_HORIZON_BIT;
        }
        let log_append_time = original.timestamp_type() == TimestampType::LogAppendTime;
        BatchBuilder {
            base_offset: original.base_offset,
            partition_leader_epoch: original.partition_leader_epoch,
            attributes,
            last_offset_delta: Some(original.last_offset_delta),
            fixed_base_timestamp: delete_horizon_ms,
            fixed_max_timestamp: log_append_time.then_some(original.max_timestamp),
            ..BatchBuilder::new().idempotent(
                original.producer_id,
                original.producer_epoch,
                original.base_sequence,
            )
        }
    }

    /// The header alone of `original` with no records left: Kafka keeps such a batch when it
    /// holds a producer's last sequence number (`DefaultRecordBatch.writeEmptyHeader`: no
    /// base timestamp, the original max timestamp, no delete horizon).
    pub fn empty_of(original: &BatchHeader) -> Vec<u8> {
        let mut builder = BatchBuilder::rewrite_of(original, None);
        builder.fixed_base_timestamp = Some(-1);
        builder.fixed_max_timestamp = Some(original.max_timestamp);
        builder.build()
    }

    /// Appends a record; `None` key or value is Kafka's null (length -1), not empty.
    pub fn push(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> &mut Self {
        let headers: Vec<(&[u8], Option<&[u8]>)> = headers
            .iter()
            .map(|h| (h.key.as_bytes(), h.value.as_deref()))
            .collect();
        self.push_raw(self.next_offset_delta, timestamp, key, value, &headers)
    }

    /// Appends a record at `offset_delta` from the base offset (after the previous record's),
    /// with raw header keys and values: what the log cleaner copies from a stored record.
    pub fn push_raw(
        &mut self,
        offset_delta: i32,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&[u8], Option<&[u8]>)],
    ) -> &mut Self {
        assert!(
            offset_delta >= self.next_offset_delta,
            "offset deltas only increase"
        );
        if self.record_count == 0 {
            self.base_timestamp = self.fixed_base_timestamp.unwrap_or(timestamp);
        }
        self.max_timestamp = self.max_timestamp.max(timestamp);
        let body = &mut self.scratch;
        body.clear();
        body.push(0); // record attributes: unused
        put_varlong(body, timestamp.wrapping_sub(self.base_timestamp));
        put_varint(body, offset_delta);
        put_bytes(body, key);
        put_bytes(body, value);
        put_varint(body, headers.len() as i32);
        for (key, value) in headers {
            put_bytes(body, Some(key));
            put_bytes(body, *value);
        }
        put_varint(&mut self.bytes, body.len() as i32);
        self.bytes.extend_from_slice(body);
        self.record_count += 1;
        self.next_offset_delta = offset_delta + 1;
        self
    }

    /// How many records have been pushed.
    pub fn record_count(&self) -> usize {
        self.record_count as usize
    }

    /// The size the batch would have if built now (a client's `batch.size` check).
    pub fn size_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The size one more record would add, so a client can decide to close the batch first.
    pub fn record_size_bytes(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> usize {
        let base = if self.record_count == 0 {
            timestamp
        } else {
            self.base_timestamp
        };
        let field = |bytes: Option<&[u8]>| {
            bytes.map_or(varint_len(-1), |b| varint_len(b.len() as i32) + b.len())
        };
        let body = 1
            + varlong_len(timestamp.wrapping_sub(base))
            + varint_len(self.next_offset_delta)
            + field(key)
            + field(value)
            + varint_len(headers.len() as i32)
            + headers
                .iter()
                .map(|h| field(Some(h.key.as_bytes())) + field(h.value.as_deref()))
                .sum::<usize>();
        varint_len(body as i32) + body
    }

    /// Finishes the batch as [`BatchBuilder::build`] does, with its records section compressed
    /// by `codec` from `codecs` and the codec in its attributes: what the log cleaner writes
    /// when it rewrites a compressed batch (Kafka's cleaner recompresses with the batch's own
    /// codec). `Compression::None` is the same as `build`.
    pub fn build_compressed(
        mut self,
        codec: Compression,
        codecs: &dyn Codecs,
    ) -> Result<Vec<u8>, CodecError> {
        if codec != Compression::None {
            let compressed = codecs.compress(codec, &self.bytes[HEADER_BYTES..])?;
            self.bytes.truncate(HEADER_BYTES);
            self.bytes.extend_from_slice(&compressed);
            self.attributes |= codec.attribute_bits();
        }
        Ok(self.build())
    }

    /// Finishes the header (lengths, counts, timestamps, CRC-32C) and returns the batch.
    /// Panics on an empty builder unless it rewrites a stored batch: Kafka has no empty
    /// batches from clients.
    pub fn build(mut self) -> Vec<u8> {
        assert!(
            self.record_count > 0 || self.last_offset_delta.is_some(),
            "a batch needs at least one record"
        );
        let last_offset_delta = self.last_offset_delta.unwrap_or(self.record_count - 1);
        assert!(
            self.next_offset_delta <= last_offset_delta + 1,
            "records beyond lastOffsetDelta"
        );
        if let Some(max) = self.fixed_max_timestamp {
            self.max_timestamp = max;
        }
        if self.record_count == 0 {
            self.base_timestamp = self.fixed_base_timestamp.unwrap_or(-1);
        }
        let batch_length = (self.bytes.len() - LOG_OVERHEAD_BYTES) as i32;
        let mut header = Vec::with_capacity(HEADER_BYTES);
        // A client's base offset is 0 (the broker assigns it); a rewrite keeps the original.
        header.extend_from_slice(&self.base_offset.to_be_bytes());
        header.extend_from_slice(&batch_length.to_be_bytes());
        header.extend_from_slice(&self.partition_leader_epoch.to_be_bytes());
        header.push(MAGIC_V2 as u8);
        header.extend_from_slice(&[0; 4]); // CRC, filled below
        header.extend_from_slice(&self.attributes.to_be_bytes());
        header.extend_from_slice(&last_offset_delta.to_be_bytes());
        header.extend_from_slice(&self.base_timestamp.to_be_bytes());
        header.extend_from_slice(&self.max_timestamp.to_be_bytes());
        header.extend_from_slice(&self.producer_id.to_be_bytes());
        header.extend_from_slice(&self.producer_epoch.to_be_bytes());
        header.extend_from_slice(&self.base_sequence.to_be_bytes());
        header.extend_from_slice(&self.record_count.to_be_bytes());
        debug_assert_eq!(header.len(), HEADER_BYTES);
        self.bytes[..HEADER_BYTES].copy_from_slice(&header);
        let crc = crc32c::crc32c(&self.bytes[ATTRIBUTES_AT..]);
        self.bytes[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        self.bytes
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => put_varint(out, -1),
        Some(bytes) => {
            put_varint(out, bytes.len() as i32);
            out.extend_from_slice(bytes);
        }
    }
}
