//! Configuration: defaults, then chorus.toml, then CHORUS_* variables, then flags; and the
//! errors that stop a start before anything is served.

use crate::commands::args::{CommonArgs, ServeArgs};
use crate::services::address_policy::{AddressPolicy, AllowedRange};
use crate::services::backups::Schedule;
use crate::store::StoreError;
use crate::survey::LoadError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What stops the process before it serves anything (or an offline command).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(String),
    /// What a command was given (a password, a name) is not acceptable; said as it is.
    #[error("{0}")]
    Input(String),
    #[error("{}", join_lines(.0))]
    Sites(Vec<LoadError>),
    #[error("templates: {0}")]
    Templates(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(String),
    /// The store was refused (damaged, or not a new installation): the whole explanation.
    #[error("{0}")]
    Refused(String),
}

fn join_lines(errors: &[LoadError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Keys of chorus.toml; every one is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<String>,
    pub data: Option<PathBuf>,
    pub sites: Option<PathBuf>,
    pub plugins: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub workers: Option<usize>,
    pub cache_capacity_mb: Option<u64>,
    pub max_body_kb: Option<usize>,
    pub body_timeout_secs: Option<u64>,
    pub shutdown_timeout_secs: Option<u64>,
    pub webhook_retry_hours: Option<u64>,
    pub public_url: Option<String>,
    pub deliver_webhooks: Option<bool>,
    pub rule_deadline_ms: Option<u64>,
    /// How often to write a scheduled backup while serving: `"30m"`, `"1h"`, `"1d"`.
    #[serde(
        default,
        deserialize_with = "crate::services::backups::deserialize_interval"
    )]
    pub backup_every: Option<Duration>,
    pub backup_dir: Option<PathBuf>,
    pub backup_keep: Option<usize>,
    pub webhook_allow_private: Option<Vec<AllowedRange>>,
    pub store: Option<String>,
    pub store_pool_size: Option<usize>,
    pub webhook_lease_secs: Option<u64>,
    pub webhook_timeout_secs: Option<u64>,
    pub review_interval_ms: Option<u64>,
    pub trusted_proxies: Option<Vec<AllowedRange>>,
    pub metrics_public: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub data: PathBuf,
    pub sites: PathBuf,
    pub plugins: PathBuf,
    pub templates: PathBuf,
    pub workers: usize,
    pub cache_capacity_bytes: u64,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
    pub shutdown_timeout: Duration,
    /// How long a webhook delivery is retried before it is dead-lettered.
    pub webhook_retry_span: Duration,
    /// Scheme, host and optional path prefix under which respondents reach this server
    /// (`https://survey.example.org`), for QR codes and invitation links; without it they are
    /// built from the request's Host.
    pub public_url: Option<String>,
    /// False pauses outbound webhooks (entries stay pending and go out once re-enabled).
    pub deliver_webhooks: bool,
    /// Wall-clock time one rule hook may run.
    pub rule_deadline: Duration,
    /// Scheduled backups while serving (none when unset), into `backup_dir`, keeping the
    /// newest `backup_keep`.
    pub backup_every: Option<Duration>,
    pub backup_dir: PathBuf,
    pub backup_keep: usize,
    /// Private, shared and loopback ranges webhooks may reach (none by default; see
    /// `services::address_policy`).
    pub webhook_allow_private: Vec<AllowedRange>,
    /// A `postgres://` URL: the store is that database (which several nodes may share).
    /// None: sled in `data`.
    pub store: Option<String>,
    /// Connections one node opens to PostgreSQL at most.
    pub store_pool_size: usize,
    /// How long a worker's claim holds a webhook delivery (another node retries it after).
    pub webhook_lease: Duration,
    /// Time one webhook request may take.
    pub webhook_timeout: Duration,
    /// How often the review loop looks at the reports.
    pub review_interval: Duration,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client (none by
    /// default: the TCP peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `/metrics` (which names sites and per-group counts) without a token. False by default:
    /// it then needs the API token of a user of every site (`*`).
    pub metrics_public: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".into(),
            data: "data".into(),
            sites: "sites".into(),
            plugins: "plugins".into(),
            templates: "templates".into(),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            cache_capacity_bytes: 64 * 1024 * 1024,
            max_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            webhook_retry_span: Duration::from_secs(24 * 3600),
            public_url: None,
            deliver_webhooks: true,
            rule_deadline: Duration::from_millis(50),
            backup_every: None,
            backup_dir: "backups".into(),
            backup_keep: 7,
            webhook_allow_private: Vec::new(),
            store: None,
            store_pool_size: 16,
            webhook_lease: Duration::from_secs(300),
            webhook_timeout: Duration::from_secs(10),
            review_interval: crate::services::review::DEFAULT_INTERVAL,
            trusted_proxies: Vec::new(),
            metrics_public: false,
        }
    }
}

