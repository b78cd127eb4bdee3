//! `/admin/users` (an admin: the users of their sites — list, add, change a role, disable,
//! tokens, invitation links), `/admin/account` (anyone signed in: their own password) and
//! `/admin/password/{secret}` (the page of a single-use link: set a password, no session).
//!
//! A new token or link is shown on the page that answers the form, once, with no-store.

use super::extract::CsrfForm;
use super::{base_context, render, AdminSession};
use crate::app::AppState;
use crate::domain::{Role, User, ALL_SITES};
use crate::http::error::ApiError;
use crate::http::users::{check_new_site, parse_role, InviteView, UserView};
use crate::services::password_links;
use crate::services::users::{self, By};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(users_page)
        .service(add_user)
        .service(change)
        .service(account_page)
        .service(own_password)
        .service(link_page)
        .service(use_link);
}

/// What the page answering a form shows: a secret made for someone, a confirmation, or what
/// was wrong.
#[derive(Default, Serialize)]
struct Outcome {
    done: Option<String>,
    token: Option<(String, String)>,
    link: Option<InviteView>,
    problem: Option<String>,
    /// The add form's values, kept when it was refused.
    name: String,
    site: String,
    role: String,
}

fn admin_of(s: &AdminSession) -> Result<&User, ApiError> {
    if s.user.role < Role::Admin {
        return Err(ApiError::NotAllowed("manage users".into()));
    }
    Ok(&s.user)
}

