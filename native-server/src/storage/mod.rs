//! The core's storage trait on real files (one directory per partition), and the JSON record
//! logs of the controller and the group coordinator.

mod factory;
mod file;
mod json_log;

pub use factory::FileStorageFactory;
pub use file::FileStorage;
pub use json_log::JsonLog;
