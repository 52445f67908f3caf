//! Replication across brokers, deterministic and with explicit time: three brokers and a
//! controller wired by hand (`cluster`), the invariants checked after every round of messages
//! (`invariants`), and one file per area.

mod cluster;
mod compaction;
mod failover;
mod faults;
mod invariants;
mod isr;
mod list_offsets;
mod min_isr;
mod offset_for_leader_epoch;
mod random;
mod replication;
mod stale;
mod truncation;
