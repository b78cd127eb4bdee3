//! Webhook deliveries: the `outbox` tree holds each delivery, `delivery_index` one entry per
//! delivery under its status, and `outbox_pending` one slot per pending delivery at the time a
//! worker may take it (its next attempt, or the end of its lease). New slots and index entries
//! are written before the record changes and old ones removed after; readers drop entries
//! that no longer match their record.

use super::keys;
use super::responses::put;
use super::{decode, encode, Db, SledStore};
use crate::domain::{AttemptRecord, Delivery, DeliveryStatus, Lease};
use crate::store::{Claim, DeliveryQuery, DeliveryStore, Page, StoreError};
use async_trait::async_trait;
use std::ops::Bound;
use uuid::Uuid;

fn slot_of(d: &Delivery) -> Option<Vec<u8>> {
    (d.status == DeliveryStatus::Pending)
        .then(|| keys::pending_key(d.claimable_at_ms(), &d.site, d.id))
}

impl Db {
    /// The delivery record, then its index entry and slot; true when written.
    pub(super) fn put_delivery(
        &self,
        d: &Delivery,
        only_missing: bool,
    ) -> Result<bool, StoreError> {
        let key = keys::entity_key(&d.site, d.id);
        let written = put(&self.outbox, &key, &encode(d)?, only_missing)?;
        let current: Delivery = if written {
            d.clone()
        } else {
            match self.get(&self.outbox, &key)? {
                Some(c) => c,
                None => return Ok(false),
            }
        };
        self.delivery_index.insert(
            keys::delivery_index_key(&current.site, current.status, current.id),
            &[],
        )?;
        if let Some(slot) = slot_of(&current) {
            self.outbox_pending.insert(slot, key)?;
        }
        Ok(written)
    }

    /// Replaces a delivery by `change(current)` (None: leave it) with the ordering of the
    /// module comment; retried when another writer got there first.
    fn change_delivery(
        &self,
        site: &str,
        id: Uuid,
        change: &dyn Fn(&Delivery) -> Result<Option<Delivery>, StoreError>,
    ) -> Result<Option<Delivery>, StoreError> {
        let key = keys::entity_key(site, id);
        loop {
            let Some(old) = self.outbox.get(&key)? else {
                return Err(StoreError::NotFound);
            };
            let before: Delivery = decode(&old)?;
            let Some(after) = change(&before)? else {
                return Ok(None);
            };
            let (old_slot, new_slot) = (slot_of(&before), slot_of(&after));
            let old_entry = keys::delivery_index_key(site, before.status, id);
            let new_entry = keys::delivery_index_key(site, after.status, id);
            // Entries the change keeps are there already (a repair restores a lost one).
            if let Some(s) = new_slot.as_ref().filter(|s| old_slot.as_ref() != Some(*s)) {
                self.outbox_pending.insert(s.as_slice(), key.as_slice())?;
            }
            if new_entry != old_entry {
                self.delivery_index.insert(new_entry.as_slice(), &[])?;
            }
            if self
                .outbox
                .compare_and_swap(&key, Some(old), Some(encode(&after)?))?
                .is_ok()
            {
                if old_slot.is_some() && old_slot != new_slot {
                    self.outbox_pending.remove(old_slot.unwrap_or_default())?;
                }
                if old_entry != new_entry {
                    self.delivery_index.remove(old_entry)?;
                }
                return Ok(Some(after));
            }
        }
    }

