//! `chorus serve`: resolves the configuration and hands it to the app (`app::serve`).

use crate::commands::args::ServeArgs;
use crate::config::{Config, StartupError};
use std::process::ExitCode;

pub fn run(args: ServeArgs) -> Result<ExitCode, StartupError> {
    crate::app::serve(Config::resolve(&args)?)
}
