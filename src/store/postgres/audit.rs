//! The audit trail on PostgreSQL (table `audit`, migration 2). An append is one transaction
//! that locks the table against other appends (`EXCLUSIVE` lets readers through), reads the
//! head and inserts the next entry, so every node of a database extends one chain; `seq` is
//! the primary key, so were the lock ever bypassed a lost race fails (and is retried) rather
//! than forks.

use super::{retryable, rows, Db, Failure, PgStore, RETRIES};
use crate::domain::audit::GENESIS_HASH;
use crate::domain::{AuditEntry, NewAuditEntry};
use crate::store::{AuditPage, AuditQuery, AuditStore, StoreError, MAX_PAGE};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Json;

fn sql_seq(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::corrupt("an audit seq"))
}

/// Stores entries as they are (a restore's), hashes included.
pub(super) async fn put_entries(
    c: &impl GenericClient,
    entries: &[&AuditEntry],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let st = c
        .prepare_cached(
            "INSERT INTO audit (seq, site, at_ms, actor, action, record)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (seq) DO UPDATE SET site = excluded.site, at_ms = excluded.at_ms,
                 actor = excluded.actor, action = excluded.action, record = excluded.record",
        )
        .await?;
    for e in entries {
        let seq = sql_seq(e.seq)?;
        c.execute(
            &st,
            &[&seq, &e.site, &e.at_ms, &e.actor, &e.action, &Json(e)],
        )
        .await?;
    }
    Ok(())
}

async fn head(c: &impl GenericClient) -> Result<Option<AuditEntry>, StoreError> {
    let st = c
        .prepare_cached("SELECT record FROM audit ORDER BY seq DESC LIMIT 1")
        .await?;
    c.query_opt(&st, &[])
        .await?
        .map(|row| rows::json(&row, "record"))
        .transpose()
}

async fn try_append(db: &Db, new: &NewAuditEntry) -> Result<AuditEntry, Failure> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    tx.batch_execute("LOCK TABLE audit IN EXCLUSIVE MODE")
        .await?;
    let entry = match head(&tx).await? {
        Some(h) => new.clone().chain(h.seq + 1, &h.hash),
        None => new.clone().chain(1, GENESIS_HASH),
    };
    let st = tx
        .prepare_cached(
            "INSERT INTO audit (seq, site, at_ms, actor, action, record)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    let (seq, e) = (sql_seq(entry.seq)?, &entry);
    tx.execute(
        &st,
        &[&seq, &e.site, &e.at_ms, &e.actor, &e.action, &Json(e)],
    )
    .await?;
    tx.commit().await?;
    Ok(entry)
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, new: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        self.run(|db| async move {
            let mut attempt = 0;
            loop {
                match try_append(&db, &new).await {
                    Ok(entry) => return Ok(entry),
                    // Another append took this seq (or the server aborted a race): the next
                    // attempt reads the new head.
                    Err(Failure::Db(e))
                        if (retryable(&e) || e.code() == Some(&SqlState::UNIQUE_VIOLATION))
                            && attempt < RETRIES =>
                    {
                        attempt += 1
                    }
                    Err(f) => return Err(f.into()),
                }
            }
        })
        .await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let q = query.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            let limit = q.limit.clamp(1, MAX_PAGE);
            let cursor = q.cursor.map(sql_seq).transpose()?;
            // After the cursor in the listing's order: above it oldest first, below it newest.
            let sql = if q.oldest_first {
                "SELECT record FROM audit WHERE ($6::bigint IS NULL OR seq > $6) AND $$ ORDER BY seq LIMIT $7"
            } else {
                "SELECT record FROM audit WHERE ($6::bigint IS NULL OR seq < $6) AND $$ ORDER BY seq DESC LIMIT $7"
            }
            .replace(
                "$$",
                "($1::text IS NULL OR site = $1) AND ($2::text IS NULL OR action = $2)
                 AND ($3::text IS NULL OR actor = $3) AND ($4::bigint IS NULL OR at_ms >= $4)
                 AND ($5::bigint IS NULL OR at_ms < $5)",
            );
            let st = c.prepare_cached(&sql).await?;
            let fetch = (limit + 1) as i64;
            let found = c
                .query(
                    &st,
                    &[
                        &q.site, &q.action, &q.actor, &q.since_ms, &q.until_ms, &cursor, &fetch,
                    ],
                )
                .await?;
            let mut items = found
                .iter()
                .map(|row| rows::json(row, "record"))
                .collect::<Result<Vec<AuditEntry>, _>>()?;
            let next = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|e| e.seq)
            } else {
                None
            };
            Ok(AuditPage { items, next })
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.run(|db| async move { head(&db.client().await?).await })
            .await
    }
}
