//! `/admin/sites/{site}/follow-ups`: the task queue (open, overdue, claimed) with claim, done
//! and dismiss buttons, and, for site admins, webhook deliveries with a retry button. Every
//! button is a small form with the session's CSRF token; changes go through the same
//! `followups::actions` as the JSON API.

use super::dashboard::base_context_for;
use super::extract::CsrfForm;
use super::login::see_other;
use super::{html, render, SiteSession};
use crate::app::AppState;
use crate::auth::{Admin, Staff};
use crate::errors::ApiError;
use crate::followups::actions::{change_task_status, retry_delivery};
use crate::followups::signing::secret_problems;
use crate::followups::{now_ms, DeliveryStatus, Task, TaskStatus};
use crate::response::Priority;
use crate::store::Role;
use crate::submit::timestamp_of_ms;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(queue_page).service(change).service(retry);
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct QueueFilter {
    /// `active` (open or claimed, the default), `open`, `claimed`, `done`, `dismissed`, `all`.
    #[serde(default)]
    status: String,
    #[serde(default)]
    queue: String,
}

#[derive(Serialize)]
struct TaskRow {
    id: String,
    title: String,
    queue: String,
    high_priority: bool,
    note: Option<String>,
    status: &'static str,
    overdue: bool,
    due_at: Option<String>,
    created_at: String,
    response_id: String,
    source: String,
    can_claim: bool,
    can_finish: bool,
    can_dismiss: bool,
    last_by: String,
}

fn row(t: &Task, now: i64) -> TaskRow {
    TaskRow {
        id: t.id.to_string(),
        title: t.title.clone(),
        queue: t.queue.clone(),
        high_priority: t.priority == Priority::High,
        note: t.note.clone(),
        status: t.status.as_str(),
        overdue: t.is_overdue(now),
        due_at: t.due_at_ms.map(timestamp_of_ms),
        created_at: t.created_at.clone(),
        response_id: t.response_id.to_string(),
        source: t.source.clone(),
        can_claim: t.status == TaskStatus::Open,
        can_finish: t.status == TaskStatus::Claimed,
        can_dismiss: t.status.is_active(),
        last_by: t.history.last().map(|h| h.by.clone()).unwrap_or_default(),
    }
}

#[derive(Serialize)]
struct DeliveryRow {
    id: String,
    webhook: String,
    status: &'static str,
    attempts: u32,
    last_status: Option<u16>,
    last_error: Option<String>,
    next_attempt: Option<String>,
    delivered_at: Option<String>,
    response_id: String,
    can_retry: bool,
}

#[get("/sites/{site}/follow-ups")]
async fn queue_page(
    state: web::Data<AppState>,
    s: SiteSession<Staff>,
    filter: web::Query<QueueFilter>,
) -> Result<HttpResponse, ApiError> {
    let runtime = crate::http::common::site(&state, &s.site)?;
    let wanted: Option<Vec<TaskStatus>> = match filter.status.as_str() {
        "" | "active" => Some(vec![TaskStatus::Open, TaskStatus::Claimed]),
        "all" => None,
        other => Some(vec![other.parse::<TaskStatus>().map_err(|message| {
            ApiError::InvalidQuery {
                field: "status".into(),
                message,
            }
        })?]),
    };
    let is_admin = s.user.role >= Role::Admin;
    let store = state.store.clone();
    let site = s.site.clone();
    let (tasks, deliveries) = web::block(move || -> Result<_, ApiError> {
        let tasks = store.list_tasks(&site)?;
        let deliveries = if is_admin {
            store.list_deliveries(&site, None)?
        } else {
            Vec::new()
        };
        Ok((tasks, deliveries))
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    let now = now_ms();
    let mut queues: Vec<String> = tasks.iter().map(|t| t.queue.clone()).collect();
    queues.sort();
    queues.dedup();
    let selected: Vec<&Task> = tasks
        .iter()
        .filter(|t| wanted.as_ref().is_none_or(|w| w.contains(&t.status)))
        .filter(|t| filter.queue.is_empty() || t.queue == filter.queue)
        .collect();
    // Overdue first, then open, then claimed; within each, the oldest first.
    let overdue: Vec<TaskRow> = selected
        .iter()
        .filter(|t| t.is_overdue(now))
        .map(|t| row(t, now))
        .collect();
    let open: Vec<TaskRow> = selected
        .iter()
        .filter(|t| !t.is_overdue(now) && t.status == TaskStatus::Open)
        .map(|t| row(t, now))
        .collect();
    let claimed: Vec<TaskRow> = selected
        .iter()
        .filter(|t| !t.is_overdue(now) && t.status == TaskStatus::Claimed)
        .map(|t| row(t, now))
        .collect();
    let closed: Vec<TaskRow> = selected
        .iter()
        .filter(|t| !t.status.is_active())
        .map(|t| row(t, now))
        .collect();
    let deliveries: Vec<DeliveryRow> = deliveries
        .iter()
        .rev()
        .take(100)
        .map(|d| DeliveryRow {
            id: d.id.to_string(),
            webhook: d.webhook.clone(),
            status: match d.status {
                DeliveryStatus::Pending => "pending",
                DeliveryStatus::Delivered => "delivered",
                DeliveryStatus::Failed => "failed",
            },
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            next_attempt: (d.status == DeliveryStatus::Pending)
                .then(|| timestamp_of_ms(d.next_attempt_ms)),
            delivered_at: d.delivered_at_ms.map(timestamp_of_ms),
            response_id: d.response_id.to_string(),
            can_retry: d.status != DeliveryStatus::Delivered,
        })
        .collect();
    let mut ctx = base_context_for(&s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &runtime.site.config.name);
    ctx.insert("overdue", &overdue);
    ctx.insert("open", &open);
    ctx.insert("claimed", &claimed);
    ctx.insert("closed", &closed);
    ctx.insert("queues", &queues);
    ctx.insert("f", &filter.0);
    ctx.insert("is_admin", &is_admin);
    ctx.insert("deliveries", &deliveries);
    ctx.insert("webhook_problems", &secret_problems(&runtime.site));
    Ok(html(render(&state, "admin/follow-ups.html", &ctx)?))
}

/// Back to the queue the button was pressed on (only known filter values are echoed).
fn back_to(site: &str, form: &CsrfForm) -> String {
    let status = form.field("back_status").unwrap_or("");
    let queue = form.field("back_queue").unwrap_or("");
    let query =
        serde_urlencoded::to_string([("status", status), ("queue", queue)]).unwrap_or_default();
    format!("/admin/sites/{site}/follow-ups?{query}")
}

#[post("/sites/{site}/follow-ups/{id}")]
async fn change(
    state: web::Data<AppState>,
    s: SiteSession<Staff>,
    path: web::Path<(String, String)>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path.1).map_err(|_| ApiError::FollowUpNotFound(path.1.clone()))?;
    let to = form
        .field("status")
        .unwrap_or("")
        .parse::<TaskStatus>()
        .map_err(|message| ApiError::InvalidBody {
            message,
            field: Some("status".into()),
        })?;
    let reason = form.field("reason").map(str::to_string);
    change_task_status(&state, &s.site, id, to, &s.user.name, reason).await?;
    Ok(see_other(&back_to(&s.site, &form)))
}

#[post("/sites/{site}/deliveries/{id}/retry")]
async fn retry(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<(String, String)>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path.1).map_err(|_| ApiError::DeliveryNotFound(path.1.clone()))?;
    retry_delivery(&state, &s.site, id).await?;
    Ok(see_other(&back_to(&s.site, &form)))
}
