//! Topic and broker configs with Kafka's names and defaults.
