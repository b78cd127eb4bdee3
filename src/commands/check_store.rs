//! `chorus check-store`: the check `serve` makes before it starts, without starting.

use super::{block_on, with_backup_hint};
use crate::app::store_config;
use crate::commands::args::CheckArgs;
use crate::config::{Config, StartupError};
use std::process::ExitCode;

pub fn run(args: CheckArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let data = &config.data;
    let checked = block_on(crate::store::check(&store_config(&config)))?
        .map_err(|e| with_backup_hint(e.into(), &config))?;
    let Some(summary) = checked else {
        return Err(StartupError::Refused(match config.store {
            Some(_) => "there is no Chorus store in the store URL's database (no schema_version table); `chorus migrate` or the first `chorus serve` creates one".into(),
            None => format!(
                "there is no store in {} (no database and no store record)",
                data.display()
            ),
        }));
    };
    println!(
        "The store {} is sound: {}, {} responses, {} users; it matches {}.",
        summary.location,
        summary.position,
        summary.responses,
        summary.users,
        summary.checked_against
    );
    Ok(ExitCode::SUCCESS)
}
