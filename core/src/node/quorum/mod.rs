//! The controller quorum: one voter of a Raft group on TiKV's raft-rs (`RawNode`), wrapped so
//! that no raft-rs type leaves this module. The metadata log *is* the Raft log: each entry is
//! one batch of metadata records the active controller proposed; snapshots hold the metadata
//! image. The active controller is the Raft leader once it has applied every entry of earlier
//! terms (Kafka's KRaft: the new active controller first replays the log up to the epoch
//! start, KIP-595/KIP-631).
//!
//! In, quinn-proto's manner: [`Quorum::handle_message`] (a Raft message from another voter,
//! as bytes), [`Quorum::handle_timeout`] (time passed, when [`Quorum::poll_timeout`] said),
//! [`Quorum::propose`], [`Quorum::compact`]. Out: [`Quorum::poll_output`], in this order for
//! each round of raft-rs's `Ready`: first [`QuorumOutput::Persist`] (the new entries, a
//! received snapshot and the hard state, which the shell makes durable before it acts on any
//! later output: Raft §5 requires a vote and appended entries to be durable before a message
//! that depends on them leaves), then what to apply ([`QuorumOutput::Restore`] a snapshot,
//! [`QuorumOutput::Apply`] committed entries, in index order), then [`QuorumOutput::Send`]s.
//! Because the shell persists in output order, the quorum calls raft-rs's `advance` at once:
//! everything after the persist output is acted on only once it is durable.
//!
//! ## Time and randomness
//!
//! raft-rs counts time in ticks; a tick here is [`TICK_MS`]. A follower that hears nothing
//! from a leader for its election timeout (between [`ELECTION_TICKS`] and twice that, drawn
//! anew at every term or role change) stands for election; a leader sends heartbeats every
//! [`HEARTBEAT_TICKS`] and, with check-quorum, steps down when a majority stops answering.
//! raft-rs draws the election timeout from `rand::thread_rng()` inside
//! `Raft::reset_randomized_election_timeout` (its only use of randomness), which would make
//! runs unrepeatable. So after every call into raft-rs that can change the term or the role
//! (the only moments that draw), the quorum overwrites the drawn timeout with one from its
//! own seeded generator ([`crate::sim::rng::Rng`], seeded from the node's seed and id) before
//! any tick can read it: elections depend only on the seed. raft-rs still asks `thread_rng`
//! for a number it never gets to use; on wasm32 there is no OS entropy, so `entropy.rs`
//! registers getrandom's custom source there (a constant: its output is overwritten before it
//! matters).

mod decode;
mod durable;
mod entropy;
mod screen;
mod store;

use std::collections::{BTreeMap, VecDeque};

use protobuf::Message as _;
use raft::eraftpb::{Entry, MessageType, Snapshot};
use raft::{RawNode, StateRole};

pub use durable::{HardState, RaftEntry, RaftLog, RaftSnapshot, RaftWrite};

use crate::Millis;
use crate::controller::BrokerId;
use crate::sim::rng::Rng;
use store::Store;

/// One Raft tick (raft-rs counts time in ticks).
pub const TICK_MS: u64 = 50;
/// A follower's election timeout, in ticks: at least this, below twice this (Kafka's
/// `controller.quorum.election.timeout.ms` is 1000 ms).
pub const ELECTION_TICKS: usize = 20;
/// How often the leader sends heartbeats, in ticks (200 ms).
pub const HEARTBEAT_TICKS: usize = 4;

/// The Raft id of node `id` (Raft ids must not be 0; Kafka node ids may).
pub fn raft_id(id: BrokerId) -> u64 {
    u64::from(id as u32) + 1
}

/// The node id of Raft id `id`.
pub fn node_id(id: u64) -> BrokerId {
    (id - 1) as u32 as BrokerId
}

/// What the quorum asks of the node, in order (see the module doc).
#[derive(Debug)]
pub enum QuorumOutput {
    /// Make this durable before acting on any later output.
    Persist(RaftWrite),
    /// Replace the state machine with this snapshot's data (from the leader, or at start).
    Restore { index: u64, data: Vec<u8> },
    /// A committed entry, to apply (entries come in index order, each once).
    Apply {
        index: u64,
        term: u64,
        data: Vec<u8>,
    },
    /// A Raft message for another voter (raft-rs's protobuf encoding).
    Send { to: BrokerId, bytes: Vec<u8> },
}

