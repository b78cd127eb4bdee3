//! Opening a data directory: the schema check and migration, the run marker that tells a
//! clean stop from a crash, the repair of derived records a crash cut off (on the days the
//! crashed run had marked, see `aggregates`), and the release of the leases a dead process
//! held.

use super::jobs::retag_key;
use super::keys;
use super::{decode, encode, Db, SledStore, SCHEMA_VERSION};
use crate::domain::time::{min_id_at_ms, now_ms};
use crate::domain::{records_for, Delivery, StoredResponse, Task};
use crate::store::{BackupRecord, RecordSink, Recovery, Store, StoreError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// `{started_ms, clean}` of the current or last run.
#[derive(Serialize, Deserialize)]
struct Run {
    started_ms: i64,
    clean: bool,
}

impl Db {
    fn schema(&self) -> Result<u32, StoreError> {
        match self.meta.get("schema")? {
            // A new directory, or one of the first schema (which wrote "1").
            None => Ok(if self.responses.is_empty() && self.users.is_empty() {
                SCHEMA_VERSION
            } else {
                1
            }),
            Some(v) => String::from_utf8_lossy(&v)
                .parse()
                .map_err(|_| StoreError::Corrupt("the schema version is unreadable".into())),
        }
    }

    /// Schema 1 had no task or delivery index; build them from the records. Schema 2 had no
    /// persisted report aggregates (`recover` builds them). Returns the schema found.
    fn migrate(&self) -> Result<u32, StoreError> {
        let found = self.schema()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                store: "data directory",
                found: found.to_string(),
                supported: SCHEMA_VERSION.to_string(),
            });
        }
        if found < 2 {
            tracing::info!("migrating the data directory to schema 2 (task and delivery indexes)");
            for v in self.tasks.iter().values() {
                self.task_index
                    .insert(keys::task_index_key(&decode::<Task>(&v?)?), &[])?;
            }
            for v in self.outbox.iter().values() {
                let d: Delivery = decode(&v?)?;
                self.delivery_index
                    .insert(keys::delivery_index_key(&d.site, d.status, d.id), &[])?;
            }
            let retags: Vec<(String, serde_json::Value)> = self
                .db
                .open_tree("retag")?
                .iter()
                .map(|kv| {
                    let (k, v) = kv?;
                    Ok((String::from_utf8_lossy(&k).into_owned(), decode(&v)?))
                })
                .collect::<Result<_, StoreError>>()?;
            for (site, progress) in retags {
                self.put_job(&retag_key(&site), progress)?;
            }
        }
        self.meta
            .insert("schema", SCHEMA_VERSION.to_string().as_bytes())?;
        Ok(found)
    }

    /// Writes again the derived records of responses stored since `since_ms` that are missing.
    fn repair_since(&self, since_ms: i64) -> Result<u64, StoreError> {
        let from = min_id_at_ms(since_ms.max(0) as u64);
        let mut repaired = 0;
        for kv in self.responses.iter() {
            let (k, v) = kv?;
            if keys::id_of(&k).is_none_or(|id| id < from) {
                continue;
            }
            let r: StoredResponse = decode(&v)?;
            if !r.follow_ups.is_empty() || !r.rule_errors.is_empty() {
                repaired += self.put_derived(&r, &records_for(&r), true)?;
            }
        }
        Ok(repaired)
    }

    /// Ends the delivery leases of the previous run: their deliveries are due at once. A
    /// held lease puts its slot at the lease's end, so only slots after now can hold one (the
    /// due ones, however many, are not read).
    fn release_delivery_leases(&self) -> Result<u64, StoreError> {
        let mut released = 0;
        let now = keys::pending_key(now_ms(), "", uuid::Uuid::nil());
        for kv in self.outbox_pending.range(now..) {
            let (slot, key) = kv?;
            let Some(mut d) = self.get::<Delivery>(&self.outbox, &key)? else {
                continue;
            };
            if d.lease.take().is_some() {
                self.put_delivery(&d, false)?;
                self.outbox_pending.remove(slot)?;
                released += 1;
            }
        }
        Ok(released)
    }

    fn recover(&self) -> Result<Recovery, StoreError> {
        let schema = self.migrate()?;
        let previous: Option<Run> = self.get(&self.meta, b"run")?;
        let mut recovery = Recovery::default();
        if let Some(run) = previous.filter(|r| !r.clean) {
            recovery.unclean = true;
            if schema < 3 {
                // No marks before schema 3: every response of the crashed run is checked.
                recovery.repaired = self.repair_since(run.started_ms)?;
            }
        }
        // The marked days: what a crash may have cut between a record, its counts and the
        // records derived from it (see `aggregates`).
        let reread = self.open_aggregates(schema < 3)?;
        recovery.repaired += reread.repaired;
        if reread.days > 0 {
            tracing::info!(
                days = reread.days,
                repaired = reread.repaired,
                "the marked days of the last run read again"
            );
        }
        recovery.released = self.release_delivery_leases()? + self.release_job_leases()?;
        let run = Run {
            started_ms: now_ms(),
            clean: false,
        };
        self.meta.insert("run", encode(&run)?)?;
        self.flush()?;
        Ok(recovery)
    }
}

