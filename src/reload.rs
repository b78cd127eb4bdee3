//! Reloading sites from disk on SIGHUP (`kill -HUP <pid>` after editing a rule).

use crate::app::AppState;
use std::sync::Arc;

/// Listens for SIGHUP and re-reads every site each time; a broken file keeps the running
/// version and is logged as `file:line:col: message`. Must be called inside the server's
/// runtime.
pub fn reload_on_sighup(state: Arc<AppState>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGHUP; reload through the API");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            let sites = Arc::clone(&state);
            let result = tokio::task::spawn_blocking(move || sites.sites.reload_all()).await;
            match result {
                Ok(Ok(())) => tracing::info!("SIGHUP: sites reloaded"),
                Ok(Err(errors)) => {
                    for e in &errors {
                        tracing::warn!(problem = %e, "SIGHUP: reload refused, keeping the running sites");
                    }
                }
                Err(e) => tracing::error!(error = %e, "SIGHUP: reload failed"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = state;
}
