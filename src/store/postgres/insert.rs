//! Writing responses: one transaction for a whole batch of requests (the group commit in
//! `batch`), with each request's outcome decided as if it were alone.
//!
//! In order: the idempotency keys (`INSERT ... ON CONFLICT DO NOTHING RETURNING`: a key
//! another transaction holds makes this one wait for it, so the first wins even between
//! nodes); the losers are replays (same survey and fingerprint) or `KeyReused`; then the
//! invitation uses (`UPDATE ... WHERE NOT used AND expires_at_ms > now`), whose losers give
//! back the key they took; then every response, task, delivery, rule-error entry and the
//! report counts in pipelined multi-row statements; then COMMIT.

use super::counts::CountDelta;
use super::rows::{self, DeliveryColumns, Put, TaskColumns};
use super::Failure;
use crate::domain::{Invitation, RuleErrorEntry, StoredResponse};
use crate::store::{Inserted, NewResponse, StoreError};
use deadpool_postgres::{GenericClient, Object, Transaction};
use futures_util::future::try_join_all;
use std::collections::{HashMap, HashSet};
use tokio_postgres::types::{Json, ToSql};
use uuid::Uuid;

/// What is decided for one request before the writes.
enum Fate {
    New,
    Done(Inserted),
    /// The same request as another one of this batch, which stores it.
    ReplayOf(usize),
}

/// A batch whose requests depend on each other in a way only running them one by one
/// decides (a replay of a request whose invitation failed).
fn entangled() -> Failure {
    Failure::Store(StoreError::Backend(
        "requests of one batch depend on each other".into(),
    ))
}

pub(super) async fn write(
    client: &mut Object,
    items: &[NewResponse],
    slot: i16,
) -> Result<Vec<Inserted>, Failure> {
    let tx = client.transaction().await?;
    let mut fates: Vec<Fate> = items.iter().map(|_| Fate::New).collect();
    bind_keys(&tx, items, &mut fates).await?;
    use_invitations(&tx, items, &mut fates).await?;
    for i in 0..fates.len() {
        if let Fate::ReplayOf(j) = fates[i] {
            if !matches!(fates[j], Fate::New) {
                return Err(entangled());
            }
        }
    }
    let new: Vec<&NewResponse> = items
        .iter()
        .zip(&fates)
        .filter(|(_, f)| matches!(f, Fate::New))
        .map(|(n, _)| n)
        .collect();
    put_all(&tx, &new, slot).await?;
    tx.commit().await?;
    Ok(items
        .iter()
        .zip(fates.iter())
        .map(|(n, f)| match f {
            Fate::New => Inserted::New(Box::new(n.response.clone())),
            Fate::Done(outcome) => outcome.clone(),
            Fate::ReplayOf(j) => Inserted::Replayed(Box::new(items[*j].response.clone())),
        })
        .collect())
}

