//! Follow-ups that happen: task lifecycle changes and webhook deliveries through a durable
//! outbox.

pub mod delivery;
pub mod signing;

use crate::domain::records_for;

/// Task lifecycle and delivery replay, as the API and admin pages use them.
pub mod actions {
    use crate::app::AppState;
    use crate::domain::time::now_ms;
    use crate::domain::{Delivery, DeliveryStatus, Task, TaskStatus};
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
        let at = crate::domain::time::now_rfc3339();
        let task = tokio::task::spawn_blocking(move || {
            store.update_task(&site_id, id, &mut |task| {
                let change = task.change_to(to, &by, reason.clone(), at.clone())?;
                task.apply(change);
                Ok(())
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
