//! `POST /api/v1/sites/{site}/surveys/{survey}/invitations` (admin): single-use survey links.

use super::body::JsonBody;
use crate::app::AppState;
use crate::auth::{Admin, SiteUser};
use crate::domain::invitation::{check_request, link_path, DEFAULT_DAYS};
use crate::domain::time::now_ms;
use crate::errors::ApiError;
use crate::invitations::issue;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_invitations);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvitations {
    count: u32,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

#[derive(Serialize)]
struct IssuedLink {
    url: String,
    expires_at: String,
}

#[derive(Serialize)]
struct Created {
    site: String,
    survey: String,
    invitations: Vec<IssuedLink>,
}

#[post("/sites/{site}/surveys/{survey}/invitations")]
async fn create_invitations(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SiteUser<Admin>,
    path: web::Path<(String, String)>,
    body: JsonBody<NewInvitations>,
) -> Result<HttpResponse, ApiError> {
    let (_, survey_id) = path.into_inner();
    let runtime = crate::http::common::site(&state, &user.site)?;
    if runtime.site.survey(&survey_id).is_none() {
        return Err(ApiError::SurveyNotFound(survey_id));
    }
    let count = body.0.count;
    let days = body.0.expires_in_days.unwrap_or(DEFAULT_DAYS);
    check_request(count, days).map_err(|(field, message)| ApiError::InvalidBody {
        message,
        field: Some(field.into()),
    })?;
    let store = Arc::clone(&state.store);
    let (site, survey) = (user.site.clone(), survey_id.clone());
    let issued = web::block(move || issue(store.as_ref(), &site, &survey, count, days, now_ms()))
        .await
        .map_err(|_| ApiError::Unavailable)??;
    let base = super::public_base(&state, &req);
    let invitations = issued
        .into_iter()
        .map(|i| IssuedLink {
            url: format!("{base}{}", link_path(&user.site, &survey_id, &i.token)),
            expires_at: i.expires_at,
        })
        .collect();
    Ok(HttpResponse::Created().json(Created {
        site: user.site,
        survey: survey_id,
        invitations,
    }))
}
