//! The FHIR R4 endpoint under `/fhir/r4` (docs/fhir.md, "The endpoint"): thin handlers that
//! parse the search, call `services::fhir` and render `application/fhir+json`; every error is
//! an OperationOutcome (`error.rs`).

mod error;

use super::api::idempotency_key;
use super::auth::{check_access, token_user, Viewer};
use super::body::FhirBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::fhir::rest::{self, FHIR_JSON};
use crate::fhir::{search, FhirBase, QuestionnaireResponse};
use crate::services::audit::Actor;
use crate::services::fhir as service;
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, FromRequest, HttpRequest, HttpResponse};
use error::FhirError;
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

/// The answers of every FHIR read besides its own, as OperationOutcome.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum ReadErrors {
    /// An unknown, repeated or malformed parameter
    #[response(status = 400, content_type = "application/fhir+json")]
    BadRequest(serde_json::Value),
    /// Accept names neither FHIR JSON, JSON nor a wildcard
    #[response(status = 406, content_type = "application/fhir+json")]
    NotAcceptable(serde_json::Value),
}

/// The answers of a FHIR read that takes a token, besides its own, as OperationOutcome.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum TokenErrors {
    /// No or an unknown bearer token
    #[response(status = 401, content_type = "application/fhir+json")]
    Unauthorized(serde_json::Value),
    /// The store is unavailable
    #[response(status = 503, content_type = "application/fhir+json")]
    Unavailable(serde_json::Value),
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/fhir/r4")
            .service(metadata)
            .service(search_questionnaires)
            .service(read_questionnaire)
            .service(search_responses)
            .service(create_response)
            .service(read_response)
            .default_service(web::to(unmatched)),
    );
}

/// The methods each path of the endpoint takes (the routes below), for 405 and `Allow`.
fn allowed_methods(path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix("/fhir/r4/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        ["metadata"] | ["Questionnaire"] | ["Questionnaire", _] => Some("GET"),
        ["QuestionnaireResponse"] => Some("GET, POST"),
        ["QuestionnaireResponse", _] => Some("GET"),
        _ => None,
    }
}

/// What no route took: a known path with another method is 405 naming those it takes, anything
/// else under `/fhir/r4` is 404, both as OperationOutcome.
async fn unmatched(req: HttpRequest) -> Result<HttpResponse, FhirError> {
    Err(match allowed_methods(req.path()) {
        Some(allow) => FhirError::MethodNotAllowed(allow),
        None => FhirError::NoEndpoint,
    })
}

/// The request accepts FHIR JSON (no `Accept`, or one naming it, JSON or a wildcard).
struct Negotiated;

impl FromRequest for Negotiated {
    type Error = FhirError;
    type Future = std::future::Ready<Result<Self, FhirError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let accepts = |value: &str| {
            value.split(',').any(|range| {
                let media = range.split(';').next().unwrap_or_default().trim();
                matches!(
                    media.to_ascii_lowercase().as_str(),
                    FHIR_JSON
                        | "application/json"
                        | "application/json+fhir"
                        | "application/*"
                        | "*/*"
                )
            })
        };
        let headers: Vec<&str> = req
            .headers()
            .get_all(header::ACCEPT)
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ok = headers.is_empty() || headers.iter().any(|v| accepts(v));
        std::future::ready(if ok {
            Ok(Negotiated)
        } else {
            Err(FhirError::NotAcceptable)
        })
    }
}

/// The query's parameters in order, repeats kept.
fn pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, FhirError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|e| crate::services::ServiceError::invalid_query("query", e.to_string()).into())
}

fn base(state: &AppState, req: &HttpRequest) -> (String, FhirBase) {
    let public = super::public_base(state, req);
    let fhir = FhirBase::new(&public);
    (public, fhir)
}

fn fhir_json(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(FHIR_JSON)
        .json(body)
}

/// A search's URL under the public base, with `_cursor` set to `cursor` (or left out).
fn search_url(
    base: &FhirBase,
    resource_type: &str,
    pairs: &[(String, String)],
    cursor: Option<String>,
) -> String {
    let mut kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(name, _)| cursor.is_none() || name != "_cursor")
        .cloned()
        .collect();
    kept.extend(cursor.map(|c| ("_cursor".to_string(), c)));
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    match query.is_empty() {
        true => format!("{}/{resource_type}", base.as_str()),
        false => format!("{}/{resource_type}?{query}", base.as_str()),
    }
}

#[utoipa::path(
    tag = "fhir",
    params(
        ("_format" = Option<String>, Query, description = "json, application/json or application/fhir+json")
    ),
    responses(
        (status = 200, description = "The CapabilityStatement: exactly what this endpoint supports", body = serde_json::Value, content_type = "application/fhir+json"),
        ReadErrors
    )
)]
#[get("/metadata")]
async fn metadata(
    _: Negotiated,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    search::parse_read(&pairs(&req)?)?;
    let (_, fhir) = base(&state, &req);
    Ok(fhir_json(
        StatusCode::OK,
        &rest::capability_statement(&fhir),
    ))
}

#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, description = "<site>.<survey>"),
        ("_format" = Option<String>, Query, description = "json, application/json or application/fhir+json")
    ),
    responses(
        (status = 200, description = "The survey's current version as a Questionnaire", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 404, description = "No such Questionnaire (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        ReadErrors
    )
)]
#[get("/Questionnaire/{id}")]
async fn read_questionnaire(
    _: Negotiated,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    search::parse_read(&pairs(&req)?)?;
    let (public, _) = base(&state, &req);
    let q = service::questionnaire(&state, &public, &id)?;
    Ok(fhir_json(StatusCode::OK, &q))
}

