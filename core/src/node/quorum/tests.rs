//! Three voters wired by hand: election, replication, failover, compaction with a snapshot
//! sent to a lagging voter, and restart from what was persisted.

use std::collections::BTreeMap;

use raft::eraftpb::Message;

use super::*;

struct Voter {
    quorum: Option<Quorum>,
    disk: RaftLog,
    applied: Vec<Vec<u8>>,
    restored: Option<Vec<u8>>,
}

struct Net {
    voters: BTreeMap<BrokerId, Voter>,
    now: Millis,
    /// Messages in flight: (from, to, bytes).
    wire: Vec<(BrokerId, BrokerId, Vec<u8>)>,
    cut: Vec<BrokerId>,
}

const IDS: [BrokerId; 3] = [1, 2, 3];

impl Net {
    fn new(seed: u64) -> Net {
        let mut voters = BTreeMap::new();
        for id in IDS {
            let quorum = Quorum::new(id, &IDS, &RaftLog::default(), seed, Millis::ZERO);
            voters.insert(
                id,
                Voter {
                    quorum: Some(quorum),
                    disk: RaftLog::default(),
                    applied: Vec::new(),
                    restored: None,
                },
            );
        }
        Net {
            voters,
            now: Millis::ZERO,
            wire: Vec::new(),
            cut: Vec::new(),
        }
    }

    fn drain(&mut self) {
        for (&from, voter) in self.voters.iter_mut() {
            let Some(quorum) = &mut voter.quorum else {
                continue;
            };
            while let Some(output) = quorum.poll_output() {
                match output {
                    QuorumOutput::Persist(write) => voter.disk.apply(write),
                    QuorumOutput::Restore { data, .. } => {
                        voter.restored = Some(data);
                        voter.applied.clear();
                    }
                    QuorumOutput::Apply { data, .. } => {
                        if !data.is_empty() {
                            voter.applied.push(data)
                        }
                    }
                    QuorumOutput::Send { to, bytes } => self.wire.push((from, to, bytes)),
                }
            }
        }
    }

    /// Runs for `ms` milliseconds, 10 ms at a time, delivering every message at once.
    fn run(&mut self, ms: u64) {
        let end = self.now.plus(Millis(ms));
        while self.now < end {
            self.now = self.now.plus(Millis(10));
            let now = self.now;
            for voter in self.voters.values_mut() {
                if let Some(q) = &mut voter.quorum {
                    q.handle_timeout(now);
                }
            }
            loop {
                self.drain();
                if self.wire.is_empty() {
                    break;
                }
                for (from, to, bytes) in std::mem::take(&mut self.wire) {
                    if self.cut.contains(&to) {
                        continue;
                    }
                    if let Some(q) = &mut self.voters.get_mut(&to).unwrap().quorum {
                        q.handle_message(from, &bytes).unwrap();
                    }
                }
            }
        }
    }

    fn leader(&self) -> Option<BrokerId> {
        self.voters
            .iter()
            .find(|(_, v)| v.quorum.as_ref().is_some_and(Quorum::is_active))
            .map(|(id, _)| *id)
    }

    fn propose(&mut self, data: &[u8]) {
        let leader = self.leader().expect("a leader");
        let quorum = self
            .voters
            .get_mut(&leader)
            .unwrap()
            .quorum
            .as_mut()
            .unwrap();
        assert!(quorum.propose(data.to_vec()).is_some());
        self.drain();
    }

    fn crash(&mut self, id: BrokerId) {
        self.voters.get_mut(&id).unwrap().quorum = None;
    }

    fn restart(&mut self, id: BrokerId, seed: u64) {
        let now = self.now;
        let voter = self.voters.get_mut(&id).unwrap();
        voter.applied.clear();
        voter.restored = None;
        voter.quorum = Some(Quorum::new(id, &IDS, &voter.disk, seed, now));
        self.drain();
    }
}

#[test]
fn three_voters_elect_one_leader_and_replicate() {
    let mut net = Net::new(7);
    net.run(3_000);
    let leader = net.leader().expect("a leader within 3 s");
    let leaders = net
        .voters
        .values()
        .filter(|v| v.quorum.as_ref().unwrap().is_leader())
        .count();
    assert_eq!(leaders, 1);
    net.propose(b"a");
    net.propose(b"b");
    net.run(500);
    for voter in net.voters.values() {
        assert_eq!(voter.applied, vec![b"a".to_vec(), b"b".to_vec()]);
        let status = voter.quorum.as_ref().unwrap().status();
        assert_eq!(status.leader, Some(leader));
        assert_eq!(status.commit_index, status.last_index);
    }
}