#[async_trait]
impl Store for SledStore {
    async fn recover(&self) -> Result<Recovery, StoreError> {
        self.read(|db| db.recover()).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.read(|db| db.meta.get("schema").map(|_| ()).map_err(Into::into))
            .await
    }

    async fn close(&self) -> Result<(), StoreError> {
        self.read(|db| {
            if let Some(mut run) = db.get::<Run>(&db.meta, b"run")? {
                run.clean = true;
                // Counts persisted and marks removed before the run is called clean.
                db.aggregates.settle()?;
                db.meta.insert("run", encode(&run)?)?;
            }
            // The record then says the files were left in order (no copy before the next open).
            db.durability.close()
        })
        .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.read(|db| {
            Ok(db.responses.is_empty()
                && db.users.is_empty()
                && db.tasks.is_empty()
                && db.kiosks.is_empty()
                && db.rule_versions.is_empty())
        })
        .await
    }

    async fn holds_site_records(&self) -> Result<bool, StoreError> {
        self.read(|db| {
            Ok(!(db.responses.is_empty() && db.tasks.is_empty() && db.kiosks.is_empty()))
        })
        .await
    }

    async fn export_records(&self, sink: &mut (dyn RecordSink + Send)) -> Result<u64, StoreError> {
        // The pool thread reads, this task writes: records pass through a bounded channel.
        let (tx, rx) = tokio::sync::mpsc::channel::<BackupRecord>(256);
        let reading = self.read(move |db| db.export(&tx));
        let writing = crate::store::write_records(sink, rx);
        let (read, written) = tokio::join!(reading, writing);
        read?;
        written
    }