/// A voter as the leader sees it, for status pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoterStatus {
    pub node_id: BrokerId,
    /// The highest index known replicated on it (the leader's own log end for itself); `None`
    /// when this voter is not the leader and cannot know.
    pub matched: Option<u64>,
    /// When the leader last heard this voter answer an append or a heartbeat in the current
    /// term (KRaft's `lastFetchTimestamp`: a follower's fetch is its answer here); the
    /// leader's own is the latest time the quorum was given. `None`: not yet, or not the
    /// leader.
    pub last_fetch: Option<Millis>,
    /// When this voter's log last reached the leader's log end, as the leader saw it in an
    /// answer of the current term (KRaft's `lastCaughtUpTimestamp`); the leader's own is the
    /// latest time the quorum was given. `None`: not yet, or not the leader.
    pub last_caught_up: Option<Millis>,
}

/// What the leader last heard from one voter, in `term`.
#[derive(Clone, Copy, Debug)]
struct Contact {
    term: u64,
    last_fetch: Millis,
    last_caught_up: Option<Millis>,
}

/// The quorum as one voter sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumStatus {
    pub node_id: BrokerId,
    pub voters: Vec<VoterStatus>,
    /// The current term (KRaft's leader epoch).
    pub term: u64,
    pub leader: Option<BrokerId>,
    pub role: &'static str,
    /// This voter's log end (the index of its last entry) and commit index.
    pub last_index: u64,
    pub commit_index: u64,
    /// The index of the latest snapshot (entries up to it are compacted).
    pub snapshot_index: u64,
}

/// Why a Raft message could not be taken.
#[derive(Debug, thiserror::Error)]
#[error("bad Raft message: {0}")]
pub struct BadMessage(String);

pub struct Quorum {
    raw: RawNode<Store>,
    rng: Rng,
    /// The (term, role) the election timeout was last drawn for.
    drawn_for: (u64, StateRole),
    next_tick: Millis,
    outputs: VecDeque<QuorumOutput>,
    /// This node is the only voter.
    single: bool,
    /// The latest time given to [`Quorum::new`] or [`Quorum::handle_timeout`] (the shell's
    /// wall clock): the time the leader stamps answers with.
    now: Millis,
    /// By Raft id: what the leader heard from each voter, for DescribeQuorum.
    contact: BTreeMap<u64, Contact>,
}

impl Quorum {
    /// A voter of `voters` (node ids) restarting on `log` (empty for a new one). A single
    /// voter elects itself at once. The snapshot in `log`, if any, comes out first as
    /// [`QuorumOutput::Restore`]; the committed entries after it follow as
    /// [`QuorumOutput::Apply`].
    pub fn new(
        node: BrokerId,
        voters: &[BrokerId],
        log: &RaftLog,
        seed: u64,
        now: Millis,
    ) -> Quorum {
        let ids: Vec<u64> = voters.iter().map(|&v| raft_id(v)).collect();
        let store = Store::recover(log, &ids);
        let applied = store.snapshot_index();
        let config = raft::Config {
            id: raft_id(node),
            election_tick: ELECTION_TICKS,
            heartbeat_tick: HEARTBEAT_TICKS,
            min_election_tick: ELECTION_TICKS,
            max_election_tick: 2 * ELECTION_TICKS,
            applied,
            max_size_per_msg: 1024 * 1024,
            max_inflight_msgs: 256,
            check_quorum: true,
            pre_vote: true,
            ..raft::Config::default()
        };
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let raw = RawNode::new(&config, store, &logger).expect("a valid Raft config");
        let mut rng = Rng::new(seed ^ raft_id(node).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        // Each voter ticks at its own phase within a tick, as separate processes do: two
        // followers whose timeouts are drawn equal still rarely stand at the same instant.
        let phase = Millis(1 + rng.below(TICK_MS - 1));
        let mut quorum = Quorum {
            drawn_for: (u64::MAX, StateRole::Follower),
            raw,
            rng,
            next_tick: now.plus(phase),
            outputs: VecDeque::new(),
            single: ids == [raft_id(node)],
            now,
            contact: BTreeMap::new(),
        };
        if let Some(snapshot) = &log.snapshot {
            quorum.outputs.push_back(QuorumOutput::Restore {
                index: snapshot.index,
                data: snapshot.data.clone(),
            });
        }
        if quorum.single {
            let _ = quorum.raw.campaign();
        }
        quorum.drive();
        quorum
    }

    // ---- inputs ----

    /// A Raft message from the voter `from` (the node id its connection named), refused
    /// without effect when it does not decode, comes from or goes to another voter, or is one
    /// no correct voter sends ([`screen`]).
    pub fn handle_message(&mut self, from: BrokerId, bytes: &[u8]) -> Result<(), BadMessage> {
        let message = decode::decode_message(bytes).map_err(|e| BadMessage(e.to_string()))?;
        screen::check(&self.raw, raft_id(from), &message).map_err(BadMessage)?;
        let answer = matches!(
            message.get_msg_type(),
            MessageType::MsgAppendResponse | MessageType::MsgHeartbeatResponse
        ) && message.term == self.raw.raft.term;
        // raft-rs refuses local message types from outside, and messages from a non-voter.
        self.raw
            .step(message)
            .map_err(|e| BadMessage(e.to_string()))?;
        if answer && self.is_leader() {
            self.heard_from(raft_id(from));
        }
        self.drive();
        Ok(())
    }

    /// The leader heard an answer of the current term from voter `id`: it fetched now, and
    /// caught up now if its log reaches the leader's log end.
    fn heard_from(&mut self, id: u64) {
        let raft = &self.raw.raft;
        let term = raft.term;
        let caught_up = raft
            .prs()
            .get(id)
            .is_some_and(|p| p.matched >= raft.raft_log.last_index());
        let now = self.now;
        let contact = self
            .contact
            .entry(id)
            .and_modify(|c| {
                if c.term != term {
                    *c = Contact {
                        term,
                        last_fetch: now,
                        last_caught_up: None,
                    };
                }
            })
            .or_insert(Contact {
                term,
                last_fetch: now,
                last_caught_up: None,
            });
        contact.last_fetch = now;
        if caught_up {
            contact.last_caught_up = Some(now);
        }
    }

    /// Time passed: one raft-rs tick per [`TICK_MS`] elapsed.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.now = now;
        if self.single {
            return;
        }
        // After a long pause (a stalled process), ticks past an election timeout change
        // nothing more: catch up at most that many.
        let lag_max = Millis(TICK_MS * (2 * ELECTION_TICKS as u64 + 1));
        if now.since(self.next_tick) > lag_max {
            self.next_tick = now.since(lag_max);
        }
        // The next tick more than a tick away: the wall clock stepped back. Tick from now on,
        // or the voter would fall silent (no heartbeats, no elections) until it caught up.
        if self.next_tick.since(now) > Millis(TICK_MS) {
            self.next_tick = now;
        }
        while self.next_tick <= now {
            self.next_tick = self.next_tick.plus(Millis(TICK_MS));
            self.raw.tick();
            self.redraw_election_timeout();
        }
        self.drive();
    }

