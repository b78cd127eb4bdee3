//! Re-tagging: re-runs a site's current `tag` hooks over its stored responses (all, or those
//! of a chosen range), in the background, so that a new or fixed rule also applies to past
//! data.
//!
//! The run is a job in the store, held by this node under a lease that each saved batch
//! extends: a second start is refused while the lease is live, and a run whose node stopped is
//! taken over (`resume`, called by `chorus serve`) and continues after its cursor, the last
//! response re-tagged. Only a response's tags and its tag-hook errors change; its follow-ups
//! never do, and no follow-up hook runs.

use super::audit::{self, Actor, Event};
use super::{Chorus, ServiceError};
use crate::domain::time::{now_ms, now_rfc3339};
use crate::domain::{Lease, RetagProgress, RetagStatus, RuleError, StoredResponse};
use crate::store::{ResponseQuery, StoreError, TagUpdate};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Responses re-tagged between two progress saves.
const BATCH: usize = 100;
/// How long a run stays this node's without a saved batch.
const LEASE: Duration = Duration::from_secs(120);

/// This node's lease on a job, for `LEASE` from now.
pub(super) fn lease(chorus: &Chorus) -> Lease {
    Lease {
        node: chorus.node.clone(),
        until_ms: now_ms() + LEASE.as_millis() as i64,
    }
}

/// A chosen range of stored responses by submission time (milliseconds since the epoch,
/// `since_ms` inclusive, `until_ms` exclusive); `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
}

