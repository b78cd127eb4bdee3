//! Responses: the response record is the truth; its rule-error entry, tasks and deliveries
//! are derived from it and written right after it (see the module comment of `sled`).

use super::aggregates::Mark;
use super::keys;
use super::merge::{Merge, Scan};
use super::{decode, encode, Db, SledStore};
use crate::domain::time::DAY_MS;
use crate::domain::{
    missing_actions, records_of, FollowUp, Invitation, InvitationProblem, RuleErrorEntry,
    StoredResponse,
};
use crate::store::{
    IdempotencyRecord, Inserted, NewResponse, Page, ResponseQuery, ResponseStore, StoreError,
    TagUpdate,
};
use async_trait::async_trait;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::ops::Bound;
use uuid::Uuid;

/// Why the invitation transaction wrote nothing.
enum Refused {
    Invitation(InvitationProblem),
    Store(StoreError),
}

impl Db {
    fn insert_response(&self, new: NewResponse) -> Result<Inserted, StoreError> {
        let r = &new.response;
        let key = keys::response_key(&r.site, &r.survey, r.id);
        let value = encode(r)?;
        let _guard = new.idempotency.as_ref().map(|k| self.key_lock(k.key));
        let mut binding = None;
        if let Some(k) = &new.idempotency {
            let ikey = keys::entity_key(&r.site, k.key);
            if let Some((record, first)) = self.bound_response(&r.site, &ikey)? {
                let same = record.survey == r.survey
                    && (record.fingerprint.is_empty() || record.fingerprint == k.fingerprint);
                return Ok(if same {
                    Inserted::Replayed(Box::new(first))
                } else {
                    Inserted::KeyReused
                });
            }
            let record = IdempotencyRecord {
                site: r.site.clone(),
                key: k.key,
                survey: r.survey.clone(),
                fingerprint: k.fingerprint.clone(),
                response_id: r.id,
            };
            binding = Some((ikey, encode(&record)?));
        }
        let _counting = self.aggregates.mark(Mark::responses(r))?;
        match &new.invitation {
            None => {
                // The key first: a crash between the two leaves a key without its response,
                // which the next request with that key takes over (`bound_response`).
                if let Some((ikey, ivalue)) = &binding {
                    self.idempotency
                        .insert(ikey.as_slice(), ivalue.as_slice())?;
                }
                self.responses.insert(key, value)?;
            }
            Some(use_) => {
                let admitted = self.insert_invited(r, &key, &value, binding.as_ref(), use_);
                match admitted {
                    Ok(()) => {}
                    Err(Refused::Invitation(p)) => return Ok(Inserted::Invitation(p)),
                    Err(Refused::Store(e)) => return Err(e),
                }
            }
        }
        self.put_derived(r, &new.follow_ups, false)?;
        self.counts.record(r);
        Ok(Inserted::New(Box::new(new.response)))
    }

    /// The response, its idempotency key and the link's "used" mark in one transaction, so a
    /// link never admits two responses nor is used up by one that was not stored.
    fn insert_invited(
        &self,
        r: &StoredResponse,
        key: &[u8],
        value: &[u8],
        binding: Option<&(Vec<u8>, Vec<u8>)>,
        use_: &crate::store::InvitationUse,
    ) -> Result<(), Refused> {
        let hash = use_.token_sha256.as_bytes();
        let result: Result<(), TransactionError<Refused>> =
            (&self.responses, &self.idempotency, &self.invitations).transaction(
                |(responses, idempotency, invitations)| {
                    let abort = ConflictableTransactionError::Abort;
                    let mut invitation: Option<Invitation> = invitations
                        .get(hash)?
                        .map(|v| decode(&v))
                        .transpose()
                        .map_err(|e| abort(Refused::Store(e)))?;
                    crate::domain::invitation::check(
                        invitation.as_ref(),
                        &r.site,
                        &r.survey,
                        use_.now_ms,
                    )
                    .map_err(|p| abort(Refused::Invitation(p)))?;
                    if let Some(i) = invitation.as_mut() {
                        i.used = true;
                        let v = encode(i).map_err(|e| abort(Refused::Store(e)))?;
                        invitations.insert(hash, v)?;
                    }
                    if let Some((ikey, ivalue)) = binding {
                        idempotency.insert(ikey.as_slice(), ivalue.as_slice())?;
                    }
                    responses.insert(key, value)?;
                    Ok(())
                },
            );
        result.map_err(|e| match e {
            TransactionError::Abort(refused) => refused,
            TransactionError::Storage(e) => Refused::Store(e.into()),
        })
    }

