//! Users: the first admin of a new install, adding users, setting a web-login password.

use super::audit::{self, Actor, Event};
use super::sessions::hash_password;
use super::ServiceError;
use crate::domain::time::now_rfc3339;
use crate::domain::user::{new_token, token_sha256};
use crate::domain::{Role, User, ALL_SITES};
use crate::store::Store;

/// The shortest web-login password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Why a user cannot be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("--name may use letters, digits and - _ . @ (at most 64)")]
    BadName,
    #[error("a user named \"{0}\" already exists")]
    Exists(String),
    #[error("no user named \"{0}\"")]
    Unknown(String),
    #[error("the password is too short: it has {0} character(s), it needs at least {MIN_PASSWORD_CHARS}; nothing was changed")]
    ShortPassword(usize),
    #[error("{0}")]
    Hash(String),
    /// The store has no users but holds data: not a new installation.
    #[error("the store holds responses but no users, so it is not a new installation")]
    NotANewInstall,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for UserError {
    fn from(e: crate::store::StoreError) -> Self {
        UserError::Service(e.into())
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

/// Creates a user and returns its API token (shown once; only its hash is stored).
pub async fn add(
    store: &dyn Store,
    actor: Actor<'_>,
    name: &str,
    site: &str,
    role: Role,
) -> Result<String, UserError> {
    if !valid_name(name) {
        return Err(UserError::BadName);
    }
    let token = new_token();
    let created = store
        .create_user(&User {
            name: name.to_string(),
            site: site.to_string(),
            role,
            token_sha256: token_sha256(&token),
            password_hash: None,
            created_at: now_rfc3339(),
        })
        .await?;
    if !created {
        return Err(UserError::Exists(name.to_string()));
    }
    let role = serde_json::to_value(role).ok();
    let role = role.as_ref().and_then(|r| r.as_str()).unwrap_or_default();
    audit::record(store, actor, Event::UserCreated { name, site, role }).await?;
    audit::record(store, actor, Event::TokenCreated { name }).await?;
    Ok(token)
}

/// On a store without users: the all-sites admin "admin", with its token. When several
/// nodes start together on one new database, one of them creates it. A store that holds
/// responses or tasks but no users (its users were lost, or left out of a restore) gets none:
/// `NotANewInstall`.
pub async fn initial_admin(store: &dyn Store) -> Result<Option<String>, UserError> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    if !store.is_empty().await? {
        return Err(UserError::NotANewInstall);
    }
    // Another node starting on the same new database may create it first.
    match add(store, Actor::System, "admin", ALL_SITES, Role::Admin).await {
        Ok(token) => Ok(Some(token)),
        Err(UserError::Exists(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sets the web-login password of a user (12 characters or more, stored as argon2id).
pub async fn set_password(
    store: &dyn Store,
    actor: Actor<'_>,
    name: &str,
    password: &str,
) -> Result<(), UserError> {
    let mut user = store
        .user(name)
        .await?
        .ok_or_else(|| UserError::Unknown(name.to_string()))?;
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(UserError::ShortPassword(length));
    }
    user.password_hash = Some(hash_password(password).map_err(UserError::Hash)?);
    store.put_user(&user).await?;
    audit::record(store, actor, Event::PasswordSet { name }).await?;
    Ok(())
}
