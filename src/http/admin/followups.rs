//! `/admin/sites/{site}/follow-ups`: the task queue (overdue first, then open, claimed and
//! closed) with claim, done and dismiss buttons, and, for site admins, webhook deliveries with
//! a retry button, each list paged. Every button is a small form with the session's CSRF
//! token; changes go through the same `services::follow_ups` as the JSON API.

use super::dashboard::base_context_for;
use super::extract::CsrfForm;
use super::{html, render, SiteSession};
use crate::app::AppState;
use crate::domain::time::{now_ms, rfc3339_of_ms};
use crate::domain::{DeliveryStatus, Priority, Role, Task, TaskStatus};
use crate::http::auth::{Admin, Staff};
use crate::http::error::ApiError;
use crate::http::see_other;
use crate::services::audit::Actor;
use crate::services::follow_ups::{
    change_task_status, list_deliveries, list_tasks, retry_delivery,
};
use crate::services::signing::secret_problems;
use crate::services::{paging, ServiceError};
use crate::store::{DeliveryQuery, OverdueFilter, TaskQuery};
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(queue_page).service(change).service(retry);
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct QueueFilter {
    /// `active` (open or claimed, the default), `open`, `claimed`, `done`, `dismissed`, `all`.
    #[serde(default)]
    status: String,
    #[serde(default)]
    queue: String,
    #[serde(default, skip_serializing)]
    limit: Option<usize>,
    /// Where the list of tasks that are not overdue continues.
    #[serde(default, skip_serializing)]
    cursor: String,
    #[serde(default, skip_serializing)]
    overdue_cursor: String,
    #[serde(default, skip_serializing)]
    deliveries_cursor: String,
}

impl QueueFilter {
    /// The link to this view with one cursor set (the others left out).
    fn link(&self, site: &str, cursor: (&str, &str)) -> String {
        let limit = self.limit.map(|l| l.to_string()).unwrap_or_default();
        let query = serde_urlencoded::to_string([
            ("status", self.status.as_str()),
            ("queue", self.queue.as_str()),
            ("limit", limit.as_str()),
            cursor,
        ])
        .unwrap_or_default();
        format!("/admin/sites/{site}/follow-ups?{query}")
    }
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
    /// None for a task of a review run.
    response_id: Option<String>,
    source: String,
    can_claim: bool,
    can_finish: bool,
    can_dismiss: bool,
    last_by: String,
    /// The outcomes the Done button asks for (none: it asks nothing).
    outcomes: Vec<String>,
    outcome: Option<String>,
}

