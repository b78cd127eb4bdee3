//! The published contract: `GET /api/v1/openapi.json`, an OpenAPI 3.1 document generated from
//! the handlers' `#[utoipa::path]` annotations as they are registered (utoipa-actix-web), so a
//! route cannot be registered without being in it. Also what the default service uses to answer
//! 405 with `Allow` for a known path and another method.

use super::error::{ApiError, ErrorBody, ERROR_CODES};
use actix_web::http::Method;
use actix_web::ResponseError;
use actix_web::{get, web, HttpRequest, HttpResponse};
use std::collections::BTreeMap;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chorus",
        description = "Feedback surveys of patients, providers and practice leadership on why patients do not enroll in the patient portal. See docs/api.md in the repository.",
        license(name = "Proprietary")
    ),
    components(schemas(super::error::ErrorBody, super::error::ErrorDetail)),
    tags(
        (name = "responses", description = "Surveys and responses (public submission, staff listing)"),
        (name = "follow-ups", description = "Tasks and webhook deliveries the rules created"),
        (name = "rules", description = "Rule errors, reload, dry run, re-tagging"),
        (name = "report", description = "The side-by-side report"),
        (name = "audit", description = "The audit trail, read-only (docs/audit.md)"),
        (name = "users", description = "Users of an admin's sites: add, role, disable, API tokens, password links (docs/admin.md)"),
        (name = "kiosks", description = "Waiting-room kiosks: register, list, revoke (docs/kiosk.md)"),
        (name = "operations", description = "Health, metrics and this document"),
        (name = "fhir", description = "FHIR R4 (application/fhir+json, errors as OperationOutcome): Questionnaires, QuestionnaireResponses, the CapabilityStatement; see docs/fhir.md"),
        (name = "admin pages", description = "HTML pages for site staff (a session cookie, not a token)"),
        (name = "respondent pages", description = "HTML survey pages for respondents")
    )
)]
pub struct ApiDoc;

/// The bearer token of `chorus user add` (`Authorization: Bearer chorus_...`).
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The stable error codes, as the `code` enum of the error body.
struct ErrorCodes;

impl Modify for ErrorCodes {
    fn modify(&self, doc: &mut Document) {
        use utoipa::openapi::schema::{Object, Schema, Type};
        use utoipa::openapi::RefOr;
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        if let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ErrorDetail") {
            let codes = Object::builder()
                .schema_type(Type::String)
                .enum_values(Some(ERROR_CODES.iter().copied()))
                .description(Some(
                    "Stable: clients branch on it (docs/api.md lists each).",
                ))
                .build();
            detail.properties.insert("code".into(), codes.into());
        }
    }
}

/// The document as served, and which methods each path answers.
pub struct Contract {
    json: String,
    methods: BTreeMap<String, Vec<Method>>,
}

impl Contract {
    pub fn new(mut doc: Document) -> Contract {
        let base = ApiDoc::openapi();
        doc.info = base.info.clone();
        doc.tags = base.tags.clone();
        doc.merge(base);
        // After the merge: the handlers' references brought these schemas in already.
        BearerToken.modify(&mut doc);
        ErrorCodes.modify(&mut doc);
        respondent_pages_answer_head(&mut doc);
        let methods = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| (path.clone(), methods_of(item)))
            .collect();
        Contract {
            json: doc.to_json().expect("the document serializes"),
            methods,
        }
    }

    /// The methods a route pattern answers, if it is one of the document's paths.
    pub fn methods(&self, pattern: &str) -> Option<&[Method]> {
        self.methods.get(pattern).map(Vec::as_slice)
    }
}

/// The respondent pages are registered for GET and HEAD (`#[route(..., method = "GET", method =
/// "HEAD")]`); utoipa keeps one operation per handler, so HEAD is added here as GET's twin.
fn respondent_pages_answer_head(doc: &mut Document) {
    for item in doc.paths.paths.values_mut() {
        let Some(get) = &item.get else { continue };
        let tagged = get
            .tags
            .as_ref()
            .is_some_and(|tags| tags.iter().any(|t| t == "respondent pages"));
        if tagged && item.head.is_none() {
            let mut head = get.clone();
            head.operation_id = head.operation_id.map(|id| format!("{id}_head"));
            item.head = Some(head);
        }
    }
}