    /// The record of an idempotency key and the response it names, if both are stored.
    pub(super) fn bound_response(
        &self,
        site: &str,
        ikey: &[u8],
    ) -> Result<Option<(IdempotencyRecord, StoredResponse)>, StoreError> {
        let Some(v) = self.idempotency.get(ikey)? else {
            return Ok(None);
        };
        let record = match v.first() {
            Some(b'{') => decode::<IdempotencyRecord>(&v)?,
            // Before keys were bound to a request they held the response's key, nothing else.
            _ => IdempotencyRecord {
                site: site.to_string(),
                key: keys::id_of(ikey).unwrap_or_default(),
                survey: keys::segment_of(&v, keys::site_prefix(site).len())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .unwrap_or_default(),
                fingerprint: String::new(),
                response_id: keys::id_of(&v).unwrap_or_default(),
            },
        };
        let key = keys::response_key(site, &record.survey, record.response_id);
        Ok(self
            .get::<StoredResponse>(&self.responses, &key)?
            .map(|first| (record, first)))
    }

    /// Writes the rule-error entry, tasks and deliveries of a stored response; with
    /// `only_missing`, leaves existing ones as they are (a repair must not reset a task someone
    /// claimed). Returns how many records it wrote.
    pub(super) fn put_derived(
        &self,
        r: &StoredResponse,
        follow_ups: &crate::domain::FollowUpRecords,
        only_missing: bool,
    ) -> Result<u64, StoreError> {
        let mut written = 0;
        if !r.rule_errors.is_empty() {
            let k = keys::entity_key(&r.site, r.id);
            let v = encode(&RuleErrorEntry::of(r))?;
            if put(&self.rule_errors, &k, &v, only_missing)? {
                written += 1;
            }
        }
        for t in &follow_ups.tasks {
            written += u64::from(self.put_task(t, only_missing)?);
        }
        for d in &follow_ups.deliveries {
            written += u64::from(self.put_delivery(d, only_missing)?);
        }
        Ok(written)
    }

    /// Survey ids with stored responses for a site.
    pub(super) fn surveys_of(&self, site: &str) -> Vec<String> {
        self.counts.surveys(site)
    }

    /// A time-ordered scan of the responses a query names (before the group and tag checks).
    pub(super) fn scan_responses(&self, q: &ResponseQuery) -> Merge {
        let surveys = match &q.survey {
            Some(s) => vec![s.clone()],
            None => self.surveys_of(&q.site),
        };
        let mut scans: Vec<(usize, Scan)> = Vec::new();
        for survey in surveys {
            if let Some(g) = &q.group {
                if !self.counts.has_group(&q.site, &survey, g) {
                    continue;
                }
            }
            // With a tag filter only the days the report counts say have the tag are read.
            let days = q
                .tag
                .as_ref()
                .map(|t| self.counts.days_with_tag(&q.site, &survey, t));
            let prefix = keys::survey_prefix(&q.site, &survey).len();
            for (from, until) in spans(q, days) {
                let scan = self.survey_scan(&q.site, &survey, from, until, q.after);
                scans.push((prefix, scan));
            }
        }
        Merge::new(scans)
    }

