//! `/api/v1/sites/{site}/kiosks` (admin): register a waiting-room kiosk (its single-use
//! enrolment link is in the answer, once), list them, revoke one (docs/kiosk.md).

use super::auth::{Admin, SiteUser};
use super::body::JsonBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::Kiosk;
use crate::services::audit::Actor;
use crate::services::kiosks::{self, NewKiosk};
use crate::services::ServiceError;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_kiosk)
        .service(list_kiosks)
        .service(revoke_kiosk);
}

/// The path of a kiosk's enrolment link (open it on the tablet).
pub(crate) fn enrolment_path(site: &str, token: &str) -> String {
    format!("/s/{site}/kiosk/enrol?t={token}")
}

/// The path of a kiosk's start screen.
pub(crate) fn start_path(k: &Kiosk) -> String {
    format!("/s/{}/{}/kiosk", k.site, k.survey)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewKioskBody {
    name: String,
    survey: String,
    #[serde(default)]
    language: Option<String>,
    /// Seconds the thank-you page shows (default 15).
    #[serde(default)]
    #[schema(minimum = 5, maximum = 300)]
    return_delay_s: Option<u32>,
    /// Seconds an untouched form waits before the idle warning (default 180).
    #[serde(default)]
    #[schema(minimum = 30, maximum = 3600)]
    idle_s: Option<u32>,
}

/// A kiosk as the API shows it: never a hash of its secrets.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct KioskView {
    id: Uuid,
    name: String,
    survey: String,
    #[schema(required = true)]
    language: Option<String>,
    return_delay_s: u32,
    idle_s: u32,
    /// `waiting` (for its tablet), `enrolled` or `revoked`.
    status: &'static str,
    created_at: String,
    #[schema(required = true)]
    enrolled_at: Option<String>,
    #[schema(required = true)]
    revoked_at: Option<String>,
    start_url: String,
    /// Only in the answer that registers the kiosk.
    #[serde(skip_serializing_if = "Option::is_none")]
    enrolment_url: Option<String>,
}

impl KioskView {
    pub(crate) fn of(k: Kiosk, base: &str) -> KioskView {
        KioskView {
            status: k.status(),
            start_url: format!("{base}{}", start_path(&k)),
            id: k.id,
            name: k.name,
            survey: k.survey,
            language: k.language,
            return_delay_s: k.return_delay_s,
            idle_s: k.idle_s,
            created_at: k.created_at,
            enrolled_at: k.enrolled_at,
            revoked_at: k.revoked_at,
            enrolment_url: None,
        }
    }
}

#[utoipa::path(
    tag = "kiosks",
    params(crate::http::openapi::SitePath),
    request_body = NewKioskBody,
    security(("token" = [])),
    responses(
        (status = 201, description = "The kiosk with its single-use enrolment_url (shown once)", body = KioskView),
        crate::http::openapi::BodyErrors,
        (status = 404, description = "survey_not_found", body = crate::http::error::ErrorBody),
        (status = 422, description = "invalid_language", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/kiosks")]
async fn create_kiosk(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SiteUser<Admin>,
    body: JsonBody<NewKioskBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewKiosk {
        name: b.name,
        survey: b.survey,
        language: b.language,
        return_delay_s: b.return_delay_s,
        idle_s: b.idle_s,
    };
    let done =
        kiosks::register(&state, Actor::User(&user.user.name), &user.site.site, &new).await?;
    let base = super::public_base(&state, &req);
    let mut view = KioskView::of(done.kiosk, &base);
    view.enrolment_url = Some(format!(
        "{base}{}",
        enrolment_path(user.id(), &done.enrolment_token)
    ));
    Ok(HttpResponse::Created().json(view))
}

#[derive(Serialize, utoipa::ToSchema)]
struct KioskList {
    kiosks: Vec<KioskView>,
}

#[utoipa::path(
    tag = "kiosks",
    params(crate::http::openapi::SitePath),
    security(("token" = [])),
    responses(
        (status = 200, description = "The site's kiosks, oldest first (never a hash)", body = KioskList),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/kiosks")]
async fn list_kiosks(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SiteUser<Admin>,
) -> Result<HttpResponse, ApiError> {
    let base = super::public_base(&state, &req);
    let kiosks = kiosks::list(&state, user.id()).await?;
    Ok(HttpResponse::Ok().json(KioskList {
        kiosks: kiosks
            .into_iter()
            .map(|k| KioskView::of(k, &base))
            .collect(),
    }))
}

#[utoipa::path(
    tag = "kiosks",
    params(crate::http::openapi::SiteIdPath),
    security(("token" = [])),
    responses(
        (status = 200, description = "The kiosk, revoked: its cookie and enrolment link stop working", body = KioskView),
        (status = 404, description = "kiosk_not_found", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/kiosks/{id}/revoke")]
async fn revoke_kiosk(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SiteUser<Admin>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = super::common::path_id(&path.1, ServiceError::KioskNotFound)?;
    let kiosk = kiosks::revoke(&state, Actor::User(&user.user.name), user.id(), id).await?;
    let base = super::public_base(&state, &req);
    Ok(HttpResponse::Ok().json(KioskView::of(kiosk, &base)))
}
