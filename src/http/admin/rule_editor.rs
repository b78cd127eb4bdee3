//! `/admin/sites/{site}/rules/files/{file}` (site admins): one rule file in an editor that
//! works without JavaScript (a textarea beside its line numbers), "Check" (compile and every
//! rule test against the draft, nothing applied), "Apply" (only when the check passes, after
//! showing the diff) and the versions kept in the store (view, compare, restore).

use super::dashboard::base_context_for;
use super::extract::CsrfForm;
use super::{html, html_with, render, SiteSession};
use crate::app::AppState;
use crate::domain::RuleVersion;
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::see_other;
use crate::services::rule_editor::{self, line_diff, Apply, DraftCheck};
use crate::services::ServiceError;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(new_rule)
        .service(editor)
        .service(check_draft)
        .service(apply_draft)
        .service(version);
}

#[derive(Deserialize)]
struct FilePath {
    file: String,
}

#[derive(Deserialize)]
struct VersionPath {
    file: String,
    number: u64,
}

#[derive(Debug, Default, Deserialize)]
struct EditorQuery {
    /// The version just applied (shown as a confirmation).
    applied: Option<u64>,
    /// `yes`: a new rule file of this name (not applied yet).
    new: Option<String>,
}

/// What a new rule file starts as.
const NEW_RULE: &str = "// What this rule does, for the next person who reads it.\n\nfn tag(response) {\n    let tags = [];\n    tags\n}\n";

#[derive(Debug, Deserialize)]
struct NewQuery {
    #[serde(default)]
    name: String,
}

