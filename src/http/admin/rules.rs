//! `/admin/sites/{site}/rules` (site admins): the enabled plugins and the site's rules with
//! their source and their latest errors, the latest review run, a "try it" form generated from
//! a chosen survey (a dry run: nothing is stored, nothing is sent) and "Reload from disk".

use super::dashboard::{base_context_for, broken_page};
use super::extract::{CsrfForm, SitePage};
use super::{html_with, render, SiteSession};
use crate::app::AppState;
use crate::domain::time::rfc3339_of_id;
use crate::domain::{Action, RuleError, RuleErrorEntry};
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::see_other;
use crate::services::audit::Actor;
use crate::services::evaluate::{duplicate_actions, evaluate, Evaluation, Hooks};
use crate::services::review::last_run;
use crate::services::sites::{reload_site, SiteRuntime};
use crate::services::ServiceError;
use crate::survey::{FieldError, QuestionKind, RawAnswer, Survey};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// How many of the newest rule-error entries the page reads, and shows per source.
const ERROR_ENTRIES: usize = 200;
const ERRORS_PER_SOURCE: usize = 10;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(rules_page).service(try_it).service(reload);
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    survey: String,
}

#[derive(Serialize)]
struct ErrorRow {
    /// Empty for a review run's error (it has no response).
    response_id: String,
    at: String,
    hook: String,
    line: Option<usize>,
    col: Option<usize>,
    message: String,
    /// When a re-tag replaced it (history, not a current failure).
    superseded_at: Option<String>,
}

#[derive(Serialize)]
struct ScriptView {
    source: String,
    kind: &'static str,
    file: String,
    hooks: Vec<&'static str>,
    text: String,
    errors: Vec<ErrorRow>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Serialize)]
struct FieldView {
    id: String,
    text: String,
    /// radios, checkboxes, number or text.
    input: &'static str,
    kind: QuestionKind,
    required: bool,
    choices: Vec<Choice>,
    min: Option<i64>,
    max: Option<i64>,
    value: String,
    shown_if: Option<String>,
    problem: Option<String>,
}

#[derive(Serialize)]
struct TryResult {
    tags: Vec<(String, String, String)>,
    actions: Vec<ActionView>,
    errors: Vec<RuleError>,
    /// Two rules opening the same kind of action for the same queue or target.
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct ActionView {
    kind: &'static str,
    summary: String,
    details: String,
    source: String,
}

/// What the page shows below the header after a POST.
#[derive(Default)]
struct Outcome {
    tried: Option<TryResult>,
    problems: Vec<FieldError>,
    reload: Option<Result<(), ReloadRefused>>,
}

/// Why "Reload from disk" kept the running version.
enum ReloadRefused {
    Invalid(Vec<String>),
    TestsFail(Vec<String>),
}

fn error_row(entry: &RuleErrorEntry, e: &RuleError) -> ErrorRow {
    ErrorRow {
        response_id: entry
            .response_id()
            .map(|id| id.to_string())
            .unwrap_or_default(),
        at: entry.at.clone(),
        hook: e.hook.clone(),
        line: e.line,
        col: e.col,
        message: e.message.clone(),
        superseded_at: e.superseded_at.clone(),
    }
}

fn field_views(
    survey: &Survey,
    values: &BTreeMap<String, Vec<String>>,
    problems: &[FieldError],
) -> Vec<FieldView> {
    survey
        .questions
        .iter()
        .map(|q| {
            let given = values.get(&q.id).cloned().unwrap_or_default();
            let options: Vec<(String, String)> = match q.kind {
                QuestionKind::YesNo => {
                    vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())]
                }
                _ => q
                    .options
                    .iter()
                    .map(|o| (o.value.clone(), o.label.clone()))
                    .collect(),
            };
            let (min, max) = match q.kind {
                QuestionKind::Scale => {
                    let (lo, hi) = q.scale_bounds();
                    (Some(lo), Some(hi))
                }
                _ => (q.min, q.max),
            };
            FieldView {
                id: q.id.clone(),
                text: q.text.clone(),
                input: match q.kind {
                    QuestionKind::YesNo | QuestionKind::SingleChoice => "radios",
                    QuestionKind::MultiChoice => "checkboxes",
                    QuestionKind::Scale | QuestionKind::Number => "number",
                    QuestionKind::Text => "text",
                },
                kind: q.kind,
                required: q.required,
                choices: options
                    .into_iter()
                    .map(|(value, label)| Choice {
                        checked: given.contains(&value),
                        value,
                        label,
                    })
                    .collect(),
                min,
                max,
                value: given.first().cloned().unwrap_or_default(),
                shown_if: q.show_if.as_ref().map(|s| {
                    let cond = if let Some(v) = &s.equals {
                        format!("is {v}")
                    } else if let Some(v) = &s.not_equals {
                        format!("is not {v}")
                    } else if let Some(list) = &s.any_of {
                        let items: Vec<String> = list.iter().map(|l| l.to_string()).collect();
                        format!("is one of {}", items.join(", "))
                    } else {
                        "is answered".into()
                    };
                    format!("asked only when {} {cond}", s.question)
                }),
                problem: problems
                    .iter()
                    .find(|p| p.field == q.id)
                    .map(|p| p.message.clone()),
            }
        })
        .collect()
}

