//! The rule-error index, and the per-site jobs (re-tag, catch-up, review) with their leases.
//!
//! Trees: `rule_errors` (`site 0 id` → entry), `jobs` (`retag/site`, `catch_up/site` or
//! `review/site` → the job's record with its lease). A lease changes by compare-and-swap of the
//! job's record, so two nodes can never both hold one.

use super::keys;
use super::{decode, encode, Db, SledStore};
use crate::domain::{
    CatchUpProgress, FollowUpRecords, JobProgress, Lease, RetagProgress, ReviewState,
    RuleErrorEntry,
};
use crate::store::{JobStore, Page, RuleErrorStore, StoreError};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::ops::Bound;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job<T> {
    #[serde(flatten)]
    state: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease: Option<Lease>,
}

pub(super) fn retag_key(site: &str) -> Vec<u8> {
    format!("retag/{site}").into_bytes()
}

pub(super) fn review_key(site: &str) -> Vec<u8> {
    format!("review/{site}").into_bytes()
}

fn catch_up_key(site: &str) -> Vec<u8> {
    format!("catch_up/{site}").into_bytes()
}

fn live(lease: &Option<Lease>, now_ms: i64) -> bool {
    lease.as_ref().is_some_and(|l| l.until_ms > now_ms)
}

impl Db {
    /// Replaces a job record by `change(current)` with compare-and-swap; `change` may refuse.
    fn change_job<T: Serialize + DeserializeOwned>(
        &self,
        key: &[u8],
        change: &dyn Fn(Option<Job<T>>) -> Result<Job<T>, StoreError>,
    ) -> Result<Job<T>, StoreError> {
        loop {
            let old = self.jobs.get(key)?;
            let current = old.as_ref().map(|v| decode::<Job<T>>(v)).transpose()?;
            let next = change(current)?;
            let new = encode(&next)?;
            if self.jobs.compare_and_swap(key, old, Some(new))?.is_ok() {
                return Ok(next);
            }
        }
    }

    /// Ends every lease (after a restart: sled admits one process, so they were all its own).
    pub(super) fn release_job_leases(&self) -> Result<u64, StoreError> {
        let mut released = 0;
        for kv in self.jobs.iter() {
            let (k, v) = kv?;
            let mut job: Job<serde_json::Value> = decode(&v)?;
            if job.lease.take().is_some() {
                self.jobs.insert(k, encode(&job)?)?;
                released += 1;
            }
        }
        Ok(released)
    }

    /// Takes a job for `lease.node`: `fresh` when none runs, the running one when its lease
    /// expired, `LeaseHeld` while it is live.
    fn start_job<T>(
        &self,
        key: &[u8],
        lease: &Lease,
        now_ms: i64,
        fresh: &T,
    ) -> Result<T, StoreError>
    where
        T: JobProgress + Serialize + DeserializeOwned + Clone,
    {
        let job = self.change_job::<T>(key, &|current| {
            let state = match current {
                Some(j) if j.state.is_running() => {
                    if live(&j.lease, now_ms) {
                        return Err(StoreError::LeaseHeld);
                    }
                    j.state
                }
                _ => fresh.clone(),
            };
            Ok(Job {
                state,
                lease: Some(lease.clone()),
            })
        })?;
        Ok(job.state)
    }

    /// Saves the progress of a job `lease.node` holds; a finished one ends the lease.
    fn save_job<T>(&self, key: &[u8], lease: &Lease, progress: &T) -> Result<(), StoreError>
    where
        T: JobProgress + Serialize + DeserializeOwned + Clone,
    {
        self.change_job::<T>(key, &|current| {
            let held = current
                .as_ref()
                .and_then(|j| j.lease.as_ref())
                .is_some_and(|l| l.node == lease.node);
            if !held {
                return Err(StoreError::LeaseLost);
            }
            Ok(Job {
                state: progress.clone(),
                lease: progress.is_running().then(|| lease.clone()),
            })
        })?;
        Ok(())
    }

    /// Sites whose job of `kind` runs with a lease that expired at `now_ms`.
    fn interrupted_jobs<T>(&self, kind: &str, now_ms: i64) -> Result<Vec<String>, StoreError>
    where
        T: JobProgress + DeserializeOwned,
    {
        let prefix = format!("{kind}/");
        let mut sites = Vec::new();
        for kv in self.jobs.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            let job: Job<T> = decode(&v)?;
            if job.state.is_running() && !live(&job.lease, now_ms) {
                sites.push(String::from_utf8_lossy(&k[prefix.len()..]).into_owned());
            }
        }
        Ok(sites)
    }

    pub(super) fn put_rule_error(
        &self,
        site: &str,
        entry: &RuleErrorEntry,
    ) -> Result<(), StoreError> {
        self.rule_errors
            .insert(keys::entity_key(site, entry.id), encode(entry)?)?;
        Ok(())
    }

    pub(super) fn put_job<T: Serialize>(&self, key: &[u8], state: T) -> Result<(), StoreError> {
        self.jobs
            .insert(key, encode(&Job { state, lease: None })?)?;
        Ok(())
    }

    pub(super) fn jobs_of<T: DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut out = Vec::new();
        let prefix = format!("{kind}/");
        for kv in self.jobs.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            let site = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            out.push((site, decode::<Job<T>>(&v)?.state));
        }
        Ok(out)
    }
}

