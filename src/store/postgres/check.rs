//! `chorus check-store` on PostgreSQL: what the database holds and whether its derived records
//! agree with its responses, read without migrating or writing anything. Every write of this
//! backend is one transaction, so a disagreement means someone edited the tables by hand (or a
//! restore of a partial dump), and the check names it.

use super::connect;
use super::migrate::SCHEMA_VERSION;
use crate::store::{StoreError, StoreSummary};

/// Each check: what it counts, and how the sentence names a disagreement.
const CHECKS: &[(&str, &str)] = &[
    (
        "SELECT (SELECT count(*) FROM responses) - (SELECT coalesce(sum(n), 0)::bigint FROM report_counts WHERE code = '')",
        "the report counts and the stored responses differ by {n}",
    ),
    (
        "SELECT count(*) FROM tasks t WHERE origin = 'response' AND NOT EXISTS
           (SELECT 1 FROM responses r WHERE r.site = t.site AND r.id = (t.record ->> 'response_id')::uuid)",
        "{n} tasks name a response that is not stored",
    ),
    (
        "SELECT count(*) FROM deliveries d WHERE origin = 'response' AND NOT EXISTS
           (SELECT 1 FROM responses r WHERE r.site = d.site AND r.id = d.response_id)",
        "{n} webhook deliveries name a response that is not stored",
    ),
    (
        "SELECT count(*) FROM idempotency_keys k WHERE NOT EXISTS
           (SELECT 1 FROM responses r WHERE r.site = k.site AND r.id = k.response_id)",
        "{n} idempotency keys name a response that is not stored",
    ),
];

/// `None` when the database has no Chorus schema (nothing is created).
pub async fn check(url: &str) -> Result<Option<StoreSummary>, StoreError> {
    let config = connect::parse(url)?;
    let location = format!(
        "in the PostgreSQL database \"{}\" at {}",
        config.get_dbname().unwrap_or_default(),
        connect::server_of(&config)
    );
    let pool = connect::pool(url, 2).await?;
    let outcome = async {
        let mut c = pool.get().await?;
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let has_schema: bool = tx
            .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
            .await?
            .get(0);
        if !has_schema {
            return Ok(None);
        }
        let version: i32 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
            .await?
            .get(0);
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                store: "database",
                found: version.to_string(),
                supported: SCHEMA_VERSION.to_string(),
            });
        }
        if version < SCHEMA_VERSION {
            return Err(StoreError::Backend(format!(
                "the database {location} has schema {version}; this Chorus writes schema {SCHEMA_VERSION}: run `chorus migrate` (or start the server, which migrates)"
            )));
        }
        let mut found = Vec::new();
        for (sql, sentence) in CHECKS {
            let n: i64 = tx.query_one(*sql, &[]).await?.get(0);
            if n != 0 {
                found.push(sentence.replace("{n}", &n.abs().to_string()));
            }
        }
        if !found.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "the database {location} disagrees with itself: {}. Chorus writes each response with its derived records in one transaction, so the tables were changed outside Chorus (or restored from a partial dump); restore a whole backup (`chorus restore` into an empty database, or your pg_dump) and start again",
                found.join("; ")
            )));
        }
        let row = tx
            .query_one(
                "SELECT (SELECT count(*) FROM responses), (SELECT count(*) FROM users),
                        (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text",
                &[],
            )
            .await?;
        tx.commit().await?;
        Ok(Some(StoreSummary {
            location: location.clone(),
            position: format!(
                "schema {version}, WAL position {}",
                row.get::<_, Option<String>>(2).unwrap_or_default()
            ),
            checked_against: "its report counts and the responses its tasks, deliveries and idempotency keys name".into(),
            responses: row.get::<_, i64>(0) as u64,
            users: row.get::<_, i64>(1) as u64,
        }))
    }
    .await;
    pool.close();
    outcome
}