#[utoipa::path(
    tag = "fhir",
    params(
        ("url" = Option<String>, Query, description = "The canonical URL, with or without |version"),
        ("version" = Option<String>, Query, description = "The survey version"),
        ("status" = Option<String>, Query, description = "Always active"),
        ("_format" = Option<String>, Query, description = "json, application/json or application/fhir+json")
    ),
    responses(
        (status = 200, description = "A searchset Bundle of the matching Questionnaires, with total", body = serde_json::Value, content_type = "application/fhir+json"),
        ReadErrors
    )
)]
#[get("/Questionnaire")]
async fn search_questionnaires(
    _: Negotiated,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let pairs = pairs(&req)?;
    let search = search::parse_questionnaire_search(&pairs)?;
    let (public, fhir) = base(&state, &req);
    let entries = service::search_questionnaires(&state, &public, &search)
        .into_iter()
        .map(|q| (q.id.clone().unwrap_or_default(), q))
        .collect();
    let self_url = search_url(&fhir, "Questionnaire", &pairs, None);
    let bundle = rest::searchset(&fhir, "Questionnaire", entries, self_url, None, true);
    Ok(fhir_json(StatusCode::OK, &bundle))
}

#[utoipa::path(
    tag = "fhir",
    security(("token" = [])),
    params(
        ("id" = String, Path, description = "The response id"),
        ("_format" = Option<String>, Query, description = "json, application/json or application/fhir+json")
    ),
    responses(
        (status = 200, description = "The stored response as a QuestionnaireResponse", body = serde_json::Value, content_type = "application/fhir+json"),
        TokenErrors,
        (status = 404, description = "No such response in a site the token may read (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        ReadErrors
    )
)]
#[get("/QuestionnaireResponse/{id}")]
async fn read_response(
    _: Negotiated,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    let user = token_user(&req).await?;
    search::parse_read(&pairs(&req)?)?;
    let (public, _) = base(&state, &req);
    let resource = service::response(&state, &user, &public, &id).await?;
    Ok(fhir_json(StatusCode::OK, &resource))
}

#[utoipa::path(
    tag = "fhir",
    security(("token" = [])),
    params(
        ("questionnaire" = Option<String>, Query, description = "The Questionnaire answered: canonical URL (|version keeps one version), Questionnaire/<id> or <id>"),
        ("authored" = Option<String>, Query, description = "FHIR date search on the submission time (eq, ge, gt, le, lt, sa, eb); may be repeated"),
        ("_count" = Option<u32>, Query, description = "1-1000, default 50"),
        ("_cursor" = Option<String>, Query, description = "The next link's cursor"),
        ("_format" = Option<String>, Query, description = "json, application/json or application/fhir+json")
    ),
    responses(
        (status = 200, description = "A searchset Bundle of one page, oldest first; a next link while more match", body = serde_json::Value, content_type = "application/fhir+json"),
        TokenErrors,
        (status = 403, description = "A token of another site (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        ReadErrors
    )
)]
#[get("/QuestionnaireResponse")]
async fn search_responses(
    _: Negotiated,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let user = token_user(&req).await?;
    let pairs = pairs(&req)?;
    let search = search::parse_response_search(&pairs)?;
    let site = service::response_search_site(&user, &search)?;
    check_access::<Viewer>(&user, &site)?;
    let (public, fhir) = base(&state, &req);
    let page =
        service::search_responses(&state, Actor::User(&user.name), &site, &public, &search).await?;
    let kind = "QuestionnaireResponse";
    let next = page
        .next
        .map(|c| search_url(&fhir, kind, &pairs, Some(c.to_string())));
    let self_url = search_url(&fhir, kind, &pairs, None);
    let entries = page
        .items
        .into_iter()
        .map(|r| (r.id.clone().unwrap_or_default(), r))
        .collect();
    let whole = search.cursor.is_none();
    let bundle = rest::searchset(&fhir, kind, entries, self_url, next, whole);
    Ok(fhir_json(StatusCode::OK, &bundle))
}

#[utoipa::path(
    tag = "fhir",
    request_body(content = serde_json::Value, content_type = "application/fhir+json", description = "A completed QuestionnaireResponse of a Questionnaire of this server"),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1-255 characters; the same request again answers the first result"),
        ("_format" = Option<String>, Query, description = "json, application/json or application/fhir+json")
    ),
    responses(
        (status = 201, description = "Stored: the QuestionnaireResponse, Location; Idempotent-Replayed: true on a replay", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 400, description = "A malformed body or parameter (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 406, description = "Accept names neither FHIR JSON, JSON nor a wildcard (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 408, description = "The body did not arrive in time (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 413, description = "The body is too large (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 415, description = "Not application/fhir+json or application/json (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 422, description = "Cannot be submitted: one issue per problem, the item's linkId in expression; or an idempotency key reused (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 503, description = "The store is unavailable (OperationOutcome)", body = serde_json::Value, content_type = "application/fhir+json")
    )
)]
#[post("/QuestionnaireResponse")]
async fn create_response(
    _: Negotiated,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<FhirBody<QuestionnaireResponse>, ApiError>,
) -> Result<HttpResponse, FhirError> {
    search::parse_read(&pairs(&req)?)?;
    let key = idempotency_key(&req)?;
    let (public, fhir) = base(&state, &req);
    let (done, resource) = service::submit_response(&state, &public, body?.0, key).await?;
    let location = format!(
        "{}/QuestionnaireResponse/{}",
        fhir.as_str(),
        done.response.id
    );
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, location));
    if done.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.content_type(FHIR_JSON).json(resource))
}
