//! Web-login sessions (in the store); failed sign-ins are limited by `login_throttle`.
//!
//! A session id is 256 random bits; the store keeps only its SHA-256, so a copy of the store
//! does not yield a usable cookie. Each session has its own CSRF token. Sessions survive a
//! restart and are shared by every node on one store; a request refreshes the session's
//! last-seen time in the store at most once a minute, so a session idle for the whole timeout
//! ends (up to that minute early, never late).

use super::audit::{self, Actor, Event};
use super::{Chorus, ServiceError};
use crate::domain::time::now_ms;
use crate::domain::user::{constant_time_eq, random_hex};
use crate::domain::Session;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;

fn key(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// What a request learns about its session.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: String,
    pub csrf: String,
}

impl SessionInfo {
    pub fn csrf_matches(&self, presented: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), presented.as_bytes())
    }
}

/// How long an idle session lives.
pub struct Sessions {
    idle_ms: AtomicU64,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            idle_ms: AtomicU64::new(DEFAULT_IDLE_TIMEOUT.as_millis() as u64),
        }
    }
}

impl Sessions {
    /// Inactivity after which a session ends (default 30 minutes).
    pub fn set_idle_timeout(&self, idle: Duration) {
        self.idle_ms
            .store(idle.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_ms.load(Ordering::Relaxed))
    }
}

/// Starts a session for `user` (a sign-in, audited); returns the cookie value (never stored)
/// and the session.
pub async fn create(chorus: &Chorus, user: &str) -> Result<(String, SessionInfo), ServiceError> {
    let id = random_hex();
    let now = now_ms();
    let idle = chorus.sessions.idle_timeout().as_millis() as i64;
    // Ended sessions go when someone signs in, so the store never grows without end.
    let expired = chorus.store.delete_idle_sessions(now - idle).await?;
    let store = chorus.store.as_ref();
    if expired > 0 {
        audit::record(
            store,
            Actor::System,
            Event::SessionsCleared { count: expired },
        )
        .await?;
    }
    let session = Session {
        id_sha256: key(&id),
        user: user.to_string(),
        csrf: random_hex(),
        created_ms: now,
        last_seen_ms: now,
    };
    chorus.store.put_session(&session).await?;
    audit::record(store, Actor::User(user), Event::SignedIn { user }).await?;
    let info = SessionInfo {
        user: session.user,
        csrf: session.csrf,
    };
    Ok((id, info))
}

/// The live session for a cookie value, its inactivity clock restarted; an expired one is
/// removed and gives `None`.
pub async fn touch(chorus: &Chorus, id: &str) -> Result<Option<SessionInfo>, ServiceError> {
    let k = key(id);
    let Some(session) = chorus.store.session(&k).await? else {
        return Ok(None);
    };
    let now = now_ms();
    let idle = chorus.sessions.idle_timeout().as_millis() as i64;
    if now - session.last_seen_ms >= idle {
        chorus.store.delete_session(&k).await?;
        let user = session.user.as_str();
        let event = Event::SessionExpired { user };
        audit::record(chorus.store.as_ref(), Actor::System, event).await?;
        return Ok(None);
    }
    if now - session.last_seen_ms >= TOUCH_EVERY_MS {
        chorus.store.touch_session(&k, now).await?;
    }
    Ok(Some(SessionInfo {
        user: session.user,
        csrf: session.csrf,
    }))
}

pub async fn end(chorus: &Chorus, id: &str) -> Result<(), ServiceError> {
    Ok(chorus.store.delete_session(&key(id)).await?)
}

/// Signing out: ends the session and records it.
pub async fn sign_out(chorus: &Chorus, id: &str, user: &str) -> Result<(), ServiceError> {
    end(chorus, id).await?;
    let event = Event::SignedOut { user };
    audit::record(chorus.store.as_ref(), Actor::User(user), event).await?;
    Ok(())
}

/// The account a sign-in named, when there is one: a name typed into the form is recorded
/// only when it names an account (it could be a mistyped password).
async fn account<'a>(chorus: &Chorus, name: &'a str) -> Result<Option<&'a str>, ServiceError> {
    Ok(chorus.store.user(name).await?.map(|_| name))
}

/// Records a sign-in refused for a wrong name or password.
pub async fn record_failure(chorus: &Chorus, name: &str) -> Result<(), ServiceError> {
    let user = account(chorus, name).await?;
    let event = Event::SignInFailed { user };
    audit::record(chorus.store.as_ref(), Actor::System, event).await?;
    Ok(())
}

/// Records a sign-in refused by the throttle, before the password was checked.
pub async fn record_refusal(
    chorus: &Chorus,
    name: &str,
    retry_after: Duration,
) -> Result<(), ServiceError> {
    let user = account(chorus, name).await?;
    let retry_after_s = retry_after.as_secs_f64().ceil() as u64;
    let event = Event::SignInRefused {
        user,
        retry_after_s,
    };
    audit::record(chorus.store.as_ref(), Actor::System, event).await?;
    Ok(())
}

/// How many sessions the store holds (live or not yet cleared).
pub async fn count(chorus: &Chorus) -> Result<u64, ServiceError> {
    Ok(chorus.store.session_count().await?)
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

/// A hash to verify against when the account does not exist or has no password, so that
/// the answer takes as long as for a real account.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never matches").unwrap_or_default())
}

/// Whether `password` is the web-login password of `name` (argon2, on the work pool).
pub async fn check_password(
    chorus: &Chorus,
    name: &str,
    password: String,
) -> Result<bool, ServiceError> {
    let user = chorus.store.user(name).await?;
    let hash = user.and_then(|u| u.password_hash);
    let known = hash.is_some();
    let matched = chorus
        .run(move || verify_password(&password, hash.as_deref().unwrap_or(decoy_hash())))
        .await?;
    Ok(matched && known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
