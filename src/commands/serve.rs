//! `chorus serve`.

use crate::app::{create_app, AppState};
use crate::commands::args::ServeArgs;
use crate::config::{Config, StartupError};
use crate::services::webhooks::{DeliveryWorker, RetryPolicy};
use crate::services::{retag, review, sites, users};
use actix_web::{web, HttpServer};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: ServeArgs) -> Result<ExitCode, StartupError> {
    let config = Config::resolve(&args)?;
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async move {
        let state = web::Data::new(AppState::open(config).await?);
        ensure_initial_admin(&state).await?;
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
                ..Default::default()
            };
            actix_web::rt::spawn(DeliveryWorker::new(chorus.clone(), policy).run());
        } else {
            tracing::warn!("webhook deliveries are paused (deliver_webhooks = false)");
        }
        sites::reload_on_sighup(chorus.clone());
        retag::resume(chorus.clone()).await;
        actix_web::rt::spawn(review::run_loop(chorus.clone()));
        for addr in server.addrs() {
            tracing::info!("serving on http://{addr}");
        }
        // actix stops on SIGTERM/SIGINT after in-flight requests finish; then a clean stop.
        server
            .run()
            .await
            .map_err(|e| StartupError::Io(e.to_string()))?;
        tracing::info!("stopped accepting requests; flushing the store");
        chorus.store.close().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// On first start with no users: an all-sites admin whose token is printed once and written
/// to DATA/initial-admin-token (mode 0600).
async fn ensure_initial_admin(state: &AppState) -> Result<(), StartupError> {
    let created = users::initial_admin(state.store.as_ref())
        .await
        .map_err(|e| StartupError::Io(e.to_string()))?;
    let Some(token) = created else {
        return Ok(());
    };
    let path = state.config.data.join("initial-admin-token");
    write_secret(&path, &token)
        .map_err(|e| StartupError::Io(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "Created the all-sites admin \"admin\". Its API token (shown once, also in {}):",
        path.display()
    );
    println!("{token}");
    Ok(())
}

fn write_secret(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    writeln!(f, "{secret}")?;
    f.sync_all()
}