#[async_trait]
impl RuleErrorStore for SledStore {
    async fn list_rule_errors(
        &self,
        site: &str,
        before: Option<Uuid>,
        limit: usize,
    ) -> Result<Page<RuleErrorEntry>, StoreError> {
        let site = site.to_string();
        self.read(move |db| {
            let prefix = keys::site_prefix(&site);
            let upper = match before {
                Some(id) => Bound::Excluded(keys::entity_key(&site, id)),
                None => Bound::Excluded(keys::prefix_end(&prefix)),
            };
            let mut items = Vec::new();
            for kv in db
                .rule_errors
                .range::<Vec<u8>, _>((Bound::Included(prefix), upper))
                .rev()
                .take(limit + 1)
            {
                let (_, v) = kv?;
                items.push(decode(&v)?);
            }
            Ok(Page::of(items, limit, |e: &RuleErrorEntry| e.id))
        })
        .await
    }
}

#[async_trait]
impl JobStore for SledStore {
    async fn retag_progress(&self, site: &str) -> Result<Option<RetagProgress>, StoreError> {
        let key = retag_key(site);
        self.read(move |db| {
            Ok(db
                .get::<Job<RetagProgress>>(&db.jobs, &key)?
                .map(|j| j.state))
        })
        .await
    }

    async fn start_retag(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
        fresh: &RetagProgress,
    ) -> Result<RetagProgress, StoreError> {
        let (key, lease, fresh) = (retag_key(site), lease.clone(), fresh.clone());
        self.write(move |db| db.start_job(&key, &lease, now_ms, &fresh))
            .await
    }

    async fn save_retag(
        &self,
        site: &str,
        lease: &Lease,
        progress: &RetagProgress,
    ) -> Result<(), StoreError> {
        let (key, lease, progress) = (retag_key(site), lease.clone(), progress.clone());
        self.write(move |db| db.save_job(&key, &lease, &progress))
            .await
    }

    async fn interrupted_retags(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        self.read(move |db| db.interrupted_jobs::<RetagProgress>("retag", now_ms))
            .await
    }

    async fn catch_up_progress(&self, site: &str) -> Result<Option<CatchUpProgress>, StoreError> {
        let key = catch_up_key(site);
        self.read(move |db| {
            Ok(db
                .get::<Job<CatchUpProgress>>(&db.jobs, &key)?
                .map(|j| j.state))
        })
        .await
    }

    async fn start_catch_up(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
        fresh: &CatchUpProgress,
    ) -> Result<CatchUpProgress, StoreError> {
        let (key, lease, fresh) = (catch_up_key(site), lease.clone(), fresh.clone());
        self.write(move |db| db.start_job(&key, &lease, now_ms, &fresh))
            .await
    }

    async fn save_catch_up(
        &self,
        site: &str,
        lease: &Lease,
        progress: &CatchUpProgress,
    ) -> Result<(), StoreError> {
        let (key, lease, progress) = (catch_up_key(site), lease.clone(), progress.clone());
        self.write(move |db| db.save_job(&key, &lease, &progress))
            .await
    }

    async fn interrupted_catch_ups(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        self.read(move |db| db.interrupted_jobs::<CatchUpProgress>("catch_up", now_ms))
            .await
    }

    async fn review_state(&self, site: &str) -> Result<Option<ReviewState>, StoreError> {
        let key = review_key(site);
        self.read(move |db| Ok(db.get::<Job<ReviewState>>(&db.jobs, &key)?.map(|j| j.state)))
            .await
    }

    async fn claim_review(
        &self,
        site: &str,
        lease: &Lease,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (key, lease) = (review_key(site), lease.clone());
        self.write(move |db| {
            let claimed = db.change_job::<ReviewState>(&key, &|current| {
                let current = current.unwrap_or(Job {
                    state: ReviewState::default(),
                    lease: None,
                });
                if live(&current.lease, now_ms) {
                    return Err(StoreError::LeaseHeld);
                }
                Ok(Job {
                    state: current.state,
                    lease: Some(lease.clone()),
                })
            });
            match claimed {
                Ok(_) => Ok(true),
                Err(StoreError::LeaseHeld) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    async fn finish_review(
        &self,
        site: &str,
        node: &str,
        state: &ReviewState,
        errors: Option<&RuleErrorEntry>,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError> {
        let (site, node, state) = (site.to_string(), node.to_string(), state.clone());
        let (errors, follow_ups) = (errors.cloned(), follow_ups.clone());
        self.write(move |db| {
            let held = db
                .get::<Job<ReviewState>>(&db.jobs, &review_key(&site))?
                .and_then(|j| j.lease)
                .is_some_and(|l| l.node == node);
            if !held {
                return Err(StoreError::LeaseLost);
            }
            // The state last: if the process dies before it, the next look runs the review
            // again, and finds a task written here open (so it is not opened twice).
            if let Some(e) = &errors {
                db.put_rule_error(&site, e)?;
            }
            for t in &follow_ups.tasks {
                db.put_task(t, false)?;
            }
            for d in &follow_ups.deliveries {
                db.put_delivery(d, false)?;
            }
            db.change_job::<ReviewState>(&review_key(&site), &|_| {
                Ok(Job {
                    state: state.clone(),
                    lease: None,
                })
            })?;
            Ok(())
        })
        .await
    }

    async fn release_review(&self, site: &str, node: &str) -> Result<(), StoreError> {
        let (key, node) = (review_key(site), node.to_string());
        self.write(move |db| {
            db.change_job::<ReviewState>(&key, &|current| {
                let mut job = current.unwrap_or(Job {
                    state: ReviewState::default(),
                    lease: None,
                });
                if job.lease.as_ref().is_some_and(|l| l.node == node) {
                    job.lease = None;
                }
                Ok(job)
            })?;
            Ok(())
        })
        .await
    }
}
