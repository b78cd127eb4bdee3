//! Admin endpoints of the rule layer: rule errors, reload, dry-run and re-tagging.

use super::auth::{Admin, SiteAccess, SiteUser};
use super::body::JsonBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::time::rfc3339_of_id;
use crate::domain::{Action, Answers, ErrorSource, RetagProgress, RuleError, Tag};
use crate::services::audit::Actor;
use crate::services::evaluate::{duplicate_actions, evaluate, Hooks};
use crate::services::sites::{reload_site, AppliedAnyway};
use crate::services::{paging, retag, ServiceError};
use crate::survey::RawAnswer;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_rule_errors)
        .service(reload)
        .service(dry_run)
        .service(start_retag)
        .service(retag_progress);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RuleErrorQuery {
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One rule error with the response it happened on.
#[derive(Serialize, utoipa::ToSchema)]
struct RuleErrorItem {
    response_id: Uuid,
    survey: String,
    group: String,
    submitted_at: String,
    #[serde(flatten)]
    error: RuleError,
}

#[derive(Serialize, utoipa::ToSchema)]
struct RuleErrorList {
    rule_errors: Vec<RuleErrorItem>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Recent rule errors, newest first; `limit` counts responses (each may carry several errors).
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath, RuleErrorQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of rule errors, newest first, and next_cursor", body = RuleErrorList),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/rule-errors")]
async fn list_rule_errors(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    query: web::Query<RuleErrorQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(query.limit)?;
    let before = paging::cursor("cursor", query.cursor.as_deref())?;
    let page = state
        .store
        .list_rule_errors(user.id(), before, limit)
        .await?;
    let rule_errors = page
        .items
        .into_iter()
        .flat_map(|entry| {
            let (survey, group) = match entry.source {
                ErrorSource::Response { survey, group } => (survey, group),
                ErrorSource::Review => (String::new(), String::new()),
            };
            let (id, at) = (entry.id, entry.at);
            entry.errors.into_iter().map(move |error| RuleErrorItem {
                response_id: id,
                survey: survey.clone(),
                group: group.clone(),
                submitted_at: at.clone(),
                error,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(RuleErrorList {
        rule_errors,
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Reloaded<'a> {
    site: &'a str,
    reloaded: bool,
    /// Plugins and rule files, in the order their hooks run.
    sources: Vec<&'a str>,
    /// Who loaded this version although rule tests failed, when, and which tests.
    #[schema(required = true)]
    applied_anyway: Option<&'a AppliedAnyway>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReloadQuery {
    /// `true`: load the new version even if rule tests fail (recorded with it).
    #[serde(default)]
    apply_anyway: bool,
}

/// Re-reads the site from disk and runs its rule tests; a broken file or a failing test keeps
/// the running version (422 with every problem as `file:line:col: message`) unless
/// `apply_anyway=true` lets failing tests through. A site that did not load at start (broken)
/// comes in once its files are fixed.
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath, ReloadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "Reloaded: site, reloaded, sources, applied_anyway", body = Reloaded),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        (status = 422, description = "site_invalid (errors lists every file:line:col: message) or rule_tests_failed (errors lists every failing test)", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/reload")]
async fn reload(
    state: web::Data<AppState>,
    user: SiteAccess<Admin>,
    query: web::Query<ReloadQuery>,
) -> Result<HttpResponse, ApiError> {
    let anyway = query.apply_anyway.then_some(user.user.name.as_str());
    let rt = reload_site(&state, Actor::User(&user.user.name), &user.site, anyway).await?;
    Ok(HttpResponse::Ok().json(Reloaded {
        site: rt.site.id(),
        reloaded: true,
        sources: rt.rules.sources(),
        applied_anyway: rt.applied_anyway.as_ref(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DryRunRequest {
    survey: String,
    #[serde(default)]
    answers: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DryRunResult {
    survey: String,
    /// The answers as the hooks saw them: validated, hidden questions dropped.
    answers: Answers,
    tags: Vec<Tag>,
    actions: Vec<SourcedAction>,
    errors: Vec<RuleError>,
    /// One per queue (task) or webhook target that two or more plugins or rules create an
    /// action for: the respondent would be called (or the target told) twice.
    warnings: Vec<String>,
}

/// An action with the plugin or rule file that returned it.
#[derive(Serialize, utoipa::ToSchema)]
struct SourcedAction {
    source: String,
    #[serde(flatten)]
    action: Action,
}

/// The latest re-tag's progress, or `{"status": "never"}` before the first.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
enum RetagAnswer {
    Progress(RetagProgress),
    Never { status: NeverRun },
}

/// The `status` of a background job (re-tag, catch-up) that never ran on the site.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum NeverRun {
    Never,
}

/// Runs the site's hooks on posted answers; stores nothing and triggers nothing.
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath),
    request_body = DryRunRequest,
    security(("token" = [])),
    responses(
        (status = 200, description = "What the hooks return; nothing stored or sent", body = DryRunResult),
        crate::http::openapi::BodyErrors,
        (status = 422, description = "invalid_answer", body = crate::http::error::ErrorBody),
        (status = 404, description = "survey_not_found", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/rules/dry-run")]
async fn dry_run(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    body: JsonBody<DryRunRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let rt = user.site;
    let survey = rt
        .site
        .survey(&request.survey)
        .cloned()
        .ok_or_else(|| ServiceError::SurveyNotFound(request.survey.clone()))?;
    let raw: BTreeMap<String, RawAnswer> = request
        .answers
        .into_iter()
        .map(|(k, v)| (k, RawAnswer::Json(v)))
        .collect();
    let id = Uuid::now_v7();
    let site_id = rt.site.id().to_string();
    let evaluation = state
        .run_for_site(&site_id, move || {
            evaluate(
                &rt.site,
                &rt.rules,
                &survey,
                &raw,
                id,
                &rfc3339_of_id(id),
                Hooks::All,
            )
        })
        .await?
        .map_err(ServiceError::InvalidAnswers)?;
    Ok(HttpResponse::Ok().json(DryRunResult {
        warnings: duplicate_actions(&evaluation.outcome.actions),
        survey: request.survey,
        answers: evaluation.answers,
        tags: evaluation.outcome.tags,
        actions: evaluation
            .outcome
            .actions
            .into_iter()
            .map(|(source, action)| SourcedAction { source, action })
            .collect(),
        errors: evaluation.outcome.errors,
    }))
}

/// Starts re-tagging the site's stored responses (those of the range, when given) with the
/// current tag hooks (202).
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath, super::catch_up::RangeQuery),
    security(("token" = [])),
    responses(
        (status = 202, description = "The re-tag's progress", body = RetagProgress),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        (status = 409, description = "conflict: a re-tag is running", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/retag")]
async fn start_retag(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    query: web::Query<super::catch_up::RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = query.range(&user.site.site)?;
    let progress = retag::start(
        state.chorus.clone(),
        Actor::User(&user.user.name),
        user.id(),
        range,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(progress))
}

/// Progress of the latest re-tag of the site (`{"status": "never"}` before the first).
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath),
    security(("token" = [])),
    responses(
        (status = 200, description = "The latest re-tag's progress ({status: never} before the first)", body = RetagAnswer),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/retag")]
async fn retag_progress(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
) -> Result<HttpResponse, ApiError> {
    Ok(match state.store.retag_progress(user.id()).await? {
        Some(p) => HttpResponse::Ok().json(RetagAnswer::Progress(p)),
        None => HttpResponse::Ok().json(RetagAnswer::Never {
            status: NeverRun::Never,
        }),
    })
}
