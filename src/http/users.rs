//! `/api/v1/users…`: the users an admin token may manage (an admin of every site: every user;
//! an admin of one site: that site's users), and `/api/v1/me/password`. Secrets (a new API
//! token, an invitation link) are in the answer once and nowhere else.

use super::auth::{state_of, token_user, TokenAdmin};
use super::body::JsonBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::time::rfc3339_of_ms;
use crate::domain::{Role, User, ALL_SITES};
use crate::services::password_links::{self, link_path, NewLink};
use crate::services::users::{self, By};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(change_role)
        .service(disable_user)
        .service(enable_user)
        .service(new_token)
        .service(revoke_token)
        .service(invite_user)
        .service(own_password);
}

/// A user as the API and the pages show it: never a hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub name: String,
    /// A site id, or `*` for every site.
    pub site: String,
    #[schema(value_type = String, example = "staff")]
    pub role: Role,
    pub disabled: bool,
    pub has_password: bool,
    pub has_token: bool,
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            name: u.name.clone(),
            site: u.site.clone(),
            role: u.role,
            disabled: u.disabled,
            has_password: u.password_hash.is_some(),
            has_token: !u.token_revoked,
            created_at: u.created_at.clone(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct UserList {
    users: Vec<UserView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    name: String,
    site: String,
    role: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct CreatedUser {
    user: UserView,
    /// The API token, shown only in this answer.
    token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TokenView {
    /// The API token, shown only in this answer; the user's previous token stopped working.
    token: String,
}

/// An invitation: the single-use link for the user to set their password.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteView {
    pub user: String,
    pub url: String,
    pub expires_at: String,
}

impl InviteView {
    pub fn of(link: &NewLink, base: &str) -> InviteView {
        InviteView {
            user: link.user.name.clone(),
            url: format!("{base}{}", link_path(&link.secret)),
            expires_at: rfc3339_of_ms(link.expires_ms),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header(("Cache-Control", "no-store"));
    res
}

/// A role named in a body.
pub(crate) fn parse_role(role: &str) -> Result<Role, ApiError> {
    role.parse()
        .map_err(|m: String| ApiError::invalid_body(m, Some("role")))
}

/// The site of a new user: one the admin may manage, and one this server runs (or `*`).
pub(crate) fn check_new_site(state: &AppState, admin: &User, site: &str) -> Result<(), ApiError> {
    if !admin.can_access(site) {
        return Err(ApiError::NotAllowed(format!(
            "add users to {}",
            if site == ALL_SITES {
                "every site".to_string()
            } else {
                format!("site \"{site}\"")
            }
        )));
    }
    if site != ALL_SITES && state.site(site).is_err() {
        return Err(ApiError::invalid_body(
            format!("no site \"{site}\" (a site id, or * for every site)"),
            Some("site"),
        ));
    }
    Ok(())
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    responses(
        (status = 200, description = "The users this admin manages, by name (never a hash)", body = UserList),
        crate::http::openapi::TokenErrors,
        (status = 503, description = "store_unavailable", body = crate::http::error::ErrorBody)
    )
)]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    admin: TokenAdmin,
) -> Result<HttpResponse, ApiError> {
    let list = users::list(state.store.as_ref(), By::Admin(&admin.0)).await?;
    let users = list.iter().map(UserView::from).collect();
    Ok(no_store(HttpResponse::Ok()).json(UserList { users }))
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    request_body = NewUserBody,
    responses(
        (status = 201, description = "The user, with its API token (shown once)", body = CreatedUser),
        crate::http::openapi::BodyErrors,
        (status = 409, description = "user_exists", body = crate::http::error::ErrorBody),
        crate::http::openapi::TokenErrors,
        (status = 503, description = "store_unavailable", body = crate::http::error::ErrorBody)
    )
)]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    admin: TokenAdmin,
    body: JsonBody<NewUserBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let role = parse_role(&b.role)?;
    check_new_site(&state, &admin.0, &b.site)?;
    let store = state.store.as_ref();
    let token = users::add(store, By::Admin(&admin.0), &b.name, &b.site, role).await?;
    let user = users::managed(store, By::Admin(&admin.0), &b.name).await?;
    let user = UserView::from(&user);
    Ok(no_store(HttpResponse::Created()).json(CreatedUser { user, token }))
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    params(crate::http::openapi::UserPath),
    responses(
        (status = 200, description = "The user", body = UserView),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[get("/users/{name}")]
async fn get_user(
    state: web::Data<AppState>,
    admin: TokenAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = users::managed(state.store.as_ref(), By::Admin(&admin.0), &name).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserView::from(&user)))
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    params(crate::http::openapi::UserPath),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The user with the role (unchanged when it had it)", body = UserView),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/users/{name}/role")]
async fn change_role(
    state: web::Data<AppState>,
    admin: TokenAdmin,
    name: web::Path<String>,
    body: JsonBody<RoleBody>,
) -> Result<HttpResponse, ApiError> {
    let role = parse_role(&body.0.role)?;
    let by = By::Admin(&admin.0);
    let user = users::change_role(state.store.as_ref(), by, &name, role).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserView::from(&user)))
}

