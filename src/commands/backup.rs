//! `chorus backup FILE` / `chorus restore FILE`, on a stopped server's data directory.

use super::open_offline_store;
use crate::args::BackupArgs;
use crate::config::Config;
use crate::errors::StartupError;
use crate::store::Store;
use std::process::ExitCode;

pub fn backup(args: BackupArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let store = open_offline_store(&config)?;
    // Written beside the target, synced and renamed: a failed backup never leaves a torn file.
    let mut count = 0;
    let mut store_error = None;
    crate::durable_file::write_durably_with(&args.file, 0o600, &mut |f| {
        let mut out = std::io::BufWriter::new(f);
        count = store.backup(&mut out).map_err(|e| {
            let message = e.to_string();
            store_error = Some(e);
            std::io::Error::other(message)
        })?;
        std::io::Write::flush(&mut out)
    })
    .map_err(|e| match store_error.take() {
        Some(e) => StartupError::Store(e),
        None => StartupError::Io(format!("cannot write {}: {e}", args.file.display())),
    })?;
    eprintln!("Wrote {count} records to {}", args.file.display());
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: BackupArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| StartupError::Io(format!("cannot open {}: {e}", args.file.display())))?;
    let store = open_offline_store(&config)?;
    let count = store.restore(&mut std::io::BufReader::new(file))?;
    eprintln!("Restored {count} records into {}", config.data.display());
    Ok(ExitCode::SUCCESS)
}
