//! `/admin/sites/{site}/catch-up` (site admins): for a range of stored responses, preview the
//! tasks and webhooks the current rules would create for responses that lack them (counts per
//! kind and place, and the responses concerned, paged), then create them as a background job
//! whose progress is read from the store (the same on every node and on a plain reload).

use super::extract::CsrfForm;
use super::retag::{catch_up_view, job_context, problem_of};
use super::{html_with, render, SiteSession};
use crate::app::AppState;
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::see_other;
use crate::services::audit::Actor;
use crate::services::catch_up::{self, Preview};
use crate::services::retag::Range;
use crate::services::{paging, ServiceError};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

/// Responses concerned per page of the preview.
const PAGE: usize = 50;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(catch_up_page).service(start_catch_up);
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The range's start (YYYY-MM-DD or RFC 3339; empty: the first response).
    #[serde(default)]
    #[param(required = false)]
    since: String,
    /// The range's end, exclusive (empty: now).
    #[serde(default)]
    #[param(required = false)]
    until: String,
    /// `yes`: show what a catch-up of the range would create.
    #[serde(default)]
    #[param(required = false)]
    preview: String,
    /// The preview's next page.
    #[serde(default)]
    #[param(required = false)]
    cursor: String,
}

async fn page(
    state: &AppState,
    s: &SiteSession<Admin>,
    q: &PageQuery,
    preview: Option<Result<Preview, ServiceError>>,
    problem: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let (mut status, mut problem) = (status, problem);
    let mut ctx = job_context(state, s, &q.since, &q.until, None);
    match preview {
        Some(Ok(p)) => {
            let next = p.next_cursor.as_ref().map(|cursor| {
                let query = serde_urlencoded::to_string([
                    ("preview", "yes"),
                    ("since", q.since.as_str()),
                    ("until", q.until.as_str()),
                    ("cursor", cursor.as_str()),
                ])
                .unwrap_or_default();
                format!("/admin/sites/{}/catch-up?{query}", s.site)
            });
            ctx.insert("next_href", &next);
            ctx.insert("preview", &p);
        }
        Some(Err(e)) => {
            problem = Some(problem_of(&e));
            status = StatusCode::BAD_REQUEST;
        }
        None => {}
    }
    ctx.insert("problem", &problem);
    let progress = state.store.catch_up_progress(&s.site).await?;
    ctx.insert("job", &progress.as_ref().map(catch_up_view));
    let results: Vec<(&str, u64)> = progress.as_ref().map_or_else(Vec::new, |p| {
        vec![
            ("Responses that got follow-ups", p.responses_changed),
            ("Tasks created", p.tasks_created),
            ("Webhooks created", p.webhooks_created),
        ]
    });
    ctx.insert("job_results", &results);
    ctx.insert("created", &progress.map(|p| p.created).unwrap_or_default());
    Ok(html_with(
        status,
        render(state, "admin/catch_up.html", &ctx)?,
    ))
}

/// The preview the query asks for: `None` without `preview=yes`; a bad range or cursor is
/// the page's problem, not an error page.
async fn preview_of(
    state: &AppState,
    s: &SiteSession<Admin>,
    q: &PageQuery,
) -> Result<Option<Result<Preview, ServiceError>>, ApiError> {
    if q.preview != "yes" {
        return Ok(None);
    }
    let asked = Range::parse(&s.runtime.site, Some(&q.since), Some(&q.until));
    let range = match asked {
        Ok(range) => range,
        Err(e @ ServiceError::InvalidQuery { .. }) => return Ok(Some(Err(e))),
        Err(e) => return Err(e.into()),
    };
    let after = match paging::cursor("cursor", Some(&q.cursor)) {
        Ok(after) => after,
        Err(e) => return Ok(Some(Err(e))),
    };
    let preview = catch_up::preview(state, &s.site, range, after, PAGE).await?;
    Ok(Some(Ok(preview)))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath, PageQuery),
    responses(
        (status = 200, description = "The latest catch-up's progress, the range form and (with preview=yes) what a catch-up would create", body = String, content_type = "text/html"),
        (status = 400, description = "A bad range: the page with the problem", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/catch-up")]
async fn catch_up_page(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let preview = preview_of(&state, &s, &query).await?;
    page(&state, &s, &query, preview, None, StatusCode::OK).await
}

/// Starts creating the follow-ups of the form's range; a bad range or a run going on keeps
/// the form with the problem.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/catch-up")]
async fn start_catch_up(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let q = PageQuery {
        since: form.field("since").unwrap_or("").trim().to_string(),
        until: form.field("until").unwrap_or("").trim().to_string(),
        ..PageQuery::default()
    };
    let started = match Range::parse(&s.runtime.site, Some(&q.since), Some(&q.until)) {
        Ok(range) => {
            let actor = Actor::User(&form.session.user.name);
            catch_up::start(state.chorus.clone(), actor, &s.site, range).await
        }
        Err(e) => Err(e),
    };
    match started {
        Ok(_) => Ok(see_other(&format!("/admin/sites/{}/catch-up", s.site))),
        Err(e @ (ServiceError::InvalidQuery { .. } | ServiceError::CatchUpRunning(_))) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&state, &s, &q, None, Some(problem_of(&e)), status).await
        }
        Err(e) => Err(e.into()),
    }
}
