//! HTTP: routing and thin handlers that extract, call a service and render. Knows actix; knows
//! nothing of sled or rhai.

mod admin;
mod api;
mod audit;
mod auth;
mod body;
mod common;
mod error;
mod followups;
mod health;
mod invitations;
mod kiosks;
mod report;
mod respondent;
mod rules;
mod users;

use crate::app::AppState;
use actix_web::{web, HttpRequest};

pub use auth::{Admin, MinRole, Staff, Viewer};
pub use error::ApiError;
pub use respondent::StaticAssets;

/// How the submission endpoints decode a body, callable without a request (fuzz/).
pub mod decode {
    pub use super::api::json_submission;
    pub use super::respondent::form_answers;
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::metrics)
        .service(
            web::scope("/api/v1")
                .configure(api::configure)
                .configure(report::configure)
                .configure(followups::configure)
                .configure(invitations::configure)
                .configure(kiosks::configure)
                .configure(rules::configure)
                .configure(audit::configure)
                .configure(users::configure),
        )
        .configure(admin::configure)
        .configure(respondent::configure);
}

/// Scheme and host (and path prefix) under which respondents reach this server: `public_url`
/// from chorus.toml, else what the request says (Host, or `Forwarded`/`X-Forwarded-*` from a
/// proxy).
pub(crate) fn public_base(state: &AppState, req: &HttpRequest) -> String {
    match &state.config.public_url {
        Some(url) => url.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}
