//! `/admin` (site picker) and `/admin/sites/{site}` (the comparison dashboard).

use super::dashboard_view::{follow_up_sentences, table_rows, trend_views};
use super::extract::{BrokenSite, SitePage};
use super::{base_context, html, render, AdminSession, SiteSession};
use crate::app::AppState;
use crate::domain::{Role, ALL_SITES};
use crate::http::auth::Viewer;
use crate::http::error::ApiError;
use crate::http::report::ReportQuery;
use crate::http::see_other;
use crate::report::chart;
use crate::report::insight::{findings, group_title, weekly};
use crate::report::trend::Interval;
use crate::services::reports::{respondents_by_day, site_report};
use crate::services::rule_errors;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

/// At most this many sentences in each list of findings.
const FINDINGS: usize = 5;
/// The banner shows rule errors of this many hours.
const RULE_ERROR_HOURS: i64 = 24;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(picker).service(picker_slash).service(dashboard);
}

#[derive(Serialize)]
struct BrokenLink {
    id: String,
    problems: usize,
}

#[derive(Serialize)]
struct SiteLink {
    id: String,
    name: String,
}

#[utoipa::path(
    tag = "admin pages",
    responses(
        (status = 200, description = "The site picker (or the only site's dashboard)", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("")]
async fn picker(state: web::Data<AppState>, s: AdminSession) -> Result<HttpResponse, ApiError> {
    site_picker(&state, &s)
}

#[utoipa::path(
    tag = "admin pages",
    responses(
        (status = 200, description = "As /admin", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/")]
async fn picker_slash(
    state: web::Data<AppState>,
    s: AdminSession,
) -> Result<HttpResponse, ApiError> {
    site_picker(&state, &s)
}

/// All-sites users pick a site; everyone else goes straight to theirs.
fn site_picker(state: &AppState, s: &AdminSession) -> Result<HttpResponse, ApiError> {
    if s.user.site != ALL_SITES {
        return Ok(see_other(&format!("/admin/sites/{}", s.user.site)));
    }
    let sites: Vec<SiteLink> = state
        .sites
        .ids()
        .into_iter()
        .filter_map(|id| state.sites.get(&id))
        .map(|rt| SiteLink {
            id: rt.site.id().to_string(),
            name: rt.site.config.name.clone(),
        })
        .collect();
    let broken: Vec<BrokenLink> = state
        .sites
        .broken()
        .into_iter()
        .map(|(id, problems)| BrokenLink {
            id,
            problems: problems.len(),
        })
        .collect();
    if let ([only], []) = (sites.as_slice(), broken.as_slice()) {
        return Ok(see_other(&format!("/admin/sites/{}", only.id)));
    }
    let mut ctx = base_context(s);
    ctx.insert("sites", &sites);
    ctx.insert("broken", &broken);
    ctx.insert("can_admin", &(s.user.role >= Role::Admin));
    Ok(html(render(state, "admin/sites.html", &ctx)?))
}

#[derive(Serialize)]
struct GroupHead {
    title: String,
    respondents: Option<u64>,
    colour: &'static str,
}

/// The page of a site whose files keep it from running: its problems, and (for an admin) the
/// reload button.
pub(crate) fn broken_page(
    state: &AppState,
    b: &BrokenSite,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = base_context(&b.session);
    ctx.insert("broken_site", &b.site);
    ctx.insert("problems", &b.problems);
    ctx.insert("all_sites", &(b.session.user.site == ALL_SITES));
    ctx.insert("can_admin", &(b.session.user.role >= Role::Admin));
    let mut res = html(render(state, "admin/broken.html", &ctx)?);
    *res.status_mut() = status;
    Ok(res)
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The comparison dashboard (503: the site's problems)", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/sites/{site}")]
async fn dashboard(
    state: web::Data<AppState>,
    page: SitePage<Viewer>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = match page {
        SitePage::Running(s) => s,
        SitePage::Broken(b) => {
            return broken_page(&state, &b, actix_web::http::StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    let runtime = s.runtime.clone();
    let mut filter = query.to_filter(&runtime.site)?;
    // The trend charts are weekly unless the filter asks for months.
    filter.interval.get_or_insert(Interval::Week);
    let report = site_report(&state, &runtime.site, &filter).await?;
    let site = &runtime.site;
    let groups: Vec<GroupHead> = report
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| GroupHead {
            title: group_title(&g.group),
            respondents: g.respondents,
            colour: chart::GROUP_COLOURS[i % chart::GROUP_COLOURS.len()],
        })
        .collect();
    let by_day = respondents_by_day(&state, site.id()).await?;
    let weeks = weekly(&by_day, &site.config.groups, 12);
    let mut ctx = base_context_for(&s);
    ctx.insert(
        "site",
        &SiteLink {
            id: site.id().to_string(),
            name: site.config.name.clone(),
        },
    );
    ctx.insert("site_id", site.id());
    ctx.insert("min_cell", &site.config.min_cell);
    ctx.insert("groups", &groups);
    ctx.insert("rows", &table_rows(&report));
    ctx.insert("chart", &chart::layout(&report, &site.config.name));
    ctx.insert("findings", &findings(&report, FINDINGS));
    ctx.insert("trends", &trend_views(&report, site));
    ctx.insert(
        "interval",
        &filter.interval.unwrap_or(Interval::Week).as_str(),
    );
    ctx.insert("follow_ups", &follow_up_sentences(&report, site));
    ctx.insert("weeks", &weeks);
    ctx.insert(
        "surveys",
        &site
            .surveys
            .iter()
            .map(|s| SiteLink {
                id: s.id.clone(),
                name: s.title.clone(),
            })
            .collect::<Vec<_>>(),
    );
    if s.user.role >= Role::Admin {
        ctx.insert("backup", &state.backups.view());
    }
    ctx.insert(
        "rule_errors",
        &rule_errors::recent(&state, site.id(), RULE_ERROR_HOURS).await?,
    );
    ctx.insert("q_survey", &query.survey.clone().unwrap_or_default());
    ctx.insert("q_since", &query.since.clone().unwrap_or_default());
    ctx.insert("q_until", &query.until.clone().unwrap_or_default());
    ctx.insert("q_channel", &query.channel.clone().unwrap_or_default());
    ctx.insert(
        "channel_names",
        &crate::domain::Channel::ALL.map(|c| c.as_str()),
    );
    ctx.insert("channels", &super::dashboard_view::channel_lines(&report));
    Ok(html(render(&state, "admin/dashboard.html", &ctx)?))
}

pub(crate) fn base_context_for<R: crate::http::auth::MinRole>(s: &SiteSession<R>) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("user", &s.user.name);
    ctx.insert("csrf", &s.session.csrf);
    ctx.insert("all_sites", &(s.user.site == ALL_SITES));
    ctx.insert("can_work", &(s.user.role >= Role::Staff));
    ctx.insert("can_admin", &(s.user.role >= Role::Admin));
    ctx.insert("manages_users", &(s.user.role >= Role::Admin));
    ctx
}
