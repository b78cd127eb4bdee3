//! What the rule editor's routes (`rule_editor.rs`) share: which file a URL names, the editor
//! and version pages, and the check → diff → confirm steps of a change (a new text, or the
//! file deleted), for rule files and rule test files alike.

use super::dashboard::base_context_for;
use super::extract::CsrfForm;
use super::{html, html_with, render, SiteSession};
use crate::app::AppState;
use crate::domain::RuleVersion;
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::see_other;
use crate::services::rule_editor::{self, line_diff, Apply, DraftCheck};
use crate::services::rule_source::{self, is_versioned_name, TESTS};
use crate::services::ServiceError;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};

/// Which kind of file an editor URL names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `…/rules/files/{file}`: `rules/{file}`, a `.rhai` file.
    Rule,
    /// `…/rules/tests/{file}`: `rules/tests/{file}`, a `.toml` file of rule test cases.
    Test,
}

/// What a new rule file starts as.
const NEW_RULE: &str = "// What this rule does, for the next person who reads it.\n\nfn tag(response) {\n    let tags = [];\n    tags\n}\n";

/// What a new rule test file starts as (docs/rules.md "Rule tests").
const NEW_TEST: &str = "# What these cases show, for the next person who reads them.\n\n[[case]]\nname = \"what this case shows\"\nsurvey = \"SURVEY-ID\"\nanswers = { }\nexpect_tags_include = []\n";

/// One file of the editor: its name in the store (`parking.rhai`, `tests/parking.toml`) and
/// the URL of its editor.
pub struct Target {
    pub kind: Kind,
    pub name: String,
    pub url: String,
}

impl Target {
    /// The file `file` of a URL of `kind`, if it may be one (its name is checked, not that it
    /// exists).
    pub fn of(kind: Kind, site: &str, file: &str) -> Result<Target, ServiceError> {
        let (name, segment) = match kind {
            Kind::Rule => (file.to_string(), "files"),
            Kind::Test => (format!("{TESTS}{file}"), "tests"),
        };
        let plain = !file.contains('/') && is_versioned_name(&name);
        if !plain || (kind == Kind::Rule && name.starts_with(TESTS)) {
            return Err(ServiceError::RuleFileNotFound(file.to_string()));
        }
        let url = format!("/admin/sites/{site}/rules/{segment}/{file}");
        Ok(Target { kind, name, url })
    }

    fn starter(&self) -> &'static str {
        match self.kind {
            Kind::Rule => NEW_RULE,
            Kind::Test => NEW_TEST,
        }
    }
}

