//! Admin endpoints of the rule layer: rule errors, reload, dry-run and re-tagging.

use super::body::JsonBody;
use super::common::{blocking, cursor, page_limit, site};
use crate::app::AppState;
use crate::auth::{Admin, SiteUser};
use crate::domain::time::rfc3339_of_id;
use crate::domain::{Action, ErrorSource, RuleError, Tag};
use crate::errors::ApiError;
use crate::plugins::RuleInput;
use crate::survey::{validate, Answers, RawAnswer};
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_rule_errors)
        .service(reload)
        .service(dry_run)
        .service(start_retag)
        .service(retag_progress);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleErrorQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

/// One rule error with the response it happened on.
#[derive(Serialize)]
struct RuleErrorItem {
    response_id: Uuid,
    survey: String,
    group: String,
    submitted_at: String,
    #[serde(flatten)]
    error: RuleError,
}

#[derive(Serialize)]
struct RuleErrorList {
    rule_errors: Vec<RuleErrorItem>,
    next_cursor: Option<String>,
}

const DEFAULT_ERROR_PAGE: usize = 50;
const MAX_ERROR_PAGE: usize = 500;

/// Recent rule errors, newest first; `limit` counts responses (each may carry several errors).
#[get("/sites/{site}/rule-errors")]
async fn list_rule_errors(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    query: web::Query<RuleErrorQuery>,
) -> Result<HttpResponse, ApiError> {
    site(&state, &user.site)?;
    let q = query.into_inner();
    let limit = page_limit(q.limit, DEFAULT_ERROR_PAGE, MAX_ERROR_PAGE)?;
    let before = cursor(q.cursor.as_deref())?;
    let store = state.store.clone();
    let site_id = user.site.clone();
    let entries = blocking(move || Ok(store.list_rule_errors(&site_id, before, limit)?)).await?;
    let next_cursor = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.id.to_string()))
        .flatten();
    let rule_errors = entries
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
        next_cursor,
    }))
}

#[derive(Serialize)]
struct Reloaded<'a> {
    site: &'a str,
    reloaded: bool,
    /// Plugins and rule files, in the order their hooks run.
    sources: Vec<&'a str>,
}

/// Re-reads the site from disk; a broken file keeps the running version (422 with every
/// problem as `file:line:col: message`).
#[post("/sites/{site}/reload")]
async fn reload(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
) -> Result<HttpResponse, ApiError> {
    site(&state, &user.site)?;
    let registry = state.clone();
    let id = user.site.clone();
    blocking(move || {
        registry.sites.reload(&id).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            for line in &lines {
                tracing::warn!(problem = %line, "reload refused, keeping the running version");
            }
            ApiError::SiteInvalid(lines)
        })
    })
    .await?;
    let rt = site(&state, &user.site)?;
    Ok(HttpResponse::Ok().json(Reloaded {
        site: rt.site.id(),
        reloaded: true,
        sources: rt.rules.sources(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunRequest {
    survey: String,
    #[serde(default)]
    answers: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize)]
struct DryRunResult {
    survey: String,
    /// The answers as the hooks saw them: validated, hidden questions dropped.
    answers: Answers,
    tags: Vec<Tag>,
    actions: Vec<serde_json::Value>,
    errors: Vec<RuleError>,
}

fn action_json(source: String, action: &Action) -> serde_json::Value {
    let mut v = serde_json::to_value(action).unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut v {
        map.insert("source".into(), serde_json::Value::String(source));
    }
    v
}

/// Runs the site's hooks on posted answers; stores nothing and triggers nothing.
#[post("/sites/{site}/rules/dry-run")]
async fn dry_run(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    body: JsonBody<DryRunRequest>,
) -> Result<HttpResponse, ApiError> {
    let rt = site(&state, &user.site)?;
    let request = body.0;
    let result = blocking(move || {
        let survey = rt
            .site
            .survey(&request.survey)
            .ok_or_else(|| ApiError::SurveyNotFound(request.survey.clone()))?;
        let raw = request
            .answers
            .into_iter()
            .map(|(k, v)| (k, RawAnswer::Json(v)))
            .collect();
        let answers = validate(survey, &raw).map_err(ApiError::InvalidAnswers)?;
        let id = Uuid::now_v7();
        let outcome = rt.rules.evaluate(&RuleInput {
            id,
            site: &rt.site,
            survey,
            submitted_at: &rfc3339_of_id(id),
            answers: &answers,
        });
        Ok(DryRunResult {
            survey: survey.id.clone(),
            answers,
            tags: outcome.tags,
            actions: outcome
                .actions
                .into_iter()
                .map(|(source, action)| action_json(source, &action))
                .collect(),
            errors: outcome.errors,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Starts re-tagging the site's stored responses with the current tag hooks (202).
#[post("/sites/{site}/retag")]
async fn start_retag(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
) -> Result<HttpResponse, ApiError> {
    site(&state, &user.site)?;
    let app = state.into_inner();
    let id = user.site.clone();
    let progress = blocking(move || crate::retag::start(app, &id)).await?;
    Ok(HttpResponse::Accepted().json(progress))
}

/// Progress of the latest re-tag of the site (`{"status": "never"}` before the first).
#[get("/sites/{site}/retag")]
async fn retag_progress(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
) -> Result<HttpResponse, ApiError> {
    site(&state, &user.site)?;
    let store = state.store.clone();
    let id = user.site.clone();
    let progress = blocking(move || Ok(store.retag_progress(&id)?)).await?;
    Ok(match progress {
        Some(p) => HttpResponse::Ok().json(p),
        None => HttpResponse::Ok().json(serde_json::json!({ "status": "never" })),
    })
}
