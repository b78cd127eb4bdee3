//! `chorus rules pull|push`: a site's rules and rule tests between the store and a folder,
//! for sites that keep them in git (docs/rules.md "Where the rules live"). On sled the server
//! must be stopped (one process per data directory); on PostgreSQL the running nodes follow a
//! push within seconds (it is announced like a reload).

use super::{block_on, close, open_offline_store};
use crate::commands::args::{CommonArgs, RulesCommand};
use crate::config::{Config, StartupError};
use crate::plugins::Limits;
use crate::services::audit::{self, Actor, Event};
use crate::services::rule_source::{
    self, live, read_rules_folder, store_change, try_with_rules, whole_change, Change,
};
use crate::services::sites::try_site_folder;
use crate::services::ServiceError;
use crate::survey::RulesSource;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Who a pushed version is by (a user name in the admin app).
pub const PUSH_AUTHOR: &str = "(chorus rules push)";

fn site_folder(config: &Config, site: &str) -> Result<PathBuf, StartupError> {
    let dir = config.sites.join(site);
    if !dir.join("site.toml").is_file() {
        return Err(StartupError::Config(format!(
            "no site \"{site}\" in {}",
            config.sites.display()
        )));
    }
    Ok(dir)
}

fn service(e: ServiceError) -> StartupError {
    match e {
        ServiceError::Store(e) => e.into(),
        other => StartupError::Input(other.to_string()),
    }
}

pub fn run(cmd: RulesCommand) -> Result<ExitCode, StartupError> {
    match cmd {
        RulesCommand::Pull { site, dir, common } => pull(&site, &dir, &common),
        RulesCommand::Push {
            site,
            dir,
            message,
            anyway,
            common,
        } => {
            let message = message.unwrap_or_else(|| "pushed with chorus rules push".into());
            push(&site, &dir, &message, anyway, &common)
        }
    }
}

fn pull(site: &str, dir: &Path, common: &CommonArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(common)?;
    site_folder(&config, site)?;
    let versions = block_on(async {
        let store = open_offline_store(&config).await?;
        let versions = store.current_rule_versions(site).await;
        close(store.as_ref()).await?;
        Ok::<_, StartupError>(versions?)
    })??;
    if versions.is_empty() {
        return Err(StartupError::Input(format!(
            "the store holds no version of site \"{site}\"'s rules yet: they are the files of {} (the first apply or push stores them)",
            config.sites.join(site).join("rules").display()
        )));
    }
    let files = live(&versions);
    rule_source::write_rules_folder(dir, &files)
        .map_err(|e| StartupError::Io(format!("cannot write {}: {e}", dir.display())))?;
    for v in versions.iter().filter(|v| !v.deleted) {
        println!("{}: version {}", v.file, v.number);
    }
    eprintln!("wrote {} file(s) to {}", files.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Prints each line and says why nothing was pushed.
fn refuse(lines: &[String], why: String) -> ExitCode {
    for line in lines {
        println!("{line}");
    }
    eprintln!("{why}; nothing was pushed");
    ExitCode::FAILURE
}

fn push(
    site: &str,
    dir: &Path,
    message: &str,
    anyway: bool,
    common: &CommonArgs,
) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(common)?;
    let site_dir = site_folder(&config, site)?;
    if RulesSource::of_folder(&site_dir) != RulesSource::Store {
        return Err(service(ServiceError::RulesInFiles(site.to_string())));
    }
    if !dir.is_dir() {
        return Err(StartupError::Input(format!("no folder {}", dir.display())));
    }
    let files = match read_rules_folder(dir) {
        Ok(files) if files.is_empty() => {
            return Ok(refuse(
                &[],
                format!("{} holds no *.rhai or tests/*.toml", dir.display()),
            ))
        }
        Ok(files) => files,
        Err(lines) => return Ok(refuse(&lines, "a file name is refused".into())),
    };
    let limits = Limits {
        deadline: config.rule_deadline,
        ..Default::default()
    };
    let policy = config.webhook_policy();
    let tried = try_with_rules(&site_dir, &files, |copy| {
        try_site_folder(copy, &config.plugins, &limits, &policy)
    })
    .map_err(|e| StartupError::Io(format!("cannot check the rules: {e}")))?;
    let failing = match tried {
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            let why = format!("{} problem(s) found", lines.len());
            return Ok(refuse(&lines, why));
        }
        Ok(failing) if !failing.is_empty() && !anyway => {
            let why = format!(
                "{} rule test(s) fail (--anyway pushes them anyway)",
                failing.len()
            );
            return Ok(refuse(&failing, why));
        }
        Ok(failing) => failing,
    };
    let rules_dir = site_dir.join("rules");
    let stored = block_on(async {
        let store = open_offline_store(&config).await?;
        let pushed = async {
            let current = rule_source::current_rules(store.as_ref(), site, &rules_dir).await?;
            let seed = read_rules_folder(&rules_dir).map_err(ServiceError::SiteInvalid)?;
            let change = Change {
                site,
                author: PUSH_AUTHOR,
                message,
                failing_tests: &failing,
            };
            let changes = whole_change(&current, &files);
            let stored = store_change(store.as_ref(), &change, &changes, &seed).await?;
            if !stored.is_empty() {
                let event = Event::RulesChanged {
                    site,
                    versions: &stored,
                    message,
                    restores: None,
                };
                audit::record(store.as_ref(), Actor::Cli, event).await?;
                // Running nodes follow it as they follow a reload.
                store.mark_site_reloaded(site).await?;
            }
            Ok::<_, ServiceError>(stored)
        }
        .await;
        close(store.as_ref()).await?;
        pushed.map_err(service)
    })??;
    if stored.is_empty() {
        eprintln!("nothing changed: the store already holds these files");
        return Ok(ExitCode::SUCCESS);
    }
    for v in &stored {
        match v.deleted {
            true => println!("{}: deleted (version {})", v.file, v.number),
            false => println!("{}: version {}", v.file, v.number),
        }
    }
    if !failing.is_empty() {
        eprintln!("pushed anyway with {} failing rule test(s)", failing.len());
    }
    eprintln!(
        "pushed {} file(s) of site \"{site}\"; running nodes on this store load them within seconds, a stopped server at its start",
        stored.len()
    );
    Ok(ExitCode::SUCCESS)
}
