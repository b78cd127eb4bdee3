//! Tasks: listed soonest due first (none last), then oldest first, from the `(site, due_sort,
//! id)` and `(site, queue, due_sort, id)` indexes; a transition is one conditional UPDATE,
//! with what the changed task adds to the follow-up figures in the same transaction.

use super::counts::{day_bounds, Window};
use super::rows::{self, TaskFacts, TASK_COLUMNS};
use super::PgStore;
use crate::domain::time::min_id_at_ms;
use crate::domain::{StatusChange, Task, TaskStatus, TaskTally};
use crate::store::{FollowUpCountQuery, Page, QueueCounts, StoreError, TaskQuery, TaskStore};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use std::collections::BTreeMap;
use tokio_postgres::types::Json;
use uuid::Uuid;

#[async_trait]
impl TaskStore for PgStore {
    async fn task(&self, site: &str, id: Uuid) -> Result<Option<Task>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE site = $1 AND id = $2");
            let st = c.prepare_cached(&sql).await?;
            c.query_opt(&st, &[&site, &id])
                .await?
                .map(|r| rows::task(&r))
                .transpose()
        })
        .await
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>, StoreError> {
        let q = query.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            // Where the previous page ended.
            let position: Option<(i64, Uuid)> = match q.after {
                None => None,
                Some(id) => {
                    let st = c
                        .prepare_cached("SELECT due_sort FROM tasks WHERE site = $1 AND id = $2")
                        .await?;
                    let row = c
                        .query_opt(&st, &[&q.site, &id])
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    Some((row.get(0), id))
                }
            };
            let statuses: Vec<&str> = q.statuses.iter().map(|s| s.as_str()).collect();
            let origin = q.origin.map(|o| match o {
                crate::domain::OriginKind::Response => "response",
                crate::domain::OriginKind::Review => "review",
            });
            let overdue = q.overdue.map(|f| f.overdue);
            let at = q.overdue.map(|f| f.at_ms);
            let (after_due, after_id) = position.unzip();
            let limit = (q.limit.min(crate::store::MAX_PAGE) + 1) as i64;
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM tasks
                 WHERE site = $1
                   AND (cardinality($2::text[]) = 0 OR status = ANY($2))
                   AND ($3::text IS NULL OR queue = $3)
                   AND ($4::text IS NULL OR origin = $4)
                   AND ($5::bool IS NULL OR $5 = (status IN ('open', 'claimed') AND due_sort < $6))
                   AND ($7::bigint IS NULL OR (due_sort, id) > ($7, $8::uuid))
                 ORDER BY due_sort, id LIMIT $9"
            );
            let st = c.prepare_cached(&sql).await?;
            let found = c
                .query(
                    &st,
                    &[
                        &q.site, &statuses, &q.queue, &origin, &overdue, &at, &after_due,
                        &after_id, &limit,
                    ],
                )
                .await?;
            let items = found
                .iter()
                .map(rows::task)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::of(items, q.limit, |t| t.id))
        })
        .await
    }

    async fn task_queues(&self, site: &str) -> Result<Vec<String>, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            // A skip scan of the queue index: one probe per queue, not one row per task.
            let st = c
                .prepare_cached(
                    "WITH RECURSIVE q(queue) AS (
                        (SELECT queue FROM tasks WHERE site = $1 ORDER BY queue LIMIT 1)
                        UNION ALL
                        SELECT (SELECT t.queue FROM tasks t WHERE t.site = $1 AND t.queue > q.queue ORDER BY t.queue LIMIT 1)
                        FROM q WHERE q.queue IS NOT NULL)
                     SELECT queue FROM q WHERE queue IS NOT NULL",
                )
                .await?;
            Ok(c.query(&st, &[&site])
                .await?
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect())
        })
        .await
    }

    async fn transition_task(
        &self,
        site: &str,
        id: Uuid,
        expected: TaskStatus,
        change: &StatusChange,
    ) -> Result<Task, StoreError> {
        let (site, change) = (site.to_string(), change.clone());
        self.run(|db| async move {
            let mut c = db.client().await?;
            let tx = c.transaction().await?;
            let task = transition(&tx, &site, id, expected, &change).await?;
            let facts = TaskFacts::of(&task);
            let st = tx
                .prepare_cached(
                    "UPDATE tasks SET on_time = $3, outcome = $4, tenths = $5 WHERE site = $1 AND id = $2",
                )
                .await?;
            tx.execute(
                &st,
                &[&site, &id, &facts.on_time, &facts.outcome, &facts.tenths],
            )
            .await?;
            tx.commit().await?;
            Ok(task)
        })
        .await
    }
}