fn read_file_config(explicit: Option<&Path>) -> Result<FileConfig, StartupError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let default = PathBuf::from("chorus.toml");
            if !default.exists() {
                return Ok(FileConfig::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| StartupError::Config(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let (line, col) = e
            .span()
            .map_or((1, 1), |s| crate::survey::load::line_col(&text, s.start));
        StartupError::Config(format!(
            "{}:{line}:{col}: {}",
            path.display(),
            e.message().trim()
        ))
    })
}

impl Config {
    /// The scheduled backups, when `backup_every` is set.
    pub fn backup_schedule(&self) -> Option<Schedule> {
        self.backup_every.map(|every| Schedule {
            every,
            dir: self.backup_dir.clone(),
            keep: self.backup_keep,
        })
    }

    /// Where this server's webhooks may connect.
    pub fn webhook_policy(&self) -> AddressPolicy {
        AddressPolicy::new(&self.webhook_allow_private)
    }

    /// Resolves the paths the offline commands need.
    pub fn for_command(common: &CommonArgs) -> Result<Config, StartupError> {
        Config::resolve(&ServeArgs {
            common: common.clone(),
            ..ServeArgs::default()
        })
    }

    pub fn resolve(args: &ServeArgs) -> Result<Config, StartupError> {
        let file = read_file_config(args.common.config.as_deref())?;
        let d = Config::default();
        let c = &args.common;
        let config = Config {
            bind: args.bind.clone().or(file.bind).unwrap_or(d.bind),
            data: c.data.clone().or(file.data).unwrap_or(d.data),
            sites: c.sites.clone().or(file.sites).unwrap_or(d.sites),
            plugins: c.plugins.clone().or(file.plugins).unwrap_or(d.plugins),
            templates: c
                .templates
                .clone()
                .or(file.templates)
                .unwrap_or(d.templates),
            workers: args.workers.or(file.workers).unwrap_or(d.workers),
            cache_capacity_bytes: file
                .cache_capacity_mb
                .map_or(d.cache_capacity_bytes, |mb| mb * 1024 * 1024),
            max_body_bytes: file.max_body_kb.map_or(d.max_body_bytes, |kb| kb * 1024),
            body_timeout: file
                .body_timeout_secs
                .map_or(d.body_timeout, Duration::from_secs),
            deliver_webhooks: file.deliver_webhooks.unwrap_or(d.deliver_webhooks),
            rule_deadline: file
                .rule_deadline_ms
                .map_or(d.rule_deadline, Duration::from_millis),
            webhook_retry_span: file
                .webhook_retry_hours
                .map_or(d.webhook_retry_span, |h| Duration::from_secs(h * 3600)),
            shutdown_timeout: file
                .shutdown_timeout_secs
                .map_or(d.shutdown_timeout, Duration::from_secs),
            public_url: file
                .public_url
                .map(|u| u.trim().trim_end_matches('/').to_string()),
            backup_every: file.backup_every,
            backup_dir: file.backup_dir.unwrap_or(d.backup_dir),
            backup_keep: file.backup_keep.unwrap_or(d.backup_keep),
            webhook_allow_private: file
                .webhook_allow_private
                .unwrap_or(d.webhook_allow_private),
            store: c
                .store
                .clone()
                .or(file.store)
                .filter(|s| !s.trim().is_empty()),
            store_pool_size: file.store_pool_size.unwrap_or(d.store_pool_size),
            webhook_lease: file
                .webhook_lease_secs
                .map_or(d.webhook_lease, Duration::from_secs),
            webhook_timeout: file
                .webhook_timeout_secs
                .map_or(d.webhook_timeout, Duration::from_secs),
            review_interval: file
                .review_interval_ms
                .map_or(d.review_interval, Duration::from_millis),
            trusted_proxies: file.trusted_proxies.map_or(d.trusted_proxies, |list| {
                list.into_iter().map(|r| r.0).collect()
            }),
            metrics_public: file.metrics_public.unwrap_or(d.metrics_public),
        };
        if config.webhook_lease < 4 * config.webhook_timeout {
            return Err(StartupError::Config(
                "webhook_lease_secs must be at least 4 × webhook_timeout_secs (an attempt starts only while twice its timeout is left of the lease)".into(),
            ));
        }
        if let Some(url) = &config.store {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(StartupError::Config(
                    "store must be a postgres:// URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE); leave it out for the sled store in `data`".into(),
                ));
            }
        }
        if config.store_pool_size < 2 {
            return Err(StartupError::Config(
                "store_pool_size must be at least 2".into(),
            ));
        }
        if config.backup_keep == 0 {
            return Err(StartupError::Config(
                "backup_keep must be at least 1".into(),
            ));
        }
        if let Some(url) = &config.public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                return Err(StartupError::Config(format!(
                    "public_url \"{url}\" must look like https://host[/path]"
                )));
            }
        }
        if config.workers == 0 {
            return Err(StartupError::Config("workers must be at least 1".into()));
        }
        if config.bind.parse::<std::net::SocketAddr>().is_err() && !config.bind.contains(':') {
            return Err(StartupError::Config(format!(
                "bind address \"{}\" must look like HOST:PORT",
                config.bind
            )));
        }
        Ok(config)
    }
}