fn page_answer(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// What was wrong, in the page's words: a sentence, without the API's framing.
fn words(e: &ApiError) -> String {
    let text = match e.service() {
        Some(crate::services::ServiceError::InvalidBody { message, .. }) => message.clone(),
        _ => e.to_string(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// A refusal shown on the page (status and message) rather than as an error page.
fn refused(e: ApiError, outcome: &mut Outcome) -> StatusCode {
    let status = e.status_code();
    if status.is_server_error() {
        tracing::error!(error = %e, "user change failed");
        outcome.problem = Some("Something went wrong; nothing was changed. Try again.".into());
    } else {
        outcome.problem = Some(words(&e));
    }
    status
}

async fn render_users(
    state: &AppState,
    s: &AdminSession,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, ApiError> {
    let admin = admin_of(s)?;
    let list = users::list(state.store.as_ref(), By::Admin(admin)).await?;
    let views: Vec<UserView> = list.iter().map(UserView::from).collect();
    let mut sites: Vec<String> = Vec::new();
    if admin.site == ALL_SITES {
        sites.push(ALL_SITES.into());
        sites.extend(state.sites.ids());
    } else {
        sites.push(admin.site.clone());
    }
    let mut ctx = base_context(s);
    ctx.insert("users", &views);
    ctx.insert("sites", &sites);
    ctx.insert("roles", &["viewer", "staff", "admin"]);
    ctx.insert("me", &admin.name);
    ctx.insert("o", &outcome);
    ctx.insert("link_hours", &password_links::LINK_HOURS);
    Ok(page_answer(
        status,
        render(state, "admin/users.html", &ctx)?,
    ))
}

#[utoipa::path(
    tag = "admin pages",
    responses(
        (status = 200, description = "The users this admin manages and the forms to change them", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/users")]
async fn users_page(state: web::Data<AppState>, s: AdminSession) -> Result<HttpResponse, ApiError> {
    render_users(&state, &s, StatusCode::OK, Outcome::default()).await
}

/// Adds a user and makes their invitation link: both are shown once.
#[utoipa::path(
    tag = "admin pages",
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "Added: the page with the token and the password link, shown once", body = String, content_type = "text/html"),
        crate::http::openapi::UserFormRefusals
    )
)]
#[post("/users")]
async fn add_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let s = &form.session;
    let admin = admin_of(s)?;
    let field = |k: &str| form.field(k).unwrap_or_default().trim().to_string();
    let (name, site, role) = (field("name"), field("site"), field("role"));
    let store = state.store.as_ref();
    let added = async {
        let r = parse_role(&role)?;
        check_new_site(&state, admin, &site)?;
        let token = users::add(store, By::Admin(admin), &name, &site, r).await?;
        let link = password_links::invite(store, By::Admin(admin), &name).await?;
        Ok::<_, ApiError>((token, link))
    }
    .await;
    let mut o = Outcome::default();
    let status = match added {
        Ok((token, link)) => {
            let base = crate::http::public_base(&state, &req);
            o.done = Some(format!("Added {name}."));
            o.token = Some((name.clone(), token));
            o.link = Some(InviteView::of(&link, &base));
            StatusCode::CREATED
        }
        Err(e) => {
            let status = refused(e, &mut o);
            (o.name, o.site, o.role) = (name, site, role);
            status
        }
    };
    render_users(&state, s, status, o).await
}

/// One change of one user: `role`, `disable`, `enable`, `token`, `revoke-token`, `invite`.
#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::UserChangePath),
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Changed (role, disable, enable, token, revoke-token, invite): the page saying so", body = String, content_type = "text/html"),
        crate::http::openapi::UserFormRefusals
    )
)]
#[post("/users/{name}/{change}")]
async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let (name, what) = path.into_inner();
    let s = &form.session;
    let by = By::Admin(admin_of(s)?);
    let store = state.store.as_ref();
    let mut o = Outcome::default();
    let done: Result<String, ApiError> = async {
        Ok(match what.as_str() {
            "role" => {
                let role = parse_role(form.field("role").unwrap_or_default())?;
                users::change_role(store, by, &name, role).await?;
                format!("{name} is now {}.", role.as_str())
            }
            "disable" => {
                users::set_disabled(store, by, &name, true).await?;
                format!("{name} is disabled: they cannot sign in, and their sessions and token no longer work.")
            }
            "enable" => {
                users::set_disabled(store, by, &name, false).await?;
                format!("{name} is enabled again.")
            }
            "token" => {
                let token = users::new_api_token(store, by, &name).await?;
                o.token = Some((name.clone(), token));
                format!("{name} has a new API token; the old one no longer works.")
            }
            "revoke-token" => {
                users::revoke_api_token(store, by, &name).await?;
                format!("The API token of {name} no longer works.")
            }
            "invite" => {
                let link = password_links::invite(store, by, &name).await?;
                let base = crate::http::public_base(&state, &req);
                o.link = Some(InviteView::of(&link, &base));
                format!("Made a link for {name} to set their password.")
            }
            _ => return Err(ApiError::invalid_body(format!("no such change \"{what}\""), None)),
        })
    }
    .await;
    let status = match done {
        Ok(msg) => {
            o.done = Some(msg);
            StatusCode::OK
        }
        Err(e) => refused(e, &mut o),
    };
    render_users(&state, s, status, o).await
}

fn account(
    state: &AppState,
    s: &AdminSession,
    status: StatusCode,
    done: Option<&str>,
    problem: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = base_context(s);
    ctx.insert("done", &done);
    ctx.insert("problem", &problem);
    ctx.insert("min_chars", &users::MIN_PASSWORD_CHARS);
    Ok(page_answer(
        status,
        render(state, "admin/account.html", &ctx)?,
    ))
}

#[utoipa::path(
    tag = "admin pages",
    responses(
        (status = 200, description = "The form to change one's own password", body = String, content_type = "text/html"),
        crate::http::openapi::AdminPageErrors
    )
)]
#[get("/account")]
async fn account_page(
    state: web::Data<AppState>,
    s: AdminSession,
) -> Result<HttpResponse, ApiError> {
    account(&state, &s, StatusCode::OK, None, None)
}

