//! The report aggregates on disk: the counts of `counts` and the tallies of `task_counts`,
//! persisted in the `aggregates` tree so that opening a store reads a few thousand entries
//! instead of every response and task.
//!
//! Writers change only the in-memory indexes; the group-commit thread writes the entries they
//! changed just before each flush (`persist`), so one flush makes both the records and the
//! counts durable and a response costs no extra insert. What a crash can cut off is the tail:
//! records written after the last persisted entries, and records derived from a response (its
//! tasks, deliveries, rule-error entry) written after it.
//!
//! **Marks.** Before a record of a UTC day is written or changed (a response, a re-tag, a task,
//! a task's transition, a restored record, a repair), the writer marks the day (`Mark`: site ×
//! survey × day of the response id, or site × day of the task id) and holds the mark
//! (`Counting`) until it has counted its change in memory and written its derived records. The
//! mark is one small insert when the day is not marked yet, nothing while it is. sled recovers
//! a prefix of the writes, and every prefix keeps this invariant:
//!
//! > a day whose mark is not stored has stored entries that are the counts of its stored
//! > records, and every stored response of it has its derived records.
//!
//! So the open after a crash reads only the marked days (`open_aggregates`): counts them again
//! and writes their missing derived records, then `settle`s.
//!
//! **Sweeps** keep the marked days to the recent ones, so that recount is proportional to the
//! recent writes, not to how long the run lasted. Every `SWEEP_EVERY` the group-commit thread
//! (1) picks the days that no writer marked since the previous sweep and no writer holds, and
//! clears every day's `touched`; (2) persists every changed entry; (3) removes the mark of each
//! picked day still untouched, under the lock `mark` takes. Every change of a picked day was
//! counted before (1), so its entries are written in (2), before the removal in sled's order: a
//! prefix that has the removal has those counts. A write after (1) sets `touched` and keeps the
//! mark; a write after (3) finds its day unmarked and writes the mark again, before its record.
//! A day thus costs one mark and one removal per quiet spell (a re-tag of an old day, a task
//! closed a week later), not per write; a day written all the time (today, under load) stays
//! marked. A persist that failed lost the entries it took, so after one no mark is removed.
//! Sweeps start once the open has read the crashed run's days (a repair there marks days of
//! tasks, and a sweep would remove those marks, stored by the crashed run too, unread).
//!
//! An orderly stop and the end of an open persist everything and remove every mark (`settle`).
//! A rebuild stores `REBUILD` before it removes the entries and removes it after its `settle`:
//! an open that finds it rebuilds again.

use super::counts::CountEntry;
use super::task_counts::TallyEntry;
use super::{decode, encode, keys, Db};
use crate::domain::time::{day_of_id, min_id_at_ms, DAY_MS};
use crate::domain::{records_for, StoredResponse, Task, TaskTally};
use crate::store::{Counts, StoreError};
use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use serde::{Deserialize, Serialize};
use std::collections::hash_map::{Entry, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) const TREE: &str = "aggregates";
const COUNT: u8 = b'c';
const TALLY: u8 = b't';
const MARK: u8 = b'm';
/// Stored while a rebuild runs.
const REBUILD: u8 = b'r';
/// How often the marks of quiet days are removed (the unit tests sweep by hand).
const SWEEP_EVERY: Duration = if cfg!(test) {
    Duration::MAX
} else {
    Duration::from_secs(1)
};

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

/// A day this run marked.
#[derive(Default)]
struct Day {
    /// Marked by a writer since the last sweep.
    touched: bool,
    /// Writers holding the mark now.
    holders: Arc<AtomicU32>,
}

impl Day {
    fn quiet(&self) -> bool {
        !self.touched && self.holders.load(Ordering::Acquire) == 0
    }
}

/// The persisted side of the indexes, shared with the group-commit thread.
pub(super) struct Aggregates {
    tree: sled::Tree,
    counts: Arc<super::counts::ReportIndex>,
    tallies: Arc<super::task_counts::TaskCountIndex>,
    /// The marks this run stored and has not removed.
    marked: Mutex<HashMap<Mark, Day>>,
    /// Held (shared) by a writer from its mark until its counts are in memory, so that
    /// `settle` and a rebuild see no write half done.
    writing: RwLock<()>,
    /// Held while entries are written: what one `persist` took is written before the next
    /// returns.
    persisting: Mutex<()>,
    /// Set by a failed `persist`: the entries it took are not written, so no mark goes.
    failed: AtomicBool,
    /// Set once the open has read the marked days again: a sweep before could remove a
    /// crashed run's mark (stored again by a repair) before its day is read.
    opened: AtomicBool,
    last_sweep: Mutex<Instant>,
}