/// Applies a change only if the task's status is still `expected`.
async fn transition(
    c: &impl GenericClient,
    site: &str,
    id: Uuid,
    expected: TaskStatus,
    change: &StatusChange,
) -> Result<Task, StoreError> {
    let sql = format!(
        "UPDATE tasks SET status = $4, history = history || jsonb_build_array($5::jsonb)
         WHERE site = $1 AND id = $2 AND status = $3 RETURNING {TASK_COLUMNS}"
    );
    let st = c.prepare_cached(&sql).await?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [
        &site,
        &id,
        &expected.as_str(),
        &change.status.as_str(),
        &Json(change),
    ];
    if let Some(row) = c.query_opt(&st, &params).await? {
        return rows::task(&row);
    }
    let st = c
        .prepare_cached("SELECT status FROM tasks WHERE site = $1 AND id = $2")
        .await?;
    match c.query_opt(&st, &[&site, &id]).await? {
        None => Err(StoreError::NotFound),
        Some(row) => Err(StoreError::TaskStateChanged(rows::parse(row.get(0))?)),
    }
}

/// The follow-up figures of `ReportStore::follow_up_counts`: the whole UTC days of the window
/// summed from `task_counts` (kept by triggers on `tasks`), the partial days at its edges by
/// one aggregate over the tasks opened in them (a range of the `(site, id)` key: ids are
/// UUIDv7); each row is what some tasks add to a tally, folded into one `TaskTally` per queue.
pub(super) async fn follow_up_counts(
    c: &impl GenericClient,
    q: &FollowUpCountQuery,
) -> Result<Vec<QueueCounts>, StoreError> {
    let mut out: BTreeMap<String, TaskTally> = BTreeMap::new();
    let Some(window) = Window::of(q.since_ms, q.until_ms) else {
        return Ok(Vec::new());
    };
    if let Some((from, until)) = window.days {
        add_days(c, q, from, until, &mut out).await?;
    }
    for (since, until) in window.scans {
        add_scanned(c, q, since, until, &mut out).await?;
    }
    Ok(out
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(queue, counts)| QueueCounts { queue, counts })
        .collect())
}

/// Whole days `[from, until)` from `task_counts`.
async fn add_days(
    c: &impl GenericClient,
    q: &FollowUpCountQuery,
    from: Option<u64>,
    until: Option<u64>,
    out: &mut BTreeMap<String, TaskTally>,
) -> Result<(), StoreError> {
    let (from, until) = day_bounds(from, until);
    let st = c
        .prepare_cached(
            "SELECT queue, status, on_time, nullif(outcome, '') AS outcome,
                    nullif(tenths, -1) AS tenths, sum(n)::bigint AS n
             FROM task_counts
             WHERE site = $1 AND day >= $2 AND day < $3
               AND ($4::text IS NULL OR (origin = 'response' AND survey = $4))
             GROUP BY 1, 2, 3, 4, 5",
        )
        .await?;
    for row in c.query(&st, &[&q.site, &from, &until, &q.survey]).await? {
        add_row(&row, out)?;
    }
    Ok(())
}

/// The tasks opened in `[since, until)` (partial days), one aggregate.
async fn add_scanned(
    c: &impl GenericClient,
    q: &FollowUpCountQuery,
    since_ms: u64,
    until_ms: Option<u64>,
    out: &mut BTreeMap<String, TaskTally>,
) -> Result<(), StoreError> {
    let from = min_id_at_ms(since_ms);
    let until = until_ms.map(min_id_at_ms);
    let st = c
        .prepare_cached(
            "SELECT queue, status, on_time, outcome, tenths, count(*)::bigint AS n FROM tasks
             WHERE site = $1 AND id >= $2 AND ($3::uuid IS NULL OR id < $3)
               AND ($4::text IS NULL OR (origin = 'response' AND survey = $4))
             GROUP BY 1, 2, 3, 4, 5",
        )
        .await?;
    for row in c.query(&st, &[&q.site, &from, &until, &q.survey]).await? {
        add_row(&row, out)?;
    }
    Ok(())
}

/// Adds `n` tasks of one queue, status and facts to their queue's tally.
fn add_row(
    row: &tokio_postgres::Row,
    out: &mut BTreeMap<String, TaskTally>,
) -> Result<(), StoreError> {
    let n = row.get::<_, i64>("n").max(0) as u64;
    if n == 0 {
        return Ok(());
    }
    let tally = out.entry(row.get("queue")).or_default();
    tally.opened += n;
    match rows::parse::<TaskStatus>(row.get("status"))? {
        TaskStatus::Done => {
            tally.done += n;
            if row.get::<_, bool>("on_time") {
                tally.on_time += n;
            }
            if let Some(outcome) = row.get::<_, Option<String>>("outcome") {
                *tally.outcomes.entry(outcome).or_default() += n;
            }
            if let Some(t) = row.get::<_, Option<i32>>("tenths") {
                *tally.tenths_to_done.entry(t as u32).or_default() += n;
            }
        }
        TaskStatus::Dismissed => tally.dismissed += n,
        _ => {}
    }
    Ok(())
}
