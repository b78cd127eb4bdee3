//! Who may call an endpoint: the bearer-token extractor of the JSON API and the public site
//! extractor. Both resolve the `{site}` of the path to the running site, so handlers never
//! check it again.

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::user::token_sha256;
use crate::domain::{Role, User};
use crate::services::sites::SiteRuntime;
use crate::services::ServiceError;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

pub trait MinRole {
    const ROLE: Role;
    const DOING: &'static str;
}
pub struct Viewer;
pub struct Staff;
pub struct Admin;
impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
    const DOING: &'static str = "read this site";
}
impl MinRole for Staff {
    const ROLE: Role = Role::Staff;
    const DOING: &'static str = "work on this site's follow-ups";
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
    const DOING: &'static str = "administer this site";
}

pub(super) fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or(ApiError::Service(ServiceError::Unavailable))
}

/// The running site named by `{site}` in the path.
pub(super) fn path_site(req: &HttpRequest) -> Result<Arc<SiteRuntime>, ApiError> {
    let id = req.match_info().get("site").unwrap_or_default();
    Ok(state_of(req)?.site(id)?)
}

/// The running site of the path, for endpoints anyone may call.
pub struct PublicSite(pub Arc<SiteRuntime>);

impl FromRequest for PublicSite {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(path_site(req).map(PublicSite))
    }
}

/// A bearer-token user allowed at least role `R` on the running `{site}` of the path.
pub struct SiteUser<R: MinRole> {
    pub user: User,
    pub site: Arc<SiteRuntime>,
    _role: PhantomData<R>,
}

impl<R: MinRole> SiteUser<R> {
    pub fn id(&self) -> &str {
        self.site.site.id()
    }
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or(ApiError::MissingToken)?;
    let value = header.to_str().map_err(|_| ApiError::InvalidToken)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(ApiError::MissingToken)?;
    Ok(token.trim().to_string())
}

/// The user of the request's bearer token, whatever its site and role.
pub(super) async fn token_user(req: &HttpRequest) -> Result<User, ApiError> {
    let token = bearer(req)?;
    state_of(req)?
        .store
        .user_by_token(&token_sha256(&token))
        .await?
        .ok_or(ApiError::InvalidToken)
}

/// May `user` act with role `R` on `site`? Checked before the site's existence, so a token of
/// one site learns nothing about others.
pub(super) fn check_access<R: MinRole>(user: &User, site: &str) -> Result<(), ApiError> {
    if !user.can_access(site) || user.role < R::ROLE {
        return Err(ApiError::Forbidden(R::DOING.to_string()));
    }
    Ok(())
}

/// The token's user, allowed at least role `R` on the `{site}` of the path (checked before
/// anything is said about the site).
async fn path_user<R: MinRole>(req: &HttpRequest) -> Result<(User, String), ApiError> {
    let user = token_user(req).await?;
    let site = req.match_info().get("site").unwrap_or_default().to_string();
    check_access::<R>(&user, &site)?;
    Ok((user, site))
}

impl<R: MinRole + 'static> FromRequest for SiteUser<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (user, site) = path_user::<R>(&req).await?;
            Ok(SiteUser {
                site: state_of(&req)?.site(&site)?,
                user,
                _role: PhantomData,
            })
        })
    }
}

/// As `SiteUser`, for a site that runs or whose files keep it from running (reloading it).
pub struct SiteAccess<R: MinRole> {
    pub user: User,
    pub site: String,
    _role: PhantomData<R>,
}

impl<R: MinRole + 'static> FromRequest for SiteAccess<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (user, site) = path_user::<R>(&req).await?;
            state_of(&req)?.known_site(&site)?;
            Ok(SiteAccess {
                user,
                site,
                _role: PhantomData,
            })
        })
    }
}

/// `/metrics` names every site: open only when the configuration says so
/// (`metrics_public = true`), else to the bearer token of a user of every site (`*`).
pub struct MetricsReader;

impl FromRequest for MetricsReader {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            if state.config.metrics_public {
                return Ok(MetricsReader);
            }
            let user = token_user(&req).await?;
            if user.site != crate::domain::ALL_SITES {
                return Err(ApiError::Forbidden(
                    "read the metrics (they name every site)".into(),
                ));
            }
            Ok(MetricsReader)
        })
    }
}

/// A bearer-token admin of every site (the endpoints that span sites).
pub struct AllSitesAdmin;

impl FromRequest for AllSitesAdmin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = token_user(&req).await?;
            if user.site != crate::domain::ALL_SITES || user.role < Role::Admin {
                return Err(ApiError::Forbidden("administer every site".to_string()));
            }
            Ok(AllSitesAdmin)
        })
    }
}