fn action_view(source: String, action: &Action) -> ActionView {
    let (kind, summary, details) = super::describe_action(action);
    ActionView {
        kind,
        summary,
        details,
        source,
    }
}

/// The newest rule errors, grouped by the plugin or rule that failed, newest first.
fn errors_by_source(entries: &[RuleErrorEntry]) -> BTreeMap<String, Vec<ErrorRow>> {
    let mut by_source: BTreeMap<String, Vec<ErrorRow>> = BTreeMap::new();
    for entry in entries {
        for e in &entry.errors {
            let list = by_source.entry(e.source.clone()).or_default();
            if list.len() < ERRORS_PER_SOURCE {
                list.push(error_row(entry, e));
            }
        }
    }
    by_source
}

/// Each enabled plugin and rule with its text and its latest errors (taken from `by_source`).
fn script_views(
    rt: &SiteRuntime,
    by_source: &mut BTreeMap<String, Vec<ErrorRow>>,
) -> Vec<ScriptView> {
    let sites_dir = rt.site.dir.parent().map(|p| p.to_path_buf());
    rt.rules
        .scripts()
        .into_iter()
        .map(|info| ScriptView {
            kind: if info.is_plugin {
                "plugin"
            } else {
                "site rule"
            },
            file: sites_dir
                .as_ref()
                .and_then(|d| info.path.strip_prefix(d).ok())
                .unwrap_or(&info.path)
                .display()
                .to_string(),
            errors: by_source.remove(&info.source).unwrap_or_default(),
            hooks: info.hooks,
            text: info.text,
            source: info.source,
        })
        .collect()
}

