//! The core's storage trait on real files: one directory per partition.

mod file;

#[allow(unused_imports)]
pub use file::FileStorage;
