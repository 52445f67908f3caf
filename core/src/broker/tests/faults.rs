//! The faults the harness can inject: crashes (with or without power loss), restarts,
//! isolation (a zombie), a cut between one broker and the controller only, and a stalled
//! fetcher.

use crate::broker::{Broker, BrokerSettings};
use crate::controller::BrokerId;

use super::cluster::{Cluster, STEP_MS};

impl Cluster {
    /// (re)starts broker `id` from its disk, registers it and sends its first heartbeat.
    pub fn start(&mut self, id: BrokerId) {
        let node = self.nodes.get_mut(&id).expect("known broker");
        assert!(node.broker.is_none(), "broker {id} is already running");
        let disks = node.disks.take().expect("a stopped broker has its disk");
        let mut broker = Broker::new(
            BrokerSettings {
                node_id: id,
                durable: self.durable,
            },
            disks,
        );
        broker.set_replica_fetch_settings(self.fetch_settings);
        node.broker = Some(broker);
        node.isolated = false;
        node.cut_from_controller = false;
        let records = self
            .controller
            .register_broker(self.now, id, "localhost", 9092)
            .expect("registered");
        self.commit(&records);
        self.heartbeat(id);
    }

    /// Broker `id` crashes: what it did not sync is lost, and the controller learns of it at
    /// once (as it would when the session expires, only sooner).
    pub fn crash(&mut self, id: BrokerId) {
        let node = self.nodes.get_mut(&id).expect("known broker");
        let broker = node.broker.take().expect("broker is up");
        let Broker {
            mut factory,
            partitions,
            ..
        } = broker;
        for (tp, partition) in partitions {
            let mut storage = partition.log.into_storage();
            storage.crash(0).expect("crash");
            factory.storages.insert(tp, storage);
        }
        node.disks = Some(factory);
        let records = self.controller.fence_broker(id).expect("fenced");
        self.commit(&records);
    }

    /// Broker `id` syncs every log (e.g. before a crash, to keep its unreplicated tail).
    pub fn sync(&mut self, id: BrokerId) {
        self.broker_mut(id).sync_all().expect("sync");
    }

    /// Cuts broker `id` off: it runs on, believing what it last heard.
    pub fn isolate(&mut self, id: BrokerId) {
        self.nodes.get_mut(&id).expect("known broker").isolated = true;
    }

    /// Cuts broker `id` off the controller only: it goes on replicating, but sends no
    /// heartbeat and hears no metadata (its session expires and it is fenced).
    pub fn cut_from_controller(&mut self, id: BrokerId) {
        self.nodes
            .get_mut(&id)
            .expect("known broker")
            .cut_from_controller = true;
    }

    /// Reconnects an isolated broker (or one cut from the controller). Its old session is
    /// gone, so it registers again, as a KRaft broker whose heartbeats were refused does.
    pub fn reconnect(&mut self, id: BrokerId) {
        let node = self.nodes.get_mut(&id).expect("known broker");
        node.isolated = false;
        node.cut_from_controller = false;
        let records = self
            .controller
            .register_broker(self.now, id, "localhost", 9092)
            .expect("registered");
        self.commit(&records);
        self.heartbeat(id);
        self.settle();
    }

    /// Stalls (or restarts) broker `id`'s fetcher. Stalling lets time pass for one
    /// `replica.fetch.wait.max.ms`, so that a fetch the leader holds is answered (and nothing
    /// the leader appends later reaches the stalled follower).
    pub fn pause(&mut self, id: BrokerId, paused: bool) {
        self.nodes.get_mut(&id).expect("known broker").paused = paused;
        if paused {
            self.advance(self.fetch_settings.wait_max_ms.0 + STEP_MS);
        }
    }
}