    fn claim(&self, c: &Claim) -> Result<Vec<Delivery>, StoreError> {
        let end = ((c.now_ms.max(0) as u64) + 1).to_be_bytes().to_vec();
        let mut claimed = Vec::new();
        for kv in self.outbox_pending.range(..end) {
            if claimed.len() == c.limit {
                break;
            }
            let (slot, outbox_key) = kv?;
            let Some(current) = self.get::<Delivery>(&self.outbox, &outbox_key)? else {
                self.outbox_pending.remove(&slot)?;
                continue;
            };
            if slot_of(&current).as_deref() != Some(&slot[..]) {
                self.outbox_pending.remove(&slot)?;
                continue;
            }
            let lease = Lease {
                node: c.node.clone(),
                until_ms: c.lease_until_ms,
            };
            let taken = self.change_delivery(&current.site, current.id, &|d| {
                // Still the entry the slot was for, and still free (or its lease over).
                let due = d.status == DeliveryStatus::Pending && d.claimable_at_ms() <= c.now_ms;
                Ok(due.then(|| Delivery {
                    lease: Some(lease.clone()),
                    ..d.clone()
                }))
            });
            match taken {
                Ok(Some(d)) => claimed.push(d),
                Ok(None) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(claimed)
    }

    fn list_deliveries(&self, q: &DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
        let (prefix, tree) = match q.status {
            Some(s) => (
                keys::delivery_status_prefix(&q.site, s),
                &self.delivery_index,
            ),
            None => (keys::site_prefix(&q.site), &self.outbox),
        };
        let (mut lower, mut upper) = (
            Bound::Included(prefix.clone()),
            Bound::Excluded(keys::prefix_end(&prefix)),
        );
        if let Some(after) = q.after {
            let at = [prefix.as_slice(), after.as_bytes()].concat();
            if q.newest_first {
                upper = Bound::Excluded(at);
            } else {
                lower = Bound::Excluded(at);
            }
        }
        let range = tree.range::<Vec<u8>, _>((lower, upper));
        let keys: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            if q.newest_first {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
        let mut items = Vec::new();
        for kv in keys {
            let (k, v) = kv?;
            let d: Delivery = match q.status {
                None => decode(&v)?,
                Some(status) => {
                    let Some(id) = keys::id_of(&k) else { continue };
                    match self.get::<Delivery>(&self.outbox, &keys::entity_key(&q.site, id))? {
                        Some(d) if d.status == status => d,
                        _ => {
                            self.delivery_index.remove(&k)?;
                            continue;
                        }
                    }
                }
            };
            items.push(d);
            if items.len() > q.limit {
                break;
            }
        }
        Ok(Page::of(items, q.limit, |d| d.id))
    }
}

#[async_trait]
impl DeliveryStore for SledStore {
    async fn delivery(&self, site: &str, id: Uuid) -> Result<Option<Delivery>, StoreError> {
        let key = keys::entity_key(site, id);
        self.read(move |db| db.get(&db.outbox, &key)).await
    }

    async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
        let q = query.clone();
        self.read(move |db| db.list_deliveries(&q)).await
    }

    async fn claim_deliveries(&self, claim: &Claim) -> Result<Vec<Delivery>, StoreError> {
        let c = claim.clone();
        self.write(move |db| db.claim(&c)).await
    }

    async fn record_attempt(
        &self,
        site: &str,
        id: Uuid,
        node: &str,
        attempt: &AttemptRecord,
    ) -> Result<Delivery, StoreError> {
        let (site, node, a) = (site.to_string(), node.to_string(), attempt.clone());
        self.write(move |db| {
            let recorded = db.change_delivery(&site, id, &|d| {
                // Late is fine while nobody else took it; taken over is not.
                if d.lease.as_ref().is_none_or(|l| l.node != node) {
                    return Err(StoreError::LeaseLost);
                }
                Ok(Some(Delivery {
                    status: a.status,
                    attempts: d.attempts + 1,
                    next_attempt_ms: a.next_attempt_ms,
                    last_error: a.last_error.clone(),
                    last_status: a.last_status,
                    delivered_at_ms: a.delivered_at_ms,
                    lease: None,
                    ..d.clone()
                }))
            })?;
            recorded.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn reschedule_delivery(
        &self,
        site: &str,
        id: Uuid,
        now_ms: i64,
    ) -> Result<Delivery, StoreError> {
        let site = site.to_string();
        self.write(move |db| {
            let changed = db.change_delivery(&site, id, &|d| {
                if d.status == DeliveryStatus::Delivered {
                    return Err(StoreError::AlreadyDelivered);
                }
                // A manual retry restarts the retry span; a worker holding it keeps its lease.
                Ok(Some(Delivery {
                    status: DeliveryStatus::Pending,
                    next_attempt_ms: now_ms,
                    created_at_ms: now_ms,
                    ..d.clone()
                }))
            })?;
            changed.ok_or(StoreError::NotFound)
        })
        .await
    }
}
