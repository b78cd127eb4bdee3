//! The report counts: a row per site, survey, version, group, UTC day, channel and code (code
//! '' counts respondents), changed in the same transaction as the responses they count. A
//! batch adds up its responses first, so it costs one upsert row per distinct key, written in
//! key order (two transactions lock shared rows in the same order, so they never deadlock).
//! A report sums whole days from here and reads only the partial days at the edges of a
//! `since`/`until` window from the responses, like the sled backend.

use super::{rows, PgStore};
use crate::domain::time::{day_of_id, DAY_MS};
use crate::domain::{Channel, StoredResponse};
use crate::store::{
    CountKey, CountQuery, CountRow, Counts, FollowUpCountQuery, QueueCounts, ReportStore,
    StoreError,
};
use deadpool_postgres::GenericClient;
use std::collections::BTreeMap;
use uuid::Uuid;

/// (site, survey, version, group, day, channel, code) → change, written to one slot of each key.
type DeltaKey = (String, String, i32, String, i32, &'static str, String);

/// A response's channel in the `channel` column: '' for those stored before channels.
fn channel_column(channel: Option<Channel>) -> &'static str {
    channel.map_or("", Channel::as_str)
}

fn channel_of_column(column: &str) -> Option<Channel> {
    column.parse().ok()
}

#[derive(Default)]
pub(super) struct CountDelta {
    changes: BTreeMap<DeltaKey, i64>,
    slot: i16,
}

impl CountDelta {
    /// Changes written to `slot` of their rows (a batch in flight has a slot of its own).
    pub fn in_slot(slot: i16) -> CountDelta {
        CountDelta {
            slot,
            ..CountDelta::default()
        }
    }

    fn add(&mut self, r: &StoredResponse, code: &str, by: i64) {
        let key = (
            r.site.clone(),
            r.survey.clone(),
            r.survey_version as i32,
            r.group.clone(),
            day_of_id(r.id) as i32,
            channel_column(r.channel),
            code.to_string(),
        );
        *self.changes.entry(key).or_default() += by;
    }

    /// A response stored (`by` = 1) or removed.
    pub fn response(&mut self, r: &StoredResponse, by: i64) {
        self.add(r, "", by);
        for code in r.distinct_codes() {
            self.add(r, code, by);
        }
    }

    /// A stored response re-tagged from `before`'s codes to `after`'s.
    pub fn retagged(&mut self, before: &StoredResponse, after: &StoredResponse) {
        let (old, new) = (before.distinct_codes(), after.distinct_codes());
        for code in old.difference(&new) {
            self.add(after, code, -1);
        }
        for code in new.difference(&old) {
            self.add(after, code, 1);
        }
    }

    pub async fn apply<C: GenericClient>(&self, c: &C) -> Result<(), tokio_postgres::Error> {
        let changes: Vec<_> = self.changes.iter().filter(|(_, n)| **n != 0).collect();
        if changes.is_empty() {
            return Ok(());
        }
        let site: Vec<&str> = changes.iter().map(|(k, _)| k.0.as_str()).collect();
        let survey: Vec<&str> = changes.iter().map(|(k, _)| k.1.as_str()).collect();
        let version: Vec<i32> = changes.iter().map(|(k, _)| k.2).collect();
        let grp: Vec<&str> = changes.iter().map(|(k, _)| k.3.as_str()).collect();
        let day: Vec<i32> = changes.iter().map(|(k, _)| k.4).collect();
        let channel: Vec<&str> = changes.iter().map(|(k, _)| k.5).collect();
        let code: Vec<&str> = changes.iter().map(|(k, _)| k.6.as_str()).collect();
        let n: Vec<i64> = changes.iter().map(|(_, n)| **n).collect();
        let st = c
            .prepare_cached(
                "INSERT INTO report_counts (site, survey, survey_version, grp, day, channel, code, n, slot)
                 SELECT *, $9::smallint FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[])
                 ON CONFLICT (site, survey, survey_version, grp, day, channel, code, slot)
                 DO UPDATE SET n = report_counts.n + excluded.n",
            )
            .await?;
        c.execute(
            &st,
            &[
                &site, &survey, &version, &grp, &day, &channel, &code, &n, &self.slot,
            ],
        )
        .await?;
        Ok(())
    }
}

fn add_row(rows: &mut BTreeMap<CountKey, Counts>, key: CountKey, code: &str, n: i64) {
    let counts = rows.entry(key).or_default();
    let n = n.max(0) as u64;
    if code.is_empty() {
        counts.respondents += n;
    } else if n > 0 {
        *counts.tagged.entry(code.to_string()).or_default() += n;
    }
}

