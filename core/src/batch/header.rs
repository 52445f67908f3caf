//! The fixed 61-byte header of a v2 record batch: field positions, parsing, attribute bits.

use super::BatchError;

/// The only message format Partita stores (Kafka 0.11+).
pub const MAGIC_V2: i8 = 2;
/// Size of the header up to and including the record count.
pub const HEADER_BYTES: usize = 61;
/// `baseOffset` and `batchLength`: the bytes not counted by `batchLength` (Kafka's LOG_OVERHEAD).
pub const LOG_OVERHEAD_BYTES: usize = 12;
/// The largest batch Partita will parse, whatever topic config says: a guard against a
/// corrupt length allocating gigabytes. Kafka's default `message.max.bytes` is just under 1 MiB.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// `producerId` of a batch from a producer without idempotence.
pub const NO_PRODUCER_ID: i64 = -1;
/// `producerEpoch` of a batch from a producer without idempotence.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `baseSequence` of a batch from a producer without idempotence.
pub const NO_SEQUENCE: i32 = -1;
/// `partitionLeaderEpoch` as a client writes it, before the leader stamps its own.
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

// Byte positions of the header fields.
pub(super) const BASE_OFFSET_AT: usize = 0;
pub(super) const BATCH_LENGTH_AT: usize = 8;
pub(super) const PARTITION_LEADER_EPOCH_AT: usize = 12;
pub(super) const MAGIC_AT: usize = 16;
pub(super) const CRC_AT: usize = 17;
/// The CRC covers everything from here to the end of the batch.
pub(super) const ATTRIBUTES_AT: usize = 21;
const LAST_OFFSET_DELTA_AT: usize = 23;
const BASE_TIMESTAMP_AT: usize = 27;
pub(super) const MAX_TIMESTAMP_AT: usize = 35;
const PRODUCER_ID_AT: usize = 43;
const PRODUCER_EPOCH_AT: usize = 51;
const BASE_SEQUENCE_AT: usize = 53;
const RECORD_COUNT_AT: usize = 57;

const COMPRESSION_MASK: i16 = 0b111;
pub(super) const TIMESTAMP_TYPE_BIT: i16 = 1 << 3;
pub(super) const TRANSACTIONAL_BIT: i16 = 1 << 4;
pub(super) const CONTROL_BIT: i16 = 1 << 5;
/// Set by the log cleaner (KIP-534): `baseTimestamp` holds the time after which the batch's
/// tombstones may be removed, and record timestamp deltas are relative to it.
pub(super) const DELETE_HORIZON_BIT: i16 = 1 << 6;

/// The compression codec of a batch (attribute bits 0-2). Compressed batches are stored and
/// served as the producer sent them; an append opens them through the shell's
/// [`super::Codecs`] only to check their records, and the log cleaner to compact them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    /// The codec's id in a batch's attributes (bits 0-2), as Kafka numbers them.
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }
}

/// Whose clock the batch timestamps are (attribute bit 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampType {
    CreateTime,
    LogAppendTime,
}

/// The decoded header of a v2 record batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    /// Bytes after the `batchLength` field; the whole batch is this plus [`LOG_OVERHEAD_BYTES`].
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

