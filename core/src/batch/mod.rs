//! Kafka record batches (magic v2): validation, in-place offset assignment, a builder.
