//! Responses: stored through the group commit, listed oldest first from the primary key
//! (`site, id`: UUID v7 ids sort by time) or the survey index, re-tagged in one transaction
//! with their rule-error entry and report counts.

use super::counts::{min_id, CountDelta};
use super::insert::put_derived;
use super::rows::{DeliveryColumns, Put, TaskColumns};
use super::{rows, with_retries, Failure, PgStore};
use crate::domain::{missing_actions, records_of, FollowUp, RuleErrorEntry, StoredResponse};
use crate::store::{
    Inserted, NewResponse, Page, ResponseQuery, ResponseStore, StoreError, TagUpdate,
};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::Json;
use uuid::Uuid;

#[async_trait]
impl ResponseStore for PgStore {
    async fn insert_response(&self, new: NewResponse) -> Result<Inserted, StoreError> {
        self.run(|db| async move { db.batcher.insert(new).await })
            .await
    }

    async fn response(&self, site: &str, id: Uuid) -> Result<Option<StoredResponse>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached("SELECT record FROM responses WHERE site = $1 AND id = $2")
                .await?;
            c.query_opt(&st, &[&site, &id])
                .await?
                .map(|row| rows::json(&row, "record"))
                .transpose()
        })
        .await
    }

    async fn list_responses(
        &self,
        query: &ResponseQuery,
    ) -> Result<Page<StoredResponse>, StoreError> {
        let q = query.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            let lo = q.since_ms.map(min_id);
            let hi = q.until_ms.map(min_id);
            let limit = (q.limit.min(crate::store::MAX_PAGE) + 1) as i64;
            let tag = q.tag.as_ref().map(|t| serde_json::json!([{ "code": t }]));
            let st = c
                .prepare_cached(
                    "SELECT record FROM responses
                     WHERE site = $1
                       AND ($2::text IS NULL OR survey = $2)
                       AND ($3::text IS NULL OR grp = $3)
                       AND ($4::jsonb IS NULL OR record -> 'tags' @> $4)
                       AND ($5::uuid IS NULL OR id >= $5)
                       AND ($6::uuid IS NULL OR id < $6)
                       AND ($7::uuid IS NULL OR id > $7)
                     ORDER BY id LIMIT $8",
                )
                .await?;
            let found = c
                .query(
                    &st,
                    &[
                        &q.site, &q.survey, &q.group, &tag, &lo, &hi, &q.after, &limit,
                    ],
                )
                .await?;
            let items = found
                .iter()
                .map(|row| rows::json(row, "record"))
                .collect::<Result<Vec<StoredResponse>, _>>()?;
            Ok(Page::of(items, q.limit, |r| r.id))
        })
        .await
    }

    async fn count_responses(&self, site: &str) -> Result<u64, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT coalesce(sum(n), 0)::bigint FROM report_counts WHERE site = $1 AND code = ''",
                )
                .await?;
            let n: i64 = c.query_one(&st, &[&site]).await?.get(0);
            Ok(n.max(0) as u64)
        })
        .await
    }

    async fn update_tags(&self, update: &TagUpdate) -> Result<bool, StoreError> {
        let u = update.clone();
        self.run(|db| async move {
            with_retries(|| async {
                let mut c = db.client().await?;
                let tx = c.transaction().await?;
                let changed = retag(&tx, &u).await?;
                tx.commit().await?;
                Ok::<_, Failure>(changed)
            })
            .await
        })
        .await
    }

    async fn add_follow_ups(
        &self,
        site: &str,
        survey: &str,
        id: Uuid,
        candidates: &[FollowUp],
    ) -> Result<Vec<FollowUp>, StoreError> {
        let (site, survey, candidates) =
            (site.to_string(), survey.to_string(), candidates.to_vec());
        self.run(|db| async move {
            with_retries(|| async {
                let mut c = db.client().await?;
                let tx = c.transaction().await?;
                let added = add_follow_ups(&tx, &site, &survey, id, &candidates).await?;
                tx.commit().await?;
                Ok::<_, Failure>(added)
            })
            .await
        })
        .await
    }
}

/// Appends the follow-ups a response lacks, under the lock of its row: a second writer (any
/// node) waits for this transaction and then decides on the record as this one left it.
async fn add_follow_ups(
    tx: &impl GenericClient,
    site: &str,
    survey: &str,
    id: Uuid,
    candidates: &[FollowUp],
) -> Result<Vec<FollowUp>, Failure> {
    let st = tx
        .prepare_cached(
            "SELECT record FROM responses WHERE site = $1 AND id = $2 AND survey = $3 FOR UPDATE",
        )
        .await?;
    let Some(row) = tx.query_opt(&st, &[&site, &id, &survey]).await? else {
        return Ok(Vec::new());
    };
    let mut r: StoredResponse = rows::json(&row, "record")?;
    let added: Vec<FollowUp> = missing_actions(&r.follow_ups, candidates)
        .into_iter()
        .cloned()
        .collect();
    if added.is_empty() {
        return Ok(added);
    }
    r.follow_ups.extend(added.iter().cloned());
    let st = tx
        .prepare_cached("UPDATE responses SET record = $3 WHERE site = $1 AND id = $2")
        .await?;
    tx.execute(&st, &[&site, &id, &Json(&r)]).await?;
    let records = records_of(&r, &added);
    put_derived(
        tx,
        &TaskColumns::of(records.tasks.iter()),
        &DeliveryColumns::of(records.deliveries.iter()),
        &[],
        &[],
        Put::Missing,
    )
    .await?;
    Ok(added)
}

/// Replaces a response's tags and rule errors, its rule-error entry and its counts.
async fn retag(tx: &impl GenericClient, u: &TagUpdate) -> Result<bool, Failure> {
    let st = tx
        .prepare_cached(
            "SELECT record FROM responses WHERE site = $1 AND id = $2 AND survey = $3 FOR UPDATE",
        )
        .await?;
    let Some(row) = tx.query_opt(&st, &[&u.site, &u.id, &u.survey]).await? else {
        return Ok(false);
    };
    let before: StoredResponse = rows::json(&row, "record")?;
    if before.tags == u.tags && before.rule_errors == u.rule_errors {
        return Ok(false);
    }
    let mut after = before.clone();
    after.tags = u.tags.clone();
    after.rule_errors = u.rule_errors.clone();
    let st = tx
        .prepare_cached("UPDATE responses SET record = $3 WHERE site = $1 AND id = $2")
        .await?;
    tx.execute(&st, &[&u.site, &u.id, &Json(&after)]).await?;
    if after.rule_errors.is_empty() {
        let st = tx
            .prepare_cached("DELETE FROM rule_errors WHERE site = $1 AND id = $2")
            .await?;
        tx.execute(&st, &[&u.site, &u.id]).await?;
    } else {
        let st = tx.prepare_cached(rows::UPSERT_RULE_ERRORS).await?;
        let entry = RuleErrorEntry::of(&after);
        tx.execute(
            &st,
            &[&vec![u.site.as_str()], &vec![u.id], &vec![Json(&entry)]],
        )
        .await?;
    }
    let mut counts = CountDelta::default();
    counts.retagged(&before, &after);
    counts.apply(tx).await?;
    Ok(true)
}
