//! Rows to domain records and back: the columns each table is read with, and the parameters
//! a record is written with.

use crate::domain::{
    Delivery, DeliveryStatus, Lease, Origin, StatusChange, Task, TaskStatus, TaskTally,
};
use crate::store::StoreError;
use serde::de::DeserializeOwned;
use tokio_postgres::types::Json;
use tokio_postgres::Row;
use uuid::Uuid;

pub(super) fn json<T: DeserializeOwned>(row: &Row, col: &str) -> Result<T, StoreError> {
    let value: serde_json::Value = row.try_get(col).map_err(StoreError::corrupt)?;
    serde_json::from_value(value).map_err(StoreError::corrupt)
}

pub(super) fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, StoreError> {
    text.parse().map_err(StoreError::Corrupt)
}

/// The columns a task is read with.
pub(super) const TASK_COLUMNS: &str = "record, status, history";

pub(super) fn task(row: &Row) -> Result<Task, StoreError> {
    let mut t: Task = json(row, "record")?;
    t.status = parse::<TaskStatus>(row.get("status"))?;
    t.history = json::<Vec<StatusChange>>(row, "history")?;
    Ok(t)
}

/// Where a task sorts: its due time, none last.
pub(super) fn due_sort(due_at_ms: Option<i64>) -> i64 {
    due_at_ms.unwrap_or(i64::MAX)
}

pub(super) fn origin_kind(origin: &Origin) -> &'static str {
    match origin {
        Origin::Response { .. } => "response",
        Origin::Review => "review",
    }
}

/// The columns a delivery is read with.
pub(super) const DELIVERY_COLUMNS: &str = "site, id, webhook, origin, response_id, survey, \
     follow_up_id, body, status, attempts, created_at_ms, next_attempt_ms, last_error, \
     last_status, delivered_at_ms, lease_node, lease_until_ms";

pub(super) fn delivery(row: &Row) -> Result<Delivery, StoreError> {
    let origin = match row.get::<_, &str>("origin") {
        "review" => Origin::Review,
        _ => Origin::Response {
            id: row.get("response_id"),
            survey: row.get("survey"),
        },
    };
    let lease_node: Option<String> = row.get("lease_node");
    let lease_until: Option<i64> = row.get("lease_until_ms");
    Ok(Delivery {
        id: row.get("id"),
        site: row.get("site"),
        webhook: row.get("webhook"),
        origin,
        follow_up_id: row.get("follow_up_id"),
        body: row.get("body"),
        status: parse::<DeliveryStatus>(row.get("status"))?,
        attempts: row.get::<_, i32>("attempts") as u32,
        created_at_ms: row.get("created_at_ms"),
        next_attempt_ms: row.get("next_attempt_ms"),
        last_error: row.get("last_error"),
        last_status: row.get::<_, Option<i32>>("last_status").map(|s| s as u16),
        delivered_at_ms: row.get("delivered_at_ms"),
        lease: lease_node
            .zip(lease_until)
            .map(|(node, until_ms)| Lease { node, until_ms }),
    })
}

/// What a task adds to the follow-up figures beyond its queue and status: done on time, its
/// outcome, tenths of an hour to done (`TaskTally::count` decides, so both backends agree).
pub(super) struct TaskFacts {
    pub on_time: bool,
    pub outcome: Option<String>,
    pub tenths: Option<i32>,
}

impl TaskFacts {
    pub fn of(t: &Task) -> TaskFacts {
        let mut tally = TaskTally::default();
        tally.count(t);
        TaskFacts {
            on_time: tally.on_time > 0,
            outcome: tally.outcomes.into_keys().next(),
            tenths: tally.tenths_to_done.into_keys().next().map(|t| t as i32),
        }
    }
}

/// The survey of a response's task; '' for a review's.
pub(super) fn survey_of(t: &Task) -> &str {
    match &t.origin {
        Origin::Response { survey, .. } => survey,
        Origin::Review => "",
    }
}

/// Tasks as the columns of a multi-row insert (`unnest` of one array per column).
pub(super) struct TaskColumns<'a> {
    pub site: Vec<&'a str>,
    pub id: Vec<Uuid>,
    pub status: Vec<&'static str>,
    pub queue: Vec<&'a str>,
    pub origin: Vec<&'static str>,
    pub due_sort: Vec<i64>,
    pub record: Vec<Json<&'a Task>>,
    pub history: Vec<Json<&'a Vec<StatusChange>>>,
    pub survey: Vec<&'a str>,
    pub on_time: Vec<bool>,
    pub outcome: Vec<Option<String>>,
    pub tenths: Vec<Option<i32>>,
    pub day: Vec<i32>,
}

impl<'a> TaskColumns<'a> {
    pub fn of(tasks: impl Iterator<Item = &'a Task>) -> Self {
        let mut c = TaskColumns {
            site: vec![],
            id: vec![],
            status: vec![],
            queue: vec![],
            origin: vec![],
            due_sort: vec![],
            record: vec![],
            history: vec![],
            survey: vec![],
            on_time: vec![],
            outcome: vec![],
            tenths: vec![],
            day: vec![],
        };
        for t in tasks {
            let facts = TaskFacts::of(t);
            c.survey.push(survey_of(t));
            c.on_time.push(facts.on_time);
            c.outcome.push(facts.outcome);
            c.tenths.push(facts.tenths);
            c.day.push(crate::domain::time::day_of_id(t.id) as i32);
            c.site.push(&t.site);
            c.id.push(t.id);
            c.status.push(t.status.as_str());
            c.queue.push(&t.queue);
            c.origin.push(origin_kind(&t.origin));
            c.due_sort.push(due_sort(t.due_at_ms));
            c.record.push(Json(t));
            c.history.push(Json(&t.history));
        }
        c
    }

    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }
}

