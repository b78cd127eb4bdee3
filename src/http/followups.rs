//! Follow-up tasks and webhook deliveries, paged (`limit`, `cursor`, `next_cursor`).

use super::auth::{Admin, SiteUser, Staff};
use super::body::JsonBody;
use super::common::{path_id, status_param};
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::time::{now_ms, rfc3339_of_ms};
use crate::domain::{Delivery, DeliveryStatus, Task, TaskStatus};
use crate::services::audit::Actor;
use crate::services::follow_ups::{
    change_task_status, list_deliveries, list_tasks, retry_delivery,
};
use crate::services::{paging, ServiceError};
use crate::store::{DeliveryQuery, OverdueFilter, TaskQuery};
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_follow_ups)
        .service(update_follow_up)
        .service(list_delivery_page)
        .service(retry);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct FollowUpQuery {
    status: Option<String>,
    queue: Option<String>,
    overdue: Option<bool>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TaskView {
    #[serde(flatten)]
    task: Task,
    overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_at: Option<String>,
    /// What came of a done task (also in its history).
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TaskList {
    follow_ups: Vec<TaskView>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DeliveryList {
    deliveries: Vec<Delivery>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

fn view(task: Task, now: i64) -> TaskView {
    TaskView {
        overdue: task.is_overdue(now),
        due_at: task.due_at_ms.map(rfc3339_of_ms),
        outcome: task.outcome().map(str::to_string),
        task,
    }
}

/// Soonest due first (tasks without a due time last), then oldest first.
#[utoipa::path(
    tag = "follow-ups",
    params(crate::http::openapi::SitePath, FollowUpQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of tasks and next_cursor", body = TaskList),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/follow-ups")]
async fn list_follow_ups(
    state: web::Data<AppState>,
    user: SiteUser<Staff>,
    query: web::Query<FollowUpQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let now = now_ms();
    let query = TaskQuery {
        site: user.id().to_string(),
        statuses: status_param::<TaskStatus>(q.status.as_deref())?
            .into_iter()
            .collect(),
        queue: q.queue,
        overdue: q.overdue.map(|overdue| OverdueFilter {
            at_ms: now,
            overdue,
        }),
        origin: None,
        after: paging::cursor("cursor", q.cursor.as_deref())?,
        limit: paging::limit(q.limit)?,
    };
    let page = list_tasks(&state, &query, "cursor").await?;
    let list: Vec<TaskView> = page.items.into_iter().map(|t| view(t, now)).collect();
    Ok(HttpResponse::Ok().json(TaskList {
        follow_ups: list,
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusChangeBody {
    status: String,
    #[serde(default)]
    reason: Option<String>,
    /// With `done`: one of the queue's outcomes (required when it lists any).
    #[serde(default)]
    outcome: Option<String>,
}

#[utoipa::path(
    tag = "follow-ups",
    params(crate::http::openapi::SiteIdPath),
    request_body = StatusChangeBody,
    security(("token" = [])),
    responses(
        (status = 200, description = "The task after the change", body = TaskView),
        crate::http::openapi::BodyErrors,
        (status = 409, description = "conflict: the status change is not allowed", body = crate::http::error::ErrorBody),
        (status = 404, description = "follow_up_not_found", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/follow-ups/{id}")]
async fn update_follow_up(
    state: web::Data<AppState>,
    user: SiteUser<Staff>,
    path: web::Path<(String, String)>,
    body: JsonBody<StatusChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path.1, ServiceError::FollowUpNotFound)?;
    let to = body
        .0
        .status
        .parse::<TaskStatus>()
        .map_err(|message| ServiceError::invalid_body("status", message))?;
    let body = body.0;
    let task = change_task_status(
        &state,
        user.id(),
        id,
        to,
        &user.user.name,
        body.reason,
        body.outcome,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view(task, now_ms())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DeliveryListQuery {
    status: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Oldest first.
#[utoipa::path(
    tag = "follow-ups",
    params(crate::http::openapi::SitePath, DeliveryListQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of webhook deliveries and next_cursor", body = DeliveryList),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/deliveries")]
async fn list_delivery_page(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    query: web::Query<DeliveryListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = DeliveryQuery {
        site: user.id().to_string(),
        status: status_param::<DeliveryStatus>(query.status.as_deref())?,
        newest_first: false,
        after: paging::cursor("cursor", query.cursor.as_deref())?,
        limit: paging::limit(query.limit)?,
    };
    let page = list_deliveries(&state, &query).await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        deliveries: page.items,
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}

#[utoipa::path(
    tag = "follow-ups",
    params(crate::http::openapi::SiteIdPath),
    security(("token" = [])),
    responses(
        (status = 202, description = "The delivery, pending again", body = Delivery),
        (status = 409, description = "conflict: already delivered", body = crate::http::error::ErrorBody),
        (status = 404, description = "delivery_not_found", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/deliveries/{id}/retry")]
async fn retry(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path.1, ServiceError::DeliveryNotFound)?;
    let d = retry_delivery(&state, Actor::User(&user.user.name), user.id(), id).await?;
    Ok(HttpResponse::Accepted().json(d))
}
