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
    // Write beside the target and rename, so a failed backup never leaves a truncated file.
    let tmp = args.file.with_extension("partial");
    let file = std::fs::File::create(&tmp)
        .map_err(|e| StartupError::Io(format!("cannot create {}: {e}", tmp.display())))?;
    let mut out = std::io::BufWriter::new(file);
    let count = store.backup(&mut out)?;
    let file = out
        .into_inner()
        .map_err(|e| StartupError::Io(format!("cannot write {}: {e}", tmp.display())))?;
    file.sync_all()
        .map_err(|e| StartupError::Io(format!("cannot sync {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, &args.file)
        .map_err(|e| StartupError::Io(format!("cannot write {}: {e}", args.file.display())))?;
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