async fn set_disabled(
    state: &AppState,
    admin: &User,
    name: &str,
    disabled: bool,
) -> Result<HttpResponse, ApiError> {
    let by = By::Admin(admin);
    let user = users::set_disabled(state.store.as_ref(), by, name, disabled).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserView::from(&user)))
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    params(crate::http::openapi::UserPath),
    responses(
        (status = 200, description = "Disabled: no sign-in; sessions and token stop working", body = UserView),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/users/{name}/disable")]
async fn disable_user(
    state: web::Data<AppState>,
    admin: TokenAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_disabled(&state, &admin.0, &name, true).await
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    params(crate::http::openapi::UserPath),
    responses(
        (status = 200, description = "Enabled again", body = UserView),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/users/{name}/enable")]
async fn enable_user(
    state: web::Data<AppState>,
    admin: TokenAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_disabled(&state, &admin.0, &name, false).await
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    params(crate::http::openapi::UserPath),
    responses(
        (status = 201, description = "A new API token (shown once); the old one stops working", body = TokenView),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/users/{name}/token")]
async fn new_token(
    state: web::Data<AppState>,
    admin: TokenAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = users::new_api_token(state.store.as_ref(), By::Admin(&admin.0), &name).await?;
    Ok(no_store(HttpResponse::Created()).json(TokenView { token }))
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    params(crate::http::openapi::UserPath),
    responses(
        (status = 200, description = "The user without a working token", body = UserView),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/users/{name}/token/revoke")]
async fn revoke_token(
    state: web::Data<AppState>,
    admin: TokenAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let by = By::Admin(&admin.0);
    let user = users::revoke_api_token(state.store.as_ref(), by, &name).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserView::from(&user)))
}

#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    params(crate::http::openapi::UserPath),
    responses(
        (status = 201, description = "A single-use link (72 hours) for the user to set their password, shown once", body = InviteView),
        crate::http::openapi::TokenErrors,
        crate::http::openapi::PublicErrors
    )
)]
#[post("/users/{name}/invite")]
async fn invite_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: TokenAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let link = password_links::invite(state.store.as_ref(), By::Admin(&admin.0), &name).await?;
    let base = super::public_base(&state, &req);
    Ok(no_store(HttpResponse::Created()).json(InviteView::of(&link, &base)))
}

/// Any token's user changes their own web-login password, giving the current one.
#[utoipa::path(
    tag = "users",
    security(("token" = [])),
    request_body = PasswordBody,
    responses(
        (status = 204, description = "The password is changed"),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::TokenErrors,
        (status = 503, description = "store_unavailable", body = crate::http::error::ErrorBody)
    )
)]
#[post("/me/password")]
async fn own_password(
    req: HttpRequest,
    body: JsonBody<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state_of(&req)?;
    let user = token_user(&req).await?;
    let b = body.0;
    users::change_own_password(&state, &user.name, &b.current_password, &b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}
