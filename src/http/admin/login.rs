//! `GET/POST /admin/login`, `POST /admin/logout`.
//!
//! The login form is protected against cross-site posting by a double-submit token: a random
//! value in an HttpOnly cookie scoped to /admin/login and the same value in the form. Failed
//! attempts are limited per account (with backoff, in the store) and per client address (a
//! much higher ceiling, in memory): `services::login_throttle`.

use super::extract::{admin_cookie, removal_cookie, CsrfForm, SESSION_COOKIE};
use super::render;
use crate::app::AppState;
use crate::domain::user::{constant_time_eq, random_hex};
use crate::http::body::FormFields;
use crate::http::client_addr::client_addr;
use crate::http::error::ApiError;
use crate::http::see_other;
use crate::services::login_throttle::{self, Refusal};
use crate::services::sessions;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

const LOGIN_COOKIE: &str = "chorus_login";
const LOGIN_PATH: &str = "/admin/login";

pub fn configure(cfg: &mut ServiceConfig) {
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

#[utoipa::path(
    tag = "admin pages",
    responses(
        (status = 200, description = "The sign-in form", body = String, content_type = "text/html")
    )
)]
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

#[utoipa::path(
    tag = "admin pages",
    request_body(content = crate::http::openapi::LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: to /admin", body = String, content_type = "text/html"),
        (status = 200, description = "Wrong name or password: the form again", body = String, content_type = "text/html"),
        (status = 403, description = "csrf_rejected", body = String, content_type = "text/html"),
        (status = 429, description = "Too many failures (Retry-After)", body = String, content_type = "text/html"),
        (status = 415, description = "Not a form (unsupported_media_type)", body = String, content_type = "text/html")
    )
)]
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
    // Kept in memory for the per-address ceiling only; never logged or stored.
    let addr = client_addr(&req, &state.config.trusted_proxies);
    if let Err(refusal) = login_throttle::check(&state, &name, &addr).await {
        sessions::record_refusal(&state, &name, refusal.retry_after()).await?;
        return throttled(&state, &req, &name, refusal);
    }
    let ok = sessions::check_password(&state, &name, password).await?;
    if !ok {
        login_throttle::failed(&state, &name, &addr).await?;
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
    login_throttle::succeeded(&state, &name).await?;
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

/// 429 with `Retry-After` and the sign-in form saying who is limited and for how long.
fn throttled(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    refusal: Refusal,
) -> Result<HttpResponse, ApiError> {
    let secs = refusal.retry_after().as_secs_f64().ceil().max(1.0) as u64;
    let wait = if secs < 120 {
        format!("{secs} second{}", if secs == 1 { "" } else { "s" })
    } else {
        format!("{} minutes", secs.div_ceil(60))
    };
    let msg = match refusal {
        Refusal::Account(_) => format!(
            "Too many failed sign-ins for this name. Try again in {wait}, or ask your Chorus administrator to reset your password."
        ),
        Refusal::Address(_) => format!(
            "Too many failed sign-ins from your network. Try again in {wait}."
        ),
    };
    let mut res = login_page(state, req, StatusCode::TOO_MANY_REQUESTS, name, Some(&msg))?;
    res.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(secs),
    );
    Ok(res)
}

#[utoipa::path(
    tag = "admin pages",
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed out: to /admin/login", body = String, content_type = "text/html"),
        (status = 403, description = "csrf_rejected", body = String, content_type = "text/html"),
        (status = 415, description = "Not a form (unsupported_media_type)", body = String, content_type = "text/html")
    )
)]
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
