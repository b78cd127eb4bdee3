//! The sled backend: one tree per entity plus index trees (see `keys`), blocking calls on the
//! backend's own work pool, and a group commit that makes every write durable before the call
//! returns (sled's flush, then `fdatasync`: `durable`, `sync`). At open, a store that is
//! missing, unreadable or behind its record (`record`) is refused before anything is written.
//!
//! sled's multi-tree transactions serialize with the flusher (1,377 responses/s against 10,125
//! with plain inserts, measured here), so a response and the records derived from it (tasks,
//! deliveries, index entries) are plain inserts in an order that a crash can only cut short:
//! the record that is the truth first, the derived ones after. `recover` re-derives what an
//! unclean stop cut off. Index entries are written before the record they point at changes and
//! removed after, and every reader checks an entry against its record, so a stale entry is
//! skipped (and dropped), never followed.

mod accounts;
mod aggregates;
mod audit;
mod backup;
mod counts;
mod deliveries;
mod durable;
mod group_commit;
mod jobs;
mod keys;
mod kiosks;
mod merge;
mod record;
mod recover;
mod responses;
mod rule_versions;
mod sync;
mod task_counts;
mod tasks;

use crate::pool::WorkPool;
use crate::store::{StoreError, StoreSummary};
use aggregates::Aggregates;
use counts::ReportIndex;
use durable::Durability;
use group_commit::GroupCommit;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use task_counts::TaskCountIndex;

/// What a data directory holds; `recover` migrates older ones.
const SCHEMA_VERSION: u32 = 3;
/// Stripes serializing writers of the same idempotency key.
const KEY_STRIPES: usize = 64;

pub struct SledStore {
    db: Arc<Db>,
    pool: WorkPool,
}

/// The trees, shared with the pool's threads.
struct Db {
    db: sled::Db,
    meta: sled::Tree,
    responses: sled::Tree,
    idempotency: sled::Tree,
    invitations: sled::Tree,
    users: sled::Tree,
    tokens: sled::Tree,
    password_links: sled::Tree,
    sessions: sled::Tree,
    login_failures: sled::Tree,
    tasks: sled::Tree,
    task_index: sled::Tree,
    outbox: sled::Tree,
    outbox_pending: sled::Tree,
    delivery_index: sled::Tree,
    rule_errors: sled::Tree,
    jobs: sled::Tree,
    kiosks: sled::Tree,
    kiosk_secrets: sled::Tree,
    rule_versions: sled::Tree,
    audit: sled::Tree,
    audit_site: sled::Tree,
    /// Held by an append from reading the last seq to writing the next.
    audit_lock: Mutex<()>,
    counts: Arc<ReportIndex>,
    task_counts: Arc<TaskCountIndex>,
    aggregates: Arc<Aggregates>,
    key_locks: Vec<Mutex<()>>,
    commit: GroupCommit,
    durability: Arc<Durability>,
}

fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        backend(e)
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(StoreError::corrupt)
}

/// Calls `f` with the key and the record of every entry of a tree, in key order.
fn each<T: DeserializeOwned>(
    tree: &sled::Tree,
    mut f: impl FnMut(sled::IVec, T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for kv in tree.iter() {
        let (k, v) = kv?;
        f(k, decode(&v)?)?;
    }
    Ok(())
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(format!("cannot encode: {e}")))
}

