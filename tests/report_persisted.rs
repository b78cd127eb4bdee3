//! The report's counts are kept in the store: after a restart the report is the one shown
//! before it, after responses and worked tasks, after a re-tag, and after a restore into a
//! fresh store; `chorus rebuild-report` counts them again to the same figures.

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::{RetagStatus, Role};
use chorus::report::Report;
use chorus::store::read_backup;
use common::TestStore;
use rules_common::{call, config_for, copy_dir, submit};
use serde_json::json;
use std::time::{Duration, Instant};

const SITE: &str = "demo-clinic";

async fn report(state: &chorus::AppState) -> Report {
    let site = state.sites.get(SITE).unwrap().site.clone();
    chorus::services::reports::site_report(state, &site, &Default::default())
        .await
        .unwrap()
}

/// Closes the app's store in order, drops the app and opens it again on the same directory.
async fn restart(state: actix_web::web::Data<chorus::AppState>) -> chorus::AppState {
    let config = state.config.clone();
    state.store.close().await.unwrap();
    drop(state);
    chorus::AppState::open(config).await.expect("reopens")
}

#[actix_web::test]
async fn the_report_after_a_restart_is_the_report_before_it() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "sam", SITE, Role::Staff).await;
    common::demo_seed::send(&app, &t.state, &staff).await;
    let before = report(&t.state).await;
    assert!(before.groups.iter().any(|g| g.respondents.unwrap_or(0) > 0));
    let shown = serde_json::to_value(&before).unwrap();
    let done = shown["follow_ups"].as_array().unwrap().iter();
    assert!(
        done.filter_map(|q| q["done"].as_u64()).any(|n| n > 0),
        "worked tasks are in the report: {shown}"
    );
    drop(app);
    let common::TestState { dir, state } = t;
    let reopened = restart(state).await;
    assert_eq!(report(&reopened).await, before);
    if common::pg::on_postgres() {
        // Its counts are in every write's transaction: nothing to rebuild.
        return;
    }
    // Counting everything again gives the same figures.
    let config = reopened.config.clone();
    reopened.store.close().await.unwrap();
    drop(reopened);
    let out = common::server::run(&["rebuild-report"], &config.data);
    assert!(out.status.success(), "{out:?}");
    let reopened = chorus::AppState::open(config).await.expect("reopens");
    assert_eq!(report(&reopened).await, before);
    drop(dir);
}

const KIOSK_RULE: &str = r#"
fn tag(response) {
    if has_word(response.answers.comments, "kiosk") { ["access_technology"] } else { [] }
}
"#;

#[actix_web::test]
async fn a_retag_is_in_the_report_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", SITE, Role::Admin).await;
    let kiosk = ["The kiosk ate my card"; 6];
    for comments in kiosk.into_iter().chain(["All good"; 4]) {
        let answers =
            json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": comments });
        let (status, _) = submit(&app, SITE, "patient-enrollment", answers).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let tagged = |r: &Report| {
        let shown = serde_json::to_value(r).unwrap();
        let barriers = shown["barriers"].as_array().unwrap().clone();
        let row = barriers
            .into_iter()
            .find(|b| b["code"] == "access_technology");
        row.and_then(|b| b["by_group"]["patient"]["count"].as_u64())
    };
    let before = report(&t.state).await;
    std::fs::write(root.join("sites/demo-clinic/rules/kiosk.rhai"), KIOSK_RULE).unwrap();
    let reload = format!("/api/v1/sites/{SITE}/reload");
    let (status, _) = call(&app, "POST", &reload, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    let url = format!("/api/v1/sites/{SITE}/retag");
    let (status, body) = call(&app, "POST", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let progress = t.state.store.retag_progress(SITE).await.unwrap();
        if progress.is_some_and(|p| p.status != RetagStatus::Running) {
            break;
        }
        assert!(Instant::now() < deadline, "re-tag did not finish");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let after = report(&t.state).await;
    assert_ne!(after, before);
    assert_eq!(tagged(&after), Some(6), "every kiosk comment");
    drop(app);
    let common::TestState { dir: _keep, state } = t;
    let reopened = restart(state).await;
    assert_eq!(report(&reopened).await, after);
}

#[actix_web::test]
async fn a_restored_store_shows_the_report_of_the_backup() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "sam", SITE, Role::Staff).await;
    common::demo_seed::send(&app, &t.state, &staff).await;
    let before = report(&t.state).await;
    let text = t.state.store.backup_text().await.unwrap();
    let records = read_backup(&mut text.as_bytes()).unwrap();

    let fresh = common::demo_state().await;
    for batch in records.chunks(50) {
        fresh.state.store.import_records(batch).await.unwrap();
    }
    assert_eq!(report(&fresh.state).await, before, "at once");
    let common::TestState { dir: _keep, state } = fresh;
    let reopened = restart(state).await;
    assert_eq!(report(&reopened).await, before, "after a restart");
}
