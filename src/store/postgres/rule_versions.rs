//! Rule-file versions on PostgreSQL (table `rule_versions`, migration 4). A new version takes
//! the next number of its (site, file) in one statement; two writers racing for a number meet
//! on the primary key, and the loser retries with the next.

use super::{rows, PgStore};
use crate::domain::RuleVersion;
use crate::store::{RuleVersionStore, StoreError};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::Json;

/// Writes a version as it is, number included (restore).
pub(super) async fn put(c: &impl GenericClient, v: &RuleVersion) -> Result<(), StoreError> {
    let st = c
        .prepare_cached(
            "INSERT INTO rule_versions (site, file, number, record) VALUES ($1, $2, $3, $4)
             ON CONFLICT (site, file, number) DO UPDATE SET record = excluded.record",
        )
        .await?;
    let number = v.number as i64;
    c.execute(&st, &[&v.site, &v.file, &number, &Json(v)])
        .await?;
    Ok(())
}

#[async_trait]
impl RuleVersionStore for PgStore {
    async fn add_rule_version(&self, version: &RuleVersion) -> Result<RuleVersion, StoreError> {
        let version = version.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            let last = c
                .prepare_cached(
                    "SELECT coalesce(max(number), 0) AS last FROM rule_versions
                     WHERE site = $1 AND file = $2",
                )
                .await?;
            let insert = c
                .prepare_cached(
                    "INSERT INTO rule_versions (site, file, number, record) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            loop {
                let row = c.query_one(&last, &[&version.site, &version.file]).await?;
                let number: i64 = row.get("last");
                let stored = RuleVersion {
                    number: number as u64 + 1,
                    ..version.clone()
                };
                let next = number + 1;
                let written = c
                    .execute(
                        &insert,
                        &[&stored.site, &stored.file, &next, &Json(&stored)],
                    )
                    .await?;
                if written == 1 {
                    return Ok(stored);
                }
            }
        })
        .await
    }

    async fn rule_versions(&self, site: &str, file: &str) -> Result<Vec<RuleVersion>, StoreError> {
        let (site, file) = (site.to_string(), file.to_string());
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT record FROM rule_versions WHERE site = $1 AND file = $2
                     ORDER BY number DESC",
                )
                .await?;
            c.query(&st, &[&site, &file])
                .await?
                .iter()
                .map(|row| rows::json(row, "record"))
                .collect()
        })
        .await
    }

    async fn current_rule_versions(&self, site: &str) -> Result<Vec<RuleVersion>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT DISTINCT ON (file) record FROM rule_versions WHERE site = $1
                     ORDER BY file, number DESC",
                )
                .await?;
            c.query(&st, &[&site])
                .await?
                .iter()
                .map(|row| rows::json(row, "record"))
                .collect()
        })
        .await
    }

    async fn rule_version(
        &self,
        site: &str,
        file: &str,
        number: u64,
    ) -> Result<Option<RuleVersion>, StoreError> {
        let (site, file, number) = (site.to_string(), file.to_string(), number as i64);
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT record FROM rule_versions WHERE site = $1 AND file = $2 AND number = $3",
                )
                .await?;
            c.query_opt(&st, &[&site, &file, &number])
                .await?
                .map(|row| rows::json(&row, "record"))
                .transpose()
        })
        .await
    }
}
