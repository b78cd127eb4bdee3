//! `/admin/sites/{site}/rules/files/{file}` (a rule file) and `/admin/sites/{site}/rules/tests/{file}`
//! (a rule test file), site admins: the file in an editor that works without JavaScript (a
//! textarea beside its line numbers), "Check" (compile and every rule test against the draft,
//! nothing applied), "Apply" and "Delete" (only when the check passes, after showing the diff)
//! and the versions kept in the store (view, compare, restore). Read only, and saying why,
//! when the site's rules are its files (`rules_source = "files"`). The pages themselves are
//! in `rule_editor_page.rs`.

use super::extract::CsrfForm;
use super::rule_editor_page::{self as editor, EditorQuery, Kind};
use super::SiteSession;
use crate::app::AppState;
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(new_rule)
        .service(new_test)
        .service(rule_page)
        .service(test_page)
        .service(check_rule)
        .service(check_test)
        .service(apply_rule)
        .service(apply_test)
        .service(delete_rule)
        .service(delete_test)
        .service(rule_version)
        .service(test_version);
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

#[derive(Debug, Deserialize)]
struct NewQuery {
    #[serde(default)]
    name: String,
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    responses(
        (status = 200, description = "The rule file in the editor, with its versions (read only when the site's rules are its files)", body = String, content_type = "text/html"),
        (status = 409, description = "rules_in_files: `new=yes` for a site whose rules are its files", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/files/{file}")]
async fn rule_page(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    query: web::Query<EditorQuery>,
) -> Result<HttpResponse, ApiError> {
    editor::editor(&state, &s, Kind::Rule, &path.file, &query).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    responses(
        (status = 200, description = "The rule test file in the editor, with its versions (read only when the site's rules are its files)", body = String, content_type = "text/html"),
        (status = 409, description = "rules_in_files: `new=yes` for a site whose rules are its files", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/tests/{file}")]
async fn test_page(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    query: web::Query<EditorQuery>,
) -> Result<HttpResponse, ApiError> {
    editor::editor(&state, &s, Kind::Test, &path.file, &query).await
}

/// The "new rule file" form of the rules page.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath, ("name" = String, Query, description = "The new file's name, [a-z0-9_-]+.rhai")),
    responses(
        (status = 303, description = "To the editor of the new file", body = String, content_type = "text/html"),
        (status = 409, description = "rules_in_files: the site's rules are its files", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/new")]
async fn new_rule(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, ApiError> {
    editor::new_file(&state, &s, Kind::Rule, &query.name).await
}

/// The "new rule test file" form of the rules page.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath, ("name" = String, Query, description = "The new file's name, [a-z0-9_-]+.toml")),
    responses(
        (status = 303, description = "To the editor of the new rule test file", body = String, content_type = "text/html"),
        (status = 409, description = "rules_in_files: the site's rules are its files", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/new-test")]
async fn new_test(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, ApiError> {
    editor::new_file(&state, &s, Kind::Test, &query.name).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/rules/files/{file}/check")]
async fn check_rule(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    editor::check(&state, &s, Kind::Rule, &path.file, &form).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/rules/tests/{file}/check")]
async fn check_test(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    editor::check(&state, &s, Kind::Test, &path.file, &form).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::RuleChangeAnswers)
)]
#[post("/sites/{site}/rules/files/{file}/apply")]
async fn apply_rule(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    editor::change(&state, &s, Kind::Rule, &path.file, &form, false).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::RuleChangeAnswers)
)]
#[post("/sites/{site}/rules/tests/{file}/apply")]
async fn apply_test(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    editor::change(&state, &s, Kind::Test, &path.file, &form, false).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::RuleChangeAnswers)
)]
#[post("/sites/{site}/rules/files/{file}/delete")]
async fn delete_rule(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    editor::change(&state, &s, Kind::Rule, &path.file, &form, true).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleFilePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::RuleChangeAnswers)
)]
#[post("/sites/{site}/rules/tests/{file}/delete")]
async fn delete_test(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<FilePath>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    editor::change(&state, &s, Kind::Test, &path.file, &form, true).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleVersionPath),
    responses(
        (status = 200, description = "One version of a rule file, its diff with the running text, and a restore form", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/files/{file}/versions/{number}")]
async fn rule_version(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, ApiError> {
    editor::version(&state, &s, Kind::Rule, &path.file, path.number).await
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::RuleVersionPath),
    responses(
        (status = 200, description = "One version of a rule test file, its diff with the running text, and a restore form", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/rules/tests/{file}/versions/{number}")]
async fn test_version(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, ApiError> {
    editor::version(&state, &s, Kind::Test, &path.file, path.number).await
}
