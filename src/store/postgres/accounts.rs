//! Users, sessions, invitation links and the reload marks: small tables, one statement per
//! call. Only hashes of secrets are keys.

use super::{rows, PgStore};
use crate::domain::{Invitation, LoginFailures, Session, User};
use crate::store::{InvitationStore, SessionStore, SignalStore, StoreError, UserStore};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::Json;

/// Runs one statement and returns how many rows it changed.
async fn exec(
    db: &super::Db,
    sql: &'static str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, StoreError> {
    let c = db.client().await?;
    let st = c.prepare_cached(sql).await?;
    Ok(c.execute(&st, params).await?)
}

async fn one_user(
    db: &super::Db,
    sql: &'static str,
    key: &str,
) -> Result<Option<User>, StoreError> {
    let c = db.client().await?;
    let st = c.prepare_cached(sql).await?;
    c.query_opt(&st, &[&key])
        .await?
        .map(|r| rows::json(&r, "record"))
        .transpose()
}

async fn count(db: &super::Db, sql: &'static str) -> Result<u64, StoreError> {
    let c = db.client().await?;
    let st = c.prepare_cached(sql).await?;
    Ok(c.query_one(&st, &[]).await?.get::<_, i64>(0) as u64)
}

#[async_trait]
impl UserStore for PgStore {
    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.run(|db| async move {
            exec(
                &db,
                "INSERT INTO users (name, token_sha256, record) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET token_sha256 = excluded.token_sha256, record = excluded.record",
                &[&user.name, &user.token_sha256, &Json(&user)],
            )
            .await
            .map(|_| ())
        })
        .await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_string();
        self.run(|db| async move {
            one_user(&db, "SELECT record FROM users WHERE name = $1", &name).await
        })
        .await
    }

    async fn user_by_token(&self, token_sha256: &str) -> Result<Option<User>, StoreError> {
        let hash = token_sha256.to_string();
        self.run(|db| async move {
            one_user(
                &db,
                "SELECT record FROM users WHERE token_sha256 = $1",
                &hash,
            )
            .await
        })
        .await
    }

    async fn user_count(&self) -> Result<u64, StoreError> {
        self.run(|db| async move { count(&db, "SELECT count(*) FROM users").await })
            .await
    }

    async fn create_user(&self, user: &User) -> Result<bool, StoreError> {
        let user = user.clone();
        self.run(|db| async move {
            let n = exec(
                &db,
                "INSERT INTO users (name, token_sha256, record) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                &[&user.name, &user.token_sha256, &Json(&user)],
            )
            .await?;
            Ok(n == 1)
        })
        .await
    }

    async fn login_failures(&self, account: &str) -> Result<Option<LoginFailures>, StoreError> {
        let account = account.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached("SELECT count, last_ms FROM login_failures WHERE account = $1")
                .await?;
            Ok(c.query_opt(&st, &[&account]).await?.map(|r| LoginFailures {
                count: r.get::<_, i32>(0) as u32,
                last_ms: r.get(1),
            }))
        })
        .await
    }

    async fn record_login_failure(
        &self,
        account: &str,
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<LoginFailures, StoreError> {
        let account = account.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            // One statement: concurrent failures on any node each add one (the row lock of
            // the upsert orders them).
            let st = c
                .prepare_cached(
                    "INSERT INTO login_failures (account, count, last_ms) VALUES ($1, 1, $2)
                     ON CONFLICT (account) DO UPDATE SET
                       count = CASE WHEN login_failures.last_ms < $3 THEN 1 ELSE login_failures.count + 1 END,
                       last_ms = excluded.last_ms
                     RETURNING count, last_ms",
                )
                .await?;
            let r = c.query_one(&st, &[&account, &at_ms, &forget_before_ms]).await?;
            Ok(LoginFailures {
                count: r.get::<_, i32>(0) as u32,
                last_ms: r.get(1),
            })
        })
        .await
    }

    async fn clear_login_failures(
        &self,
        account: &str,
        forget_before_ms: i64,
    ) -> Result<(), StoreError> {
        let account = account.to_string();
        self.run(|db| async move {
            exec(
                &db,
                "DELETE FROM login_failures WHERE account = $1 OR last_ms < $2",
                &[&account, &forget_before_ms],
            )
            .await
            .map(|_| ())
        })
        .await
    }
}

