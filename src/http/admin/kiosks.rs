//! `/admin/sites/{site}/kiosks` (admin): the site's waiting-room kiosks, a form to register
//! one (its single-use enrolment link is shown once, on the page that answers the form) and a
//! button to revoke each (docs/kiosk.md).

use super::dashboard::base_context_for;
use super::extract::CsrfForm;
use super::{html, render, SiteSession};
use crate::app::AppState;
use crate::domain::kiosk::{DEFAULT_IDLE_S, DEFAULT_RETURN_DELAY_S};
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::kiosks::{enrolment_path, KioskView};
use crate::http::see_other;
use crate::services::audit::Actor;
use crate::services::kiosks::{self, NewKiosk};
use crate::services::ServiceError;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(kiosks_page)
        .service(register_kiosk)
        .service(revoke_kiosk);
}

#[derive(Serialize)]
struct SurveyChoice {
    id: String,
    title: String,
}

/// The page, with the enrolment link of a kiosk just registered or a problem with the form.
async fn page(
    state: &AppState,
    req: &HttpRequest,
    s: &SiteSession<Admin>,
    enrolment: Option<(String, String)>,
    problem: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let base = crate::http::public_base(state, req);
    let kiosks: Vec<KioskView> = kiosks::list(state, &s.site)
        .await?
        .into_iter()
        .map(|k| KioskView::of(k, &base))
        .collect();
    let site = &s.runtime.site;
    let surveys: Vec<SurveyChoice> = site
        .surveys
        .iter()
        .map(|sv| SurveyChoice {
            id: sv.id.clone(),
            title: sv.title.clone(),
        })
        .collect();
    let mut ctx = base_context_for(s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &site.config.name);
    ctx.insert("kiosks", &kiosks);
    ctx.insert("surveys", &surveys);
    ctx.insert("languages", &crate::survey::language::served(site, None));
    ctx.insert("default_return", &DEFAULT_RETURN_DELAY_S);
    ctx.insert("default_idle", &DEFAULT_IDLE_S);
    ctx.insert("enrolment", &enrolment);
    ctx.insert("problem", &problem);
    let body = render(state, "admin/kiosks.html", &ctx)?;
    let mut res = html(body);
    if problem.is_some() {
        *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The site's kiosks and the form to register one", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/kiosks")]
async fn kiosks_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: SiteSession<Admin>,
) -> Result<HttpResponse, ApiError> {
    page(&state, &req, &s, None, None).await
}

/// A number of seconds from the form; empty is the default.
fn seconds(form: &CsrfForm, field: &str) -> Result<Option<u32>, ServiceError> {
    match form.field(field).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ServiceError::invalid_body(field, "must be a whole number of seconds")),
    }
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Registered: the page with the enrolment link, shown once", body = String, content_type = "text/html"),
        crate::http::openapi::AdminFormAnswers
    )
)]
#[post("/sites/{site}/kiosks")]
async fn register_kiosk(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: SiteSession<Admin>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let new = (|| {
        Ok::<_, ServiceError>(NewKiosk {
            name: form.field("name").unwrap_or("").to_string(),
            survey: form.field("survey").unwrap_or("").to_string(),
            language: form.field("language").map(str::to_string),
            return_delay_s: seconds(&form, "return_delay_s")?,
            idle_s: seconds(&form, "idle_s")?,
        })
    })();
    let registered = match new {
        Ok(new) => {
            kiosks::register(&state, Actor::User(&s.session.user), &s.runtime.site, &new).await
        }
        Err(e) => Err(e),
    };
    match registered {
        Ok(done) => {
            let base = crate::http::public_base(&state, &req);
            let url = format!("{base}{}", enrolment_path(&s.site, &done.enrolment_token));
            page(&state, &req, &s, Some((done.kiosk.name, url)), None).await
        }
        Err(e @ (ServiceError::InvalidBody { .. } | ServiceError::InvalidLanguage(_))) => {
            page(&state, &req, &s, None, Some(e.to_string())).await
        }
        Err(ServiceError::SurveyNotFound(_)) => {
            let problem = "Choose one of the site's surveys.".to_string();
            page(&state, &req, &s, None, Some(problem)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SiteIdPath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::http::openapi::AdminFormAnswers)
)]
#[post("/sites/{site}/kiosks/{id}/revoke")]
async fn revoke_kiosk(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    path: web::Path<(String, String)>,
    _form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let id = crate::http::common::path_id(&path.1, ServiceError::KioskNotFound)?;
    kiosks::revoke(&state, Actor::User(&s.session.user), &s.site, id).await?;
    Ok(see_other(&format!("/admin/sites/{}/kiosks", s.site)))
}
