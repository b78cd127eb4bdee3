//! `GET /api/v1/sites/{site}/report` (SPEC "Report").

use super::api::parse_instant_ms;
use crate::app::AppState;
use crate::auth::{SiteUser, Viewer};
use crate::errors::ApiError;
use crate::report::{site_report, ReportFilter};
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(report);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    pub survey: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

impl ReportQuery {
    /// Checks the query against the site; an empty parameter counts as absent (as an HTML form
    /// sends it).
    pub fn to_filter(&self, site: &crate::survey::Site) -> Result<ReportFilter, ApiError> {
        let survey = present(&self.survey).map(str::to_string);
        if let Some(s) = &survey {
            if site.survey(s).is_none() {
                return Err(ApiError::SurveyNotFound(s.clone()));
            }
        }
        let since_ms = present(&self.since)
            .map(|v| parse_instant_ms("since", v.trim()))
            .transpose()?;
        let until_ms = present(&self.until)
            .map(|v| parse_instant_ms("until", v.trim()))
            .transpose()?;
        if let (Some(s), Some(u)) = (since_ms, until_ms) {
            if u <= s {
                return Err(ApiError::InvalidQuery {
                    field: "until".into(),
                    message: "must be later than since".into(),
                });
            }
        }
        Ok(ReportFilter {
            survey,
            since_ms,
            until_ms,
        })
    }
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

#[get("/sites/{site}/report")]
async fn report(
    state: web::Data<AppState>,
    user: SiteUser<Viewer>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let runtime = crate::http::common::site(&state, &user.site)?;
    let filter = query.to_filter(&runtime.site)?;
    let st = state.clone();
    let report =
        web::block(move || site_report(&st.report, st.store.as_ref(), &runtime.site, &filter))
            .await
            .map_err(|_| ApiError::Unavailable)??;
    Ok(HttpResponse::Ok().json(report))
}
