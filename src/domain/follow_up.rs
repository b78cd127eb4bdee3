//! The tasks and deliveries that actions become, built the same way for a response's
//! `follow_up` hooks and for a `review` run.

use super::delivery::{Delivery, DeliveryStatus};
use super::origin::Origin;
use super::response::{Action, Priority, StoredResponse};
use super::task::{StatusChange, Task, TaskStatus};
use super::time::ms_of_rfc3339;
use uuid::Uuid;

/// Tasks and deliveries created together (by one response or one review run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FollowUpRecords {
    pub tasks: Vec<Task>,
    pub deliveries: Vec<Delivery>,
}

impl FollowUpRecords {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.deliveries.is_empty()
    }
}

/// The fields of a `task` action.
pub struct TaskAction<'a> {
    pub queue: &'a str,
    pub title: &'a str,
    pub due_hours: Option<i64>,
    pub priority: Priority,
    pub note: Option<&'a str>,
}

impl<'a> TaskAction<'a> {
    /// The fields of a `task` action; `None` for another action.
    pub fn of(action: &'a Action) -> Option<TaskAction<'a>> {
        match action {
            Action::Task {
                queue,
                title,
                due_hours,
                priority,
                note,
            } => Some(TaskAction {
                queue,
                title,
                due_hours: *due_hours,
                priority: *priority,
                note: note.as_deref(),
            }),
            Action::Webhook { .. } => None,
        }
    }
}

/// A new open task; due `due_hours` after `created_ms`.
pub fn new_task(
    id: Uuid,
    site: &str,
    origin: Origin,
    source: &str,
    action: TaskAction<'_>,
    created_at: &str,
    created_ms: i64,
) -> Task {
    Task {
        id,
        site: site.to_string(),
        origin,
        source: source.to_string(),
        queue: action.queue.to_string(),
        title: action.title.to_string(),
        priority: action.priority,
        note: action.note.map(str::to_string),
        created_at: created_at.to_string(),
        due_at_ms: action.due_hours.map(|h| created_ms + h * 3_600_000),
        status: TaskStatus::Open,
        history: vec![StatusChange {
            status: TaskStatus::Open,
            by: source.to_string(),
            at: created_at.to_string(),
            reason: None,
            outcome: None,
        }],
    }
}

/// A new pending delivery, due at once.
pub fn new_delivery(
    id: Uuid,
    site: &str,
    origin: Origin,
    webhook: &str,
    body: String,
    now_ms: i64,
) -> Delivery {
    Delivery {
        id,
        site: site.to_string(),
        webhook: webhook.to_string(),
        origin,
        follow_up_id: id,
        body,
        status: DeliveryStatus::Pending,
        attempts: 0,
        created_at_ms: now_ms,
        next_attempt_ms: now_ms,
        last_error: None,
        last_status: None,
        delivered_at_ms: None,
        lease: None,
    }
}

/// Builds the task and delivery records for a response's follow-ups.
pub fn records_for(response: &StoredResponse) -> FollowUpRecords {
    let mut records = FollowUpRecords::default();
    let submitted_ms = ms_of_rfc3339(&response.submitted_at)
        .unwrap_or_else(|| super::time::ms_of_id(response.id) as i64);
    let origin = Origin::Response {
        id: response.id,
        survey: response.survey.clone(),
    };
    for f in &response.follow_ups {
        if let Some(task) = TaskAction::of(&f.action) {
            let (at, ms) = (&response.submitted_at, submitted_ms);
            let task = new_task(
                f.id,
                &response.site,
                origin.clone(),
                &f.source,
                task,
                at,
                ms,
            );
            records.tasks.push(task);
        } else if let Action::Webhook { target, payload } = &f.action {
            let body = serde_json::json!({
                "type": "chorus.follow_up",
                "site": response.site,
                "response_id": response.id,
                "follow_up_id": f.id,
                "tags": response.tag_codes(),
                "payload": payload.clone().unwrap_or_else(|| serde_json::json!({})),
            });
            records.deliveries.push(new_delivery(
                f.id,
                &response.site,
                origin.clone(),
                target,
                body.to_string(),
                submitted_ms,
            ));
        }
    }
    records
}