impl SledStore {
    /// Opens (or creates) the data directory; `threads` run its blocking calls. A store that
    /// is missing, unreadable or behind its record is refused (`StoreError::Damaged`).
    pub fn open(dir: &Path, cache_capacity_bytes: u64, threads: usize) -> Result<Self, StoreError> {
        crate::store::durable_file::create_dir_durably(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let (db, opening) = durable::open_sled(dir, cache_capacity_bytes)?;
        // Checks the opened database against its record before any tree is created.
        let durability = Arc::new(Durability::start(dir, &db, &opening)?);
        let open = |name: &str| db.open_tree(name).map_err(backend);
        let (counts, task_counts) = (Arc::<ReportIndex>::default(), Arc::default());
        let aggregates = Arc::new(Aggregates::new(
            open(aggregates::TREE)?,
            Arc::clone(&counts),
            Arc::clone(&task_counts),
        ));
        let (flushing, recording) = (durability.clone(), durability.clone());
        let (persisting, sweeping) = (Arc::clone(&aggregates), Arc::clone(&aggregates));
        let commit = GroupCommit::start(
            // The counts changed since the last flush go into this one.
            Box::new(move || {
                persisting.persist().map_err(|e| e.to_string())?;
                flushing.flush()
            }),
            Box::new(move || {
                recording.record_if_due();
                // Quiet days lose their marks, off the writers' path.
                sweeping.sweep_if_due();
            }),
        );
        let db = Db {
            meta: open(record::TREE_META)?,
            responses: open(record::TREE_RESPONSES)?,
            // Named `submissions` before idempotency keys were bound to a request.
            idempotency: open("submissions")?,
            invitations: open("invitations")?,
            users: open("users")?,
            tokens: open("tokens")?,
            password_links: open("password_links")?,
            sessions: open("sessions")?,
            login_failures: open("login_failures")?,
            tasks: open("tasks")?,
            task_index: open("task_index")?,
            outbox: open("outbox")?,
            outbox_pending: open("outbox_pending")?,
            delivery_index: open("delivery_index")?,
            rule_errors: open("rule_errors")?,
            jobs: open("jobs")?,
            kiosks: open("kiosks")?,
            kiosk_secrets: open("kiosk_secrets")?,
            rule_versions: open("rule_versions")?,
            audit: open("audit")?,
            audit_site: open("audit_site")?,
            audit_lock: Mutex::new(()),
            counts,
            task_counts,
            aggregates,
            key_locks: (0..KEY_STRIPES).map(|_| Mutex::new(())).collect(),
            commit,
            durability,
            db,
        };
        Ok(SledStore {
            db: Arc::new(db),
            pool: WorkPool::new("chorus-sled", threads),
        })
    }

    /// Runs `f` on the backend's pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        self.pool
            .run(move || f(&db))
            .await
            .unwrap_or_else(|| Err(StoreError::Backend("a store call failed".into())))
    }

    /// As `read`, and returns once what `f` wrote is on disk.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let out = self.read(f).await?;
        self.db.commit.durable().await?;
        Ok(out)
    }
}

impl Db {
    fn get<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        tree.get(key)?.map(|v| decode(&v)).transpose()
    }

    /// A flush outside the group commit (open, restore, stop), with the store record
    /// written at once.
    fn flush(&self) -> Result<(), StoreError> {
        self.aggregates.persist()?;
        self.durability.flush_and_record()
    }

    /// The stripe lock of an idempotency key.
    fn key_lock(&self, key: uuid::Uuid) -> parking_lot::MutexGuard<'_, ()> {
        self.key_locks[(key.as_u128() % KEY_STRIPES as u128) as usize].lock()
    }
}

impl SledStore {
    /// Whether `dir` holds a sled store (its database or its record); nothing is created.
    pub fn exists(dir: &Path) -> bool {
        dir.join("db").exists() || dir.join(record::RECORD_FILE).exists()
    }

    /// Counts every response and task again into the persisted report counts.
    pub async fn rebuild_report(&self) -> Result<u64, StoreError> {
        self.write(|db| db.rebuild_aggregates()).await
    }

    /// What `chorus check-store` reports about a store that passed its check.
    pub fn summary(&self, dir: &Path) -> StoreSummary {
        StoreSummary {
            location: format!("in {}", dir.display()),
            position: format!("commit {}", self.db.durability.commit()),
            checked_against: format!("its record {}", dir.join(record::RECORD_FILE).display()),
            responses: self.db.responses.len() as u64,
            users: self.db.users.len() as u64,
        }
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.db.commit.stop();
        if let Err(e) = self.db.durability.close() {
            tracing::error!(error = %e, "final flush failed");
        }
    }
}