    /// Stands for election now, without waiting for an election timeout (raft-rs's
    /// `campaign`).
    pub fn campaign(&mut self) {
        let _ = self.raw.campaign();
        self.redraw_election_timeout();
        self.drive();
    }

    /// Proposes `data` as the next entry; its index, or `None` when this voter is not the
    /// leader (or raft-rs dropped the proposal, during a leadership transfer).
    pub fn propose(&mut self, data: Vec<u8>) -> Option<u64> {
        if self.raw.raft.state != StateRole::Leader {
            return None;
        }
        self.raw.propose(Vec::new(), data).ok()?;
        let index = self.raw.raft.raft_log.last_index();
        self.drive();
        Some(index)
    }

    /// Takes a snapshot at `index` (applied, with the state machine as `data`) and drops the
    /// entries it covers from memory and, through a [`QuorumOutput::Persist`], from disk.
    pub fn compact(&mut self, index: u64, data: Vec<u8>) {
        if index <= self.raw.store().snapshot_index() || index > self.raw.raft.raft_log.applied {
            return;
        }
        let Ok(term) = self.raw.raft.raft_log.term(index) else {
            return;
        };
        let mut snapshot = Snapshot {
            data: data.into(),
            ..Snapshot::default()
        };
        let meta = snapshot.mut_metadata();
        meta.index = index;
        meta.term = term;
        meta.set_conf_state(self.raw.store().conf_state());
        let plain = store::from_snapshot(&snapshot);
        self.raw.mut_store().compact(snapshot);
        self.outputs.push_back(QuorumOutput::Persist(RaftWrite {
            compacted: Some(plain),
            ..RaftWrite::default()
        }));
    }

    // ---- outputs ----

    pub fn poll_output(&mut self) -> Option<QuorumOutput> {
        self.outputs.pop_front()
    }

    /// When [`Quorum::handle_timeout`] should run next; never for a single voter (it leads
    /// alone, and nothing it does depends on time).
    pub fn poll_timeout(&self) -> Option<Millis> {
        (!self.single).then_some(self.next_tick)
    }

    // ---- getters ----

    pub fn is_leader(&self) -> bool {
        self.raw.raft.state == StateRole::Leader
    }

    /// The leader and it has applied every entry of earlier terms: it may act as the active
    /// controller.
    pub fn is_active(&self) -> bool {
        self.is_leader() && self.raw.raft.apply_to_current_term()
    }

    /// The leader this voter knows of.
    pub fn leader(&self) -> Option<BrokerId> {
        match self.raw.raft.leader_id {
            raft::INVALID_ID => None,
            id => Some(node_id(id)),
        }
    }

    pub fn term(&self) -> u64 {
        self.raw.raft.term
    }

    pub fn applied(&self) -> u64 {
        self.raw.raft.raft_log.applied
    }

    pub fn snapshot_index(&self) -> u64 {
        self.raw.store().snapshot_index()
    }

