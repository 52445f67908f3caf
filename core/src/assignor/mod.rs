//! Partition assignors: range, roundrobin, cooperative-sticky.
