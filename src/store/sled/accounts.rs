//! Users and their tokens, web-login sessions, and invitation links.
//!
//! Trees: `users` (name → user), `tokens` (token hash → name), `sessions` (hash of the session
//! id → session), `invitations` (token hash → invitation), `login_failures` (hash of a name
//! tried → failed sign-ins). Only hashes of secrets are keys.

use super::{encode, Db, SledStore};
use crate::domain::{Invitation, LoginFailures, Session, User};
use crate::store::{InvitationStore, SessionStore, StoreError, UserStore};
use async_trait::async_trait;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

impl Db {
    fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let value = encode(user)?;
        let result: Result<(), TransactionError<StoreError>> = (&self.users, &self.tokens)
            .transaction(|(users, tokens)| {
                if let Some(old) = users.get(user.name.as_str())? {
                    let old: User =
                        super::decode(&old).map_err(ConflictableTransactionError::Abort)?;
                    tokens.remove(old.token_sha256.as_str())?;
                }
                users.insert(user.name.as_bytes(), value.as_slice())?;
                tokens.insert(user.token_sha256.as_bytes(), user.name.as_bytes())?;
                Ok(())
            });
        result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        })
    }
}

#[async_trait]
impl UserStore for SledStore {
    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |db| db.put_user(&user)).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_string();
        self.read(move |db| db.get(&db.users, name.as_bytes()))
            .await
    }

    async fn user_by_token(&self, token_sha256: &str) -> Result<Option<User>, StoreError> {
        let hash = token_sha256.to_string();
        self.read(move |db| match db.tokens.get(hash.as_bytes())? {
            None => Ok(None),
            Some(name) => db.get(&db.users, &name),
        })
        .await
    }

    async fn user_count(&self) -> Result<u64, StoreError> {
        self.read(|db| Ok(db.users.len() as u64)).await
    }

    async fn login_failures(&self, account: &str) -> Result<Option<LoginFailures>, StoreError> {
        let key = account.to_string();
        self.read(move |db| db.get(&db.login_failures, key.as_bytes()))
            .await
    }

    async fn record_login_failure(
        &self,
        account: &str,
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<LoginFailures, StoreError> {
        let key = account.to_string();
        self.write(move |db| loop {
            let old = db.login_failures.get(key.as_bytes())?;
            let count = match &old {
                Some(bytes) => {
                    let f: LoginFailures = super::decode(bytes)?;
                    if f.last_ms < forget_before_ms {
                        1
                    } else {
                        f.count.saturating_add(1)
                    }
                }
                None => 1,
            };
            let new = LoginFailures {
                count,
                last_ms: at_ms,
            };
            // Compare and swap: a failure counted by another request meanwhile is kept.
            if db
                .login_failures
                .compare_and_swap(key.as_bytes(), old, Some(encode(&new)?))?
                .is_ok()
            {
                return Ok(new);
            }
        })
        .await
    }

    async fn clear_login_failures(
        &self,
        account: &str,
        forget_before_ms: i64,
    ) -> Result<(), StoreError> {
        let key = account.to_string();
        self.write(move |db| {
            db.login_failures.remove(key.as_bytes())?;
            for kv in db.login_failures.iter() {
                let (k, v) = kv?;
                let f: LoginFailures = super::decode(&v)?;
                if f.last_ms < forget_before_ms {
                    db.login_failures.remove(k)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn create_user(&self, user: &User) -> Result<bool, StoreError> {
        let user = user.clone();
        self.write(move |db| {
            // The stripe lock of the name's hash serializes two creators of one name.
            let stripe = uuid::Uuid::from_u128(u128::from(crc(&user.name)));
            let _guard = db.key_lock(stripe);
            if db.users.contains_key(user.name.as_bytes())? {
                return Ok(false);
            }
            db.put_user(&user)?;
            Ok(true)
        })
        .await
    }
}

/// A cheap, stable hash of a name (to pick a lock stripe).
fn crc(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[async_trait]
impl crate::store::SignalStore for SledStore {
    async fn mark_site_reloaded(&self, site: &str) -> Result<u64, StoreError> {
        let key = format!("reload/{site}").into_bytes();
        self.write(move |db| {
            let next = db.meta.update_and_fetch(&key, |old| {
                let n = old
                    .and_then(|v| <[u8; 8]>::try_from(v).ok())
                    .map_or(0, u64::from_be_bytes);
                Some((n + 1).to_be_bytes().to_vec())
            })?;
            Ok(next
                .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
                .map_or(0, u64::from_be_bytes))
        })
        .await
    }

    async fn site_reload_marks(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.read(|db| {
            let mut marks = Vec::new();
            for kv in db.meta.scan_prefix(b"reload/") {
                let (k, v) = kv?;
                let site = String::from_utf8_lossy(&k[b"reload/".len()..]).into_owned();
                let n = <[u8; 8]>::try_from(v.as_ref()).map_or(0, u64::from_be_bytes);
                marks.push((site, n));
            }
            Ok(marks)
        })
        .await
    }
}

#[async_trait]
impl SessionStore for SledStore {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let (key, value) = (session.id_sha256.clone(), encode(session)?);
        self.write(move |db| Ok(db.sessions.insert(key.as_bytes(), value).map(|_| ())?))
            .await
    }

    async fn session(&self, id_sha256: &str) -> Result<Option<Session>, StoreError> {
        let key = id_sha256.to_string();
        self.read(move |db| db.get(&db.sessions, key.as_bytes()))
            .await
    }

    async fn touch_session(&self, id_sha256: &str, last_seen_ms: i64) -> Result<(), StoreError> {
        let key = id_sha256.to_string();
        self.write(move |db| loop {
            let Some(old) = db.sessions.get(key.as_bytes())? else {
                return Ok(());
            };
            let mut s: Session = super::decode(&old)?;
            if s.last_seen_ms >= last_seen_ms {
                return Ok(());
            }
            s.last_seen_ms = last_seen_ms;
            let new = encode(&s)?;
            if db
                .sessions
                .compare_and_swap(key.as_bytes(), Some(old), Some(new))?
                .is_ok()
            {
                return Ok(());
            }
        })
        .await
    }

    async fn delete_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        let key = id_sha256.to_string();
        self.write(move |db| Ok(db.sessions.remove(key.as_bytes()).map(|_| ())?))
            .await
    }

    async fn delete_idle_sessions(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.write(move |db| {
            let mut n = 0;
            for kv in db.sessions.iter() {
                let (k, v) = kv?;
                let s: Session = super::decode(&v)?;
                if s.last_seen_ms < before_ms {
                    db.sessions.remove(k)?;
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }

    async fn session_count(&self) -> Result<u64, StoreError> {
        self.read(|db| Ok(db.sessions.len() as u64)).await
    }
}

#[async_trait]
impl InvitationStore for SledStore {
    async fn put_invitations(
        &self,
        invitations: &[(String, Invitation)],
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (hash, invitation) in invitations {
            batch.insert(hash.as_bytes(), encode(invitation)?);
        }
        self.write(move |db| Ok(db.invitations.apply_batch(batch)?))
            .await
    }

    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError> {
        let key = token_sha256.to_string();
        self.read(move |db| db.get(&db.invitations, key.as_bytes()))
            .await
    }
}
