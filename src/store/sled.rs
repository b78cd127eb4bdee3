//! The sled implementation of `Store`: one tree per entity, keys laid out in `keys`.

use super::group_commit::GroupCommit;
use super::keys;
use super::sled_durable::Durability;
use super::sled_followups::{put, EncodedFollowUps, TREE_OUTBOX, TREE_OUTBOX_PENDING, TREE_TASKS};
use super::sled_merge::MergeByTime;
use super::sled_record::{TREE_META, TREE_RESPONSES};
use super::{
    DurableFuture, Inserted, ResponseChange, ResponseIter, ResponsePage, ResponseQuery,
    RetagProgress, RetagStatus, RuleErrorEntry, Store, StoreError, User,
};
use crate::followups::{Delivery, DeliveryStatus, FollowUpRecords, Task};
use crate::invitations::Invitation;
use crate::response::StoredResponse;
use parking_lot::Mutex;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

const TREE_SUBMISSIONS: &str = "submissions";
const TREE_USERS: &str = "users";
const TREE_TOKENS: &str = "tokens";
/// `site 0 response-id` → `RuleErrorEntry`, only for responses with rule errors.
const TREE_RULE_ERRORS: &str = "rule_errors";
/// `site` → `RetagProgress`.
const TREE_RETAG: &str = "retag";
const SCHEMA_VERSION: &[u8] = b"1";
/// `{started_ms, clean}` of the current or last server run.
const META_RUN: &str = "run";

/// Number of stripes serializing writers of the same submission id.
pub(super) const SUBMISSION_STRIPES: usize = 64;

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// sled's page cache; its 1 GB default is far more than a clinic needs.
    pub cache_capacity_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_capacity_bytes: 64 * 1024 * 1024,
        }
    }
}

pub struct SledStore {
    pub(super) db: sled::Db,
    pub(super) responses: sled::Tree,
    pub(super) submissions: sled::Tree,
    pub(super) invitations: sled::Tree,
    pub(super) users: sled::Tree,
    tokens: sled::Tree,
    meta: sled::Tree,
    pub(super) tasks: sled::Tree,
    pub(super) outbox: sled::Tree,
    pub(super) outbox_pending: sled::Tree,
    pub(super) rule_errors: sled::Tree,
    retag: sled::Tree,
    commit: GroupCommit,
    pub(super) durability: Arc<Durability>,
    pub(super) submission_locks: Vec<Mutex<()>>,
}

pub(super) fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(super) fn from_transaction(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => backend(e),
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<StoredResponse, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(format!("cannot encode: {e}")))
}

