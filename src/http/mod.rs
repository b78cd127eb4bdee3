//! HTTP: routing and thin handlers. Knows actix; knows nothing of sled or rhai.

mod api;
mod body;
mod health;
mod respondent;
mod rules;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::metrics)
        .service(
            web::scope("/api/v1")
                .configure(api::configure)
                .configure(rules::configure),
        )
        .configure(respondent::configure);
}
