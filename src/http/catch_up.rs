//! Catch-up of follow-ups through the JSON API (docs/retag.md): preview what the current rules
//! would create for stored responses of a range that lack it, start the run, read its progress.

use super::auth::{Admin, SiteUser};
use super::error::ApiError;
use super::rules::NeverRun;
use crate::app::AppState;
use crate::domain::CatchUpProgress;
use crate::services::audit::Actor;
use crate::services::catch_up::{self, Preview};
use crate::services::paging;
use crate::services::retag::Range;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(preview_catch_up)
        .service(start_catch_up)
        .service(catch_up_progress);
}

/// A range of stored responses by submission time.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// RFC 3339 or YYYY-MM-DD, inclusive; absent: from the first response.
    pub since: Option<String>,
    /// RFC 3339 or YYYY-MM-DD, exclusive, later than `since`; absent (or later than now): now.
    pub until: Option<String>,
}

impl RangeQuery {
    pub fn range(&self, site: &crate::survey::Site) -> Result<Range, ApiError> {
        Ok(Range::parse(
            site,
            self.since.as_deref(),
            self.until.as_deref(),
        )?)
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PreviewQuery {
    /// As for the run.
    since: Option<String>,
    until: Option<String>,
    /// Responses per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The latest catch-up's progress, or `{"status": "never"}` before the first.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
enum CatchUpAnswer {
    Progress(Box<CatchUpProgress>),
    Never { status: NeverRun },
}

/// What a catch-up of the range would create now (counts per kind and place, and a page of
/// the responses concerned, never their answers); reads only.
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath, PreviewQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "What a catch-up would create; nothing stored or sent", body = Preview),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/catch-up/preview")]
async fn preview_catch_up(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = RangeQuery {
        since: query.since.clone(),
        until: query.until.clone(),
    }
    .range(&user.site.site)?;
    let limit = paging::limit(query.limit)?;
    let after = paging::cursor("cursor", query.cursor.as_deref())?;
    let preview = catch_up::preview(&state, user.id(), range, after, limit).await?;
    Ok(HttpResponse::Ok().json(preview))
}

/// Starts creating the follow-ups a preview of the same range shows (202); never a second
/// task or webhook for a response and action it has.
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath, RangeQuery),
    security(("token" = [])),
    responses(
        (status = 202, description = "The catch-up's progress", body = CatchUpProgress),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        (status = 409, description = "conflict: a catch-up is running", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/catch-up")]
async fn start_catch_up(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = query.range(&user.site.site)?;
    let actor = Actor::User(&user.user.name);
    let progress = catch_up::start(state.chorus.clone(), actor, user.id(), range).await?;
    Ok(HttpResponse::Accepted().json(progress))
}

/// Progress of the latest catch-up of the site (`{"status": "never"}` before the first).
#[utoipa::path(
    tag = "rules",
    params(crate::http::openapi::SitePath),
    security(("token" = [])),
    responses(
        (status = 200, description = "The latest catch-up's progress ({status: never} before the first)", body = CatchUpAnswer),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/catch-up")]
async fn catch_up_progress(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
) -> Result<HttpResponse, ApiError> {
    Ok(match state.store.catch_up_progress(user.id()).await? {
        Some(p) => HttpResponse::Ok().json(CatchUpAnswer::Progress(Box::new(p))),
        None => HttpResponse::Ok().json(CatchUpAnswer::Never {
            status: NeverRun::Never,
        }),
    })
}
