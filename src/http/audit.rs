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

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(site_audit).service(all_audit);
}

#[derive(Serialize)]
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

#[get("/sites/{site}/audit")]
async fn site_audit(
    state: web::Data<AppState>,
    user: SiteUser<Admin>,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ApiError> {
    listing(&state, Some(user.id()), &filters).await
}

#[get("/audit")]
async fn all_audit(
    state: web::Data<AppState>,
    _admin: AllSitesAdmin,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ApiError> {
    listing(&state, None, &filters).await
}
