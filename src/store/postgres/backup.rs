//! The PostgreSQL side of `chorus backup` and `chorus restore` (docs/backup-format.md): every
//! record out in the order of the format, each table in the byte order of its key (as the
//! sled backend writes them, so both give the same file for the same data); and the records
//! of a backup in, with the report counts derived from the responses. Also the rest of
//! `Store`: `recover` has nothing to do (every write is one transaction, and leases end by
//! themselves, since other nodes may be alive).

use super::accounts::{invitation_of, put_invitations};
use super::counts::CountDelta;
use super::insert::put_derived;
use super::rows::{self, DeliveryColumns, Put, TaskColumns, DELIVERY_COLUMNS, TASK_COLUMNS};
use super::{Db, PgStore};
use crate::domain::{records_for, FollowUpRecords, RuleErrorEntry, Session, StoredResponse};
use crate::store::{BackupRecord, IdempotencyRecord, RecordSink, Recovery, Store, StoreError};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use futures_util::{pin_mut, TryStreamExt};
use tokio::sync::mpsc::Sender;
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::IsolationLevel;
use tokio_postgres::Row;

async fn each(
    c: &impl GenericClient,
    sql: &str,
    tx: &Sender<BackupRecord>,
    to_record: impl Fn(&Row) -> Result<BackupRecord, StoreError>,
) -> Result<(), StoreError> {
    let st = c.prepare(sql).await?;
    let rows = c
        .query_raw(&st, std::iter::empty::<&(dyn ToSql + Sync)>())
        .await?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        tx.send(to_record(&row)?)
            .await
            .map_err(|_| StoreError::Backend("the backup writer stopped".into()))?;
    }
    Ok(())
}

/// Every table is read in one REPEATABLE READ transaction: the backup is one snapshot of the
/// database, taken while every node keeps writing, so each derived record's response and each
/// response's derived records are in it (stronger than the format's guarantees for a backup
/// taken while serving). The order is the format's all the same, so that both backends write
/// the same file for the same data.
async fn export(db: &Db, tx: &Sender<BackupRecord>) -> Result<(), StoreError> {
    let mut client = db.client().await?;
    let c = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    each(&c, "SELECT record FROM users ORDER BY name", tx, |r| {
        Ok(BackupRecord::User(rows::json(r, "record")?))
    })
    .await?;
    each(&c, "SELECT * FROM sessions ORDER BY id_sha256", tx, |r| {
        Ok(BackupRecord::Session(Session {
            id_sha256: r.get("id_sha256"),
            user: r.get("user_name"),
            csrf: r.get("csrf"),
            created_ms: r.get("created_ms"),
            last_seen_ms: r.get("last_seen_ms"),
        }))
    })
    .await?;
    each(
        &c,
        "SELECT * FROM invitations ORDER BY token_sha256",
        tx,
        |r| {
            Ok(BackupRecord::Invitation {
                token_sha256: r.get("token_sha256"),
                invitation: invitation_of(r),
            })
        },
    )
    .await?;
    let tasks = format!("SELECT {TASK_COLUMNS} FROM tasks ORDER BY site, id");
    each(&c, &tasks, tx, |r| Ok(BackupRecord::Task(rows::task(r)?))).await?;
    let deliveries = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries ORDER BY site, id");
    each(&c, &deliveries, tx, |r| {
        Ok(BackupRecord::Delivery(rows::delivery(r)?))
    })
    .await?;
    each(
        &c,
        "SELECT site, record FROM rule_errors ORDER BY site, id",
        tx,
        |r| {
            Ok(BackupRecord::RuleError {
                site: r.get("site"),
                entry: rows::json(r, "record")?,
            })
        },
    )
    .await?;
    let jobs =
        "SELECT site, state FROM jobs WHERE kind = $KIND AND state IS NOT NULL ORDER BY site";
    each(&c, &jobs.replace("$KIND", "'retag'"), tx, |r| {
        Ok(BackupRecord::Retag {
            site: r.get("site"),
            progress: rows::json(r, "state")?,
        })
    })
    .await?;
    each(&c, &jobs.replace("$KIND", "'review'"), tx, |r| {
        Ok(BackupRecord::Review {
            site: r.get("site"),
            state: rows::json(r, "state")?,
        })
    })
    .await?;
    each(&c, "SELECT record FROM kiosks ORDER BY site, id", tx, |r| {
        Ok(BackupRecord::Kiosk(rows::json(r, "record")?))
    })
    .await?;
    each(
        &c,
        "SELECT record FROM rule_versions ORDER BY site, file, number",
        tx,
        |r| Ok(BackupRecord::RuleVersion(rows::json(r, "record")?)),
    )
    .await?;
    each(
        &c,
        "SELECT record FROM responses ORDER BY site, survey, id",
        tx,
        |r| Ok(BackupRecord::Response(rows::json(r, "record")?)),
    )
    .await?;
    // Keys whose response is stored, as the sled backend writes them.
    each(
        &c,
        "SELECT k.* FROM idempotency_keys k JOIN responses r ON r.site = k.site AND r.id = k.response_id ORDER BY k.site, k.key",
        tx,
        |r| {
            Ok(BackupRecord::IdempotencyKey(IdempotencyRecord {
                site: r.get("site"),
                key: r.get("key"),
                survey: r.get("survey"),
                fingerprint: r.get("fingerprint"),
                response_id: r.get("response_id"),
            }))
        },
    )
    .await?;
    each(&c, "SELECT record FROM audit ORDER BY seq", tx, |r| {
        Ok(BackupRecord::Audit(rows::json(r, "record")?))
    })
    .await?;
    c.commit().await?;
    Ok(())
}

