//! The report aggregates on disk: the counts of `counts` and the tallies of `task_counts`,
//! persisted in the `aggregates` tree so that opening a store reads a few thousand entries
//! instead of every response and task.
//!
//! Writers change only the in-memory indexes; the group-commit thread writes the entries they
//! changed just before each flush, so one flush makes both the records and the counts durable
//! and a response costs no extra insert. What a crash can cut off is the tail: records written
//! after the last persisted entries. So before a record of a day is written or changed, the
//! day is marked (`Mark`, one small insert the first time a run touches that day); at open the
//! marked days are counted again from their records, then the marks are removed. An orderly
//! stop persists everything and removes the marks; an open after it reads only the entries.
//! sled recovers a prefix of the writes, so a record that survived has its mark, and a mark
//! removed has the counts written before it.

use super::counts::CountEntry;
use super::task_counts::TallyEntry;
use super::{decode, encode, keys, Db};
use crate::domain::time::{day_of_id, min_id_at_ms, DAY_MS};
use crate::domain::{StoredResponse, Task, TaskTally};
use crate::store::{Counts, StoreError};
use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub(super) const TREE: &str = "aggregates";
const COUNT: u8 = b'c';
const TALLY: u8 = b't';
const MARK: u8 = b'm';

/// A day whose records may be ahead of its persisted counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) enum Mark {
    Responses {
        site: String,
        survey: String,
        day: u64,
    },
    Tasks {
        site: String,
        day: u64,
    },
}

impl Mark {
    pub fn responses(r: &StoredResponse) -> Mark {
        Mark::Responses {
            site: r.site.clone(),
            survey: r.survey.clone(),
            day: day_of_id(r.id),
        }
    }

    pub fn tasks(t: &Task) -> Mark {
        Mark::Tasks {
            site: t.site.clone(),
            day: day_of_id(t.id),
        }
    }
}

/// The persisted side of the indexes, shared with the group-commit thread.
pub(super) struct Aggregates {
    tree: sled::Tree,
    counts: std::sync::Arc<super::counts::ReportIndex>,
    tallies: std::sync::Arc<super::task_counts::TaskCountIndex>,
    /// Marks written in this run.
    marked: Mutex<HashSet<Mark>>,
    /// Held (shared) by a writer from its mark until its counts are in memory, so that
    /// `settle` sees no write half done.
    writing: RwLock<()>,
}

/// A writer's hold from its mark until it counted its change (see `Aggregates::mark`).
pub(super) type Counting<'a> = RwLockReadGuard<'a, ()>;

fn key<T: Serialize>(kind: u8, entry: &T) -> Result<Vec<u8>, StoreError> {
    let mut k = vec![kind];
    k.extend_from_slice(&encode(entry)?);
    Ok(k)
}

impl Aggregates {
    pub fn new(
        tree: sled::Tree,
        counts: std::sync::Arc<super::counts::ReportIndex>,
        tallies: std::sync::Arc<super::task_counts::TaskCountIndex>,
    ) -> Self {
        Aggregates {
            tree,
            counts,
            tallies,
            marked: Mutex::new(HashSet::new()),
            writing: RwLock::new(()),
        }
    }

