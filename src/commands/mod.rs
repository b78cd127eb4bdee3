//! The subcommands. Each returns its exit code or a startup error to print.

pub mod args;
pub mod audit;
pub mod backup;
pub mod check;
pub mod check_store;
pub mod export;
pub mod fhir;
pub mod invite;
pub mod migrate;
pub mod rules;
pub mod serve;
pub mod user;

use crate::app::store_config;
use crate::config::{Config, StartupError};
use crate::store::{Store, StoreError};
use crate::survey::{load_site, Site, Survey};
use std::future::Future;
use std::sync::Arc;

/// Runs an offline command's async body on a runtime of its own.
pub fn block_on<T>(body: impl Future<Output = T>) -> Result<T, StartupError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StartupError::Io(format!("cannot start the runtime: {e}")))?;
    Ok(runtime.block_on(body))
}

/// Loads one site folder of the sites directory, every problem reported.
pub fn load_offline_site(config: &Config, site: &str) -> Result<Site, StartupError> {
    load_site(&config.sites.join(site)).map_err(StartupError::Sites)
}

/// A survey of a site, or an error listing the surveys it has.
pub fn site_survey<'a>(site: &'a Site, survey: &str) -> Result<&'a Arc<Survey>, StartupError> {
    site.survey(survey).ok_or_else(|| {
        let known: Vec<&str> = site.surveys.iter().map(|s| s.id.as_str()).collect();
        StartupError::Config(format!(
            "site \"{}\" has no survey \"{survey}\" (its surveys: {})",
            site.id(),
            known.join(", ")
        ))
    })
}

/// The public URL links and canonical URLs start with: `--base-url`, else `public_url` from
/// chorus.toml, else `http://BIND`; without a trailing slash.
pub fn public_base(base_url: Option<&str>, config: &Config) -> Result<String, StartupError> {
    let base = base_url
        .map(str::to_string)
        .or_else(|| config.public_url.clone())
        .unwrap_or_else(|| format!("http://{}", config.bind));
    let base = base.trim_end_matches('/').to_string();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(StartupError::Config(format!(
            "--base-url \"{base}\" must start with http:// or https://"
        )));
    }
    Ok(base)
}

/// Opens the store of a stopped server (sled allows one process per data directory); a
/// damaged store is refused with where the newest backup is.
pub async fn open_offline_store(config: &Config) -> Result<Arc<dyn Store>, StartupError> {
    crate::store::open(&store_config(config))
        .await
        .map_err(|e| with_backup_hint(e.into(), config))
}

/// A refused (damaged) store's paragraph ends with where the newest backup is.
pub fn with_backup_hint(error: StartupError, config: &Config) -> StartupError {
    let StartupError::Store(StoreError::Damaged(damage)) = error else {
        return error;
    };
    let dir = config.backup_dir.display();
    let hint = match crate::services::backups::newest_backup(&config.backup_dir) {
        Some(b) => format!(
            " The newest backup in {dir} is {} (written {}).",
            b.path.display(),
            crate::domain::time::rfc3339_of_ms(b.at_ms)
        ),
        None => format!(" No backup was found in {dir} (backup_dir)."),
    };
    StartupError::Refused(format!("{damage}{hint}"))
}

/// Marks a clean stop of an offline command's store.
pub async fn close(store: &dyn Store) -> Result<(), StartupError> {
    Ok(store.close().await?)
}
