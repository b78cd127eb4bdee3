//! `GET /api/v1/sites/{site}/audit` (an admin of the site: its entries) and `GET
//! /api/v1/audit` (an admin of every site: every entry), newest first with cursor paging.
//! Read-only: no route changes or deletes an entry.

use super::auth::{Admin, AllSitesAdmin, SiteUser};
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::AuditEntry;
use crate::services::audit::{self, AuditFilters};
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(site_audit).service(all_audit);
}

#[derive(Serialize, utoipa::ToSchema)]
struct AuditList {
    entries: Vec<AuditEntry>,
    next_cursor: Option<String>,
}

async fn listing(
    state: &AppState,
    site: Option<&str>,
    filters: &AuditFilters,
) -> Result<HttpResponse, ApiError> {
    let page = audit::list(state.store.as_ref(), &filters.to_query(site)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(AuditList {
            entries: page.items,
            next_cursor: page.next.map(|n| n.to_string()),
        }))
}

#[utoipa::path(
    tag = "audit",
    params(crate::http::openapi::SitePath, AuditFilters),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of the site's audit entries, newest first, and next_cursor", body = AuditList),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/audit")]
async fn site_audit(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ApiError> {
    listing(&state, Some(user.id()), &filters).await
}

#[utoipa::path(
    tag = "audit",
    params(AuditFilters),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of every site's audit entries, newest first, and next_cursor", body = AuditList),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        (status = 503, description = "store_unavailable", body = crate::http::error::ErrorBody)
    )
)]
#[get("/audit")]
async fn all_audit(
    state: web::Data<AppState>,
    _admin: AllSitesAdmin,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ApiError> {
    listing(&state, None, &filters).await
}
