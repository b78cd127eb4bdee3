//! `/admin/sites/{site}/retag` (site admins): start a re-tag of the site's stored responses
//! (all, or a range) and follow its progress. The progress is read from the store, so a plain
//! reload on any node shows the same; `admin.progress.js` only refreshes it by itself.

use super::dashboard::base_context_for;
use super::extract::CsrfForm;
use super::{html_with, render, SiteSession};
use crate::app::AppState;
use crate::domain::time::rfc3339_of_ms;
use crate::domain::{CatchUpProgress, RetagProgress, RetagStatus};
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::see_other;
use crate::services::audit::Actor;
use crate::services::retag::{self, Range};
use crate::services::ServiceError;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(retag_page).service(start_retag);
}

/// A job's progress as the pages show it.
#[derive(Serialize)]
pub(super) struct JobView {
    running: bool,
    /// Running, Finished or Failed.
    status: &'static str,
    done: u64,
    total: u64,
    percent: u64,
    started_at: String,
    started_by: String,
    finished_at: Option<String>,
    /// The range in words ("all responses before …").
    range: String,
    with_errors: u64,
    message: Option<String>,
}

fn range_words(since_ms: Option<u64>, until_ms: u64) -> String {
    let until = rfc3339_of_ms(until_ms as i64);
    match since_ms {
        Some(s) => format!(
            "responses from {} to before {until}",
            rfc3339_of_ms(s as i64)
        ),
        None => format!("all responses before {until}"),
    }
}

struct JobFacts<'a> {
    status: RetagStatus,
    done: u64,
    total: u64,
    started_at: &'a str,
    started_by: Option<&'a str>,
    finished_at: Option<&'a str>,
    since_ms: Option<u64>,
    until_ms: u64,
    with_errors: u64,
    message: Option<&'a str>,
}

fn job_view(f: JobFacts<'_>) -> JobView {
    JobView {
        running: f.status == RetagStatus::Running,
        status: match f.status {
            RetagStatus::Running => "Running",
            RetagStatus::Done => "Finished",
            RetagStatus::Failed => "Failed",
        },
        done: f.done,
        total: f.total,
        percent: (f.done * 100).checked_div(f.total).unwrap_or(100).min(100),
        started_at: f.started_at.to_string(),
        started_by: f.started_by.unwrap_or("someone (not recorded)").to_string(),
        finished_at: f.finished_at.map(str::to_string),
        range: range_words(f.since_ms, f.until_ms),
        with_errors: f.with_errors,
        message: f.message.map(str::to_string),
    }
}

pub(super) fn retag_view(p: &RetagProgress) -> JobView {
    job_view(JobFacts {
        status: p.status,
        done: p.done,
        total: p.total,
        started_at: &p.started_at,
        started_by: p.started_by.as_deref(),
        finished_at: p.finished_at.as_deref(),
        since_ms: p.since_ms,
        until_ms: p.until_ms,
        with_errors: p.with_errors,
        message: p.message.as_deref(),
    })
}

pub(super) fn catch_up_view(p: &CatchUpProgress) -> JobView {
    job_view(JobFacts {
        status: p.status,
        done: p.done,
        total: p.total,
        started_at: &p.started_at,
        started_by: Some(&p.started_by),
        finished_at: p.finished_at.as_deref(),
        since_ms: p.since_ms,
        until_ms: p.until_ms,
        with_errors: p.with_errors,
        message: p.message.as_deref(),
    })
}

/// The context both job pages start from: the site, the range fields as typed, the problem.
pub(super) fn job_context(
    state: &AppState,
    s: &SiteSession<Admin>,
    since: &str,
    until: &str,
    problem: Option<String>,
) -> tera::Context {
    let mut ctx = base_context_for(s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &s.runtime.site.config.name);
    ctx.insert("since", since);
    ctx.insert("until", until);
    ctx.insert("problem", &problem);
    ctx.insert("progress_js", &state.assets.url("admin.progress.js"));
    ctx
}

/// A refusal in the words of the form (the API's words name query parameters).
pub(super) fn problem_of(e: &ServiceError) -> String {
    match e {
        ServiceError::InvalidQuery { field, message } => {
            let name = match field.as_str() {
                "since" => "From",
                "until" => "Before",
                other => other,
            };
            format!("{name}: {}", message.replace("since", "From"))
        }
        ServiceError::RetagRunning(_) => {
            "A re-tag of this site is already running: its progress is below. Start another once it has finished.".into()
        }
        ServiceError::CatchUpRunning(_) => {
            "A catch-up of this site is already running: its progress is below. Start another once it has finished.".into()
        }
        other => other.to_string(),
    }
}

async fn page(
    state: &AppState,
    s: &SiteSession<Admin>,
    since: &str,
    until: &str,
    problem: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = job_context(state, s, since, until, problem);
    let progress = state.store.retag_progress(&s.site).await?;
    ctx.insert("job", &progress.as_ref().map(retag_view));
    let results: Vec<(&str, u64)> = progress
        .iter()
        .map(|p| ("Responses whose tags changed", p.changed))
        .collect();
    ctx.insert("job_results", &results);
    Ok(html_with(status, render(state, "admin/retag.html", &ctx)?))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The latest re-tag's progress and the form to start one", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/retag")]
async fn retag_page(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
) -> Result<HttpResponse, ApiError> {
    page(&state, &s, "", "", None, StatusCode::OK).await
}

/// Starts a re-tag of the range of the form (empty fields: every response) and shows its
/// progress; a bad range or a run going on keeps the form with the problem.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/retag")]
async fn start_retag(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let since = form.field("since").unwrap_or("").trim().to_string();
    let until = form.field("until").unwrap_or("").trim().to_string();
    let started = match Range::parse(&s.runtime.site, Some(&since), Some(&until)) {
        Ok(range) => {
            let actor = Actor::User(&form.session.user.name);
            retag::start(state.chorus.clone(), actor, &s.site, range).await
        }
        Err(e) => Err(e),
    };
    match started {
        Ok(_) => Ok(see_other(&format!("/admin/sites/{}/retag", s.site))),
        Err(e @ (ServiceError::InvalidQuery { .. } | ServiceError::RetagRunning(_))) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&state, &s, &since, &until, Some(problem_of(&e)), status).await
        }
        Err(e) => Err(e.into()),
    }
}
