//! `chorus serve`: resolves the configuration and hands it to the app (`app::serve`).

use crate::commands::args::ServeArgs;
use crate::config::{Config, StartupError};
use std::process::ExitCode;

pub fn run(args: ServeArgs) -> Result<ExitCode, StartupError> {
    let config = Config::resolve(&args)?;
    crate::app::serve(config.clone()).map_err(|e| super::with_backup_hint(e, &config))
}
