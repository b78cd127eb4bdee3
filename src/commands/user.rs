//! `chorus user add|passwd`.

use super::{block_on, close, open_offline_store};
use crate::commands::args::UserCommand;
use crate::config::{Config, StartupError};
use crate::domain::{Role, ALL_SITES};
use crate::services::audit::Actor;
use crate::services::users::{self, UserError};
use std::io::BufRead;
use std::process::ExitCode;

fn refused(e: UserError) -> StartupError {
    match e {
        UserError::Service(crate::services::ServiceError::Store(e)) => e.into(),
        other => StartupError::Input(other.to_string()),
    }
}

pub fn run(cmd: UserCommand) -> Result<ExitCode, StartupError> {
    match cmd {
        UserCommand::Add {
            site,
            name,
            role,
            common,
        } => {
            let role: Role = role.parse().map_err(StartupError::Input)?;
            let config = Config::for_command(&common)?;
            if site != ALL_SITES && !config.sites.join(&site).join("site.toml").is_file() {
                return Err(StartupError::Config(format!(
                    "no site \"{site}\" in {} (use --site '*' for every site)",
                    config.sites.display()
                )));
            }
            let token = block_on(async {
                let store = open_offline_store(&config).await?;
                let token = users::add(store.as_ref(), Actor::Cli, &name, &site, role)
                    .await
                    .map_err(refused)?;
                close(store.as_ref()).await?;
                Ok::<_, StartupError>(token)
            })??;
            eprintln!("Created user \"{name}\". Its API token, shown only this once:");
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Passwd { name, common } => {
            let config = Config::for_command(&common)?;
            block_on(async {
                let store = open_offline_store(&config).await?;
                if store.user(&name).await?.is_none() {
                    return Err(refused(UserError::Unknown(name.clone())));
                }
                eprintln!("Password for {name} (one line on standard input):");
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| StartupError::Io(format!("cannot read the password: {e}")))?;
                let password = line.trim_end_matches(['\r', '\n']);
                users::set_password(store.as_ref(), Actor::Cli, &name, password)
                    .await
                    .map_err(refused)?;
                close(store.as_ref()).await?;
                Ok(())
            })??;
            eprintln!("Password set for \"{name}\".");
            Ok(ExitCode::SUCCESS)
        }
    }
}