/// The file a URL names, if the editor may open it: a file of the site's rules folder, one
/// that a version in the store deleted, or (with `new`, rules in the store) a new one.
pub async fn target(
    state: &AppState,
    s: &SiteSession<Admin>,
    kind: Kind,
    file: &str,
    new: bool,
) -> Result<Target, ApiError> {
    let t = Target::of(kind, &s.site, file)?;
    if rule_editor::exists(state, &s.site, &t.name)? {
        return Ok(t);
    }
    if new {
        rule_source::require_store(state, &s.site)?;
        return Ok(t);
    }
    match state
        .store
        .rule_versions(&s.site, &t.name)
        .await?
        .is_empty()
    {
        false => Ok(t),
        true => Err(ServiceError::RuleFileNotFound(file.to_string()).into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EditorQuery {
    /// The version just applied (shown as a confirmation).
    applied: Option<u64>,
    /// `yes`: a new file of this name (not applied yet).
    new: Option<String>,
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
    deleted: bool,
}

fn row(v: &RuleVersion) -> VersionRow {
    VersionRow {
        number: v.number,
        author: v.author.clone(),
        at: v.at.clone(),
        message: v.message.clone(),
        applied_anyway: v.applied_anyway.len(),
        deleted: v.deleted,
    }
}

fn gutter(text: &str, check: Option<&DraftCheck>) -> Vec<Gutter> {
    let lines = text.lines().count().max(1);
    let at = |number: usize| -> Vec<String> {
        let Some(c) = check else { return Vec::new() };
        let here = c.at_lines.iter().chain(&c.failing_here);
        here.filter(|(l, _, _)| *l == number)
            .map(|(l, col, m)| format!("{l}:{col}: {m}"))
            .collect()
    };
    (1..=lines)
        .map(|number| Gutter {
            number,
            problems: at(number),
        })
        .collect()
}

/// What the page shows beside the editor.
#[derive(Default)]
pub struct Shown {
    check: Option<DraftCheck>,
    /// The diff to confirm before applying (or deleting).
    diff: Option<Vec<(char, String)>>,
    /// `delete`: the diff confirms a deletion.
    confirm: &'static str,
    message: String,
    anyway: bool,
    restores: Option<u64>,
    applied: Option<u64>,
    refused: Option<String>,
}

fn read_only(state: &AppState, site: &str) -> bool {
    rule_source::require_store(state, site).is_err()
}

async fn page(
    state: &AppState,
    s: &SiteSession<Admin>,
    t: &Target,
    draft: &str,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let versions = state.store.rule_versions(&s.site, &t.name).await?;
    let mut ctx = base_context_for(s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &s.runtime.site.config.name);
    ctx.insert("file", &t.name);
    ctx.insert("url", &t.url);
    ctx.insert("exists", &rule_editor::exists(state, &s.site, &t.name)?);
    ctx.insert("deleted", &versions.first().is_some_and(|v| v.deleted));
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
    ctx.insert("confirm", shown.confirm);
    ctx.insert("message", &shown.message);
    ctx.insert("anyway", &shown.anyway);
    ctx.insert("restores", &shown.restores);
    ctx.insert("applied", &shown.applied);
    ctx.insert("refused", &shown.refused);
    ctx.insert("read_only", &read_only(state, &s.site));
    Ok(html_with(
        status,
        render(state, "admin/rule_editor.html", &ctx)?,
    ))
}

/// The editor of a file: its running text, or for a deleted file the last text it had, or a
/// starter text for a new one.
pub async fn editor(
    state: &AppState,
    s: &SiteSession<Admin>,
    kind: Kind,
    file: &str,
    query: &EditorQuery,
) -> Result<HttpResponse, ApiError> {
    let new = query.new.as_deref() == Some("yes");
    let t = target(state, s, kind, file, new).await?;
    let text = match rule_editor::exists(state, &s.site, &t.name)? {
        true => rule_editor::running_text(state, &s.site, &t.name)?,
        false => {
            let versions = state.store.rule_versions(&s.site, &t.name).await?;
            let last = versions.into_iter().find(|v| !v.deleted);
            last.map_or_else(|| t.starter().to_string(), |v| v.text)
        }
    };
    let shown = Shown {
        applied: query.applied,
        ..Shown::default()
    };
    page(state, s, &t, &text, shown, StatusCode::OK).await
}

/// The "new file" forms of the rules page (GET forms, so they work without JavaScript): to
/// the editor of a new file of that name; a 404 page for a name such a file cannot have or
/// one that exists.
pub async fn new_file(
    state: &AppState,
    s: &SiteSession<Admin>,
    kind: Kind,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    rule_source::require_store(state, &s.site)?;
    let ext = match kind {
        Kind::Rule => ".rhai",
        Kind::Test => ".toml",
    };
    let name = name.trim().to_lowercase();
    let file = match name.ends_with(ext) {
        true => name,
        false => format!("{name}{ext}"),
    };
    let t = Target::of(kind, &s.site, &file)?;
    if rule_editor::exists(state, &s.site, &t.name)? {
        return Err(ServiceError::RuleFileNotFound(file).into());
    }
    Ok(see_other(&format!("{}?new=yes", t.url)))
}

/// A posted draft, checked: the draft (with the line endings a browser sends made Unix ones,
/// `None` for a deletion), what the check found, and the form's message, "apply anyway" and
/// the version it restores.
struct Posted {
    draft: Option<String>,
    found: DraftCheck,
    shown: Shown,
}

async fn posted(
    state: &AppState,
    s: &SiteSession<Admin>,
    t: &Target,
    form: &CsrfForm,
    delete: bool,
) -> Result<Posted, ApiError> {
    let text = form.field("text").unwrap_or("").replace("\r\n", "\n");
    let draft = (!delete).then_some(text);
    let changes = std::collections::BTreeMap::from([(t.name.clone(), draft.clone())]);
    let found = rule_editor::check_change(state, &s.site, &t.name, changes).await?;
    let shown = Shown {
        message: form.field("message").unwrap_or("").trim().to_string(),
        anyway: form.field("apply_anyway") == Some("yes"),
        restores: form.field("restore").and_then(|n| n.parse().ok()),
        ..Shown::default()
    };
    Ok(Posted {
        draft,
        found,
        shown,
    })
}

/// "Check": the draft against the whole site, nothing applied.
pub async fn check(
    state: &AppState,
    s: &SiteSession<Admin>,
    kind: Kind,
    file: &str,
    form: &CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let t = target(state, s, kind, file, true).await?;
    let Posted {
        draft,
        found,
        mut shown,
    } = posted(state, s, &t, form, false).await?;
    let status = match found.passes() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    shown.check = Some(found);
    page(state, s, &t, &draft.unwrap_or_default(), shown, status).await
}

/// Step one (no `confirm`): checks the change and shows the diff with a confirm button; step
/// two (`confirm=yes`): makes it and goes back to the editor. A change that does not compile,
/// or fails a rule test without "apply anyway", is refused at either step. `delete`: the
/// change deletes the file.
pub async fn change(
    state: &AppState,
    s: &SiteSession<Admin>,
    kind: Kind,
    file: &str,
    form: &CsrfForm,
    delete: bool,
) -> Result<HttpResponse, ApiError> {
    rule_source::require_store(state, &s.site)?;
    let t = target(state, s, kind, file, !delete).await?;
    let Posted {
        draft,
        found,
        mut shown,
    } = posted(state, s, &t, form, delete).await?;
    let running = rule_editor::running_text(state, &s.site, &t.name)?;
    // A refused deletion shows the running text in the editor.
    let shown_text = draft.clone().unwrap_or_else(|| running.clone());
    let (anyway, message) = (shown.anyway, shown.message.clone());
    if !found.compiles() || (!found.failing_tests.is_empty() && !anyway) {
        shown.check = Some(found);
        let what = if delete {
            "The file was not deleted"
        } else {
            "The draft was not applied"
        };
        shown.refused = Some(format!("{what}: fix the problems below first."));
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return page(state, s, &t, &shown_text, shown, status).await;
    }
    if form.field("confirm") != Some("yes") {
        shown.diff = Some(line_diff(&running, draft.as_deref().unwrap_or("")));
        shown.confirm = if delete { "delete" } else { "apply" };
        shown.check = Some(found);
        return page(state, s, &t, &shown_text, shown, StatusCode::OK).await;
    }
    let applied = rule_editor::apply(
        state,
        Apply {
            site: &s.site,
            file: &t.name,
            text: draft,
            author: &s.user.name,
            message: if message.is_empty() {
                "(no message)".into()
            } else {
                message
            },
            anyway,
            restores: shown.restores,
        },
    )
    .await;
    match applied {
        Ok(v) => Ok(see_other(&format!("{}?applied={}", t.url, v.number))),
        Err(ServiceError::SiteInvalid(lines) | ServiceError::RuleTestsFailed(lines)) => {
            shown.refused = Some(format!("Not applied: {}", lines.join("; ")));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(state, s, &t, &shown_text, shown, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One version: its text, its diff with the running text, and a restore form.
pub async fn version(
    state: &AppState,
    s: &SiteSession<Admin>,
    kind: Kind,
    file: &str,
    number: u64,
) -> Result<HttpResponse, ApiError> {
    let t = target(state, s, kind, file, false).await?;
    let v = state
        .store
        .rule_version(&s.site, &t.name, number)
        .await?
        .ok_or_else(|| ServiceError::RuleFileNotFound(format!("{file} version {number}")))?;
    let running = rule_editor::running_text(state, &s.site, &t.name)?;
    let exists = rule_editor::exists(state, &s.site, &t.name)?;
    let mut ctx = base_context_for(s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &s.runtime.site.config.name);
    ctx.insert("file", &t.name);
    ctx.insert("url", &t.url);
    ctx.insert("version", &row(&v));
    ctx.insert("text", &v.text);
    ctx.insert("failing", &v.applied_anyway);
    ctx.insert("diff", &line_diff(&running, &v.text));
    ctx.insert("same", &(v.deleted != exists && running == v.text));
    ctx.insert("read_only", &read_only(state, &s.site));
    Ok(html(render(state, "admin/rule_version.html", &ctx)?))
}