/// Binds every key of the batch that is free; decides the others.
async fn bind_keys(
    tx: &Transaction<'_>,
    items: &[NewResponse],
    fates: &mut [Fate],
) -> Result<(), Failure> {
    let mut keyed: Vec<(usize, &str, Uuid)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            n.idempotency
                .as_ref()
                .map(|k| (i, n.response.site.as_str(), k.key))
        })
        .collect();
    if keyed.is_empty() {
        return Ok(());
    }
    // Key order: two transactions wait on each other's keys in one order, never in a cycle.
    keyed.sort_by(|a, b| (a.1, a.2).cmp(&(b.1, b.2)));
    let site: Vec<&str> = keyed.iter().map(|k| k.1).collect();
    let key: Vec<Uuid> = keyed.iter().map(|k| k.2).collect();
    let survey: Vec<&str> = keyed
        .iter()
        .map(|k| items[k.0].response.survey.as_str())
        .collect();
    let fingerprint: Vec<&str> = keyed
        .iter()
        .map(|k| {
            items[k.0]
                .idempotency
                .as_ref()
                .map_or("", |i| i.fingerprint.as_str())
        })
        .collect();
    let response_id: Vec<Uuid> = keyed.iter().map(|k| items[k.0].response.id).collect();
    let st = tx
        .prepare_cached(
            "INSERT INTO idempotency_keys (site, key, survey, fingerprint, response_id)
             SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::uuid[])
             ON CONFLICT DO NOTHING RETURNING response_id",
        )
        .await?;
    let won: HashSet<Uuid> = tx
        .query(&st, &[&site, &key, &survey, &fingerprint, &response_id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let losers: Vec<usize> = keyed
        .iter()
        .map(|k| k.0)
        .filter(|i| !won.contains(&items[*i].response.id))
        .collect();
    if losers.is_empty() {
        return Ok(());
    }
    let lsite: Vec<&str> = losers
        .iter()
        .map(|i| items[*i].response.site.as_str())
        .collect();
    let lkey: Vec<Uuid> = losers
        .iter()
        .filter_map(|i| items[*i].idempotency.as_ref().map(|k| k.key))
        .collect();
    let st = tx
        .prepare_cached(
            "SELECT k.site, k.key, k.survey, k.fingerprint, k.response_id, r.record
             FROM unnest($1::text[], $2::uuid[]) AS u(site, key)
             JOIN idempotency_keys k ON k.site = u.site AND k.key = u.key
             LEFT JOIN responses r ON r.site = k.site AND r.id = k.response_id",
        )
        .await?;
    let mut bound = HashMap::new();
    for row in tx.query(&st, &[&lsite, &lkey]).await? {
        let first: Option<serde_json::Value> = row.get("record");
        let first: Option<StoredResponse> = first
            .map(serde_json::from_value)
            .transpose()
            .map_err(StoreError::corrupt)?;
        let entry = (
            row.get::<_, String>("survey"),
            row.get::<_, String>("fingerprint"),
            row.get::<_, Uuid>("response_id"),
            first,
        );
        bound.insert(
            (row.get::<_, String>("site"), row.get::<_, Uuid>("key")),
            entry,
        );
    }
    let in_batch: HashMap<Uuid, usize> = items
        .iter()
        .enumerate()
        .map(|(i, n)| (n.response.id, i))
        .collect();
    for i in losers {
        let n = &items[i];
        let Some(k) = &n.idempotency else { continue };
        let Some((survey, fingerprint, first_id, first)) =
            bound.get(&(n.response.site.clone(), k.key))
        else {
            // Held by a transaction that rolled back after we looked: decide it alone.
            return Err(entangled());
        };
        let same = *survey == n.response.survey
            && (fingerprint.is_empty() || *fingerprint == k.fingerprint);
        fates[i] = if !same {
            Fate::Done(Inserted::KeyReused)
        } else if let Some(j) = in_batch.get(first_id).filter(|j| **j != i) {
            Fate::ReplayOf(*j)
        } else if let Some(first) = first {
            Fate::Done(Inserted::Replayed(Box::new(first.clone())))
        } else {
            // A key whose response is gone (restored from a partial backup): this one takes it.
            take_over(tx, n, *first_id).await?;
            Fate::New
        };
    }
    Ok(())
}

async fn take_over(tx: &Transaction<'_>, n: &NewResponse, old: Uuid) -> Result<(), Failure> {
    let Some(k) = &n.idempotency else {
        return Ok(());
    };
    let st = tx
        .prepare_cached(
            "UPDATE idempotency_keys SET survey = $3, fingerprint = $4, response_id = $5
             WHERE site = $1 AND key = $2 AND response_id = $6",
        )
        .await?;
    let r = &n.response;
    let changed = tx
        .execute(
            &st,
            &[&r.site, &k.key, &r.survey, &k.fingerprint, &r.id, &old],
        )
        .await?;
    if changed == 1 {
        Ok(())
    } else {
        Err(entangled())
    }
}

/// Uses the invitation of every request still to be stored; a link that does not admit it
/// decides it, and the key it bound is given back.
async fn use_invitations(
    tx: &Transaction<'_>,
    items: &[NewResponse],
    fates: &mut [Fate],
) -> Result<(), Failure> {
    let mut invited: Vec<usize> = (0..items.len())
        .filter(|i| matches!(fates[*i], Fate::New) && items[*i].invitation.is_some())
        .collect();
    if invited.is_empty() {
        return Ok(());
    }
    invited.sort_by_key(|i| {
        items[*i]
            .invitation
            .as_ref()
            .map(|u| u.token_sha256.clone())
    });
    let st = tx
        .prepare_cached(
            "UPDATE invitations SET used = true
             WHERE token_sha256 = $1 AND site = $2 AND survey = $3 AND NOT used AND expires_at_ms > $4",
        )
        .await?;
    let st = &st;
    let mut updates = Vec::new();
    for i in &invited {
        let (r, u) = (&items[*i].response, items[*i].invitation.as_ref());
        let Some(u) = u else { continue };
        let params: [&(dyn ToSql + Sync); 4] = [&u.token_sha256, &r.site, &r.survey, &u.now_ms];
        updates.push(async move { tx.execute(st, &params).await });
    }
    let used = try_join_all(updates).await?;
    let look = tx
        .prepare_cached(
            "SELECT site, survey, expires_at, expires_at_ms, used FROM invitations WHERE token_sha256 = $1",
        )
        .await?;
    let give_back = tx
        .prepare_cached(
            "DELETE FROM idempotency_keys WHERE site = $1 AND key = $2 AND response_id = $3",
        )
        .await?;
    for (i, n) in invited.into_iter().zip(used) {
        if n == 1 {
            continue;
        }
        let (r, Some(u)) = (&items[i].response, items[i].invitation.as_ref()) else {
            continue;
        };
        let stored = tx
            .query_opt(&look, &[&u.token_sha256])
            .await?
            .map(|row| Invitation {
                site: row.get("site"),
                survey: row.get("survey"),
                expires_at: row.get("expires_at"),
                expires_at_ms: row.get("expires_at_ms"),
                used: row.get("used"),
            });
        let problem =
            crate::domain::invitation::check(stored.as_ref(), &r.site, &r.survey, u.now_ms)
                .err()
                .unwrap_or(crate::domain::InvitationProblem::Used);
        if let Some(k) = &items[i].idempotency {
            tx.execute(&give_back, &[&r.site, &k.key, &r.id]).await?;
        }
        fates[i] = Fate::Done(Inserted::Invitation(problem));
    }
    Ok(())
}

/// The records of stored responses and everything derived from them, pipelined.
async fn put_all(tx: &Transaction<'_>, new: &[&NewResponse], slot: i16) -> Result<(), Failure> {
    if new.is_empty() {
        return Ok(());
    }
    let site: Vec<&str> = new.iter().map(|n| n.response.site.as_str()).collect();
    let id: Vec<Uuid> = new.iter().map(|n| n.response.id).collect();
    let survey: Vec<&str> = new.iter().map(|n| n.response.survey.as_str()).collect();
    let grp: Vec<&str> = new.iter().map(|n| n.response.group.as_str()).collect();
    let record: Vec<Json<&StoredResponse>> = new.iter().map(|n| Json(&n.response)).collect();
    let responses = tx
        .prepare_cached(
            "INSERT INTO responses (site, id, survey, grp, record)
             SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[])",
        )
        .await?;
    let mut counts = CountDelta::in_slot(slot);
    for n in new {
        counts.response(&n.response, 1);
    }
    let tasks = TaskColumns::of(new.iter().flat_map(|n| n.follow_ups.tasks.iter()));
    let deliveries = DeliveryColumns::of(new.iter().flat_map(|n| n.follow_ups.deliveries.iter()));
    let entries: Vec<RuleErrorEntry> = new
        .iter()
        .filter(|n| !n.response.rule_errors.is_empty())
        .map(|n| RuleErrorEntry::of(&n.response))
        .collect();
    let entry_site: Vec<&str> = new
        .iter()
        .filter(|n| !n.response.rule_errors.is_empty())
        .map(|n| n.response.site.as_str())
        .collect();
    let params: [&(dyn ToSql + Sync); 5] = [&site, &id, &survey, &grp, &record];
    let (resp, derived, count) = tokio::join!(
        tx.execute(&responses, &params),
        put_derived(tx, &tasks, &deliveries, &entry_site, &entries, Put::Missing),
        counts.apply(tx),
    );
    resp?;
    derived?;
    count?;
    Ok(())
}