impl SledStore {
    pub fn open(dir: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        crate::durable_file::create_dir_durably(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        // Refuses a store that is missing, unreadable or behind its record (sled_record).
        let (db, opening) = super::sled_durable::open_sled(dir, options.cache_capacity_bytes)?;
        let durability = Arc::new(Durability::start(dir, &db, &opening)?);
        let open = |name: &str| db.open_tree(name).map_err(backend);
        let meta = open(TREE_META)?;
        let responses = open(TREE_RESPONSES)?;
        match meta.get("schema").map_err(backend)? {
            None => {
                meta.insert("schema", SCHEMA_VERSION).map_err(backend)?;
            }
            Some(v) if v.as_ref() == SCHEMA_VERSION => {}
            Some(v) => {
                return Err(StoreError::Corrupt(format!(
                    "data directory has schema {}, this Chorus reads {}",
                    String::from_utf8_lossy(&v),
                    String::from_utf8_lossy(SCHEMA_VERSION)
                )))
            }
        }
        let (flushing, recording) = (durability.clone(), durability.clone());
        let commit = GroupCommit::start(
            Box::new(move || flushing.flush()),
            Box::new(move || recording.record_if_due()),
        );
        Ok(SledStore {
            responses,
            submissions: open(TREE_SUBMISSIONS)?,
            invitations: open(super::sled_invitations::TREE_INVITATIONS)?,
            users: open(TREE_USERS)?,
            tokens: open(TREE_TOKENS)?,
            tasks: open(TREE_TASKS)?,
            outbox: open(TREE_OUTBOX)?,
            outbox_pending: open(TREE_OUTBOX_PENDING)?,
            meta,
            rule_errors: open(TREE_RULE_ERRORS)?,
            retag: open(TREE_RETAG)?,
            db,
            commit,
            durability,
            submission_locks: (0..SUBMISSION_STRIPES).map(|_| Mutex::new(())).collect(),
        })
    }

    /// The response is one insert; its rule-error index entry and its task and outbox records
    /// are derived from it and follow as plain inserts, before the caller waits for the flush.
    /// No multi-tree transaction: in sled 0.34 they serialize with the flusher (measured here:
    /// 1,377 responses/s against 10,125 without). A crash between these inserts can only hit a
    /// response that was not acknowledged yet; the next start re-creates what is missing from
    /// the response record (`repair_side_records`, driven by `followups::repair`).
    fn write_response(
        &self,
        key: &[u8],
        value: &[u8],
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError> {
        self.responses.insert(key, value).map_err(backend)?;
        self.write_side_records(response, follow_ups, false)?;
        Ok(())
    }

    pub(super) fn write_side_records(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
        only_missing: bool,
    ) -> Result<usize, StoreError> {
        let mut written = 0;
        if !response.rule_errors.is_empty() {
            let k = keys::rule_error_key(&response.site, response.id);
            let v = encode(&RuleErrorEntry::of(response))?;
            if put(&self.rule_errors, &k, &v, only_missing)? {
                written += 1;
            }
        }
        if !follow_ups.is_empty() {
            written += EncodedFollowUps::new(follow_ups)?.insert(self, only_missing)?;
        }
        Ok(written)
    }

    /// Survey ids that have stored responses for a site, by skipping from survey to survey.
    fn stored_surveys(&self, site: &str) -> Result<Vec<String>, StoreError> {
        let prefix = keys::site_prefix(site);
        let end = keys::prefix_end(&prefix);
        let mut from = prefix.clone();
        let mut found = Vec::new();
        while let Some(kv) = self
            .responses
            .range(from.clone()..end.clone())
            .keys()
            .next()
        {
            let key = kv.map_err(backend)?;
            let Some(survey) = keys::survey_of(&key, prefix.len()) else {
                break;
            };
            let survey = String::from_utf8_lossy(survey).into_owned();
            from = keys::prefix_end(&keys::survey_prefix(site, &survey));
            found.push(survey);
        }
        Ok(found)
    }

    /// A time-ordered merge of the given surveys' responses within the query's bounds.
    fn merged<'a>(&'a self, query: &ResponseQuery) -> Result<ResponseIter<'a>, StoreError> {
        let surveys = match &query.survey {
            Some(s) => vec![s.clone()],
            None => self.stored_surveys(&query.site)?,
        };
        let mut iters = Vec::with_capacity(surveys.len());
        for survey in &surveys {
            let prefix = keys::survey_prefix(&query.site, survey);
            let mut lower = Bound::Included(prefix.clone());
            if let Some(ms) = query.since_ms {
                lower = Bound::Included(keys::response_key(
                    &query.site,
                    survey,
                    keys::min_id_at_ms(ms),
                ));
            }
            if let Some(after) = query.after {
                let after_key = keys::response_key(&query.site, survey, after);
                let later = match &lower {
                    Bound::Included(k) => after_key >= *k,
                    _ => true,
                };
                if later {
                    lower = Bound::Excluded(after_key);
                }
            }
            let upper = match query.until_ms {
                Some(ms) => Bound::Excluded(keys::response_key(
                    &query.site,
                    survey,
                    keys::min_id_at_ms(ms),
                )),
                None => Bound::Excluded(keys::prefix_end(&prefix)),
            };
            iters.push(
                self.responses
                    .range::<Vec<u8>, _>((lower, upper))
                    .peekable(),
            );
        }
        Ok(Box::new(MergeByTime { iters }))
    }
}

impl Store for SledStore {
    fn insert_response(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
    ) -> Result<Inserted, StoreError> {
        let key = keys::response_key(&response.site, &response.survey, response.id);
        let value = encode(response)?;
        let Some(submission) = response.submission_id else {
            self.write_response(&key, &value, response, follow_ups)?;
            return Ok(Inserted::New);
        };
        let sub_key = keys::submission_key(&response.site, submission);
        let stripe = (submission.as_u128() % SUBMISSION_STRIPES as u128) as usize;
        let _guard = self.submission_locks[stripe].lock();
        if let Some(existing_key) = self.submissions.get(&sub_key).map_err(backend)? {
            if let Some(existing) = self.responses.get(&existing_key).map_err(backend)? {
                return Ok(Inserted::Duplicate(Box::new(decode(&existing)?)));
            }
            // The mapping outlived a crash before its response was written: take it over.
            self.submissions
                .insert(&sub_key, key.as_slice())
                .map_err(backend)?;
        } else {
            // Mapping first: a crash between the two writes leaves a mapping without a response
            // (repaired above on retry), never a second response for one submission.
            self.submissions
                .compare_and_swap(&sub_key, None as Option<&[u8]>, Some(key.as_slice()))
                .map_err(backend)?
                .map_err(|_| StoreError::Conflict("submission id claimed concurrently".into()))?;
        }
        self.write_response(&key, &value, response, follow_ups)?;
        Ok(Inserted::New)
    }

