//! Follow-up tasks and webhook deliveries (issue: follow-ups that happen).

use super::body::JsonBody;
use super::common::{site, status_param};
use crate::app::AppState;
use crate::auth::{Admin, SiteUser, Staff};
use crate::domain::time::now_ms;
use crate::domain::{Delivery, DeliveryStatus, Task, TaskStatus};
use crate::errors::ApiError;
use crate::followups::actions::{change_task_status, retry_delivery};
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_follow_ups)
        .service(update_follow_up)
        .service(list_deliveries)
        .service(retry);
}

/// An id that is not even a UUID names nothing: 404, like any unknown id.
fn parse_id(raw: &str, not_found: fn(String) -> ApiError) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found(raw.to_string()))
}

fn known_site(state: &AppState, id: &str) -> Result<(), ApiError> {
    site(state, id).map(|_| ())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowUpQuery {
    status: Option<String>,
    queue: Option<String>,
    overdue: Option<bool>,
}

#[derive(Serialize)]
struct TaskView {
    #[serde(flatten)]
    task: Task,
    overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_at: Option<String>,
}

fn view(task: Task, now: i64) -> TaskView {
    TaskView {
        overdue: task.is_overdue(now),
        due_at: task.due_at_ms.map(crate::domain::time::rfc3339_of_ms),
        task,
    }
}

#[get("/sites/{site}/follow-ups")]
async fn list_follow_ups(
    state: web::Data<AppState>,
    user: SiteUser<Staff>,
    query: web::Query<FollowUpQuery>,
) -> Result<HttpResponse, ApiError> {
    known_site(&state, &user.site)?;
    let q = query.into_inner();
    let status = status_param::<TaskStatus>(q.status.as_deref())?;
    let store = state.store.clone();
    let site = user.site.clone();
    let now = now_ms();
    let (queue, overdue) = (q.queue, q.overdue);
    let tasks = web::block(move || {
        store.find_tasks(&site, &|t| {
            status.is_none_or(|s| t.status == s)
                && queue.as_ref().is_none_or(|queue| &t.queue == queue)
                && overdue.is_none_or(|o| t.is_overdue(now) == o)
        })
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    let list: Vec<TaskView> = tasks.into_iter().map(|t| view(t, now)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "follow_ups": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChangeBody {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

#[post("/sites/{site}/follow-ups/{id}")]
async fn update_follow_up(
    state: web::Data<AppState>,
    user: SiteUser<Staff>,
    path: web::Path<(String, String)>,
    body: JsonBody<StatusChangeBody>,
) -> Result<HttpResponse, ApiError> {
    known_site(&state, &user.site)?;
    let id = parse_id(&path.1, ApiError::FollowUpNotFound)?;
    let to = body
        .0
        .status
        .parse::<TaskStatus>()
        .map_err(|message| ApiError::InvalidBody {
            message,
            field: Some("status".into()),
        })?;
    let task =
        change_task_status(&state, &user.site, id, to, &user.user.name, body.0.reason).await?;
    Ok(HttpResponse::Ok().json(view(task, now_ms())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryQuery {
    status: Option<String>,
}

#[get("/sites/{site}/deliveries")]
async fn list_deliveries(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    known_site(&state, &user.site)?;
    let status = status_param::<DeliveryStatus>(query.status.as_deref())?;
    let store = state.store.clone();
    let site = user.site.clone();
    let list: Vec<Delivery> = web::block(move || store.list_deliveries(&site, status))
        .await
        .map_err(|_| ApiError::Unavailable)??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveries": list })))
}

#[post("/sites/{site}/deliveries/{id}/retry")]
async fn retry(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    known_site(&state, &user.site)?;
    let id = parse_id(&path.1, ApiError::DeliveryNotFound)?;
    let d = retry_delivery(&state, &user.site, id).await?;
    Ok(HttpResponse::Accepted().json(d))
}
