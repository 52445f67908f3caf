//! The leader's side of replication: what each follower's fetches say about it, and the ISR.
//!
//! A follower is *caught up* when it has fetched up to the leader's log end, or up to where the
//! leader's log ended at its previous fetch (Kafka's rule: with a steady stream of produces a
//! follower is never exactly at the end, yet it is keeping up). A follower in the ISR that has
//! not been caught up for `replica.lag.time.max.ms` leaves it; a follower outside it rejoins
//! once it reaches the high watermark and has fetched from the current epoch.
//!
//! The leader never changes the ISR itself. It asks the controller (AlterPartition, one
//! request in flight per partition, see [`Broker::alter_partition_requests`]) and applies the
//! controller's decision when it arrives through [`Broker::apply_partition`]. Until then the
//! high watermark is computed over the *maximal* ISR (the current one plus any replica being
//! added), so a replica being removed still holds it back and one being added already does.

use std::collections::BTreeMap;

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::controller::{AlterPartition, BrokerId, TopicId};
use crate::storage::Storage;

use super::partition::Partition;
use super::{Broker, StorageFactory};

/// An AlterPartition that got no answer is sent again after this long.
pub const ALTER_PARTITION_TIMEOUT_MS: Millis = Millis(5_000);
/// After the controller refused an ISR change, the leader waits this long before asking again
/// (a refused replica, e.g. a fenced one still fetching, must not cause a stream of requests).
pub const ALTER_PARTITION_BACKOFF_MS: Millis = Millis(1_000);

/// A leader's request to change a partition's ISR, for the shell to send to the controller as
/// an [`AlterPartition`] (which names the topic by id, known to the shell's metadata).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsrChangeRequest {
    pub tp: TopicPartition,
    pub leader_id: BrokerId,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    /// The whole new ISR, the leader included.
    pub new_isr: Vec<BrokerId>,
}

impl IsrChangeRequest {
    pub fn to_alter_partition(&self, topic_id: TopicId) -> AlterPartition {
        AlterPartition {
            broker_id: self.leader_id,
            topic_id,
            partition: u32::try_from(self.tp.partition)
                .expect("partition indexes are not negative"),
            leader_epoch: self.leader_epoch,
            partition_epoch: self.partition_epoch,
            new_isr: self.new_isr.clone(),
        }
    }
}

/// What the leader knows of one follower, from its fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ReplicaProgress {
    /// -1 until the follower's first fetch in this leader epoch.
    pub log_end_offset: i64,
    pub last_caught_up: Millis,
    /// The leader's log end and the time at the follower's previous fetch.
    last_fetch_leader_end: i64,
    last_fetch_time: Millis,
}

/// An ISR change asked for and not yet decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PendingIsrChange {
    pub new_isr: Vec<BrokerId>,
    /// The partition epoch the change was based on: a newer state decides it.
    pub partition_epoch: i32,
    /// When it was last handed to the shell; `None` until it is.
    pub sent_at: Option<Millis>,
}

/// The leader-only part of a partition's state; reset whenever leadership changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct LeaderState {
    pub replicas: BTreeMap<BrokerId, ReplicaProgress>,
    pub isr_change: Option<PendingIsrChange>,
    /// No new ISR change before this (after a refusal).
    pub isr_change_backoff_until: Millis,
}

impl LeaderState {
    /// Starts tracking every follower of `replicas` not tracked yet: a new follower counts as
    /// caught up now, so none is pushed out of the ISR before it had a chance to fetch.
    pub fn track_replicas(&mut self, replicas: &[BrokerId], leader: BrokerId, now: Millis) {
        self.replicas.retain(|r, _| replicas.contains(r));
        for &r in replicas.iter().filter(|&&r| r != leader) {
            self.replicas.entry(r).or_insert(ReplicaProgress {
                log_end_offset: -1,
                last_caught_up: now,
                last_fetch_leader_end: -1,
                last_fetch_time: now,
            });
        }
    }

    pub fn log_end_offset_of(&self, replica: BrokerId) -> i64 {
        self.replicas.get(&replica).map_or(-1, |p| p.log_end_offset)
    }
}

