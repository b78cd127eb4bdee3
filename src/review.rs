//! The `review` hook in the running server: after a site's report changes, its `review` hooks
//! get the whole report and may open tasks or send webhooks (docs/rules.md "The review hook").
//!
//! A background loop looks at every site with a review hook once per interval (one minute by
//! default) and runs the hooks only when the report differs from the one they last saw, so a
//! site is reviewed at most once per interval and never while nothing changed. A task a review
//! asks for is not opened again while one with the same (site, source, queue, title) is open
//! or claimed.

use crate::app::AppState;
use crate::domain::time::now_ms;
use crate::domain::time::rfc3339_of_id;
pub use crate::domain::ReviewRun;
use crate::domain::{new_delivery, new_task, FollowUpRecords, Origin, Task, TaskAction};
use crate::domain::{Action, ErrorSource};
use crate::errors::ApiError;
use crate::report::{site_report, Report, ReportFilter};
use crate::sites::SiteRuntime;
use crate::store::RuleErrorEntry;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use uuid::Uuid;

/// How often the loop looks at the reports, and so the most often a site is reviewed.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Default)]
struct SiteState {
    /// The report the hooks last saw: unchanged reports are not reviewed again.
    last_report: Option<Report>,
    /// The loaded version of the site that saw it: a reload counts as a change. (A weak
    /// pointer keeps the allocation, so a new version can never reuse its address.)
    last_rules: Weak<SiteRuntime>,
    last_run: Option<ReviewRun>,
}

/// Review state of every site, held in `AppState`.
pub struct Reviews {
    interval: Mutex<Duration>,
    sites: Mutex<HashMap<String, SiteState>>,
    /// One run at a time, so two runs never both open "the same" task.
    running: tokio::sync::Mutex<()>,
}

impl Default for Reviews {
    fn default() -> Self {
        Reviews {
            interval: Mutex::new(DEFAULT_INTERVAL),
            sites: Mutex::new(HashMap::new()),
            running: tokio::sync::Mutex::new(()),
        }
    }
}

impl Reviews {
    pub fn interval(&self) -> Duration {
        *self.interval.lock()
    }

    /// Changes the interval (the tests use a short one); takes effect at the next wait.
    pub fn set_interval(&self, interval: Duration) {
        *self.interval.lock() = interval.max(Duration::from_millis(10));
    }

    /// The latest run of a site since the server started.
    pub fn last_run(&self, site: &str) -> Option<ReviewRun> {
        self.sites.lock().get(site).and_then(|s| s.last_run.clone())
    }
}

/// The identity of a review task: one is not opened again while another is active.
fn same_task(t: &Task, source: &str, queue: &str, title: &str) -> bool {
    t.origin.is_review() && t.source == source && t.queue == queue && t.title == title
}

/// Runs the site's review hooks on its current report (whether or not it changed) and stores
/// what they asked for. `Ok(None)` when the site has no review hook.
pub async fn run_site(state: Arc<AppState>, site: &str) -> Result<Option<ReviewRun>, ApiError> {
    let _one_at_a_time = state.reviews.running.lock().await;
    let report = current_report(&state, site).await?;
    run_locked(&state, site, report).await
}

/// Reviews every site with a review hook whose report changed since its last review, or whose
/// rules were reloaded since (the loop's step; also callable directly). Returns the runs made.
pub async fn review_changed(state: Arc<AppState>) -> Vec<ReviewRun> {
    let _one_at_a_time = state.reviews.running.lock().await;
    let mut runs = Vec::new();
    for site in state.sites.ids() {
        let Some(runtime) = state.sites.get(&site) else {
            continue;
        };
        if !runtime.rules.has_review() {
            continue;
        }
        let rules_version = Arc::downgrade(&runtime);
        let report = match current_report(&state, &site).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%site, error = %e, "review: cannot compute the report");
                continue;
            }
        };
        let unchanged = state.reviews.sites.lock().get(&site).is_some_and(|s| {
            s.last_rules.ptr_eq(&rules_version) && s.last_report.as_ref() == Some(&report)
        });
        if unchanged {
            continue;
        }
        match run_locked(&state, &site, report).await {
            Ok(Some(run)) => runs.push(run),
            Ok(None) => {}
            Err(e) => tracing::warn!(%site, error = %e, "review run failed"),
        }
    }
    runs
}

