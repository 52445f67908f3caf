//! The core's storage trait on real files: one directory per partition, and the metadata log.

mod factory;
mod file;
mod metadata_log;

pub use factory::FileStorageFactory;
pub use file::FileStorage;
pub use metadata_log::MetadataLog;
