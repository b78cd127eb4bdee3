//! The `review` hook in the running server: after a site's report changes, its `review` hooks
//! get the whole report and may open tasks or send webhooks (docs/rules.md "The review hook").
//!
//! A background loop looks at every site with a review hook once per interval (one minute by
//! default) and runs the hooks only when the report or the site's files differ from what the
//! last run saw (both kept in the store as digests), so a site is reviewed at most once per
//! interval and never while nothing changed, even across restarts. A site's review is leased to
//! one node at a time. A task a review asks for is not opened again while one with the same
//! (site, source, queue, title) is open or claimed.

use super::reports::{site_report, ReportFilter};
use super::sites::SiteRuntime;
use super::{Chorus, ServiceError};
use crate::domain::time::{now_ms, rfc3339_of_id};
use crate::domain::{
    new_delivery, new_task, Action, ErrorSource, FollowUpRecords, Lease, Origin, OriginKind,
    ReviewRun, ReviewState, RuleErrorEntry, Task, TaskAction, TaskStatus,
};
use crate::report::Report;
use crate::store::{TaskQuery, MAX_PAGE};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How often the loop looks at the reports, and so the most often a site is reviewed.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// How long one node holds a site's review.
const LEASE: Duration = Duration::from_secs(60);

/// The loop's interval (the tests use a short one).
pub struct Reviews {
    interval: Mutex<Duration>,
}

impl Default for Reviews {
    fn default() -> Self {
        Reviews {
            interval: Mutex::new(DEFAULT_INTERVAL),
        }
    }
}

impl Reviews {
    pub fn interval(&self) -> Duration {
        *self.interval.lock()
    }

    /// Changes the interval; takes effect at the next wait.
    pub fn set_interval(&self, interval: Duration) {
        *self.interval.lock() = interval.max(Duration::from_millis(10));
    }
}

/// The latest run of a site.
pub async fn last_run(chorus: &Chorus, site: &str) -> Result<Option<ReviewRun>, ServiceError> {
    Ok(chorus
        .store
        .review_state(site)
        .await?
        .and_then(|s| s.last_run))
}

