//! HTTP: routing and thin handlers that extract, call a service and render. Knows actix; knows
//! nothing of sled or rhai.

mod admin;
mod api;
mod audit;
mod auth;
mod body;
mod catch_up;
mod client_addr;
mod common;
mod error;
mod fhir;
mod followups;
mod health;
mod invitations;
mod kiosks;
pub(crate) mod openapi;
mod report;
mod respondent;
mod rules;
mod users;

use crate::app::AppState;
use actix_web::{HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

pub use auth::{Admin, MinRole, Staff, Viewer};
pub use error::ApiError;
pub use openapi::{unmatched, Contract};
pub use respondent::StaticAssets;

/// How the submission endpoints decode a body, callable without a request (fuzz/).
pub mod decode {
    pub use super::api::json_submission;
    pub use super::respondent::form_answers;
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::metrics)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(openapi::configure)
                .configure(api::configure)
                .configure(report::configure)
                .configure(followups::configure)
                .configure(invitations::configure)
                .configure(kiosks::configure)
                .configure(rules::configure)
                .configure(catch_up::configure)
                .configure(audit::configure)
                .configure(users::configure),
        )
        .configure(fhir::configure)
        .configure(admin::configure)
        .configure(respondent::configure);
}

/// Scheme and host (and path prefix) under which respondents reach this server: `public_url`
/// from chorus.toml, else what the request says (Host, or `Forwarded`/`X-Forwarded-*` from a
/// proxy).
/// A 303 to `location` with a small HTML body linking there, as the document says every page
/// answers (a browser follows `Location`; a client that does not can follow the link).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chorus</title></head>\n<body><p><a href=\"{}\">Continue</a></p></body></html>\n",
            tera::escape_html(location)
        ))
}

pub(crate) fn public_base(state: &AppState, req: &HttpRequest) -> String {
    match &state.config.public_url {
        Some(url) => url.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}