/// What a multi-row insert does with a row that exists: `Missing` leaves it (a review write
/// or the records a restore derives from a response never reset a task someone changed);
/// `Replace` overwrites it (a record of a backup file is restored as the file has it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Put {
    Missing,
    Replace,
}

const TASKS: &str = "INSERT INTO tasks (site, id, status, queue, origin, due_sort, record, history, survey, on_time, outcome, tenths, day)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::jsonb[], $8::jsonb[], $9::text[], $10::bool[], $11::text[], $12::int[], $13::int[])";

/// Inserts tasks (the columns of `TaskColumns`).
pub(super) fn insert_tasks(put: Put) -> String {
    match put {
        Put::Missing => format!("{TASKS} ON CONFLICT DO NOTHING"),
        Put::Replace => format!(
            "{TASKS} ON CONFLICT (site, id) DO UPDATE SET status = excluded.status, \
             queue = excluded.queue, origin = excluded.origin, due_sort = excluded.due_sort, \
             record = excluded.record, history = excluded.history, survey = excluded.survey, \
             on_time = excluded.on_time, outcome = excluded.outcome, tenths = excluded.tenths"
        ),
    }
}

/// Deliveries as the columns of a multi-row insert.
pub(super) struct DeliveryColumns<'a> {
    pub site: Vec<&'a str>,
    pub id: Vec<Uuid>,
    pub webhook: Vec<&'a str>,
    pub origin: Vec<&'static str>,
    pub response_id: Vec<Uuid>,
    pub survey: Vec<&'a str>,
    pub follow_up_id: Vec<Uuid>,
    pub body: Vec<&'a str>,
    pub status: Vec<&'static str>,
    pub attempts: Vec<i32>,
    pub created_at_ms: Vec<i64>,
    pub next_attempt_ms: Vec<i64>,
    pub last_error: Vec<Option<&'a str>>,
    pub last_status: Vec<Option<i32>>,
    pub delivered_at_ms: Vec<Option<i64>>,
}

impl<'a> DeliveryColumns<'a> {
    /// Leases are never written: a new or restored delivery is free.
    pub fn of(deliveries: impl Iterator<Item = &'a Delivery>) -> Self {
        let mut c = DeliveryColumns {
            site: vec![],
            id: vec![],
            webhook: vec![],
            origin: vec![],
            response_id: vec![],
            survey: vec![],
            follow_up_id: vec![],
            body: vec![],
            status: vec![],
            attempts: vec![],
            created_at_ms: vec![],
            next_attempt_ms: vec![],
            last_error: vec![],
            last_status: vec![],
            delivered_at_ms: vec![],
        };
        for d in deliveries {
            c.site.push(&d.site);
            c.id.push(d.id);
            c.webhook.push(&d.webhook);
            c.origin.push(origin_kind(&d.origin));
            let (response_id, survey) = match &d.origin {
                Origin::Response { id, survey } => (*id, survey.as_str()),
                Origin::Review => (Uuid::nil(), ""),
            };
            c.response_id.push(response_id);
            c.survey.push(survey);
            c.follow_up_id.push(d.follow_up_id);
            c.body.push(&d.body);
            c.status.push(d.status.as_str());
            c.attempts.push(d.attempts as i32);
            c.created_at_ms.push(d.created_at_ms);
            c.next_attempt_ms.push(d.next_attempt_ms);
            c.last_error.push(d.last_error.as_deref());
            c.last_status.push(d.last_status.map(i32::from));
            c.delivered_at_ms.push(d.delivered_at_ms);
        }
        c
    }

    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }
}

const DELIVERIES: &str = "INSERT INTO deliveries (site, id, webhook, origin, response_id, survey, follow_up_id, body, status, attempts, created_at_ms, next_attempt_ms, last_error, last_status, delivered_at_ms)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::int[], $11::bigint[], $12::bigint[], $13::text[], $14::int[], $15::bigint[])";

/// Inserts deliveries (the columns of `DeliveryColumns`), never with a lease.
pub(super) fn insert_deliveries(put: Put) -> String {
    match put {
        Put::Missing => format!("{DELIVERIES} ON CONFLICT DO NOTHING"),
        Put::Replace => format!(
            "{DELIVERIES} ON CONFLICT (site, id) DO UPDATE SET webhook = excluded.webhook, \
             origin = excluded.origin, response_id = excluded.response_id, \
             survey = excluded.survey, follow_up_id = excluded.follow_up_id, \
             body = excluded.body, status = excluded.status, attempts = excluded.attempts, \
             created_at_ms = excluded.created_at_ms, next_attempt_ms = excluded.next_attempt_ms, \
             last_error = excluded.last_error, last_status = excluded.last_status, \
             delivered_at_ms = excluded.delivered_at_ms, lease_node = NULL, lease_until_ms = NULL"
        ),
    }
}

const RULE_ERRORS: &str = "INSERT INTO rule_errors (site, id, record)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::jsonb[])";

/// Upserts rule-error entries (site, id, record): a re-tag replaces a response's entry.
pub(super) const UPSERT_RULE_ERRORS: &str = "INSERT INTO rule_errors (site, id, record)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::jsonb[])
     ON CONFLICT (site, id) DO UPDATE SET record = excluded.record";

/// Inserts rule-error entries.
pub(super) fn insert_rule_errors(put: Put) -> String {
    match put {
        Put::Missing => format!("{RULE_ERRORS} ON CONFLICT DO NOTHING"),
        Put::Replace => UPSERT_RULE_ERRORS.to_string(),
    }
}
