//! What a Raft message from another voter must satisfy before raft-rs steps it. raft-rs trusts
//! its peers: a message no correct voter sends can reach one of its `fatal!`s (a panic that
//! takes the whole node down), for instance a heartbeat committing past this voter's log end
//! ("to_commit 3 is out of range [last_index 0]"), entries whose indexes skip into the
//! committed prefix ("entry conflict with committed entry"), an append whose `log_term` walks
//! the conflict search into the compacted log ("term must be valid"), or a snapshot whose
//! configuration does not restore ("unable to restore config"). The checks here refuse those
//! messages; each holds for every message a correct voter sends (Raft's Log Matching and
//! Leader Completeness properties), so refusing costs a correct cluster nothing. They are the
//! peer-side counterpart of the Kafka guard (issue 17: garbage from a peer must not kill the
//! node), found by the `peer` fuzz target.
//!
//! The quorum's membership is fixed (`controller.quorum.voters`): no voter proposes through
//! another or changes the configuration, so such messages and entries are refused too.

use raft::eraftpb::{ConfState, EntryType, Message, MessageType};
use raft::{RawNode, StateRole};

use super::store::Store;

/// `Ok` when `message`, which came from the voter of Raft id `from` to this voter, may be
/// stepped; else why not.
pub(super) fn check(raw: &RawNode<Store>, from: u64, message: &Message) -> Result<(), String> {
    if message.from != from {
        return Err(format!(
            "from Raft id {}, over the connection of Raft id {from}",
            message.from
        ));
    }
    if message.to != raw.raft.id {
        return Err(format!(
            "addressed to Raft id {}, not {}",
            message.to, raw.raft.id
        ));
    }
    if message.term == 0 {
        return Err("a message without a term (raft-rs takes those for its own)".to_string());
    }
    let log = &raw.raft.raft_log;
    match message.get_msg_type() {
        MessageType::MsgAppend => check_append(raw, message),
        MessageType::MsgHeartbeat if message.commit > log.last_index() => Err(format!(
            "a heartbeat committing {} past this voter's log end {} (was its log lost?)",
            message.commit,
            log.last_index()
        )),
        MessageType::MsgSnapshot => check_snapshot(raw, message),
        MessageType::MsgAppendResponse
            if raw.raft.state == StateRole::Leader
                && message.term == raw.raft.term
                && message.index > log.last_index() =>
        {
            Err(format!(
                "an append answer for index {} past the leader's log end {}",
                message.index,
                log.last_index()
            ))
        }
        MessageType::MsgHeartbeat
        | MessageType::MsgAppendResponse
        | MessageType::MsgHeartbeatResponse
        | MessageType::MsgRequestVote
        | MessageType::MsgRequestVoteResponse
        | MessageType::MsgRequestPreVote
        | MessageType::MsgRequestPreVoteResponse => Ok(()),
        other => Err(format!("{other:?} is not sent between these voters")),
    }
}

fn check_append(raw: &RawNode<Store>, message: &Message) -> Result<(), String> {
    let log = &raw.raft.raft_log;
    if message.term < raw.raft.term {
        return Ok(()); // raft-rs answers a stale leader without looking at its entries
    }
    for (i, entry) in message.entries.iter().enumerate() {
        let expected = message.index.checked_add(1 + i as u64);
        if expected != Some(entry.index) {
            return Err(format!(
                "entry {i} has index {}, not the next after {}",
                entry.index, message.index
            ));
        }
        if entry.term < message.log_term.max(1) || entry.term > message.term {
            return Err(format!(
                "entry {} of term {} outside terms {}..={}",
                entry.index, entry.term, message.log_term, message.term
            ));
        }
        if entry.get_entry_type() != EntryType::EntryNormal {
            return Err(format!(
                "a configuration change at index {} (the voters are fixed)",
                entry.index
            ));
        }
    }
    // The leader's log holds this voter's committed prefix, so the term of the entry before
    // the appended ones is at least the term of this voter's last committed entry.
    let committed_term = log.term(log.committed).unwrap_or(0);
    if message.index >= log.committed && message.log_term < committed_term {
        return Err(format!(
            "appending after index {} of term {}, below the committed entry's term {committed_term}",
            message.index, message.log_term
        ));
    }
    // raft-rs answers term 0 for an index past the log end, so log term 0 would match there.
    if message.index > 0 && message.log_term == 0 {
        return Err(format!(
            "appending after index {} of term 0 (only index 0 has term 0)",
            message.index
        ));
    }
    if message.log_term > message.term {
        return Err(format!(
            "log term {} above the leader's term {}",
            message.log_term, message.term
        ));
    }
    Ok(())
}

fn check_snapshot(raw: &RawNode<Store>, message: &Message) -> Result<(), String> {
    let metadata = message.get_snapshot().get_metadata();
    if metadata.index == 0 || metadata.term == 0 {
        return Err("a snapshot at index 0 or of term 0".to_string());
    }
    if metadata.term > message.term {
        return Err(format!(
            "a snapshot of term {} from a leader of term {}",
            metadata.term, message.term
        ));
    }
    if !same_voters(metadata.get_conf_state(), &raw.store().conf_state()) {
        return Err(format!(
            "a snapshot of another configuration ({:?}; the voters are fixed)",
            metadata.get_conf_state().voters
        ));
    }
    Ok(())
}

fn same_voters(theirs: &ConfState, ours: &ConfState) -> bool {
    let sorted = |ids: &[u64]| {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids
    };
    sorted(&theirs.voters) == sorted(&ours.voters)
        && theirs.learners.is_empty()
        && theirs.voters_outgoing.is_empty()
        && theirs.learners_next.is_empty()
        && !theirs.auto_leave
}