fn session_of(row: &tokio_postgres::Row) -> Session {
    Session {
        id_sha256: row.get("id_sha256"),
        user: row.get("user_name"),
        csrf: row.get("csrf"),
        created_ms: row.get("created_ms"),
        last_seen_ms: row.get("last_seen_ms"),
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let s = session.clone();
        self.run(|db| async move {
            exec(
                &db,
                "INSERT INTO sessions (id_sha256, user_name, csrf, created_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id_sha256) DO UPDATE SET user_name = excluded.user_name, csrf = excluded.csrf,
                     created_ms = excluded.created_ms, last_seen_ms = excluded.last_seen_ms",
                &[&s.id_sha256, &s.user, &s.csrf, &s.created_ms, &s.last_seen_ms],
            )
            .await
            .map(|_| ())
        })
        .await
    }

    async fn session(&self, id_sha256: &str) -> Result<Option<Session>, StoreError> {
        let key = id_sha256.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached("SELECT * FROM sessions WHERE id_sha256 = $1")
                .await?;
            Ok(c.query_opt(&st, &[&key]).await?.map(|r| session_of(&r)))
        })
        .await
    }

    async fn touch_session(&self, id_sha256: &str, last_seen_ms: i64) -> Result<(), StoreError> {
        let key = id_sha256.to_string();
        self.run(|db| async move {
            exec(
                &db,
                "UPDATE sessions SET last_seen_ms = $2 WHERE id_sha256 = $1 AND last_seen_ms < $2",
                &[&key, &last_seen_ms],
            )
            .await
            .map(|_| ())
        })
        .await
    }

    async fn delete_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        let key = id_sha256.to_string();
        self.run(|db| async move {
            exec(&db, "DELETE FROM sessions WHERE id_sha256 = $1", &[&key])
                .await
                .map(|_| ())
        })
        .await
    }

    async fn delete_idle_sessions(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.run(|db| async move {
            exec(
                &db,
                "DELETE FROM sessions WHERE last_seen_ms < $1",
                &[&before_ms],
            )
            .await
        })
        .await
    }

    async fn session_count(&self) -> Result<u64, StoreError> {
        self.run(|db| async move { count(&db, "SELECT count(*) FROM sessions").await })
            .await
    }
}

pub(super) const UPSERT_INVITATIONS: &str = "INSERT INTO invitations (token_sha256, site, survey, expires_at, expires_at_ms, used)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bool[])
     ON CONFLICT (token_sha256) DO UPDATE SET site = excluded.site, survey = excluded.survey,
         expires_at = excluded.expires_at, expires_at_ms = excluded.expires_at_ms, used = excluded.used";

/// Writes invitations in one statement.
pub(super) async fn put_invitations(
    c: &impl GenericClient,
    invitations: &[(&str, &Invitation)],
) -> Result<(), tokio_postgres::Error> {
    if invitations.is_empty() {
        return Ok(());
    }
    let hash: Vec<&str> = invitations.iter().map(|(h, _)| *h).collect();
    let site: Vec<&str> = invitations.iter().map(|(_, i)| i.site.as_str()).collect();
    let survey: Vec<&str> = invitations.iter().map(|(_, i)| i.survey.as_str()).collect();
    let at: Vec<&str> = invitations
        .iter()
        .map(|(_, i)| i.expires_at.as_str())
        .collect();
    let at_ms: Vec<i64> = invitations.iter().map(|(_, i)| i.expires_at_ms).collect();
    let used: Vec<bool> = invitations.iter().map(|(_, i)| i.used).collect();
    let st = c.prepare_cached(UPSERT_INVITATIONS).await?;
    c.execute(&st, &[&hash, &site, &survey, &at, &at_ms, &used])
        .await?;
    Ok(())
}

pub(super) fn invitation_of(row: &tokio_postgres::Row) -> Invitation {
    Invitation {
        site: row.get("site"),
        survey: row.get("survey"),
        expires_at: row.get("expires_at"),
        expires_at_ms: row.get("expires_at_ms"),
        used: row.get("used"),
    }
}

#[async_trait]
impl InvitationStore for PgStore {
    async fn put_invitations(
        &self,
        invitations: &[(String, Invitation)],
    ) -> Result<(), StoreError> {
        let list = invitations.to_vec();
        self.run(|db| async move {
            let c = db.client().await?;
            let refs: Vec<(&str, &Invitation)> =
                list.iter().map(|(h, i)| (h.as_str(), i)).collect();
            put_invitations(&c, &refs).await?;
            Ok(())
        })
        .await
    }

    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError> {
        let key = token_sha256.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached("SELECT * FROM invitations WHERE token_sha256 = $1")
                .await?;
            Ok(c.query_opt(&st, &[&key]).await?.map(|r| invitation_of(&r)))
        })
        .await
    }
}

#[async_trait]
impl SignalStore for PgStore {
    async fn mark_site_reloaded(&self, site: &str) -> Result<u64, StoreError> {
        let site = site.to_string();
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached(
                    "INSERT INTO site_reloads (site, generation) VALUES ($1, 1)
                     ON CONFLICT (site) DO UPDATE SET generation = site_reloads.generation + 1
                     RETURNING generation",
                )
                .await?;
            Ok(c.query_one(&st, &[&site]).await?.get::<_, i64>(0) as u64)
        })
        .await
    }

    async fn site_reload_marks(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.run(|db| async move {
            let c = db.client().await?;
            let st = c
                .prepare_cached("SELECT site, generation FROM site_reloads ORDER BY site")
                .await?;
            Ok(c.query(&st, &[])
                .await?
                .iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
                .collect())
        })
        .await
    }
}
