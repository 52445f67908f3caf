//! Kafka record batches (magic v2): validation, in-place offset assignment, a builder.
//!
//! The record batch is the unit of storage: the broker keeps exactly the bytes a producer sent.
//! It checks the header and CRC-32C ([`validate_batch`]), then rewrites only the base offset and
//! the partition leader epoch ([`assign_offsets`]), both outside the CRC, so compressed batches
//! are stored as sent and never re-encoded. [`BatchBuilder`] writes the bytes a Kafka client
//! writes for an uncompressed batch; [`decode_records`] reads them back for the playground and
//! the checker.
//!
//! Layout (all integers big-endian; <https://kafka.apache.org/documentation/#recordbatch>):
//!
//! ```text
//! baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 | crc u32 |
//! attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
//! producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32 | records...
//! ```
//!
//! `batchLength` counts the bytes after itself; the CRC covers `attributes` to the end.

mod assign;
mod builder;
mod codecs;
mod control;
mod error;
mod header;
mod open;
mod records;
mod validate;
mod varint;

pub use assign::{assign_offsets, set_log_append_time};
pub use builder::BatchBuilder;
#[cfg(test)]
pub(crate) use codecs::ReversingCodecs;
pub use codecs::{CodecError, Codecs, DECOMPRESSED_BATCH_MAX_BYTES, NoCodecs};
pub use control::{CONTROL_TYPE_ABORT, CONTROL_TYPE_COMMIT, EndTxnMarker};
pub use error::BatchError;
pub use header::{
    BatchHeader, Compression, HEADER_BYTES, LOG_OVERHEAD_BYTES, MAGIC_V2, MAX_BATCH_BYTES,
    NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, TimestampType,
};
pub use open::{OpenError, open_records};
pub use records::{
    Header, RawRecord, Record, decode_records, decode_records_section, keyless_record_indexes,
    raw_records, raw_records_section,
};
pub use validate::{
    BatchSummary, split_batches, validate_batch, validate_client_records, validate_stored_batch,
    validate_stored_records,
};

#[cfg(test)]
mod tests;