impl<S: Storage> Partition<S> {
    /// This broker was just elected leader: followers are unknown, and the new epoch starts at
    /// the log end (recorded now, so followers asking where the previous epoch ended learn it
    /// even before this leader appends anything).
    pub(super) fn become_leader(&mut self, now: Millis) {
        self.leader = LeaderState::default();
        self.leader
            .track_replicas(&self.state.replicas, self.node_id, now);
        self.epochs
            .assign(self.state.leader_epoch, self.log.log_end_offset());
    }

    /// The ISR plus replicas a pending change adds (see the module docs).
    pub(super) fn maximal_isr(&self) -> Vec<BrokerId> {
        let mut isr = self.state.isr.clone();
        if let Some(change) = &self.leader.isr_change {
            isr.extend(
                change
                    .new_isr
                    .iter()
                    .filter(|r| !self.state.isr.contains(r)),
            );
        }
        isr
    }

    /// Where the current leader epoch began: a follower must have reached it to rejoin the
    /// ISR, so that it holds nothing from an older leader's divergent tail.
    fn current_epoch_start(&self) -> i64 {
        match self.epochs.entries().last() {
            Some(e) if e.epoch == self.state.leader_epoch => e.start_offset,
            _ => self.log.log_end_offset(),
        }
    }

    /// A follower fetched from `fetch_offset` in the current epoch: everything below it is on
    /// the follower.
    pub(super) fn follower_fetched(&mut self, follower: BrokerId, fetch_offset: i64, now: Millis) {
        assert!(self.is_leader(), "only a leader tracks its followers");
        let leader_end = self.log.log_end_offset();
        assert!(
            fetch_offset <= leader_end,
            "follower {follower} fetched beyond the log end"
        );
        let Some(progress) = self.leader.replicas.get_mut(&follower) else {
            return; // not a replica of this partition
        };
        if fetch_offset >= leader_end {
            progress.last_caught_up = now;
        } else if fetch_offset >= progress.last_fetch_leader_end {
            progress.last_caught_up = progress.last_caught_up.max(progress.last_fetch_time);
        }
        progress.log_end_offset = fetch_offset;
        progress.last_fetch_leader_end = leader_end;
        progress.last_fetch_time = now;
        self.update_high_watermark();
        self.maybe_expand_isr(follower, now);
    }

    fn may_propose(&self, now: Millis) -> bool {
        self.is_leader()
            && self.leader.isr_change.is_none()
            && now >= self.leader.isr_change_backoff_until
    }

    fn propose(&mut self, new_isr: Vec<BrokerId>) {
        assert!(
            new_isr.contains(&self.node_id),
            "the leader stays in its ISR"
        );
        assert_ne!(new_isr, self.state.isr, "a change must change something");
        self.leader.isr_change = Some(PendingIsrChange {
            new_isr,
            partition_epoch: self.state.partition_epoch,
            sent_at: None,
        });
    }

    fn maybe_expand_isr(&mut self, follower: BrokerId, now: Millis) {
        if !self.may_propose(now) || self.state.isr.contains(&follower) {
            return;
        }
        let offset = self.leader.log_end_offset_of(follower);
        if offset >= self.high_watermark && offset >= self.current_epoch_start() {
            let mut new_isr = self.state.isr.clone();
            new_isr.push(follower);
            self.propose(new_isr);
        }
    }

    /// Followers in the ISR that are neither at the log end nor caught up within
    /// `replica.lag.time.max.ms`.
    fn lagging(&self, now: Millis) -> Vec<BrokerId> {
        let lag_max = self.settings.replica_lag_time_max_ms;
        let leader_end = self.log.log_end_offset();
        self.state
            .isr
            .iter()
            .copied()
            .filter(|&r| r != self.node_id)
            .filter(|r| {
                self.leader.replicas.get(r).is_some_and(|p| {
                    p.log_end_offset != leader_end && now.since(p.last_caught_up) > lag_max
                })
            })
            .collect()
    }

