//! The tasks and deliveries that actions become, built the same way for a response's
//! `follow_up` hooks and for a `review` run.

use super::delivery::{Delivery, DeliveryStatus};
use super::origin::Origin;
use super::response::{Action, FollowUp, Priority, StoredResponse};
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
    records_of(response, &response.follow_ups)
}

/// The task and delivery records of some of a response's follow-ups: opened (due, sent) when
/// the response was submitted, or when a catch-up added them (`added_at`).
pub fn records_of(response: &StoredResponse, follow_ups: &[FollowUp]) -> FollowUpRecords {
    let mut records = FollowUpRecords::default();
    let submitted_ms = ms_of_rfc3339(&response.submitted_at)
        .unwrap_or_else(|| super::time::ms_of_id(response.id) as i64);
    let origin = Origin::Response {
        id: response.id,
        survey: response.survey.clone(),
    };
    for f in follow_ups {
        let (at, ms) = match f
            .added_at
            .as_deref()
            .and_then(|a| Some((a, ms_of_rfc3339(a)?)))
        {
            Some((at, ms)) => (at, ms),
            None => (response.submitted_at.as_str(), submitted_ms),
        };
        if let Some(task) = TaskAction::of(&f.action) {
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
                ms,
            ));
        }
    }
    records
}

/// What an action is to catch-up: its kind (`task`, `webhook`) and its place (the task's
/// queue, the webhook's target). A response "has" an action when one of its follow-ups has
/// the same kind and place, whatever its title, payload or the rule that asked for it.
pub fn place_of(action: &Action) -> (&'static str, &str) {
    match action {
        Action::Task { queue, .. } => ("task", queue.as_str()),
        Action::Webhook { target, .. } => ("webhook", target.as_str()),
    }
}

/// The follow-ups of `wanted` (what the current rules ask for) whose actions a response with
/// the follow-ups `existing` lacks: per kind and place, as many as the rules ask for beyond
/// those it has (existing ones from the same rule count first). Once the result is added,
/// the same call gives nothing: catch-up never makes a second one.
pub fn missing_actions<'a>(existing: &[FollowUp], wanted: &'a [FollowUp]) -> Vec<&'a FollowUp> {
    use std::collections::BTreeMap;
    let mut had: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for f in existing {
        had.entry(place_of(&f.action))
            .or_default()
            .push(f.source.as_str());
    }
    // First pass: a wanted action is had when an existing one of its place came from its rule.
    let mut taken = vec![false; wanted.len()];
    for (i, f) in wanted.iter().enumerate() {
        if let Some(sources) = had.get_mut(&place_of(&f.action)) {
            if let Some(j) = sources.iter().position(|s| *s == f.source) {
                sources.swap_remove(j);
                taken[i] = true;
            }
        }
    }
    // Second pass: the place's other existing ones count for the rest, in order.
    let mut missing = Vec::new();
    for (i, f) in wanted.iter().enumerate() {
        if taken[i] {
            continue;
        }
        match had.get_mut(&place_of(&f.action)) {
            Some(sources) if !sources.is_empty() => {
                sources.pop();
            }
            _ => missing.push(f),
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(queue: &str) -> Action {
        Action::Task {
            queue: queue.into(),
            title: "Call".into(),
            due_hours: None,
            priority: Priority::Normal,
            note: None,
        }
    }

    fn had(source: &str, action: Action) -> FollowUp {
        FollowUp {
            id: Uuid::nil(),
            source: source.into(),
            added_at: None,
            action,
        }
    }

    #[test]
    fn only_the_actions_a_response_lacks_per_kind_and_place_are_missing() {
        let hook = Action::Webhook {
            target: "help_desk".into(),
            payload: None,
        };
        let wanted = vec![
            had("rules/a.rhai", task("front_desk")),
            had("rules/b.rhai", task("front_desk")),
            had("rules/a.rhai", hook.clone()),
        ];
        assert_eq!(
            missing_actions(&[], &wanted),
            wanted.iter().collect::<Vec<_>>()
        );
        // b's front-desk task is there: a's is missing, and the webhook.
        let existing = [had("rules/b.rhai", task("front_desk"))];
        assert_eq!(
            missing_actions(&existing, &wanted),
            vec![&wanted[0], &wanted[2]]
        );
        // A renamed rule's task still counts: the place is what matters.
        let existing = [
            had("rules/old.rhai", task("front_desk")),
            had("rules/old.rhai", task("front_desk")),
            had("rules/a.rhai", hook),
        ];
        assert!(missing_actions(&existing, &wanted).is_empty());
    }
}
