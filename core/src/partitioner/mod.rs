//! Partitioners of the real clients: consistent_random (CRC32), murmur2, sticky.
//!
//! A producer picks a partition for each record on the client side; to behave like the clients
//! people run against Partita, the simulated producer must pick the *same* partition for the
//! same key and partition count:
//!
//! - librdkafka (confluent-kafka, kcat) defaults to `consistent_random`: the CRC-32 (IEEE, as in
//!   zlib) of the key modulo the partition count, and a random partition for a record without a
//!   key (or with an empty one);
//! - the Java client hashes keys with murmur2 (`toPositive(murmur2(key)) % partitions`), and
//!   librdkafka offers the same as `murmur2_random`;
//! - both clients make keyless records "sticky" (KIP-480, librdkafka's
//!   `sticky.partitioning.linger.ms`): they stay on one partition until its batch is sent.
//!
//! The core has no randomness of its own: wherever a client would draw a random partition, the
//! caller passes a [`Choose`] function (backed by the simulator's seeded generator).

mod crc32;
mod murmur2;
mod sticky;
mod strategy;

pub use crc32::crc32;
pub use murmur2::{murmur2, to_positive};
pub use sticky::StickyPartitioner;
pub use strategy::{KeyHash, Partitioner};

/// A source of choices supplied by the caller: `choose(n)` returns a number in `0..n` (`n` is
/// never zero). The simulator backs it with its seeded generator, so a run replays exactly.
pub trait Choose {
    fn choose(&mut self, n: u32) -> u32;
}

impl<F: FnMut(u32) -> u32> Choose for F {
    fn choose(&mut self, n: u32) -> u32 {
        self(n)
    }
}