/// The background loop of `chorus serve`: every interval, review the sites whose report
/// changed.
pub async fn run_loop(state: Arc<AppState>) {
    loop {
        tokio::time::sleep(state.reviews.interval()).await;
        review_changed(state.clone()).await;
    }
}

/// The site's whole report, no filter: the numbers of `GET /report` without parameters.
async fn current_report(state: &Arc<AppState>, site: &str) -> Result<Report, ApiError> {
    let runtime = state
        .sites
        .get(site)
        .ok_or_else(|| ApiError::SiteNotFound(site.to_string()))?;
    let st = state.clone();
    Ok(tokio::task::spawn_blocking(move || {
        site_report(
            &st.report,
            st.store.as_ref(),
            &runtime.site,
            &ReportFilter::default(),
        )
    })
    .await
    .map_err(|_| ApiError::Unavailable)??)
}

async fn run_locked(
    state: &Arc<AppState>,
    site: &str,
    report: Report,
) -> Result<Option<ReviewRun>, ApiError> {
    let runtime = state
        .sites
        .get(site)
        .ok_or_else(|| ApiError::SiteNotFound(site.to_string()))?;
    if !runtime.rules.has_review() {
        return Ok(None);
    }
    let rules_version = Arc::downgrade(&runtime);
    let store = state.store.clone();
    let site_id = site.to_string();
    let seen = report.clone();
    let run = tokio::task::spawn_blocking(move || -> Result<ReviewRun, ApiError> {
        let outcome = runtime.rules.review(&report);
        let active: Vec<Task> =
            store.find_tasks(&site_id, &|t| t.origin.is_review() && t.status.is_active())?;
        let id = Uuid::now_v7();
        let at = rfc3339_of_id(id);
        let now = now_ms();
        let mut run = ReviewRun {
            site: site_id.clone(),
            id,
            at: at.clone(),
            opened: Vec::new(),
            already_open: Vec::new(),
            webhooks: Vec::new(),
            errors: outcome.errors,
        };
        let mut records = FollowUpRecords::default();
        for (source, action) in outcome.actions {
            match action {
                Action::Task {
                    queue,
                    title,
                    due_hours,
                    priority,
                    note,
                } => {
                    let open_already = active
                        .iter()
                        .chain(records.tasks.iter())
                        .any(|t| same_task(t, &source, &queue, &title));
                    if open_already {
                        run.already_open.push(title);
                        continue;
                    }
                    run.opened.push(title.clone());
                    records.tasks.push(new_task(
                        Uuid::now_v7(),
                        &site_id,
                        // A review task belongs to the site's report, not to a response.
                        Origin::Review,
                        &source,
                        TaskAction {
                            queue: &queue,
                            title: &title,
                            due_hours,
                            priority,
                            note: note.as_deref(),
                        },
                        &at,
                        now,
                    ));
                }
                Action::Webhook { target, payload } => {
                    let follow_up_id = Uuid::now_v7();
                    let body = serde_json::json!({
                        "type": "chorus.review",
                        "site": site_id,
                        "follow_up_id": follow_up_id,
                        "source": source,
                        "payload": payload.unwrap_or_else(|| serde_json::json!({})),
                    });
                    run.webhooks.push(target.clone());
                    records.deliveries.push(new_delivery(
                        follow_up_id,
                        &site_id,
                        Origin::Review,
                        &target,
                        body.to_string(),
                        now,
                    ));
                }
            }
        }
        let entry = (!run.errors.is_empty()).then(|| RuleErrorEntry {
            id,
            source: ErrorSource::Review,
            at: at.clone(),
            errors: run.errors.clone(),
        });
        if entry.is_some() || !records.is_empty() {
            store.record_review(&site_id, entry.as_ref(), &records)?;
        }
        Ok(run)
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    state.store.durable().await?;
    for e in &run.errors {
        state.metrics.rule_error(site, &e.source);
    }
    if !run.webhooks.is_empty() {
        state.outbox.notify_one();
    }
    tracing::info!(
        %site,
        opened = run.opened.len(),
        already_open = run.already_open.len(),
        webhooks = run.webhooks.len(),
        errors = run.errors.len(),
        "review run"
    );
    let mut sites = state.reviews.sites.lock();
    let entry = sites.entry(site.to_string()).or_default();
    entry.last_report = Some(seen);
    entry.last_rules = rules_version;
    entry.last_run = Some(run.clone());
    Ok(Some(run))
}
