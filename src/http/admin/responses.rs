//! `/admin/sites/{site}/responses`: filter, page, open one, download the filtered set as CSV.

use super::dashboard::base_context_for;
use super::{html, render, SiteSession};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::csv_cell::SafeCsv;
use crate::errors::ApiError;
use crate::http::api::parse_instant_ms;
use crate::response::{Action, StoredResponse};
use crate::response_csv;
use crate::store::ResponseQuery;
use crate::survey::{AnswerValue, QuestionKind, Site, Survey};
use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const PAGE: usize = 50;
/// Page size when reading the filtered set for a CSV download.
const CSV_BATCH: usize = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
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
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl Filters {
    fn to_query(&self, site: &Site, limit: usize) -> Result<ResponseQuery, ApiError> {
        let bad = |field: &str, message: String| ApiError::InvalidQuery {
            field: field.into(),
            message,
        };
        if let Some(s) = opt(&self.survey) {
            site.survey(&s).ok_or(ApiError::SurveyNotFound(s))?;
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
        let after = opt(&self.cursor)
            .map(|c| Uuid::parse_str(&c).map_err(|_| bad("cursor", "not a page cursor".into())))
            .transpose()?;
        Ok(ResponseQuery {
            site: site.id().to_string(),
            survey: opt(&self.survey),
            group: opt(&self.group),
            tag: opt(&self.tag),
            since_ms: opt(&self.since)
                .map(|v| parse_instant_ms("since", &v))
                .transpose()?,
            until_ms: opt(&self.until)
                .map(|v| parse_instant_ms("until", &v))
                .transpose()?,
            after,
            limit,
        })
    }

    /// The query string of these filters (without the cursor).
    fn query_string(&self) -> String {
        let mut f = self.clone();
        f.cursor.clear();
        serde_urlencoded::to_string(&f).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct Row {
    id: String,
    submitted_at: String,
    survey: String,
    group: String,
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

#[get("/sites/{site}/responses")]
async fn list_page(
    state: web::Data<AppState>,
    s: SiteSession<Viewer>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let runtime = crate::http::common::site(&state, &s.site)?;
    let query = filters.to_query(&runtime.site, PAGE)?;
    let store = state.store.clone();
    let page = web::block(move || store.list_responses(&query))
        .await
        .map_err(|_| ApiError::Unavailable)??;
    let rows: Vec<Row> = page
        .responses
        .iter()
        .map(|r| Row {
            id: r.id.to_string(),
            submitted_at: r.submitted_at.clone(),
            survey: r.survey.clone(),
            group: r.group.clone(),
            tags: r.tag_codes(),
            rule_errors: r.rule_errors.len(),
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

fn write_csv(
    store: &dyn crate::store::Store,
    site: &Site,
    mut query: ResponseQuery,
) -> Result<Vec<u8>, ApiError> {
    let columns = response_csv::question_columns(&site.surveys);
    let mut w = SafeCsv::new(Vec::new());
    let csv_err = |e: csv::Error| ApiError::Render(format!("cannot write CSV: {e}"));
    w.write_row(response_csv::header(&columns))
        .map_err(csv_err)?;
    query.limit = CSV_BATCH;
    loop {
        let page = store.list_responses(&query)?;
        for r in &page.responses {
            w.write_row(response_csv::row(r, &columns))
                .map_err(csv_err)?;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    w.into_inner()
        .map_err(|e| ApiError::Render(format!("cannot write CSV: {e}")))
}

#[get("/sites/{site}/responses.csv")]
async fn csv_download(
    state: web::Data<AppState>,
    s: SiteSession<Viewer>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let runtime = crate::http::common::site(&state, &s.site)?;
    let mut f = filters.into_inner();
    f.cursor.clear();
    let query = f.to_query(&runtime.site, CSV_BATCH)?;
    let store = state.store.clone();
    let rt = runtime.clone();
    let body = web::block(move || write_csv(store.as_ref(), &rt.site, query))
        .await
        .map_err(|_| ApiError::Unavailable)??;
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

fn follow_up_states(
    store: &dyn crate::store::Store,
    r: &StoredResponse,
) -> Result<FollowUpStates, ApiError> {
    let mut states = FollowUpStates::new();
    for f in &r.follow_ups {
        if matches!(f.action, Action::Task { .. }) {
            if let Some(t) = store.get_task(&r.site, f.id)? {
                states.insert(t.id, t.status.as_str().to_string());
            }
        }
    }
    for f in &r.follow_ups {
        if matches!(f.action, Action::Webhook { .. }) {
            if let Some(d) = store.get_delivery(&r.site, f.id)? {
                let status = match d.status {
                    crate::followups::DeliveryStatus::Pending => "pending",
                    crate::followups::DeliveryStatus::Delivered => "delivered",
                    crate::followups::DeliveryStatus::Failed => "failed",
                };
                states.insert(f.id, format!("{status}, {} attempt(s)", d.attempts));
            }
        }
    }
    Ok(states)
}

fn follow_up_view(f: &crate::response::FollowUp, states: &FollowUpStates) -> FollowUpView {
    let status = states.get(&f.id).cloned();
    match &f.action {
        Action::Task {
            queue,
            title,
            due_hours,
            priority,
            note,
        } => FollowUpView {
            status,
            source: f.source.clone(),
            kind: "task",
            summary: title.clone(),
            details: format!(
                "queue {queue}; priority {}{}{}",
                match priority {
                    crate::response::Priority::Normal => "normal",
                    crate::response::Priority::High => "high",
                },
                due_hours
                    .map(|h| format!("; due in {h} h"))
                    .unwrap_or_default(),
                note.as_ref()
                    .map(|n| format!("; note: {n}"))
                    .unwrap_or_default()
            ),
        },
        Action::Webhook { target, payload } => FollowUpView {
            status,
            source: f.source.clone(),
            kind: "webhook",
            summary: format!("webhook to {target}"),
            details: payload.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        },
    }
}

#[get("/sites/{site}/responses/{id}")]
async fn detail(
    state: web::Data<AppState>,
    s: SiteSession<Viewer>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let runtime = crate::http::common::site(&state, &s.site)?;
    let uuid = Uuid::parse_str(&id).map_err(|_| ApiError::ResponseNotFound(id.clone()))?;
    let store = state.store.clone();
    let site_id = s.site.clone();
    let (response, states) = web::block(move || -> Result<_, ApiError> {
        let response = store
            .get_response(&site_id, uuid)?
            .ok_or(ApiError::ResponseNotFound(id))?;
        let states = follow_up_states(store.as_ref(), &response)?;
        Ok((response, states))
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
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
    let mut ctx = base_context_for(&s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &runtime.site.config.name);
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
