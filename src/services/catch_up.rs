//! Catch-up of follow-ups: runs a site's current hooks over the stored responses of a range
//! and creates the tasks and webhooks they ask for that a response does not have yet (a rule
//! that was broken, or new, when the response came in). `preview` shows what a run would
//! create and changes nothing; `start` runs it in the background as a job with its progress
//! in the store (like a re-tag: a lease, a cursor, resumed after a restart).
//!
//! "Does not have yet" is decided by the store, per response, against the follow-ups the
//! response holds at that moment (`ResponseStore::add_follow_ups`), so two runs at once, on
//! one node or two, create each action once. A response's tags and rule errors never change
//! here; webhooks go to the outbox like those of a submission (signed, retried).

use super::audit::{self, Actor, Event};
use super::retag::{interrupted, lease, Range};
use super::{Chorus, ServiceError};
use crate::domain::jobs::add_place_count;
use crate::domain::time::{now_ms, now_rfc3339};
use crate::domain::{
    missing_actions, place_of, CatchUpProgress, FollowUp, PlaceCount, RetagStatus, StoredResponse,
};
use crate::store::{ResponseQuery, StoreError};
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;

/// Responses looked at between two progress saves.
const BATCH: usize = 100;

/// One action a response would get.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MissingAction {
    /// `task` or `webhook`.
    pub kind: String,
    /// The task's queue, the webhook's target.
    pub place: String,
    /// The task's title (empty for a webhook).
    pub title: String,
    /// The plugin or rule file that asks for it.
    pub source: String,
}

/// A stored response that lacks follow-ups the current rules ask for (never its answers).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConcernedResponse {
    pub id: Uuid,
    pub survey: String,
    pub group: String,
    pub submitted_at: String,
    pub missing: Vec<MissingAction>,
}

/// What a catch-up of the range would create now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
    pub until_ms: u64,
    /// Stored responses in the range, all looked at.
    pub looked_at: u64,
    /// Responses that would get at least one follow-up.
    pub responses: u64,
    pub tasks: u64,
    pub webhooks: u64,
    /// Per kind and place, sorted.
    pub counts: Vec<PlaceCount>,
    /// Responses where a hook failed (the preview holds what the other hooks ask for).
    pub with_errors: u64,
    /// This page of the responses concerned, oldest first.
    pub items: Vec<ConcernedResponse>,
    /// The `cursor` of the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A batch of the range: each response with the follow-ups the current rules ask for (new
/// ids, added now) and whether a hook failed on it.
type Evaluated = Vec<(StoredResponse, Vec<FollowUp>, bool)>;

/// The next batch of responses of `[since_ms, until_ms)` after `after`, run through the hooks;
/// the batch and whether more follow.
async fn next_batch(
    chorus: &Chorus,
    site: &str,
    since_ms: Option<u64>,
    until_ms: u64,
    after: Option<Uuid>,
) -> Result<(Evaluated, bool), ServiceError> {
    let runtime = chorus.site(site)?;
    let page = chorus
        .store
        .list_responses(&ResponseQuery {
            site: site.to_string(),
            since_ms,
            until_ms: Some(until_ms),
            after,
            limit: BATCH,
            ..ResponseQuery::default()
        })
        .await?;
    let more = page.next.is_some();
    let responses = page.items;
    let evaluated = chorus
        .run_for_site(site, move || {
            let at = now_rfc3339();
            responses
                .into_iter()
                .map(|r| {
                    let outcome = runtime.rules.rerun(&r);
                    let wanted = outcome
                        .actions
                        .into_iter()
                        .map(|(source, action)| FollowUp {
                            id: Uuid::now_v7(),
                            source,
                            added_at: Some(at.clone()),
                            action,
                        })
                        .collect();
                    (r, wanted, !outcome.errors.is_empty())
                })
                .collect::<Vec<_>>()
        })
        .await?;
    Ok((evaluated, more))
}

fn missing_view(f: &FollowUp) -> MissingAction {
    let (kind, place) = place_of(&f.action);
    let title = match &f.action {
        crate::domain::Action::Task { title, .. } => title.clone(),
        crate::domain::Action::Webhook { .. } => String::new(),
    };
    MissingAction {
        kind: kind.to_string(),
        place: place.to_string(),
        title,
        source: f.source.clone(),
    }
}

/// What a catch-up of `range` would create now: counts over the whole range, and the page of
/// `limit` responses concerned after `after`. Reads only; nothing is stored or sent.
pub async fn preview(
    chorus: &Chorus,
    site: &str,
    range: Range,
    after: Option<Uuid>,
    limit: usize,
) -> Result<Preview, ServiceError> {
    chorus.site(site)?;
    let until_ms = range.end_at_start();
    let mut p = Preview {
        since_ms: range.since_ms,
        until_ms,
        looked_at: 0,
        responses: 0,
        tasks: 0,
        webhooks: 0,
        counts: Vec::new(),
        with_errors: 0,
        items: Vec::new(),
        next_cursor: None,
    };
    let mut cursor = None;
    loop {
        let (batch, more) = next_batch(chorus, site, range.since_ms, until_ms, cursor).await?;
        for (r, wanted, failed) in batch {
            p.looked_at += 1;
            p.with_errors += u64::from(failed);
            cursor = Some(r.id);
            let missing = missing_actions(&r.follow_ups, &wanted);
            if missing.is_empty() {
                continue;
            }
            p.responses += 1;
            for f in &missing {
                let (kind, place) = place_of(&f.action);
                add_place_count(&mut p.counts, kind, place, 1);
                match kind {
                    "task" => p.tasks += 1,
                    _ => p.webhooks += 1,
                }
            }
            if after.is_some_and(|a| r.id <= a) {
                continue;
            }
            if p.items.len() == limit {
                if let Some(last) = p.items.last() {
                    p.next_cursor.get_or_insert_with(|| last.id.to_string());
                }
                continue;
            }
            p.items.push(ConcernedResponse {
                id: r.id,
                survey: r.survey.clone(),
                group: r.group.clone(),
                submitted_at: r.submitted_at.clone(),
                missing: missing.into_iter().map(missing_view).collect(),
            });
        }
        if !more {
            return Ok(p);
        }
    }
}

