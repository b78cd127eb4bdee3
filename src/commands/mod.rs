//! The subcommands. Each returns its exit code or a startup error to print.

pub mod backup;
pub mod check;
pub mod export;
pub mod invite;
pub mod serve;
pub mod user;

use crate::config::Config;
use crate::errors::StartupError;
use crate::store::{SledStore, StoreOptions};

/// Opens the store of a stopped server (sled allows one process per data directory).
pub fn open_offline_store(config: &Config) -> Result<SledStore, StartupError> {
    Ok(SledStore::open(
        &config.data,
        &StoreOptions {
            cache_capacity_bytes: config.cache_capacity_bytes,
        },
    )?)
}
