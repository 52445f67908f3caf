//! Idempotent producer state per partition: producer ids, epochs, sequence numbers.
