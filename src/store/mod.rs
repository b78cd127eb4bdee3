//! Persistence behind a trait: the HTTP layer and commands see `Store`, never sled.
//!
//! Every method blocks; async callers run them on the blocking pool. Durability is a separate
//! step (`durable`) so that many writers can share one flush.

mod group_commit;
mod keys;
pub mod sled;
mod sled_backup;
mod sled_durable;
mod sled_followups;
mod sled_invitations;
mod sled_merge;
mod sled_record;
mod sled_sync;

use crate::followups::{Delivery, DeliveryStatus, FollowUpRecords, Task};
use crate::invitations::{Invitation, InvitationProblem};
use crate::response::{RuleError, StoredResponse};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

pub use self::sled::{SledStore, StoreOptions};
pub use self::sled_backup::verify_backup;
pub use self::sled_durable::StoreSummary;
pub use self::sled_record::{Damage, StoreRecord};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {0} is in use by another Chorus process (a running server?); stop it first or use the HTTP API")]
    Locked(String),
    #[error("storage failure: {0}")]
    Backend(String),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    #[error("could not make the write durable: {0}")]
    Durability(String),
    #[error("{0}")]
    Conflict(String),
    /// The store is missing, unreadable or behind its record: refused before any write.
    #[error("{0}")]
    Damaged(Box<Damage>),
    #[error("backup file is not valid: {0}")]
    BadBackup(String),
    /// An invitation link that may not admit a response (nothing was written).
    #[error(transparent)]
    Invitation(#[from] InvitationProblem),
}

pub type DurableFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// Result of storing a response that carries a submission id.
#[derive(Debug, Clone)]
pub enum Inserted {
    New,
    /// The submission id was seen before: the first response, unchanged.
    Duplicate(Box<StoredResponse>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Staff,
    Admin,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "staff" => Ok(Role::Staff),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role \"{other}\" (admin, staff or viewer)")),
        }
    }
}

/// `"*"` as the site means every site.
pub const ALL_SITES: &str = "*";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub name: String,
    pub site: String,
    pub role: Role,
    /// Hex SHA-256 of the API token; the token itself is never stored.
    pub token_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    pub created_at: String,
}

impl User {
    pub fn can_access(&self, site: &str) -> bool {
        self.site == ALL_SITES || self.site == site
    }
}

/// Filters for listing a site's responses in time order.
#[derive(Debug, Clone, Default)]
pub struct ResponseQuery {
    pub site: String,
    pub survey: Option<String>,
    pub group: Option<String>,
    pub tag: Option<String>,
    /// Inclusive lower bound (milliseconds since the epoch).
    pub since_ms: Option<u64>,
    /// Exclusive upper bound (milliseconds since the epoch).
    pub until_ms: Option<u64>,
    /// Start after this response id (the previous page's cursor).
    pub after: Option<Uuid>,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct ResponsePage {
    pub responses: Vec<StoredResponse>,
    /// Set when more responses match: pass it as `after` for the next page.
    pub next: Option<Uuid>,
}

/// The rule errors of one response, as the rule-error index keeps them (newest first).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleErrorEntry {
    pub response_id: Uuid,
    pub survey: String,
    pub group: String,
    pub submitted_at: String,
    pub errors: Vec<RuleError>,
}

