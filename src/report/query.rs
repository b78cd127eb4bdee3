//! Turning a report window into a tally: whole UTC days from the index, the partial days at
//! the edges of a `since`/`until` window by reading just those stretches from the store.

use super::index::{DaySpan, ReportIndex, Tally, DAY_MS};
use crate::store::{ResponseQuery, Store, StoreError};

/// What a report covers. `since` is inclusive, `until` exclusive (milliseconds since the epoch),
/// as for the response listing.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub survey: Option<String>,
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
}

/// Page size of an edge scan: bounds the memory an edge day can take.
const EDGE_PAGE: usize = 1000;

/// The tally for a site and filter. Cost: the index sum (microseconds to a few milliseconds)
/// plus reading at most two partial days of responses.
pub fn tally(
    index: &ReportIndex,
    store: &dyn Store,
    site: &str,
    filter: &ReportFilter,
) -> Result<Tally, StoreError> {
    let survey = filter.survey.as_deref();
    let (since, until) = (filter.since_ms, filter.until_ms);
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Ok(Tally::default());
        }
    }
    // Whole days inside the window: [first_full, end_full).
    let first_full = since.map(|s| s.div_ceil(DAY_MS));
    let end_full = until.map(|u| u / DAY_MS);
    if let (Some(f), Some(e)) = (first_full, end_full) {
        if f >= e {
            // No whole day inside: the window spans at most two partial days; read it all.
            return scan(store, site, survey, since, until);
        }
    }
    let mut tally = index.tally(
        site,
        survey,
        DaySpan {
            from: first_full,
            until: end_full,
        },
    );
    if let (Some(s), Some(f)) = (since, first_full) {
        if s < f * DAY_MS {
            tally.merge(&scan(store, site, survey, Some(s), Some(f * DAY_MS))?);
        }
    }
    if let (Some(u), Some(e)) = (until, end_full) {
        if u > e * DAY_MS {
            tally.merge(&scan(store, site, survey, Some(e * DAY_MS), Some(u))?);
        }
    }
    Ok(tally)
}

/// Reads the responses of `[since, until)` page by page and tallies them.
fn scan(
    store: &dyn Store,
    site: &str,
    survey: Option<&str>,
    since: Option<u64>,
    until: Option<u64>,
) -> Result<Tally, StoreError> {
    let mut tally = Tally::default();
    let mut after = None;
    loop {
        let page = store.list_responses(&ResponseQuery {
            site: site.to_string(),
            survey: survey.map(str::to_string),
            since_ms: since,
            until_ms: until,
            after,
            limit: EDGE_PAGE,
            ..ResponseQuery::default()
        })?;
        for r in &page.responses {
            tally.add_response(r);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(tally),
        }
    }
}
