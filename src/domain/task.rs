//! A follow-up task: a `task` action with its own lifecycle (open → claimed → done, or
//! dismissed with a reason) and the history of its status changes.

use super::origin::Origin;
use super::response::Priority;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Claimed,
    Done,
    Dismissed,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [
        TaskStatus::Open,
        TaskStatus::Claimed,
        TaskStatus::Done,
        TaskStatus::Dismissed,
    ];
    pub const ACTIVE: [TaskStatus; 2] = [TaskStatus::Open, TaskStatus::Claimed];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Claimed => "claimed",
            TaskStatus::Done => "done",
            TaskStatus::Dismissed => "dismissed",
        }
    }
    pub fn is_active(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::Claimed)
    }
}

impl std::str::FromStr for TaskStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "open" => Ok(TaskStatus::Open),
            "claimed" => Ok(TaskStatus::Claimed),
            "done" => Ok(TaskStatus::Done),
            "dismissed" => Ok(TaskStatus::Dismissed),
            other => Err(format!(
                "unknown status \"{other}\" (open, claimed, done or dismissed)"
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct StatusChange {
    pub status: TaskStatus,
    /// User name, or the plugin/rule that created the task.
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What came of a task marked done: one of its queue's `outcomes` (site.toml `[[queues]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub site: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub source: String,
    pub queue: String,
    pub title: String,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub created_at: String,
    /// Milliseconds since the epoch; None when the rule set no `due_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at_ms: Option<i64>,
    pub status: TaskStatus,
    pub history: Vec<StatusChange>,
}

impl Task {
    pub fn is_overdue(&self, now_ms: i64) -> bool {
        self.status.is_active() && self.due_at_ms.is_some_and(|due| due < now_ms)
    }

    /// The change that moves this task to `to`: open → claimed → done, or dismissed (with a
    /// reason) from open or claimed. Anything else is refused with a message saying why.
    pub fn change_to(
        &self,
        to: TaskStatus,
        by: &str,
        reason: Option<String>,
        at: String,
    ) -> Result<StatusChange, String> {
        use TaskStatus::*;
        let allowed = matches!(
            (self.status, to),
            (Open, Claimed) | (Claimed, Done) | (Open | Claimed, Dismissed)
        );
        if !allowed {
            let hint = match self.status {
                Open => "an open task can be claimed or dismissed",
                Claimed => "a claimed task can be marked done or dismissed",
                Done | Dismissed => "the task is closed",
            };
            return Err(format!(
                "cannot go from {} to {}: {hint}",
                self.status.as_str(),
                to.as_str()
            ));
        }
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if to == Dismissed && reason.is_none() {
            return Err("dismissing a task needs a reason".into());
        }
        Ok(StatusChange {
            status: to,
            by: by.to_string(),
            at,
            reason,
            outcome: None,
        })
    }

    /// The outcome recorded when the task was marked done.
    pub fn outcome(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|h| h.status == TaskStatus::Done)
            .and_then(|h| h.outcome.as_deref())
    }

    /// When the task was closed (marked done or dismissed), in milliseconds since the epoch.
    pub fn closed_at_ms(&self) -> Option<i64> {
        if self.status.is_active() {
            return None;
        }
        let change = self
            .history
            .iter()
            .rev()
            .find(|h| h.status == self.status)?;
        super::time::ms_of_rfc3339(&change.at)
    }

    /// Applies a change `change_to` allowed.
    pub fn apply(&mut self, change: StatusChange) {
        self.status = change.status;
        self.history.push(change);
    }
}
