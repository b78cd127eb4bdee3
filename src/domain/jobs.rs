//! Background work whose state several nodes must share: re-tagging a site and reviewing its
//! report.

use super::response::RuleError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetagStatus {
    Running,
    Done,
    Failed,
}

/// Progress of re-tagging a site's stored responses, persisted so a restart resumes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
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
    /// Responses submitted from this instant on were tagged by current rules already (or, with
    /// a chosen range, are after its end).
    pub until_ms: u64,
    /// The start of the chosen range (inclusive, milliseconds); `None`: from the first response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
    /// Who started the run: a user's name, or `system` for a resumed run; absent on runs
    /// stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// The last response re-tagged: a resumed run continues after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A job that one node at a time runs under a lease, with its progress in the store.
pub trait JobProgress: std::fmt::Debug {
    fn is_running(&self) -> bool;
}

impl JobProgress for RetagProgress {
    fn is_running(&self) -> bool {
        self.status == RetagStatus::Running
    }
}

/// Actions of one kind to one place (a task queue or a webhook target), as catch-up counts them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PlaceCount {
    /// `task` or `webhook`.
    pub kind: String,
    /// The queue of a task, the target of a webhook.
    pub place: String,
    pub count: u64,
}

/// Progress of a catch-up of follow-ups: the site's current `follow_up` hooks run over the
/// stored responses of a range, and the tasks and webhooks they ask for that a response lacks
/// are created (docs/retag.md). Persisted like a re-tag, so every node sees it and a restart
/// resumes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct CatchUpProgress {
    /// `running`, `done` or `failed`.
    pub status: RetagStatus,
    pub started_at: String,
    /// A user's name, or `system` for a resumed run.
    pub started_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The range (milliseconds, `since_ms` inclusive, `until_ms` exclusive); the end is never
    /// later than the start of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
    pub until_ms: u64,
    /// Stored responses in the range when the run started.
    pub total: u64,
    /// Responses looked at so far.
    pub done: u64,
    /// Responses that got at least one follow-up.
    pub responses_changed: u64,
    pub tasks_created: u64,
    pub webhooks_created: u64,
    /// What was created, per kind and place.
    #[serde(default)]
    pub created: Vec<PlaceCount>,
    /// Responses where a hook failed (they got the actions of the hooks that did not).
    pub with_errors: u64,
    /// The last response looked at: a resumed run continues after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl JobProgress for CatchUpProgress {
    fn is_running(&self) -> bool {
        self.status == RetagStatus::Running
    }
}

/// Adds `n` to the count of `(kind, place)`, keeping the list sorted.
pub fn add_place_count(counts: &mut Vec<PlaceCount>, kind: &str, place: &str, n: u64) {
    match counts.binary_search_by(|c| (c.kind.as_str(), c.place.as_str()).cmp(&(kind, place))) {
        Ok(i) => counts[i].count += n,
        Err(i) => counts.insert(
            i,
            PlaceCount {
                kind: kind.to_string(),
                place: place.to_string(),
                count: n,
            },
        ),
    }
}

/// What one review run of a site did (the latest is shown on the rules page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReviewRun {
    pub site: String,
    /// The run's id: also the key of its rule-error entry.
    pub id: Uuid,
    pub at: String,
    /// Titles of the tasks this run opened.
    pub opened: Vec<String>,
    /// Titles of tasks it asked for that were not opened again: one is still open or claimed.
    pub already_open: Vec<String>,
    /// Names of the webhooks it sent to the outbox.
    pub webhooks: Vec<String>,
    pub errors: Vec<RuleError>,
}

/// What the review of a site last saw: an unchanged report under unchanged rules is not
/// reviewed again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ReviewState {
    /// SHA-256 of the report the hooks last saw.
    pub report_digest: String,
    /// SHA-256 of the site's files (site.toml, surveys, rules, enabled plugins) at that run.
    pub rules_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<ReviewRun>,
}
