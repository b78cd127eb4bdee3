//! What became of the follow-up tasks, per queue (SPEC "Second release": `follow_ups`): opened,
//! done, dismissed, done on time, the median time to done and the outcomes. A queue with fewer
//! than `min_cell` tasks opened shows no numbers, like any small cell.

use super::model::Ordered;
use crate::domain::TaskTally;
use crate::survey::Site;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(untagged)]
pub enum QueueRow {
    Counted(QueueFigures),
    Suppressed { queue: String, suppressed: bool },
}

impl QueueRow {
    pub fn queue(&self) -> &str {
        match self {
            QueueRow::Counted(f) => &f.queue,
            QueueRow::Suppressed { queue, .. } => queue,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct QueueFigures {
    pub queue: String,
    pub opened: u64,
    pub done: u64,
    pub dismissed: u64,
    /// Done by their due time (tasks without one are never on time).
    pub on_time: u64,
    /// Hours from open to done, to the tenth; `null` when none is done.
    #[schema(required = true)]
    pub median_hours_to_done: Option<f64>,
    /// Outcome → done tasks: every outcome the queue lists (0 included), in its order, then
    /// any other outcome recorded.
    #[schema(inline)]
    pub outcomes: Outcomes,
}

/// Outcome → count, in the queue's order.
pub type Outcomes = Ordered<u64>;

/// The rows of the queues the site lists (in its order, also without tasks) and of every other
/// queue with tasks (by name).
pub fn queue_rows(site: &Site, by_queue: &BTreeMap<String, TaskTally>) -> Vec<QueueRow> {
    let min_cell = u64::from(site.config.min_cell);
    let listed = site.config.queues.iter().map(|q| q.id.clone());
    let others = by_queue.keys().filter(|q| site.queue(q).is_none()).cloned();
    listed
        .chain(others)
        .map(|queue| {
            let empty = TaskTally::default();
            let t = by_queue.get(&queue).unwrap_or(&empty);
            if t.opened < min_cell {
                return QueueRow::Suppressed {
                    queue,
                    suppressed: true,
                };
            }
            let listed = site.outcomes_of(&queue);
            let mut outcomes: Vec<(String, u64)> = listed
                .iter()
                .map(|o| (o.clone(), t.outcomes.get(o).copied().unwrap_or(0)))
                .collect();
            outcomes.extend(
                t.outcomes
                    .iter()
                    .filter(|(o, _)| !listed.contains(o))
                    .map(|(o, n)| (o.clone(), *n)),
            );
            QueueRow::Counted(QueueFigures {
                opened: t.opened,
                done: t.done,
                dismissed: t.dismissed,
                on_time: t.on_time,
                median_hours_to_done: t.median_hours_to_done(),
                outcomes: Ordered(outcomes),
                queue,
            })
        })
        .collect()
}
