//! What happens as time passes: broker sessions expire, and leadership drifts back to the
//! preferred replicas (Kafka's `auto.leader.rebalance.enable`).
//!
//! The shell calls [`Controller::tick`] at [`Controller::next_deadline`] (or whenever it likes:
//! ticking early does nothing, ticking late catches up in one go).

use super::machine::Controller;
use super::records::MetadataRecord;
use crate::Millis;

impl Controller {
    /// Time passed. Fences every live broker whose last heartbeat is
    /// `broker.session.timeout.ms` or more before `now`; then, if `auto.leader.rebalance.enable`
    /// and `leader.imbalance.check.interval.seconds` passed since the last time, moves
    /// leadership back to every preferred replica that is live and in sync.
    pub fn tick(&mut self, now: Millis) -> Vec<MetadataRecord> {
        let timeout = Millis(self.config.broker_session_timeout_ms);
        let mut records = Vec::new();
        for broker_id in self.image.live_brokers() {
            let last = *self.last_heartbeat.entry(broker_id).or_insert(now);
            if now.since(last) >= timeout {
                let fenced = self.fence_records(broker_id);
                records.extend(self.commit(fenced));
            }
        }
        if let Some(due) = self.next_leader_balance()
            && now >= due
        {
            self.last_leader_balance = now;
            let elections = self.preferred_elections(None);
            records.extend(self.commit(elections));
        }
        records
    }

    /// When [`Controller::tick`] next has something to do: the earliest session expiry or
    /// leader balance. Brokers replayed from the log (not heard from since) get their session
    /// at the first tick.
    pub fn next_deadline(&self) -> Option<Millis> {
        let timeout = Millis(self.config.broker_session_timeout_ms);
        let sessions = self
            .image
            .live_brokers()
            .into_iter()
            .filter_map(|b| self.last_heartbeat.get(&b))
            .map(|last| last.plus(timeout));
        sessions.chain(self.next_leader_balance()).min()
    }

    fn next_leader_balance(&self) -> Option<Millis> {
        let interval_ms = self
            .config
            .leader_imbalance_check_interval_seconds
            .saturating_mul(1_000);
        self.config
            .auto_leader_rebalance_enable
            .then(|| self.last_leader_balance.plus(Millis(interval_ms)))
    }
}
