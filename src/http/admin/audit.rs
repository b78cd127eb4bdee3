//! `/admin/sites/{site}/audit` (an admin of the site: its entries) and `/admin/audit` (an
//! admin of every site: every entry): the audit trail, newest first, filtered and paged.
//! Nothing on these pages changes an entry.

use super::dashboard::base_context_for;
use super::{base_context, html, render, AdminSession, SiteSession};
use crate::app::AppState;
use crate::domain::{AuditEntry, ALL_SITES};
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::services::audit::{self, AuditFilters, ACTIONS};
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(site_page).service(all_page);
}

#[derive(Serialize)]
struct Row {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    site: String,
    target: String,
    details: Vec<String>,
}

fn row(e: AuditEntry) -> Row {
    Row {
        seq: e.seq,
        at: e.at,
        actor: e.actor,
        action: e.action,
        site: e.site.unwrap_or_default(),
        target: e.target.unwrap_or_default(),
        details: e.details.iter().map(|(k, v)| format!("{k}: {v}")).collect(),
    }
}

/// Renders one page of entries; `site` `None` lists every site's.
async fn page(
    state: &AppState,
    mut ctx: tera::Context,
    site: Option<&str>,
    filters: &AuditFilters,
) -> Result<HttpResponse, ApiError> {
    let listed = audit::list(state.store.as_ref(), &filters.to_query(site)?).await?;
    let base = match site {
        Some(s) => format!("/admin/sites/{s}/audit"),
        None => "/admin/audit".to_string(),
    };
    let mut kept = filters.clone();
    kept.cursor.clear();
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    ctx.insert("base", &base);
    ctx.insert("every_site", &site.is_none());
    ctx.insert(
        "rows",
        &listed.items.into_iter().map(row).collect::<Vec<_>>(),
    );
    ctx.insert("f", filters);
    ctx.insert("filter_query", &query);
    ctx.insert("next", &listed.next);
    ctx.insert("first_page", &filters.cursor.is_empty());
    ctx.insert("actions", ACTIONS);
    Ok(html(render(state, "admin/audit.html", &ctx)?))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The site's audit trail", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}/audit")]
async fn site_page(
    state: web::Data<AppState>,
    s: SiteSession<Admin>,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = base_context_for(&s);
    ctx.insert("site_id", &s.site);
    ctx.insert("site_name", &s.runtime.site.config.name);
    page(&state, ctx, Some(&s.site), &filters).await
}

#[utoipa::path(
    tag = "admin pages",
    responses(
        (status = 200, description = "Every site's audit trail", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/audit")]
async fn all_page(
    state: web::Data<AppState>,
    s: AdminSession,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ApiError> {
    if s.user.site != ALL_SITES || s.user.role < crate::domain::Role::Admin {
        return Err(ApiError::NotAllowed("read every site's audit trail".into()));
    }
    page(&state, base_context(&s), None, &filters).await
}
