//! Re-tagging: re-runs a site's current `tag` hooks over its stored responses, in the
//! background, so that a new or fixed rule also applies to past data.
//!
//! Progress (a cursor: the last response re-tagged) is persisted after every batch, so a
//! restart resumes where it stopped (`resume`, called by `chorus serve`). Each response is
//! rewritten in one store transaction; only its tags and its tag-hook errors change, its
//! follow-ups never do, and no follow-up hook runs.

use crate::app::AppState;
use crate::domain::time::rfc3339_of_id;
use crate::domain::{RuleError, StoredResponse, Tag};
use crate::errors::ApiError;
use crate::store::{ResponseQuery, RetagProgress, RetagStatus, StoreError};
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// Responses re-tagged between two progress saves.
const BATCH: usize = 100;

/// Re-tag runs alive in this process, by (app state, site): a second start is refused while
/// one runs, and a run left "running" by a stopped process can be taken over.
static RUNNING: Mutex<BTreeSet<(usize, String)>> = Mutex::new(BTreeSet::new());

fn run_key(state: &Arc<AppState>, site: &str) -> (usize, String) {
    (Arc::as_ptr(state) as usize, site.to_string())
}

/// Starts re-tagging a site (or resumes an interrupted run). Refused while one is running.
pub fn start(state: Arc<AppState>, site: &str) -> Result<RetagProgress, ApiError> {
    let mut running = RUNNING.lock();
    let key = run_key(&state, site);
    if running.contains(&key) {
        return Err(ApiError::Conflict(format!(
            "a re-tag of \"{site}\" is already running; GET this path for its progress"
        )));
    }
    let progress = match state.store.retag_progress(site)? {
        Some(p) if p.status == RetagStatus::Running => p,
        _ => {
            let id = Uuid::now_v7();
            let p = RetagProgress {
                status: RetagStatus::Running,
                started_at: rfc3339_of_id(id),
                finished_at: None,
                total: state.store.count_responses(site)?,
                done: 0,
                changed: 0,
                with_errors: 0,
                until_ms: id.get_timestamp().map_or(0, |t| {
                    let (s, n) = t.to_unix();
                    s * 1000 + u64::from(n / 1_000_000) + 1
                }),
                cursor: None,
                message: None,
            };
            state.store.put_retag_progress(site, &p)?;
            p
        }
    };
    running.insert(key.clone());
    drop(running);
    let site = site.to_string();
    let spawned = std::thread::Builder::new()
        .name("chorus-retag".into())
        .spawn(move || {
            if let Err(e) = run(&state, &site, &key) {
                tracing::error!(site = %site, error = %e, "re-tag failed");
                let mut running = RUNNING.lock();
                if let Ok(Some(mut p)) = state.store.retag_progress(&site) {
                    p.status = RetagStatus::Failed;
                    p.finished_at = Some(rfc3339_of_id(Uuid::now_v7()));
                    p.message = Some(e.to_string());
                    let _ = state.store.put_retag_progress(&site, &p);
                }
                running.remove(&key);
            }
        });
    if spawned.is_err() {
        return Err(ApiError::Unavailable);
    }
    Ok(progress)
}

/// Resumes every re-tag a stopped process left running (called once by `chorus serve`).
pub fn resume(state: Arc<AppState>) {
    let sites = match state.store.running_retags() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot read re-tag progress");
            return;
        }
    };
    for site in sites {
        tracing::info!(site = %site, "resuming an interrupted re-tag");
        if let Err(e) = start(Arc::clone(&state), &site) {
            tracing::error!(site = %site, error = %e, "cannot resume the re-tag");
        }
    }
}

fn run(state: &AppState, site: &str, key: &(usize, String)) -> Result<(), StoreError> {
    let store = &state.store;
    loop {
        let mut progress = match store.retag_progress(site)? {
            Some(p) if p.status == RetagStatus::Running => p,
            _ => {
                RUNNING.lock().remove(key);
                return Ok(());
            }
        };
        // The rules as they are now: a reload during the run applies to the next batch.
        let Some(runtime) = state.sites.get(site) else {
            return Err(StoreError::Conflict(format!(
                "site \"{site}\" is no longer served"
            )));
        };
        let page = store.list_responses(&ResponseQuery {
            site: site.to_string(),
            until_ms: Some(progress.until_ms),
            after: progress.cursor,
            limit: BATCH,
            ..ResponseQuery::default()
        })?;
        for response in &page.responses {
            let (tags, errors) = runtime.rules.retag(response);
            let change = |stored: &mut StoredResponse| apply(stored, &tags, &errors);
            if store.modify_response(site, &response.survey, response.id, &change)? {
                // Keep the report's incremental counts in step with the new tags.
                let mut after = response.clone();
                apply(&mut after, &tags, &errors);
                state.report.retagged(response, &after);
                progress.changed += 1;
            }
            if !errors.is_empty() {
                progress.with_errors += 1;
            }
            progress.done += 1;
            progress.cursor = Some(response.id);
        }
        if page.next.is_none() {
            progress.status = RetagStatus::Done;
            progress.finished_at = Some(rfc3339_of_id(Uuid::now_v7()));
            progress.total = progress.total.max(progress.done);
            // Marked done and released together, so a new start never sees a finished run
            // as still running (nor overwrites its last progress).
            let mut running = RUNNING.lock();
            store.put_retag_progress(site, &progress)?;
            running.remove(key);
            drop(running);
            store.flush()?;
            tracing::info!(
                site = %site,
                done = progress.done,
                changed = progress.changed,
                "re-tag finished"
            );
            return Ok(());
        }
        store.put_retag_progress(site, &progress)?;
        // The batch and its progress reach the disk together before the next batch starts.
        store.flush()?;
    }
}

/// New tags and tag-hook errors for a stored response; its follow-ups and follow-up errors stay.
fn apply(stored: &mut StoredResponse, tags: &[Tag], tag_errors: &[RuleError]) -> bool {
    let mut errors: Vec<RuleError> = tag_errors.to_vec();
    errors.extend(
        stored
            .rule_errors
            .iter()
            .filter(|e| e.hook != "tag")
            .cloned(),
    );
    if stored.tags == tags && stored.rule_errors == errors {
        return false;
    }
    stored.tags = tags.to_vec();
    stored.rule_errors = errors;
    true
}
