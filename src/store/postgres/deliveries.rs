//! Webhook deliveries: claimed with `FOR UPDATE SKIP LOCKED` under a lease (two nodes never
//! take one delivery, and a dead node's claims are taken once their lease ends); an attempt
//! is recorded only by the lease's node; all of it conditional UPDATEs.

use super::rows::{self, DELIVERY_COLUMNS};
use super::PgStore;
use crate::domain::{AttemptRecord, Delivery, DeliveryStatus};
use crate::store::{Claim, DeliveryQuery, DeliveryStore, Page, StoreError};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use uuid::Uuid;

/// Whether a delivery exists (to tell `NotFound` from a refused change).
async fn exists(c: &impl GenericClient, site: &str, id: Uuid) -> Result<bool, StoreError> {
    let st = c
        .prepare_cached("SELECT status FROM deliveries WHERE site = $1 AND id = $2")
        .await?;
    Ok(c.query_opt(&st, &[&site, &id]).await?.is_some())
}

#[async_trait]
impl DeliveryStore for PgStore {
    async fn delivery(&self, site: &str, id: Uuid) -> Result<Option<Delivery>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let sql =
                format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE site = $1 AND id = $2");
            let st = c.prepare_cached(&sql).await?;
            c.query_opt(&st, &[&site, &id])
                .await?
                .map(|r| rows::delivery(&r))
                .transpose()
        })
        .await
    }

    async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
        let q = query.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            let (cmp, order) = if q.newest_first { ("<", "DESC") } else { (">", "ASC") };
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries
                 WHERE site = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR id {cmp} $3)
                 ORDER BY id {order} LIMIT $4"
            );
            let st = c.prepare_cached(&sql).await?;
            let status = q.status.map(DeliveryStatus::as_str);
            let limit = (q.limit.min(crate::store::MAX_PAGE) + 1) as i64;
            let found = c.query(&st, &[&q.site, &status, &q.after, &limit]).await?;
            let items = found.iter().map(rows::delivery).collect::<Result<Vec<_>, _>>()?;
            Ok(Page::of(items, q.limit, |d| d.id))
        })
        .await
    }

    async fn claim_deliveries(&self, claim: &Claim) -> Result<Vec<Delivery>, StoreError> {
        let c0 = claim.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            let returning = DELIVERY_COLUMNS
                .split(", ")
                .map(|col| format!("d.{}", col.trim()))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "WITH due AS (
                    SELECT site, id FROM deliveries
                    WHERE status = 'pending' AND claimable_ms <= $1
                    ORDER BY claimable_ms LIMIT $2
                    FOR UPDATE SKIP LOCKED)
                 UPDATE deliveries d SET lease_node = $3, lease_until_ms = $4
                 FROM due WHERE d.site = due.site AND d.id = due.id
                 RETURNING {returning}"
            );
            let st = c.prepare_cached(&sql).await?;
            let limit = c0.limit as i64;
            let found = c
                .query(&st, &[&c0.now_ms, &limit, &c0.node, &c0.lease_until_ms])
                .await?;
            let mut claimed = found
                .iter()
                .map(rows::delivery)
                .collect::<Result<Vec<_>, _>>()?;
            claimed.sort_by_key(|d| (d.next_attempt_ms, d.id));
            Ok(claimed)
        })
        .await
    }

    async fn record_attempt(
        &self,
        site: &str,
        id: Uuid,
        node: &str,
        attempt: &AttemptRecord,
    ) -> Result<Delivery, StoreError> {
        let (site, node, a) = (site.to_string(), node.to_string(), attempt.clone());
        self.run(|db| async move {
            let c = db.client().await?;
            let sql = format!(
                "UPDATE deliveries SET status = $4, attempts = attempts + 1, next_attempt_ms = $5,
                    last_error = $6, last_status = $7, delivered_at_ms = $8,
                    lease_node = NULL, lease_until_ms = NULL
                 WHERE site = $1 AND id = $2 AND lease_node = $3
                 RETURNING {DELIVERY_COLUMNS}"
            );
            let st = c.prepare_cached(&sql).await?;
            let last_status = a.last_status.map(i32::from);
            let row = c
                .query_opt(
                    &st,
                    &[
                        &site,
                        &id,
                        &node,
                        &a.status.as_str(),
                        &a.next_attempt_ms,
                        &a.last_error,
                        &last_status,
                        &a.delivered_at_ms,
                    ],
                )
                .await?;
            match row {
                Some(row) => rows::delivery(&row),
                None if exists(&c, &site, id).await? => Err(StoreError::LeaseLost),
                None => Err(StoreError::NotFound),
            }
        })
        .await
    }

    async fn reschedule_delivery(
        &self,
        site: &str,
        id: Uuid,
        now_ms: i64,
    ) -> Result<Delivery, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            // A manual retry restarts the retry span; a worker holding it keeps its lease.
            let sql = format!(
                "UPDATE deliveries SET status = 'pending', next_attempt_ms = $3, created_at_ms = $3
                 WHERE site = $1 AND id = $2 AND status <> 'delivered'
                 RETURNING {DELIVERY_COLUMNS}"
            );
            let st = c.prepare_cached(&sql).await?;
            match c.query_opt(&st, &[&site, &id, &now_ms]).await? {
                Some(row) => rows::delivery(&row),
                None if exists(&c, &site, id).await? => Err(StoreError::AlreadyDelivered),
                None => Err(StoreError::NotFound),
            }
        })
        .await
    }
}
