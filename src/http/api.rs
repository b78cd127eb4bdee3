//! JSON API under /api/v1 (SPEC "JSON API").

use super::body::JsonBody;
use super::common::{cursor, page_limit, site};
use crate::app::AppState;
use crate::auth::{SiteUser, Viewer};
use crate::errors::ApiError;
use crate::response::FollowUp;
use crate::store::ResponseQuery;
use crate::submit::{submit, Submission};
use crate::survey::RawAnswer;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_surveys)
        .service(get_survey)
        .service(post_response)
        .service(list_responses);
}

#[derive(Serialize)]
struct SurveySummary<'a> {
    id: &'a str,
    group: &'a str,
    title: &'a str,
    version: u32,
}

#[get("/sites/{site}/surveys")]
async fn list_surveys(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rt = site(&state, &path)?;
    let list: Vec<SurveySummary> = rt
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
    Ok(HttpResponse::Ok().json(list))
}

#[get("/sites/{site}/surveys/{survey}")]
async fn get_survey(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (site_id, survey_id) = path.into_inner();
    let rt = site(&state, &site_id)?;
    let survey = rt
        .site
        .survey(&survey_id)
        .ok_or(ApiError::SurveyNotFound(survey_id))?;
    Ok(HttpResponse::Ok().json(survey.as_ref()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewResponse {
    answers: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    submission_id: Option<Uuid>,
    /// Language the respondent answered in (SPEC extension).
    #[serde(default)]
    language: Option<String>,
}

#[derive(Serialize)]
struct Created<'a> {
    id: Uuid,
    tags: Vec<String>,
    follow_ups: &'a [FollowUp],
}

/// An `Idempotency-Key` that is not a UUID is mapped to one by hashing, so any string works.
fn idempotency_key(req: &HttpRequest) -> Result<Option<Uuid>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| ApiError::InvalidBody {
        message: "Idempotency-Key must be printable text".into(),
        field: Some("Idempotency-Key".into()),
    })?;
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::InvalidBody {
            message: "Idempotency-Key must be 1 to 255 characters".into(),
            field: Some("Idempotency-Key".into()),
        });
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
        submission_id: body.submission_id,
        language: body.language,
    }
}

/// A JSON submission body as `POST .../responses` decodes it (without the Idempotency-Key
/// header). Public for the fuzz targets.
pub fn json_submission(site: &str, survey: &str, body: &[u8]) -> Result<Submission, ApiError> {
    let body: NewResponse = super::body::decode_json(body)?;
    Ok(into_submission(site.into(), survey.into(), body))
}

#[post("/sites/{site}/surveys/{survey}/responses")]
async fn post_response(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: JsonBody<NewResponse>,
) -> Result<HttpResponse, ApiError> {
    let (site, survey) = path.into_inner();
    let mut submission = into_submission(site, survey, body.0);
    if submission.submission_id.is_none() {
        submission.submission_id = idempotency_key(&req)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    group: Option<String>,
    tag: Option<String>,
    survey: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

/// Milliseconds since the epoch of an RFC 3339 instant or a `YYYY-MM-DD` date (UTC midnight).
pub fn parse_instant_ms(field: &str, value: &str) -> Result<u64, ApiError> {
    use time::format_description::well_known::Rfc3339;
    let bad = || ApiError::InvalidQuery {
        field: field.into(),
        message: format!("\"{value}\" is neither an RFC 3339 time nor a YYYY-MM-DD date"),
    };
    let at = match time::OffsetDateTime::parse(value, &Rfc3339) {
        Ok(t) => t,
        Err(_) => time::Date::parse(
            value,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| bad())?
        .midnight()
        .assume_utc(),
    };
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|_| bad())
}

#[derive(Serialize)]
struct ResponseList {
    responses: Vec<crate::response::StoredResponse>,
    next_cursor: Option<String>,
}

#[get("/sites/{site}/responses")]
async fn list_responses(
    state: web::Data<AppState>,
    user: SiteUser<Viewer>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    site(&state, &user.site)?;
    let q = query.into_inner();
    let limit = page_limit(q.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let after = cursor(q.cursor.as_deref())?;
    let query = ResponseQuery {
        site: user.site.clone(),
        survey: q.survey,
        group: q.group,
        tag: q.tag,
        since_ms: q
            .since
            .as_deref()
            .map(|v| parse_instant_ms("since", v))
            .transpose()?,
        until_ms: q
            .until
            .as_deref()
            .map(|v| parse_instant_ms("until", v))
            .transpose()?,
        after,
        limit,
    };
    let store = state.store.clone();
    let page = web::block(move || store.list_responses(&query))
        .await
        .map_err(|_| ApiError::Unavailable)??;
    Ok(HttpResponse::Ok().json(ResponseList {
        responses: page.responses,
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}
