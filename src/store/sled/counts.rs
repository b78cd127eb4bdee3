//! The report counts of the sled backend: per site × survey × survey version × group × channel
//! × UTC day, the number of respondents and of respondents tagged with each code, kept in
//! memory and persisted in the `aggregates` tree (see `aggregates`): loaded at open, kept
//! current by every insert and re-tag. A report sums whole days from here and reads only the
//! partial days at the edges of a `since`/`until` window from the responses. The counts hold
//! no answers and no ids.

use super::{decode, Db};
use crate::domain::time::{day_of_id, DAY_MS};
use crate::domain::{Channel, StoredResponse};
use crate::store::{CountKey, CountQuery, CountRow, Counts, ResponseQuery, StoreError};
use parking_lot::{RwLock, RwLockReadGuard};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// (survey, survey version, group, channel).
type Series = (String, u32, String, Option<Channel>);
/// Series → day → counts.
type SiteCounts = BTreeMap<Series, BTreeMap<u64, Counts>>;
/// One persisted entry: site, series, day.
pub(super) type CountEntry = (String, Series, u64);

#[derive(Default)]
struct Inner {
    sites: HashMap<String, SiteCounts>,
    /// Entries changed since they were last persisted.
    dirty: HashSet<CountEntry>,
}

#[derive(Default)]
pub(super) struct ReportIndex {
    inner: RwLock<Inner>,
}

fn series_of(r: &StoredResponse) -> Series {
    (
        r.survey.clone(),
        r.survey_version,
        r.group.clone(),
        r.channel,
    )
}

impl Inner {
    fn day_counts(&mut self, r: &StoredResponse) -> &mut Counts {
        let (series, day) = (series_of(r), day_of_id(r.id));
        self.dirty.insert((r.site.clone(), series.clone(), day));
        if !self.sites.contains_key(&r.site) {
            self.sites.insert(r.site.clone(), SiteCounts::default());
        }
        let site = self.sites.get_mut(&r.site).expect("inserted above");
        site.entry(series).or_default().entry(day).or_default()
    }
}

impl ReportIndex {
    fn sites(&self) -> parking_lot::MappedRwLockReadGuard<'_, HashMap<String, SiteCounts>> {
        RwLockReadGuard::map(self.inner.read(), |i| &i.sites)
    }

    /// Forgets every count (a rebuild follows); persisted entries are left to the caller.
    pub fn clear(&self) {
        let mut inner = self.inner.write();
        inner.sites.clear();
        inner.dirty.clear();
    }

    /// Counts a newly stored response (exactly once per response).
    pub fn record(&self, r: &StoredResponse) {
        let mut inner = self.inner.write();
        let counts = inner.day_counts(r);
        counts.respondents += 1;
        for code in r.distinct_codes() {
            // Counting a known code allocates nothing.
            match counts.tagged.get_mut(code) {
                Some(n) => *n += 1,
                None => {
                    counts.tagged.insert(code.to_string(), 1);
                }
            }
        }
    }

    /// Keeps the counts right when a stored response's tags were replaced.
    pub fn retagged(&self, before: &StoredResponse, after: &StoredResponse) {
        let (old, new) = (before.distinct_codes(), after.distinct_codes());
        if old == new {
            return;
        }
        let mut inner = self.inner.write();
        let counts = inner.day_counts(after);
        for code in old.difference(&new) {
            if let Some(n) = counts.tagged.get_mut(*code) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.tagged.remove(*code);
                }
            }
        }
        for code in new.difference(&old) {
            *counts.tagged.entry(code.to_string()).or_default() += 1;
        }
    }

    /// Drops the counts of one survey's day (before it is counted again from the records).
    pub fn clear_day(&self, site: &str, survey: &str, day: u64) {
        let mut inner = self.inner.write();
        let Inner { sites, dirty } = &mut *inner;
        let Some(site_counts) = sites.get_mut(site) else {
            return;
        };
        for (series, days) in site_counts.iter_mut().filter(|(s, _)| s.0 == survey) {
            if days.remove(&day).is_some() {
                dirty.insert((site.to_string(), series.clone(), day));
            }
        }
        site_counts.retain(|_, days| !days.is_empty());
    }

    /// Puts back a persisted entry (at open).
    pub fn load(&self, (site, series, day): CountEntry, counts: Counts) {
        let mut inner = self.inner.write();
        let site = inner.sites.entry(site).or_default();
        site.entry(series).or_default().insert(day, counts);
    }

    /// The entries changed since the last call, as they are now (`None`: gone).
    pub fn take_dirty(&self) -> Vec<(CountEntry, Option<Counts>)> {
        let mut inner = self.inner.write();
        let dirty = std::mem::take(&mut inner.dirty);
        dirty
            .into_iter()
            .map(|entry| {
                let (site, series, day) = &entry;
                let counts = inner
                    .sites
                    .get(site)
                    .and_then(|s| s.get(series))
                    .and_then(|days| days.get(day))
                    .cloned();
                (entry, counts)
            })
            .collect()
    }

    pub fn surveys(&self, site: &str) -> Vec<String> {
        let sites = self.sites();
        let mut out: Vec<String> = Vec::new();
        for (survey, _, _, _) in sites.get(site).into_iter().flat_map(|s| s.keys()) {
            if out.last() != Some(survey) {
                out.push(survey.clone());
            }
        }
        out
    }

    pub fn has_group(&self, site: &str, survey: &str, group: &str) -> bool {
        let sites = self.sites();
        sites
            .get(site)
            .is_some_and(|s| s.keys().any(|(sv, _, g, _)| sv == survey && g == group))
    }

    /// The days on which some response of the survey has the tag, in order.
    pub fn days_with_tag(&self, site: &str, survey: &str, tag: &str) -> Vec<u64> {
        let sites = self.sites();
        let mut days = BTreeSet::new();
        for ((sv, _, _, _), by_day) in sites.get(site).into_iter().flatten() {
            if sv == survey {
                days.extend(
                    by_day
                        .iter()
                        .filter(|(_, c)| c.tagged.get(tag).is_some_and(|n| *n > 0))
                        .map(|(d, _)| *d),
                );
            }
        }
        days.into_iter().collect()
    }

    pub fn respondents(&self, site: &str) -> u64 {
        let sites = self.sites();
        sites
            .get(site)
            .into_iter()
            .flat_map(|s| s.values())
            .flat_map(|days| days.values())
            .map(|c| c.respondents)
            .sum()
    }

    /// Sums the whole days in `[from, until)` (day numbers).
    fn add_days(
        &self,
        q: &CountQuery,
        from: Option<u64>,
        until: Option<u64>,
        rows: &mut BTreeMap<CountKey, Counts>,
    ) {
        let sites = self.sites();
        let Some(site) = sites.get(&q.site) else {
            return;
        };
        for ((survey, version, group, channel), days) in site {
            if q.survey.as_ref().is_some_and(|want| want != survey)
                || q.channel.is_some_and(|want| Some(want) != *channel)
            {
                continue;
            }
            for (day, c) in days.range(from.unwrap_or(0)..until.unwrap_or(u64::MAX)) {
                let key = CountKey {
                    survey: survey.clone(),
                    survey_version: *version,
                    group: group.clone(),
                    channel: *channel,
                    day: q.by_day.then_some(*day),
                };
                rows.entry(key).or_default().add(c);
            }
        }
    }
}

