//! Follow-ups that happen: tasks with a lifecycle, and webhook deliveries through a durable
//! outbox. Records are built here from a response's actions and stored with the response in
//! one transaction, so a crash never leaves an action without its task or delivery.

pub mod address_policy;
pub mod delivery;
pub mod signing;

use crate::response::{Action, Priority, StoredResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Claimed,
    Done,
    Dismissed,
}

impl TaskStatus {
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusChange {
    pub status: TaskStatus,
    /// User name, or the plugin/rule that created the task.
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A `task` action of a stored response, with its own lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Task {
    pub id: Uuid,
    pub site: String,
    pub response_id: Uuid,
    pub survey: String,
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

    /// Applies a status change: open → claimed → done, or dismissed (with a reason) from open
    /// or claimed. Anything else is refused with a message saying why.
    pub fn transition(
        &mut self,
        to: TaskStatus,
        by: &str,
        reason: Option<String>,
        at: String,
    ) -> Result<(), String> {
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
        self.status = to;
        self.history.push(StatusChange {
            status: to,
            by: by.to_string(),
            at,
            reason,
        });
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Dead-lettered: retries exhausted or a non-retryable answer.
    Failed,
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!(
                "unknown status \"{other}\" (pending, delivered or failed)"
            )),
        }
    }
}

/// One webhook action in the outbox. `id` is the stable `webhook-id` of every attempt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub site: String,
    /// The webhook's name in site.toml; URL and secret are read when sending.
    pub webhook: String,
    pub response_id: Uuid,
    pub follow_up_id: Uuid,
    /// The exact JSON body sent on every attempt.
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at_ms: i64,
    pub next_attempt_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at_ms: Option<i64>,
}

impl Delivery {
    pub fn webhook_id(&self) -> String {
        format!("msg_{}", self.id.simple())
    }
}

/// Tasks and deliveries a response's follow-ups create, written with the response.
#[derive(Debug, Clone, Default)]
pub struct FollowUpRecords {
    pub tasks: Vec<Task>,
    pub deliveries: Vec<Delivery>,
}

impl FollowUpRecords {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.deliveries.is_empty()
    }
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn ms_of_rfc3339(at: &str) -> i64 {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_else(|_| now_ms())
}

/// Builds the task and delivery records for a response's follow-ups.
pub fn records_for(response: &StoredResponse) -> FollowUpRecords {
    let mut records = FollowUpRecords::default();
    let submitted_ms = ms_of_rfc3339(&response.submitted_at);
    for f in &response.follow_ups {
        match &f.action {
            Action::Task {
                queue,
                title,
                due_hours,
                priority,
                note,
            } => records.tasks.push(Task {
                id: f.id,
                site: response.site.clone(),
                response_id: response.id,
                survey: response.survey.clone(),
                source: f.source.clone(),
                queue: queue.clone(),
                title: title.clone(),
                priority: *priority,
                note: note.clone(),
                created_at: response.submitted_at.clone(),
                due_at_ms: due_hours.map(|h| submitted_ms + h * 3_600_000),
                status: TaskStatus::Open,
                history: vec![StatusChange {
                    status: TaskStatus::Open,
                    by: f.source.clone(),
                    at: response.submitted_at.clone(),
                    reason: None,
                }],
            }),
            Action::Webhook { target, payload } => {
                let body = serde_json::json!({
                    "type": "chorus.follow_up",
                    "site": response.site,
                    "response_id": response.id,
                    "follow_up_id": f.id,
                    "tags": response.tag_codes(),
                    "payload": payload.clone().unwrap_or_else(|| serde_json::json!({})),
                });
                records.deliveries.push(Delivery {
                    id: f.id,
                    site: response.site.clone(),
                    webhook: target.clone(),
                    response_id: response.id,
                    follow_up_id: f.id,
                    body: body.to_string(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    created_at_ms: submitted_ms,
                    next_attempt_ms: submitted_ms,
                    last_error: None,
                    last_status: None,
                    delivered_at_ms: None,
                });
            }
        }
    }
    records
}

/// Task lifecycle and delivery replay, as the API and admin pages use them.
pub mod actions {
    use super::{now_ms, Delivery, DeliveryStatus, Task, TaskStatus};
    use crate::app::AppState;
    use crate::errors::ApiError;
    use uuid::Uuid;

    async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        Ok(tokio::task::spawn_blocking(f)
            .await
            .map_err(|_| ApiError::Unavailable)??)
    }

    /// Moves a task to `to` on behalf of `by`; durable when it returns.
    pub async fn change_task_status(
        state: &AppState,
        site: &str,
        id: Uuid,
        to: TaskStatus,
        by: &str,
        reason: Option<String>,
    ) -> Result<Task, ApiError> {
        let store = state.store.clone();
        let (site_id, by) = (site.to_string(), by.to_string());
        let at = crate::submit::timestamp_of(Uuid::now_v7());
        let task = tokio::task::spawn_blocking(move || {
            store.update_task(&site_id, id, &mut |task| {
                task.transition(to, &by, reason.clone(), at.clone())
            })
        })
        .await
        .map_err(|_| ApiError::Unavailable)?
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Store(other),
        })?
        .ok_or_else(|| ApiError::FollowUpNotFound(id.to_string()))?;
        state.store.durable().await?;
        Ok(task)
    }

    /// Schedules a failed or pending delivery for an immediate new attempt.
    pub async fn retry_delivery(
        state: &AppState,
        site: &str,
        id: Uuid,
    ) -> Result<Delivery, ApiError> {
        let store = state.store.clone();
        let site_id = site.to_string();
        let mut d = blocking(move || store.get_delivery(&site_id, id))
            .await?
            .ok_or_else(|| ApiError::DeliveryNotFound(id.to_string()))?;
        if d.status == DeliveryStatus::Delivered {
            return Err(ApiError::Conflict(
                "this delivery was already delivered".into(),
            ));
        }
        let previous = d.next_attempt_ms;
        let now = now_ms();
        d.status = DeliveryStatus::Pending;
        d.next_attempt_ms = now;
        // A manual retry restarts the retry span.
        d.created_at_ms = now;
        let store = state.store.clone();
        let saved = d.clone();
        blocking(move || store.update_delivery(previous, &saved)).await?;
        state.store.durable().await?;
        state.outbox.notify_one();
        Ok(d)
    }
}

/// After a run that did not end cleanly: re-creates the rule-error index entries, tasks and
/// outbox entries of responses stored since that run began, where the crash cut them off.
/// The response record holds its follow-ups, so nothing is guessed; existing records (a task
/// already claimed, a delivery already sent) are left as they are.
pub fn repair(
    state: &crate::app::AppState,
    since_ms: u64,
) -> Result<usize, crate::store::StoreError> {
    let mut repaired = 0;
    for site in state.sites.ids() {
        let mut query = crate::store::ResponseQuery {
            site: site.clone(),
            since_ms: Some(since_ms),
            limit: 1000,
            ..Default::default()
        };
        loop {
            let page = state.store.list_responses(&query)?;
            for r in &page.responses {
                if !r.follow_ups.is_empty() || !r.rule_errors.is_empty() {
                    repaired += state.store.repair_side_records(r, &records_for(r))?;
                }
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
    }
    Ok(repaired)
}