    /// Marks a day before a record of it is written (nothing when this run already did).
    /// The writer keeps what this returns until it has counted its change in memory.
    pub fn mark(&self, mark: Mark) -> Result<Counting<'_>, StoreError> {
        // Recursive: a response's write marks its tasks' days while it holds its own.
        let counting = self.writing.read_recursive();
        if self.marked.lock().contains(&mark) {
            return Ok(counting);
        }
        self.tree.insert(key(MARK, &mark)?, &[])?;
        self.marked.lock().insert(mark);
        Ok(counting)
    }

    /// Writes the entries changed since the last call (the group commit calls it before each
    /// flush, so the flush covers them).
    pub fn persist(&self) -> Result<(), StoreError> {
        for (entry, counts) in self.counts.take_dirty() {
            let k = key(COUNT, &entry)?;
            match counts {
                Some(c) => self.tree.insert(k, encode(&c)?)?,
                None => self.tree.remove(k)?,
            };
        }
        for (entry, tally) in self.tallies.take_dirty() {
            let k = key(TALLY, &entry)?;
            match tally {
                Some(t) => self.tree.insert(k, encode(&t)?)?,
                None => self.tree.remove(k)?,
            };
        }
        Ok(())
    }

    /// Persists everything and removes every mark: the records and the entries agree (an
    /// orderly stop, the end of `recover`, a rebuild). Waits for writes between their mark
    /// and their count; later writes mark their days again.
    pub fn settle(&self) -> Result<(), StoreError> {
        let _quiet = self.writing.write();
        self.persist()?;
        let mut marked = self.marked.lock();
        for k in self.tree.scan_prefix([MARK]).keys() {
            self.tree.remove(k?)?;
        }
        marked.clear();
        Ok(())
    }

    /// The marks left by a run that did not settle.
    fn marks(&self) -> Result<Vec<Mark>, StoreError> {
        self.tree
            .scan_prefix([MARK])
            .keys()
            .map(|k| decode(&k?[1..]))
            .collect()
    }

    /// Reads the persisted entries into the indexes.
    fn load(&self) -> Result<(), StoreError> {
        self.counts.clear();
        self.tallies.clear();
        for kv in self.tree.scan_prefix([COUNT]) {
            let (k, v) = kv?;
            let entry: CountEntry = decode(&k[1..])?;
            self.counts.load(entry, decode::<Counts>(&v)?);
        }
        for kv in self.tree.scan_prefix([TALLY]) {
            let (k, v) = kv?;
            let entry: TallyEntry = decode(&k[1..])?;
            self.tallies.load(entry, decode::<TaskTally>(&v)?);
        }
        Ok(())
    }

    fn remove_entries(&self) -> Result<(), StoreError> {
        for prefix in [COUNT, TALLY] {
            for k in self.tree.scan_prefix([prefix]).keys() {
                self.tree.remove(k?)?;
            }
        }
        Ok(())
    }
}

impl Db {
    /// At open: the persisted entries, with the marked days counted again from their records
    /// (`rebuild`: every response and task counted again instead).
    pub(super) fn open_aggregates(&self, rebuild: bool) -> Result<u64, StoreError> {
        if rebuild {
            return self.rebuild_aggregates();
        }
        self.aggregates.load()?;
        let marks = self.aggregates.marks()?;
        for mark in &marks {
            match mark {
                Mark::Responses { site, survey, day } => {
                    self.recount_responses(site, survey, *day)?
                }
                Mark::Tasks { site, day } => self.recount_tasks(site, *day)?,
            }
        }
        self.aggregates.settle()?;
        Ok(marks.len() as u64)
    }

    /// Counts every stored response and task again, and persists the result. Returns how
    /// many responses it read.
    pub(super) fn rebuild_aggregates(&self) -> Result<u64, StoreError> {
        self.aggregates.remove_entries()?;
        self.counts.clear();
        self.task_counts.clear();
        let mut n = 0;
        for v in self.responses.iter().values() {
            self.counts.record(&decode::<StoredResponse>(&v?)?);
            n += 1;
        }
        for v in self.tasks.iter().values() {
            self.task_counts.count(&decode::<Task>(&v?)?);
        }
        self.aggregates.settle()?;
        Ok(n)
    }

    fn recount_responses(&self, site: &str, survey: &str, day: u64) -> Result<(), StoreError> {
        self.counts.clear_day(site, survey, day);
        let from = keys::response_key_at(site, survey, day * DAY_MS);
        let to = keys::response_key_at(site, survey, (day + 1) * DAY_MS);
        for v in self.responses.range(from..to).values() {
            self.counts.record(&decode::<StoredResponse>(&v?)?);
        }
        Ok(())
    }

