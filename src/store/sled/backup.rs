//! The sled side of `chorus backup` and `chorus restore`: every record out in the order of the
//! backup format (docs/backup-format.md), and records of a backup in, with their indexes and
//! the records derived from each response that the backup lacks.

use super::aggregates::Mark;
use super::jobs::{retag_key, review_key};
use super::keys;
use super::{each, encode, Db};
use crate::domain::{records_for, RetagProgress, ReviewState, StoredResponse};
use crate::store::{BackupRecord, IdempotencyRecord, StoreError};
use std::collections::HashSet;
use tokio::sync::mpsc::Sender;

fn send(tx: &Sender<BackupRecord>, record: BackupRecord) -> Result<(), StoreError> {
    tx.blocking_send(record)
        .map_err(|_| StoreError::Backend("the backup writer stopped".into()))
}

impl Db {
    /// Responses come after every record derived from them and idempotency keys after the
    /// responses: a backup taken while serving then holds the response of every task,
    /// delivery, rule-error entry and key it holds (each is written after its response, or,
    /// for a key, only when its response was exported). A response whose derived records came
    /// too late for the backup gets them back on restore (`import`).
    pub(super) fn export(&self, tx: &Sender<BackupRecord>) -> Result<(), StoreError> {
        each(&self.users, |_, u| send(tx, BackupRecord::User(u)))?;
        each(&self.sessions, |_, s| send(tx, BackupRecord::Session(s)))?;
        each(&self.invitations, |k, invitation| {
            let token_sha256 = String::from_utf8_lossy(&k).into_owned();
            send(
                tx,
                BackupRecord::Invitation {
                    token_sha256,
                    invitation,
                },
            )
        })?;
        each(&self.tasks, |_, t| send(tx, BackupRecord::Task(t)))?;
        each(&self.outbox, |_, d| send(tx, BackupRecord::Delivery(d)))?;
        each(&self.rule_errors, |k, entry| {
            let site = keys::segment_of(&k, 0).unwrap_or_default();
            let site = String::from_utf8_lossy(site).into_owned();
            send(tx, BackupRecord::RuleError { site, entry })
        })?;
        for (site, progress) in self.jobs_of::<RetagProgress>("retag")? {
            send(tx, BackupRecord::Retag { site, progress })?;
        }
        for (site, state) in self.jobs_of::<ReviewState>("review")? {
            send(tx, BackupRecord::Review { site, state })?;
        }
        each(&self.kiosks, |_, k| send(tx, BackupRecord::Kiosk(k)))?;
        each(&self.rule_versions, |_, v| {
            send(tx, BackupRecord::RuleVersion(v))
        })?;
        let mut exported = HashSet::new();
        each(&self.responses, |_, r: StoredResponse| {
            exported.insert(r.id);
            send(tx, BackupRecord::Response(r))
        })?;
        for kv in self.idempotency.iter() {
            let (k, _) = kv?;
            let Some(site) = keys::segment_of(&k, 0) else {
                continue;
            };
            let site = String::from_utf8_lossy(site).into_owned();
            if let Some((record, _)) = self.bound_response(&site, &k)? {
                if exported.contains(&record.response_id) {
                    send(tx, BackupRecord::IdempotencyKey(record))?;
                }
            }
        }
        // Appends only add at the end, so this is the chain up to some entry, whole.
        each(&self.audit, |_, e| send(tx, BackupRecord::Audit(e)))?;
        Ok(())
    }

    pub(super) fn import(&self, records: &[BackupRecord]) -> Result<(), StoreError> {
        for record in records {
            match record {
                BackupRecord::User(u) => {
                    self.users.insert(u.name.as_bytes(), encode(u)?)?;
                    self.tokens
                        .insert(u.token_sha256.as_bytes(), u.name.as_bytes())?;
                }
                BackupRecord::Session(s) => {
                    self.sessions.insert(s.id_sha256.as_bytes(), encode(s)?)?;
                }
                BackupRecord::Invitation {
                    token_sha256,
                    invitation,
                } => {
                    self.invitations
                        .insert(token_sha256.as_bytes(), encode(invitation)?)?;
                }
                BackupRecord::Response(r) => {
                    let _counting = self.aggregates.mark(Mark::responses(r))?;
                    self.responses
                        .insert(keys::response_key(&r.site, &r.survey, r.id), encode(r)?)?;
                    self.counts.record(r);
                    // What a backup taken while serving may lack (the response arrived after
                    // the scan of its tasks); existing records are left as they are, and a
                    // record later in the file replaces the one derived here.
                    self.put_derived(r, &records_for(r), true)?;
                }
                BackupRecord::IdempotencyKey(k) => {
                    let record: &IdempotencyRecord = k;
                    self.idempotency
                        .insert(keys::entity_key(&k.site, k.key), encode(record)?)?;
                }
                BackupRecord::Task(t) => {
                    self.put_task(t, false)?;
                }
                BackupRecord::Delivery(d) => {
                    // A lease belongs to a process of the store the backup was taken from.
                    let mut d = d.clone();
                    d.lease = None;
                    self.put_delivery(&d, false)?;
                }
                BackupRecord::RuleError { site, entry } => self.put_rule_error(site, entry)?,
                BackupRecord::Retag { site, progress } => {
                    self.put_job(&retag_key(site), progress)?
                }
                BackupRecord::Review { site, state } => self.put_job(&review_key(site), state)?,
                BackupRecord::Kiosk(k) => self.put_kiosk(k)?,
                BackupRecord::RuleVersion(v) => self.put_rule_version(v)?,
                BackupRecord::Audit(entry) => self.put_audit(entry)?,
            }
        }
        self.flush()
    }
}
