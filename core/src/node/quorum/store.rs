//! raft-rs's `Storage` for one voter: raft-rs's own `MemStorage` for the entries and hard
//! state, plus the latest snapshot *with its data* (`MemStorage` builds snapshots with
//! metadata only, and a lagging follower needs the metadata image itself). Durability is the
//! shell's: everything put here also leaves the quorum as a [`super::RaftWrite`].

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use raft::storage::MemStorage;
use raft::{GetEntriesContext, RaftState, Storage, StorageError};

use super::durable::{RaftEntry, RaftLog, RaftSnapshot};

pub(super) struct Store {
    mem: MemStorage,
    snapshot: Snapshot,
}

impl Store {
    /// The storage of a voter restarting on `log`; a new one starts with `voters`.
    pub(super) fn recover(log: &RaftLog, voters: &[u64]) -> Store {
        let mem = MemStorage::new();
        let mut snapshot = Snapshot::default();
        match &log.snapshot {
            Some(s) => {
                snapshot = to_snapshot(s);
                mem.wl()
                    .apply_snapshot(snapshot.clone())
                    .expect("an empty storage takes any snapshot");
            }
            None => mem
                .wl()
                .set_conf_state(ConfState::from((voters.to_vec(), Vec::<u64>::new()))),
        }
        let first = mem.last_index().expect("in memory") + 1;
        let entries: Vec<Entry> = log
            .entries
            .iter()
            .filter(|e| e.index >= first)
            .map(to_entry)
            .collect();
        mem.wl()
            .append(&entries)
            .expect("contiguous after the snapshot");
        let hs = HardState {
            term: log.hard_state.term.max(snapshot.get_metadata().term),
            vote: log.hard_state.vote,
            commit: log
                .hard_state
                .commit
                .max(snapshot.get_metadata().index)
                .min(mem.last_index().expect("in memory")),
            ..HardState::default()
        };
        mem.wl().set_hardstate(hs);
        Store { mem, snapshot }
    }

    pub(super) fn append(&mut self, entries: &[Entry]) {
        self.mem
            .wl()
            .append(entries)
            .expect("raft-rs appends after what it has");
    }

    pub(super) fn set_hard_state(&mut self, hs: HardState) {
        self.mem.wl().set_hardstate(hs);
    }

    pub(super) fn set_commit(&mut self, commit: u64) {
        self.mem.wl().mut_hard_state().commit = commit;
    }

    pub(super) fn hard_state(&self) -> HardState {
        self.mem.rl().hard_state().clone()
    }

    /// A snapshot from the leader replaces the log.
    pub(super) fn install(&mut self, snapshot: Snapshot) {
        self.mem
            .wl()
            .apply_snapshot(snapshot.clone())
            .expect("raft-rs installs only newer snapshots");
        self.snapshot = snapshot;
    }

    /// This voter's own snapshot at an applied index: the entries before it are dropped.
    pub(super) fn compact(&mut self, snapshot: Snapshot) {
        let index = snapshot.get_metadata().index;
        self.mem
            .wl()
            .compact(index)
            .expect("compacting what was applied");
        self.snapshot = snapshot;
    }

    pub(super) fn snapshot_index(&self) -> u64 {
        self.snapshot.get_metadata().index
    }

    pub(super) fn conf_state(&self) -> ConfState {
        self.mem.initial_state().expect("in memory").conf_state
    }
}

impl Storage for Store {
    fn initial_state(&self) -> raft::Result<RaftState> {
        self.mem.initial_state()
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        self.mem.entries(low, high, max_size, context)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        if idx == self.snapshot.get_metadata().index && idx > 0 {
            return Ok(self.snapshot.get_metadata().term);
        }
        self.mem.term(idx)
    }

    fn first_index(&self) -> raft::Result<u64> {
        self.mem.first_index()
    }

    fn last_index(&self) -> raft::Result<u64> {
        self.mem.last_index()
    }

    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        if self.snapshot.get_metadata().index < request_index.max(1) {
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        Ok(self.snapshot.clone())
    }
}

pub(super) fn to_entry(e: &RaftEntry) -> Entry {
    Entry {
        index: e.index,
        term: e.term,
        data: e.data.clone().into(),
        ..Entry::default()
    }
}

pub(super) fn from_entry(e: &Entry) -> RaftEntry {
    RaftEntry {
        index: e.index,
        term: e.term,
        data: e.data.to_vec(),
    }
}

pub(super) fn to_snapshot(s: &RaftSnapshot) -> Snapshot {
    let mut snapshot = Snapshot {
        data: s.data.clone().into(),
        ..Snapshot::default()
    };
    let meta = snapshot.mut_metadata();
    meta.index = s.index;
    meta.term = s.term;
    meta.set_conf_state(ConfState::from((s.voters.clone(), Vec::<u64>::new())));
    snapshot
}

pub(super) fn from_snapshot(s: &Snapshot) -> RaftSnapshot {
    RaftSnapshot {
        index: s.get_metadata().index,
        term: s.get_metadata().term,
        voters: s.get_metadata().get_conf_state().voters.clone(),
        data: s.data.to_vec(),
    }
}
