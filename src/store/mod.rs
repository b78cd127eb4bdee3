//! The store contract: one async trait per entity, typed queries, state transitions with an
//! expected current state, and `recover` at open. Services see these traits, never a backend.
//!
//! Every write returns only once it is durable (sled: the backend's group commit; a SQL
//! backend: after COMMIT). Nothing here names a backend type. `open` is the one place that
//! picks the backend.

mod backup;
pub mod durable_file;
mod error;
pub mod postgres;
mod query;
pub mod sled;

pub use backup::{
    for_each_record, read_backup, verify_backup, write_records, BackupRecord, BackupWriter,
    RecordSink,
};
pub use error::{Damage, StoreError};
pub use query::*;

use crate::domain::{
    AttemptRecord, AuditEntry, CatchUpProgress, Delivery, FollowUp, FollowUpRecords, Invitation,
    Kiosk, Lease, LoginFailures, NewAuditEntry, PasswordLink, RetagProgress, ReviewState,
    RuleErrorEntry, RuleVersion, Session, StatusChange, StoredResponse, Task, TaskStatus, User,
};
use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

#[async_trait]
pub trait ResponseStore: Send + Sync {
    /// Stores a response with the tasks and deliveries of its follow-ups, its rule-error entry
    /// and its report counts; with an invitation, uses it up; with an idempotency key, binds
    /// the key to it. All or nothing as any reader sees it. Only `Inserted::New` wrote
    /// anything; a repeat of a stored request gets the first response back, even when two
    /// copies race.
    async fn insert_response(&self, new: NewResponse) -> Result<Inserted, StoreError>;
    async fn response(&self, site: &str, id: Uuid) -> Result<Option<StoredResponse>, StoreError>;
    async fn list_responses(
        &self,
        query: &ResponseQuery,
    ) -> Result<Page<StoredResponse>, StoreError>;
    async fn count_responses(&self, site: &str) -> Result<u64, StoreError>;
    /// Replaces a stored response's tags and rule errors (re-tagging); its rule-error entry and
    /// report counts follow. False when it does not exist or nothing changed.
    async fn update_tags(&self, update: &TagUpdate) -> Result<bool, StoreError>;
    /// Adds follow-ups to a stored response (a catch-up): of `candidates`, those whose actions
    /// the response lacks (`domain::missing_actions` against its follow-ups as stored at that
    /// moment) are appended to its follow-ups and their tasks and deliveries stored, as one
    /// step against every other writer of that response on every node, so two calls racing
    /// with the same candidates add each action once. Returns the follow-ups added (none when
    /// the response has them all, or does not exist).
    async fn add_follow_ups(
        &self,
        site: &str,
        survey: &str,
        id: Uuid,
        candidates: &[FollowUp],
    ) -> Result<Vec<FollowUp>, StoreError>;
}

#[async_trait]
pub trait TaskStore: Send + Sync {
    async fn task(&self, site: &str, id: Uuid) -> Result<Option<Task>, StoreError>;
    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>, StoreError>;
    /// The queues a site's tasks are in, sorted.
    async fn task_queues(&self, site: &str) -> Result<Vec<String>, StoreError>;
    /// Applies `change` if the task's status is still `expected`: the task as now stored,
    /// `NotFound`, or `TaskStateChanged(current)`.
    async fn transition_task(
        &self,
        site: &str,
        id: Uuid,
        expected: TaskStatus,
        change: &StatusChange,
    ) -> Result<Task, StoreError>;
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    async fn delivery(&self, site: &str, id: Uuid) -> Result<Option<Delivery>, StoreError>;
    async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<Page<Delivery>, StoreError>;
    /// Leases up to `limit` pending deliveries that are due, or whose lease has expired, to
    /// the claiming node; soonest first. A delivery is leased to one node at a time.
    async fn claim_deliveries(&self, claim: &Claim) -> Result<Vec<Delivery>, StoreError>;
    /// Records an attempt of a delivery `node` holds (and releases it): `LeaseLost` when the
    /// lease expired and another node took it, `NotFound` when there is no such delivery.
    async fn record_attempt(
        &self,
        site: &str,
        id: Uuid,
        node: &str,
        attempt: &AttemptRecord,
    ) -> Result<Delivery, StoreError>;
    /// Schedules a pending or failed delivery for an attempt now, restarting its retry span:
    /// `AlreadyDelivered`, or `NotFound`.
    async fn reschedule_delivery(
        &self,
        site: &str,
        id: Uuid,
        now_ms: i64,
    ) -> Result<Delivery, StoreError>;
}

