//! Tasks and the webhook outbox in sled.
//!
//! Trees: `tasks` (`site 0 id`), `outbox` (`site 0 id`) and the index `outbox_pending`
//! (`next_attempt_ms BE ‖ site 0 id`), so the worker reads due entries in time order and a
//! delivered or dead-lettered entry leaves the index in the same transaction.
//!
//! Tasks and outbox entries are derived from the follow-ups inside the response record (the
//! source of truth), written right after it; see `SledStore::write_response`.

use super::keys;
use super::sled::{backend, SledStore};
use super::{RuleErrorEntry, StoreError};
use crate::domain::{Delivery, DeliveryStatus, FollowUpRecords, Task};
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

/// Encoded follow-up records, ready to be written after their response.
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

    /// Plain inserts into the task, outbox and pending trees. With `only_missing`, records that
    /// exist are left as they are (a repair must not reset a task someone already claimed).
    /// Returns how many records were written.
    pub fn insert(&self, store: &SledStore, only_missing: bool) -> Result<usize, StoreError> {
        let mut written = 0;
        for (k, v) in &self.tasks {
            if put(&store.tasks, k, v, only_missing)? {
                written += 1;
            }
        }
        for (k, v, p) in &self.outbox {
            if put(&store.outbox, k, v, only_missing)? {
                store
                    .outbox_pending
                    .insert(p.as_slice(), k.as_slice())
                    .map_err(backend)?;
                written += 1;
            }
        }
        Ok(written)
    }
}

/// Inserts `value`, or with `only_missing` only when the key is absent; true when written.
pub(super) fn put(
    tree: &sled::Tree,
    key: &[u8],
    value: &[u8],
    only_missing: bool,
) -> Result<bool, StoreError> {
    if only_missing {
        let swapped = tree
            .compare_and_swap(key, None as Option<&[u8]>, Some(value))
            .map_err(backend)?;
        Ok(swapped.is_ok())
    } else {
        tree.insert(key, value).map_err(backend)?;
        Ok(true)
    }
}

impl SledStore {
    pub(super) fn tasks_of(
        &self,
        site: &str,
        keep: &dyn Fn(&Task) -> bool,
    ) -> Result<Vec<Task>, StoreError> {
        let mut tasks = Vec::new();
        for v in self.tasks.scan_prefix(keys::site_prefix(site)).values() {
            let task: Task = from_json(&v.map_err(backend)?)?;
            if keep(&task) {
                tasks.push(task);
            }
        }
        Ok(tasks)
    }

    pub(super) fn task(&self, site: &str, id: Uuid) -> Result<Option<Task>, StoreError> {
        self.tasks
            .get(entity_key(site, id))
            .map_err(backend)?
            .map(|v| from_json(&v))
            .transpose()
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
        for kv in self.outbox_pending.range(..end.to_vec()) {
            if due.len() == limit {
                break;
            }
            let (slot, outbox_key) = kv.map_err(backend)?;
            let entry: Option<Delivery> = match self.outbox.get(&outbox_key).map_err(backend)? {
                Some(v) => Some(from_json(&v)?),
                None => None,
            };
            match entry {
                Some(d)
                    if d.status == DeliveryStatus::Pending
                        && *slot == *pending_key(d.next_attempt_ms, &d.site, d.id) =>
                {
                    due.push(d)
                }
                // A slot left behind by a crash between the writes of `save_delivery`.
                _ => {
                    self.outbox_pending.remove(&slot).map_err(backend)?;
                }
            }
        }
        Ok(due)
    }

    /// The outbox entry is the truth and the pending slot an index of it, so plain inserts in
    /// this order suffice (no transaction, which would serialize with the flusher): the entry,
    /// then its new slot, then removal of the old slot. A crash in between leaves at worst a
    /// stale slot, which `due` drops, never a pending entry without a slot.
    pub(super) fn save_delivery(
        &self,
        previous_next_ms: i64,
        d: &Delivery,
    ) -> Result<(), StoreError> {
        let key = entity_key(&d.site, d.id);
        let old_slot = pending_key(previous_next_ms, &d.site, d.id);
        self.outbox
            .insert(key.as_slice(), to_json(d)?)
            .map_err(backend)?;
        let new_slot = (d.status == DeliveryStatus::Pending)
            .then(|| pending_key(d.next_attempt_ms, &d.site, d.id));
        if let Some(slot) = &new_slot {
            self.outbox_pending
                .insert(slot.as_slice(), key.as_slice())
                .map_err(backend)?;
        }
        if new_slot.as_ref() != Some(&old_slot) {
            self.outbox_pending.remove(old_slot).map_err(backend)?;
        }
        Ok(())
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
    /// A review run's rule errors (keyed like a response's, by the run's id), then its tasks and
    /// deliveries, as plain inserts like a response's derived records. A run has no record of its
    /// own to repair from: if the process dies in between, the next run (the first look after a
    /// start always runs) opens a missing task again.
    pub(super) fn write_review(
        &self,
        site: &str,
        errors: Option<&RuleErrorEntry>,
        follow_ups: &FollowUpRecords,
    ) -> Result<(), StoreError> {
        if let Some(e) = errors {
            self.rule_errors
                .insert(keys::rule_error_key(site, e.id), to_json(e)?)
                .map_err(backend)?;
        }
        EncodedFollowUps::new(follow_ups)?.insert(self, false)?;
        Ok(())
    }
}
