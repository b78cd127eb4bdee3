//! How many responses (and review runs) the site's rules failed on recently: the dashboard's
//! banner. Read from the rule-error index, newest first, so it costs one short scan.

use super::{Chorus, ServiceError};
use crate::domain::time::{ms_of_id, now_ms, rfc3339_of_ms};
use serde::Serialize;

/// At most this many index entries are read; more shows as "at least".
const SCAN: usize = 200;

/// Rule errors of the last hours, as the dashboard shows them.
#[derive(Debug, Serialize)]
pub struct RecentErrors {
    /// Responses and review runs with a rule error (current or superseded).
    pub entries: usize,
    /// `entries` reached the scan limit: there may be more.
    pub at_least: bool,
    /// When the newest one was submitted (or the review ran), RFC 3339.
    pub newest_at: String,
}

/// The site's rule errors in the last `hours`, if there are any.
pub async fn recent(
    chorus: &Chorus,
    site: &str,
    hours: i64,
) -> Result<Option<RecentErrors>, ServiceError> {
    let since = u64::try_from(now_ms() - hours * 3_600_000).unwrap_or(0);
    let page = chorus.store.list_rule_errors(site, None, SCAN).await?;
    let recent: Vec<u64> = page
        .items
        .iter()
        .map(|e| ms_of_id(e.id))
        .take_while(|ms| *ms >= since)
        .collect();
    let Some(newest) = recent.first() else {
        return Ok(None);
    };
    Ok(Some(RecentErrors {
        entries: recent.len(),
        at_least: recent.len() == SCAN && page.next.is_some(),
        newest_at: rfc3339_of_ms(*newest as i64),
    }))
}
