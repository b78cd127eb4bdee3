//! Responses with follow-ups stored directly, for follow-up and delivery tests.

use crate::common::TestStore;
use chorus::domain::{Action, FollowUp, StoredResponse};
use chorus::AppState;
use uuid::Uuid;

/// A response of `site`/`survey` tagged `enrollment_technical`, without follow-ups.
pub fn response(site: &str, survey: &str, submitted_at: &str) -> StoredResponse {
    StoredResponse {
        id: Uuid::now_v7(),
        site: site.into(),
        survey: survey.into(),
        survey_version: 1,
        group: "patient".into(),
        submitted_at: submitted_at.into(),
        language: None,
        submission_id: None,
        channel: None,
        kiosk: None,
        answers: Default::default(),
        tags: vec![chorus::domain::Tag {
            code: "enrollment_technical".into(),
            source: "test".into(),
        }],
        rule_errors: vec![],
        follow_ups: vec![],
    }
}

/// Stores a response of `site`/`survey` carrying these actions, as the pipeline would.
pub async fn store_with_actions(
    state: &AppState,
    site: &str,
    survey: &str,
    submitted_at: &str,
    actions: Vec<Action>,
) -> StoredResponse {
    let mut response = response(site, survey, submitted_at);
    response.follow_ups = actions
        .into_iter()
        .map(|action| FollowUp {
            id: Uuid::now_v7(),
            source: "test_rule".into(),
            added_at: None,
            action,
        })
        .collect();
    state.store.insert(&response).await.unwrap();
    state.outbox.notify_one();
    response
}

/// A copy of the hook-clinic fixture (tests/fixtures/webhook-sites) whose two webhooks, helpdesk
/// and down, have these URLs; returns the sites folder.
pub fn hook_clinic_sites(helpdesk: &str, down: &str) -> std::path::PathBuf {
    let sites = tempfile::tempdir().unwrap().keep();
    let src = super::repo().join("tests/fixtures/webhook-sites/hook-clinic");
    let dst = sites.join("hook-clinic");
    std::fs::create_dir_all(dst.join("surveys")).unwrap();
    std::fs::copy(
        src.join("surveys/patient.toml"),
        dst.join("surveys/patient.toml"),
    )
    .unwrap();
    let toml = std::fs::read_to_string(src.join("site.toml"))
        .unwrap()
        .replacen("http://127.0.0.1:9/hooks/chorus", helpdesk, 1)
        .replacen("http://127.0.0.1:9/hooks/chorus", down, 1);
    std::fs::write(dst.join("site.toml"), toml).unwrap();
    sites
}

pub fn now_rfc3339() -> String {
    chorus::domain::time::rfc3339_of_id(Uuid::now_v7())
}
