//! Partitioners of the real clients: consistent_random (CRC32), murmur2, sticky.