impl Range {
    /// `since` and `until` as a form or a query gives them (RFC 3339 or YYYY-MM-DD; empty is
    /// open): `invalid_query` for a time that is neither, or an end not after the start.
    pub fn parse(
        site: &crate::survey::Site,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Range, ServiceError> {
        let f = super::reports::ReportFilter::parse(site, None, since, until)?;
        Ok(Range {
            since_ms: f.since_ms,
            until_ms: f.until_ms,
        })
    }

    /// The end of a run starting now: the chosen end, never after the next millisecond
    /// (responses from then on get the current rules at submission).
    pub fn end_at_start(&self) -> u64 {
        let next = crate::domain::time::ms_of_id(Uuid::now_v7()) + 1;
        self.until_ms.map_or(next, |u| u.min(next))
    }

    /// Stored responses of the site in the range, up to `until_ms` (`end_at_start`).
    pub async fn count(
        &self,
        chorus: &Chorus,
        site: &str,
        until_ms: u64,
    ) -> Result<u64, ServiceError> {
        if *self == Range::default() {
            // Every response: the store's own count, without reading today's responses.
            return Ok(chorus.store.count_responses(site).await?);
        }
        let rows = chorus
            .store
            .report_counts(&crate::store::CountQuery {
                site: site.to_string(),
                since_ms: self.since_ms,
                until_ms: Some(until_ms),
                ..Default::default()
            })
            .await?;
        Ok(rows.iter().map(|r| r.counts.respondents).sum())
    }
}

/// Starts re-tagging a site's responses of `range` (or takes over an interrupted run).
/// Refused while one is running. The start and the end of a run are audited.
pub async fn start(
    chorus: Arc<Chorus>,
    actor: Actor<'_>,
    site: &str,
    range: Range,
) -> Result<RetagProgress, ServiceError> {
    chorus.site(site)?;
    let until_ms = range.end_at_start();
    let fresh = RetagProgress {
        status: RetagStatus::Running,
        started_at: now_rfc3339(),
        started_by: Some(actor.name()),
        finished_at: None,
        total: range.count(&chorus, site, until_ms).await?,
        done: 0,
        changed: 0,
        with_errors: 0,
        until_ms,
        since_ms: range.since_ms,
        cursor: None,
        message: None,
    };
    let progress = match chorus
        .store
        .start_retag(site, &lease(&chorus), now_ms(), &fresh)
        .await
    {
        Ok(p) => p,
        Err(StoreError::LeaseHeld) => return Err(ServiceError::RetagRunning(site.to_string())),
        Err(e) => return Err(e.into()),
    };
    audit_run(&chorus, actor, site, &progress, "started").await?;
    let site = site.to_string();
    tokio::spawn(async move {
        if let Err(e) = run(&chorus, &site).await {
            tracing::error!(site = %site, error = %e, "re-tag failed");
            if let Ok(Some(mut p)) = chorus.store.retag_progress(&site).await {
                p.status = RetagStatus::Failed;
                p.finished_at = Some(now_rfc3339());
                p.message = Some(e.to_string());
                let _ = chorus.store.save_retag(&site, &lease(&chorus), &p).await;
                let _ = audit_run(&chorus, Actor::System, &site, &p, "failed").await;
            }
        }
    });
    Ok(progress)
}

/// Takes over every re-tag a stopped process left running (called once by `chorus serve`).
pub async fn resume(chorus: Arc<Chorus>) {
    let found = chorus.store.interrupted_retags(now_ms()).await;
    for site in interrupted("re-tag", found) {
        if let Err(e) = start(Arc::clone(&chorus), Actor::System, &site, Range::default()).await {
            tracing::error!(site = %site, error = %e, "cannot resume the job");
        }
    }
}

/// The sites whose job of `what` a stopped process left running, each logged; none (and the
/// error logged) when the store cannot say.
pub(super) fn interrupted(what: &str, found: Result<Vec<String>, StoreError>) -> Vec<String> {
    let sites = found.unwrap_or_else(|e| {
        tracing::error!(job = what, error = %e, "cannot read the progress of interrupted jobs");
        Vec::new()
    });
    for site in &sites {
        tracing::info!(site = %site, job = what, "resuming an interrupted job");
    }
    sites
}

async fn run(chorus: &Chorus, site: &str) -> Result<(), ServiceError> {
    loop {
        let Some(mut progress) = chorus.store.retag_progress(site).await? else {
            return Ok(());
        };
        if progress.status != RetagStatus::Running {
            return Ok(());
        }
        // The rules as they are now: a reload during the run applies to the next batch.
        let runtime = chorus.site(site)?;
        let page = chorus
            .store
            .list_responses(&ResponseQuery {
                site: site.to_string(),
                since_ms: progress.since_ms,
                until_ms: Some(progress.until_ms),
                after: progress.cursor,
                limit: BATCH,
                ..ResponseQuery::default()
            })
            .await?;
        let responses = page.items;
        let retagged = chorus
            .run_for_site(site, move || {
                responses
                    .into_iter()
                    .map(|r| {
                        let (tags, errors) = runtime.rules.retag(&r);
                        (r, tags, errors)
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        for (response, tags, tag_errors) in retagged {
            let update = TagUpdate {
                site: site.to_string(),
                survey: response.survey.clone(),
                id: response.id,
                rule_errors: kept_errors(&response, &tag_errors),
                tags,
            };
            if chorus.store.update_tags(&update).await? {
                progress.changed += 1;
            }
            if !tag_errors.is_empty() {
                progress.with_errors += 1;
            }
            progress.done += 1;
            progress.cursor = Some(response.id);
        }
        if page.next.is_none() {
            progress.status = RetagStatus::Done;
            progress.finished_at = Some(now_rfc3339());
            progress.total = progress.total.max(progress.done);
        }
        // The batch is durable before its progress is saved, and the progress before the next
        // batch starts.
        chorus
            .store
            .save_retag(site, &lease(chorus), &progress)
            .await?;
        if progress.status == RetagStatus::Done {
            audit_run(chorus, Actor::System, site, &progress, "done").await?;
            tracing::info!(
                site = %site,
                done = progress.done,
                changed = progress.changed,
                "re-tag finished"
            );
            return Ok(());
        }
    }
}

async fn audit_run(
    chorus: &Chorus,
    actor: Actor<'_>,
    site: &str,
    p: &RetagProgress,
    status: &str,
) -> Result<(), ServiceError> {
    let event = Event::RetagRun {
        site,
        total: p.total,
        changed: p.changed,
        status,
    };
    audit::record(chorus.store.as_ref(), actor, event).await?;
    Ok(())
}

/// The rule errors a re-tagged response keeps: the new tag-hook errors; then its earlier
/// tag-hook errors the new run did not repeat, marked superseded (history is never erased);
/// then its follow-up errors as they were.
fn kept_errors(stored: &StoredResponse, tag_errors: &[RuleError]) -> Vec<RuleError> {
    let mut errors = tag_errors.to_vec();
    let repeated = |old: &RuleError| old.superseded_at.is_none() && tag_errors.contains(old);
    let now = now_rfc3339();
    for old in stored.rule_errors.iter().filter(|e| e.hook == "tag") {
        if repeated(old) {
            continue;
        }
        let mut kept = old.clone();
        kept.superseded_at.get_or_insert_with(|| now.clone());
        errors.push(kept);
    }
    errors.extend(
        stored
            .rule_errors
            .iter()
            .filter(|e| e.hook != "tag")
            .cloned(),
    );
    errors
}
