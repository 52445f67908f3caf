//! The controller: a state machine over a metadata log of records, in KRaft's style.
//!
//! Commands (a broker registers or heartbeats, a client creates a topic, a leader asks for an
//! ISR change, ...) go into the [`Controller`], which validates them against the current
//! [`MetadataImage`] and answers with [`MetadataRecord`]s, or with an error that maps onto a
//! Kafka code. The records are the only thing that changes state: the controller applies them
//! to its own image as it emits them (as KRaft's active controller does), and the shell
//! persists them; replaying the same records into a fresh image gives the same image. A
//! consensus library can therefore replicate the record log later without any of this logic
//! changing: the active controller proposes the records, every other node replays them.
//!
//! Kept outside the log, as in KRaft: when each broker last sent a heartbeat. That is soft
//! state of the active controller, which only turns into a record (`FenceBroker`) when a
//! broker's session expires.
//!
//! Code map: [`records`] (the log's vocabulary, with `topic_id`), [`image`] (state and
//! queries), `placement` (where replicas go), `election` (who leads, who stays in the ISR),
//! `brokers`, `topics`, `topic_configs`, `broker_configs` (dynamic broker configs), `scram` (SCRAM credentials, KIP-554) and
//! `partitions` (the commands), `timers` (what time
//! does), `errors` (what each command can fail with), `seed` (determinism), `topic_name`
//! (Kafka's naming rules).

mod acls;
mod broker_configs;
mod brokers;
mod command;
mod describe_configs;
mod election;
mod errors;
pub mod image;
mod machine;
mod partitions;
mod placement;
mod producer_ids;
pub mod records;
mod scram;
mod seed;
mod timers;
mod topic_configs;
mod topic_id;
mod topic_name;
mod topics;

#[cfg(test)]
mod tests;

pub use command::ControllerCommand;
pub use errors::{
    AlterConfigsError, AlterPartitionError, BrokerError, CreatePartitionsError, CreateTopicError,
    DeleteTopicError, ElectLeadersError,
};
pub use image::{BrokerRegistration, MetadataImage, PartitionState, TopicImage};
pub use machine::Controller;
pub use partitions::AlterPartition;
pub use producer_ids::{PRODUCER_ID_BLOCK_SIZE, ProducerIdBlock};
pub use records::{BrokerId, MetadataRecord, NO_LEADER, ParseTopicIdError, TopicId};
pub use scram::{
    SCRAM_MAX_ITERATIONS, SCRAM_MIN_ITERATIONS, ScramCredential, ScramCredentialOp,
    ScramCredentials, ScramMechanism,
};
pub use topic_configs::AlterConfigOp;
pub use topic_name::{
    INTERNAL_TOPICS, TOPIC_NAME_LENGTH_MAX, is_internal as is_internal_topic,
    validate as validate_topic_name,
};
pub use topics::{CreateTopic, TOPIC_PARTITIONS_MAX};
