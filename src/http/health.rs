//! `GET /healthz` (200 when the store answers; the detail names sites that are not running)
//! and `GET /metrics` (Prometheus text).

use super::auth::MetricsReader;
use super::error::ApiError;
use crate::app::AppState;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok`, or `degraded` when a site is not running.
    status: &'static str,
    /// Running sites.
    sites: usize,
    /// Sites whose files keep them from running (their problems are on the admin pages).
    broken_sites: Vec<String>,
}

#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "ok, or degraded with the sites that are not running", body = Health),
        (status = 503, description = "store_unavailable", body = crate::http::error::ErrorBody)
    )
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.health().await?;
    let broken_sites: Vec<String> = state.sites.broken().into_keys().collect();
    Ok(HttpResponse::Ok().json(Health {
        status: if broken_sites.is_empty() {
            "ok"
        } else {
            "degraded"
        },
        sites: state.sites.ids().len(),
        broken_sites,
    }))
}

/// Prometheus text; it names sites and per-group counts, so it needs a token of a user of every
/// site unless `metrics_public = true`.
#[utoipa::path(
    tag = "operations",
    security(("token" = [])),
    responses(
        (status = 200, description = "Prometheus text", body = String, content_type = "text/plain"),
        (status = 401, description = "missing_token or invalid_token (unless metrics_public)", body = crate::http::error::ErrorBody),
        (status = 403, description = "forbidden: not a user of every site", body = crate::http::error::ErrorBody)
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, _reader: MetricsReader) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
