//! Single-use, expiring links to set a password: an admin's invitation of a user, and the
//! first admin's link of a new install. The secret is 256 random bits in the link's path; the
//! store keeps only its SHA-256, and using it is one store operation that only one caller wins
//! (on every node). The link is shown to whoever made it; it is never logged or audited.

use super::audit::{self, Event};
use super::users::{self, By, UserError};
use super::Chorus;
use crate::domain::time::now_ms;
use crate::domain::user::{random_hex, token_sha256};
use crate::domain::{PasswordLink, User};
use crate::store::Store;

/// How long a link works.
pub const LINK_HOURS: u32 = 72;

/// Where a link's page is, below the server's public address.
pub fn link_path(secret: &str) -> String {
    format!("/admin/password/{secret}")
}

/// A new link made for a user.
pub struct NewLink {
    pub secret: String,
    pub user: User,
    pub expires_ms: i64,
}

async fn make(store: &dyn Store, user: User) -> Result<NewLink, UserError> {
    let secret = random_hex();
    let now = now_ms();
    let expires_ms = now + i64::from(LINK_HOURS) * 3_600_000;
    let link = PasswordLink {
        user: user.name.clone(),
        created_ms: now,
        expires_ms,
        used_ms: None,
    };
    store
        .put_password_link(&token_sha256(&secret), &link)
        .await?;
    Ok(NewLink {
        secret,
        user,
        expires_ms,
    })
}

/// Invites a user `by` may manage to set their own password (a disabled user first has to
/// be enabled again).
pub async fn invite(store: &dyn Store, by: By<'_>, name: &str) -> Result<NewLink, UserError> {
    let user = users::managed(store, by, name).await?;
    if user.disabled {
        return Err(UserError::NotAllowed(format!(
            "invite \"{name}\" while the account is disabled; enable it first"
        )));
    }
    record(store, by, make(store, user).await?).await
}

/// The first admin's link, made by the system at the first start.
pub async fn for_initial_admin(store: &dyn Store) -> Result<NewLink, UserError> {
    let user = users::managed(store, By::Cli, users::INITIAL_ADMIN).await?;
    let link = make(store, user).await?;
    let (name, site) = (link.user.name.as_str(), link.user.site.as_str());
    let event = Event::InviteCreated {
        name,
        site,
        expires_in_hours: LINK_HOURS,
    };
    audit::record(store, audit::Actor::System, event).await?;
    Ok(link)
}

async fn record(store: &dyn Store, by: By<'_>, link: NewLink) -> Result<NewLink, UserError> {
    let (name, site) = (link.user.name.as_str(), link.user.site.as_str());
    let event = Event::InviteCreated {
        name,
        site,
        expires_in_hours: LINK_HOURS,
    };
    audit::record(store, by.actor(), event).await?;
    Ok(link)
}

/// The user a link would set the password of, when it still works (for the form).
pub async fn check(store: &dyn Store, secret: &str) -> Result<User, UserError> {
    let link = store
        .password_link(&token_sha256(secret))
        .await?
        .filter(|l| l.used_ms.is_none() && l.expires_ms > now_ms())
        .ok_or(UserError::LinkUnusable)?;
    live_user(store, &link).await
}

async fn live_user(store: &dyn Store, link: &PasswordLink) -> Result<User, UserError> {
    store
        .user(&link.user)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(UserError::LinkUnusable)
}

/// Uses a link to set a password (argon2 on the work pool). A too-short password leaves the
/// link unused.
pub async fn redeem(chorus: &Chorus, secret: &str, password: &str) -> Result<User, UserError> {
    let store = chorus.store.as_ref();
    let password = password.to_string();
    let hash = chorus
        .run(move || users::password_hash_for_link(&password))
        .await??;
    let link = store
        .use_password_link(&token_sha256(secret), now_ms())
        .await?
        .ok_or(UserError::LinkUnusable)?;
    let mut user = live_user(store, &link).await?;
    users::set_password_by_link(store, &mut user, hash).await?;
    Ok(user)
}
