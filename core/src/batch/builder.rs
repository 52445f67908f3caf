//! Writes an uncompressed v2 batch byte for byte as a Kafka client does, for the simulated
//! clients and the playground.

use super::header::{ATTRIBUTES_AT, CRC_AT};
use super::varint::{put_varint, put_varlong, varint_len, varlong_len};
use super::{
    HEADER_BYTES, Header, LOG_OVERHEAD_BYTES, MAGIC_V2, NO_PARTITION_LEADER_EPOCH,
    NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
};

/// Builds one uncompressed record batch.
///
/// As Kafka's `MemoryRecordsBuilder` and librdkafka do: base offset 0 and partition leader
/// epoch -1 (the broker fills both), base timestamp = first record's timestamp, each record's
/// timestamp and offset as deltas, max timestamp = the largest, attributes 0 (no compression,
/// create time), producer id/epoch/sequence -1 unless [`BatchBuilder::idempotent`].
#[derive(Clone, Debug)]
pub struct BatchBuilder {
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

    /// Appends a record; `None` key or value is Kafka's null (length -1), not empty.
    pub fn push(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> &mut Self {
        if self.record_count == 0 {
            self.base_timestamp = timestamp;
        }
        self.max_timestamp = self.max_timestamp.max(timestamp);
        let body = &mut self.scratch;
        body.clear();
        body.push(0); // record attributes: unused
        put_varlong(body, timestamp.wrapping_sub(self.base_timestamp));
        put_varint(body, self.record_count);
        put_bytes(body, key);
        put_bytes(body, value);
        put_varint(body, headers.len() as i32);
        for header in headers {
            put_bytes(body, Some(header.key.as_bytes()));
            put_bytes(body, header.value.as_deref());
        }
        put_varint(&mut self.bytes, body.len() as i32);
        self.bytes.extend_from_slice(body);
        self.record_count += 1;
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
            + varint_len(self.record_count)
            + field(key)
            + field(value)
            + varint_len(headers.len() as i32)
            + headers
                .iter()
                .map(|h| field(Some(h.key.as_bytes())) + field(h.value.as_deref()))
                .sum::<usize>();
        varint_len(body as i32) + body
    }

    /// Finishes the header (lengths, counts, timestamps, CRC-32C) and returns the batch.
    /// Panics on an empty builder: Kafka has no empty batches from clients.
    pub fn build(mut self) -> Vec<u8> {
        assert!(self.record_count > 0, "a batch needs at least one record");
        let batch_length = (self.bytes.len() - LOG_OVERHEAD_BYTES) as i32;
        let mut header = Vec::with_capacity(HEADER_BYTES);
        header.extend_from_slice(&0i64.to_be_bytes()); // base offset: the broker assigns it
        header.extend_from_slice(&batch_length.to_be_bytes());
        header.extend_from_slice(&NO_PARTITION_LEADER_EPOCH.to_be_bytes());
        header.push(MAGIC_V2 as u8);
        header.extend_from_slice(&[0; 4]); // CRC, filled below
        header.extend_from_slice(&0i16.to_be_bytes()); // attributes
        header.extend_from_slice(&(self.record_count - 1).to_be_bytes()); // last offset delta
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
