//! The PostgreSQL backend: several Chorus nodes may share one database.
//!
//! tokio-postgres with a deadpool pool: async, no database needed to build, and it pipelines
//! the statements of one transaction (the group commit sends a batch's inserts together). The
//! pool, its connections and the group commit run on a small runtime of the store's own, so
//! a connection never depends on whichever HTTP worker happened to open it.
//!
//! Every guarantee of the contract is a transaction or a constraint: a write returns after its
//! COMMIT (synchronous_commit is forced on); a response, its tasks, deliveries, rule-error
//! entry, idempotency key, invitation use and report counts are one transaction (so `recover`
//! has nothing to repair); idempotency keys are a primary key and invitations are used by a
//! conditional UPDATE, so both hold between nodes; transitions and leases are conditional
//! UPDATEs; deliveries are claimed with `FOR UPDATE SKIP LOCKED`.

mod accounts;
mod audit;
mod backup;
mod batch;
mod check;
mod connect;
mod counts;
mod deliveries;
mod insert;
mod jobs;
mod kiosks;
mod migrate;
mod responses;
mod rows;
mod rule_versions;
mod tasks;

pub use check::check;
pub use migrate::{migrate, SCHEMA_VERSION};

use crate::store::StoreError;
use deadpool_postgres::{Object, Pool};
use std::future::Future;
use std::sync::Arc;
use tokio_postgres::error::SqlState;

pub struct PgStore {
    db: Arc<Db>,
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

/// What the store's tasks share.
pub(super) struct Db {
    pool: Pool,
    batcher: batch::Batcher,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Backend(describe(&e))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Backend(format!("no database connection: {other}")),
        }
    }
}

/// The server's message (and its detail) rather than tokio-postgres's generic "db error".
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    }
}

/// A transaction that lost a race the server resolved by aborting it: run it again.
fn retryable(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::T_R_DEADLOCK_DETECTED)
    )
}

/// How often a transaction that lost a race is run again.
const RETRIES: usize = 5;

/// Runs `body` (a whole transaction) again when the server aborted it for a race.
async fn with_retries<T, F, Fut>(mut body: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut attempt = 0;
    loop {
        match body().await {
            Ok(v) => return Ok(v),
            Err(Failure::Db(e)) if retryable(&e) && attempt < RETRIES => attempt += 1,
            Err(f) => return Err(f.into()),
        }
    }
}

/// Why a transaction failed: the database (maybe retryable) or the store's own refusal.
enum Failure {
    Db(tokio_postgres::Error),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Failure::Db(e),
            other => Failure::Store(other.into()),
        }
    }
}

impl From<Failure> for StoreError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Db(e) => e.into(),
            Failure::Store(e) => e,
        }
    }
}

impl PgStore {
    /// Connects (one sentence on failure: see `connect`), applies the migrations and starts
    /// the group commit. `threads` run the store's runtime.
    pub async fn open(url: &str, pool_size: usize, threads: usize) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.clamp(1, 4))
            .thread_name("chorus-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot start the store runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let url = url.to_string();
        let started = handle
            .spawn(async move {
                let pool = connect::pool(&url, pool_size).await?;
                migrate::apply(&pool, &url).await?;
                let batcher = batch::Batcher::start(pool.clone(), pool_size);
                Ok::<_, StoreError>(Db { pool, batcher })
            })
            .await
            .map_err(|e| StoreError::Backend(format!("the store did not start: {e}")))
            .and_then(|r| r);
        let db = match started {
            Ok(db) => db,
            Err(e) => {
                // Dropped here (inside the caller's runtime) it would panic.
                runtime.shutdown_background();
                return Err(e);
            }
        };
        Ok(PgStore {
            db: Arc::new(db),
            runtime: Some(runtime),
            handle,
        })
    }

    /// Runs `f` on the store's runtime.
    async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Db>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.handle
            .spawn(f(Arc::clone(&self.db)))
            .await
            .map_err(|e| StoreError::Backend(format!("a store call failed: {e}")))?
    }
}

impl Db {
    async fn client(&self) -> Result<Object, StoreError> {
        Ok(self.pool.get().await?)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.db.pool.close();
        // Dropping a runtime inside another one's task would panic; its threads just stop.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
