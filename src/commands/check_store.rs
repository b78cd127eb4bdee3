//! `chorus check-store`: the check `serve` makes before it starts, without starting.

use super::open_offline_store;
use crate::args::CheckArgs;
use crate::config::Config;
use crate::errors::StartupError;
use std::process::ExitCode;

pub fn run(args: CheckArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let data = &config.data;
    if !data.join("db").exists() && !data.join("store-record.json").exists() {
        return Err(StartupError::Refused(format!(
            "there is no store in {} (no database and no store record)",
            data.display()
        )));
    }
    let store = open_offline_store(&config)?;
    let summary = store.summary()?;
    println!(
        "The store in {} is sound: commit {}, {} responses, {} users; it matches its record \
         ({}/store-record.json).",
        data.display(),
        summary.commit,
        summary.responses,
        summary.users,
        data.display()
    );
    Ok(ExitCode::SUCCESS)
}
