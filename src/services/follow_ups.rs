//! Follow-ups as staff work them: listing tasks and deliveries, moving a task through its
//! lifecycle, scheduling a delivery again.

use super::audit::{self, Actor, Event};
use super::paging::bad_cursor;
use super::{Chorus, ServiceError};
use crate::domain::time::{now_ms, now_rfc3339};
use crate::domain::{Delivery, Task, TaskStatus};
use crate::store::{DeliveryQuery, Page, StoreError, TaskQuery};
use uuid::Uuid;

/// A page of tasks; `cursor_field` names the parameter a cursor that names no task came in.
pub async fn list_tasks(
    chorus: &Chorus,
    query: &TaskQuery,
    cursor_field: &str,
) -> Result<Page<Task>, ServiceError> {
    match chorus.store.list_tasks(query).await {
        Err(StoreError::NotFound) => Err(bad_cursor(cursor_field)),
        other => Ok(other?),
    }
}

pub async fn list_deliveries(
    chorus: &Chorus,
    query: &DeliveryQuery,
) -> Result<Page<Delivery>, ServiceError> {
    Ok(chorus.store.list_deliveries(query).await?)
}

/// The outcome a task of `queue` may be marked `to` with: one the queue lists when it is
/// marked done and the queue lists any (then it is required), none otherwise.
fn checked_outcome(
    outcomes: &[String],
    queue: &str,
    to: TaskStatus,
    outcome: Option<String>,
) -> Result<Option<String>, ServiceError> {
    let outcome = outcome
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty());
    let listed = || outcomes.join(", ");
    match (to, outcome) {
        (TaskStatus::Done, None) if !outcomes.is_empty() => {
            Err(ServiceError::InvalidOutcome(format!(
                "marking a task of \"{queue}\" done needs an outcome: one of {}",
                listed()
            )))
        }
        (TaskStatus::Done, Some(o)) if outcomes.is_empty() => {
            Err(ServiceError::InvalidOutcome(format!(
                "the queue \"{queue}\" lists no outcomes (site.toml [[queues]]), so \"{o}\" \
                 cannot be recorded; leave outcome out"
            )))
        }
        (TaskStatus::Done, Some(o)) if !outcomes.contains(&o) => {
            Err(ServiceError::InvalidOutcome(format!(
                "\"{o}\" is not an outcome of \"{queue}\": one of {}",
                listed()
            )))
        }
        (TaskStatus::Done, o) => Ok(o),
        (_, Some(_)) => Err(ServiceError::InvalidOutcome(
            "an outcome is recorded only when a task is marked done".into(),
        )),
        (_, None) => Ok(None),
    }
}

/// Moves a task to `to` on behalf of `by`: open → claimed → done (with one of its queue's
/// outcomes, when the queue lists any), or dismissed with a reason. Durable when it returns.
/// When someone else changed the task first, the change is checked again against its new
/// status.
pub async fn change_task_status(
    chorus: &Chorus,
    site: &str,
    id: Uuid,
    to: TaskStatus,
    by: &str,
    reason: Option<String>,
    outcome: Option<String>,
) -> Result<Task, ServiceError> {
    let not_found = || ServiceError::FollowUpNotFound(id.to_string());
    let runtime = chorus.site(site)?;
    loop {
        let task = chorus.store.task(site, id).await?.ok_or_else(not_found)?;
        let mut change = task
            .change_to(to, by, reason.clone(), now_rfc3339())
            .map_err(ServiceError::TransitionRefused)?;
        let outcomes = runtime.site.outcomes_of(&task.queue);
        change.outcome = checked_outcome(outcomes, &task.queue, to, outcome.clone())?;
        match chorus
            .store
            .transition_task(site, id, task.status, &change)
            .await
        {
            Ok(changed) => {
                // The status and the outcome code; a dismissal's reason is free text: never.
                let (id, from) = (changed.id.to_string(), task.status.as_str());
                let event = Event::TaskChanged {
                    site,
                    task: &id,
                    from,
                    to: changed.status.as_str(),
                    outcome: changed.outcome(),
                };
                audit::record(chorus.store.as_ref(), Actor::User(by), event).await?;
                return Ok(changed);
            }
            // The lifecycle has at most two steps, so this ends.
            Err(StoreError::TaskStateChanged(_)) => continue,
            Err(StoreError::NotFound) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Schedules a failed or pending delivery for an immediate new attempt (audited).
pub async fn retry_delivery(
    chorus: &Chorus,
    actor: Actor<'_>,
    site: &str,
    id: Uuid,
) -> Result<Delivery, ServiceError> {
    let d = match chorus.store.reschedule_delivery(site, id, now_ms()).await {
        Ok(d) => d,
        Err(StoreError::AlreadyDelivered) => return Err(ServiceError::AlreadyDelivered),
        Err(StoreError::NotFound) => return Err(ServiceError::DeliveryNotFound(id.to_string())),
        Err(e) => return Err(e.into()),
    };
    let delivery = id.to_string();
    let event = Event::DeliveryRetried {
        site,
        delivery: &delivery,
    };
    audit::record(chorus.store.as_ref(), actor, event).await?;
    chorus.outbox.notify_one();
    Ok(d)
}