/// A `[since, until)` window (milliseconds) as the whole UTC days inside it, summed from
/// counts, and the partial days at its edges, read from the records.
struct DayWindow {
    /// Day numbers `[from, until)`; `None` when no whole day is inside.
    pub whole: Option<(Option<u64>, Option<u64>)>,
    /// Millisecond spans `[since, until)` of the partial edge days.
    pub edges: Vec<(Option<u64>, Option<u64>)>,
}

/// The window's whole and partial days; `None` when it is empty.
fn day_window(since: Option<u64>, until: Option<u64>) -> Option<DayWindow> {
    if since.zip(until).is_some_and(|(s, u)| s >= u) {
        return None;
    }
    // Whole days inside the window: [first_full, end_full).
    let first_full = since.map(|s| s.div_ceil(DAY_MS));
    let end_full = until.map(|u| u / DAY_MS);
    if first_full.zip(end_full).is_some_and(|(f, e)| f >= e) {
        // No whole day inside: at most two partial days, read as one span.
        return Some(DayWindow {
            whole: None,
            edges: vec![(since, until)],
        });
    }
    let mut edges = Vec::new();
    if let Some((s, f)) = since.zip(first_full) {
        if s < f * DAY_MS {
            edges.push((Some(s), Some(f * DAY_MS)));
        }
    }
    if let Some((u, e)) = until.zip(end_full) {
        if u > e * DAY_MS {
            edges.push((Some(e * DAY_MS), Some(u)));
        }
    }
    Some(DayWindow {
        whole: Some((first_full, end_full)),
        edges,
    })
}

/// Sums a `[since, until)` window: its whole days with `whole(from_day, until_day, out)`, the
/// partial days at its edges with `edge(since_ms, until_ms, out)`; empty when it is empty.
pub(super) fn sum_window<T: Default>(
    (since, until): (Option<u64>, Option<u64>),
    whole: impl FnOnce(Option<u64>, Option<u64>, &mut T),
    mut edge: impl FnMut(Option<u64>, Option<u64>, &mut T) -> Result<(), StoreError>,
) -> Result<T, StoreError> {
    let mut out = T::default();
    let Some(window) = day_window(since, until) else {
        return Ok(out);
    };
    if let Some((from, until)) = window.whole {
        whole(from, until, &mut out);
    }
    for (since, until) in window.edges {
        edge(since, until, &mut out)?;
    }
    Ok(out)
}

impl Db {
    /// The counts for a window: whole UTC days from the index, the partial days at its edges
    /// read from the responses.
    pub(super) fn report_counts(&self, q: &CountQuery) -> Result<Vec<CountRow>, StoreError> {
        let rows: BTreeMap<CountKey, Counts> = sum_window(
            (q.since_ms, q.until_ms),
            |from, until, rows| self.counts.add_days(q, from, until, rows),
            |since, until, rows| self.add_scanned(q, since, until, rows),
        )?;
        Ok(rows
            .into_iter()
            .map(|(key, counts)| CountRow { key, counts })
            .collect())
    }

    fn add_scanned(
        &self,
        q: &CountQuery,
        since_ms: Option<u64>,
        until_ms: Option<u64>,
        rows: &mut BTreeMap<CountKey, Counts>,
    ) -> Result<(), StoreError> {
        let scan = self.scan_responses(&ResponseQuery {
            site: q.site.clone(),
            survey: q.survey.clone(),
            since_ms,
            until_ms,
            ..ResponseQuery::default()
        });
        for kv in scan {
            let (_, v) = kv?;
            let r: StoredResponse = decode(&v)?;
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
}

#[async_trait::async_trait]
impl crate::store::ReportStore for super::SledStore {
    async fn report_counts(&self, query: &CountQuery) -> Result<Vec<CountRow>, StoreError> {
        let q = query.clone();
        self.read(move |db| db.report_counts(&q)).await
    }

    async fn follow_up_counts(
        &self,
        query: &crate::store::FollowUpCountQuery,
    ) -> Result<Vec<crate::store::QueueCounts>, StoreError> {
        let q = query.clone();
        self.read(move |db| db.follow_up_counts(&q)).await
    }
}