/// Whole days `[from, until)` from the counts.
async fn add_days<C: GenericClient>(
    c: &C,
    q: &CountQuery,
    from: Option<u64>,
    until: Option<u64>,
    rows: &mut BTreeMap<CountKey, Counts>,
) -> Result<(), StoreError> {
    let (from, until) = day_bounds(from, until);
    let st = c
        .prepare_cached(
            "SELECT survey, survey_version, grp, CASE WHEN $5 THEN day END AS day, channel, code, sum(n)::bigint AS n
             FROM report_counts
             WHERE site = $1 AND ($2::text IS NULL OR survey = $2) AND day >= $3 AND day < $4
               AND ($6::text IS NULL OR channel = $6)
             GROUP BY 1, 2, 3, 4, 5, 6",
        )
        .await?;
    let channel = q.channel.map(Channel::as_str);
    let found = c
        .query(
            &st,
            &[&q.site, &q.survey, &from, &until, &q.by_day, &channel],
        )
        .await?;
    for row in found {
        let key = CountKey {
            survey: row.get("survey"),
            survey_version: row.get::<_, i32>("survey_version") as u32,
            group: row.get("grp"),
            channel: channel_of_column(row.get("channel")),
            day: row.get::<_, Option<i32>>("day").map(|d| d as u64),
        };
        add_row(rows, key, row.get("code"), row.get("n"));
    }
    Ok(())
}

/// Counts the responses stored in `[since, until)` (a partial day) one by one.
async fn add_scanned<C: GenericClient>(
    c: &C,
    q: &CountQuery,
    since_ms: u64,
    until_ms: u64,
    rows: &mut BTreeMap<CountKey, Counts>,
) -> Result<(), StoreError> {
    let (lo, hi) = (min_id(since_ms), min_id(until_ms));
    let st = c
        .prepare_cached(
            "SELECT record FROM responses
             WHERE site = $1 AND ($2::text IS NULL OR survey = $2) AND id >= $3 AND id < $4",
        )
        .await?;
    for row in c.query(&st, &[&q.site, &q.survey, &lo, &hi]).await? {
        let r: StoredResponse = rows::json(&row, "record")?;
        if q.channel.is_some_and(|want| Some(want) != r.channel) {
            continue;
        }
        let key = CountKey {
            survey: r.survey.clone(),
            survey_version: r.survey_version,
            group: r.group.clone(),
            channel: r.channel,
            day: q.by_day.then(|| day_of_id(r.id)),
        };
        rows.entry(key).or_default().add_response(&r);
    }
    Ok(())
}

/// A `[since, until)` window as whole UTC days (summed from counts) and the partial days at
/// its edges (read from the records); None when it is empty.
pub(super) struct Window {
    /// Day numbers `[from, until)`, when the window holds a whole day.
    pub days: Option<(Option<u64>, Option<u64>)>,
    /// Millisecond spans `[since, until)` to read record by record.
    pub scans: Vec<(u64, Option<u64>)>,
}

impl Window {
    pub fn of(since: Option<u64>, until: Option<u64>) -> Option<Window> {
        if since.zip(until).is_some_and(|(s, u)| s >= u) {
            return None;
        }
        let first_full = since.map(|s| s.div_ceil(DAY_MS));
        let end_full = until.map(|u| u / DAY_MS);
        if first_full.zip(end_full).is_some_and(|(f, e)| f >= e) {
            // No whole day inside: the (at most two) partial days.
            return Some(Window {
                days: None,
                scans: vec![(since.unwrap_or(0), until)],
            });
        }
        let mut scans = Vec::new();
        if let Some((s, f)) = since.zip(first_full) {
            if s < f * DAY_MS {
                scans.push((s, Some(f * DAY_MS)));
            }
        }
        if let Some((u, e)) = until.zip(end_full) {
            if u > e * DAY_MS {
                scans.push((e * DAY_MS, Some(u)));
            }
        }
        Some(Window {
            days: Some((first_full, end_full)),
            scans,
        })
    }
}

/// Day numbers as the `integer` bounds of a query (none: unbounded).
pub(super) fn day_bounds(from: Option<u64>, until: Option<u64>) -> (i32, i32) {
    let day = |d: u64| d.min(i32::MAX as u64) as i32;
    (from.map_or(i32::MIN, day), until.map_or(i32::MAX, day))
}

pub(super) fn min_id(ms: u64) -> Uuid {
    crate::domain::time::min_id_at_ms(ms)
}

#[async_trait::async_trait]
impl ReportStore for PgStore {
    async fn report_counts(&self, query: &CountQuery) -> Result<Vec<CountRow>, StoreError> {
        let q = query.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            let mut rows = BTreeMap::new();
            let Some(window) = Window::of(q.since_ms, q.until_ms) else {
                return Ok(Vec::new());
            };
            if let Some((from, until)) = window.days {
                add_days(&c, &q, from, until, &mut rows).await?;
            }
            for (since, until) in window.scans {
                add_scanned(&c, &q, since, until.unwrap_or(u64::MAX), &mut rows).await?;
            }
            Ok(rows
                .into_iter()
                .filter(|(_, c)| c.respondents > 0 || !c.tagged.is_empty())
                .map(|(key, counts)| CountRow { key, counts })
                .collect())
        })
        .await
    }

    async fn follow_up_counts(
        &self,
        query: &FollowUpCountQuery,
    ) -> Result<Vec<QueueCounts>, StoreError> {
        let q = query.clone();
        self.run(|db| async move {
            let c = db.client().await?;
            super::tasks::follow_up_counts(&c, &q).await
        })
        .await
    }
}