/// Renders the page; `values` are the answers of a "try it" form to show again.
async fn page(
    state: &web::Data<AppState>,
    s: &SiteSession<Admin>,
    survey_id: &str,
    values: BTreeMap<String, Vec<String>>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    // Looked up again: after a reload the page shows the new version.
    let rt = state.site(&s.site)?;
    let survey = match survey_id {
        "" => None,
        id => Some(
            rt.site
                .survey(id)
                .ok_or_else(|| ServiceError::SurveyNotFound(id.to_string()))?,
        ),
    };
    let entries = state
        .store
        .list_rule_errors(&s.site, None, ERROR_ENTRIES)
        .await?
        .items;
    let mut by_source = errors_by_source(&entries);
    let scripts = script_views(&rt, &mut by_source);
    // Errors of plugins or rules that are no longer loaded.
    let former: Vec<(String, Vec<ErrorRow>)> = by_source.into_iter().collect();
    let mut ctx = base_context_for(s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &rt.site.config.name);
    ctx.insert("scripts", &scripts);
    ctx.insert("former", &former);
    ctx.insert("has_review", &rt.rules.has_review());
    ctx.insert(
        "review_minutes",
        &state.reviews.interval().as_secs().div_ceil(60),
    );
    ctx.insert("review", &last_run(state, &s.site).await?);
    ctx.insert(
        "surveys",
        &rt.site
            .surveys
            .iter()
            .map(|sv| Choice {
                checked: sv.id == survey_id,
                value: sv.id.clone(),
                label: sv.title.clone(),
            })
            .collect::<Vec<_>>(),
    );
    if let Some(sv) = survey {
        ctx.insert("survey_id", &sv.id);
        ctx.insert("survey_title", &sv.title);
        ctx.insert("fields", &field_views(sv, &values, &outcome.problems));
    }
    ctx.insert("problems", &outcome.problems);
    ctx.insert("tried", &outcome.tried);
    match &outcome.reload {
        None => {}
        Some(Ok(())) => ctx.insert("reloaded", &true),
        Some(Err(ReloadRefused::Invalid(lines))) => ctx.insert("reload_errors", lines),
        Some(Err(ReloadRefused::TestsFail(lines))) => ctx.insert("failing_tests", lines),
    }
    ctx.insert("applied_anyway", &rt.applied_anyway);
    let in_store = rt.site.config.rules_source == crate::survey::RulesSource::Store;
    ctx.insert("rules_in_store", &in_store);
    let name = |p: &std::path::PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let tests: Vec<String> = rt.site.rule_test_files.iter().filter_map(name).collect();
    ctx.insert("test_files", &tests);
    // Files a version in the store deleted, to restore from their versions.
    let current = state.store.current_rule_versions(&s.site).await?;
    let deleted = current.iter().filter(|v| v.deleted).map(|v| &v.file);
    let link = |f: &String| match f.strip_prefix("tests/") {
        Some(test) => (f.clone(), format!("tests/{test}")),
        None => (f.clone(), format!("files/{f}")),
    };
    ctx.insert("deleted_files", &deleted.map(link).collect::<Vec<_>>());
    Ok(html_with(status, render(state, "admin/rules.html", &ctx)?))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The site's rules, errors and try-it form", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules")]
async fn rules_page(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let survey = query.survey.trim().to_string();
    page(
        &state,
        &s,
        &survey,
        BTreeMap::new(),
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}

/// What "try it" shows: the tags with their labels, the actions, the rule errors.
fn tried(rt: &SiteRuntime, evaluation: Evaluation) -> TryResult {
    let result = evaluation.outcome;
    let tags = result
        .tags
        .iter()
        .map(|t| {
            let label = rt
                .site
                .barrier(&t.code)
                .map(|b| b.label.clone())
                .unwrap_or_default();
            (t.code.clone(), label, t.source.clone())
        })
        .collect();
    TryResult {
        tags,
        warnings: duplicate_actions(&result.actions),
        actions: result
            .actions
            .into_iter()
            .map(|(source, a)| action_view(source, &a))
            .collect(),
        errors: result.errors,
    }
}

/// Runs the site's hooks on the answers of the form; stores nothing and triggers nothing.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/rules/try")]
async fn try_it(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let rt = s.runtime.clone();
    let survey_id = form.field("survey").unwrap_or("").to_string();
    let survey = rt
        .site
        .survey(&survey_id)
        .ok_or_else(|| ServiceError::SurveyNotFound(survey_id.clone()))?
        .clone();
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &form.fields {
        if survey.question(name).is_some() {
            values.entry(name.clone()).or_default().push(value.clone());
        }
    }
    let raw = values
        .iter()
        .map(|(k, v)| (k.clone(), RawAnswer::Form(v.clone())))
        .collect();
    let runtime = rt.clone();
    let id = Uuid::now_v7();
    let checked = state
        .run_for_site(&s.site, move || {
            let at = rfc3339_of_id(id);
            evaluate(
                &runtime.site,
                &runtime.rules,
                &survey,
                &raw,
                id,
                &at,
                Hooks::All,
            )
        })
        .await?;
    let (outcome, status) = match checked {
        Ok(evaluation) => (
            Outcome {
                tried: Some(tried(&rt, evaluation)),
                ..Outcome::default()
            },
            StatusCode::OK,
        ),
        Err(problems) => (
            Outcome {
                problems,
                ..Outcome::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    page(&state, &s, &survey_id, values, outcome, status).await
}

/// Re-reads the site from disk and runs its rule tests; a broken file or a failing test keeps
/// the running version and the page lists every problem as `file:line:col: message`, unless
/// "apply anyway" was ticked (then failing tests do not stop it, and the page says so).
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/rules/reload")]
async fn reload(
    state: web::Data<AppState>,
    site: SitePage<Admin>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let by = form.session.user.name.clone();
    let anyway = (form.field("apply_anyway") == Some("yes")).then_some(by.as_str());
    let s = match site {
        SitePage::Running(s) => s,
        SitePage::Broken(mut b) => {
            // A site that did not start: in once its files are valid, else its new problems.
            let actor = Actor::User(&b.session.user.name);
            return match reload_site(&state, actor, &b.site, anyway).await {
                Ok(_) => Ok(see_other(&format!("/admin/sites/{}", b.site))),
                Err(ServiceError::SiteInvalid(lines) | ServiceError::RuleTestsFailed(lines)) => {
                    b.problems = lines;
                    broken_page(&state, &b, StatusCode::UNPROCESSABLE_ENTITY)
                }
                Err(e) => Err(e.into()),
            };
        }
    };
    let result = match reload_site(&state, Actor::User(&s.user.name), &s.site, anyway).await {
        Ok(_) => Ok(()),
        Err(ServiceError::SiteInvalid(lines)) => Err(ReloadRefused::Invalid(lines)),
        Err(ServiceError::RuleTestsFailed(lines)) => Err(ReloadRefused::TestsFail(lines)),
        Err(e) => return Err(e.into()),
    };
    let status = match result {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let outcome = Outcome {
        reload: Some(result),
        ..Outcome::default()
    };
    page(&state, &s, "", BTreeMap::new(), outcome, status).await
}
