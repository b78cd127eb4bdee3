//! Tasks: the `tasks` tree holds each task, the `task_index` tree one entry per task under its
//! status and queue, ordered by due time (see `keys`). A listing merges the index ranges its
//! filters name, so a page costs the page, not the site.

use super::aggregates::Mark;
use super::keys;
use super::merge::{Merge, Scan};
use super::responses::put;
use super::{decode, encode, Db, SledStore};
use crate::domain::{StatusChange, Task, TaskStatus};
use crate::store::{Page, StoreError, TaskQuery, TaskStore};
use async_trait::async_trait;
use std::ops::Bound;
use uuid::Uuid;

impl Db {
    /// The task record, then its index entry; true when written.
    pub(super) fn put_task(&self, t: &Task, only_missing: bool) -> Result<bool, StoreError> {
        let (key, value) = (keys::entity_key(&t.site, t.id), encode(t)?);
        let _counting = self.aggregates.mark(Mark::tasks(t))?;
        let written = if only_missing {
            put(&self.tasks, &key, &value, true)?
        } else {
            if let Some(old) = self.tasks.insert(key.as_slice(), value.as_slice())? {
                self.task_counts.uncount(&decode(&old)?);
            }
            true
        };
        if written {
            self.task_counts.count(t);
        }
        // A repair also restores the index entry of a task whose record survived a crash.
        let current: Task = if written {
            t.clone()
        } else {
            match self.get(&self.tasks, &keys::entity_key(&t.site, t.id))? {
                Some(c) => c,
                None => return Ok(false),
            }
        };
        self.task_index
            .insert(keys::task_index_key(&current), &[])?;
        Ok(written)
    }

    /// The queues that have entries under one status, by skipping from queue to queue.
    fn queues_of(&self, site: &str, status: TaskStatus) -> Result<Vec<String>, StoreError> {
        let prefix = keys::task_status_prefix(site, status);
        let end = keys::prefix_end(&prefix);
        let mut from = prefix.clone();
        let mut found = Vec::new();
        while let Some(key) = self
            .task_index
            .range(from.clone()..end.clone())
            .keys()
            .next()
        {
            let key = key?;
            let Some(queue) = keys::queue_of(&key, prefix.len()) else {
                break;
            };
            let queue = String::from_utf8_lossy(queue).into_owned();
            from = keys::prefix_end(&keys::task_queue_prefix(site, status, &queue));
            found.push(queue);
        }
        Ok(found)
    }

    fn list_tasks(&self, q: &TaskQuery) -> Result<Page<Task>, StoreError> {
        // Where the previous page ended: the cursor task's place in every range.
        let position = match q.after {
            None => None,
            Some(id) => {
                let t: Task = self
                    .get(&self.tasks, &keys::entity_key(&q.site, id))?
                    .ok_or(StoreError::NotFound)?;
                let mut p = keys::due_sort(t.due_at_ms).to_be_bytes().to_vec();
                p.extend_from_slice(id.as_bytes());
                Some(p)
            }
        };
        let statuses = if q.statuses.is_empty() {
            TaskStatus::ALL.to_vec()
        } else {
            q.statuses.clone()
        };
        let mut scans: Vec<(usize, Scan)> = Vec::new();
        for status in statuses {
            let queues = match &q.queue {
                Some(queue) => vec![queue.clone()],
                None => self.queues_of(&q.site, status)?,
            };
            for queue in queues {
                let prefix = keys::task_queue_prefix(&q.site, status, &queue);
                if let Some(range) = index_range(&prefix, status, q, position.as_deref()) {
                    scans.push((prefix.len(), Box::new(self.task_index.range(range))));
                }
            }
        }
        let mut items = Vec::new();
        for kv in Merge::new(scans) {
            let (key, _) = kv?;
            let Some(id) = keys::id_of(&key) else {
                continue;
            };
            let Some(task) = self.get::<Task>(&self.tasks, &keys::entity_key(&q.site, id))? else {
                continue;
            };
            if keys::task_index_key(&task) != *key {
                // Left behind by a crash between a transition's writes.
                self.task_index.remove(&key)?;
                continue;
            }
            if q.origin.is_some_and(|o| task.origin.kind() != o) {
                continue;
            }
            items.push(task);
            if items.len() > q.limit {
                break;
            }
        }
        Ok(Page::of(items, q.limit, |t| t.id))
    }
}

type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The part of one (status, queue) index range a query reads, or none.
fn index_range(
    prefix: &[u8],
    status: TaskStatus,
    q: &TaskQuery,
    position: Option<&[u8]>,
) -> Option<KeyRange> {
    let with = |suffix: &[u8]| [prefix, suffix].concat();
    let mut lower = Bound::Included(prefix.to_vec());
    let mut upper = Bound::Excluded(keys::prefix_end(prefix));
    if let Some(f) = q.overdue {
        let at = (f.at_ms.max(0) as u64).to_be_bytes();
        match (status.is_active(), f.overdue) {
            // Overdue: active, due before the instant.
            (true, true) => upper = Bound::Excluded(with(&at)),
            (true, false) => lower = Bound::Included(with(&at)),
            (false, true) => return None,
            (false, false) => {}
        }
    }
    if let Some(p) = position {
        let after = with(p);
        let later = match &lower {
            Bound::Included(l) => after >= *l,
            _ => true,
        };
        if later {
            lower = Bound::Excluded(after);
        }
    }
    Some((lower, upper))
}

#[async_trait]
impl TaskStore for SledStore {
    async fn task(&self, site: &str, id: Uuid) -> Result<Option<Task>, StoreError> {
        let key = keys::entity_key(site, id);
        self.read(move |db| db.get(&db.tasks, &key)).await
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>, StoreError> {
        let q = query.clone();
        self.read(move |db| db.list_tasks(&q)).await
    }

    async fn task_queues(&self, site: &str) -> Result<Vec<String>, StoreError> {
        let site = site.to_string();
        self.read(move |db| {
            let mut all = Vec::new();
            for status in TaskStatus::ALL {
                all.extend(db.queues_of(&site, status)?);
            }
            all.sort();
            all.dedup();
            Ok(all)
        })
        .await
    }

    async fn transition_task(
        &self,
        site: &str,
        id: Uuid,
        expected: TaskStatus,
        change: &StatusChange,
    ) -> Result<Task, StoreError> {
        let (key, change) = (keys::entity_key(site, id), change.clone());
        // Compare-and-swap: two staff members racing on one task cannot both win.
        self.write(move |db| loop {
            let Some(old) = db.tasks.get(&key)? else {
                return Err(StoreError::NotFound);
            };
            let before: Task = decode(&old)?;
            if before.status != expected {
                return Err(StoreError::TaskStateChanged(before.status));
            }
            let _counting = db.aggregates.mark(Mark::tasks(&before))?;
            let mut after = before.clone();
            after.apply(change.clone());
            let new_entry = keys::task_index_key(&after);
            db.task_index.insert(new_entry.as_slice(), &[])?;
            let new = encode(&after)?;
            if db
                .tasks
                .compare_and_swap(&key, Some(old), Some(new))?
                .is_ok()
            {
                db.task_index.remove(keys::task_index_key(&before))?;
                db.task_counts.uncount(&before);
                db.task_counts.count(&after);
                return Ok(after);
            }
            db.task_index.remove(new_entry)?;
        })
        .await
    }
}