    pub fn status(&self) -> QuorumStatus {
        let raft = &self.raw.raft;
        let leader = self.is_leader();
        let mut voters: Vec<VoterStatus> = self
            .raw
            .store()
            .conf_state()
            .voters
            .iter()
            .map(|&id| {
                let contact = self
                    .contact
                    .get(&id)
                    .filter(|c| leader && c.term == raft.term);
                let own = (leader && id == raft.id).then_some(self.now);
                VoterStatus {
                    node_id: node_id(id),
                    matched: leader
                        .then(|| raft.prs().get(id).map(|p| p.matched))
                        .flatten(),
                    last_fetch: own.or(contact.map(|c| c.last_fetch)),
                    last_caught_up: own.or(contact.and_then(|c| c.last_caught_up)),
                }
            })
            .collect();
        voters.sort_by_key(|v| v.node_id);
        QuorumStatus {
            node_id: node_id(raft.id),
            voters,
            term: raft.term,
            leader: self.leader(),
            role: match raft.state {
                StateRole::Leader => "leader",
                StateRole::Candidate => "candidate",
                StateRole::PreCandidate => "pre-candidate",
                StateRole::Follower => "follower",
            },
            last_index: raft.raft_log.last_index(),
            commit_index: raft.raft_log.committed,
            snapshot_index: self.raw.store().snapshot_index(),
        }
    }

    // ---- inside ----

    /// Replaces the election timeout raft-rs drew from `thread_rng` with a seeded one, once per
    /// term and role (see the module doc).
    fn redraw_election_timeout(&mut self) {
        let now = (self.raw.raft.term, self.raw.raft.state);
        if now == self.drawn_for {
            return;
        }
        self.drawn_for = now;
        let ticks = ELECTION_TICKS + self.rng.below(ELECTION_TICKS as u64) as usize;
        self.raw.raft.set_randomized_election_timeout(ticks);
    }

    /// Runs raft-rs's Ready / advance loop until nothing is ready (see the module doc).
    fn drive(&mut self) {
        self.redraw_election_timeout();
        while self.raw.has_ready() {
            let mut ready = self.raw.ready();
            let mut write = RaftWrite::default();
            let mut applies = Vec::new();
            let mut messages = ready.take_messages();
            if !ready.snapshot().is_empty() {
                let snapshot = ready.snapshot().clone();
                write.installed = Some(store::from_snapshot(&snapshot));
                applies.push(QuorumOutput::Restore {
                    index: snapshot.get_metadata().index,
                    data: snapshot.data.to_vec(),
                });
                self.raw.mut_store().install(snapshot);
            }
            applies.extend(ready.take_committed_entries().iter().map(apply));
            if !ready.entries().is_empty() {
                write.entries = ready.entries().iter().map(store::from_entry).collect();
                self.raw.mut_store().append(ready.entries());
            }
            if let Some(hs) = ready.hs() {
                self.raw.mut_store().set_hard_state(hs.clone());
            }
            messages.extend(ready.take_persisted_messages());
            let mut light = self.raw.advance(ready);
            if let Some(commit) = light.commit_index() {
                self.raw.mut_store().set_commit(commit);
            }
            let hs = self.raw.store().hard_state();
            let hs = HardState {
                term: hs.term,
                vote: hs.vote,
                commit: hs.commit,
            };
            messages.extend(light.take_messages());
            applies.extend(light.take_committed_entries().iter().map(apply));
            self.raw.advance_apply();
            write.hard_state = Some(hs);
            self.outputs.push_back(QuorumOutput::Persist(write));
            self.outputs.extend(applies);
            // raft-rs walks its peers in hash-map order, and FxHash differs between 64-bit
            // hosts and wasm32: by destination (stably), so the simulator's runs stay the same
            // natively and in the browser.
            messages.sort_by_key(|m| m.to);
            for message in messages {
                let to = node_id(message.to);
                let bytes = message.write_to_bytes().expect("raft-rs's messages encode");
                self.outputs.push_back(QuorumOutput::Send { to, bytes });
            }
            self.redraw_election_timeout();
        }
    }
}

/// A short description of a Raft message's bytes, for a trace: its type, term and entries.
pub fn summary(bytes: &[u8]) -> String {
    match decode::decode_message(bytes) {
        Ok(m) => format!(
            "Raft({:?},term={},index={},entries={},commit={})",
            m.get_msg_type(),
            m.term,
            m.index,
            m.entries.len(),
            m.commit
        ),
        Err(_) => "Raft(undecodable)".to_string(),
    }
}

fn apply(entry: &Entry) -> QuorumOutput {
    QuorumOutput::Apply {
        index: entry.index,
        term: entry.term,
        data: entry.data.to_vec(),
    }
}

#[cfg(test)]
mod tests;