    async fn import_records(&self, records: &[BackupRecord]) -> Result<(), StoreError> {
        let records = records.to_vec();
        self.write(move |db| db.import(&records)).await
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::{Action, FollowUp, FollowUpRecords, Priority, TaskStatus};
    use crate::store::{DeliveryStore, NewResponse, ResponseStore, TaskStore};
    use uuid::Uuid;

    /// A response with a task and a webhook (other tests of the backend start from it).
    pub(in crate::store::sled) fn response() -> StoredResponse {
        let follow_up = |action| FollowUp {
            id: Uuid::now_v7(),
            source: "rule".into(),
            added_at: None,
            action,
        };
        let id = Uuid::now_v7();
        StoredResponse {
            id,
            site: "s".into(),
            survey: "x".into(),
            survey_version: 1,
            group: "patient".into(),
            submitted_at: crate::domain::time::rfc3339_of_id(id),
            language: None,
            submission_id: None,
            channel: None,
            kiosk: None,
            answers: Default::default(),
            tags: vec![],
            rule_errors: vec![],
            follow_ups: vec![
                follow_up(Action::Task {
                    queue: "q".into(),
                    title: "Call back".into(),
                    due_hours: Some(1),
                    priority: Priority::Normal,
                    note: None,
                }),
                follow_up(Action::Webhook {
                    target: "helpdesk".into(),
                    payload: None,
                }),
            ],
        }
    }

    #[actix_web::test]
    async fn a_repair_writes_what_is_missing_once_and_never_resets_a_task() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 8 << 20, 1).unwrap();
        store.recover().await.unwrap();
        let r = response();
        // The crash cut everything after the response record.
        let new = NewResponse {
            response: r.clone(),
            follow_ups: FollowUpRecords::default(),
            idempotency: None,
            invitation: None,
        };
        store.insert_response(new).await.unwrap();
        assert_eq!(
            store.db.repair_since(0).unwrap(),
            2,
            "the task and the delivery"
        );
        let task_id = r.follow_ups[0].id;
        let task = store.task("s", task_id).await.unwrap().unwrap();
        let change = task
            .change_to(TaskStatus::Claimed, "sam", None, "now".into())
            .unwrap();
        store
            .transition_task("s", task_id, TaskStatus::Open, &change)
            .await
            .unwrap();
        assert_eq!(store.db.repair_since(0).unwrap(), 0, "nothing is missing");
        let task = store.task("s", task_id).await.unwrap().unwrap();
        assert_eq!(
            task.status,
            TaskStatus::Claimed,
            "a claimed task stays claimed"
        );
    }

    /// A data directory as the first schema wrote it opens, with its tasks, deliveries,
    /// submission ids and re-tag progress usable.
    #[actix_web::test]
    async fn a_schema_1_directory_is_migrated() {
        use crate::domain::{Delivery, RetagProgress, RetagStatus, Task};
        use crate::store::{Claim, IdempotencyKey, Inserted, JobStore, TaskQuery};
        let dir = tempfile::tempdir().unwrap();
        let r = response();
        let key = keys::response_key("s", "x", r.id);
        let records = records_for(&r);
        let (task, delivery) = (records.tasks[0].clone(), records.deliveries[0].clone());
        let submission = Uuid::now_v7();
        {
            let db = sled::open(dir.path()).unwrap();
            let tree = |name: &str| db.open_tree(name).unwrap();
            tree("meta").insert("schema", "1").unwrap();
            let run = serde_json::json!({ "started_ms": 1, "clean": true });
            tree("meta").insert("run", encode(&run).unwrap()).unwrap();
            tree("responses").insert(&key, encode(&r).unwrap()).unwrap();
            let sub_key = keys::entity_key("s", submission);
            tree("submissions").insert(sub_key, key.as_slice()).unwrap();
            // Stored before `origin` and leases existed.
            let mut t = serde_json::to_value(&task).unwrap();
            t.as_object_mut().unwrap().remove("origin");
            tree("tasks")
                .insert(keys::entity_key("s", task.id), encode(&t).unwrap())
                .unwrap();
            let mut d = serde_json::to_value(&delivery).unwrap();
            d.as_object_mut().unwrap().remove("origin");
            d.as_object_mut().unwrap().remove("survey");
            let outbox_key = keys::entity_key("s", delivery.id);
            tree("outbox")
                .insert(&outbox_key, encode(&d).unwrap())
                .unwrap();
            let slot = keys::pending_key(delivery.next_attempt_ms, "s", delivery.id);
            tree("outbox_pending").insert(slot, outbox_key).unwrap();
            let progress = RetagProgress {
                status: RetagStatus::Done,
                started_at: "2026-01-01T00:00:00.000Z".into(),
                finished_at: None,
                total: 1,
                done: 1,
                changed: 0,
                with_errors: 0,
                until_ms: 1,
                since_ms: None,
                started_by: None,
                cursor: None,
                message: None,
            };
            tree("retag")
                .insert("s", encode(&progress).unwrap())
                .unwrap();
            db.flush().unwrap();
        }
        let store = SledStore::open(dir.path(), 8 << 20, 1).unwrap();
        store.recover().await.unwrap();
        assert_eq!(store.db.schema().unwrap(), SCHEMA_VERSION);
        let open = TaskQuery {
            site: "s".into(),
            statuses: vec![TaskStatus::Open],
            limit: 10,
            ..TaskQuery::default()
        };
        let listed: Vec<Task> = store.list_tasks(&open).await.unwrap().items;
        assert_eq!(listed.len(), 1, "the task is in the new index");
        assert_eq!(listed[0].origin, task.origin);
        let claim = Claim {
            node: "n".into(),
            now_ms: i64::MAX / 2,
            lease_until_ms: i64::MAX / 2 + 1,
            limit: 10,
        };
        let claimed: Vec<Delivery> = store.claim_deliveries(&claim).await.unwrap();
        assert_eq!(claimed.len(), 1, "the pending delivery is still due");
        let repeat = NewResponse {
            response: response(),
            follow_ups: FollowUpRecords::default(),
            idempotency: Some(IdempotencyKey {
                key: submission,
                fingerprint: "any".into(),
            }),
            invitation: None,
        };
        match store.insert_response(repeat).await.unwrap() {
            Inserted::Replayed(first) => assert_eq!(first.id, r.id),
            other => panic!("an old submission id replays its response: {other:?}"),
        }
        let progress = store.retag_progress("s").await.unwrap().unwrap();
        assert_eq!(progress.done, 1, "re-tag progress moved into the jobs tree");
    }
}