#[utoipa::path(
    tag = "admin pages",
    request_body(content = crate::http::openapi::AdminForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Changed", body = String, content_type = "text/html"),
        (status = 400, description = "Wrong current password, too short, or the two differ", body = String, content_type = "text/html"),
        (status = 403, description = "csrf_rejected", body = String, content_type = "text/html"),
        (status = 415, description = "Not a form", body = String, content_type = "text/html"),
        (status = 303, description = "Sign in first", body = String, content_type = "text/html")
    )
)]
#[post("/account/password")]
async fn own_password(
    state: web::Data<AppState>,
    form: CsrfForm,
) -> Result<HttpResponse, ApiError> {
    let s = &form.session;
    let current = form.field("current_password").unwrap_or_default();
    let new = form.field("new_password").unwrap_or_default();
    if new != form.field("confirm_password").unwrap_or_default() {
        let problem = "The new password and its confirmation differ; nothing was changed.";
        return account(&state, s, StatusCode::BAD_REQUEST, None, Some(problem));
    }
    match users::change_own_password(&state, &s.user.name, current, new).await {
        Ok(()) => account(
            &state,
            s,
            StatusCode::OK,
            Some("Your password is changed."),
            None,
        ),
        Err(e) => {
            let e = ApiError::from(e);
            account(&state, s, e.status_code(), None, Some(&words(&e)))
        }
    }
}

fn link_form(
    state: &AppState,
    status: StatusCode,
    user: Option<&str>,
    problem: Option<&str>,
    done: bool,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = tera::Context::new();
    ctx.insert("for_user", &user);
    ctx.insert("problem", &problem);
    ctx.insert("done", &done);
    ctx.insert("min_chars", &users::MIN_PASSWORD_CHARS);
    Ok(page_answer(
        status,
        render(state, "admin/password.html", &ctx)?,
    ))
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::LinkPath),
    responses(
        (status = 200, description = "The form to set a password", body = String, content_type = "text/html"),
        (status = 410, description = "The link is unknown, used or expired", body = String, content_type = "text/html")
    )
)]
#[get("/password/{secret}")]
async fn link_page(
    state: web::Data<AppState>,
    secret: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match password_links::check(state.store.as_ref(), &secret).await {
        Ok(user) => link_form(&state, StatusCode::OK, Some(&user.name), None, false),
        Err(e) => {
            let e = ApiError::from(e);
            link_form(&state, e.status_code(), None, Some(&words(&e)), false)
        }
    }
}

#[utoipa::path(
    tag = "admin pages",
    params(crate::http::openapi::LinkPath),
    request_body(content = crate::http::openapi::PasswordLinkForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The password is set; the link no longer works", body = String, content_type = "text/html"),
        (status = 400, description = "Too short, or the two differ: the link still works", body = String, content_type = "text/html"),
        (status = 410, description = "The link is unknown, used or expired", body = String, content_type = "text/html"),
        (status = 415, description = "Not a form", body = String, content_type = "text/html")
    )
)]
#[post("/password/{secret}")]
async fn use_link(
    state: web::Data<AppState>,
    secret: web::Path<String>,
    form: crate::http::body::FormFields,
) -> Result<HttpResponse, ApiError> {
    let field = |k: &str| {
        form.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let store = state.store.as_ref();
    let user = match password_links::check(store, &secret).await {
        Ok(u) => u,
        Err(e) => {
            let e = ApiError::from(e);
            return link_form(&state, e.status_code(), None, Some(&words(&e)), false);
        }
    };
    let name = Some(user.name.as_str());
    if field("password") != field("confirm_password") {
        let problem = "The password and its confirmation differ; nothing was changed.";
        return link_form(&state, StatusCode::BAD_REQUEST, name, Some(problem), false);
    }
    match password_links::redeem(&state, &secret, field("password")).await {
        Ok(_) => link_form(&state, StatusCode::OK, name, None, true),
        Err(e) => {
            let e = ApiError::from(e);
            link_form(&state, e.status_code(), name, Some(&words(&e)), false)
        }
    }
}
