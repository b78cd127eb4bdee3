//! `/admin/sites/{site}/responses`: filter, page, open one, download the filtered set as CSV.

use super::dashboard::base_context_for;
use super::{html, render, SiteSession};
use crate::app::AppState;
use crate::domain::{Action, AnswerValue, StoredResponse};
use crate::http::auth::Viewer;
use crate::http::common::instant_param;
use crate::http::error::ApiError;
use crate::services::audit::Actor;
use crate::services::{export, responses};
use crate::services::{paging, ServiceError};
use crate::store::{ResponseQuery, Store};
use crate::survey::{QuestionKind, Site, Survey};
use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_page).service(csv_download).service(detail);
}

/// The filter form's fields; empty fields mean "any".
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Filters {
    #[serde(default)]
    survey: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    cursor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<usize>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl Filters {
    fn to_query(&self, site: &Site) -> Result<ResponseQuery, ServiceError> {
        let bad = ServiceError::invalid_query;
        if let Some(s) = opt(&self.survey) {
            site.survey(&s).ok_or(ServiceError::SurveyNotFound(s))?;
        }
        if let Some(g) = opt(&self.group) {
            if !site.config.groups.contains(&g) {
                return Err(bad("group", format!("the site has no group \"{g}\"")));
            }
        }
        if let Some(t) = opt(&self.tag) {
            if site.barrier(&t).is_none() {
                return Err(bad("tag", format!("\"{t}\" is not in the codebook")));
            }
        }
        Ok(ResponseQuery {
            site: site.id().to_string(),
            survey: opt(&self.survey),
            group: opt(&self.group),
            tag: opt(&self.tag),
            since_ms: instant_param("since", opt(&self.since).as_deref())?,
            until_ms: instant_param("until", opt(&self.until).as_deref())?,
            after: paging::cursor("cursor", Some(&self.cursor))?,
            limit: paging::limit(self.limit)?,
        })
    }

    /// The query string of these filters (without the cursor).
    fn query_string(&self) -> String {
        let mut f = self.clone();
        f.cursor.clear();
        serde_urlencoded::to_string(&f).unwrap_or_default()
    }
}

/// What the pages show for the channel of a response stored before channels were recorded.
const NOT_RECORDED: &str = "not recorded";

#[derive(Serialize)]
struct Row {
    id: String,
    submitted_at: String,
    survey: String,
    group: String,
    /// The channel's name, or "not recorded" for a response stored before channels were.
    channel: &'static str,
    tags: Vec<String>,
    rule_errors: usize,
    follow_ups: usize,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

fn choices(site: &Site) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let surveys = site
        .surveys
        .iter()
        .map(|s| Choice {
            value: s.id.clone(),
            label: s.title.clone(),
        })
        .collect();
    let groups = site
        .config
        .groups
        .iter()
        .map(|g| Choice {
            value: g.clone(),
            label: crate::report::insight::group_title(g),
        })
        .collect();
    let tags = site
        .codebook
        .iter()
        .map(|b| Choice {
            value: b.code.clone(),
            label: b.label.clone(),
        })
        .collect();
    (surveys, groups, tags)
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "Responses, paged", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/responses")]
async fn list_page(
    state: web::Data<AppState>,
    s: SiteSession<Viewer>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let runtime = s.runtime.clone();
    let query = filters.to_query(&runtime.site)?;
    let page = responses::list(&state, Actor::User(&s.user.name), &query).await?;
    let rows: Vec<Row> = page
        .items
        .iter()
        .map(|r| Row {
            id: r.id.to_string(),
            submitted_at: r.submitted_at.clone(),
            survey: r.survey.clone(),
            group: r.group.clone(),
            channel: r.channel.map_or(NOT_RECORDED, |c| c.as_str()),
            tags: r.tag_codes(),
            rule_errors: r
                .rule_errors
                .iter()
                .filter(|e| e.superseded_at.is_none())
                .count(),
            follow_ups: r.follow_ups.len(),
        })
        .collect();
    let (surveys, groups, tags) = choices(&runtime.site);
    let mut ctx = base_context_for(&s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &runtime.site.config.name);
    ctx.insert("rows", &rows);
    ctx.insert("f", &filters.0);
    ctx.insert("filter_query", &filters.query_string());
    ctx.insert("next", &page.next.map(|id| id.to_string()));
    ctx.insert("first_page", &filters.cursor.is_empty());
    ctx.insert("surveys", &surveys);
    ctx.insert("groups", &groups);
    ctx.insert("tags", &tags);
    Ok(html(render(&state, "admin/responses.html", &ctx)?))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The responses as CSV", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/responses.csv")]
async fn csv_download(
    state: web::Data<AppState>,
    s: SiteSession<Viewer>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let mut f = filters.into_inner();
    f.cursor.clear();
    f.limit = None;
    let query = f.to_query(&s.runtime.site)?;
    let mut body = Vec::new();
    export::write_csv(
        state.store.as_ref(),
        Actor::User(&s.user.name),
        &s.runtime.site.surveys,
        query,
        &mut body,
    )
    .await
    .map_err(|e| match e {
        export::ExportError::Store(e) => ApiError::from(e),
        export::ExportError::Write(m) => ApiError::Render(m),
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}-responses.csv\"", s.site),
        ))
        .body(body))
}

