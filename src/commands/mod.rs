//! The subcommands. Each returns its exit code or a startup error to print.

pub mod args;
pub mod backup;
pub mod check;
pub mod export;
pub mod invite;
pub mod serve;
pub mod user;

use crate::app::store_config;
use crate::config::{Config, StartupError};
use crate::store::Store;
use std::future::Future;
use std::sync::Arc;

/// Runs an offline command's async body on a runtime of its own.
pub fn block_on<T>(body: impl Future<Output = T>) -> Result<T, StartupError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StartupError::Io(format!("cannot start the runtime: {e}")))?;
    Ok(runtime.block_on(body))
}

/// Opens the store of a stopped server (sled allows one process per data directory).
pub async fn open_offline_store(config: &Config) -> Result<Arc<dyn Store>, StartupError> {
    Ok(crate::store::open(&store_config(config)).await?)
}

/// Marks a clean stop of an offline command's store.
pub async fn close(store: &dyn Store) -> Result<(), StartupError> {
    Ok(store.close().await?)
}