    fn survey_scan(
        &self,
        site: &str,
        survey: &str,
        since_ms: Option<u64>,
        until_ms: Option<u64>,
        after: Option<Uuid>,
    ) -> Scan {
        let prefix = keys::survey_prefix(site, survey);
        let mut lower = match since_ms {
            Some(ms) => Bound::Included(keys::response_key_at(site, survey, ms)),
            None => Bound::Included(prefix.clone()),
        };
        if let Some(after) = after {
            let after_key = keys::response_key(site, survey, after);
            let later = match &lower {
                Bound::Included(k) => after_key >= *k,
                _ => true,
            };
            if later {
                lower = Bound::Excluded(after_key);
            }
        }
        let upper = match until_ms {
            Some(ms) => Bound::Excluded(keys::response_key_at(site, survey, ms)),
            None => Bound::Excluded(keys::prefix_end(&prefix)),
        };
        Box::new(self.responses.range::<Vec<u8>, _>((lower, upper)))
    }

    fn list_responses(&self, q: &ResponseQuery) -> Result<Page<StoredResponse>, StoreError> {
        let mut items = Vec::with_capacity(q.limit.min(1000) + 1);
        for kv in self.scan_responses(q) {
            let (_, v) = kv?;
            let r: StoredResponse = decode(&v)?;
            if q.group.as_ref().is_some_and(|g| &r.group != g) {
                continue;
            }
            if q.tag.as_ref().is_some_and(|t| !r.has_tag(t)) {
                continue;
            }
            items.push(r);
            if items.len() > q.limit {
                break;
            }
        }
        Ok(Page::of(items, q.limit, |r| r.id))
    }

    fn update_tags(&self, u: &TagUpdate) -> Result<bool, StoreError> {
        let key = keys::response_key(&u.site, &u.survey, u.id);
        loop {
            let Some(old) = self.responses.get(&key)? else {
                return Ok(false);
            };
            let before: StoredResponse = decode(&old)?;
            if before.tags == u.tags && before.rule_errors == u.rule_errors {
                return Ok(false);
            }
            let _counting = self.aggregates.mark(Mark::responses(&before))?;
            let mut after = before.clone();
            after.tags = u.tags.clone();
            after.rule_errors = u.rule_errors.clone();
            let swapped =
                self.responses
                    .compare_and_swap(&key, Some(old), Some(encode(&after)?))?;
            if swapped.is_err() {
                continue;
            }
            let index_key = keys::entity_key(&u.site, u.id);
            if after.rule_errors.is_empty() {
                self.rule_errors.remove(index_key)?;
            } else {
                self.rule_errors
                    .insert(index_key, encode(&RuleErrorEntry::of(&after))?)?;
            }
            self.counts.retagged(&before, &after);
            return Ok(true);
        }
    }
}

impl Db {
    /// Appends the follow-ups a response lacks by compare-and-swap of its record (a racing
    /// writer makes it read the record again and decide again), then writes the tasks and
    /// deliveries of every follow-up a catch-up added that are not stored yet: a crash between
    /// the record and them is repaired when the resumed run comes to the response again.
    fn add_follow_ups(
        &self,
        site: &str,
        survey: &str,
        id: Uuid,
        candidates: &[FollowUp],
    ) -> Result<Vec<FollowUp>, StoreError> {
        let key = keys::response_key(site, survey, id);
        let (r, added) = loop {
            let Some(old) = self.responses.get(&key)? else {
                return Ok(Vec::new());
            };
            let mut r: StoredResponse = decode(&old)?;
            let added: Vec<FollowUp> = missing_actions(&r.follow_ups, candidates)
                .into_iter()
                .cloned()
                .collect();
            if added.is_empty() {
                break (r, added);
            }
            r.follow_ups.extend(added.iter().cloned());
            let swapped = self
                .responses
                .compare_and_swap(&key, Some(old), Some(encode(&r)?))?;
            if swapped.is_ok() {
                break (r, added);
            }
        };
        let caught_up: Vec<FollowUp> = r
            .follow_ups
            .iter()
            .filter(|f| f.added_at.is_some())
            .cloned()
            .collect();
        let records = records_of(&r, &caught_up);
        for t in &records.tasks {
            self.put_task(t, true)?;
        }
        for d in &records.deliveries {
            self.put_delivery(d, true)?;
        }
        Ok(added)
    }
}

