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
    /// Responses submitted from this instant on were tagged by current rules already.
    pub until_ms: u64,
    /// The last response re-tagged: a resumed run continues after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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
