//! What became of a set of follow-up tasks: how many were opened, done (on time, and with which
//! outcome), dismissed, and how long the done ones took. The store keeps these per site, queue,
//! survey and day a task was opened, so a report never reads the tasks themselves.

use super::task::{Task, TaskStatus};
use super::time::ms_of_rfc3339;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The time from open to done is kept in tenths of an hour (6 minutes), rounded down.
pub const TENTHS_PER_HOUR: f64 = 10.0;
const MS_PER_TENTH: i64 = 360_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTally {
    pub opened: u64,
    pub done: u64,
    pub dismissed: u64,
    /// Done tasks that had a due time and were done by it.
    pub on_time: u64,
    /// Done tasks by recorded outcome (tasks done without one are not here).
    pub outcomes: BTreeMap<String, u64>,
    /// Done tasks by tenths of an hour from open to done.
    pub tenths_to_done: BTreeMap<u32, u64>,
}

/// What one task adds to a tally.
struct Contribution<'a> {
    done: bool,
    dismissed: bool,
    on_time: bool,
    outcome: Option<&'a str>,
    tenths: Option<u32>,
}

fn contribution(task: &Task) -> Contribution<'_> {
    let done = task.status == TaskStatus::Done;
    let closed = task.closed_at_ms();
    let opened = ms_of_rfc3339(&task.created_at);
    Contribution {
        done,
        dismissed: task.status == TaskStatus::Dismissed,
        on_time: done
            && task
                .due_at_ms
                .zip(closed)
                .is_some_and(|(due, at)| at <= due),
        outcome: if done { task.outcome() } else { None },
        tenths: if done {
            closed
                .zip(opened)
                .map(|(at, from)| ((at - from).max(0) / MS_PER_TENTH) as u32)
        } else {
            None
        },
    }
}

fn step(n: &mut u64, by: bool, up: bool) {
    if by {
        *n = if up { *n + 1 } else { n.saturating_sub(1) };
    }
}

fn step_key<K: Ord + Clone>(map: &mut BTreeMap<K, u64>, key: Option<&K>, up: bool) {
    let Some(key) = key else { return };
    if up {
        *map.entry(key.clone()).or_default() += 1;
    } else if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl TaskTally {
    fn apply(&mut self, task: &Task, up: bool) {
        let c = contribution(task);
        step(&mut self.opened, true, up);
        step(&mut self.done, c.done, up);
        step(&mut self.dismissed, c.dismissed, up);
        step(&mut self.on_time, c.on_time, up);
        step_key(
            &mut self.outcomes,
            c.outcome.map(str::to_string).as_ref(),
            up,
        );
        step_key(&mut self.tenths_to_done, c.tenths.as_ref(), up);
    }

    /// Counts a task as it now is.
    pub fn count(&mut self, task: &Task) {
        self.apply(task, true);
    }

    /// Takes back what `count` added for the task in that state (before a change).
    pub fn uncount(&mut self, task: &Task) {
        self.apply(task, false);
    }

    pub fn add(&mut self, other: &TaskTally) {
        self.opened += other.opened;
        self.done += other.done;
        self.dismissed += other.dismissed;
        self.on_time += other.on_time;
        for (k, n) in &other.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &other.tenths_to_done {
            *self.tenths_to_done.entry(*k).or_default() += n;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.opened == 0
    }

    /// The median time from open to done, in hours (to the tenth below); `None` when no task
    /// is done. With an even number, the mean of the two middle ones.
    pub fn median_hours_to_done(&self) -> Option<f64> {
        let n: u64 = self.tenths_to_done.values().sum();
        if n == 0 {
            return None;
        }
        // The values at (0-based) ranks (n-1)/2 and n/2.
        let nth = |rank: u64| {
            let mut seen = 0;
            for (tenths, count) in &self.tenths_to_done {
                seen += count;
                if seen > rank {
                    return f64::from(*tenths);
                }
            }
            0.0
        };
        let median = (nth((n - 1) / 2) + nth(n / 2)) / 2.0;
        Some(median / TENTHS_PER_HOUR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::follow_up::{new_task, TaskAction};
    use crate::domain::{Origin, Priority};

    fn task(due_hours: Option<i64>) -> Task {
        let action = TaskAction {
            queue: "q",
            title: "t",
            due_hours,
            priority: Priority::Normal,
            note: None,
        };
        new_task(
            uuid::Uuid::now_v7(),
            "s",
            Origin::Review,
            "rule",
            action,
            "2026-03-02T10:00:00.000Z",
            ms_of_rfc3339("2026-03-02T10:00:00.000Z").unwrap(),
        )
    }

    fn done(mut t: Task, at: &str, outcome: Option<&str>) -> Task {
        let claim = t
            .change_to(TaskStatus::Claimed, "x", None, at.into())
            .unwrap();
        t.apply(claim);
        let mut change = t.change_to(TaskStatus::Done, "x", None, at.into()).unwrap();
        change.outcome = outcome.map(str::to_string);
        t.apply(change);
        t
    }

    #[test]
    fn counts_follow_a_task_through_its_changes() {
        let open = task(Some(48));
        let mut tally = TaskTally::default();
        tally.count(&open);
        assert_eq!((tally.opened, tally.done), (1, 0));
        let finished = done(open.clone(), "2026-03-03T10:30:00.000Z", Some("enrolled"));
        tally.uncount(&open);
        tally.count(&finished);
        assert_eq!((tally.opened, tally.done, tally.on_time), (1, 1, 1));
        assert_eq!(tally.outcomes.get("enrolled"), Some(&1));
        assert_eq!(tally.median_hours_to_done(), Some(24.5));
        tally.uncount(&finished);
        assert_eq!(tally, TaskTally::default(), "nothing left behind");
    }

    #[test]
    fn late_and_undue_tasks_are_not_on_time_and_the_median_is_the_middle() {
        let mut tally = TaskTally::default();
        tally.count(&done(task(Some(1)), "2026-03-02T13:00:00.000Z", None));
        tally.count(&done(task(None), "2026-03-02T10:06:00.000Z", None));
        tally.count(&done(task(Some(48)), "2026-03-02T11:00:00.000Z", None));
        assert_eq!((tally.done, tally.on_time), (3, 1));
        assert!(tally.outcomes.is_empty());
        assert_eq!(tally.median_hours_to_done(), Some(1.0));
        tally.count(&done(task(None), "2026-03-02T12:00:00.000Z", None));
        assert_eq!(
            tally.median_hours_to_done(),
            Some(1.5),
            "mean of the middle two"
        );
        assert_eq!(TaskTally::default().median_hours_to_done(), None);
    }
}
