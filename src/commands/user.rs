//! `chorus user add|passwd`.

use super::open_offline_store;
use crate::args::UserCommand;
use crate::auth::{hash_password, new_token, token_sha256};
use crate::config::Config;
use crate::errors::StartupError;
use crate::store::{Role, Store, User, ALL_SITES};
use std::io::BufRead;
use std::process::ExitCode;

/// The shortest password `chorus user passwd` accepts.
const MIN_PASSWORD_CHARS: usize = 12;

pub fn run(cmd: UserCommand) -> Result<ExitCode, StartupError> {
    match cmd {
        UserCommand::Add {
            site,
            name,
            role,
            common,
        } => {
            let role: Role = role.parse().map_err(StartupError::Input)?;
            let valid_name = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
            if !valid_name {
                return Err(StartupError::Input(
                    "--name may use letters, digits and - _ . @ (at most 64)".into(),
                ));
            }
            let config = Config::for_command(&common)?;
            if site != ALL_SITES && !config.sites.join(&site).join("site.toml").is_file() {
                return Err(StartupError::Config(format!(
                    "no site \"{site}\" in {} (use --site '*' for every site)",
                    config.sites.display()
                )));
            }
            let store = open_offline_store(&config)?;
            if store.user(&name)?.is_some() {
                return Err(StartupError::Input(format!(
                    "a user named \"{name}\" already exists"
                )));
            }
            let token = new_token();
            store.put_user(&User {
                name: name.clone(),
                site,
                role,
                token_sha256: token_sha256(&token),
                password_hash: None,
                created_at: crate::submit::timestamp_of(uuid::Uuid::now_v7()),
            })?;
            eprintln!("Created user \"{name}\". Its API token, shown only this once:");
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Passwd { name, common } => {
            let config = Config::for_command(&common)?;
            let store = open_offline_store(&config)?;
            let mut user = store
                .user(&name)?
                .ok_or_else(|| StartupError::Input(format!("no user named \"{name}\"")))?;
            eprintln!("Password for {name} (one line on standard input):");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| StartupError::Io(format!("cannot read the password: {e}")))?;
            let password = line.trim_end_matches(['\r', '\n']);
            let length = password.chars().count();
            if length < MIN_PASSWORD_CHARS {
                return Err(StartupError::Input(format!(
                    "the password is too short: it has {length} character(s), it needs at least {MIN_PASSWORD_CHARS}; nothing was changed"
                )));
            }
            user.password_hash = Some(hash_password(password).map_err(StartupError::Io)?);
            store.put_user(&user)?;
            eprintln!("Password set for \"{name}\".");
            Ok(ExitCode::SUCCESS)
        }
    }
}
