//! HTTP: routing and thin handlers. Knows actix; knows nothing of sled or rhai.

mod admin;
mod api;
mod body;
mod common;
mod followups;
mod health;
mod report;
mod respondent;
mod rules;

use actix_web::web;

pub use respondent::StaticAssets;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::metrics)
        .service(
            web::scope("/api/v1")
                .configure(api::configure)
                .configure(report::configure)
                .configure(followups::configure)
                .configure(rules::configure),
        )
        .configure(admin::configure)
        .configure(respondent::configure);
}