/// DescribeQuorum's fetch and caught-up times: a voter cut off keeps the time the leader last
/// heard it, one that answers is stamped with the leader's latest time.
#[test]
fn the_leader_stamps_when_it_last_heard_each_voter() {
    let mut net = Net::new(7);
    net.run(3_000);
    let leader = net.leader().expect("a leader within 3 s");
    let follower = *IDS.iter().find(|&&id| id != leader).unwrap();
    let other = *IDS
        .iter()
        .find(|&&id| id != leader && id != follower)
        .unwrap();
    net.propose(b"a");
    net.run(500);
    let status = |net: &Net, id: BrokerId| {
        let quorum = net.voters[&leader].quorum.as_ref().unwrap();
        quorum
            .status()
            .voters
            .into_iter()
            .find(|v| v.node_id == id)
            .unwrap()
    };
    let before = status(&net, follower);
    assert!(before.last_fetch.is_some_and(|t| t > Millis::ZERO));
    assert!(before.last_caught_up.is_some());
    net.cut.push(follower);
    net.propose(b"b");
    net.run(500);
    let cut = status(&net, follower);
    assert!(cut.last_fetch <= before.last_fetch);
    assert!(cut.last_caught_up <= before.last_caught_up);
    let answering = status(&net, other);
    assert!(answering.last_fetch > before.last_fetch);
    assert_eq!(answering.last_caught_up, answering.last_fetch);
    assert_eq!(status(&net, leader).last_fetch, Some(net.now));
    // A follower's own status knows nothing of the others' fetches.
    let own = net.voters[&other].quorum.as_ref().unwrap().status();
    assert!(own.voters.iter().all(|v| v.last_fetch.is_none()));
}

#[test]
fn elections_repeat_with_the_seed() {
    let terms = |seed| {
        let mut net = Net::new(seed);
        net.run(3_000);
        (net.leader(), net.voters[&1].quorum.as_ref().unwrap().term())
    };
    assert_eq!(terms(3), terms(3));
}

#[test]
fn a_new_leader_keeps_what_was_committed() {
    let mut net = Net::new(11);
    net.run(3_000);
    net.propose(b"before");
    net.run(500);
    let old = net.leader().unwrap();
    net.crash(old);
    net.run(5_000);
    let new = net.leader().expect("the two others elect a leader");
    assert_ne!(new, old);
    net.propose(b"after");
    net.run(500);
    net.restart(old, 11);
    net.run(2_000);
    for voter in net.voters.values() {
        assert_eq!(voter.applied, vec![b"before".to_vec(), b"after".to_vec()]);
    }
}

#[test]
fn a_compacted_log_reaches_a_lagging_voter_as_a_snapshot() {
    let mut net = Net::new(5);
    net.run(3_000);
    let leader = net.leader().unwrap();
    let lagging = *IDS.iter().find(|&&id| id != leader).unwrap();
    net.cut.push(lagging);
    for i in 0..20u8 {
        net.propose(&[i]);
    }
    net.run(500);
    // Every voter that has them snapshots what it applied.
    for (&id, voter) in net.voters.iter_mut() {
        if id == lagging {
            continue;
        }
        let quorum = voter.quorum.as_mut().unwrap();
        let applied = quorum.applied();
        quorum.compact(applied, b"image".to_vec());
        assert_eq!(quorum.snapshot_index(), applied);
    }
    net.drain();
    assert!(net.voters[&leader].disk.entries.is_empty());
    assert!(net.voters[&leader].disk.snapshot.is_some());
    net.cut.clear();
    net.propose(b"after");
    net.run(2_000);
    let voter = &net.voters[&lagging];
    assert_eq!(voter.restored.as_deref(), Some(&b"image"[..]));
    assert_eq!(voter.applied, vec![b"after".to_vec()]);
    // It restarts on what it persisted: the snapshot first, then the entry after it.
    net.restart(lagging, 5);
    net.run(1_000);
    let voter = &net.voters[&lagging];
    assert_eq!(voter.restored.as_deref(), Some(&b"image"[..]));
    assert_eq!(voter.applied, vec![b"after".to_vec()]);
}

