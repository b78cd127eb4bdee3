//! Shared test scaffolding: the real app on a temporary store.
#![allow(dead_code)]

pub mod demo_seed;
pub mod fhir;
pub mod followups;
pub mod nodes;
pub mod nodes_signin;
pub mod pg;
pub mod python;
pub mod receiver;
pub mod server;
pub mod signin;

use actix_web::web;
use chorus::domain::{records_for, Delivery, DeliveryStatus, RetagProgress, StoredResponse, Task};
use chorus::store::{
    BackupWriter, DeliveryQuery, Inserted, NewResponse, Store, StoreError, TaskQuery, MAX_PAGE,
};
use chorus::{AppState, Config};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Config for the shipped demo site (`sites/`, `plugins/`, `templates/`) on a fresh data dir.
/// The per-hook deadline is generous: these tests are not about it, and a loaded machine must
/// not fail them.
/// Webhooks may reach 127.0.0.1 (the demo help desk and the test receivers), as the
/// repository's chorus.toml allows.
pub fn demo_config(data: &Path) -> Config {
    Config {
        data: data.to_path_buf(),
        sites: repo().join("sites"),
        plugins: repo().join("plugins"),
        templates: repo().join("templates"),
        rule_deadline: std::time::Duration::from_secs(2),
        webhook_allow_private: vec!["127.0.0.1/32".parse().unwrap()],
        store: pg::store_for(data),
        store_pool_size: 4,
        ..Config::default()
    }
}

/// Config for the fixture sites in `tests/fixtures/sites` (test-clinic has every question kind).
pub fn fixture_config(data: &Path) -> Config {
    Config {
        sites: repo().join("tests/fixtures/sites"),
        plugins: repo().join("tests/fixtures/plugins"),
        ..demo_config(data)
    }
}

pub struct TestState {
    pub dir: tempfile::TempDir,
    pub state: web::Data<AppState>,
}

pub async fn state_with(make: impl FnOnce(&Path) -> Config) -> TestState {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = make(&dir.path().join("data"));
    let state = web::Data::new(AppState::open(config).await.expect("app state opens"));
    TestState { dir, state }
}

pub async fn demo_state() -> TestState {
    state_with(demo_config).await
}

pub async fn fixture_state() -> TestState {
    state_with(fixture_config).await
}

/// Every stored response of a site (up to 1,000), oldest first.
pub async fn stored_responses(state: &AppState, site: &str) -> Vec<StoredResponse> {
    state
        .store
        .list_responses(&chorus::store::ResponseQuery {
            site: site.into(),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

/// A response of `(survey, version)` at an exact UTC time (its id's time) with the given tags,
/// from a fixture (not stored).
pub fn response_at(
    site: &str,
    (survey, survey_version): (&str, u32),
    group: &str,
    rfc3339: &str,
    tags: &[&str],
) -> StoredResponse {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap();
    let ts =
        uuid::Timestamp::from_unix(uuid::NoContext, at.unix_timestamp() as u64, at.nanosecond());
    let id = uuid::Uuid::new_v7(ts);
    StoredResponse {
        id,
        site: site.into(),
        survey: survey.into(),
        survey_version,
        group: group.into(),
        submitted_at: chorus::domain::time::rfc3339_of_id(id),
        language: None,
        submission_id: None,
        channel: None,
        kiosk: None,
        answers: Default::default(),
        tags: tags
            .iter()
            .map(|c| chorus::domain::Tag {
                code: c.to_string(),
                source: "fixture".into(),
            })
            .collect(),
        rule_errors: vec![],
        follow_ups: vec![],
    }
}

/// Config for the report's fixture site (`tests/fixtures/report-sites`: ask-clinic).
pub fn report_config(data: &Path) -> Config {
    Config {
        sites: repo().join("tests/fixtures/report-sites"),
        plugins: repo().join("tests/fixtures/plugins"),
        ..demo_config(data)
    }
}

/// Adds a user directly in the store and returns its bearer token.
pub async fn add_user(
    state: &AppState,
    name: &str,
    site: &str,
    role: chorus::domain::Role,
) -> String {
    let token = chorus::domain::user::new_token();
    state
        .store
        .put_user(&chorus::domain::User {
            name: name.into(),
            site: site.into(),
            role,
            token_sha256: chorus::domain::user::token_sha256(&token),
            password_hash: None,
            created_at: "2026-01-01T00:00:00Z".into(),
        })
        .await
        .expect("user stored");
    token
}

/// How many web-login sessions the store holds.
pub async fn session_count(state: &AppState) -> u64 {
    chorus::services::sessions::count(state).await.unwrap()
}

/// Store operations in the shape the tests use them: whole listings, a response stored with the
/// records of its follow-ups, the backup as text.
pub trait TestStore {
    async fn all_tasks(&self, site: &str) -> Result<Vec<Task>, StoreError>;
    async fn all_deliveries(
        &self,
        site: &str,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, StoreError>;
    async fn insert(&self, r: &StoredResponse) -> Result<Inserted, StoreError>;
    async fn backup_text(&self) -> Result<String, StoreError>;
    /// What a node that stopped leaves behind: a re-tag marked running, its lease over.
    async fn put_retag_progress(&self, site: &str, p: &RetagProgress) -> Result<(), StoreError>;
}

impl TestStore for Arc<dyn Store> {
    async fn all_tasks(&self, site: &str) -> Result<Vec<Task>, StoreError> {
        let mut query = TaskQuery {
            site: site.into(),
            limit: MAX_PAGE,
            ..TaskQuery::default()
        };
        let mut all = Vec::new();
        loop {
            let page = self.list_tasks(&query).await?;
            all.extend(page.items);
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        // Oldest first, as the tests expect of a whole listing.
        all.sort_by_key(|t| t.id);
        Ok(all)
    }

    async fn all_deliveries(
        &self,
        site: &str,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut query = DeliveryQuery {
            site: site.into(),
            status,
            limit: MAX_PAGE,
            ..DeliveryQuery::default()
        };
        let mut all = Vec::new();
        loop {
            let page = self.list_deliveries(&query).await?;
            all.extend(page.items);
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn insert(&self, r: &StoredResponse) -> Result<Inserted, StoreError> {
        self.insert_response(NewResponse {
            response: r.clone(),
            follow_ups: records_for(r),
            idempotency: None,
            invitation: None,
        })
        .await
    }

    async fn backup_text(&self) -> Result<String, StoreError> {
        let mut writer = BackupWriter::new(Vec::new())?;
        self.export_records(&mut writer).await?;
        let (_, bytes) = writer.finish()?;
        Ok(String::from_utf8(bytes).unwrap())
    }

    async fn put_retag_progress(&self, site: &str, p: &RetagProgress) -> Result<(), StoreError> {
        let gone = chorus::domain::Lease {
            node: "a-node-that-stopped".into(),
            until_ms: 0,
        };
        self.start_retag(site, &gone, 0, p).await.map(|_| ())
    }
}
