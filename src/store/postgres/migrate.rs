//! Migrations: SQL files embedded in the binary, applied in order inside one transaction that
//! first takes an advisory lock, so two nodes starting together do not race; `schema_version`
//! has one row per applied file. A database of a newer schema than this binary is refused.

use crate::store::StoreError;
use deadpool_postgres::Pool;

/// (version, SQL), in order.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_audit.sql")),
    (3, include_str!("migrations/0003_kiosks.sql")),
    (4, include_str!("migrations/0004_password_links.sql")),
    (5, include_str!("migrations/0005_rule_versions.sql")),
];

/// The schema this binary writes.
pub const SCHEMA_VERSION: i32 = 5;

/// The advisory lock migrations hold (any constant the database does not use otherwise).
const MIGRATION_LOCK: i64 = 0x6368_6f72_7573; // "chorus"

/// Applies what is missing; returns the schema before and after.
pub(super) async fn apply(pool: &Pool, url: &str) -> Result<(i32, i32), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let found: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            store: "database",
            found: found.to_string(),
            supported: SCHEMA_VERSION.to_string(),
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::Backend(format!(
                "migration {version} failed: {}",
                super::describe(&e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[version],
        )
        .await?;
    }
    tx.commit().await?;
    if found < SCHEMA_VERSION {
        let db = super::connect::parse(url)?
            .get_dbname()
            .unwrap_or_default()
            .to_string();
        tracing::info!(%db, from = found, to = SCHEMA_VERSION, "database migrated");
    }
    Ok((found, SCHEMA_VERSION))
}

/// `chorus migrate`: connects, applies what is missing, and says what it did.
pub async fn migrate(url: &str) -> Result<(i32, i32), StoreError> {
    let pool = super::connect::pool(url, 2).await?;
    let done = apply(&pool, url).await;
    pool.close();
    done
}