    fn recount_tasks(&self, site: &str, day: u64) -> Result<(), StoreError> {
        self.task_counts.clear_day(site, day);
        let from = keys::entity_key(site, min_id_at_ms(day * DAY_MS));
        let to = keys::entity_key(site, min_id_at_ms((day + 1) * DAY_MS));
        for v in self.tasks.range(from..to).values() {
            self.task_counts.count(&decode::<Task>(&v?)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::SledStore;
    use super::*;
    use crate::domain::{records_for, Tag, TaskStatus};
    use crate::store::{
        CountQuery, CountRow, FollowUpCountQuery, NewResponse, QueueCounts, ReportStore,
        ResponseStore, Store, TaskStore,
    };
    /// A response of site `s` with these tags, with a task or no follow-up.
    fn response(tags: &[&str], task: bool) -> StoredResponse {
        let mut r = super::super::recover::tests::response();
        r.follow_ups.truncate(usize::from(task));
        r.tags = tags
            .iter()
            .map(|c| Tag {
                code: c.to_string(),
                source: "rule".into(),
            })
            .collect();
        r
    }

    async fn open(dir: &std::path::Path) -> SledStore {
        let store = SledStore::open(dir, 8 << 20, 1).unwrap();
        store.recover().await.unwrap();
        store
    }

    async fn insert(store: &SledStore, r: &StoredResponse) {
        let new = NewResponse {
            response: r.clone(),
            follow_ups: records_for(r),
            idempotency: None,
            invitation: None,
        };
        store.insert_response(new).await.unwrap();
    }

    async fn figures(store: &SledStore) -> (Vec<CountRow>, Vec<QueueCounts>) {
        let counts = CountQuery {
            site: "s".into(),
            by_day: true,
            ..CountQuery::default()
        };
        let tasks = FollowUpCountQuery {
            site: "s".into(),
            survey: None,
            since_ms: None,
            until_ms: None,
        };
        (
            store.report_counts(&counts).await.unwrap(),
            store.follow_up_counts(&tasks).await.unwrap(),
        )
    }

    /// What a crash between a record's write and the next persisted counts leaves: the record
    /// (and its day's mark) on disk, counts that never saw it. The next open counts the marked
    /// day again, and the figures are those of counting every record.
    #[actix_web::test]
    async fn a_crash_between_a_record_and_its_counts_is_counted_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        insert(&store, &response(&["a"], true)).await;
        insert(&store, &response(&["a", "b"], false)).await;
        let (task_response, late) = (response(&["b"], true), response(&["a"], false));
        insert(&store, &task_response).await;
        let task = records_for(&task_response).tasks.remove(0);
        store.db.flush().unwrap();
        {
            // Written as the store writes them, never seen by the counts in memory.
            let db = &store.db;
            drop(db.aggregates.mark(Mark::responses(&late)).unwrap());
            let k = keys::response_key(&late.site, &late.survey, late.id);
            db.responses.insert(k, encode(&late).unwrap()).unwrap();
            let mut done = task.clone();
            let change = |t: &Task, to| t.change_to(to, "sam", None, "now".into()).unwrap();
            done.apply(change(&done, TaskStatus::Claimed));
            done.apply(change(&done, TaskStatus::Done));
            drop(db.aggregates.mark(Mark::tasks(&task)).unwrap());
            let k = keys::entity_key(&task.site, task.id);
            db.tasks.insert(k, encode(&done).unwrap()).unwrap();
        }
        // No orderly stop: the run stays marked unclean.
        drop(store);
        let store = open(dir.path()).await;
        let (counts, tasks) = figures(&store).await;
        assert_eq!(counts.len(), 1);
        assert_eq!(
            counts[0].counts.respondents, 4,
            "the late response is counted"
        );
        assert_eq!(counts[0].counts.tagged.get("a"), Some(&3));
        assert_eq!(counts[0].counts.tagged.get("b"), Some(&2));
        assert_eq!(tasks[0].counts.opened, 2);
        assert_eq!(tasks[0].counts.done, 1, "the task done before the crash");
        store.db.rebuild_aggregates().unwrap();
        assert_eq!(figures(&store).await, (counts, tasks), "as a full recount");
    }

    /// An orderly stop leaves no mark: the next open reads the persisted counts only.
    #[actix_web::test]
    async fn an_orderly_stop_leaves_counts_and_no_marks() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        for i in 0..5 {
            insert(&store, &response(&["a"], i % 2 == 0)).await;
        }
        let task = store
            .list_tasks(&crate::store::TaskQuery {
                site: "s".into(),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .remove(0);
        let change = task
            .change_to(
                TaskStatus::Dismissed,
                "sam",
                Some("moved".into()),
                "now".into(),
            )
            .unwrap();
        store
            .transition_task("s", task.id, TaskStatus::Open, &change)
            .await
            .unwrap();
        let live = figures(&store).await;
        store.close().await.unwrap();
        drop(store);
        let store = SledStore::open(dir.path(), 8 << 20, 1).unwrap();
        assert!(store.db.aggregates.marks().unwrap().is_empty());
        store.recover().await.unwrap();
        assert_eq!(figures(&store).await, live);
        assert_eq!(live.1[0].counts.dismissed, 1);
        assert_eq!(live.0[0].counts.respondents, 5);
    }
}
