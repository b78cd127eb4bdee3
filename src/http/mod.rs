//! HTTP: routing and thin handlers. Knows actix; knows nothing of sled or rhai.

mod api;
mod body;
mod followups;
mod health;
mod respondent;

use actix_web::web;

pub use respondent::StaticAssets;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::metrics)
        .service(
            web::scope("/api/v1")
                .configure(api::configure)
                .configure(followups::configure),
        )
        .configure(respondent::configure);
}