/// A writer's hold on its day's mark, from `Aggregates::mark` until it counted its change.
pub(super) struct Counting<'a> {
    holders: Arc<AtomicU32>,
    _writing: RwLockReadGuard<'a, ()>,
}

impl Drop for Counting<'_> {
    fn drop(&mut self) {
        self.holders.fetch_sub(1, Ordering::Release);
    }
}

fn key<T: Serialize>(kind: u8, entry: &T) -> Result<Vec<u8>, StoreError> {
    let mut k = vec![kind];
    k.extend_from_slice(&encode(entry)?);
    Ok(k)
}

impl Aggregates {
    pub fn new(
        tree: sled::Tree,
        counts: Arc<super::counts::ReportIndex>,
        tallies: Arc<super::task_counts::TaskCountIndex>,
    ) -> Self {
        Aggregates {
            tree,
            counts,
            tallies,
            marked: Mutex::new(HashMap::new()),
            writing: RwLock::new(()),
            persisting: Mutex::new(()),
            failed: AtomicBool::new(false),
            opened: AtomicBool::new(false),
            last_sweep: Mutex::new(Instant::now()),
        }
    }

    /// Marks a day before a record of it is written (stores the mark unless it is stored).
    /// The writer keeps what this returns until it has counted its change in memory.
    pub fn mark(&self, mark: Mark) -> Result<Counting<'_>, StoreError> {
        // Recursive: a response's write marks its tasks' days while it holds its own.
        let writing = self.writing.read_recursive();
        let mut marked = self.marked.lock();
        let day = match marked.entry(mark) {
            Entry::Occupied(day) => day.into_mut(),
            Entry::Vacant(day) => {
                // Under the lock, so after a sweep's removal of it in sled's order too.
                self.tree.insert(key(MARK, day.key())?, &[])?;
                day.insert(Day::default())
            }
        };
        day.touched = true;
        day.holders.fetch_add(1, Ordering::AcqRel);
        Ok(Counting {
            holders: Arc::clone(&day.holders),
            _writing: writing,
        })
    }

    /// Writes the entries changed since the last call (the group commit calls it before each
    /// flush, so the flush covers them).
    pub fn persist(&self) -> Result<(), StoreError> {
        let _one = self.persisting.lock();
        let written = self
            .write_entries(COUNT, self.counts.take_dirty())
            .and_then(|()| self.write_entries(TALLY, self.tallies.take_dirty()));
        if written.is_err() {
            self.failed.store(true, Ordering::Release);
        }
        written
    }

    fn write_entries<E: Serialize, V: Serialize>(
        &self,
        kind: u8,
        entries: Vec<(E, Option<V>)>,
    ) -> Result<(), StoreError> {
        for (entry, value) in entries {
            let k = key(kind, &entry)?;
            match value {
                Some(v) => self.tree.insert(k, encode(&v)?)?,
                None => self.tree.remove(k)?,
            };
        }
        Ok(())
    }

    /// A sweep (see the module comment) when the last was `SWEEP_EVERY` ago; the group commit
    /// calls it after each flush and when idle. A failure leaves the marks (the next open
    /// counts their days again).
    pub fn sweep_if_due(&self) {
        if !self.opened.load(Ordering::Acquire) {
            return;
        }
        {
            let mut last = self.last_sweep.lock();
            if last.elapsed() < SWEEP_EVERY {
                return;
            }
            *last = Instant::now();
        }
        if let Err(e) = self.sweep() {
            tracing::error!(error = %e, "the marks of quiet days could not be removed");
        }
    }

    /// Removes the marks of the days quiet since the last sweep; returns how many.
    pub fn sweep(&self) -> Result<usize, StoreError> {
        let quiet = self.quiet_days();
        if quiet.is_empty() {
            return Ok(0);
        }
        self.persist()?;
        self.unmark(quiet)
    }

    /// Step 1: the days no writer marked since the last sweep nor holds; none is touched after.
    fn quiet_days(&self) -> Vec<Mark> {
        let mut marked = self.marked.lock();
        let mut quiet = Vec::new();
        for (mark, day) in marked.iter_mut() {
            if day.quiet() {
                quiet.push(mark.clone());
            }
            day.touched = false;
        }
        quiet
    }

    /// Step 3: removes the marks of those days still quiet (their counts were persisted after
    /// step 1).
    fn unmark(&self, days: Vec<Mark>) -> Result<usize, StoreError> {
        let mut marked = self.marked.lock();
        if self.failed.load(Ordering::Acquire) {
            return Ok(0);
        }
        let mut removed = 0;
        for mark in days {
            if marked.get(&mark).is_some_and(Day::quiet) {
                // Forgotten first: a mark stored and not known is harmless, the reverse is not.
                marked.remove(&mark);
                self.tree.remove(key(MARK, &mark)?)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Persists everything and removes every mark: the records and the entries agree (an
    /// orderly stop, the end of an open). Waits for writes between their mark and their
    /// count; later writes mark their days again.
    pub fn settle(&self) -> Result<(), StoreError> {
        let _quiet = self.writing.write();
        self.settle_quiet()
    }

    /// `settle`, for a caller that holds `writing` exclusively.
    fn settle_quiet(&self) -> Result<(), StoreError> {
        self.persist()?;
        let mut marked = self.marked.lock();
        if self.failed.load(Ordering::Acquire) {
            return Ok(());
        }
        for k in self.tree.scan_prefix([MARK]).keys() {
            self.tree.remove(k?)?;
        }
        marked.clear();
        self.tree.remove([REBUILD])?;
        Ok(())
    }

    /// The marks stored (a crashed run's, at open).
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

    /// Before a rebuild: stores `REBUILD`, then removes every entry, stored and in memory.
    fn begin_rebuild(&self) -> Result<(), StoreError> {
        self.tree.insert([REBUILD], &[])?;
        let _one = self.persisting.lock();
        self.counts.clear();
        self.tallies.clear();
        for prefix in [COUNT, TALLY] {
            for k in self.tree.scan_prefix([prefix]).keys() {
                self.tree.remove(k?)?;
            }
        }
        Ok(())
    }
}

/// What an open read again.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Reread {
    /// Marked days (of a survey's responses or of a site's tasks).
    pub days: u64,
    /// Derived records written because a crash had cut them off.
    pub repaired: u64,
}

impl Db {
    /// At open: the persisted entries, with the marked days read again (counted, and their
    /// responses' missing derived records written); with `rebuild`, or after a rebuild cut
    /// short, every response and task counted again instead.
    pub(super) fn open_aggregates(&self, rebuild: bool) -> Result<Reread, StoreError> {
        let rebuild = rebuild || self.aggregates.tree.contains_key([REBUILD])?;
        if !rebuild {
            self.aggregates.load()?;
        }
        let mut reread = Reread::default();
        for mark in self.aggregates.marks()? {
            if let Mark::Responses { site, survey, day } = &mark {
                reread.repaired += self.reread_responses(site, survey, *day, !rebuild)?;
                reread.days += 1;
            }
        }
        if rebuild {
            self.rebuild_aggregates()?;
            self.aggregates.opened.store(true, Ordering::Release);
            return Ok(reread);
        }
        // Read again after the responses: their repair marks the days of their tasks.
        for mark in self.aggregates.marks()? {
            if let Mark::Tasks { site, day } = &mark {
                self.recount_tasks(site, *day)?;
                reread.days += 1;
            }
        }
        self.aggregates.settle()?;
        self.aggregates.opened.store(true, Ordering::Release);
        Ok(reread)
    }

    /// Counts every stored response and task again, and persists the result. Returns how
    /// many responses it read. Writers wait meanwhile.
    pub(super) fn rebuild_aggregates(&self) -> Result<u64, StoreError> {
        let _quiet = self.aggregates.writing.write();
        self.aggregates.begin_rebuild()?;
        let mut n = 0;
        for v in self.responses.iter().values() {
            self.counts.record(&decode::<StoredResponse>(&v?)?);
            n += 1;
        }
        for v in self.tasks.iter().values() {
            self.task_counts.count(&decode::<Task>(&v?)?);
        }
        self.aggregates.settle_quiet()?;
        Ok(n)
    }

    /// Reads one survey's marked day: writes the derived records a crash cut off, and with
    /// `count` counts the day again. Returns how many records it wrote.
    fn reread_responses(
        &self,
        site: &str,
        survey: &str,
        day: u64,
        count: bool,
    ) -> Result<u64, StoreError> {
        if count {
            self.counts.clear_day(site, survey, day);
        }
        let from = keys::response_key_at(site, survey, day * DAY_MS);
        let to = keys::response_key_at(site, survey, (day + 1) * DAY_MS);
        let mut repaired = 0;
        for v in self.responses.range(from..to).values() {
            let r: StoredResponse = decode(&v?)?;
            if count {
                self.counts.record(&r);
            }
            if !r.follow_ups.is_empty() || !r.rule_errors.is_empty() {
                repaired += self.put_derived(&r, &records_for(&r), true)?;
            }
        }
        Ok(repaired)
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
#[path = "aggregates_tests.rs"]
mod tests;