fn methods_of(item: &utoipa::openapi::PathItem) -> Vec<Method> {
    [
        (&item.get, Method::GET),
        (&item.head, Method::HEAD),
        (&item.post, Method::POST),
        (&item.put, Method::PUT),
        (&item.patch, Method::PATCH),
        (&item.delete, Method::DELETE),
        (&item.options, Method::OPTIONS),
    ]
    .into_iter()
    .filter(|(op, _)| op.is_some())
    .map(|(_, m)| m)
    .collect()
}

/// What this document is, as far as its own schema goes (OpenAPI 3.1 specifies the rest).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OpenApiDocument {
    /// `3.1.0`
    openapi: String,
    info: BTreeMap<String, serde_json::Value>,
    paths: BTreeMap<String, serde_json::Value>,
    #[schema(required = false)]
    components: BTreeMap<String, serde_json::Value>,
}

/// This document.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = OpenApiDocument))
)]
#[get("/openapi.json")]
async fn document(contract: web::Data<Contract>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(contract.json.clone())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(document);
}

/// No route matched: a known path with another method is 405 with `Allow`; anything else 404.
pub async fn unmatched(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .resource_map()
        .match_pattern(req.path())
        .and_then(|pattern| {
            let contract = req.app_data::<web::Data<Contract>>()?;
            contract.methods(&pattern).map(<[Method]>::to_vec)
        });
    match allowed {
        Some(methods) if !methods.is_empty() => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            ApiError::MethodNotAllowed(allow).error_response()
        }
        _ => ApiError::RouteNotFound.error_response(),
    }
}

/// `{site}` of a path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct SitePath {
    /// The site id (`[a-z0-9-]`).
    site: String,
}

/// `{site}` and `{survey}` of a path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct SurveyPath {
    /// The site id.
    site: String,
    /// The survey id.
    survey: String,
}

/// `{site}` and `{id}` of a path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct UserPath {
    /// The user's name.
    name: String,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct UserChangePath {
    name: String,
    /// `role`, `disable`, `enable`, `token`, `revoke-token` or `invite`.
    change: String,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct LinkPath {
    /// The secret of a single-use password link.
    secret: String,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct SiteIdPath {
    /// The site id.
    site: String,
    /// The record's id (a UUID; anything else is 404).
    id: String,
}

/// `{site}` and `{file}` of a path: a rule file of `rules/` (`parking.rhai`) under
/// `…/rules/files/`, a rule test file of `rules/tests/` (`parking.toml`) under `…/rules/tests/`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct RuleFilePath {
    /// The site id.
    site: String,
    /// The file's name.
    file: String,
}

/// `{site}`, `{file}` and `{number}` (a version, from 1) of a path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct RuleVersionPath {
    /// The site id.
    site: String,
    /// The file's name.
    file: String,
    /// The version's number.
    number: u64,
}

/// The sign-in form (`csrf` from the form page, with its `chorus_login` cookie).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LoginForm {
    csrf: String,
    name: String,
    password: String,
}

/// An admin form: the session's CSRF token, and the form's own fields (a task's `status` and
/// `reason`; the try-it form's `survey` and answers; the listing to return to).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AdminForm {
    csrf: String,
}

/// The set-password form of a password link (`/admin/password/{secret}`); a missing field
/// counts as empty (the page then says what is wrong, or that the link is gone).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PasswordLinkForm {
    password: Option<String>,
    confirm_password: Option<String>,
}

/// The survey form: one field per question (a multi-choice repeats its field), the hidden
/// submission id and the language.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SurveyForm {
    submission_id: Option<String>,
}

