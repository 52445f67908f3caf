//! The core's storage trait on real files: one directory per partition.

mod file;

pub use file::FileStorage;
