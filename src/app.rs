//! The application: shared state and the one app builder used by `serve` and by the tests.

use crate::config::Config;
use crate::errors::{ApiError, StartupError};
use crate::http;
use crate::metrics::Metrics;
use crate::report::ReportIndex;
use crate::session::{LoginLimiter, Sessions};
use crate::sites::SiteRegistry;
use crate::store::{SledStore, Store, StoreOptions};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App};
use std::sync::Arc;
use std::time::Instant;

pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub sites: SiteRegistry,
    pub templates: tera::Tera,
    /// `templates/static/`, served under `/static/`.
    pub assets: http::StaticAssets,
    pub metrics: Metrics,
    /// Incremental barrier × group counters behind the report (see `report::index`).
    pub report: ReportIndex,
    /// Web-login sessions (in memory: a restart signs everyone out).
    pub sessions: Sessions,
    pub login_limiter: LoginLimiter,
    /// Wakes the webhook delivery worker when new deliveries are stored.
    pub outbox: tokio::sync::Notify,
    /// When each site's `review` hooks last ran and on which report (see `review`).
    pub reviews: crate::review::Reviews,
    /// Threads for the submission pipeline's CPU work (rules, validation, the store write).
    pub work: crate::pool::WorkPool,
    /// The outcome of the scheduled backups (see `backups`).
    pub backups: crate::backups::BackupStatus,
}

/// Loads and compiles the tera templates once; a broken template stops the start.
pub fn load_templates(dir: &std::path::Path) -> Result<tera::Tera, StartupError> {
    let glob = dir.join("**").join("*.html");
    let glob = glob
        .to_str()
        .ok_or_else(|| StartupError::Templates("template path is not UTF-8".into()))?;
    let tera = tera::Tera::new(glob).map_err(|e| {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        StartupError::Templates(format!("{} ({})", msg, dir.display()))
    })?;
    if tera.get_template_names().next().is_none() {
        return Err(StartupError::Templates(format!(
            "no templates found in {}",
            dir.display()
        )));
    }
    Ok(tera)
}

impl AppState {
    /// Opens the store and loads sites and templates as the configuration says.
    pub fn open(config: Config) -> Result<AppState, StartupError> {
        let work_threads = 2 * config.workers.max(1);
        let sites = SiteRegistry::load_with_limits(
            &config.sites,
            &config.plugins,
            crate::plugins::Limits {
                deadline: config.rule_deadline,
                ..Default::default()
            },
            config.webhook_policy(),
        )
        .map_err(StartupError::Sites)?;
        let templates = load_templates(&config.templates)?;
        let assets = http::StaticAssets::load(&config.templates.join("static"))
            .map_err(StartupError::Templates)?;
        let store = SledStore::open(
            &config.data,
            &StoreOptions {
                cache_capacity_bytes: config.cache_capacity_bytes,
            },
        )?;
        let report = ReportIndex::new();
        for site in sites.ids() {
            report.rebuild_site(&store, &site)?;
        }
        Ok(AppState {
            backups: crate::backups::BackupStatus::new(&config),
            config,
            store: Arc::new(store),
            sites,
            templates,
            assets,
            metrics: Metrics::default(),
            report,
            sessions: Sessions::default(),
            login_limiter: LoginLimiter::default(),
            outbox: tokio::sync::Notify::new(),
            reviews: crate::review::Reviews::default(),
            work: crate::pool::WorkPool::new(work_threads),
        })
    }
}

/// Security headers for every page and API answer.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
}

pub fn create_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics_state = state.clone();
    App::new()
        .app_data(state)
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::InvalidQuery {
                field: "query".into(),
                message: e.to_string(),
            }
            .into()
        }))
        .configure(http::configure)
        .wrap(security_headers())
        .wrap_fn(move |req, srv| {
            use actix_web::dev::Service as _;
            let started = Instant::now();
            let state = metrics_state.clone();
            let method = req.method().clone();
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                let elapsed = started.elapsed();
                state.metrics.observe_request(elapsed.as_secs_f64());
                // The route pattern, never the path: paths carry ids, logs carry no PII.
                let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
                tracing::debug!(%method, %route, status = res.status().as_u16(), micros = elapsed.as_micros() as u64, "request");
                Ok(res)
            }
        })
}
