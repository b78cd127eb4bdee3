//! `chorus migrate`: applies the PostgreSQL store's migrations and says what it did (`serve`
//! and every command apply them at start as well; this is for a deployment that migrates
//! before it starts the new nodes).

use super::block_on;
use crate::commands::args::MigrateArgs;
use crate::config::{Config, StartupError};
use std::process::ExitCode;

pub fn run(args: MigrateArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let Some(url) = config.store.clone() else {
        return Err(StartupError::Config(
            "chorus migrate is for a PostgreSQL store: give --store, CHORUS_STORE or store in chorus.toml (the sled store migrates itself when opened)".into(),
        ));
    };
    let (from, to) = block_on(crate::store::postgres::migrate(&url))??;
    if from == to {
        println!("The database is at schema {to}; nothing to do.");
    } else {
        println!("Migrated the database from schema {from} to {to}.");
    }
    Ok(ExitCode::SUCCESS)
}
