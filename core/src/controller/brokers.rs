//! Broker lifecycle: registration, heartbeats, fencing (by command or by session expiry).
//!
//! As in KRaft, a broker registers fenced and is unfenced by its first heartbeat; a broker
//! whose heartbeats stop for `broker.session.timeout.ms` is fenced. Fencing a broker takes its
//! leaderships away and removes it from the ISRs it can leave; unfencing it lets offline
//! partitions that it can lead come back.

use super::errors::BrokerError;
use super::image::BrokerRegistration;
use super::machine::Controller;
use super::records::{
    BrokerId, FenceBrokerRecord, MetadataRecord, RegisterBrokerRecord, UnfenceBrokerRecord,
};
use crate::Millis;

impl Controller {
    /// A broker starts (or restarts): it gets a new broker epoch and is fenced until its first
    /// heartbeat. A broker that restarts before its session expired is fenced first, since
    /// whatever it led in its previous life it no longer does.
    pub fn register_broker(
        &mut self,
        now: Millis,
        broker_id: BrokerId,
        host: &str,
        port: u16,
    ) -> Result<Vec<MetadataRecord>, BrokerError> {
        if broker_id < 0 {
            return Err(BrokerError::InvalidBrokerId(broker_id));
        }
        let mut records = if self.image.is_live(broker_id) {
            self.fence_records(broker_id)
        } else {
            Vec::new()
        };
        let broker_epoch = self.image.record_count() + records.len() as u64;
        records.push(MetadataRecord::RegisterBroker(RegisterBrokerRecord {
            broker_id,
            broker_epoch,
            host: host.to_string(),
            port,
        }));
        self.last_heartbeat.insert(broker_id, now);
        Ok(self.commit(records))
    }

    /// The registration of `broker_id`, if `broker_epoch` is its current epoch: a request from
    /// an earlier life of the broker is refused with STALE_BROKER_EPOCH, as Kafka does.
    pub(super) fn registered(
        &self,
        broker_id: BrokerId,
        broker_epoch: u64,
    ) -> Result<&BrokerRegistration, BrokerError> {
        let broker = self
            .image
            .broker(broker_id)
            .ok_or(BrokerError::UnknownBroker(broker_id))?;
        if broker.broker_epoch != broker_epoch {
            return Err(BrokerError::StaleBrokerEpoch {
                broker_id,
                requested: broker_epoch,
                current: broker.broker_epoch,
            });
        }
        Ok(broker)
    }

    /// A broker is alive at `now`. If it was fenced it is unfenced, and offline partitions it
    /// can lead get it as their leader.
    pub fn broker_heartbeat(
        &mut self,
        now: Millis,
        broker_id: BrokerId,
        broker_epoch: u64,
    ) -> Result<Vec<MetadataRecord>, BrokerError> {
        let fenced = self.registered(broker_id, broker_epoch)?.fenced;
        self.last_heartbeat.insert(broker_id, now);
        if !fenced {
            return Ok(Vec::new());
        }
        let mut records = vec![MetadataRecord::UnfenceBroker(UnfenceBrokerRecord {
            broker_id,
            broker_epoch,
        })];
        records
            .extend(self.reconcile_partitions(|b| b == broker_id || self.image.is_live(b), None));
        Ok(self.commit(records))
    }

    /// A broker is known to be gone (it crashed, or shut down): fence it now instead of
    /// waiting for its session to expire. Fencing a fenced broker changes nothing.
    pub fn fence_broker(
        &mut self,
        broker_id: BrokerId,
    ) -> Result<Vec<MetadataRecord>, BrokerError> {
        if self.image.broker(broker_id).is_none() {
            return Err(BrokerError::UnknownBroker(broker_id));
        }
        if !self.image.is_live(broker_id) {
            return Ok(Vec::new());
        }
        let records = self.fence_records(broker_id);
        Ok(self.commit(records))
    }

    /// The records that fence a live broker: the fencing itself, then every partition it
    /// led electing another leader and every ISR it was in (with others) dropping it.
    pub(super) fn fence_records(&self, broker_id: BrokerId) -> Vec<MetadataRecord> {
        let broker_epoch = self
            .image
            .broker(broker_id)
            .expect("fenced broker is registered")
            .broker_epoch;
        let mut records = vec![MetadataRecord::FenceBroker(FenceBrokerRecord {
            broker_id,
            broker_epoch,
        })];
        records.extend(
            self.reconcile_partitions(|b| b != broker_id && self.image.is_live(b), Some(broker_id)),
        );
        records
    }
}
