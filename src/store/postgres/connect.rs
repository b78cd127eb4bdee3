//! The connection pool, and the start-up errors a person can act on: one sentence for a
//! malformed URL, an unreachable server, a missing database and a refused login (never the
//! password, never a backtrace).

use crate::store::StoreError;
use deadpool_postgres::{HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Parses a store URL; the error says what a URL looks like.
pub(super) fn parse(url: &str) -> Result<Config, StoreError> {
    let mut config = Config::from_str(url).map_err(|e| {
        StoreError::Unreachable(format!(
            "the store URL is not a PostgreSQL URL ({e}); write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        ))
    })?;
    if config.get_dbname().is_none() {
        return Err(StoreError::Unreachable(
            "the store URL names no database; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE".into(),
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.application_name("chorus");
    Ok(config)
}

/// `host:port` of the first host, for messages.
pub(super) fn server_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// One sentence for a failed first connection.
pub(super) fn explain(config: &Config, e: &tokio_postgres::Error) -> StoreError {
    let server = server_of(config);
    let db = config.get_dbname().unwrap_or_default();
    let user = config.get_user().unwrap_or("(none)");
    let message = match e.code() {
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => format!(
            "the database \"{db}\" does not exist on the PostgreSQL server at {server}; create it with `createdb -h {} -p {} -U {user} {db}` (or CREATE DATABASE \"{db}\"), then start again",
            server.rsplit_once(':').map_or("localhost", |(h, _)| h),
            server.rsplit_once(':').map_or("5432", |(_, p)| p),
        ),
        Some(c)
            if *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            format!("PostgreSQL at {server} refused the login of user \"{user}\" to \"{db}\" (wrong password, or pg_hba.conf does not admit it); check the user and password in the store URL")
        }
        Some(_) => format!(
            "PostgreSQL at {server} refused the connection: {}",
            super::describe(e)
        ),
        None => format!(
            "cannot reach PostgreSQL at {server} ({}); is the server running, and are the host and port of the store URL right?",
            root_cause(e)
        ),
    };
    StoreError::Unreachable(message)
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The pool, after one connection proved the URL works. Every connection commits durably:
/// a server configured with `synchronous_commit = off` is overridden for Chorus's sessions.
pub(super) async fn pool(url: &str, size: usize) -> Result<Pool, StoreError> {
    let config = parse(url)?;
    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(size.max(2))
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(Duration::from_secs(10)))
        .wait_timeout(Some(Duration::from_secs(30)))
        .post_create(deadpool_postgres::Hook::async_fn(|client, _| {
            Box::pin(async move {
                let row = client
                    .query_one("SHOW synchronous_commit", &[])
                    .await
                    .map_err(HookError::Backend)?;
                if row.get::<_, String>(0) == "off" {
                    client
                        .batch_execute("SET synchronous_commit = on")
                        .await
                        .map_err(HookError::Backend)?;
                }
                Ok(())
            })
        }))
        .build()
        .map_err(|e| StoreError::Backend(format!("cannot build the connection pool: {e}")))?;
    match pool.get().await {
        Ok(_) => Ok(pool),
        Err(deadpool_postgres::PoolError::Backend(e)) => Err(explain(&config, &e)),
        Err(deadpool_postgres::PoolError::PostCreateHook(HookError::Backend(e))) => {
            Err(explain(&config, &e))
        }
        Err(deadpool_postgres::PoolError::Timeout(_)) => Err(StoreError::Unreachable(format!(
            "cannot reach PostgreSQL at {} (timed out); is the server running, and are the host and port of the store URL right?",
            server_of(&config)
        ))),
        Err(e) => Err(StoreError::Unreachable(format!(
            "cannot connect to PostgreSQL at {}: {e}",
            server_of(&config)
        ))),
    }
}
