//! Who is signed in: the session-cookie extractors of the admin pages, and the CSRF check of
//! every state-changing form.

use crate::domain::User;
use crate::http::auth::{state_of, MinRole};
use crate::http::body::FormFields;
use crate::http::error::ApiError;
use crate::services::sessions::{self, SessionInfo};
use crate::services::sites::SiteRuntime;
use crate::services::ServiceError;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "chorus_session";
/// Name of the hidden field that carries the CSRF token in every admin form.
pub const CSRF_FIELD: &str = "csrf";

/// A cookie for the admin pages: HttpOnly, SameSite=Lax, Secure when served over TLS.
pub fn admin_cookie<'c>(
    req: &HttpRequest,
    name: &'c str,
    value: String,
    path: &'c str,
) -> Cookie<'c> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(req.connection_info().scheme() == "https")
        .finish()
}

/// The same cookie, expired (the browser drops it).
pub fn removal_cookie<'c>(req: &HttpRequest, name: &'c str, path: &'c str) -> Cookie<'c> {
    let mut c = admin_cookie(req, name, String::new(), path);
    c.make_removal();
    c
}

/// A signed-in user with a live session (any role, any site).
pub struct AdminSession {
    pub user: User,
    pub session: SessionInfo,
    /// The cookie value, to end the session on logout.
    pub cookie: String,
}

async fn load_session(req: HttpRequest) -> Result<AdminSession, ApiError> {
    let state = state_of(&req)?;
    let cookie = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or(ApiError::LoginRequired)?;
    let session = sessions::touch(&state, &cookie)
        .await?
        .ok_or(ApiError::LoginRequired)?;
    // The user is read on every request, so a changed role or site, or a disabled account,
    // applies at once.
    match state.store.user(&session.user).await? {
        Some(user) if user.password_hash.is_some() && !user.disabled => Ok(AdminSession {
            user,
            session,
            cookie,
        }),
        _ => {
            sessions::end(&state, &cookie).await?;
            Err(ApiError::LoginRequired)
        }
    }
}

impl FromRequest for AdminSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(load_session(req.clone()))
    }
}

/// A signed-in user allowed at least role `R` on the running `{site}` of the path, like
/// `auth::SiteUser` for tokens.
pub struct SiteSession<R: MinRole> {
    pub user: User,
    pub session: SessionInfo,
    /// The site's id.
    pub site: String,
    pub runtime: Arc<SiteRuntime>,
    _role: PhantomData<R>,
}

/// The signed-in user, allowed at least role `R` on the `{site}` of the path (checked before
/// anything is said about the site).
async fn site_access<R: MinRole>(req: &HttpRequest) -> Result<(AdminSession, String), ApiError> {
    let site = req.match_info().get("site").unwrap_or_default().to_string();
    let s = load_session(req.clone()).await?;
    // Access before existence: a user of one site learns nothing about others.
    if !s.user.can_access(&site) || s.user.role < R::ROLE {
        return Err(ApiError::NotAllowed(R::DOING.to_string()));
    }
    Ok((s, site))
}

impl<R: MinRole + 'static> FromRequest for SiteSession<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (s, site) = site_access::<R>(&req).await?;
            let runtime = state_of(&req)?.site(&site)?;
            Ok(SiteSession {
                user: s.user,
                session: s.session,
                site,
                runtime,
                _role: PhantomData,
            })
        })
    }
}

/// A site whose files keep it from running, as a signed-in user of it sees it.
pub struct BrokenSite {
    pub session: AdminSession,
    pub site: String,
    /// Every problem as `file:line:col: message`.
    pub problems: Vec<String>,
}

/// The pages that also serve a broken site (its dashboard, its reload): the running site, or
/// the broken one with its problems.
pub enum SitePage<R: MinRole> {
    Running(SiteSession<R>),
    Broken(BrokenSite),
}

impl<R: MinRole + 'static> FromRequest for SitePage<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (session, site) = site_access::<R>(&req).await?;
            let state = state_of(&req)?;
            if let Some(runtime) = state.sites.get(&site) {
                return Ok(SitePage::Running(SiteSession {
                    user: session.user,
                    session: session.session,
                    site,
                    runtime,
                    _role: PhantomData,
                }));
            }
            match state.sites.problems(&site) {
                Some(problems) => Ok(SitePage::Broken(BrokenSite {
                    session,
                    site,
                    problems,
                })),
                None => Err(ServiceError::SiteNotFound(site).into()),
            }
        })
    }
}

/// The fields of a form posted by a signed-in user whose CSRF token matched the session's
/// (compared in constant time). No session: sign in; a missing or wrong token: 403.
pub struct CsrfForm {
    pub session: AdminSession,
    pub fields: Vec<(String, String)>,
}

impl CsrfForm {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest for CsrfForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let form = FormFields::from_request(&req, payload);
        Box::pin(async move {
            let session = load_session(req).await?;
            let fields = form.await.map_err(|_| ApiError::CsrfRejected)?.0;
            let presented = fields
                .iter()
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v.as_str())
                .ok_or(ApiError::CsrfRejected)?;
            if !session.session.csrf_matches(presented) {
                return Err(ApiError::CsrfRejected);
            }
            Ok(CsrfForm { session, fields })
        })
    }
}
