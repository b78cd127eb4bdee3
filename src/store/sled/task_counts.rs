//! The follow-up figures of the sled backend: per site × queue × survey × UTC day a task was
//! opened, a `TaskTally` (opened, done, on time, dismissed, outcomes, times to done), kept in
//! memory and persisted in the `aggregates` tree (see `aggregates`): loaded at open, kept
//! current by every task written and every transition, so a report sums days instead of
//! reading tasks; only the partial days at the edges of a `since`/`until` window are read from
//! the tasks (whose ids are in time order).

use super::counts::sum_window;
use super::{decode, keys, Db};
use crate::domain::time::{day_of_id, min_id_at_ms, ms_of_id};
use crate::domain::{Origin, Task, TaskTally};
use crate::store::{FollowUpCountQuery, QueueCounts, StoreError};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap, HashSet};

/// (queue, survey — empty for a review's task) → day opened → tally.
type SiteTaskCounts = BTreeMap<(String, String), BTreeMap<u64, TaskTally>>;
/// One persisted entry: site, queue, survey, day.
pub(super) type TallyEntry = (String, String, String, u64);

#[derive(Default)]
struct Inner {
    sites: HashMap<String, SiteTaskCounts>,
    /// Entries changed since they were last persisted.
    dirty: HashSet<TallyEntry>,
}

#[derive(Default)]
pub(super) struct TaskCountIndex {
    inner: RwLock<Inner>,
}

fn survey_of(t: &Task) -> &str {
    match &t.origin {
        Origin::Response { survey, .. } => survey,
        Origin::Review => "",
    }
}

impl TaskCountIndex {
    /// Forgets every tally (a rebuild follows); persisted entries are left to the caller.
    pub fn clear(&self) {
        let mut inner = self.inner.write();
        inner.sites.clear();
        inner.dirty.clear();
    }

    fn tally_of<R>(&self, t: &Task, f: impl FnOnce(&mut TaskTally) -> R) -> R {
        let (queue, survey, day) = (t.queue.clone(), survey_of(t).to_string(), day_of_id(t.id));
        let mut inner = self.inner.write();
        inner
            .dirty
            .insert((t.site.clone(), queue.clone(), survey.clone(), day));
        let site = inner.sites.entry(t.site.clone()).or_default();
        f(site
            .entry((queue, survey))
            .or_default()
            .entry(day)
            .or_default())
    }

    /// Counts a task as now stored.
    pub fn count(&self, t: &Task) {
        self.tally_of(t, |tally| tally.count(t));
    }

    /// Takes back a task's count in the state it had (before a change).
    pub fn uncount(&self, t: &Task) {
        self.tally_of(t, |tally| tally.uncount(t));
    }

    /// Drops a site's tallies of one day (before its tasks are counted again).
    pub fn clear_day(&self, site: &str, day: u64) {
        let mut inner = self.inner.write();
        let Inner { sites, dirty } = &mut *inner;
        let Some(site_counts) = sites.get_mut(site) else {
            return;
        };
        for ((queue, survey), days) in site_counts.iter_mut() {
            if days.remove(&day).is_some() {
                dirty.insert((site.to_string(), queue.clone(), survey.clone(), day));
            }
        }
        site_counts.retain(|_, days| !days.is_empty());
    }

    /// Puts back a persisted entry (at open).
    pub fn load(&self, (site, queue, survey, day): TallyEntry, tally: TaskTally) {
        let mut inner = self.inner.write();
        let site = inner.sites.entry(site).or_default();
        site.entry((queue, survey)).or_default().insert(day, tally);
    }

    /// The entries changed since the last call, as they are now (`None`: gone).
    pub fn take_dirty(&self) -> Vec<(TallyEntry, Option<TaskTally>)> {
        let mut inner = self.inner.write();
        let dirty = std::mem::take(&mut inner.dirty);
        dirty
            .into_iter()
            .map(|entry| {
                let (site, queue, survey, day) = &entry;
                let tally = inner
                    .sites
                    .get(site)
                    .and_then(|s| s.get(&(queue.clone(), survey.clone())))
                    .and_then(|days| days.get(day))
                    .cloned();
                (entry, tally)
            })
            .collect()
    }

    /// Sums the whole days in `[from, until)` (day numbers) per queue.
    fn add_days(
        &self,
        q: &FollowUpCountQuery,
        from: Option<u64>,
        until: Option<u64>,
        out: &mut BTreeMap<String, TaskTally>,
    ) {
        let sites = self.inner.read();
        let sites = &sites.sites;
        let Some(site) = sites.get(&q.site) else {
            return;
        };
        for ((queue, survey), days) in site {
            if q.survey.as_ref().is_some_and(|want| want != survey) {
                continue;
            }
            for (_, tally) in days.range(from.unwrap_or(0)..until.unwrap_or(u64::MAX)) {
                out.entry(queue.clone()).or_default().add(tally);
            }
        }
    }
}

impl Db {
    pub(super) fn follow_up_counts(
        &self,
        q: &FollowUpCountQuery,
    ) -> Result<Vec<QueueCounts>, StoreError> {
        let out: BTreeMap<String, TaskTally> = sum_window(
            (q.since_ms, q.until_ms),
            |from, until, out| self.task_counts.add_days(q, from, until, out),
            |since, until, out| self.add_scanned_tasks(q, since, until, out),
        )?;
        Ok(out
            .into_iter()
            .filter(|(_, t)| !t.is_empty())
            .map(|(queue, counts)| QueueCounts { queue, counts })
            .collect())
    }

    /// Counts the tasks opened in `[since, until)` by reading them (partial edge days).
    fn add_scanned_tasks(
        &self,
        q: &FollowUpCountQuery,
        since_ms: Option<u64>,
        until_ms: Option<u64>,
        out: &mut BTreeMap<String, TaskTally>,
    ) -> Result<(), StoreError> {
        let prefix = keys::site_prefix(&q.site);
        let from = keys::entity_key(&q.site, min_id_at_ms(since_ms.unwrap_or(0)));
        let to = match until_ms {
            Some(u) => keys::entity_key(&q.site, min_id_at_ms(u)),
            None => keys::prefix_end(&prefix),
        };
        for kv in self.tasks.range(from..to) {
            let (_, v) = kv?;
            let t: Task = decode(&v)?;
            let ms = ms_of_id(t.id);
            let inside = since_ms.is_none_or(|s| ms >= s) && until_ms.is_none_or(|u| ms < u);
            if inside && q.survey.as_deref().is_none_or(|s| s == survey_of(&t)) {
                out.entry(t.queue.clone()).or_default().count(&t);
            }
        }
        Ok(())
    }
}