/// The answers of every endpoint that takes a token, beside its own and `PublicErrors`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum TokenErrors<'a> {
    /// missing_token or invalid_token
    #[response(status = 401)]
    Unauthorized(ErrorBody<'a>),
    /// forbidden: another site or too small a role
    #[response(status = 403)]
    Forbidden(ErrorBody<'a>),
}

/// The answers of every public endpoint of a site or survey, beside its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum PublicErrors<'a> {
    /// site_not_found or survey_not_found
    #[response(status = 404)]
    NotFound(ErrorBody<'a>),
    /// site_unavailable, store_unavailable or unavailable
    #[response(status = 503)]
    Unavailable(ErrorBody<'a>),
}

/// The answers of every endpoint that reads a JSON body, beside its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors<'a> {
    /// malformed_json or invalid_body
    #[response(status = 400)]
    BadRequest(ErrorBody<'a>),
    /// payload_too_large
    #[response(status = 413)]
    TooLarge(ErrorBody<'a>),
    /// unsupported_media_type
    #[response(status = 415)]
    NotJson(ErrorBody<'a>),
}

/// The answers of an admin page besides its own: no session, no access, no such site.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AdminPageErrors {
    /// No session: to /admin/login (login_required)
    #[response(status = 303, content_type = "text/html")]
    SignIn(String),
    /// forbidden
    #[response(status = 403, content_type = "text/html")]
    Forbidden(String),
    /// no such site
    #[response(status = 404, content_type = "text/html")]
    NotFound(String),
}

/// The refusals of the user-management forms (add a user, change one), each a page with its
/// reason.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum UserFormRefusals {
    /// Bad input: the page with the reason
    #[response(status = 400, content_type = "text/html")]
    BadInput(String),
    /// Not allowed, or csrf_rejected
    #[response(status = 403, content_type = "text/html")]
    Forbidden(String),
    /// No such user
    #[response(status = 404, content_type = "text/html")]
    NoSuchUser(String),
    /// The name is taken
    #[response(status = 409, content_type = "text/html")]
    Taken(String),
    /// Not a form
    #[response(status = 415, content_type = "text/html")]
    NotAForm(String),
    /// Sign in first
    #[response(status = 303, content_type = "text/html")]
    SignIn(String),
}

/// The answers of an admin form post.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AdminFormAnswers {
    /// Done (or no session): back to the page, or to /admin/login
    #[response(status = 303, content_type = "text/html")]
    Done(String),
    /// csrf_rejected or forbidden
    #[response(status = 403, content_type = "text/html")]
    Forbidden(String),
    /// no such site or record
    #[response(status = 404, content_type = "text/html")]
    NotFound(String),
    /// refused: the page with the problems
    #[response(status = 422, content_type = "text/html")]
    Refused(String),
    /// Not a form (unsupported_media_type)
    #[response(status = 415, content_type = "text/html")]
    NotAForm(String),
}

/// The answers of the rule editor's apply and delete forms.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum RuleChangeAnswers {
    /// The changes to confirm (the diff)
    #[response(status = 200, content_type = "text/html")]
    Diff(String),
    /// Applied (to the editor), or no session (to /admin/login)
    #[response(status = 303, content_type = "text/html")]
    Done(String),
    /// csrf_rejected or forbidden
    #[response(status = 403, content_type = "text/html")]
    Forbidden(String),
    /// no such site or file
    #[response(status = 404, content_type = "text/html")]
    NotFound(String),
    /// rules_in_files: the site's rules are its files (rules_source = "files")
    #[response(status = 409, content_type = "text/html")]
    InFiles(String),
    /// Not a form (unsupported_media_type)
    #[response(status = 415, content_type = "text/html")]
    NotAForm(String),
    /// refused: the page with the problems
    #[response(status = 422, content_type = "text/html")]
    Refused(String),
}

/// The answers of a respondent page besides its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum PageErrors {
    /// not found
    #[response(status = 404, content_type = "text/html")]
    NotFound(String),
    /// the site is not running, or the store is unavailable
    #[response(status = 503, content_type = "text/html")]
    Unavailable(String),
}