/// Starts a catch-up of `range` (or takes over an interrupted run). Refused while one is
/// running. Its start and its end are audited (the range and the counts).
pub async fn start(
    chorus: Arc<Chorus>,
    actor: Actor<'_>,
    site: &str,
    range: Range,
) -> Result<CatchUpProgress, ServiceError> {
    chorus.site(site)?;
    let until_ms = range.end_at_start();
    let fresh = CatchUpProgress {
        status: RetagStatus::Running,
        started_at: now_rfc3339(),
        started_by: actor.name(),
        finished_at: None,
        since_ms: range.since_ms,
        until_ms,
        total: range.count(&chorus, site, until_ms).await?,
        done: 0,
        responses_changed: 0,
        tasks_created: 0,
        webhooks_created: 0,
        created: Vec::new(),
        with_errors: 0,
        cursor: None,
        message: None,
    };
    let progress = match chorus
        .store
        .start_catch_up(site, &lease(&chorus), now_ms(), &fresh)
        .await
    {
        Ok(p) => p,
        Err(StoreError::LeaseHeld) => return Err(ServiceError::CatchUpRunning(site.to_string())),
        Err(e) => return Err(e.into()),
    };
    audit_run(
        &chorus,
        actor,
        site,
        &progress,
        "catch_up_started",
        "started",
    )
    .await?;
    let site = site.to_string();
    tokio::spawn(async move {
        if let Err(e) = run(&chorus, &site).await {
            tracing::error!(site = %site, error = %e, "catch-up failed");
            if let Ok(Some(mut p)) = chorus.store.catch_up_progress(&site).await {
                p.status = RetagStatus::Failed;
                p.finished_at = Some(now_rfc3339());
                p.message = Some(e.to_string());
                let _ = chorus.store.save_catch_up(&site, &lease(&chorus), &p).await;
                let _ = audit_run(
                    &chorus,
                    Actor::System,
                    &site,
                    &p,
                    "catch_up_finished",
                    "failed",
                )
                .await;
            }
        }
    });
    Ok(progress)
}

/// Takes over every catch-up a stopped process left running (called once by `chorus serve`).
pub async fn resume(chorus: Arc<Chorus>) {
    let found = chorus.store.interrupted_catch_ups(now_ms()).await;
    for site in interrupted("catch-up", found) {
        if let Err(e) = start(Arc::clone(&chorus), Actor::System, &site, Range::default()).await {
            tracing::error!(site = %site, error = %e, "cannot resume the job");
        }
    }
}

async fn run(chorus: &Chorus, site: &str) -> Result<(), ServiceError> {
    loop {
        let Some(mut p) = chorus.store.catch_up_progress(site).await? else {
            return Ok(());
        };
        if p.status != RetagStatus::Running {
            return Ok(());
        }
        // The rules as they are now: a reload during the run applies to the next batch.
        let (batch, more) = next_batch(chorus, site, p.since_ms, p.until_ms, p.cursor).await?;
        let mut webhooks = false;
        for (r, wanted, failed) in batch {
            if !wanted.is_empty() {
                let added = chorus
                    .store
                    .add_follow_ups(site, &r.survey, r.id, &wanted)
                    .await?;
                p.responses_changed += u64::from(!added.is_empty());
                for f in &added {
                    let (kind, place) = place_of(&f.action);
                    add_place_count(&mut p.created, kind, place, 1);
                    match kind {
                        "task" => p.tasks_created += 1,
                        _ => {
                            p.webhooks_created += 1;
                            webhooks = true;
                        }
                    }
                }
            }
            p.with_errors += u64::from(failed);
            p.done += 1;
            p.cursor = Some(r.id);
        }
        if webhooks {
            chorus.outbox.notify_one();
        }
        if !more {
            p.status = RetagStatus::Done;
            p.finished_at = Some(now_rfc3339());
            p.total = p.total.max(p.done);
        }
        // The batch is durable before its progress is saved.
        chorus.store.save_catch_up(site, &lease(chorus), &p).await?;
        if p.status == RetagStatus::Done {
            audit_run(chorus, Actor::System, site, &p, "catch_up_finished", "done").await?;
            tracing::info!(
                site = %site,
                done = p.done,
                tasks = p.tasks_created,
                webhooks = p.webhooks_created,
                "catch-up finished"
            );
            return Ok(());
        }
    }
}

async fn audit_run(
    chorus: &Chorus,
    actor: Actor<'_>,
    site: &str,
    p: &CatchUpProgress,
    action: &'static str,
    status: &str,
) -> Result<(), ServiceError> {
    let event = Event::CatchUp {
        action,
        site,
        since_ms: p.since_ms,
        until_ms: p.until_ms,
        total: p.total,
        tasks: p.tasks_created,
        webhooks: p.webhooks_created,
        status,
    };
    audit::record(chorus.store.as_ref(), actor, event).await?;
    Ok(())
}