/// A line of the editor's gutter: its number and the problems found at it.
#[derive(Serialize)]
struct Gutter {
    number: usize,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct VersionRow {
    number: u64,
    author: String,
    at: String,
    message: String,
    applied_anyway: usize,
}

fn row(v: &RuleVersion) -> VersionRow {
    VersionRow {
        number: v.number,
        author: v.author.clone(),
        at: v.at.clone(),
        message: v.message.clone(),
        applied_anyway: v.applied_anyway.len(),
    }
}

fn gutter(text: &str, check: Option<&DraftCheck>) -> Vec<Gutter> {
    let lines = text.lines().count().max(1);
    (1..=lines)
        .map(|number| Gutter {
            number,
            problems: check
                .map(|c| {
                    c.at_lines
                        .iter()
                        .filter(|(l, _, _)| *l == number)
                        .map(|(l, col, m)| format!("{l}:{col}: {m}"))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// What the page shows beside the editor.
#[derive(Default)]
struct Shown {
    check: Option<DraftCheck>,
    /// The diff to confirm before applying.
    diff: Option<Vec<(char, String)>>,
    message: String,
    anyway: bool,
    applied: Option<u64>,
    refused: Option<String>,
}

async fn page(
    state: &AppState,
    s: &SiteSession<Admin>,
    file: &str,
    draft: &str,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let versions = state.store.rule_versions(&s.site, file).await?;
    let mut ctx = base_context_for(s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &s.runtime.site.config.name);
    ctx.insert("file", file);
    ctx.insert("draft", draft);
    ctx.insert("rows", &(draft.lines().count() + 3).clamp(10, 2000));
    ctx.insert("gutter", &gutter(draft, shown.check.as_ref()));
    ctx.insert("versions", &versions.iter().map(row).collect::<Vec<_>>());
    if let Some(c) = &shown.check {
        ctx.insert("checked", &true);
        ctx.insert("passes", &c.passes());
        ctx.insert("check", c);
    }
    ctx.insert("diff", &shown.diff);
    ctx.insert("message", &shown.message);
    ctx.insert("anyway", &shown.anyway);
    ctx.insert("applied", &shown.applied);
    ctx.insert("refused", &shown.refused);
    Ok(html_with(
        status,
        render(state, "admin/rule_editor.html", &ctx)?,
    ))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    responses(
        (status = 200, description = "The rule file in the editor, with its versions", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/files/{file}")]
async fn editor(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    query: web::Query<EditorQuery>,
) -> Result<HttpResponse, ApiError> {
    let new = query.new.as_deref() == Some("yes");
    let file = rule_editor::rule_file(&state, &s.site, &path.file, new)?;
    let text = match rule_editor::is_rule_file(&state, &s.site, file)? {
        true => rule_editor::running_text(&state, &s.site, file)?,
        false => NEW_RULE.to_string(),
    };
    let shown = Shown {
        applied: query.applied,
        ..Shown::default()
    };
    page(&state, &s, file, &text, shown, StatusCode::OK).await
}

/// The "new rule file" form of the rules page (a GET form, so it works without JavaScript):
/// to the editor of a new file of that name, or back to the rules page with a 404 page for a
/// name a rule file cannot have or one that exists.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath, ("name" = String, Query, description = "The new file's name, [a-z0-9_-]+.rhai")),
    responses(
        (status = 303, description = "To the editor of the new file", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/new")]
async fn new_rule(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, ApiError> {
    let name = query.name.trim().to_lowercase();
    let name = if name.ends_with(".rhai") {
        name
    } else {
        format!("{name}.rhai")
    };
    if !rule_editor::is_new_name(&name) || rule_editor::is_rule_file(&state, &s.site, &name)? {
        return Err(ServiceError::RuleFileNotFound(name).into());
    }
    Ok(see_other(&format!(
        "/admin/sites/{}/rules/files/{name}?new=yes",
        s.site
    )))
}

/// A posted draft, checked: the file, the draft (with the line endings a browser sends made
/// Unix ones), what the check found, and the form's message and "apply anyway".
struct Posted {
    file: String,
    draft: String,
    found: DraftCheck,
    shown: Shown,
}

async fn posted(
    state: &AppState,
    s: &SiteSession<Admin>,
    file: &str,
    form: &CsrfForm,
) -> Result<Posted, ApiError> {
    let file = rule_editor::rule_file(state, &s.site, file, true)?.to_string();
    let draft = form.field("text").unwrap_or("").replace("\r\n", "\n");
    let found = rule_editor::check_draft(state, &s.site, &file, draft.clone()).await?;
    let shown = Shown {
        message: form.field("message").unwrap_or("").trim().to_string(),
        anyway: form.field("apply_anyway") == Some("yes"),
        ..Shown::default()
    };
    Ok(Posted {
        file,
        draft,
        found,
        shown,
    })
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/rules/files/{file}/check")]
async fn check_draft(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let Posted {
        file,
        draft,
        found,
        mut shown,
    } = posted(&state, &s, &path.file, &form).await?;
    let status = if found.passes() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    shown.check = Some(found);
    page(&state, &s, &file, &draft, shown, status).await
}

/// Step one (no `confirm`): checks the draft and shows the diff with a confirm button; step
/// two (`confirm=yes`): applies it and goes back to the editor. A draft that does not compile,
/// or fails a rule test without "apply anyway", is refused at either step.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/rules/files/{file}/apply")]
async fn apply_draft(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let Posted {
        file,
        draft,
        found,
        mut shown,
    } = posted(&state, &s, &path.file, &form).await?;
    let (anyway, message) = (shown.anyway, shown.message.clone());
    let refused = !found.compiles() || (!found.failing_tests.is_empty() && !anyway);
    if refused {
        shown.check = Some(found);
        shown.refused = Some("The draft was not applied: fix the problems below first.".into());
        return page(
            &state,
            &s,
            &file,
            &draft,
            shown,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if form.field("confirm") != Some("yes") {
        let running = rule_editor::running_text(&state, &s.site, &file)?;
        shown.diff = Some(line_diff(&running, &draft));
        shown.check = Some(found);
        return page(&state, &s, &file, &draft, shown, StatusCode::OK).await;
    }
    let applied = rule_editor::apply(
        &state,
        Apply {
            site: &s.site,
            file: &file,
            text: draft.clone(),
            author: &s.user.name,
            message: if message.is_empty() {
                "(no message)".into()
            } else {
                message
            },
            anyway,
        },
    )
    .await;
    match applied {
        Ok(v) => Ok(see_other(&format!(
            "/admin/sites/{}/rules/files/{file}?applied={}",
            s.site, v.number
        ))),
        Err(ServiceError::SiteInvalid(lines) | ServiceError::RuleTestsFailed(lines)) => {
            shown.refused = Some(format!("The draft was not applied: {}", lines.join("; ")));
            page(
                &state,
                &s,
                &file,
                &draft,
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleVersionPath),
    responses(
        (status = 200, description = "One version, its diff with the running text, and a restore form", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/files/{file}/versions/{number}")]
async fn version(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, ApiError> {
    let file = rule_editor::rule_file(&state, &s.site, &path.file, false)?;
    let v = state
        .store
        .rule_version(&s.site, file, path.number)
        .await?
        .ok_or_else(|| ServiceError::RuleFileNotFound(format!("{file} version {}", path.number)))?;
    let running = rule_editor::running_text(&state, &s.site, file)?;
    let mut ctx = base_context_for(&s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &s.runtime.site.config.name);
    ctx.insert("file", file);
    ctx.insert("version", &row(&v));
    ctx.insert("text", &v.text);
    ctx.insert("failing", &v.applied_anyway);
    ctx.insert("diff", &line_diff(&running, &v.text));
    ctx.insert("same", &(running == v.text));
    Ok(html(render(&state, "admin/rule_version.html", &ctx)?))
}
