//! Follow-ups as staff work them: listing tasks and deliveries, moving a task through its
//! lifecycle, scheduling a delivery again.

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

/// Moves a task to `to` on behalf of `by`: open → claimed → done, or dismissed with a reason.
/// Durable when it returns. When someone else changed the task first, the change is checked
/// again against its new status.
pub async fn change_task_status(
    chorus: &Chorus,
    site: &str,
    id: Uuid,
    to: TaskStatus,
    by: &str,
    reason: Option<String>,
) -> Result<Task, ServiceError> {
    let not_found = || ServiceError::FollowUpNotFound(id.to_string());
    loop {
        let task = chorus.store.task(site, id).await?.ok_or_else(not_found)?;
        let change = task
            .change_to(to, by, reason.clone(), now_rfc3339())
            .map_err(ServiceError::TransitionRefused)?;
        match chorus
            .store
            .transition_task(site, id, task.status, &change)
            .await
        {
            Ok(task) => return Ok(task),
            // The lifecycle has at most two steps, so this ends.
            Err(StoreError::TaskStateChanged(_)) => continue,
            Err(StoreError::NotFound) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Schedules a failed or pending delivery for an immediate new attempt.
pub async fn retry_delivery(
    chorus: &Chorus,
    site: &str,
    id: Uuid,
) -> Result<Delivery, ServiceError> {
    let d = match chorus.store.reschedule_delivery(site, id, now_ms()).await {
        Ok(d) => d,
        Err(StoreError::AlreadyDelivered) => return Err(ServiceError::AlreadyDelivered),
        Err(StoreError::NotFound) => return Err(ServiceError::DeliveryNotFound(id.to_string())),
        Err(e) => return Err(e.into()),
    };
    chorus.outbox.notify_one();
    Ok(d)
}
