//! Tasks and the webhook outbox in sled.
//!
//! Trees: `tasks` (`site 0 id`), `outbox` (`site 0 id`) and the index `outbox_pending`
//! (`next_attempt_ms BE ‖ site 0 id`), so the worker reads due entries in time order and a
//! delivered or dead-lettered entry leaves the index in the same transaction.

use super::keys;
use super::sled::{backend, SledStore};
use super::{RuleErrorEntry, StoreError};
use crate::followups::{Delivery, DeliveryStatus, FollowUpRecords, Task};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use uuid::Uuid;

pub(super) const TREE_TASKS: &str = "tasks";
pub(super) const TREE_OUTBOX: &str = "outbox";
pub(super) const TREE_OUTBOX_PENDING: &str = "outbox_pending";

fn entity_key(site: &str, id: Uuid) -> Vec<u8> {
    let mut k = keys::site_prefix(site);
    k.extend_from_slice(id.as_bytes());
    k
}

fn pending_key(next_ms: i64, site: &str, id: Uuid) -> Vec<u8> {
    let mut k = (next_ms.max(0) as u64).to_be_bytes().to_vec();
    k.extend_from_slice(&entity_key(site, id));
    k
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Backend(format!("cannot encode: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => backend(e),
    }
}

/// Encoded follow-up records, ready to be written inside a transaction.
pub(super) struct EncodedFollowUps {
    tasks: Vec<(Vec<u8>, Vec<u8>)>,
    outbox: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

impl EncodedFollowUps {
    pub fn new(records: &FollowUpRecords) -> Result<Self, StoreError> {
        let tasks = records
            .tasks
            .iter()
            .map(|t| Ok((entity_key(&t.site, t.id), to_json(t)?)))
            .collect::<Result<_, StoreError>>()?;
        let outbox = records
            .deliveries
            .iter()
            .map(|d| {
                Ok((
                    entity_key(&d.site, d.id),
                    to_json(d)?,
                    pending_key(d.next_attempt_ms, &d.site, d.id),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(EncodedFollowUps { tasks, outbox })
    }

    pub fn write(
        &self,
        tasks: &TransactionalTree,
        outbox: &TransactionalTree,
        pending: &TransactionalTree,
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        for (k, v) in &self.tasks {
            tasks.insert(k.as_slice(), v.as_slice())?;
        }
        for (k, v, p) in &self.outbox {
            outbox.insert(k.as_slice(), v.as_slice())?;
            pending.insert(p.as_slice(), k.as_slice())?;
        }
        Ok(())
    }
}

impl SledStore {
    pub(super) fn tasks_of(&self, site: &str) -> Result<Vec<Task>, StoreError> {
        self.tasks
            .scan_prefix(keys::site_prefix(site))
            .values()
            .map(|v| from_json(&v.map_err(backend)?))
            .collect()
    }

    pub(super) fn change_task(
        &self,
        site: &str,
        id: Uuid,
        change: &mut dyn FnMut(&mut Task) -> Result<(), String>,
    ) -> Result<Option<Task>, StoreError> {
        let key = entity_key(site, id);
        // Compare-and-swap loop: two staff members racing on one task cannot both win.
        loop {
            let Some(old) = self.tasks.get(&key).map_err(backend)? else {
                return Ok(None);
            };
            let mut task: Task = from_json(&old)?;
            change(&mut task).map_err(StoreError::Conflict)?;
            let new = to_json(&task)?;
            if self
                .tasks
                .compare_and_swap(&key, Some(old), Some(new))
                .map_err(backend)?
                .is_ok()
            {
                return Ok(Some(task));
            }
        }
    }

    pub(super) fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let end = ((now_ms.max(0) as u64) + 1).to_be_bytes();
        let mut due = Vec::new();
        for kv in self.outbox_pending.range(..end.to_vec()).take(limit) {
            let (_, outbox_key) = kv.map_err(backend)?;
            if let Some(v) = self.outbox.get(&outbox_key).map_err(backend)? {
                due.push(from_json(&v)?);
            }
        }
        Ok(due)
    }

    pub(super) fn save_delivery(
        &self,
        previous_next_ms: i64,
        d: &Delivery,
    ) -> Result<(), StoreError> {
        let key = entity_key(&d.site, d.id);
        let value = to_json(d)?;
        let old_slot = pending_key(previous_next_ms, &d.site, d.id);
        let new_slot = (d.status == DeliveryStatus::Pending)
            .then(|| pending_key(d.next_attempt_ms, &d.site, d.id));
        (&self.outbox, &self.outbox_pending)
            .transaction(|(outbox, pending)| {
                pending.remove(old_slot.as_slice())?;
                if let Some(slot) = &new_slot {
                    pending.insert(slot.as_slice(), key.as_slice())?;
                }
                outbox.insert(key.as_slice(), value.as_slice())?;
                Ok(())
            })
            .map_err(tx_error)
    }

    pub(super) fn delivery(&self, site: &str, id: Uuid) -> Result<Option<Delivery>, StoreError> {
        self.outbox
            .get(entity_key(site, id))
            .map_err(backend)?
            .map(|v| from_json(&v))
            .transpose()
    }

    pub(super) fn deliveries_of(
        &self,
        site: &str,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut list = Vec::new();
        for v in self.outbox.scan_prefix(keys::site_prefix(site)).values() {
            let d: Delivery = from_json(&v.map_err(backend)?)?;
            if status.is_none_or(|s| s == d.status) {
                list.push(d);
            }
        }
        Ok(list)
    }
}

impl SledStore {
    /// A review run's rule errors (keyed like a response's, by the run's id) and follow-ups in
    /// one transaction.
    pub(super) fn write_review(
        &self,
        site: &str,
        errors: Option<&RuleErrorEntry>,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError> {
        let entry = errors
            .map(|e| Ok((keys::rule_error_key(site, e.response_id), to_json(e)?)))
            .transpose()?;
        let encoded = EncodedFollowUps::new(follow_ups)?;
        (
            &self.rule_errors,
            &self.tasks,
            &self.outbox,
            &self.outbox_pending,
        )
            .transaction(|(index, tasks, outbox, pending)| {
                if let Some((k, v)) = &entry {
                    index.insert(k.as_slice(), v.as_slice())?;
                }
                encoded.write(tasks, outbox, pending)
            })
            .map_err(tx_error)
    }
}

pub(super) use sled::Transactional;
pub(super) fn transaction_error(e: TransactionError<StoreError>) -> StoreError {
    tx_error(e)
}
