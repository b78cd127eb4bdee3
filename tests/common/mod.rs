//! Shared test scaffolding: the real app on a temporary store.
#![allow(dead_code)]

pub mod followups;
pub mod python;
pub mod receiver;
pub mod server;
pub mod signin;

use actix_web::web;
use chorus::{AppState, Config};
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Config for the shipped demo site (`sites/`, `plugins/`, `templates/`) on a fresh data dir.
/// Webhooks may reach 127.0.0.1 (the demo help desk and the test receivers), as the
/// repository's chorus.toml allows.
pub fn demo_config(data: &Path) -> Config {
    Config {
        data: data.to_path_buf(),
        sites: repo().join("sites"),
        plugins: repo().join("plugins"),
        templates: repo().join("templates"),
        webhook_allow_private: vec!["127.0.0.1/32".parse().unwrap()],
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

pub fn state_with(make: impl FnOnce(&Path) -> Config) -> TestState {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = make(&dir.path().join("data"));
    let state = web::Data::new(AppState::open(config).expect("app state opens"));
    TestState { dir, state }
}

pub fn demo_state() -> TestState {
    state_with(demo_config)
}

pub fn fixture_state() -> TestState {
    state_with(fixture_config)
}

/// Every stored response of a site (up to 1,000), oldest first.
pub fn stored_responses(state: &AppState, site: &str) -> Vec<chorus::response::StoredResponse> {
    state
        .store
        .list_responses(&chorus::store::ResponseQuery {
            site: site.into(),
            limit: 1000,
            ..Default::default()
        })
        .unwrap()
        .responses
}

/// Adds a user directly in the store and returns its bearer token.
pub fn add_user(state: &AppState, name: &str, site: &str, role: chorus::store::Role) -> String {
    let token = chorus::auth::new_token();
    state
        .store
        .put_user(&chorus::store::User {
            name: name.into(),
            site: site.into(),
            role,
            token_sha256: chorus::auth::token_sha256(&token),
            password_hash: None,
            created_at: "2026-01-01T00:00:00Z".into(),
        })
        .expect("user stored");
    token
}