impl RuleErrorEntry {
    pub fn of(response: &StoredResponse) -> RuleErrorEntry {
        RuleErrorEntry {
            response_id: response.id,
            survey: response.survey.clone(),
            group: response.group.clone(),
            submitted_at: response.submitted_at.clone(),
            errors: response.rule_errors.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetagStatus {
    Running,
    Done,
    Failed,
}

/// Progress of re-tagging a site's stored responses, persisted so a restart resumes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RetagProgress {
    pub status: RetagStatus,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Responses stored before the start, the ones this run re-tags.
    pub total: u64,
    pub done: u64,
    /// Responses whose tags changed.
    pub changed: u64,
    /// Responses where a tag hook failed.
    pub with_errors: u64,
    /// Responses submitted from this instant on were tagged by current rules already.
    pub until_ms: u64,
    /// The last response re-tagged: a resumed run continues after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A change to one stored response; returns whether it changed anything.
pub type ResponseChange<'a> = &'a dyn Fn(&mut StoredResponse) -> bool;

pub type ResponseIter<'a> = Box<dyn Iterator<Item = Result<StoredResponse, StoreError>> + 'a>;

pub trait Store: Send + Sync + 'static {
    /// Stores a response with the tasks and webhook deliveries its follow-ups create, all or
    /// nothing. With a `submission_id`, the first response stored under it wins and a repeat
    /// gets that first response back (and creates nothing), even when two copies race.
    fn insert_response(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
    ) -> Result<Inserted, StoreError>;
    /// As `insert_response`, and consumes the invitation with this token hash in the same
    /// transaction: the response is stored only if the invitation exists for its survey, is
    /// unused and unexpired at `now_ms` (else `StoreError::Invitation`, nothing written). A
    /// repeat of an already stored submission id gets the first response back, as above.
    fn insert_invited_response(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Inserted, StoreError>;
    /// Stores new invitations (token hash → record), all or nothing.
    fn put_invitations(&self, invitations: &[(String, Invitation)]) -> Result<(), StoreError>;
    fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError>;
    /// Writes the rule-error index entry and task and outbox records of a stored response that
    /// are missing (after a crash); existing ones are left alone. Returns how many were written.
    fn repair_side_records(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
    ) -> Result<usize, StoreError>;
    /// Marks the start of a server run; returns the previous run's start (ms since the epoch)
    /// when that run did not end cleanly, i.e. when its writes may need `repair_side_records`.
    fn begin_run(&self, now_ms: u64) -> Result<Option<u64>, StoreError>;
    /// Marks the current run as ended cleanly (after the final flush).
    fn end_run(&self) -> Result<(), StoreError>;
    /// Replaces a stored response (same id), e.g. after re-tagging.
    fn update_response(&self, response: &StoredResponse) -> Result<(), StoreError>;
    fn get_response(&self, site: &str, id: Uuid) -> Result<Option<StoredResponse>, StoreError>;
    fn list_responses(&self, query: &ResponseQuery) -> Result<ResponsePage, StoreError>;
    /// Every response of a site, oldest first.
    fn scan_responses<'a>(&'a self, site: &str) -> Result<ResponseIter<'a>, StoreError>;

    /// A site's tasks, oldest first.
    fn list_tasks(&self, site: &str) -> Result<Vec<Task>, StoreError>;
    /// The site's tasks that `keep` accepts, oldest first; the others are never held in memory
    /// together (a busy site may have many closed tasks).
    fn find_tasks(&self, site: &str, keep: &dyn Fn(&Task) -> bool)
        -> Result<Vec<Task>, StoreError>;
    fn get_task(&self, site: &str, id: Uuid) -> Result<Option<Task>, StoreError>;
    /// Read-modify-write of one task; `change` may refuse with a message (→ `Conflict`).
    /// `Ok(None)` when there is no such task.
    fn update_task(
        &self,
        site: &str,
        id: Uuid,
        change: &mut dyn FnMut(&mut Task) -> Result<(), String>,
    ) -> Result<Option<Task>, StoreError>;

    /// Pending deliveries whose next attempt is due at `now_ms`, soonest first.
    fn due_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
    /// Records an attempt (or a manual retry); `previous_next_attempt_ms` locates its old slot
    /// in the pending index.
    fn update_delivery(
        &self,
        previous_next_attempt_ms: i64,
        delivery: &Delivery,
    ) -> Result<(), StoreError>;
    fn get_delivery(&self, site: &str, id: Uuid) -> Result<Option<Delivery>, StoreError>;
    /// A site's deliveries, oldest first, optionally only those with one status.
    fn list_deliveries(
        &self,
        site: &str,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Changes one stored response in place, atomically with the rule-error index (re-tagging).
    /// Returns false when the response does not exist or `change` changed nothing.
    fn modify_response(
        &self,
        site: &str,
        survey: &str,
        id: Uuid,
        change: ResponseChange<'_>,
    ) -> Result<bool, StoreError>;
    /// How many responses a site has.
    fn count_responses(&self, site: &str) -> Result<u64, StoreError>;
    /// Responses with rule errors, newest first, starting before `before`. The index is
    /// written in the same transaction as the response, only when it has errors.
    fn list_rule_errors(
        &self,
        site: &str,
        before: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<RuleErrorEntry>, StoreError>;
    /// Stores what a run of the `review` hooks produced, all or nothing: its rule errors as a
    /// rule-error entry (keyed by the run's id, with no survey or group) and the tasks and
    /// deliveries of its actions.
    fn record_review(
        &self,
        site: &str,
        errors: Option<&RuleErrorEntry>,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError>;
    fn retag_progress(&self, site: &str) -> Result<Option<RetagProgress>, StoreError>;
    fn put_retag_progress(&self, site: &str, progress: &RetagProgress) -> Result<(), StoreError>;
    /// Sites with a re-tag still marked running (interrupted by a stop).
    fn running_retags(&self) -> Result<Vec<String>, StoreError>;

    fn put_user(&self, user: &User) -> Result<(), StoreError>;
    fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    fn user_by_token(&self, token_sha256: &str) -> Result<Option<User>, StoreError>;
    fn user_count(&self) -> Result<usize, StoreError>;

    /// Resolves once every write that returned before this call is on disk.
    fn durable(&self) -> DurableFuture;
    /// Blocking flush of everything written so far.
    fn flush(&self) -> Result<(), StoreError>;
    /// Cheap read that proves the store answers.
    fn health(&self) -> Result<(), StoreError>;

    /// A consistent copy of every record, one JSON line per record.
    fn backup(&self, out: &mut dyn std::io::Write) -> Result<u64, StoreError>;
    /// Loads a backup into this (empty) store.
    fn restore(&self, input: &mut dyn std::io::BufRead) -> Result<u64, StoreError>;
}
