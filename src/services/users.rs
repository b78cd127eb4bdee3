//! Users: the first admin of a new install, adding users, changing roles, disabling, tokens and
//! passwords. Every change is audited; who may make it is checked here (`By`), once for the web
//! app, the JSON API and the CLI.

use super::audit::{self, Actor, Event};
use super::sessions::{hash_password, verify_password};
use super::{Chorus, ServiceError};
use crate::domain::time::now_rfc3339;
use crate::domain::user::{new_token, random_hex, token_sha256};
use crate::domain::{Role, User, ALL_SITES};
use crate::store::Store;

/// The shortest web-login password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The name of the first admin of a new install.
pub const INITIAL_ADMIN: &str = "admin";

/// Why a user cannot be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the name may use letters, digits and - _ . @ (at most 64)")]
    BadName,
    #[error("a user named \"{0}\" already exists")]
    Exists(String),
    #[error("no user named \"{0}\"")]
    Unknown(String),
    #[error("the password is too short: it has {0} character(s), it needs at least {MIN_PASSWORD_CHARS}; nothing was changed")]
    ShortPassword(usize),
    #[error("the current password is wrong; nothing was changed")]
    WrongPassword,
    /// What the user may not do, as "you may not …" ends.
    #[error("you may not {0}")]
    NotAllowed(String),
    #[error("this link is not valid: it is unknown, used already or expired; ask an admin for a new one")]
    LinkUnusable,
    #[error("{0}")]
    Hash(String),
    /// The store has no users but holds data: not a new installation.
    #[error(
        "the store holds responses, tasks or kiosks but no users, so it is not a new installation"
    )]
    NotANewInstall,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for UserError {
    fn from(e: crate::store::StoreError) -> Self {
        UserError::Service(e.into())
    }
}

/// Who asks for a change: the CLI (the operator of the machine, any user) or a signed-in admin
/// (their sites' users only).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Cli,
    Admin(&'a User),
}

impl By<'_> {
    pub fn actor(&self) -> Actor<'_> {
        match self {
            By::Cli => Actor::Cli,
            By::Admin(u) => Actor::User(&u.name),
        }
    }

    /// An admin may manage the users of their site (every user, for an admin of every site).
    fn may_manage(&self, target: &User) -> Result<(), UserError> {
        match self {
            By::Cli => Ok(()),
            By::Admin(a) if a.can_manage(target) => Ok(()),
            By::Admin(_) => Err(UserError::NotAllowed(format!(
                "manage the users of {}",
                site_words(&target.site)
            ))),
        }
    }

    /// An admin may not lock themselves out (demote or disable their own account).
    fn not_self(&self, target: &User, doing: &str) -> Result<(), UserError> {
        match self {
            By::Admin(a) if a.name == target.name => {
                Err(UserError::NotAllowed(format!("{doing} your own account")))
            }
            _ => Ok(()),
        }
    }
}

fn site_words(site: &str) -> String {
    if site == ALL_SITES {
        "every site".into()
    } else {
        format!("site \"{site}\"")
    }
}

/// A name a URL path can carry: `.` and `..` would be read as path steps.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().any(|c| c != '.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

/// The users `by` may manage, by name.
pub async fn list(store: &dyn Store, by: By<'_>) -> Result<Vec<User>, UserError> {
    let all = store.list_users().await?;
    Ok(all
        .into_iter()
        .filter(|u| by.may_manage(u).is_ok())
        .collect())
}

/// A user `by` may manage.
pub async fn managed(store: &dyn Store, by: By<'_>, name: &str) -> Result<User, UserError> {
    let user = store
        .user(name)
        .await?
        .ok_or_else(|| UserError::Unknown(name.to_string()))?;
    // Access before existence is not needed here: both answers name only the asked-for user.
    by.may_manage(&user)?;
    Ok(user)
}

/// A new user record and its API token.
fn new_user(name: &str, site: &str, role: Role) -> Result<(User, String), UserError> {
    if !valid_name(name) {
        return Err(UserError::BadName);
    }
    let token = new_token();
    let user = User {
        name: name.to_string(),
        site: site.to_string(),
        role,
        token_sha256: token_sha256(&token),
        password_hash: None,
        created_at: now_rfc3339(),
        disabled: false,
        token_revoked: false,
    };
    Ok((user, token))
}