    /// Asks to drop lagging followers from the ISR (at most one change in flight).
    pub(super) fn maybe_shrink_isr(&mut self, now: Millis) {
        if !self.may_propose(now) {
            return;
        }
        let lagging = self.lagging(now);
        if !lagging.is_empty() {
            let new_isr = self
                .state
                .isr
                .iter()
                .copied()
                .filter(|r| !lagging.contains(r))
                .collect();
            self.propose(new_isr);
        }
    }

    /// When the ISR work of this partition next needs a tick: a follower's lag running out, a
    /// refusal's backoff ending, or an unanswered request to send again.
    pub(super) fn isr_deadline(&self) -> Option<Millis> {
        if !self.is_leader() {
            return None;
        }
        if let Some(change) = &self.leader.isr_change {
            return change
                .sent_at
                .map(|sent| sent.plus(ALTER_PARTITION_TIMEOUT_MS));
        }
        let lag_max = self.settings.replica_lag_time_max_ms;
        let leader_end = self.log.log_end_offset();
        let lag_expiry = self
            .state
            .isr
            .iter()
            .filter_map(|r| self.leader.replicas.get(r))
            .filter(|p| p.log_end_offset != leader_end)
            .map(|p| p.last_caught_up.plus(lag_max).plus(Millis(1)))
            .min()?;
        Some(lag_expiry.max(self.leader.isr_change_backoff_until))
    }

    /// The pending change, if it is due to be sent (never sent, or unanswered for too long).
    fn take_isr_change_request(
        &mut self,
        tp: &TopicPartition,
        now: Millis,
    ) -> Option<IsrChangeRequest> {
        let change = self.leader.isr_change.as_mut()?;
        if change
            .sent_at
            .is_some_and(|sent| now < sent.plus(ALTER_PARTITION_TIMEOUT_MS))
        {
            return None;
        }
        change.sent_at = Some(now);
        Some(IsrChangeRequest {
            tp: tp.clone(),
            leader_id: self.node_id,
            leader_epoch: self.state.leader_epoch,
            partition_epoch: change.partition_epoch,
            new_isr: change.new_isr.clone(),
        })
    }
}

impl<F: StorageFactory> Broker<F> {
    /// The ISR changes this broker, as leader, asks the controller for. The shell sends each
    /// as an AlterPartition ([`IsrChangeRequest::to_alter_partition`]), reports the answer
    /// with [`Broker::on_alter_partition_response`], and applies the records it produced
    /// through [`Broker::apply_partition`], which settles the change. A request left
    /// unanswered is returned again after [`ALTER_PARTITION_TIMEOUT_MS`].
    pub fn alter_partition_requests(&mut self, now: Millis) -> Vec<IsrChangeRequest> {
        self.partitions
            .iter_mut()
            .filter_map(|(tp, p)| p.take_isr_change_request(tp, now))
            .collect()
    }

    /// The controller's answer to an ISR change. On success nothing happens until the new
    /// state arrives through [`Broker::apply_partition`]; on refusal the change is dropped,
    /// and asked for again (if still needed) after [`ALTER_PARTITION_BACKOFF_MS`].
    pub fn on_alter_partition_response(
        &mut self,
        tp: &TopicPartition,
        result: Result<(), ErrorCode>,
        now: Millis,
    ) {
        let Some(partition) = self.partitions.get_mut(tp) else {
            return;
        };
        if result.is_err() && partition.leader.isr_change.is_some() {
            partition.leader.isr_change = None;
            partition.leader.isr_change_backoff_until = now.plus(ALTER_PARTITION_BACKOFF_MS);
            partition.update_high_watermark();
            self.complete_waiting(now);
        }
    }

    /// Lagging followers leave the ISR (by request to the controller).
    /// Also marks ISR changes unanswered for too long as due again, so that the next
    /// [`Broker::alter_partition_requests`] resends them (and no deadline stays in the past).
    pub(super) fn check_isrs(&mut self, now: Millis) {
        for partition in self.partitions.values_mut() {
            if let Some(change) = partition.leader.isr_change.as_mut()
                && change
                    .sent_at
                    .is_some_and(|sent| now >= sent.plus(ALTER_PARTITION_TIMEOUT_MS))
            {
                change.sent_at = None;
            }
            partition.maybe_shrink_isr(now);
        }
    }
}
