//! `chorus serve`.

use crate::app::{create_app, AppState};
use crate::args::ServeArgs;
use crate::auth::{new_token, token_sha256};
use crate::config::Config;
use crate::errors::StartupError;
use crate::store::{Role, User, ALL_SITES};
use actix_web::{web, HttpServer};
use std::process::ExitCode;

pub fn run(args: ServeArgs) -> Result<ExitCode, StartupError> {
    let config = Config::resolve(&args)?;
    let state = AppState::open(config.clone()).map_err(|e| super::with_backup_hint(e, &config))?;
    ensure_initial_admin(&state)?;
    warn_about_webhook_secrets(&state);
    if let Some(since) = state.store.begin_run(crate::followups::now_ms() as u64)? {
        let repaired = crate::followups::repair(&state, since)?;
        tracing::warn!(
            repaired,
            "the last run did not stop cleanly; derived records checked"
        );
    }
    let state = web::Data::new(state);
    let config = state.config.clone();
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async move {
        let app_state = state.clone();
        let server = HttpServer::new(move || create_app(app_state.clone()))
            .workers(config.workers)
            .shutdown_timeout(config.shutdown_timeout.as_secs())
            .bind(&config.bind)
            .map_err(|source| StartupError::Bind {
                addr: config.bind.clone(),
                source,
            })?;
        if config.deliver_webhooks {
            let worker = crate::followups::delivery::DeliveryWorker::new(
                state.clone().into_inner(),
                crate::followups::delivery::RetryPolicy {
                    span: config.webhook_retry_span,
                    ..Default::default()
                },
            );
            actix_web::rt::spawn(worker.run());
        } else {
            tracing::warn!("webhook deliveries are paused (deliver_webhooks = false)");
        }
        crate::reload::reload_on_sighup(state.clone().into_inner());
        crate::retag::resume(state.clone().into_inner());
        actix_web::rt::spawn(crate::review::run_loop(state.clone().into_inner()));
        actix_web::rt::spawn(crate::backups::run_loop(state.clone().into_inner()));
        for addr in server.addrs() {
            tracing::info!("serving on http://{addr}");
        }
        // actix stops on SIGTERM/SIGINT after in-flight requests finish; then flush.
        server
            .run()
            .await
            .map_err(|e| StartupError::Io(e.to_string()))?;
        tracing::info!("stopped accepting requests; flushing the store");
        state.store.end_run()?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A webhook whose secret cannot be read would fail every delivery: say so once, at start,
/// naming the webhook and the variable (never a secret). The admin pages say it too.
fn warn_about_webhook_secrets(state: &AppState) {
    for id in state.sites.ids() {
        let Some(rt) = state.sites.get(&id) else {
            continue;
        };
        for (webhook, problem) in crate::followups::signing::secret_problems(&rt.site) {
            tracing::warn!(
                site = %id,
                webhook = %webhook,
                "webhook secret unavailable ({problem}): its deliveries stay pending until the server is restarted with it set"
            );
        }
    }
}

/// On first start with no users: an all-sites admin whose token is printed once and written
/// to DATA/initial-admin-token (mode 0600).
fn ensure_initial_admin(state: &AppState) -> Result<(), StartupError> {
    if state.store.user_count()? > 0 {
        return Ok(());
    }
    // A store with responses is not a new installation, whatever happened to its users.
    for site in state.sites.ids() {
        if state.store.count_responses(&site)? > 0 {
            return Err(StartupError::Refused(format!(
                "the store in {} holds responses but no users, so it is not a new \
                 installation and no admin is created; add one with `chorus user add --site '*' \
                 --name admin --role admin`",
                state.config.data.display()
            )));
        }
    }
    let token = new_token();
    state.store.put_user(&User {
        name: "admin".into(),
        site: ALL_SITES.into(),
        role: Role::Admin,
        token_sha256: token_sha256(&token),
        password_hash: None,
        created_at: crate::submit::timestamp_of(uuid::Uuid::now_v7()),
    })?;
    let path = state.config.data.join("initial-admin-token");
    crate::durable_file::write_durably(&path, format!("{token}\n").as_bytes(), 0o600)
        .map_err(|e| StartupError::Io(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "Created the all-sites admin \"admin\". Its API token (shown once, also in {}):",
        path.display()
    );
    println!("{token}");
    Ok(())
}
