//! `GET/POST /admin/login`, `POST /admin/logout`.
//!
//! The login form is protected against cross-site posting by a double-submit token: a random
//! value in an HttpOnly cookie scoped to /admin/login and the same value in the form. Failed
//! attempts are limited per account and per client address (`services::sessions::LoginLimiter`).

use super::extract::{admin_cookie, removal_cookie, CsrfForm, SESSION_COOKIE};
use super::render;
use crate::app::AppState;
use crate::domain::user::{constant_time_eq, random_hex};
use crate::http::body::FormFields;
use crate::http::error::ApiError;
use crate::services::sessions;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

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
    let token = random_hex();
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
    let signed_in = match req.cookie(SESSION_COOKIE) {
        Some(c) => sessions::touch(&state, c.value()).await?.is_some(),
        None => false,
    };
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
        sessions::record_refusal(&state, &name, wait).await?;
        return login_page(
            &state,
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            &name,
            Some(&msg),
        );
    }
    let ok = sessions::check_password(&state, &name, password).await?;
    if !ok {
        state.login_limiter.failed(&name, &addr);
        sessions::record_failure(&state, &name).await?;
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
        sessions::end(&state, old.value()).await?;
    }
    let (id, _) = sessions::create(&state, &name).await?;
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
    let s = &form.session;
    sessions::sign_out(&state, &s.cookie, &s.user.name).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", LOGIN_PATH))
        .cookie(removal_cookie(&req, SESSION_COOKIE, "/admin"))
        .finish())
}