impl BatchHeader {
    /// Reads the header fields from the first [`HEADER_BYTES`] of `bytes`, checking only what
    /// is needed to trust the length: enough bytes, a sane `batchLength`, magic 2.
    pub fn parse(bytes: &[u8]) -> Result<BatchHeader, BatchError> {
        if bytes.len() < HEADER_BYTES {
            return Err(BatchError::Truncated {
                needed: HEADER_BYTES,
                available: bytes.len(),
            });
        }
        let header = BatchHeader {
            base_offset: i64_at(bytes, BASE_OFFSET_AT),
            batch_length: i32_at(bytes, BATCH_LENGTH_AT),
            partition_leader_epoch: i32_at(bytes, PARTITION_LEADER_EPOCH_AT),
            magic: bytes[MAGIC_AT] as i8,
            crc: i32_at(bytes, CRC_AT) as u32,
            attributes: i16_at(bytes, ATTRIBUTES_AT),
            last_offset_delta: i32_at(bytes, LAST_OFFSET_DELTA_AT),
            base_timestamp: i64_at(bytes, BASE_TIMESTAMP_AT),
            max_timestamp: i64_at(bytes, MAX_TIMESTAMP_AT),
            producer_id: i64_at(bytes, PRODUCER_ID_AT),
            producer_epoch: i16_at(bytes, PRODUCER_EPOCH_AT),
            base_sequence: i32_at(bytes, BASE_SEQUENCE_AT),
            record_count: i32_at(bytes, RECORD_COUNT_AT),
        };
        match header.magic {
            MAGIC_V2 => {}
            0 | 1 => return Err(BatchError::UnsupportedMagic(header.magic)),
            other => return Err(BatchError::InvalidMagic(other)),
        }
        let size = header.batch_length as i64 + LOG_OVERHEAD_BYTES as i64;
        if size < HEADER_BYTES as i64 || size > MAX_BATCH_BYTES as i64 {
            return Err(BatchError::InvalidLength(header.batch_length));
        }
        // Offsets past i64::MAX cannot exist; refusing them here keeps `last_offset` and
        // `next_offset` from overflowing (a fuzz finding on arbitrary segment bytes).
        let end = header
            .base_offset
            .checked_add(i64::from(header.last_offset_delta))
            .and_then(|last| last.checked_add(1));
        if header.base_offset < 0 || header.last_offset_delta < 0 || end.is_none() {
            return Err(BatchError::MalformedRecord("offsets out of range"));
        }
        Ok(header)
    }

    /// Size of the whole batch in bytes, header included.
    pub fn size_bytes(&self) -> usize {
        self.batch_length as usize + LOG_OVERHEAD_BYTES
    }

    /// The offset of the last record: base offset plus `lastOffsetDelta`.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    /// The offset after this batch.
    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }

    /// The compression codec; an error for codec ids Kafka does not define.
    pub fn compression(&self) -> Result<Compression, BatchError> {
        match self.attributes & COMPRESSION_MASK {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(BatchError::UnknownCompression(other as u8)),
        }
    }

    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & TIMESTAMP_TYPE_BIT == 0 {
            TimestampType::CreateTime
        } else {
            TimestampType::LogAppendTime
        }
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_BIT != 0
    }

    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_BIT != 0
    }

    /// KIP-534's delete horizon: set by the log cleaner on a batch it kept tombstones in; they
    /// may be removed once the cleaner's clock passes it. `None` when the bit is not set.
    pub fn delete_horizon_ms(&self) -> Option<i64> {
        (self.attributes & DELETE_HORIZON_BIT != 0).then_some(self.base_timestamp)
    }

    /// Whether the batch comes from an idempotent (or transactional) producer.
    pub fn has_producer_id(&self) -> bool {
        self.producer_id != NO_PRODUCER_ID
    }

    /// The sequence number of the last record, wrapping past `i32::MAX` to 0 as Kafka does.
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence == NO_SEQUENCE {
            return NO_SEQUENCE;
        }
        let last = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        (last % (i64::from(i32::MAX) + 1)) as i32
    }
}

fn i64_at(bytes: &[u8], at: usize) -> i64 {
    let mut raw = [0; 8];
    raw.copy_from_slice(&bytes[at..at + 8]);
    i64::from_be_bytes(raw)
}

fn i32_at(bytes: &[u8], at: usize) -> i32 {
    let mut raw = [0; 4];
    raw.copy_from_slice(&bytes[at..at + 4]);
    i32::from_be_bytes(raw)
}

fn i16_at(bytes: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([bytes[at], bytes[at + 1]])
}