/// Stores a new user, recorded as done by `actor`.
async fn create(store: &dyn Store, actor: Actor<'_>, user: &User) -> Result<(), UserError> {
    if !store.create_user(user).await? {
        return Err(UserError::Exists(user.name.clone()));
    }
    let (name, site, role) = (user.name.as_str(), user.site.as_str(), user.role.as_str());
    audit::record(store, actor, Event::UserCreated { name, site, role }).await?;
    audit::record(store, actor, Event::TokenCreated { name, site }).await?;
    Ok(())
}

/// Creates a user and returns its API token (shown once; only its hash is stored).
pub async fn add(
    store: &dyn Store,
    by: By<'_>,
    name: &str,
    site: &str,
    role: Role,
) -> Result<String, UserError> {
    let (user, token) = new_user(name, site, role)?;
    by.may_manage(&user)?;
    create(store, by.actor(), &user).await?;
    Ok(token)
}

/// On a store without users: the all-sites admin "admin", with its token. When several
/// nodes start together on one new database, one of them creates it. A store that holds
/// responses, tasks or kiosks but no users (its users were lost, or left out of a restore) gets
/// none (rule versions alone do not count: `chorus rules push` may come before the first start):
/// `NotANewInstall`.
pub async fn initial_admin(store: &dyn Store) -> Result<Option<String>, UserError> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    if store.holds_site_records().await? {
        return Err(UserError::NotANewInstall);
    }
    let (user, token) = new_user(INITIAL_ADMIN, ALL_SITES, Role::Admin)?;
    // Another node starting on the same new database may create it first.
    match create(store, Actor::System, &user).await {
        Ok(()) => Ok(Some(token)),
        Err(UserError::Exists(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Applies `change` to a user `by` may manage and stores the result: the user as stored, and
/// as it was when `change` changed anything (`None`: nothing changed, nothing written). With
/// `not_own`, an admin may not make this change to their own account.
async fn update(
    store: &dyn Store,
    by: By<'_>,
    name: &str,
    not_own: Option<&str>,
    change: impl FnOnce(&mut User) -> bool,
) -> Result<(User, Option<User>), UserError> {
    let mut user = managed(store, by, name).await?;
    let before = user.clone();
    if !change(&mut user) {
        return Ok((user, None));
    }
    if let Some(doing) = not_own {
        by.not_self(&before, doing)?;
    }
    store.put_user(&user).await?;
    Ok((user, Some(before)))
}

/// Changes a user's role (not one's own); the same role again changes and records nothing.
pub async fn change_role(
    store: &dyn Store,
    by: By<'_>,
    name: &str,
    role: Role,
) -> Result<User, UserError> {
    let (user, before) = update(store, by, name, Some("change the role of"), |u| {
        std::mem::replace(&mut u.role, role) != role
    })
    .await?;
    if let Some(before) = before {
        let (site, from, to) = (user.site.as_str(), before.role.as_str(), role.as_str());
        let event = Event::RoleChanged {
            name,
            site,
            from,
            to,
        };
        audit::record(store, by.actor(), event).await?;
    }
    Ok(user)
}

/// Disables (or enables again) a user: a disabled user cannot sign in, and their sessions and
/// token stop working at their next request (each request reads the user).
pub async fn set_disabled(
    store: &dyn Store,
    by: By<'_>,
    name: &str,
    disabled: bool,
) -> Result<User, UserError> {
    let (user, before) = update(store, by, name, Some("disable"), |u| {
        std::mem::replace(&mut u.disabled, disabled) != disabled
    })
    .await?;
    if before.is_some() {
        let site = user.site.as_str();
        let event = if disabled {
            Event::UserDisabled { name, site }
        } else {
            Event::UserEnabled { name, site }
        };
        audit::record(store, by.actor(), event).await?;
    }
    Ok(user)
}

/// A new API token for a user (shown once); the old one stops working.
pub async fn new_api_token(store: &dyn Store, by: By<'_>, name: &str) -> Result<String, UserError> {
    let token = new_token();
    let (user, _) = update(store, by, name, None, |u| {
        u.token_sha256 = token_sha256(&token);
        u.token_revoked = false;
        true
    })
    .await?;
    let site = user.site.as_str();
    audit::record(store, by.actor(), Event::TokenCreated { name, site }).await?;
    Ok(token)
}

/// Revokes a user's API token: the stored hash becomes that of a value nobody holds.
pub async fn revoke_api_token(
    store: &dyn Store,
    by: By<'_>,
    name: &str,
) -> Result<User, UserError> {
    let (user, before) = update(store, by, name, None, |u| {
        u.token_sha256 = token_sha256(&random_hex());
        !std::mem::replace(&mut u.token_revoked, true)
    })
    .await?;
    if before.is_some() {
        let site = user.site.as_str();
        audit::record(store, by.actor(), Event::TokenRevoked { name, site }).await?;
    }
    Ok(user)
}

/// The user an API token belongs to, if the token works: not revoked, user not disabled.
pub async fn by_token(store: &dyn Store, token: &str) -> Result<Option<User>, ServiceError> {
    let user = store.user_by_token(&token_sha256(token)).await?;
    Ok(user.filter(|u| !u.disabled && !u.token_revoked))
}

fn checked_hash(password: &str) -> Result<String, UserError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(UserError::ShortPassword(length));
    }
    hash_password(password).map_err(UserError::Hash)
}

/// Sets the web-login password of a user (12 characters or more, stored as argon2id).
pub async fn set_password(
    store: &dyn Store,
    by: By<'_>,
    name: &str,
    password: &str,
) -> Result<(), UserError> {
    let hash = checked_hash(password)?;
    let mut user = managed(store, by, name).await?;
    user.password_hash = Some(hash);
    store.put_user(&user).await?;
    let site = user.site.as_str();
    let event = Event::PasswordSet {
        name,
        site,
        via: "cli",
    };
    audit::record(store, by.actor(), event).await?;
    Ok(())
}

/// A signed-in user changes their own password, giving the current one (argon2 on the work
/// pool, off the request threads).
pub async fn change_own_password(
    chorus: &Chorus,
    name: &str,
    current: &str,
    new: &str,
) -> Result<(), UserError> {
    let store = chorus.store.as_ref();
    let mut user = store
        .user(name)
        .await?
        .ok_or_else(|| UserError::Unknown(name.to_string()))?;
    let known = user.password_hash.clone().unwrap_or_default();
    let (current, new) = (current.to_string(), new.to_string());
    let hash = chorus
        .run(move || {
            if !verify_password(&current, &known) {
                return Err(UserError::WrongPassword);
            }
            checked_hash(&new)
        })
        .await??;
    user.password_hash = Some(hash);
    store.put_user(&user).await?;
    let site = user.site.as_str();
    let event = Event::PasswordSet {
        name,
        site,
        via: "own",
    };
    audit::record(store, Actor::User(name), event).await?;
    Ok(())
}

/// Sets the password of the user a link names (after the link was used).
pub(super) async fn set_password_by_link(
    store: &dyn Store,
    user: &mut User,
    hash: String,
) -> Result<(), UserError> {
    user.password_hash = Some(hash);
    store.put_user(user).await?;
    let (name, site) = (user.name.as_str(), user.site.as_str());
    let event = Event::PasswordSet {
        name,
        site,
        via: "link",
    };
    audit::record(store, Actor::User(name), event).await?;
    Ok(())
}

pub(super) fn password_hash_for_link(password: &str) -> Result<String, UserError> {
    checked_hash(password)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_of_dots_alone_is_refused() {
        for bad in ["", ".", "..", "a b", "é"] {
            assert!(!super::valid_name(bad), "{bad:?}");
        }
        for good in ["ann", "a.b", "ann@clinic.org", "front-desk_2"] {
            assert!(super::valid_name(good), "{good:?}");
        }
    }
}
