//! The partition log: segments, offset and time indexes, retention, recovery.
