//! The incremental report index: per site × survey × group × UTC day, the number of
//! respondents and the number of respondents tagged with each code.
//!
//! It is built once at startup by streaming every stored response, then kept current by
//! `record` (a new response, called by the submission pipeline after the insert) and `retagged`
//! (one response's tags replaced). A report then sums a few thousand counters instead of
//! reading responses; only partial edge days of a `since`/`until` window are read from the
//! store (see `report::query`). The index holds counts only: no answers, no ids.

use crate::domain::StoredResponse;
use crate::store::{Store, StoreError};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};

pub use crate::domain::time::{day_of_id as day_of, DAY_MS};

/// Respondents and tagged respondents per group (and per group × code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub respondents: BTreeMap<String, u64>,
    /// (group, code) → respondents of that group tagged with the code.
    pub tagged: BTreeMap<(String, String), u64>,
}

impl Tally {
    pub fn add_response(&mut self, r: &StoredResponse) {
        *self.respondents.entry(r.group.clone()).or_default() += 1;
        for code in r.distinct_codes() {
            *self
                .tagged
                .entry((r.group.clone(), code.to_string()))
                .or_default() += 1;
        }
    }

    pub fn respondents_of(&self, group: &str) -> u64 {
        self.respondents.get(group).copied().unwrap_or(0)
    }

    pub fn tagged_of(&self, group: &str, code: &str) -> u64 {
        self.tagged
            .get(&(group.to_string(), code.to_string()))
            .copied()
            .unwrap_or(0)
    }

    fn add_day(&mut self, group: &str, day: &DayCounts) {
        *self.respondents.entry(group.to_string()).or_default() += day.respondents;
        for (code, n) in &day.codes {
            *self
                .tagged
                .entry((group.to_string(), code.clone()))
                .or_default() += n;
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        for (g, n) in &other.respondents {
            *self.respondents.entry(g.clone()).or_default() += n;
        }
        for (k, n) in &other.tagged {
            *self.tagged.entry(k.clone()).or_default() += n;
        }
    }
}

#[derive(Debug, Clone, Default)]
struct DayCounts {
    respondents: u64,
    codes: BTreeMap<String, u64>,
}

/// (survey, group) → day → counts.
type SiteCounts = BTreeMap<(String, String), BTreeMap<u64, DayCounts>>;

/// Which days of the counters a query sums: `[from, until)` in day numbers, open ends allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaySpan {
    pub from: Option<u64>,
    pub until: Option<u64>,
}

impl DaySpan {
    fn contains(&self, day: u64) -> bool {
        self.from.is_none_or(|f| day >= f) && self.until.is_none_or(|u| day < u)
    }
}

#[derive(Default)]
pub struct ReportIndex {
    sites: RwLock<HashMap<String, SiteCounts>>,
}

impl ReportIndex {
    pub fn new() -> ReportIndex {
        ReportIndex::default()
    }

    /// Rebuilds one site's counters by streaming its stored responses (one at a time, never
    /// all in memory). Holds nothing locked while reading; the swap is atomic.
    ///
    /// While the server runs, a response stored during the scan may be counted twice or not at
    /// all, so call this at startup (before serving) or after a bulk change with writes paused.
    pub fn rebuild_site(&self, store: &dyn Store, site: &str) -> Result<u64, StoreError> {
        let mut counts = SiteCounts::new();
        let mut n = 0;
        for r in store.scan_responses(site)? {
            add(&mut counts, &r?, 1);
            n += 1;
        }
        self.sites.write().insert(site.to_string(), counts);
        Ok(n)
    }

    /// Counts a newly stored response. Call exactly once per response, after the store
    /// accepted it as new (not for a replayed duplicate).
    pub fn record(&self, response: &StoredResponse) {
        let mut sites = self.sites.write();
        match sites.get_mut(&response.site) {
            Some(counts) => add(counts, response, 1),
            None => add(sites.entry(response.site.clone()).or_default(), response, 1),
        }
    }

    /// Keeps the counters right when a stored response's tags are replaced (re-tagging):
    /// `before` is the record as it was counted, `after` the record as now stored (same id,
    /// site, survey and group). Call it after `Store::update_response` succeeded.
    pub fn retagged(&self, before: &StoredResponse, after: &StoredResponse) {
        let old = before.distinct_codes();
        let new = after.distinct_codes();
        if old == new {
            return;
        }
        let mut sites = self.sites.write();
        let counts = sites.entry(after.site.clone()).or_default();
        let day = counts
            .entry((after.survey.clone(), after.group.clone()))
            .or_default()
            .entry(day_of(after.id))
            .or_default();
        for code in old.difference(&new) {
            if let Some(n) = day.codes.get_mut(*code) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    day.codes.remove(*code);
                }
            }
        }
        for code in new.difference(&old) {
            *day.codes.entry(code.to_string()).or_default() += 1;
        }
    }

    /// Sums the counters of whole days in `span` for one site (and optionally one survey).
    pub fn tally(&self, site: &str, survey: Option<&str>, span: DaySpan) -> Tally {
        let mut tally = Tally::default();
        let sites = self.sites.read();
        let Some(counts) = sites.get(site) else {
            return tally;
        };
        for ((s, group), days) in counts {
            if survey.is_some_and(|want| want != s) {
                continue;
            }
            let range = days.range(span.from.unwrap_or(0)..span.until.unwrap_or(u64::MAX));
            for (day, c) in range {
                debug_assert!(span.contains(*day));
                tally.add_day(group, c);
            }
        }
        tally
    }

    /// Respondents per group for every day that has any, in day order.
    pub fn respondents_by_day(&self, site: &str) -> BTreeMap<u64, BTreeMap<String, u64>> {
        let mut out: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
        let sites = self.sites.read();
        if let Some(counts) = sites.get(site) {
            for ((_, group), days) in counts {
                for (day, c) in days {
                    *out.entry(*day)
                        .or_default()
                        .entry(group.clone())
                        .or_default() += c.respondents;
                }
            }
        }
        out
    }
}

fn add(counts: &mut SiteCounts, r: &StoredResponse, n: u64) {
    let day = counts
        .entry((r.survey.clone(), r.group.clone()))
        .or_default()
        .entry(day_of(r.id))
        .or_default();
    day.respondents += n;
    for code in r.distinct_codes() {
        // Counting a known code allocates nothing.
        match day.codes.get_mut(code) {
            Some(count) => *count += n,
            None => {
                day.codes.insert(code.to_string(), n);
            }
        }
    }
}