#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Stores new invitations (token hash → record), all or nothing.
    async fn put_invitations(&self, invitations: &[(String, Invitation)])
        -> Result<(), StoreError>;
    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates or replaces a user (by name); its old token stops working.
    async fn put_user(&self, user: &User) -> Result<(), StoreError>;
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    async fn user_by_token(&self, token_sha256: &str) -> Result<Option<User>, StoreError>;
    async fn user_count(&self) -> Result<u64, StoreError>;
    /// Creates a user unless one of that name exists (false then, nothing written); two
    /// nodes creating the same name at once create it once.
    async fn create_user(&self, user: &User) -> Result<bool, StoreError>;
    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Stores a new password link under the SHA-256 of its secret.
    async fn put_password_link(&self, sha256: &str, link: &PasswordLink) -> Result<(), StoreError>;
    async fn password_link(&self, sha256: &str) -> Result<Option<PasswordLink>, StoreError>;
    /// Uses the link if it is unused and not expired at `now_ms`: the link as it was, `None`
    /// when it is unknown, used or expired. Of two nodes using one link at once, one gets it.
    async fn use_password_link(
        &self,
        sha256: &str,
        now_ms: i64,
    ) -> Result<Option<PasswordLink>, StoreError>;

    /// The failed sign-ins counted under `account` (`domain::user::account_key` of a name).
    async fn login_failures(&self, account: &str) -> Result<Option<LoginFailures>, StoreError>;
    /// Counts one more failed sign-in under `account` at `at_ms`, atomically (concurrent
    /// failures on any node all count); a count whose last failure is before
    /// `forget_before_ms` starts again from one. Returns the new count.
    async fn record_login_failure(
        &self,
        account: &str,
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<LoginFailures, StoreError>;
    /// Forgets `account`'s failures (it signed in), and every other account's whose last
    /// failure is before `forget_before_ms`, so names tried once do not pile up.
    async fn clear_login_failures(
        &self,
        account: &str,
        forget_before_ms: i64,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError>;
    async fn session(&self, id_sha256: &str) -> Result<Option<Session>, StoreError>;
    /// Moves a session's last-seen time forward (never back).
    async fn touch_session(&self, id_sha256: &str, last_seen_ms: i64) -> Result<(), StoreError>;
    async fn delete_session(&self, id_sha256: &str) -> Result<(), StoreError>;
    /// Deletes the sessions last seen before `before_ms`; returns how many.
    async fn delete_idle_sessions(&self, before_ms: i64) -> Result<u64, StoreError>;
    async fn session_count(&self) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait RuleErrorStore: Send + Sync {
    /// Rule-error entries of a site, newest first, starting before `before`.
    async fn list_rule_errors(
        &self,
        site: &str,
        before: Option<Uuid>,
        limit: usize,
    ) -> Result<Page<RuleErrorEntry>, StoreError>;
}

/// Versions of a site's rule files applied from the admin app (`domain::RuleVersion`): per
/// (site, file), numbered from 1 in the order stored, each kept unchanged for good.
#[async_trait]
pub trait RuleVersionStore: Send + Sync {
    /// Stores `version` as the next number of its (site, file), whatever `number` it carries,
    /// and returns it as stored. Two writers at once get two numbers.
    async fn add_rule_version(&self, version: &RuleVersion) -> Result<RuleVersion, StoreError>;
    /// Every version of one file, newest first.
    async fn rule_versions(&self, site: &str, file: &str) -> Result<Vec<RuleVersion>, StoreError>;
    /// The newest version of every file of a site that has one (deletions included), in file
    /// name order: what a site whose rules live in the store runs.
    async fn current_rule_versions(&self, site: &str) -> Result<Vec<RuleVersion>, StoreError>;
    async fn rule_version(
        &self,
        site: &str,
        file: &str,
        number: u64,
    ) -> Result<Option<RuleVersion>, StoreError>;
}

/// Waiting-room kiosks (`domain::Kiosk`). Kiosks are few and change rarely; every method may
/// take a lock or a transaction over all of them. A backend keeps, besides the records, a
/// lookup from each stored secret hash to its kiosk: `enrolment_sha256` (while set) and
/// `cookie_sha256` (while set). A hash that is no longer set on its kiosk must find nothing,
/// even when a crash came between the two writes (check the record found against the hash).
/// Every write is durable when it returns, like every write of the store.
#[async_trait]
pub trait KioskStore: Send + Sync {
    /// Stores a new kiosk, or replaces the one with its `(site, id)`: the lookups follow the
    /// record (hashes the old record held and the new one does not find nothing afterwards).
    async fn put_kiosk(&self, kiosk: &Kiosk) -> Result<(), StoreError>;
    async fn kiosk(&self, site: &str, id: Uuid) -> Result<Option<Kiosk>, StoreError>;
    /// Every kiosk of a site, revoked ones included, in `id` order (oldest first).
    async fn list_kiosks(&self, site: &str) -> Result<Vec<Kiosk>, StoreError>;
    /// The kiosk whose `cookie_sha256` is this hash (revoked kiosks have none, so they are
    /// never found here).
    async fn kiosk_by_cookie(&self, cookie_sha256: &str) -> Result<Option<Kiosk>, StoreError>;
    /// Uses an enrolment token up: on the kiosk whose `enrolment_sha256` is this hash and
    /// that is not revoked, clears `enrolment_sha256`, sets `cookie_sha256` (replacing any
    /// earlier cookie, which stops working) and `enrolled_at`, and returns the kiosk as now
    /// stored. `None` (nothing written) for an unknown, used or revoked enrolment. Of two
    /// calls racing with the same hash, exactly one gets the kiosk.
    async fn enrol_kiosk(
        &self,
        enrolment_sha256: &str,
        cookie_sha256: &str,
        enrolled_at: &str,
    ) -> Result<Option<Kiosk>, StoreError>;
    /// Revokes a kiosk: sets `revoked_at` (kept if it was already revoked) and clears both
    /// hashes, so that neither its enrolment link nor its cookie finds it again. Returns the
    /// kiosk as now stored; `None` when the site has no such kiosk.
    async fn revoke_kiosk(
        &self,
        site: &str,
        id: Uuid,
        revoked_at: &str,
    ) -> Result<Option<Kiosk>, StoreError>;
}

/// Re-tagging and review: per-site jobs that one node at a time runs under a lease.
#[async_trait]
pub trait JobStore: Send + Sync {
    async fn retag_progress(&self, site: &str) -> Result<Option<RetagProgress>, StoreError>;
    /// Takes the site's re-tag job for `lease.node`: stores `fresh` when no run is going, or
    /// takes over a run whose lease expired and returns it (to resume). `LeaseHeld` while
    /// another lease is live.
    async fn start_retag(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
        fresh: &RetagProgress,
    ) -> Result<RetagProgress, StoreError>;
    /// Saves progress of the run `lease.node` holds and extends its lease; a progress that is
    /// no longer running ends the lease. `LeaseLost` when another node took the run over.
    async fn save_retag(
        &self,
        site: &str,
        lease: &Lease,
        progress: &RetagProgress,
    ) -> Result<(), StoreError>;
    /// Sites whose re-tag is marked running with a lease that expired at `now_ms`.
    async fn interrupted_retags(&self, now_ms: i64) -> Result<Vec<String>, StoreError>;

    /// The site's catch-up of follow-ups, with the same lease rules as its re-tag (the two
    /// are separate jobs).
    async fn catch_up_progress(&self, site: &str) -> Result<Option<CatchUpProgress>, StoreError>;
    async fn start_catch_up(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
        fresh: &CatchUpProgress,
    ) -> Result<CatchUpProgress, StoreError>;
    async fn save_catch_up(
        &self,
        site: &str,
        lease: &Lease,
        progress: &CatchUpProgress,
    ) -> Result<(), StoreError>;
    async fn interrupted_catch_ups(&self, now_ms: i64) -> Result<Vec<String>, StoreError>;

    async fn review_state(&self, site: &str) -> Result<Option<ReviewState>, StoreError>;
    /// Takes the site's review for `lease.node`; false while another node's lease is live.
    async fn claim_review(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Stores what a review run saw and did (its state, its rule errors, the tasks and
    /// deliveries of its actions) and ends `node`'s lease. `LeaseLost` when it was taken over.
    async fn finish_review(
        &self,
        site: &str,
        node: &str,
        state: &ReviewState,
        errors: Option<&RuleErrorEntry>,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError>;
    /// Ends `node`'s review lease without a run.
    async fn release_review(&self, site: &str, node: &str) -> Result<(), StoreError>;
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Respondents and tagged respondents of a site, grouped by survey, survey version, group
    /// and channel (a response's `channel`, `None` for those stored before channels; and by
    /// day when asked); with `query.channel`, only responses of that channel. Exact for any
    /// `since`/`until`.
    async fn report_counts(&self, query: &CountQuery) -> Result<Vec<CountRow>, StoreError>;
    /// What became of the follow-up tasks the query covers, per queue. The contract every
    /// backend implements (the sled one in `store/sled/task_counts.rs`):
    ///
    /// - **Which tasks**: those of `query.site` whose opening time, the millisecond of the
    ///   task id (a UUIDv7: `domain::time::ms_of_id`), is in `[since_ms, until_ms)`; a bound
    ///   that is `None` is open. With `survey: Some(s)`, only tasks whose origin is
    ///   `Origin::Response { survey: s, .. }`; tasks a review opened (`Origin::Review`) count
    ///   only when `survey` is `None`.
    /// - **What is counted**: each task in its current state, exactly as
    ///   `TaskTally::count(&task)` adds it: `opened` every task, `done` / `dismissed` by
    ///   status, `on_time` done tasks with a `due_at_ms` and `closed_at_ms() <= due_at_ms`,
    ///   `outcomes` done tasks by `Task::outcome()` (done without one: not there), and
    ///   `tenths_to_done` done tasks by whole tenths of an hour (6 minutes, rounded down, never
    ///   below 0) from `created_at` to `closed_at_ms()`. `counts` is the sum over the tasks
    ///   (`TaskTally::add`).
    /// - **What comes back**: one `QueueCounts` per queue with at least one such task, sorted
    ///   by queue id; none for a queue without (the report adds the site's empty queues).
    /// - Every task write and transition acknowledged before the call is in the answer (no
    ///   stale cache), and the answer is exact for any window, not rounded to days.
    /// - Cost: answered from counts kept with every task write and transition, or from one
    ///   aggregate query, never by loading every task of the site into the process.
    async fn follow_up_counts(
        &self,
        query: &FollowUpCountQuery,
    ) -> Result<Vec<QueueCounts>, StoreError>;
}

/// What the nodes sharing a store tell each other: a site was reloaded from disk (each node
/// then reloads it from its own `sites/`).
#[async_trait]
pub trait SignalStore: Send + Sync {
    /// Records that `site` was reloaded; returns its new reload generation.
    async fn mark_site_reloaded(&self, site: &str) -> Result<u64, StoreError>;
    /// The reload generation of every site ever marked.
    async fn site_reload_marks(&self) -> Result<Vec<(String, u64)>, StoreError>;
}

/// The audit trail (docs/audit.md): entries are appended, never changed or removed; no
/// method of any store changes or deletes one (a restore writes a backup's entries as they are).
///
/// What every backend guarantees, and services rely on:
///
/// - **One chain, even with several nodes on one database.** `append_audit` gives the entry
///   the next sequence number (the head's `seq + 1`; 1 on an empty trail) and the head's
///   `hash` as `prev_hash` (`GENESIS_HASH` on an empty trail), then computes its hash with
///   `NewAuditEntry::chain`, all as one atomic step against every other append of every
///   process on the same database: two appends never get the same `seq` or the same
///   `prev_hash`, and there is never a gap. The sled backend (one process per data directory)
///   holds a lock around reading its last key and writing the next. A SQL backend does it in
///   one transaction that locks the head (e.g. `SELECT seq, hash … ORDER BY seq DESC LIMIT 1
///   FOR UPDATE` on a one-row head table, or `LOCK TABLE … IN EXCLUSIVE MODE`), with `seq` as
///   the primary key so that a lost race fails rather than forks; it retries such a failure.
/// - **Durable on return**, like every write; the entry is stored exactly as returned (the
///   fields are never re-encoded differently: the hash covers `AuditEntry::canonical`).
/// - **`list_audit`** returns matching entries newest first (seq descending), or oldest first,
///   starting after `cursor`, at most `limit`, with `next` set when more may match; `site:
///   Some(s)` matches only entries whose `site` is `s`. An entry acknowledged before the call
///   is in the answer.
/// - **`audit_head`** is the entry with the highest `seq` (`None` on an empty trail).
/// - **Backups**: `export_records` writes every entry (`BackupRecord::Audit`, seq ascending,
///   after every other record); `import_records` stores them unchanged, hashes included, so a
///   restored trail verifies exactly as the original did, and a tampered one fails.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError>;
    async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError>;
    async fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError>;
}

/// The whole store.
#[async_trait]
pub trait Store:
    ResponseStore
    + TaskStore
    + DeliveryStore
    + InvitationStore
    + UserStore
    + SessionStore
    + RuleErrorStore
    + JobStore
    + ReportStore
    + KioskStore
    + RuleVersionStore
    + SignalStore
    + AuditStore
{
    /// Brings the store to a consistent state after it was opened: after an unclean stop,
    /// writes the derived records a crash cut off and releases the leases of the dead run.
    /// `open` calls it; calling it again is harmless.
    async fn recover(&self) -> Result<Recovery, StoreError>;
    /// A cheap read that proves the store answers.
    async fn health(&self) -> Result<(), StoreError>;
    /// Marks a clean stop after the last write.
    async fn close(&self) -> Result<(), StoreError>;
    async fn is_empty(&self) -> Result<bool, StoreError>;
    /// Whether any response, task or kiosk is stored: what only an installation that has run
    /// with users makes (rule versions may be pushed before the first start).
    async fn holds_site_records(&self) -> Result<bool, StoreError>;
    /// Every record, in the order of the backup format.
    async fn export_records(&self, sink: &mut (dyn RecordSink + Send)) -> Result<u64, StoreError>;
    /// Writes records of a backup into this store (which `is_empty` and has no audit entry
    /// before the first batch: a restore never writes over an entry).
    async fn import_records(&self, records: &[BackupRecord]) -> Result<(), StoreError>;
}

/// Which store to open.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub backend: Backend,
    /// Threads for the backend's blocking calls (sled) or its runtime (PostgreSQL).
    pub threads: usize,
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sled {
        dir: PathBuf,
        /// sled's page cache; its 1 GB default is far more than a clinic needs.
        cache_capacity_bytes: u64,
    },
    /// A PostgreSQL database several nodes may share (`postgres://user@host/db`).
    Postgres {
        url: String,
        /// Connections this node opens at most.
        pool_size: usize,
    },
}

/// Opens the configured backend and recovers it. A store that is missing, unreadable or behind
/// what it had recorded is refused (`StoreError::Damaged`) before anything is written to it.
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = match &config.backend {
        Backend::Sled {
            dir,
            cache_capacity_bytes,
        } => Arc::new(sled::SledStore::open(
            dir,
            *cache_capacity_bytes,
            config.threads,
        )?),
        Backend::Postgres { url, pool_size } => {
            Arc::new(postgres::PgStore::open(url, *pool_size, config.threads).await?)
        }
    };
    recover(store.as_ref()).await?;
    Ok(store)
}

async fn recover(store: &dyn Store) -> Result<(), StoreError> {
    let recovery = store.recover().await?;
    if recovery.unclean {
        tracing::warn!(
            repaired = recovery.repaired,
            released = recovery.released,
            "the last run did not stop cleanly; derived records checked"
        );
    }
    Ok(())
}

/// What `chorus check-store` reports about a store that passed its check.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSummary {
    /// Where the store is, as the end of "The store …" ("in ./data").
    pub location: String,
    /// How far the store has got, in the backend's terms ("commit 41").
    pub position: String,
    /// What the store was checked against ("its record DATA/store-record.json").
    pub checked_against: String,
    pub responses: u64,
    pub users: u64,
}

/// Opens the configured store as `open` does (a damaged one is refused the same way), says
/// what it holds and closes it; `None`, and nothing created, when there is no store at all.
pub async fn check(config: &StoreConfig) -> Result<Option<StoreSummary>, StoreError> {
    match &config.backend {
        Backend::Sled { .. } => {
            let Some((store, dir)) = open_existing_sled(config).await? else {
                return Ok(None);
            };
            let summary = store.summary(&dir);
            store.close().await?;
            Ok(Some(summary))
        }
        Backend::Postgres { url, .. } => postgres::check(url).await,
    }
}

/// Counts the report's stored counts again from every response and task (`chorus
/// rebuild-report`, server stopped), for a store whose counts are in doubt; returns how many
/// responses were read, `None` when there is no store. The PostgreSQL backend keeps its counts
/// in the transaction of every write, so it has none to rebuild.
pub async fn rebuild_report(config: &StoreConfig) -> Result<Option<u64>, StoreError> {
    if let Backend::Postgres { .. } = &config.backend {
        return Err(StoreError::Backend(
            "the PostgreSQL backend keeps the report counts in the transaction of every write: \
             there is nothing to rebuild"
                .into(),
        ));
    }
    let Some((store, _)) = open_existing_sled(config).await? else {
        return Ok(None);
    };
    let responses = store.rebuild_report().await?;
    store.close().await?;
    Ok(Some(responses))
}

/// The sled store of an offline command, opened and recovered; `None`, and nothing created,
/// when the directory holds none (or the store is not sled).
async fn open_existing_sled(
    config: &StoreConfig,
) -> Result<Option<(sled::SledStore, PathBuf)>, StoreError> {
    let Backend::Sled {
        dir,
        cache_capacity_bytes,
    } = &config.backend
    else {
        return Ok(None);
    };
    if !sled::SledStore::exists(dir) {
        return Ok(None);
    }
    let store = sled::SledStore::open(dir, *cache_capacity_bytes, config.threads)?;
    recover(&store).await?;
    Ok(Some((store, dir.clone())))
}
