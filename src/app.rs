//! The application: the state every request shares, and the one app builder used by `serve`
//! and by the tests.

use crate::config::{Config, StartupError};
use crate::http;
use crate::plugins::Limits;
use crate::services::audit::{self, Actor, Event};
use crate::services::backups::{self, BackupStatus};
use crate::services::password_links;
use crate::services::sites::SiteRegistry;
use crate::services::users::{self, UserError};
use crate::services::webhooks::{DeliveryWorker, RetryPolicy};
use crate::services::Chorus;
use crate::services::{catch_up, retag, review, sites};
use crate::store::{Backend, StoreConfig};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpServer};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use utoipa_actix_web::AppExt;

/// What the HTTP layer holds: the services' context plus what only pages need.
pub struct AppState {
    pub chorus: Arc<Chorus>,
    pub config: Config,
    pub templates: tera::Tera,
    /// `templates/static/`, served under `/static/`.
    pub assets: http::StaticAssets,
    /// The outcome of this server's scheduled backups, for the dashboard.
    pub backups: Arc<BackupStatus>,
}

/// Handlers reach the services' context through the state (`state.store`, `state.sites`).
impl std::ops::Deref for AppState {
    type Target = Chorus;
    fn deref(&self) -> &Chorus {
        &self.chorus
    }
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

/// The store the configuration names.
pub fn store_config(config: &Config) -> StoreConfig {
    let backend = match &config.store {
        Some(url) => Backend::Postgres {
            url: url.clone(),
            pool_size: config.store_pool_size,
        },
        None => Backend::Sled {
            dir: config.data.clone(),
            cache_capacity_bytes: config.cache_capacity_bytes,
        },
    };
    StoreConfig {
        backend,
        threads: config.workers.max(1),
    }
}

impl AppState {
    /// Opens the store and loads sites and templates as the configuration says.
    pub async fn open(config: Config) -> Result<AppState, StartupError> {
        let load = || {
            SiteRegistry::load_with_limits(
                &config.sites,
                &config.plugins,
                Limits {
                    deadline: config.rule_deadline,
                    ..Default::default()
                },
                config.webhook_policy(),
            )
            .map_err(StartupError::Sites)
        };
        let templates = load_templates(&config.templates)?;
        let assets = http::StaticAssets::load(&config.templates.join("static"))
            .map_err(StartupError::Templates)?;
        let store = crate::store::open(&store_config(&config)).await?;
        // Sites whose rules live in the store run its current versions.
        let synced = crate::services::rule_source::sync_every_folder(store.as_ref(), &config.sites)
            .await
            .map_err(|e| StartupError::Io(format!("cannot write the store's rules: {e}")));
        let sites = match synced.and_then(|()| load()) {
            Ok(sites) => sites,
            Err(e) => {
                let _ = store.close().await;
                return Err(e);
            }
        };
        let chorus = Chorus::new(store, sites, 2 * config.workers.max(1));
        Ok(AppState {
            chorus: Arc::new(chorus),
            backups: Arc::new(BackupStatus::new(config.backup_schedule().as_ref())),
            config,
            templates,
            assets,
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
    // The routes and the OpenAPI document come from the same registrations.
    let (app, document) = App::new()
        .into_utoipa_app()
        .configure(http::configure)
        .split_for_parts();
    app.app_data(state)
        .app_data(web::Data::new(http::Contract::new(document)))
        .default_service(web::to(http::unmatched))
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            http::ApiError::from(crate::services::ServiceError::invalid_query(
                "query",
                e.to_string(),
            ))
            .into()
        }))
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

/// Serves until SIGTERM or SIGINT: the HTTP server, the webhook worker, SIGHUP reloads,
/// interrupted re-tags, the review loop and scheduled backups; then a clean stop of the store.
pub fn serve(config: Config) -> Result<ExitCode, StartupError> {
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async move {
        let state = web::Data::new(AppState::open(config).await?);
        ensure_initial_admin(&state).await?;
        report_broken_sites(&state);
        audit::record_start(state.store.as_ref()).await?;
        warn_about_webhook_secrets(&state);
        let config = state.config.clone();
        let app_state = state.clone();
        let server = HttpServer::new(move || create_app(app_state.clone()))
            .workers(config.workers)
            .shutdown_timeout(config.shutdown_timeout.as_secs())
            .bind(&config.bind)
            .map_err(|source| StartupError::Bind {
                addr: config.bind.clone(),
                source,
            })?;
        let chorus = state.chorus.clone();
        if config.deliver_webhooks {
            let policy = RetryPolicy {
                span: config.webhook_retry_span,
                lease: config.webhook_lease,
                request_timeout: config.webhook_timeout,
                ..Default::default()
            };
            actix_web::rt::spawn(DeliveryWorker::new(chorus.clone(), policy).run());
        } else {
            tracing::warn!("webhook deliveries are paused (deliver_webhooks = false)");
        }
        sites::reload_on_sighup(chorus.clone());
        actix_web::rt::spawn(sites::follow_reloads(chorus.clone()));
        retag::resume(chorus.clone()).await;
        catch_up::resume(chorus.clone()).await;
        chorus.reviews.set_interval(config.review_interval);
        actix_web::rt::spawn(review::run_loop(chorus.clone()));
        if let Some(schedule) = config.backup_schedule() {
            let status = state.backups.clone();
            actix_web::rt::spawn(backups::run_loop(chorus.clone(), schedule, status));
        }
        for addr in server.addrs() {
            tracing::info!("serving on http://{addr}");
        }
        // actix stops on SIGTERM/SIGINT after in-flight requests finish; then a clean stop.
        server
            .run()
            .await
            .map_err(|e| StartupError::Io(e.to_string()))?;
        tracing::info!("stopped accepting requests; flushing the store");
        audit::record(chorus.store.as_ref(), Actor::System, Event::Stopped).await?;
        chorus.store.close().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A site whose files have problems does not run; the others do. Each problem is logged as
/// `file:line:col: message` (also on `/healthz`, the admin pages and `chorus check`).
fn report_broken_sites(state: &AppState) {
    for (site, problems) in state.sites.broken() {
        for problem in &problems {
            tracing::error!(site = %site, "{problem}");
        }
        tracing::error!(
            site = %site,
            problems = problems.len(),
            "site not started: fix its files, then reload it (POST /api/v1/sites/{site}/reload, the admin page, or SIGHUP)"
        );
    }
}

/// A webhook whose secret cannot be read would fail every delivery: say so once, at start,
/// naming the webhook and the variable (never a secret). The admin pages say it too.
fn warn_about_webhook_secrets(state: &AppState) {
    for id in state.sites.ids() {
        let Some(rt) = state.sites.get(&id) else {
            continue;
        };
        for (webhook, problem) in crate::services::signing::secret_problems(&rt.site) {
            tracing::warn!(
                site = %id,
                webhook = %webhook,
                "webhook secret unavailable ({problem}): its deliveries stay pending until the server is restarted with it set"
            );
        }
    }
}

/// On first start with no users: an all-sites admin whose token is printed once and written
/// durably to DATA/initial-admin-token (mode 0600). A store with data but no users is not a
/// new installation: no admin is created and the start stops.
async fn ensure_initial_admin(state: &AppState) -> Result<(), StartupError> {
    let created = match users::initial_admin(state.store.as_ref()).await {
        Ok(created) => created,
        Err(UserError::NotANewInstall) => {
            return Err(StartupError::Refused(format!(
                "the store in {} holds responses, tasks or kiosks but no users, so it is not a new \
                 installation and no admin is created; add one with `chorus user add --site '*' \
                 --name admin --role admin`",
                state.config.data.display()
            )))
        }
        Err(e) => return Err(StartupError::Io(e.to_string())),
    };
    let Some(token) = created else {
        return Ok(());
    };
    // With PostgreSQL there is no data directory otherwise; the token file makes one.
    let path = state.config.data.join("initial-admin-token");
    std::fs::create_dir_all(&state.config.data).map_err(|e| {
        StartupError::Io(format!(
            "cannot create {}: {e}",
            state.config.data.display()
        ))
    })?;
    crate::store::durable_file::write_durably(&path, format!("{token}\n").as_bytes(), 0o600)
        .map_err(|e| StartupError::Io(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "Created the all-sites admin \"admin\". Its API token (shown once, also in {}):",
        path.display()
    );
    println!("{token}");
    // The web app: a single-use link to set the admin's password, so nobody has to stop the
    // server to run `chorus user passwd`.
    let link = password_links::for_initial_admin(state.store.as_ref())
        .await
        .map_err(|e| StartupError::Io(e.to_string()))?;
    let base = crate::commands::public_base(None, &state.config)?;
    println!(
        "To sign in to the web app, set the admin's password within {} hours at this single-use link:",
        password_links::LINK_HOURS
    );
    println!("{base}{}", password_links::link_path(&link.secret));
    Ok(())
}