#[derive(Serialize)]
struct AnswerView {
    question: String,
    id: String,
    answer: String,
}

/// An answer as a person reads it: choice labels, yes/no, numbers, the text as written.
fn show_answer(survey: Option<&Survey>, id: &str, value: &AnswerValue) -> (String, String) {
    let question = survey.and_then(|s| s.question(id));
    let text = question.map_or_else(|| id.to_string(), |q| q.text.clone());
    let label = |v: &str| {
        question
            .and_then(|q| q.option(v))
            .map_or_else(|| v.to_string(), |o| o.label.clone())
    };
    let answer = match (question.map(|q| q.kind), value) {
        (Some(QuestionKind::YesNo), AnswerValue::Text(v)) => match v.as_str() {
            "yes" => "Yes".to_string(),
            "no" => "No".to_string(),
            other => other.to_string(),
        },
        (_, AnswerValue::Text(v)) => label(v),
        (_, AnswerValue::Int(n)) => n.to_string(),
        (_, AnswerValue::Choices(values)) => values
            .iter()
            .map(|v| label(v))
            .collect::<Vec<_>>()
            .join("; "),
    };
    (text, answer)
}

#[derive(Serialize)]
struct FollowUpView {
    /// The task's or delivery's current status, when it is stored.
    status: Option<String>,
    source: String,
    kind: &'static str,
    summary: String,
    details: String,
}

/// Current state of each follow-up: task status or delivery status, by follow-up id.
type FollowUpStates = std::collections::HashMap<Uuid, String>;

async fn follow_up_states(
    store: &dyn Store,
    r: &StoredResponse,
) -> Result<FollowUpStates, ApiError> {
    let mut states = FollowUpStates::new();
    for f in &r.follow_ups {
        match f.action {
            Action::Task { .. } => {
                if let Some(t) = store.task(&r.site, f.id).await? {
                    states.insert(t.id, t.status.as_str().to_string());
                }
            }
            Action::Webhook { .. } => {
                if let Some(d) = store.delivery(&r.site, f.id).await? {
                    let status = d.status.as_str();
                    states.insert(f.id, format!("{status}, {} attempt(s)", d.attempts));
                }
            }
        }
    }
    Ok(states)
}

fn follow_up_view(f: &crate::domain::FollowUp, states: &FollowUpStates) -> FollowUpView {
    let (kind, summary, details) = super::describe_action(&f.action);
    FollowUpView {
        status: states.get(&f.id).cloned(),
        source: f.source.clone(),
        kind,
        summary,
        details,
    }
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SiteIdPath),
    responses(
        (status = 200, description = "One response", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/responses/{id}")]
async fn detail(
    state: web::Data<AppState>,
    s: SiteSession<Viewer>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let runtime = s.runtime.clone();
    let uuid = crate::http::common::path_id(&id, ServiceError::ResponseNotFound)?;
    let response = responses::read(&state, Actor::User(&s.user.name), &s.site, uuid).await?;
    let states = follow_up_states(state.store.as_ref(), &response).await?;
    let survey = runtime.site.survey(&response.survey).map(|s| s.as_ref());
    // Answers in the survey's question order, then any no longer in the definition.
    let mut answers: Vec<AnswerView> = Vec::new();
    if let Some(sv) = survey {
        for q in &sv.questions {
            if let Some(v) = response.answers.get(&q.id) {
                let (question, answer) = show_answer(survey, &q.id, v);
                answers.push(AnswerView {
                    question,
                    id: q.id.clone(),
                    answer,
                });
            }
        }
    }
    for (k, v) in &response.answers {
        if !answers.iter().any(|a| &a.id == k) {
            let (question, answer) = show_answer(survey, k, v);
            answers.push(AnswerView {
                question,
                id: k.clone(),
                answer,
            });
        }
    }
    let tags: Vec<(String, String, String)> = response
        .tags
        .iter()
        .map(|t| {
            let label = runtime
                .site
                .barrier(&t.code)
                .map_or_else(String::new, |b| b.label.clone());
            (t.code.clone(), label, t.source.clone())
        })
        .collect();
    let kiosk_name = match response.kiosk {
        Some(id) => crate::services::kiosks::name_of(&state, &s.site, id).await?,
        None => None,
    };
    let mut ctx = base_context_for(&s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &runtime.site.config.name);
    ctx.insert("kiosk_name", &kiosk_name);
    ctx.insert("r", &response);
    ctx.insert(
        "survey_title",
        &survey.map_or_else(|| response.survey.clone(), |s| s.title.clone()),
    );
    ctx.insert("answers", &answers);
    ctx.insert("tags", &tags);
    ctx.insert(
        "follow_ups",
        &response
            .follow_ups
            .iter()
            .map(|f| follow_up_view(f, &states))
            .collect::<Vec<_>>(),
    );
    Ok(html(render(&state, "admin/response.html", &ctx)?))
}
