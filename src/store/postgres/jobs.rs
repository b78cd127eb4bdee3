//! The rule-error list, and the per-site jobs (re-tag, catch-up, review) with their leases: a job is a
//! row of `jobs`, and a lease changes only by an UPDATE conditional on who holds it.

use super::insert::put_derived;
use super::rows::{self, DeliveryColumns, Put, TaskColumns};
use super::{with_retries, Failure, PgStore};
use crate::domain::{
    CatchUpProgress, FollowUpRecords, JobProgress, Lease, RetagProgress, ReviewState,
    RuleErrorEntry,
};
use crate::store::{JobStore, Page, RuleErrorStore, StoreError};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_postgres::types::Json;
use uuid::Uuid;

const RETAG: &str = "retag";
const REVIEW: &str = "review";
const CATCH_UP: &str = "catch_up";

/// Makes sure the job's row exists, so that a conditional UPDATE has a row to decide on. A
/// review starts from the empty state (as the sled backend's does); a re-tag from none.
async fn ensure_row(
    c: &impl GenericClient,
    kind: &str,
    site: &str,
) -> Result<(), tokio_postgres::Error> {
    let initial = (kind == REVIEW).then(|| Json(ReviewState::default()));
    let st = c
        .prepare_cached(
            "INSERT INTO jobs (kind, site, state) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .await?;
    c.execute(&st, &[&kind, &site, &initial]).await.map(|_| ())
}

async fn state<T: DeserializeOwned>(
    c: &impl GenericClient,
    kind: &str,
    site: &str,
) -> Result<Option<T>, StoreError> {
    let st = c
        .prepare_cached(
            "SELECT state FROM jobs WHERE kind = $1 AND site = $2 AND state IS NOT NULL",
        )
        .await?;
    c.query_opt(&st, &[&kind, &site])
        .await?
        .map(|r| rows::json(&r, "state"))
        .transpose()
}

/// Takes the site's job of `kind` for `lease.node`: `fresh` when none runs, the running one
/// when its lease expired; `LeaseHeld` while the lease is live.
async fn start_job<T>(
    store: &PgStore,
    kind: &'static str,
    site: &str,
    lease: &Lease,
    now_ms: i64,
    fresh: &T,
) -> Result<T, StoreError>
where
    T: JobProgress + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let (site, lease, fresh) = (site.to_string(), lease.clone(), fresh.clone());
    store
        .run(|db| async move {
            with_retries(|| async {
                let mut c = db.client().await?;
                let tx = c.transaction().await?;
                ensure_row(&tx, kind, &site).await?;
                let st = tx
                    .prepare_cached(
                        "SELECT state, lease_until_ms FROM jobs WHERE kind = $1 AND site = $2 FOR UPDATE",
                    )
                    .await?;
                let row = tx.query_one(&st, &[&kind, &site]).await?;
                let current: Option<serde_json::Value> = row.get("state");
                let current: Option<T> = current
                    .map(serde_json::from_value)
                    .transpose()
                    .map_err(StoreError::corrupt)?;
                let until: Option<i64> = row.get("lease_until_ms");
                let progress = match current {
                    Some(p) if p.is_running() => {
                        if until.is_some_and(|u| u > now_ms) {
                            return Err(Failure::Store(StoreError::LeaseHeld));
                        }
                        p
                    }
                    _ => fresh.clone(),
                };
                let st = tx
                    .prepare_cached(
                        "UPDATE jobs SET state = $3, lease_node = $4, lease_until_ms = $5 WHERE kind = $1 AND site = $2",
                    )
                    .await?;
                tx.execute(&st, &[&kind, &site, &Json(&progress), &lease.node, &lease.until_ms])
                    .await?;
                tx.commit().await?;
                Ok(progress)
            })
            .await
        })
        .await
}

/// Saves the progress of the job `lease.node` holds; a finished one ends the lease.
async fn save_job<T>(
    store: &PgStore,
    kind: &'static str,
    site: &str,
    lease: &Lease,
    progress: &T,
) -> Result<(), StoreError>
where
    T: JobProgress + Serialize + Clone + Send + Sync + 'static,
{
    let (site, lease, progress) = (site.to_string(), lease.clone(), progress.clone());
    store
        .run(|db| async move {
            let c = db.client().await?;
            let (node, until) = if progress.is_running() {
                (Some(lease.node.as_str()), Some(lease.until_ms))
            } else {
                (None, None)
            };
            let st = c
                .prepare_cached(
                    "UPDATE jobs SET state = $4, lease_node = $5, lease_until_ms = $6
                     WHERE kind = $1 AND site = $2 AND lease_node = $3",
                )
                .await?;
            let n = c
                .execute(
                    &st,
                    &[&kind, &site, &lease.node, &Json(&progress), &node, &until],
                )
                .await?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::LeaseLost)
            }
        })
        .await
}

/// Sites whose job of `kind` is marked running with a lease that expired at `now_ms`.
async fn interrupted_jobs(
    store: &PgStore,
    kind: &'static str,
    now_ms: i64,
) -> Result<Vec<String>, StoreError> {
    store
        .run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT site FROM jobs WHERE kind = $1 AND state ->> 'status' = 'running'
                     AND (lease_until_ms IS NULL OR lease_until_ms <= $2) ORDER BY site",
                )
                .await?;
            Ok(c.query(&st, &[&kind, &now_ms])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
        .await
}

