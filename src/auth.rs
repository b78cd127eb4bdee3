//! API tokens and the extractors that check them.
//!
//! A token is 256 random bits; only its SHA-256 is stored, so a stolen data directory does not
//! yield working tokens, and a lookup is one indexed read.

use crate::app::AppState;
use crate::errors::ApiError;
use crate::store::{Role, User};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

pub use crate::domain::user::{new_token, token_sha256};

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

/// A bearer-token user allowed at least role `R` on the `{site}` of the path.
pub struct SiteUser<R: MinRole> {
    pub user: User,
    pub site: String,
    _role: PhantomData<R>,
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

impl<R: MinRole + 'static> FromRequest for SiteUser<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let site = req.match_info().get("site").unwrap_or_default().to_string();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or(ApiError::Unavailable)?;
            let hash = token_sha256(&token);
            let store = state.store.clone();
            let user = web::block(move || store.user_by_token(&hash))
                .await
                .map_err(|_| ApiError::Unavailable)??
                .ok_or(ApiError::InvalidToken)?;
            if !user.can_access(&site) || user.role < R::ROLE {
                return Err(ApiError::Forbidden(R::DOING.to_string()));
            }
            Ok(SiteUser {
                user,
                site,
                _role: PhantomData,
            })
        })
    }
}

/// An argon2id PHC string for a web-login password.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}
