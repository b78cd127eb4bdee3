//! Respondent pages: PLACEHOLDER until the respondent-pages work lands.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
