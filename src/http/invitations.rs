//! `POST /api/v1/sites/{site}/surveys/{survey}/invitations` (admin): single-use survey links.

use super::auth::{Admin, SiteUser};
use super::body::JsonBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::invitation::{link_path, DEFAULT_DAYS};
use crate::services::audit::Actor;
use crate::services::invitations::issue;
use crate::services::ServiceError;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_invitations);
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewInvitations {
    #[serde(deserialize_with = "super::body::whole_number")]
    #[schema(minimum = 1, maximum = 1000)]
    count: u32,
    #[serde(default, deserialize_with = "super::body::optional_whole_number")]
    #[schema(minimum = 1, maximum = 365)]
    expires_in_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct IssuedLink {
    url: String,
    expires_at: String,
}

/// The links `POST .../invitations` issued.
#[derive(Serialize, utoipa::ToSchema)]
struct IssuedLinks<'a> {
    site: &'a str,
    survey: String,
    invitations: Vec<IssuedLink>,
}

#[utoipa::path(
    tag = "responses",
    params(crate::http::openapi::SurveyPath),
    request_body = NewInvitations,
    security(("token" = [])),
    responses(
        (status = 201, description = "The invitation links and when they expire", body = IssuedLinks),
        crate::http::openapi::BodyErrors,
        (status = 404, description = "survey_not_found", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/sites/{site}/surveys/{survey}/invitations")]
async fn create_invitations(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: SiteUser<Admin>,
    path: web::Path<(String, String)>,
    body: JsonBody<NewInvitations>,
) -> Result<HttpResponse, ApiError> {
    let (_, survey) = path.into_inner();
    if user.site.site.survey(&survey).is_none() {
        return Err(ServiceError::SurveyNotFound(survey).into());
    }
    let days = body.0.expires_in_days.unwrap_or(DEFAULT_DAYS);
    let issued = issue(
        &state,
        Actor::User(&user.user.name),
        user.id(),
        &survey,
        body.0.count,
        days,
    )
    .await?;
    let base = super::public_base(&state, &req);
    let invitations = issued
        .into_iter()
        .map(|i| IssuedLink {
            url: format!("{base}{}", link_path(user.id(), &survey, &i.token)),
            expires_at: i.expires_at,
        })
        .collect();
    Ok(HttpResponse::Created().json(IssuedLinks {
        site: user.id(),
        survey,
        invitations,
    }))
}