#[async_trait]
impl RuleErrorStore for PgStore {
    async fn list_rule_errors(
        &self,
        site: &str,
        before: Option<Uuid>,
        limit: usize,
    ) -> Result<Page<RuleErrorEntry>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT record FROM rule_errors WHERE site = $1 AND ($2::uuid IS NULL OR id < $2)
                     ORDER BY id DESC LIMIT $3",
                )
                .await?;
            let n = (limit.min(crate::store::MAX_PAGE) + 1) as i64;
            let items = c
                .query(&st, &[&site, &before, &n])
                .await?
                .iter()
                .map(|r| rows::json(r, "record"))
                .collect::<Result<Vec<RuleErrorEntry>, _>>()?;
            Ok(Page::of(items, limit, |e| e.id))
        })
        .await
    }
}

#[async_trait]
impl JobStore for PgStore {
    async fn retag_progress(&self, site: &str) -> Result<Option<RetagProgress>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move { state(&db.client().await?, RETAG, &site).await })
            .await
    }

    async fn start_retag(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
        fresh: &RetagProgress,
    ) -> Result<RetagProgress, StoreError> {
        start_job(self, RETAG, site, lease, now_ms, fresh).await
    }

    async fn save_retag(
        &self,
        site: &str,
        lease: &Lease,
        progress: &RetagProgress,
    ) -> Result<(), StoreError> {
        save_job(self, RETAG, site, lease, progress).await
    }

    async fn interrupted_retags(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        interrupted_jobs(self, RETAG, now_ms).await
    }

    async fn catch_up_progress(&self, site: &str) -> Result<Option<CatchUpProgress>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move { state(&db.client().await?, CATCH_UP, &site).await })
            .await
    }

    async fn start_catch_up(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
        fresh: &CatchUpProgress,
    ) -> Result<CatchUpProgress, StoreError> {
        start_job(self, CATCH_UP, site, lease, now_ms, fresh).await
    }

    async fn save_catch_up(
        &self,
        site: &str,
        lease: &Lease,
        progress: &CatchUpProgress,
    ) -> Result<(), StoreError> {
        save_job(self, CATCH_UP, site, lease, progress).await
    }

    async fn interrupted_catch_ups(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        interrupted_jobs(self, CATCH_UP, now_ms).await
    }

    async fn review_state(&self, site: &str) -> Result<Option<ReviewState>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move { state(&db.client().await?, REVIEW, &site).await })
            .await
    }

    async fn claim_review(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (site, lease) = (site.to_string(), lease.clone());
        self.run(|db| async move {
            let c = db.client().await?;
            ensure_row(&c, REVIEW, &site).await?;
            let st = c
                .prepare_cached(
                    "UPDATE jobs SET lease_node = $3, lease_until_ms = $4
                     WHERE kind = $1 AND site = $2 AND (lease_until_ms IS NULL OR lease_until_ms <= $5)",
                )
                .await?;
            let n = c
                .execute(&st, &[&REVIEW, &site, &lease.node, &lease.until_ms, &now_ms])
                .await?;
            Ok(n == 1)
        })
        .await
    }

    async fn finish_review(
        &self,
        site: &str,
        node: &str,
        state: &ReviewState,
        errors: Option<&RuleErrorEntry>,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError> {
        let (site, node, state) = (site.to_string(), node.to_string(), state.clone());
        let (errors, follow_ups) = (errors.cloned(), follow_ups.clone());
        self.run(|db| async move {
            with_retries(|| async {
                let mut c = db.client().await?;
                let tx = c.transaction().await?;
                let st = tx
                    .prepare_cached(
                        "UPDATE jobs SET state = $4, lease_node = NULL, lease_until_ms = NULL
                         WHERE kind = $1 AND site = $2 AND lease_node = $3",
                    )
                    .await?;
                let n = tx
                    .execute(&st, &[&REVIEW, &site, &node, &Json(&state)])
                    .await?;
                if n != 1 {
                    return Err(Failure::Store(StoreError::LeaseLost));
                }
                let entries: Vec<RuleErrorEntry> = errors.iter().cloned().collect();
                let entry_site: Vec<&str> = entries.iter().map(|_| site.as_str()).collect();
                put_derived(
                    &tx,
                    &TaskColumns::of(follow_ups.tasks.iter()),
                    &DeliveryColumns::of(follow_ups.deliveries.iter()),
                    &entry_site,
                    &entries,
                    Put::Missing,
                )
                .await?;
                tx.commit().await?;
                Ok(())
            })
            .await
        })
        .await
    }

    async fn release_review(&self, site: &str, node: &str) -> Result<(), StoreError> {
        let (site, node) = (site.to_string(), node.to_string());
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "UPDATE jobs SET lease_node = NULL, lease_until_ms = NULL
                     WHERE kind = $1 AND site = $2 AND lease_node = $3",
                )
                .await?;
            c.execute(&st, &[&REVIEW, &site, &node]).await?;
            Ok(())
        })
        .await
    }
}