/// Tasks, deliveries and rule-error entries, pipelined (what a review run writes too).
pub(super) async fn put_derived(
    c: &impl GenericClient,
    tasks: &TaskColumns<'_>,
    deliveries: &DeliveryColumns<'_>,
    entry_site: &[&str],
    entries: &[RuleErrorEntry],
    put: Put,
) -> Result<(), tokio_postgres::Error> {
    let put_tasks = async {
        if tasks.is_empty() {
            return Ok(0);
        }
        let st = c.prepare_cached(&rows::insert_tasks(put)).await?;
        let t = tasks;
        c.execute(
            &st,
            &[
                &t.site,
                &t.id,
                &t.status,
                &t.queue,
                &t.origin,
                &t.due_sort,
                &t.record,
                &t.history,
                &t.survey,
                &t.on_time,
                &t.outcome,
                &t.tenths,
                &t.day,
            ],
        )
        .await
    };
    let put_deliveries = async {
        if deliveries.is_empty() {
            return Ok(0);
        }
        let st = c.prepare_cached(&rows::insert_deliveries(put)).await?;
        let d = deliveries;
        c.execute(
            &st,
            &[
                &d.site,
                &d.id,
                &d.webhook,
                &d.origin,
                &d.response_id,
                &d.survey,
                &d.follow_up_id,
                &d.body,
                &d.status,
                &d.attempts,
                &d.created_at_ms,
                &d.next_attempt_ms,
                &d.last_error,
                &d.last_status,
                &d.delivered_at_ms,
            ],
        )
        .await
    };
    let put_entries = async {
        if entries.is_empty() {
            return Ok(0);
        }
        let st = c.prepare_cached(&rows::insert_rule_errors(put)).await?;
        let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
        let records: Vec<Json<&RuleErrorEntry>> = entries.iter().map(Json).collect();
        c.execute(&st, &[&entry_site, &ids, &records]).await
    };
    let (a, b, e) = tokio::join!(put_tasks, put_deliveries, put_entries);
    a?;
    b?;
    e?;
    Ok(())
}
