//! Key layout. Big-endian ids and times, so that a prefix scan comes out in time order.
//!
//! - responses: `site 0 survey 0 id` — a survey's responses in time order, one insert each;
//! - tasks, outbox, rule errors, idempotency keys: `site 0 id`;
//! - task index: `site 0 status len(queue) queue due id`, soonest due first within a status and
//!   queue (tasks without a due time last);
//! - delivery index: `site 0 status id`;
//! - pending deliveries: `claimable_ms site 0 id`, for the workers, across sites.

use crate::domain::time::min_id_at_ms;
use crate::domain::{DeliveryStatus, Task, TaskStatus};
use uuid::Uuid;

pub const SEP: u8 = 0;

pub fn site_prefix(site: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(site.len() + 1);
    k.extend_from_slice(site.as_bytes());
    k.push(SEP);
    k
}

pub fn survey_prefix(site: &str, survey: &str) -> Vec<u8> {
    let mut k = site_prefix(site);
    k.extend_from_slice(survey.as_bytes());
    k.push(SEP);
    k
}

pub fn response_key(site: &str, survey: &str, id: Uuid) -> Vec<u8> {
    let mut k = survey_prefix(site, survey);
    k.extend_from_slice(id.as_bytes());
    k
}

/// The first response key of a survey at or after an instant.
pub fn response_key_at(site: &str, survey: &str, ms: u64) -> Vec<u8> {
    response_key(site, survey, min_id_at_ms(ms))
}

/// The id at the end of a key.
pub fn id_of(key: &[u8]) -> Option<Uuid> {
    let start = key.len().checked_sub(16)?;
    Uuid::from_slice(&key[start..]).ok()
}

/// The part of a key after `prefix_len` bytes, up to the next separator.
pub fn segment_of(key: &[u8], prefix_len: usize) -> Option<&[u8]> {
    let rest = key.get(prefix_len..)?;
    let end = rest.iter().position(|b| *b == SEP)?;
    Some(&rest[..end])
}

/// `site 0 id`.
pub fn entity_key(site: &str, id: Uuid) -> Vec<u8> {
    let mut k = site_prefix(site);
    k.extend_from_slice(id.as_bytes());
    k
}

pub fn task_status_byte(s: TaskStatus) -> u8 {
    s as u8
}

/// `site 0 status`: every index entry of one status.
pub fn task_status_prefix(site: &str, status: TaskStatus) -> Vec<u8> {
    let mut k = site_prefix(site);
    k.push(task_status_byte(status));
    k
}

/// `site 0 status len queue`: every index entry of one status and queue.
pub fn task_queue_prefix(site: &str, status: TaskStatus, queue: &str) -> Vec<u8> {
    let mut k = task_status_prefix(site, status);
    let len = u16::try_from(queue.len()).unwrap_or(u16::MAX);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(&queue.as_bytes()[..usize::from(len)]);
    k
}

/// Where a task sorts within its status and queue: its due time, none last.
pub fn due_sort(due_at_ms: Option<i64>) -> u64 {
    due_at_ms.map_or(u64::MAX, |d| d.max(0) as u64)
}

pub fn task_index_key(t: &Task) -> Vec<u8> {
    let mut k = task_queue_prefix(&t.site, t.status, &t.queue);
    k.extend_from_slice(&due_sort(t.due_at_ms).to_be_bytes());
    k.extend_from_slice(t.id.as_bytes());
    k
}

/// The queue inside a task index key under `task_status_prefix` (of length `prefix_len`).
pub fn queue_of(key: &[u8], prefix_len: usize) -> Option<&[u8]> {
    let len = u16::from_be_bytes(key.get(prefix_len..prefix_len + 2)?.try_into().ok()?);
    key.get(prefix_len + 2..prefix_len + 2 + usize::from(len))
}

pub fn delivery_status_prefix(site: &str, status: DeliveryStatus) -> Vec<u8> {
    let mut k = site_prefix(site);
    k.push(status as u8);
    k
}

pub fn delivery_index_key(site: &str, status: DeliveryStatus, id: Uuid) -> Vec<u8> {
    let mut k = delivery_status_prefix(site, status);
    k.extend_from_slice(id.as_bytes());
    k
}

pub fn pending_key(at_ms: i64, site: &str, id: Uuid) -> Vec<u8> {
    let mut k = (at_ms.max(0) as u64).to_be_bytes().to_vec();
    k.extend_from_slice(&entity_key(site, id));
    k
}

/// Smallest key strictly greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_time_within_a_survey() {
        let a = response_key("s", "x", min_id_at_ms(1));
        let b = response_key("s", "x", min_id_at_ms(2));
        assert!(a < b);
        assert_eq!(segment_of(&a, site_prefix("s").len()), Some(&b"x"[..]));
    }

    #[test]
    fn task_index_keys_name_their_queue_and_due_time() {
        let prefix = task_status_prefix("s", TaskStatus::Open);
        let mut key = task_queue_prefix("s", TaskStatus::Open, "front\0desk");
        key.extend_from_slice(&due_sort(Some(7)).to_be_bytes());
        key.extend_from_slice(Uuid::nil().as_bytes());
        assert_eq!(queue_of(&key, prefix.len()), Some(&b"front\0desk"[..]));
        assert!(due_sort(Some(7)) < due_sort(None), "no due time sorts last");
    }
}