/// The time spans of a query to read, per survey: the whole query window, or with `days`
/// (the days that have a tag) only the runs of those days inside it.
fn spans(q: &ResponseQuery, days: Option<Vec<u64>>) -> Vec<(Option<u64>, Option<u64>)> {
    let Some(days) = days else {
        return vec![(q.since_ms, q.until_ms)];
    };
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for d in days {
        match runs.last_mut() {
            Some((_, end)) if *end == d => *end = d + 1,
            _ => runs.push((d, d + 1)),
        }
    }
    runs.into_iter()
        .filter_map(|(from, until)| {
            let lo = (from * DAY_MS).max(q.since_ms.unwrap_or(0));
            let hi = (until * DAY_MS).min(q.until_ms.unwrap_or(u64::MAX));
            (lo < hi).then_some((Some(lo), Some(hi)))
        })
        .collect()
}

/// Inserts `value`, or with `only_missing` only when the key is absent; true when written.
pub(super) fn put(
    tree: &sled::Tree,
    key: &[u8],
    value: &[u8],
    only_missing: bool,
) -> Result<bool, StoreError> {
    if only_missing {
        Ok(tree
            .compare_and_swap(key, None as Option<&[u8]>, Some(value))?
            .is_ok())
    } else {
        tree.insert(key, value)?;
        Ok(true)
    }
}

#[async_trait]
impl ResponseStore for SledStore {
    async fn insert_response(&self, new: NewResponse) -> Result<Inserted, StoreError> {
        self.write(move |db| db.insert_response(new)).await
    }

    async fn response(&self, site: &str, id: Uuid) -> Result<Option<StoredResponse>, StoreError> {
        let site = site.to_string();
        self.read(move |db| {
            for survey in db.surveys_of(&site) {
                let key = keys::response_key(&site, &survey, id);
                if let Some(r) = db.get(&db.responses, &key)? {
                    return Ok(Some(r));
                }
            }
            Ok(None)
        })
        .await
    }

    async fn list_responses(
        &self,
        query: &ResponseQuery,
    ) -> Result<Page<StoredResponse>, StoreError> {
        let q = query.clone();
        self.read(move |db| db.list_responses(&q)).await
    }

    async fn count_responses(&self, site: &str) -> Result<u64, StoreError> {
        Ok(self.db.counts.respondents(site))
    }

    async fn update_tags(&self, update: &TagUpdate) -> Result<bool, StoreError> {
        let u = update.clone();
        self.write(move |db| db.update_tags(&u)).await
    }

    async fn add_follow_ups(
        &self,
        site: &str,
        survey: &str,
        id: Uuid,
        candidates: &[FollowUp],
    ) -> Result<Vec<FollowUp>, StoreError> {
        let (site, survey, candidates) =
            (site.to_string(), survey.to_string(), candidates.to_vec());
        self.write(move |db| db.add_follow_ups(&site, &survey, id, &candidates))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_days_become_runs_inside_the_window() {
        let q = ResponseQuery {
            since_ms: Some(DAY_MS + 5),
            until_ms: Some(5 * DAY_MS),
            ..Default::default()
        };
        assert_eq!(
            spans(&q, Some(vec![1, 2, 4, 9])),
            vec![
                (Some(DAY_MS + 5), Some(3 * DAY_MS)),
                (Some(4 * DAY_MS), Some(5 * DAY_MS))
            ]
        );
        assert_eq!(spans(&q, None), vec![(q.since_ms, q.until_ms)]);
    }
}