#[test]
fn a_single_voter_leads_at_once_and_commits_synchronously() {
    let mut quorum = Quorum::new(0, &[0], &RaftLog::default(), 1, Millis::ZERO);
    assert!(quorum.is_active());
    let index = quorum.propose(b"x".to_vec()).unwrap();
    let mut disk = RaftLog::default();
    let mut applied = None;
    while let Some(output) = quorum.poll_output() {
        match output {
            QuorumOutput::Persist(write) => disk.apply(write),
            QuorumOutput::Apply { index, data, .. } if !data.is_empty() => applied = Some(index),
            _ => {}
        }
    }
    assert_eq!(applied, Some(index));
    let again = Quorum::new(0, &[0], &disk, 1, Millis::ZERO);
    assert!(again.is_active());
    assert!(again.term() > 1);
}

/// Messages raft-rs would panic on (its `fatal!`s trust the peers) are refused, the voter
/// stays up and still takes a correct leader's messages (`screen`).
#[test]
fn messages_no_correct_voter_sends_are_refused_not_fatal() {
    use raft::eraftpb::{Entry, EntryType, MessageType};
    let mut net = Net::new(7);
    net.run(3_000);
    let leader = net.leader().expect("a leader within 3 s");
    net.propose(b"a");
    net.run(500);
    let follower = *IDS.iter().find(|&&id| id != leader).unwrap();
    let quorum = net
        .voters
        .get_mut(&follower)
        .unwrap()
        .quorum
        .as_mut()
        .unwrap();
    let status = quorum.status();
    let message = |kind: MessageType| {
        let mut m = Message::default();
        m.set_msg_type(kind);
        m.from = raft_id(leader);
        m.to = raft_id(follower);
        m.term = status.term;
        m
    };
    let entry = |index: u64, term: u64| Entry {
        index,
        term,
        ..Entry::default()
    };
    let mut refused = Vec::new();
    // A heartbeat committing past the log end (raft-rs: "to_commit out of range").
    let mut m = message(MessageType::MsgHeartbeat);
    m.commit = status.last_index + 5;
    refused.push(m);
    // Entries whose indexes reach back into the committed prefix ("conflict with committed").
    let mut m = message(MessageType::MsgAppend);
    m.index = status.last_index;
    m.log_term = status.term;
    m.entries = vec![entry(1, status.term + 1)].into();
    refused.push(m);
    // A log term below the committed entries' (the conflict search runs into the compacted log).
    let mut m = message(MessageType::MsgAppend);
    m.index = status.last_index + 3;
    m.log_term = 0;
    refused.push(m);
    // Log term 0 past the log end (raft-rs's term lookup answers 0 there, so it matched).
    let mut m = message(MessageType::MsgAppend);
    m.index = status.last_index + 2;
    m.commit = status.last_index + 2;
    refused.push(m);
    // A configuration change, and a snapshot of another configuration.
    let mut m = message(MessageType::MsgAppend);
    m.index = status.last_index;
    m.log_term = status.term;
    let mut change = entry(status.last_index + 1, status.term);
    change.set_entry_type(EntryType::EntryConfChange);
    m.entries = vec![change].into();
    refused.push(m);
    let mut m = message(MessageType::MsgSnapshot);
    let meta = m.mut_snapshot().mut_metadata();
    meta.index = status.last_index + 10;
    meta.term = status.term;
    meta.mut_conf_state().voters = vec![raft_id(leader)];
    meta.mut_conf_state().learners = vec![raft_id(leader)];
    refused.push(m);
    // A proposal through a follower, a message in another voter's name, one without a term.
    refused.push(message(MessageType::MsgPropose));
    let mut m = message(MessageType::MsgHeartbeat);
    m.from = raft_id(follower);
    refused.push(m);
    let mut m = message(MessageType::MsgHeartbeat);
    m.term = 0;
    refused.push(m);
    for m in refused {
        let bytes = m.write_to_bytes().unwrap();
        assert!(
            quorum.handle_message(leader, &bytes).is_err(),
            "{:?} was stepped",
            m.get_msg_type()
        );
    }
    let after = quorum.status();
    assert_eq!(
        (after.commit_index, after.last_index),
        (status.commit_index, status.last_index)
    );
    net.propose(b"b");
    net.run(500);
    let voter = &net.voters[&follower];
    assert_eq!(voter.applied, vec![b"a".to_vec(), b"b".to_vec()]);
}
