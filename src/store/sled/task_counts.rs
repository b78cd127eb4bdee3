//! The follow-up figures of the sled backend: per site × queue × survey × UTC day a task was
//! opened, a `TaskTally` (opened, done, on time, dismissed, outcomes, times to done), kept in
//! memory. Built by `recover` from the tasks, then kept current by every task written and every
//! transition, so a report sums days instead of reading tasks; only the partial days at the
//! edges of a `since`/`until` window are read from the tasks (whose ids are in time order).

use super::counts::sum_window;
use super::{decode, each, keys, Db};
use crate::domain::time::{day_of_id, min_id_at_ms, ms_of_id};
use crate::domain::{Origin, Task, TaskTally};
use crate::store::{FollowUpCountQuery, QueueCounts, StoreError};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};

/// (queue, survey — empty for a review's task) → day opened → tally.
type SiteTaskCounts = BTreeMap<(String, String), BTreeMap<u64, TaskTally>>;

#[derive(Default)]
pub(super) struct TaskCountIndex {
    sites: RwLock<HashMap<String, SiteTaskCounts>>,
}

fn survey_of(t: &Task) -> &str {
    match &t.origin {
        Origin::Response { survey, .. } => survey,
        Origin::Review => "",
    }
}

impl TaskCountIndex {
    pub fn clear(&self) {
        self.sites.write().clear();
    }

    fn tally_of<R>(&self, t: &Task, f: impl FnOnce(&mut TaskTally) -> R) -> R {
        let mut sites = self.sites.write();
        let site = sites.entry(t.site.clone()).or_default();
        let days = site
            .entry((t.queue.clone(), survey_of(t).to_string()))
            .or_default();
        f(days.entry(day_of_id(t.id)).or_default())
    }

    /// Counts a task as now stored.
    pub fn count(&self, t: &Task) {
        self.tally_of(t, |tally| tally.count(t));
    }

    /// Takes back a task's count in the state it had (before a change).
    pub fn uncount(&self, t: &Task) {
        self.tally_of(t, |tally| tally.uncount(t));
    }

    /// Sums the whole days in `[from, until)` (day numbers) per queue.
    fn add_days(
        &self,
        q: &FollowUpCountQuery,
        from: Option<u64>,
        until: Option<u64>,
        out: &mut BTreeMap<String, TaskTally>,
    ) {
        let sites = self.sites.read();
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

    /// Counts every stored task again.
    pub(super) fn rebuild_task_counts(&self) -> Result<(), StoreError> {
        self.task_counts.clear();
        each(&self.tasks, |_, t: Task| {
            self.task_counts.count(&t);
            Ok(())
        })
    }
}
