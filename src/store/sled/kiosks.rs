//! Waiting-room kiosks. Trees: `kiosks` (site, id → kiosk) and `kiosk_secrets` (hex SHA-256 of
//! an enrolment token or a kiosk cookie → the kiosk's key). Kiosks change rarely, so each
//! write is one transaction over both trees; a reader still checks the record against the
//! hash it came by, so a secret that is no longer the kiosk's finds nothing.

use super::{decode, encode, keys, Db, SledStore};
use crate::domain::Kiosk;
use crate::store::{KioskStore, StoreError};
use async_trait::async_trait;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};
use uuid::Uuid;

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn secrets_of(k: &Kiosk) -> impl Iterator<Item = &String> {
    k.enrolment_sha256.iter().chain(k.cookie_sha256.iter())
}

/// Writes `new` over `old` (if any) in a transaction: drops the secrets `new` no longer holds.
fn replace(
    kiosks: &TransactionalTree,
    secrets: &TransactionalTree,
    old: Option<&Kiosk>,
    new: &Kiosk,
) -> TxResult<()> {
    let key = keys::entity_key(&new.site, new.id);
    for hash in old.into_iter().flat_map(secrets_of) {
        if !secrets_of(new).any(|h| h == hash) {
            secrets.remove(hash.as_bytes())?;
        }
    }
    for hash in secrets_of(new) {
        secrets.insert(hash.as_bytes(), key.as_slice())?;
    }
    let value = encode(new).map_err(ConflictableTransactionError::Abort)?;
    kiosks.insert(key, value)?;
    Ok(())
}

fn read(tree: &TransactionalTree, key: &[u8]) -> TxResult<Option<Kiosk>> {
    match tree.get(key)? {
        None => Ok(None),
        Some(v) => decode(&v)
            .map(Some)
            .map_err(ConflictableTransactionError::Abort),
    }
}

fn unwrap_tx<T>(r: Result<T, TransactionError<StoreError>>) -> Result<T, StoreError> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.into(),
    })
}

impl Db {
    fn transact<T>(
        &self,
        f: impl Fn(&TransactionalTree, &TransactionalTree) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        unwrap_tx((&self.kiosks, &self.kiosk_secrets).transaction(|(k, s)| f(k, s)))
    }

    pub(super) fn put_kiosk(&self, kiosk: &Kiosk) -> Result<(), StoreError> {
        let key = keys::entity_key(&kiosk.site, kiosk.id);
        self.transact(|kiosks, secrets| {
            let old = read(kiosks, &key)?;
            replace(kiosks, secrets, old.as_ref(), kiosk)
        })
    }

    /// The kiosk a secret hash names, if the kiosk still holds that hash.
    fn kiosk_by_secret(
        &self,
        hash: &str,
        holds: impl Fn(&Kiosk) -> bool,
    ) -> Result<Option<Kiosk>, StoreError> {
        let Some(key) = self.kiosk_secrets.get(hash.as_bytes())? else {
            return Ok(None);
        };
        let found: Option<Kiosk> = self.get(&self.kiosks, &key)?;
        Ok(found.filter(|k| holds(k)))
    }

    fn enrol_kiosk(
        &self,
        enrolment: &str,
        cookie: &str,
        at: &str,
    ) -> Result<Option<Kiosk>, StoreError> {
        self.transact(|kiosks, secrets| {
            let Some(key) = secrets.get(enrolment.as_bytes())? else {
                return Ok(None);
            };
            let Some(old) = read(kiosks, &key)? else {
                return Ok(None);
            };
            if old.is_revoked() || old.enrolment_sha256.as_deref() != Some(enrolment) {
                return Ok(None);
            }
            let mut new = old.clone();
            new.enrolment_sha256 = None;
            new.cookie_sha256 = Some(cookie.to_string());
            new.enrolled_at = Some(at.to_string());
            replace(kiosks, secrets, Some(&old), &new)?;
            Ok(Some(new))
        })
    }

    fn revoke_kiosk(&self, site: &str, id: Uuid, at: &str) -> Result<Option<Kiosk>, StoreError> {
        let key = keys::entity_key(site, id);
        self.transact(|kiosks, secrets| {
            let Some(old) = read(kiosks, &key)? else {
                return Ok(None);
            };
            let mut new = old.clone();
            new.revoked_at = old.revoked_at.clone().or_else(|| Some(at.to_string()));
            new.enrolment_sha256 = None;
            new.cookie_sha256 = None;
            replace(kiosks, secrets, Some(&old), &new)?;
            Ok(Some(new))
        })
    }

    pub(super) fn list_kiosks(&self, site: &str) -> Result<Vec<Kiosk>, StoreError> {
        self.kiosks
            .scan_prefix(keys::site_prefix(site))
            .map(|kv| decode(&kv?.1))
            .collect()
    }
}

#[async_trait]
impl KioskStore for SledStore {
    async fn put_kiosk(&self, kiosk: &Kiosk) -> Result<(), StoreError> {
        let kiosk = kiosk.clone();
        self.write(move |db| db.put_kiosk(&kiosk)).await
    }

    async fn kiosk(&self, site: &str, id: Uuid) -> Result<Option<Kiosk>, StoreError> {
        let key = keys::entity_key(site, id);
        self.read(move |db| db.get(&db.kiosks, &key)).await
    }

    async fn list_kiosks(&self, site: &str) -> Result<Vec<Kiosk>, StoreError> {
        let site = site.to_string();
        self.read(move |db| db.list_kiosks(&site)).await
    }

    async fn kiosk_by_cookie(&self, cookie_sha256: &str) -> Result<Option<Kiosk>, StoreError> {
        let hash = cookie_sha256.to_string();
        self.read(move |db| {
            db.kiosk_by_secret(&hash, |k| k.cookie_sha256.as_deref() == Some(hash.as_str()))
        })
        .await
    }

    async fn enrol_kiosk(
        &self,
        enrolment_sha256: &str,
        cookie_sha256: &str,
        enrolled_at: &str,
    ) -> Result<Option<Kiosk>, StoreError> {
        let (e, c, at) = (
            enrolment_sha256.to_string(),
            cookie_sha256.to_string(),
            enrolled_at.to_string(),
        );
        self.write(move |db| db.enrol_kiosk(&e, &c, &at)).await
    }

    async fn revoke_kiosk(
        &self,
        site: &str,
        id: Uuid,
        revoked_at: &str,
    ) -> Result<Option<Kiosk>, StoreError> {
        let (site, at) = (site.to_string(), revoked_at.to_string());
        self.write(move |db| db.revoke_kiosk(&site, id, &at)).await
    }
}
