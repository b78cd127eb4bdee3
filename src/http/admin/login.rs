//! `GET/POST /admin/login`, `POST /admin/logout`.
//!
//! The login form is protected against cross-site posting by a double-submit token: a random
//! value in an HttpOnly cookie scoped to /admin/login and the same value in the form. Failed
//! attempts are limited per account and per client address (`crate::session::LoginLimiter`).

use super::extract::{admin_cookie, removal_cookie, CsrfForm, SESSION_COOKIE};
use super::render;
use crate::app::AppState;
use crate::auth::{hash_password, verify_password};
use crate::errors::ApiError;
use crate::http::body::FormFields;
use crate::session::{constant_time_eq, random_token};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use std::sync::OnceLock;

const LOGIN_COOKIE: &str = "chorus_login";
const LOGIN_PATH: &str = "/admin/login";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form).service(login).service(logout);
}

fn login_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    name: &str,
    problem: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let token = random_token();
    let mut ctx = tera::Context::new();
    ctx.insert("login_csrf", &token);
    ctx.insert("name", name);
    ctx.insert("problem", &problem);
    let body = render(state, "admin/login.html", &ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .cookie(admin_cookie(req, LOGIN_COOKIE, token, LOGIN_PATH))
        .body(body))
}

#[get("/login")]
async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let signed_in = req
        .cookie(SESSION_COOKIE)
        .is_some_and(|c| state.sessions.touch(c.value()).is_some());
    if signed_in {
        return Ok(see_other("/admin"));
    }
    login_page(&state, &req, StatusCode::OK, "", None)
}

pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .finish()
}

/// A hash to verify against when the account does not exist or has no password, so that
/// the answer takes as long as for a real account.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never matches").unwrap_or_default())
}

#[post("/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: FormFields,
) -> Result<HttpResponse, ApiError> {
    let field = |name: &str| {
        form.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string());
    let presented = field("csrf");
    let csrf_ok = expected.is_some_and(|e| {
        !presented.is_empty() && constant_time_eq(e.as_bytes(), presented.as_bytes())
    });
    if !csrf_ok {
        return Err(ApiError::CsrfRejected);
    }
    let name = field("name").trim().to_string();
    let password = field("password");
    // Kept in memory for the rate limit only; never logged or stored.
    let addr = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    if let Some(wait) = state.login_limiter.retry_after(&name, &addr) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let msg = format!(
            "Too many failed sign-ins. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        return login_page(
            &state,
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            &name,
            Some(&msg),
        );
    }
    let store = state.store.clone();
    let lookup = name.clone();
    let ok = web::block(move || -> Result<bool, ApiError> {
        let user = store.user(&lookup)?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let matched = verify_password(&password, hash.as_deref().unwrap_or(decoy_hash()));
        Ok(matched && hash.is_some())
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    if !ok {
        state.login_limiter.failed(&name, &addr);
        tracing::info!("admin sign-in failed");
        return login_page(
            &state,
            &req,
            StatusCode::UNAUTHORIZED,
            &name,
            Some("The name or the password is wrong."),
        );
    }
    state.login_limiter.succeeded(&name);
    // A fresh session id on every sign-in (no fixation).
    if let Some(old) = req.cookie(SESSION_COOKIE) {
        state.sessions.end(old.value());
    }
    let (id, _) = state.sessions.create(&name);
    tracing::info!("admin signed in");
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/admin"))
        .cookie(admin_cookie(&req, SESSION_COOKIE, id, "/admin"))
        .cookie(removal_cookie(&req, LOGIN_COOKIE, LOGIN_PATH))
        .finish())
}

#[post("/logout")]
async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    state.sessions.end(&form.session.cookie);
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", LOGIN_PATH))
        .cookie(removal_cookie(&req, SESSION_COOKIE, "/admin"))
        .finish())
}