    fn insert_invited_response(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Inserted, StoreError> {
        self.insert_invited(response, follow_ups, token_sha256, now_ms)
    }

    fn put_invitations(&self, invitations: &[(String, Invitation)]) -> Result<(), StoreError> {
        self.save_invitations(invitations)
    }

    fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError> {
        self.load_invitation(token_sha256)
    }

    fn repair_side_records(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
    ) -> Result<usize, StoreError> {
        self.write_side_records(response, follow_ups, true)
    }

    fn begin_run(&self, now_ms: u64) -> Result<Option<u64>, StoreError> {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Run {
            started_ms: u64,
            clean: bool,
        }
        let previous = match self.meta.get(META_RUN).map_err(backend)? {
            Some(v) => serde_json::from_slice::<Run>(&v)
                .ok()
                .filter(|r| !r.clean)
                .map(|r| r.started_ms),
            None => None,
        };
        let run = encode(&Run {
            started_ms: now_ms,
            clean: false,
        })?;
        self.meta.insert(META_RUN, run).map_err(backend)?;
        self.flush()?;
        Ok(previous)
    }

    fn end_run(&self) -> Result<(), StoreError> {
        if let Some(v) = self.meta.get(META_RUN).map_err(backend)? {
            let mut run: serde_json::Value =
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            run["clean"] = serde_json::Value::Bool(true);
            self.meta.insert(META_RUN, encode(&run)?).map_err(backend)?;
        }
        self.durability.close()
    }

    fn update_response(&self, response: &StoredResponse) -> Result<(), StoreError> {
        let key = keys::response_key(&response.site, &response.survey, response.id);
        let value = encode(response)?;
        self.write_response(&key, &value, response, &FollowUpRecords::default())?;
        Ok(())
    }

    fn get_response(&self, site: &str, id: Uuid) -> Result<Option<StoredResponse>, StoreError> {
        for survey in self.stored_surveys(site)? {
            if let Some(v) = self
                .responses
                .get(keys::response_key(site, &survey, id))
                .map_err(backend)?
            {
                return decode(&v).map(Some);
            }
        }
        Ok(None)
    }

    fn list_responses(&self, query: &ResponseQuery) -> Result<ResponsePage, StoreError> {
        let mut responses = Vec::with_capacity(query.limit.min(1000));
        let mut next = None;
        for item in self.merged(query)? {
            let r = item?;
            if query.group.as_ref().is_some_and(|g| &r.group != g) {
                continue;
            }
            if query.tag.as_ref().is_some_and(|t| !r.has_tag(t)) {
                continue;
            }
            if responses.len() == query.limit {
                next = responses.last().map(|l: &StoredResponse| l.id);
                break;
            }
            responses.push(r);
        }
        Ok(ResponsePage { responses, next })
    }

    fn scan_responses<'a>(&'a self, site: &str) -> Result<ResponseIter<'a>, StoreError> {
        self.merged(&ResponseQuery {
            site: site.to_string(),
            ..ResponseQuery::default()
        })
    }

    fn list_tasks(&self, site: &str) -> Result<Vec<Task>, StoreError> {
        self.tasks_of(site, &|_| true)
    }

    fn find_tasks(
        &self,
        site: &str,
        keep: &dyn Fn(&Task) -> bool,
    ) -> Result<Vec<Task>, StoreError> {
        self.tasks_of(site, keep)
    }

    fn get_task(&self, site: &str, id: Uuid) -> Result<Option<Task>, StoreError> {
        self.task(site, id)
    }

    fn update_task(
        &self,
        site: &str,
        id: Uuid,
        change: &mut dyn FnMut(&mut Task) -> Result<(), String>,
    ) -> Result<Option<Task>, StoreError> {
        self.change_task(site, id, change)
    }

    fn due_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.due(now_ms, limit)
    }

    fn update_delivery(
        &self,
        previous_next_attempt_ms: i64,
        delivery: &Delivery,
    ) -> Result<(), StoreError> {
        self.save_delivery(previous_next_attempt_ms, delivery)
    }

    fn get_delivery(&self, site: &str, id: Uuid) -> Result<Option<Delivery>, StoreError> {
        self.delivery(site, id)
    }

    fn list_deliveries(
        &self,
        site: &str,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries_of(site, status)
    }

    fn modify_response(
        &self,
        site: &str,
        survey: &str,
        id: Uuid,
        change: ResponseChange<'_>,
    ) -> Result<bool, StoreError> {
        let key = keys::response_key(site, survey, id);
        let index_key = keys::rule_error_key(site, id);
        let abort = ConflictableTransactionError::Abort;
        let result: Result<bool, TransactionError<StoreError>> =
            (&self.responses, &self.rule_errors).transaction(|(responses, index)| {
                let Some(bytes) = responses.get(key.as_slice())? else {
                    return Ok(false);
                };
                let mut response = decode(&bytes).map_err(abort)?;
                if !change(&mut response) {
                    return Ok(false);
                }
                responses.insert(key.as_slice(), encode(&response).map_err(abort)?)?;
                if response.rule_errors.is_empty() {
                    index.remove(index_key.as_slice())?;
                } else {
                    let entry = encode(&RuleErrorEntry::of(&response)).map_err(abort)?;
                    index.insert(index_key.as_slice(), entry)?;
                }
                Ok(true)
            });
        result.map_err(from_transaction)
    }

    fn count_responses(&self, site: &str) -> Result<u64, StoreError> {
        let mut n = 0;
        for key in self.responses.scan_prefix(keys::site_prefix(site)).keys() {
            key.map_err(backend)?;
            n += 1;
        }
        Ok(n)
    }

    fn list_rule_errors(
        &self,
        site: &str,
        before: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<RuleErrorEntry>, StoreError> {
        let prefix = keys::site_prefix(site);
        let upper = match before {
            Some(id) => Bound::Excluded(keys::rule_error_key(site, id)),
            None => Bound::Excluded(keys::prefix_end(&prefix)),
        };
        let mut out = Vec::new();
        for kv in self
            .rule_errors
            .range::<Vec<u8>, _>((Bound::Included(prefix), upper))
            .rev()
            .take(limit)
        {
            let (_, v) = kv.map_err(backend)?;
            out.push(serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }

    fn record_review(
        &self,
        site: &str,
        errors: Option<&RuleErrorEntry>,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError> {
        self.write_review(site, errors, follow_ups)
    }

    fn retag_progress(&self, site: &str) -> Result<Option<RetagProgress>, StoreError> {
        match self.retag.get(site.as_bytes()).map_err(backend)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(e.to_string())),
        }
    }

    fn put_retag_progress(&self, site: &str, progress: &RetagProgress) -> Result<(), StoreError> {
        self.retag
            .insert(site.as_bytes(), encode(progress)?)
            .map_err(backend)?;
        Ok(())
    }

    fn running_retags(&self) -> Result<Vec<String>, StoreError> {
        let mut sites = Vec::new();
        for kv in self.retag.iter() {
            let (k, v) = kv.map_err(backend)?;
            let progress: RetagProgress =
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if progress.status == RetagStatus::Running {
                sites.push(String::from_utf8_lossy(&k).into_owned());
            }
        }
        Ok(sites)
    }

    fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let value = encode(user)?;
        let result: Result<(), TransactionError<StoreError>> = (&self.users, &self.tokens)
            .transaction(|(users, tokens)| {
                if let Some(old) = users.get(user.name.as_str())? {
                    let old: User = serde_json::from_slice(&old).map_err(|e| {
                        ConflictableTransactionError::Abort(StoreError::Corrupt(e.to_string()))
                    })?;
                    tokens.remove(old.token_sha256.as_str())?;
                }
                users.insert(user.name.as_bytes(), value.as_slice())?;
                tokens.insert(user.token_sha256.as_bytes(), user.name.as_bytes())?;
                Ok(())
            });
        result.map_err(from_transaction)?;
        self.flush()
    }

    fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        match self.users.get(name.as_bytes()).map_err(backend)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(e.to_string())),
        }
    }

    fn user_by_token(&self, token_sha256: &str) -> Result<Option<User>, StoreError> {
        match self.tokens.get(token_sha256.as_bytes()).map_err(backend)? {
            None => Ok(None),
            Some(name) => self.user(&String::from_utf8_lossy(&name)),
        }
    }

    fn user_count(&self) -> Result<usize, StoreError> {
        Ok(self.users.len())
    }

    fn durable(&self) -> DurableFuture {
        self.commit.durable()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.durability.flush_and_record()
    }

    fn health(&self) -> Result<(), StoreError> {
        self.meta.get("schema").map_err(backend)?;
        Ok(())
    }

    fn backup(&self, out: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        self.write_backup(out)
    }

    fn restore(&self, input: &mut dyn std::io::BufRead) -> Result<u64, StoreError> {
        self.read_backup(input)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.commit.stop();
        if let Err(e) = self.durability.close() {
            tracing::error!(error = %e, "final flush failed");
        }
    }
}
