//! The subcommands. Each returns its exit code or a startup error to print.

pub mod backup;
pub mod check;
pub mod check_store;
pub mod export;
pub mod invite;
pub mod serve;
pub mod user;

use crate::config::Config;
use crate::errors::StartupError;
use crate::store::{SledStore, StoreError, StoreOptions};

/// Opens the store of a stopped server (sled allows one process per data directory).
pub fn open_offline_store(config: &Config) -> Result<SledStore, StartupError> {
    SledStore::open(
        &config.data,
        &StoreOptions {
            cache_capacity_bytes: config.cache_capacity_bytes,
        },
    )
    .map_err(|e| with_backup_hint(e.into(), config))
}

/// A refused (damaged) store's paragraph ends with where the newest backup is.
pub fn with_backup_hint(error: StartupError, config: &Config) -> StartupError {
    let StartupError::Store(StoreError::Damaged(damage)) = error else {
        return error;
    };
    let dir = config.backup_dir.display();
    let hint = match crate::backups::newest_backup(&config.backup_dir) {
        Some(b) => format!(
            " The newest backup in {dir} is {} (written {}).",
            b.path.display(),
            crate::submit::timestamp_of_ms(b.at_ms)
        ),
        None => format!(" No backup was found in {dir} (backup_dir)."),
    };
    StartupError::Refused(format!("{damage}{hint}"))
}