fn row(t: &Task, now: i64, site: &crate::survey::Site) -> TaskRow {
    TaskRow {
        id: t.id.to_string(),
        title: t.title.clone(),
        queue: t.queue.clone(),
        high_priority: t.priority == Priority::High,
        note: t.note.clone(),
        status: t.status.as_str(),
        overdue: t.is_overdue(now),
        due_at: t.due_at_ms.map(rfc3339_of_ms),
        created_at: t.created_at.clone(),
        response_id: t.origin.response_id().map(|id| id.to_string()),
        source: t.source.clone(),
        can_claim: t.status == TaskStatus::Open,
        can_finish: t.status == TaskStatus::Claimed,
        can_dismiss: t.status.is_active(),
        last_by: t.history.last().map(|h| h.by.clone()).unwrap_or_default(),
        outcomes: site.outcomes_of(&t.queue).to_vec(),
        outcome: t.outcome().map(str::to_string),
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
    response_id: Option<String>,
    can_retry: bool,
}

fn delivery_row(d: &crate::domain::Delivery) -> DeliveryRow {
    DeliveryRow {
        id: d.id.to_string(),
        webhook: d.webhook.clone(),
        status: d.status.as_str(),
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error.clone(),
        next_attempt: (d.status == DeliveryStatus::Pending)
            .then(|| rfc3339_of_ms(d.next_attempt_ms)),
        delivered_at: d.delivered_at_ms.map(rfc3339_of_ms),
        response_id: d.origin.response_id().map(|id| id.to_string()),
        can_retry: d.status != DeliveryStatus::Delivered,
    }
}

/// The statuses a `status` filter names: `active` (the default) is open or claimed.
fn wanted(status: &str) -> Result<Vec<TaskStatus>, ServiceError> {
    Ok(match status {
        "" | "active" => TaskStatus::ACTIVE.to_vec(),
        "all" => Vec::new(),
        other => vec![other
            .parse::<TaskStatus>()
            .map_err(|message| ServiceError::invalid_query("status", message))?],
    })
}

impl QueueFilter {
    /// One of the page's task lists: the overdue tasks, or the others.
    fn tasks(
        &self,
        site: &str,
        overdue: bool,
        limit: usize,
        now: i64,
    ) -> Result<TaskQuery, ServiceError> {
        let (cursor, field) = if overdue {
            (&self.overdue_cursor, "overdue_cursor")
        } else {
            (&self.cursor, "cursor")
        };
        Ok(TaskQuery {
            site: site.to_string(),
            statuses: wanted(&self.status)?,
            queue: Some(self.queue.clone()).filter(|q| !q.is_empty()),
            overdue: Some(OverdueFilter {
                at_ms: now,
                overdue,
            }),
            origin: None,
            after: paging::cursor(field, Some(cursor))?,
            limit,
        })
    }
}

/// The page's deliveries, newest first, and the link to the next page of them.
async fn delivery_section(
    state: &AppState,
    site: &str,
    f: &QueueFilter,
    limit: usize,
) -> Result<(Vec<DeliveryRow>, Option<String>), ApiError> {
    let query = DeliveryQuery {
        site: site.to_string(),
        status: None,
        newest_first: true,
        after: paging::cursor("deliveries_cursor", Some(&f.deliveries_cursor))?,
        limit,
    };
    let page = list_deliveries(state, &query).await?;
    let next = page
        .next
        .map(|id| f.link(site, ("deliveries_cursor", &id.to_string())));
    Ok((page.items.iter().map(delivery_row).collect(), next))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "Follow-up tasks and deliveries", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/follow-ups")]
async fn queue_page(
    state: web::Data<AppState>,
    s: SiteSession<Staff>,
    filter: web::Query<QueueFilter>,
) -> Result<HttpResponse, ApiError> {
    let f = filter.into_inner();
    let limit = paging::limit(f.limit)?;
    let now = now_ms();
    // Overdue first, then the rest by status; each list soonest due first.
    let overdue = f.tasks(&s.site, true, limit, now)?;
    let overdue = list_tasks(&state, &overdue, "overdue_cursor").await?;
    let rest = list_tasks(&state, &f.tasks(&s.site, false, limit, now)?, "cursor").await?;
    let rows = |keep: &dyn Fn(&Task) -> bool| -> Vec<TaskRow> {
        rest.items
            .iter()
            .filter(|t| keep(t))
            .map(|t| row(t, now, &s.runtime.site))
            .collect()
    };
    let is_admin = s.user.role >= Role::Admin;
    let (deliveries, deliveries_next) = if is_admin {
        delivery_section(&state, &s.site, &f, limit).await?
    } else {
        (Vec::new(), None)
    };
    let next = |page_next: Option<uuid::Uuid>, field: &str| {
        page_next.map(|id| f.link(&s.site, (field, &id.to_string())))
    };
    let mut ctx = base_context_for(&s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &s.runtime.site.config.name);
    let overdue_rows: Vec<TaskRow> = overdue
        .items
        .iter()
        .map(|t| row(t, now, &s.runtime.site))
        .collect();
    ctx.insert("overdue", &overdue_rows);
    ctx.insert("open", &rows(&|t| t.status == TaskStatus::Open));
    ctx.insert("claimed", &rows(&|t| t.status == TaskStatus::Claimed));
    ctx.insert("closed", &rows(&|t| !t.status.is_active()));
    ctx.insert("overdue_next", &next(overdue.next, "overdue_cursor"));
    ctx.insert("tasks_next", &next(rest.next, "cursor"));
    ctx.insert("queues", &state.store.task_queues(&s.site).await?);
    ctx.insert("is_admin", &is_admin);
    ctx.insert("deliveries", &deliveries);
    ctx.insert("deliveries_next", &deliveries_next);
    ctx.insert("f", &f);
    ctx.insert("webhook_problems", &secret_problems(&s.runtime.site));
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

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SiteIdPath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/follow-ups/{id}")]
async fn change(
    state: web::Data<AppState>,
    s: SiteSession<Staff>,
    path: web::Path<(String, String)>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let id = crate::http::common::path_id(&path.1, ServiceError::FollowUpNotFound)?;
    let to = form
        .field("status")
        .unwrap_or("")
        .parse::<TaskStatus>()
        .map_err(|message| ServiceError::invalid_body("status", message))?;
    let reason = form.field("reason").map(str::to_string);
    let outcome = form.field("outcome").map(str::to_string);
    change_task_status(&state, &s.site, id, to, &s.user.name, reason, outcome).await?;
    Ok(see_other(&back_to(&s.site, &form)))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SiteIdPath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/deliveries/{id}/retry")]
async fn retry(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<(String, String)>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let id = crate::http::common::path_id(&path.1, ServiceError::DeliveryNotFound)?;
    retry_delivery(&state, Actor::User(&s.user.name), &s.site, id).await?;
    Ok(see_other(&back_to(&s.site, &form)))
}
