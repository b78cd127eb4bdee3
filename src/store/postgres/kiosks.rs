//! Waiting-room kiosks on PostgreSQL (table `kiosks`, migration 3): the record and its two
//! secret hashes in one row, so the lookups always follow the record. Enrolment and
//! revocation lock the row (`FOR UPDATE`) and write it back in one transaction: of two
//! enrolments racing with one link, the second finds the row no longer holds the hash.

use super::{rows, PgStore};
use crate::domain::Kiosk;
use crate::store::{KioskStore, StoreError};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::{Json, ToSql};
use uuid::Uuid;

/// Stores `k` (new, or over the kiosk of its `(site, id)`).
pub(super) async fn put(c: &impl GenericClient, k: &Kiosk) -> Result<(), StoreError> {
    let st = c
        .prepare_cached(
            "INSERT INTO kiosks (site, id, enrolment_sha256, cookie_sha256, record)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (site, id) DO UPDATE SET enrolment_sha256 = excluded.enrolment_sha256,
                 cookie_sha256 = excluded.cookie_sha256, record = excluded.record",
        )
        .await?;
    c.execute(
        &st,
        &[
            &k.site,
            &k.id,
            &k.enrolment_sha256,
            &k.cookie_sha256,
            &Json(k),
        ],
    )
    .await?;
    Ok(())
}

async fn query(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Kiosk>, StoreError> {
    let st = c.prepare_cached(sql).await?;
    c.query(&st, params)
        .await?
        .iter()
        .map(|row| rows::json(row, "record"))
        .collect()
}

impl PgStore {
    /// In one transaction: the kiosk `sql` selects (locked), changed by `change` when it
    /// returns true, written back and returned; `None` when no kiosk matches or `change`
    /// declines.
    async fn update_kiosk(
        &self,
        sql: &'static str,
        key: (String, Option<Uuid>),
        change: impl FnOnce(&mut Kiosk) -> bool + Send + 'static,
    ) -> Result<Option<Kiosk>, StoreError> {
        self.run(|db| async move {
            let mut c = db.client().await?;
            let tx = c.transaction().await?;
            let found = match key.1 {
                Some(id) => query(&tx, sql, &[&key.0, &id]).await?,
                None => query(&tx, sql, &[&key.0]).await?,
            };
            let Some(mut kiosk) = found.into_iter().next() else {
                return Ok(None);
            };
            if !change(&mut kiosk) {
                return Ok(None);
            }
            put(&tx, &kiosk).await?;
            tx.commit().await?;
            Ok(Some(kiosk))
        })
        .await
    }
}

#[async_trait]
impl KioskStore for PgStore {
    async fn put_kiosk(&self, kiosk: &Kiosk) -> Result<(), StoreError> {
        let kiosk = kiosk.clone();
        self.run(|db| async move { put(&db.client().await?, &kiosk).await })
            .await
    }

    async fn kiosk(&self, site: &str, id: Uuid) -> Result<Option<Kiosk>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let sql = "SELECT record FROM kiosks WHERE site = $1 AND id = $2";
            let found = query(&db.client().await?, sql, &[&site, &id]).await?;
            Ok(found.into_iter().next())
        })
        .await
    }

    async fn list_kiosks(&self, site: &str) -> Result<Vec<Kiosk>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let sql = "SELECT record FROM kiosks WHERE site = $1 ORDER BY id";
            query(&db.client().await?, sql, &[&site]).await
        })
        .await
    }

    async fn kiosk_by_cookie(&self, cookie_sha256: &str) -> Result<Option<Kiosk>, StoreError> {
        let hash = cookie_sha256.to_string();
        self.run(|db| async move {
            let sql = "SELECT record FROM kiosks WHERE cookie_sha256 = $1";
            let found = query(&db.client().await?, sql, &[&hash]).await?;
            Ok(found.into_iter().next())
        })
        .await
    }

    async fn enrol_kiosk(
        &self,
        enrolment_sha256: &str,
        cookie_sha256: &str,
        enrolled_at: &str,
    ) -> Result<Option<Kiosk>, StoreError> {
        let (cookie, at) = (cookie_sha256.to_string(), enrolled_at.to_string());
        self.update_kiosk(
            "SELECT record FROM kiosks WHERE enrolment_sha256 = $1 FOR UPDATE",
            (enrolment_sha256.to_string(), None),
            move |k| {
                if k.is_revoked() {
                    return false;
                }
                k.enrolment_sha256 = None;
                k.cookie_sha256 = Some(cookie);
                k.enrolled_at = Some(at);
                true
            },
        )
        .await
    }

    async fn revoke_kiosk(
        &self,
        site: &str,
        id: Uuid,
        revoked_at: &str,
    ) -> Result<Option<Kiosk>, StoreError> {
        let at = revoked_at.to_string();
        self.update_kiosk(
            "SELECT record FROM kiosks WHERE site = $1 AND id = $2 FOR UPDATE",
            (site.to_string(), Some(id)),
            move |k| {
                k.revoked_at.get_or_insert(at);
                k.enrolment_sha256 = None;
                k.cookie_sha256 = None;
                true
            },
        )
        .await
    }
}