fn report_digest(report: &Report) -> String {
    let json = serde_json::to_vec(report).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// Runs the site's review hooks on its current report (whether or not it changed) and stores
/// what they asked for. `Ok(None)` when the site has no review hook or another node is
/// reviewing it.
pub async fn run_site(chorus: &Chorus, site: &str) -> Result<Option<ReviewRun>, ServiceError> {
    review(chorus, site, true).await
}

/// Reviews every site with a review hook whose report or files changed since its last review
/// (the loop's step; also callable directly). Returns the runs made.
pub async fn review_changed(chorus: &Chorus) -> Vec<ReviewRun> {
    let mut runs = Vec::new();
    for site in chorus.sites.ids() {
        match review(chorus, &site, false).await {
            Ok(Some(run)) => runs.push(run),
            Ok(None) => {}
            Err(e) => tracing::warn!(%site, error = %e, "review run failed"),
        }
    }
    runs
}

/// The background loop of `chorus serve`: every interval, review the sites that changed.
pub async fn run_loop(chorus: Arc<Chorus>) {
    loop {
        tokio::time::sleep(chorus.reviews.interval()).await;
        review_changed(&chorus).await;
    }
}

async fn review(
    chorus: &Chorus,
    site: &str,
    always: bool,
) -> Result<Option<ReviewRun>, ServiceError> {
    let runtime = chorus.site(site)?;
    if !runtime.rules.has_review() {
        return Ok(None);
    }
    let lease = Lease {
        node: chorus.node.clone(),
        until_ms: now_ms() + LEASE.as_millis() as i64,
    };
    if !chorus.store.claim_review(site, &lease, now_ms()).await? {
        return Ok(None);
    }
    let outcome = reviewed(chorus, &runtime, always).await;
    if !matches!(outcome, Ok(Some(_))) {
        chorus.store.release_review(site, &chorus.node).await?;
    }
    outcome
}

/// Under the lease: compares, runs the hooks, stores what they did.
async fn reviewed(
    chorus: &Chorus,
    runtime: &Arc<SiteRuntime>,
    always: bool,
) -> Result<Option<ReviewRun>, ServiceError> {
    let site = runtime.site.id();
    let report = site_report(chorus, &runtime.site, &ReportFilter::default()).await?;
    let previous = chorus.store.review_state(site).await?.unwrap_or_default();
    let (report_digest, rules_digest) = (report_digest(&report), runtime.digest.clone());
    if !always && previous.report_digest == report_digest && previous.rules_digest == rules_digest {
        return Ok(None);
    }
    let active = active_review_tasks(chorus, site).await?;
    let rt = Arc::clone(runtime);
    let (run, records) = chorus
        .run_for_site(site, move || {
            let outcome = rt.rules.review(&report);
            plan(rt.site.id(), outcome.actions, outcome.errors, &active)
        })
        .await?;
    let entry = (!run.errors.is_empty()).then(|| RuleErrorEntry {
        id: run.id,
        source: ErrorSource::Review,
        at: run.at.clone(),
        errors: run.errors.clone(),
    });
    let state = ReviewState {
        report_digest,
        rules_digest,
        last_run: Some(run.clone()),
    };
    chorus
        .store
        .finish_review(site, &chorus.node, &state, entry.as_ref(), &records)
        .await?;
    for e in &run.errors {
        chorus.metrics.rule_error(site, &e.source);
    }
    if !run.webhooks.is_empty() {
        chorus.outbox.notify_one();
    }
    tracing::info!(
        %site,
        opened = run.opened.len(),
        already_open = run.already_open.len(),
        webhooks = run.webhooks.len(),
        errors = run.errors.len(),
        "review run"
    );
    Ok(Some(run))
}

/// The site's open or claimed review tasks.
async fn active_review_tasks(chorus: &Chorus, site: &str) -> Result<Vec<Task>, ServiceError> {
    let mut tasks = Vec::new();
    let mut query = TaskQuery {
        site: site.to_string(),
        statuses: TaskStatus::ACTIVE.to_vec(),
        origin: Some(OriginKind::Review),
        limit: MAX_PAGE,
        ..TaskQuery::default()
    };
    loop {
        let page = chorus.store.list_tasks(&query).await?;
        tasks.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(tasks),
        }
    }
}

/// The identity of a review task: one is not opened again while another is active.
fn same_task(t: &Task, source: &str, queue: &str, title: &str) -> bool {
    t.origin.is_review() && t.source == source && t.queue == queue && t.title == title
}

/// The run's record and the tasks and deliveries its actions become.
fn plan(
    site: &str,
    actions: Vec<(String, Action)>,
    errors: Vec<crate::domain::RuleError>,
    active: &[Task],
) -> (ReviewRun, FollowUpRecords) {
    let id = Uuid::now_v7();
    let at = rfc3339_of_id(id);
    let now = now_ms();
    let mut run = ReviewRun {
        site: site.to_string(),
        id,
        at: at.clone(),
        opened: Vec::new(),
        already_open: Vec::new(),
        webhooks: Vec::new(),
        errors,
    };
    let mut records = FollowUpRecords::default();
    for (source, action) in actions {
        if let Some(task) = TaskAction::of(&action) {
            let open_already = active
                .iter()
                .chain(records.tasks.iter())
                .any(|t| same_task(t, &source, task.queue, task.title));
            if open_already {
                run.already_open.push(task.title.to_string());
                continue;
            }
            run.opened.push(task.title.to_string());
            // A review task belongs to the site's report, not to a response.
            let task = new_task(
                Uuid::now_v7(),
                site,
                Origin::Review,
                &source,
                task,
                &at,
                now,
            );
            records.tasks.push(task);
        } else if let Action::Webhook { target, payload } = action {
            let follow_up_id = Uuid::now_v7();
            let body = serde_json::json!({
                "type": "chorus.review",
                "site": site,
                "follow_up_id": follow_up_id,
                "source": source,
                "payload": payload.unwrap_or_else(|| serde_json::json!({})),
            });
            run.webhooks.push(target.clone());
            let body = body.to_string();
            let delivery = new_delivery(follow_up_id, site, Origin::Review, &target, body, now);
            records.deliveries.push(delivery);
        }
    }
    (run, records)
}
