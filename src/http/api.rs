//! JSON API under /api/v1 (SPEC "JSON API"): surveys, submitting and listing responses.

use super::auth::{PublicSite, SiteUser, Viewer};
use super::body::JsonBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::{Channel, FollowUp, StoredResponse};
use crate::services::audit::Actor;
use crate::services::reports::ReportFilter;
use crate::services::submit::{submit, Submission};
use crate::services::ServiceError;
use crate::services::{paging, responses};
use crate::store::ResponseQuery;
use crate::survey::RawAnswer;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_surveys)
        .service(get_survey)
        .service(post_response)
        .service(list_responses);
}

#[derive(Serialize, utoipa::ToSchema)]
struct SurveySummary<'a> {
    id: &'a str,
    group: &'a str,
    title: &'a str,
    version: u32,
}

#[utoipa::path(
    tag = "responses",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The site's surveys (id, group, title, version)", body = Vec<SurveySummary>),
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/surveys")]
async fn list_surveys(site: PublicSite) -> HttpResponse {
    let list: Vec<SurveySummary> = site
        .0
        .site
        .surveys
        .iter()
        .map(|s| SurveySummary {
            id: &s.id,
            group: &s.group,
            title: &s.title,
            version: s.version,
        })
        .collect();
    HttpResponse::Ok().json(list)
}

#[utoipa::path(
    tag = "responses",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "The survey definition (SPEC 'Survey files')", body = crate::survey::Survey),
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/surveys/{survey}")]
async fn get_survey(
    site: PublicSite,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let survey_id = &path.1;
    let survey = site
        .0
        .site
        .survey(survey_id)
        .ok_or_else(|| ServiceError::SurveyNotFound(survey_id.clone()))?;
    Ok(HttpResponse::Ok().json(survey.as_ref()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewResponse {
    answers: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    submission_id: Option<Uuid>,
    /// Language the respondent answered in (SPEC extension).
    #[serde(default)]
    language: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Created<'a> {
    id: Uuid,
    tags: Vec<String>,
    follow_ups: &'a [FollowUp],
}

/// An `Idempotency-Key` that is not a UUID is mapped to one by hashing, so any string works.
pub(super) fn idempotency_key(req: &HttpRequest) -> Result<Option<Uuid>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let field = Some("Idempotency-Key");
    let key = value
        .to_str()
        .map_err(|_| ApiError::invalid_body("Idempotency-Key must be printable text", field))?;
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::invalid_body(
            "Idempotency-Key must be 1 to 255 characters",
            field,
        ));
    }
    Ok(Some(Uuid::parse_str(key).unwrap_or_else(|_| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(key.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Uuid::from_bytes(bytes)
    })))
}

fn into_submission(site: String, survey: String, body: NewResponse) -> Submission {
    Submission {
        site,
        survey,
        answers: body
            .answers
            .into_iter()
            .map(|(k, v)| (k, RawAnswer::Json(v)))
            .collect(),
        idempotency_key: body.submission_id,
        language: body.language,
        invitation: None,
        channel: Channel::Api,
        kiosk: None,
    }
}

/// A JSON submission body as `POST .../responses` decodes it (without the Idempotency-Key
/// header). Public for the fuzz targets.
pub fn json_submission(site: &str, survey: &str, body: &[u8]) -> Result<Submission, ApiError> {
    let body: NewResponse = super::body::decode_json(body)?;
    Ok(into_submission(site.into(), survey.into(), body))
}

#[utoipa::path(
    tag = "responses",
    params(crate::http::openapi::SurveyPath, ("Idempotency-Key" = Option<String>, Header, description = "Any 1-255 characters; a replay of the same survey and body answers the first result")),
    request_body = NewResponse,
    responses(
        (status = 201, description = "Stored: id, tags, follow_ups; Idempotent-Replayed: true on a replay", body = Created),
        crate::http::openapi::BodyErrors,
        (status = 422, description = "invalid_answer, invalid_language or idempotency_key_reused", body = crate::http::error::ErrorBody),
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/surveys/{survey}/responses")]
async fn post_response(
    state: web::Data<AppState>,
    req: HttpRequest,
    site: PublicSite,
    path: web::Path<(String, String)>,
    body: JsonBody<NewResponse>,
) -> Result<HttpResponse, ApiError> {
    let site = site.0.site.id().to_string();
    let mut submission = into_submission(site, path.into_inner().1, body.0);
    if submission.idempotency_key.is_none() {
        submission.idempotency_key = idempotency_key(&req)?;
    }
    let done = submit(&state, submission).await?;
    let mut res = HttpResponse::Created();
    if done.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(Created {
        id: done.response.id,
        tags: done.response.tag_codes(),
        follow_ups: &done.response.follow_ups,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    group: Option<String>,
    tag: Option<String>,
    survey: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ResponseList {
    responses: Vec<StoredResponse>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[utoipa::path(
    tag = "responses",
    params(crate::http::openapi::SitePath, ListQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of responses, oldest first, and next_cursor", body = ResponseList),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/responses")]
async fn list_responses(
    state: web::Data<AppState>,
    user: SiteUser<Viewer>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    // The survey and the time range are checked as /report checks them: an unknown survey is
    // 404, `until` not after `since` is 400.
    let range = ReportFilter::parse(
        &user.site.site,
        q.survey.as_deref(),
        q.since.as_deref(),
        q.until.as_deref(),
    )?;
    let query = ResponseQuery {
        site: user.id().to_string(),
        survey: range.survey,
        group: q.group,
        tag: q.tag,
        since_ms: range.since_ms,
        until_ms: range.until_ms,
        after: paging::cursor("cursor", q.cursor.as_deref())?,
        limit: paging::limit(q.limit)?,
    };
    let page = responses::list(&state, Actor::User(&user.user.name), &query).await?;
    Ok(HttpResponse::Ok().json(ResponseList {
        responses: page.items,
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}