async fn import(db: &Db, records: &[BackupRecord]) -> Result<(), StoreError> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    let mut responses: Vec<&StoredResponse> = Vec::new();
    let mut tasks = Vec::new();
    let mut deliveries = Vec::new();
    let mut invitations = Vec::new();
    let (mut entry_sites, mut entries) = (Vec::new(), Vec::new());
    let mut audit = Vec::new();
    for record in records {
        match record {
            BackupRecord::User(u) => {
                let st = tx
                    .prepare_cached(
                        "INSERT INTO users (name, token_sha256, record) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO UPDATE SET token_sha256 = excluded.token_sha256, record = excluded.record",
                    )
                    .await?;
                tx.execute(&st, &[&u.name, &u.token_sha256, &Json(u)])
                    .await?;
            }
            BackupRecord::Session(s) => {
                let st = tx
                    .prepare_cached(
                        "INSERT INTO sessions (id_sha256, user_name, csrf, created_ms, last_seen_ms)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .await?;
                tx.execute(
                    &st,
                    &[
                        &s.id_sha256,
                        &s.user,
                        &s.csrf,
                        &s.created_ms,
                        &s.last_seen_ms,
                    ],
                )
                .await?;
            }
            BackupRecord::Invitation {
                token_sha256,
                invitation,
            } => {
                invitations.push((token_sha256.as_str(), invitation));
            }
            BackupRecord::Response(r) => responses.push(r),
            BackupRecord::IdempotencyKey(k) => {
                let st = tx
                    .prepare_cached(
                        "INSERT INTO idempotency_keys (site, key, survey, fingerprint, response_id)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .await?;
                tx.execute(
                    &st,
                    &[&k.site, &k.key, &k.survey, &k.fingerprint, &k.response_id],
                )
                .await?;
            }
            BackupRecord::Task(t) => tasks.push(t),
            // A lease belongs to a process of the store the backup was taken from.
            BackupRecord::Delivery(d) => deliveries.push(d),
            BackupRecord::RuleError { site, entry } => {
                entry_sites.push(site.as_str());
                entries.push(entry.clone());
            }
            BackupRecord::Retag { site, progress } => {
                put_job(&tx, "retag", site, &Json(progress)).await?;
            }
            BackupRecord::Review { site, state } => {
                put_job(&tx, "review", site, &Json(state)).await?;
            }
            BackupRecord::Kiosk(k) => super::kiosks::put(&tx, k).await?,
            BackupRecord::RuleVersion(v) => super::rule_versions::put(&tx, v).await?,
            BackupRecord::Audit(entry) => audit.push(entry),
        }
    }
    put_invitations(&tx, &invitations).await?;
    super::audit::put_entries(&tx, &audit).await?;
    if !responses.is_empty() {
        let site: Vec<&str> = responses.iter().map(|r| r.site.as_str()).collect();
        let id: Vec<uuid::Uuid> = responses.iter().map(|r| r.id).collect();
        let survey: Vec<&str> = responses.iter().map(|r| r.survey.as_str()).collect();
        let grp: Vec<&str> = responses.iter().map(|r| r.group.as_str()).collect();
        let record: Vec<Json<&StoredResponse>> = responses.iter().map(|r| Json(*r)).collect();
        let st = tx
            .prepare_cached(
                "INSERT INTO responses (site, id, survey, grp, record)
                 SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[])",
            )
            .await?;
        tx.execute(&st, &[&site, &id, &survey, &grp, &record])
            .await?;
        let mut counts = CountDelta::default();
        for r in &responses {
            counts.response(r, 1);
        }
        counts.apply(&tx).await?;
    }
    // The file's records as the file has them, then what each response of this batch implies
    // and the store lacks (a backup written while serving may hold a response without its
    // task, delivery or rule-error entry; an earlier batch may already have restored them).
    put_derived(
        &tx,
        &TaskColumns::of(tasks.into_iter()),
        &DeliveryColumns::of(deliveries.into_iter()),
        &entry_sites,
        &entries,
        Put::Replace,
    )
    .await?;
    let implied: Vec<FollowUpRecords> = responses.iter().map(|r| records_for(r)).collect();
    let with_errors = || responses.iter().filter(|r| !r.rule_errors.is_empty());
    let implied_entries: Vec<RuleErrorEntry> =
        with_errors().map(|r| RuleErrorEntry::of(r)).collect();
    let implied_sites: Vec<&str> = with_errors().map(|r| r.site.as_str()).collect();
    put_derived(
        &tx,
        &TaskColumns::of(implied.iter().flat_map(|f| f.tasks.iter())),
        &DeliveryColumns::of(implied.iter().flat_map(|f| f.deliveries.iter())),
        &implied_sites,
        &implied_entries,
        Put::Missing,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn put_job(
    c: &impl GenericClient,
    kind: &str,
    site: &str,
    state: &(dyn ToSql + Sync),
) -> Result<(), StoreError> {
    let st = c
        .prepare_cached(
            "INSERT INTO jobs (kind, site, state) VALUES ($1, $2, $3)
             ON CONFLICT (kind, site) DO UPDATE SET state = excluded.state, lease_node = NULL, lease_until_ms = NULL",
        )
        .await?;
    c.execute(&st, &[&kind, &site, state]).await?;
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    async fn recover(&self) -> Result<Recovery, StoreError> {
        Ok(Recovery::default())
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.run(|db| async move {
            let c = db.client().await?;
            c.query_one("SELECT 1", &[]).await?;
            Ok(())
        })
        .await
    }

    async fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.run(|db| async move {
            let c = db.client().await?;
            let row = c
                .query_one(
                    "SELECT NOT EXISTS (SELECT 1 FROM responses) AND NOT EXISTS (SELECT 1 FROM users)
                        AND NOT EXISTS (SELECT 1 FROM tasks) AND NOT EXISTS (SELECT 1 FROM kiosks)
                        AND NOT EXISTS (SELECT 1 FROM rule_versions)",
                    &[],
                )
                .await?;
            Ok(row.get(0))
        })
        .await
    }

    async fn holds_site_records(&self) -> Result<bool, StoreError> {
        self.run(|db| async move {
            let c = db.client().await?;
            let row = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM responses) OR EXISTS (SELECT 1 FROM tasks)
                        OR EXISTS (SELECT 1 FROM kiosks)",
                    &[],
                )
                .await?;
            Ok(row.get(0))
        })
        .await
    }

    async fn export_records(&self, sink: &mut (dyn RecordSink + Send)) -> Result<u64, StoreError> {
        // The store's runtime reads, this task writes: records pass through a bounded channel.
        let (tx, rx) = tokio::sync::mpsc::channel::<BackupRecord>(256);
        let reading = self.run(|db| async move { export(&db, &tx).await });
        let writing = crate::store::write_records(sink, rx);
        let (read, written) = tokio::join!(reading, writing);
        read?;
        written
    }

    async fn import_records(&self, records: &[BackupRecord]) -> Result<(), StoreError> {
        let records = records.to_vec();
        self.run(|db| async move { import(&db, &records).await })
            .await
    }
}
