//! `GET /api/v1/sites/{site}/report` (SPEC "Report").

use super::auth::{SiteUser, Viewer};
use super::error::ApiError;
use crate::app::AppState;
use crate::services::reports::{site_report, ReportFilter};
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(report);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    pub survey: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// `week` or `month`: the cells per period as well.
    pub interval: Option<String>,
    pub channel: Option<String>,
}

impl ReportQuery {
    pub fn to_filter(&self, site: &crate::survey::Site) -> Result<ReportFilter, ApiError> {
        Ok(ReportFilter::parse(
            site,
            self.survey.as_deref(),
            self.since.as_deref(),
            self.until.as_deref(),
        )?
        .with_interval(self.interval.as_deref())?
        .with_channel(self.channel.as_deref())?)
    }
}

#[utoipa::path(
    tag = "report",
    params(crate::http::openapi::SitePath, ReportQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The report (SPEC 'Report')", body = crate::report::Report),
        (status = 400, description = "invalid_query", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/sites/{site}/report")]
async fn report(
    state: web::Data<AppState>,
    user: SiteUser<Viewer>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.to_filter(&user.site.site)?;
    let report = site_report(&state, &user.site.site, &filter).await?;
    Ok(HttpResponse::Ok().json(report))
}
