//! `chorus backup FILE` / `chorus restore FILE`, on a stopped server's store, in the
//! backend-neutral format of docs/backup-format.md.

use super::{block_on, close, open_offline_store};
use crate::commands::args::BackupArgs;
use crate::config::{Config, StartupError};
use crate::services::audit::{self, Actor, Event};
use crate::services::backups::write_backup;
use crate::store::{read_backup, StoreError};
use std::process::ExitCode;

/// Records written to the store per call on restore.
const RESTORE_BATCH: usize = 1000;

pub fn backup(args: BackupArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    block_on(async {
        let store = open_offline_store(&config).await?;
        let (count, _) = write_backup(store.as_ref(), &args.file).await?;
        let event = Event::BackupWritten {
            file: &args.file.display().to_string(),
            records: count,
        };
        audit::record(store.as_ref(), Actor::Cli, event).await?;
        close(store.as_ref()).await?;
        eprintln!("Wrote {count} records to {}", args.file.display());
        Ok(ExitCode::SUCCESS)
    })?
}

pub fn restore(args: BackupArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| StartupError::Io(format!("cannot open {}: {e}", args.file.display())))?;
    // Every line is read and checked first, so a damaged file writes nothing.
    let records = read_backup(&mut std::io::BufReader::new(file))?;
    block_on(async {
        let store = open_offline_store(&config).await?;
        // An audit trail of its own would be written over by the backup's entries.
        if !store.is_empty().await? || store.audit_head().await?.is_some() {
            return Err(StoreError::NotEmpty.into());
        }
        for batch in records.chunks(RESTORE_BATCH) {
            store.import_records(batch).await?;
        }
        // After the backup's own entries: the restored chain goes on from its head.
        let event = Event::Restored {
            file: &args.file.display().to_string(),
            records: records.len() as u64,
        };
        audit::record(store.as_ref(), Actor::Cli, event).await?;
        close(store.as_ref()).await?;
        let into = match &config.store {
            Some(_) => "the PostgreSQL store".to_string(),
            None => config.data.display().to_string(),
        };
        eprintln!("Restored {} records into {into}", records.len());
        Ok(ExitCode::SUCCESS)
    })?
}
