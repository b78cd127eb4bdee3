//! `chorus user add|passwd|list|role|disable|enable|token|revoke-token|invite`, on a stopped
//! server's store; every change is audited with the actor `cli`.

use super::{block_on, close, open_offline_store, public_base};
use crate::commands::args::{CommonArgs, UserCommand};
use crate::config::{Config, StartupError};
use crate::domain::{Role, ALL_SITES};
use crate::services::password_links::{self, link_path};
use crate::services::users::{self, By, UserError};
use crate::store::Store;
use std::future::Future;
use std::io::BufRead;
use std::pin::Pin;
use std::process::ExitCode;

fn refused(e: UserError) -> StartupError {
    match e {
        UserError::Service(crate::services::ServiceError::Store(e)) => e.into(),
        other => StartupError::Input(other.to_string()),
    }
}

type Work<'a, T> = Pin<Box<dyn Future<Output = Result<T, UserError>> + 'a>>;

/// Runs `work` on the configured store, closing it after.
fn with_store<T>(
    common: &CommonArgs,
    work: impl for<'a> FnOnce(&'a dyn Store) -> Work<'a, T>,
) -> Result<T, StartupError> {
    let config = Config::for_command(common)?;
    block_on(async {
        let store = open_offline_store(&config).await?;
        let out = work(store.as_ref()).await.map_err(refused)?;
        close(store.as_ref()).await?;
        Ok::<_, StartupError>(out)
    })?
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
            let n = name.clone();
            let token = with_store(&common, move |s| {
                Box::pin(async move { users::add(s, By::Cli, &n, &site, role).await })
            })?;
            eprintln!("Created user \"{name}\". Its API token, shown only this once:");
            println!("{token}");
        }
        UserCommand::Passwd { name, common } => {
            with_store(&common, move |s| {
                Box::pin(async move {
                    users::managed(s, By::Cli, &name).await?;
                    eprintln!("Password for {name} (one line on standard input):");
                    let mut line = String::new();
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .map_err(|e| UserError::Hash(format!("cannot read the password: {e}")))?;
                    let password = line.trim_end_matches(['\r', '\n']);
                    users::set_password(s, By::Cli, &name, password).await?;
                    eprintln!("Password set for \"{name}\".");
                    Ok(())
                })
            })?;
        }
        UserCommand::List { common } => {
            let list = with_store(&common, |s| Box::pin(users::list(s, By::Cli)))?;
            println!("name\tsite\trole\tstate");
            for u in list {
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{state}", u.name, u.site, u.role.as_str());
            }
        }
        UserCommand::Role { name, role, common } => {
            let role: Role = role.parse().map_err(StartupError::Input)?;
            let n = name.clone();
            with_store(&common, move |s| {
                Box::pin(async move { users::change_role(s, By::Cli, &n, role).await })
            })?;
            eprintln!("\"{name}\" is now {}.", role.as_str());
        }
        UserCommand::Disable { name, common } => {
            let n = name.clone();
            with_store(&common, move |s| {
                Box::pin(async move { users::set_disabled(s, By::Cli, &n, true).await })
            })?;
            eprintln!("\"{name}\" is disabled: no sign-in, no token, no session.");
        }
        UserCommand::Enable { name, common } => {
            let n = name.clone();
            with_store(&common, move |s| {
                Box::pin(async move { users::set_disabled(s, By::Cli, &n, false).await })
            })?;
            eprintln!("\"{name}\" is enabled again.");
        }
        UserCommand::Token { name, common } => {
            let n = name.clone();
            let token = with_store(&common, move |s| {
                Box::pin(async move { users::new_api_token(s, By::Cli, &n).await })
            })?;
            eprintln!(
                "New API token of \"{name}\" (the old one no longer works), shown only this once:"
            );
            println!("{token}");
        }
        UserCommand::RevokeToken { name, common } => {
            let n = name.clone();
            with_store(&common, move |s| {
                Box::pin(async move { users::revoke_api_token(s, By::Cli, &n).await })
            })?;
            eprintln!("The API token of \"{name}\" no longer works.");
        }
        UserCommand::Invite {
            name,
            base_url,
            common,
        } => {
            let config = Config::for_command(&common)?;
            let base = public_base(base_url.as_deref(), &config)?;
            let n = name.clone();
            let link = with_store(&common, move |s| {
                Box::pin(async move { password_links::invite(s, By::Cli, &n).await })
            })?;
            eprintln!(
                "A link for \"{name}\" to set their password, usable once within {} hours:",
                password_links::LINK_HOURS
            );
            println!("{base}{}", link_path(&link.secret));
        }
    }
    Ok(ExitCode::SUCCESS)
}
